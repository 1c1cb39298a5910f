"""Label stocks as data: loading and validation of ``labels/stocks/*.toml``.

Every stock is checked when it is loaded, so a bad file fails at start-up, not halfway through
a 100,000-label job: labels fit the page, every element box lies inside the label's safe area
and no two overlap, every text box holds one line at its smallest size, and the QR box holds
the longest URI the registry can emit (``registry.gs1.digital_link.max_uri_length``) with a
4-module quiet zone and modules of at least 0.4 mm at the stock's error level. Level L is
accepted only where M does not fit; ``wet = true`` (wet or rough handling) asks for Q or H.

The format is described in ``labels/README.md``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.gs1.digital_link import max_uri_length

__all__ = [
    "DEFAULTS_FILE",
    "ELEMENTS",
    "LABELS_DIR",
    "LEGIBLE_MIN_PT",
    "MIN_MODULE_MM",
    "QR_QUIET_ZONE",
    "TEXT_ELEMENTS",
    "Box",
    "QrSpec",
    "Stock",
    "StockError",
    "TextStyle",
    "load_stock",
    "load_stocks",
    "qr_modules",
    "qr_version_for",
]

LABELS_DIR = Path(__file__).resolve().parents[2] / "labels"
STOCKS_DIR = LABELS_DIR / "stocks"
FONTS_DIR = LABELS_DIR / "fonts"
DEFAULTS_FILE = "_defaults.toml"

REQUIRED_TEXT_ELEMENTS = (
    "mark", "product", "origin", "producer", "lot", "quantity", "best_before", "serial", "host",
    "country",
)
# The exporter's name goes on every stock with room for it; the smallest have none.
OPTIONAL_TEXT_ELEMENTS = ("exporter",)
TEXT_ELEMENTS = (*REQUIRED_TEXT_ELEMENTS, *OPTIONAL_TEXT_ELEMENTS)
ELEMENTS = (*REQUIRED_TEXT_ELEMENTS, "qr")
OPTIONAL_ELEMENTS = ("emblem", *OPTIONAL_TEXT_ELEMENTS)

QR_QUIET_ZONE = 4  # modules each side, ISO/IEC 18004
MIN_MODULE_MM = 0.4
# The smallest text a label may carry. At 4.75 pt DejaVu Sans has an x-height of 0.92 mm: above
# the 0.9 mm that EU Regulation 1169/2011 (art. 13(3)) asks of mandatory food information on
# packages under 80 cm², which every stock here is, and 7 dots high on a 203 dpi thermal head,
# the fewest at which its stems and counters stay apart. Below this a name is refused at order
# time, never printed smaller or cut.
LEGIBLE_MIN_PT = 4.75
MM = 72 / 25.4  # points per millimetre
_EPS = 1e-6

# Data codewords per QR version (1-40) and error level, ISO/IEC 18004 table 7.
_DATA_CODEWORDS = {
    "L": (19, 34, 55, 80, 108, 136, 156, 194, 232, 274, 324, 370, 428, 461, 523, 589, 647, 721,
          795, 861, 932, 1006, 1094, 1174, 1276, 1370, 1468, 1531, 1631, 1735, 1843, 1955, 2071,
          2191, 2306, 2434, 2566, 2702, 2812, 2956),
    "M": (16, 28, 44, 64, 86, 108, 124, 154, 182, 216, 254, 290, 334, 365, 415, 453, 507, 563,
          627, 669, 714, 782, 860, 914, 1000, 1062, 1128, 1193, 1267, 1373, 1455, 1541, 1631,
          1725, 1812, 1914, 1992, 2102, 2216, 2334),
    "Q": (13, 22, 34, 48, 62, 76, 88, 110, 132, 154, 180, 206, 244, 261, 295, 325, 367, 397,
          445, 485, 512, 568, 614, 664, 718, 754, 808, 871, 911, 985, 1033, 1115, 1171, 1231,
          1286, 1354, 1426, 1502, 1582, 1666),
    "H": (9, 16, 26, 36, 46, 60, 66, 86, 100, 122, 140, 158, 180, 197, 223, 253, 283, 313, 341,
          385, 406, 442, 464, 514, 538, 596, 628, 661, 701, 745, 793, 845, 901, 961, 986, 1054,
          1096, 1142, 1222, 1276),
}
ERROR_LEVELS = tuple(_DATA_CODEWORDS)

# Ascent and descent of the shipped DejaVu Sans in em, for the one-line-fits check; the
# renderer uses the real metrics of whatever font a stock names.
_LINE_EM = 0.928 + 0.236


class StockError(ValueError):
    """A label stock file is invalid; the message names the file and the problem."""


def qr_version_for(length: int, level: str) -> int:
    """Smallest QR version holding ``length`` bytes in byte mode at ``level``.

    Byte mode is the worst case; encoders that mix modes only ever need a smaller version.
    """
    for version, codewords in enumerate(_DATA_CODEWORDS[level], start=1):
        count_bits = 8 if version < 10 else 16
        if 4 + count_bits + 8 * length <= 8 * codewords:
            return version
    raise ValueError(f"{length} bytes do not fit any QR version at level {level}")


def qr_modules(version: int) -> int:
    return 17 + 4 * version


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in millimetres, from the label's top-left corner, y growing downwards."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def contains(self, other: Box) -> bool:
        return (
            other.x >= self.x - _EPS
            and other.y >= self.y - _EPS
            and other.right <= self.right + _EPS
            and other.bottom <= self.bottom + _EPS
        )

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.right - _EPS
            and other.x < self.right - _EPS
            and self.y < other.bottom - _EPS
            and other.y < self.bottom - _EPS
        )


@dataclass(frozen=True, slots=True)
class TextStyle:
    font: str  # key into Stock.fonts
    size_max: float  # points
    size_min: float
    max_lines: int
    align: str  # left | center | right
    prefix: str
    leading: float  # line pitch in multiples of the font size


@dataclass(frozen=True, slots=True)
class TextElement:
    name: str
    box: Box
    style: TextStyle


@dataclass(frozen=True, slots=True)
class QrSpec:
    box: Box
    error_level: str
    wet: bool
    max_version: int  # for the longest URI the registry emits
    min_module_mm: float  # module size that longest URI gets in this box


@dataclass(frozen=True, slots=True)
class Stock:
    id: str
    names: Mapping[str, str]
    page_width: float  # mm
    page_height: float
    label_width: float
    label_height: float
    columns: int
    rows: int
    margin_top: float
    margin_left: float
    gap_x: float
    gap_y: float
    safe_margin: float
    qr: QrSpec
    texts: tuple[TextElement, ...]
    emblem: Box | None
    fonts: Mapping[str, Path]
    source: Path

    @property
    def labels_per_sheet(self) -> int:
        return self.columns * self.rows

    def label_origin(self, slot: int) -> tuple[float, float]:
        """Top-left corner (mm, from the page's top-left) of the label at ``slot`` on a sheet.

        Slots run across a row first, as people read and as sheet labels are peeled.
        """
        row, col = divmod(slot, self.columns)
        return (
            self.margin_left + col * (self.label_width + self.gap_x),
            self.margin_top + row * (self.label_height + self.gap_y),
        )

    def name(self, language: str = "en") -> str:
        return self.names.get(language) or self.names["en"]


# --- loading ----------------------------------------------------------------------------------


class _Reader:
    """Typed access to one TOML table with errors that say which file and which key."""

    def __init__(self, source: Path, table: Mapping[str, Any], where: str):
        self.source, self.table, self.where = source, table, where
        self.used: set[str] = set()

    def fail(self, message: str) -> StockError:
        return StockError(f"{self.source.name}: {self.where}{message}")

    def _get(self, key: str, default: Any) -> Any:
        self.used.add(key)
        if key in self.table:
            return self.table[key]
        if default is _REQUIRED:
            raise self.fail(f"missing {key!r}")
        return default

    def number(self, key: str, default: Any = None, *, positive: bool = False) -> float:
        value = self._get(key, _REQUIRED if default is None else default)
        number_ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not number_ok or not math.isfinite(value):
            raise self.fail(f"{key!r} must be a number, got {value!r}")
        if value < 0 or (positive and value == 0):
            raise self.fail(f"{key!r} must be {'positive' if positive else '>= 0'}, got {value}")
        return float(value)

    def integer(self, key: str, default: Any = None) -> int:
        value = self._get(key, _REQUIRED if default is None else default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(f"{key!r} must be a positive integer, got {value!r}")
        return value

    def string(self, key: str, default: Any = None, choices: tuple[str, ...] = ()) -> str:
        value = self._get(key, _REQUIRED if default is None else default)
        if not isinstance(value, str):
            raise self.fail(f"{key!r} must be a string, got {value!r}")
        if choices and value not in choices:
            raise self.fail(f"{key!r} must be one of {', '.join(choices)}, got {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"{key!r} must be true or false, got {value!r}")
        return value

    def table_(self, key: str, *, required: bool = True) -> _Reader:
        value = self._get(key, _REQUIRED if required else {})
        if not isinstance(value, dict):
            raise self.fail(f"{key!r} must be a table")
        return _Reader(self.source, value, f"{self.where.rstrip()}[{key}] ")

    def box(self, key: str) -> Box:
        value = self._get(key, _REQUIRED)
        if (
            not isinstance(value, list)
            or len(value) != 4
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        ):
            raise self.fail(f"{key!r} must be [x, y, w, h] in mm, got {value!r}")
        box = Box(*(float(v) for v in value))
        if box.x < 0 or box.y < 0 or box.w <= 0 or box.h <= 0:
            raise self.fail(f"{key!r} needs x, y >= 0 and w, h > 0, got {value!r}")
        return box

    def no_unknown_keys(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise self.fail(f"unknown key(s) {', '.join(map(repr, unknown))} (typo?)")


_REQUIRED = object()
_STYLE_KEYS = ("font", "size_max", "size_min", "max_lines", "align", "prefix", "leading")


def _read_defaults(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise StockError(f"{path}: shared defaults file is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise StockError(f"{path.name}: not valid TOML: {exc}") from None


def _style(reader: _Reader, defaults: Mapping[str, Any], fonts: Mapping[str, Path]) -> TextStyle:
    merged = dict(defaults)
    merged.update({k: v for k, v in reader.table.items() if k in _STYLE_KEYS})
    r = _Reader(reader.source, merged, reader.where)
    style = TextStyle(
        font=r.string("font", choices=tuple(fonts)),
        size_max=r.number("size_max", positive=True),
        size_min=r.number("size_min", positive=True),
        max_lines=r.integer("max_lines"),
        align=r.string("align", "left", choices=("left", "center", "right")),
        prefix=r.string("prefix", ""),
        leading=r.number("leading", 1.17, positive=True),
    )
    r.no_unknown_keys()
    reader.used.update(_STYLE_KEYS)
    if style.size_min < LEGIBLE_MIN_PT - _EPS:
        raise reader.fail(f"size_min {style.size_min} is below the legible minimum "
                          f"{LEGIBLE_MIN_PT} pt")
    if style.size_min > style.size_max:
        raise reader.fail(f"size_min {style.size_min} > size_max {style.size_max}")
    if style.leading < _LINE_EM - _EPS:
        raise reader.fail(f"leading {style.leading} lets lines overlap (needs >= {_LINE_EM})")
    return style


def load_stock(path: str | Path, defaults: Mapping[str, Any] | None = None) -> Stock:
    """Load and validate one stock file; ``defaults`` is ``_defaults.toml`` beside it."""
    path = Path(path)
    if defaults is None:
        defaults = _read_defaults(path.parent / DEFAULTS_FILE)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise StockError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise StockError(f"{path.name}: not valid TOML: {exc}") from None

    font_dir = path.parent.parent / "fonts"
    fonts: dict[str, Path] = {}
    font_tables = (defaults.get("fonts", {}), data.get("fonts", {}))
    if not all(isinstance(t, dict) for t in font_tables):
        raise StockError(f"{path.name}: [fonts] must be a table of file names")
    for key, filename in {**font_tables[0], **font_tables[1]}.items():
        font_path = font_dir / str(filename)
        if not font_path.is_file():
            raise StockError(f"{path.name}: font {key!r} file {font_path} not found")
        fonts[key] = font_path

    top = _Reader(path, data, "")
    top.used.add("fonts")
    names_r = top.table_("names")
    names = {lang: names_r.string(lang) for lang in names_r.table}
    if "en" not in names or "id" not in names:
        raise names_r.fail("needs display names 'en' and 'id'")

    page = top.table_("page")
    page_w, page_h = page.number("width", positive=True), page.number("height", positive=True)
    page.no_unknown_keys()

    label = top.table_("label")
    label_w, label_h = label.number("width", positive=True), label.number("height", positive=True)
    columns, rows = label.integer("columns", 1), label.integer("rows", 1)
    margin_top, margin_left = label.number("margin_top", 0.0), label.number("margin_left", 0.0)
    gap_x, gap_y = label.number("gap_x", 0.0), label.number("gap_y", 0.0)
    safe = label.number("safe_margin", 0.0)
    label.no_unknown_keys()

    used_w = margin_left + columns * label_w + (columns - 1) * gap_x
    used_h = margin_top + rows * label_h + (rows - 1) * gap_y
    if used_w > page_w + _EPS:
        raise label.fail(f"{columns} columns need {used_w:.2f} mm, page is {page_w} mm wide")
    if used_h > page_h + _EPS:
        raise label.fail(f"{rows} rows need {used_h:.2f} mm, page is {page_h} mm high")
    if 2 * safe >= min(label_w, label_h):
        raise label.fail(f"safe_margin {safe} leaves no room on the label")
    safe_area = Box(safe, safe, label_w - 2 * safe, label_h - 2 * safe)

    qr_r = top.table_("qr")
    wet = qr_r.boolean("wet", False)
    level = qr_r.string("error_level", "Q" if wet else "M", choices=ERROR_LEVELS)
    qr_r.no_unknown_keys()
    if wet and level in ("L", "M"):
        raise qr_r.fail(f"wet = true needs error_level Q or H, not {level}")

    layout = top.table_("layout")
    style_defaults = defaults.get("style", {})
    boxes: dict[str, Box] = {}
    texts: list[TextElement] = []
    emblem: Box | None = None
    for name in layout.table:
        if name not in ELEMENTS and name not in OPTIONAL_ELEMENTS:
            raise layout.fail(f"unknown element {name!r}; known: "
                              f"{', '.join((*ELEMENTS, *OPTIONAL_ELEMENTS))}")
    for name in (*ELEMENTS, *OPTIONAL_ELEMENTS):
        if name not in layout.table:
            if name in OPTIONAL_ELEMENTS:
                continue
            raise layout.fail(f"element {name!r} is missing")
        el = layout.table_(name)
        box = el.box("box")
        if not safe_area.contains(box):
            raise el.fail(
                f"box {_fmt(box)} is outside the label's safe area {_fmt(safe_area)}"
                f" ({label_w} × {label_h} mm, safe margin {safe} mm)"
            )
        for other, other_box in boxes.items():
            if box.overlaps(other_box):
                raise el.fail(f"box {_fmt(box)} overlaps {other!r} {_fmt(other_box)}")
        boxes[name] = box
        if name in TEXT_ELEMENTS:
            style = _style(el, style_defaults.get(name, {}), fonts)
            if _LINE_EM * style.size_min / MM > box.h + _EPS:
                raise el.fail(
                    f"box is {box.h} mm high, one line at size_min {style.size_min} pt needs "
                    f"{_LINE_EM * style.size_min / MM:.2f} mm"
                )
            texts.append(TextElement(name, box, style))
        elif name == "emblem":
            emblem = box
        el.no_unknown_keys()

    qr_box = boxes["qr"]
    longest = max_uri_length()
    version = qr_version_for(longest, level)
    module = min(qr_box.w, qr_box.h) / (qr_modules(version) + 2 * QR_QUIET_ZONE)
    if module < MIN_MODULE_MM - _EPS:
        need = (qr_modules(version) + 2 * QR_QUIET_ZONE) * MIN_MODULE_MM
        raise qr_r.fail(
            f"QR box {qr_box.w} × {qr_box.h} mm too small: the longest URI ({longest} chars) "
            f"needs version {version} ({qr_modules(version)} modules + {QR_QUIET_ZONE}-module "
            f"quiet zones) at level {level}, giving {module:.3f} mm modules < {MIN_MODULE_MM} "
            f"mm; make the box at least {need:.1f} mm square"
            + (" or use error_level L" if level == "M" else "")
        )
    if level == "L":
        m_version = qr_version_for(longest, "M")
        m_module = min(qr_box.w, qr_box.h) / (qr_modules(m_version) + 2 * QR_QUIET_ZONE)
        if m_module >= MIN_MODULE_MM - _EPS:
            raise qr_r.fail("error_level L is only for stocks where M cannot keep 0.4 mm modules")
    top.no_unknown_keys()
    _check_fixed_texts(path, texts, fonts)

    return Stock(
        id=path.stem,
        names=names,
        page_width=page_w,
        page_height=page_h,
        label_width=label_w,
        label_height=label_h,
        columns=columns,
        rows=rows,
        margin_top=margin_top,
        margin_left=margin_left,
        gap_x=gap_x,
        gap_y=gap_y,
        safe_margin=safe,
        qr=QrSpec(qr_box, level, wet, version, module),
        texts=tuple(texts),
        emblem=emblem,
        fonts=fonts,
        source=path,
    )


def _check_fixed_texts(path: Path, texts: list[TextElement], fonts: Mapping[str, Path]) -> None:
    """The texts every label carries (the mark, the country of origin) must fit whole at the
    legible minimum: otherwise every order on the stock would be refused."""
    # Imported here: the text module imports this one.
    from registry.printing.render.fonts import font_face
    from registry.printing.render.label import COUNTRY_TEXT, MARK_TEXT
    from registry.printing.render.text import clean_text, fit_lines

    fixed = {"mark": MARK_TEXT, "country": COUNTRY_TEXT}
    for el in texts:
        if el.name in fixed:
            text = clean_text(el.style.prefix + fixed[el.name])
            face = font_face(fonts[el.style.font])
            if fit_lines(face, text, el.style, el.box.w * MM, el.box.h * MM) is None:
                raise StockError(f"{path.name}: [layout.{el.name}] box {_fmt(el.box)} cannot "
                                 f"hold {text!r} at size_min {el.style.size_min} pt")


def _fmt(box: Box) -> str:
    return f"[{box.x:g}, {box.y:g}, {box.w:g}, {box.h:g}]"


def load_stocks(directory: str | Path | None = None) -> dict[str, Stock]:
    """Load every ``*.toml`` stock in ``directory`` (files starting with ``_`` are shared)."""
    directory = Path(directory) if directory is not None else STOCKS_DIR
    defaults = _read_defaults(directory / DEFAULTS_FILE)
    stocks = {}
    for path in sorted(directory.glob("*.toml")):
        if not path.name.startswith("_"):
            stocks[path.stem] = load_stock(path, defaults)
    if not stocks:
        raise StockError(f"{directory}: no label stocks found")
    return stocks
