"""Label stocks are data: every shipped stock validates, broken ones fail clearly."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import zxingcpp

from registry.gs1 import digital_link as gs1
from registry.printing import stocks
from registry.printing.stocks import StockError, load_stock, load_stocks

EXPECTED = {
    "a4-3x7", "a4-2x7", "a4-2x4", "letter-3x10", "roll-100x150", "roll-60x40", "roll-50x30",
}


def worst_case_uri() -> str:
    kid, sig = gs1.unpack_signature("_" * 96)
    uri = gs1.build_uri(
        "a" * gs1.MAX_HOST_LENGTH, "4006381333931", "/" * 20, "9" * gs1.MAX_SERIAL_DIGITS,
        key_id=kid, signature=sig,
    )
    assert len(uri) == gs1.max_uri_length()
    return uri


def test_all_shipped_stocks_validate() -> None:
    loaded = load_stocks()
    assert set(loaded) == EXPECTED
    assert loaded["a4-3x7"].labels_per_sheet == 21
    assert loaded["letter-3x10"].labels_per_sheet == 30
    # L only where M cannot keep 0.4 mm modules, Q where the stock is marked wet.
    levels = {k: s.qr.error_level for k, s in loaded.items()}
    assert levels["letter-3x10"] == "L"
    assert levels["roll-100x150"] == "Q" and loaded["roll-100x150"].qr.wet
    assert {levels[k] for k in EXPECTED - {"letter-3x10", "roll-100x150"}} == {"M"}
    for stock in loaded.values():
        assert stock.qr.min_module_mm >= stocks.MIN_MODULE_MM - 1e-9
        assert stock.name("en") and stock.name("id") and stock.name("xx") == stock.name("en")


def test_avery_datasheet_geometry() -> None:
    s = load_stocks()["a4-3x7"]
    assert (s.margin_top, s.margin_left, s.gap_x, s.gap_y) == (15.15, 7.25, 2.5, 0.0)
    assert s.label_origin(0) == (7.25, 15.15)
    x, y = s.label_origin(20)
    assert x == pytest.approx(7.25 + 2 * 66.0) and y == pytest.approx(15.15 + 6 * 38.1)


def test_qr_version_table() -> None:
    # 14 bytes is the published byte-mode capacity of version 1-M, 213 of 10-M.
    assert stocks.qr_version_for(14, "M") == 1 and stocks.qr_version_for(15, "M") == 2
    assert stocks.qr_version_for(213, "M") == 10 and stocks.qr_version_for(214, "M") == 11
    assert stocks.qr_version_for(gs1.max_uri_length(), "M") == 11
    assert stocks.qr_version_for(gs1.max_uri_length(), "L") == 9


def test_table_agrees_with_the_qrcode_library() -> None:
    from qrcode.base import rs_blocks
    from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

    levels = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q,
              "H": ERROR_CORRECT_H}
    for level, const in levels.items():
        table = stocks._DATA_CODEWORDS[level]
        assert list(table) == [
            sum(b.data_count for b in rs_blocks(v, const)) for v in range(1, 41)
        ]


@pytest.mark.parametrize("stock_id", sorted(EXPECTED))
def test_real_encoder_fits_the_worst_case_uri(stock_id: str) -> None:
    stock = load_stocks()[stock_id]
    symbol = zxingcpp.create_barcode(
        worst_case_uri(), zxingcpp.BarcodeFormat.QRCode, ec_level=stock.qr.error_level
    )
    modules = symbol.to_image(scale=1, add_quiet_zones=False).shape[0]
    assert modules <= stocks.qr_modules(stock.qr.max_version)
    box = stock.qr.box
    assert min(box.w, box.h) / (modules + 2 * stocks.QR_QUIET_ZONE) >= 0.4 - 1e-9


# --- broken stocks ----------------------------------------------------------------------------


@pytest.fixture
def stock_dir(tmp_path: Path) -> Path:
    """A private copy of labels/ so that a broken stock can be written beside the defaults."""
    (tmp_path / "stocks").mkdir()
    shutil.copy(stocks.STOCKS_DIR / "_defaults.toml", tmp_path / "stocks")
    (tmp_path / "fonts").symlink_to(stocks.FONTS_DIR)
    return tmp_path / "stocks"


def write_variant(stock_dir: Path, name: str, edits: list[tuple[str, str]]) -> Path:
    text = (stocks.STOCKS_DIR / "a4-3x7.toml").read_text("utf-8")
    for old, new in edits:
        assert re.search(old, text, flags=re.M), old
        text = re.sub(old, new, text, count=1, flags=re.M)
    path = stock_dir / f"{name}.toml"
    path.write_text(text, "utf-8")
    return path


def test_unchanged_copy_loads(stock_dir: Path) -> None:
    assert load_stock(write_variant(stock_dir, "copy", [])).id == "copy"


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ([(r"^box = \[33\.5, 1\.5, 28\.5, 28\.5\]", "box = [33.5, 1.5, 24.0, 24.0]")],
         r"QR box 24\.0 × 24\.0 mm too small.*version 11.*0\.4"),
        ([(r"^columns = 3", "columns = 4")], r"4 columns need .* page is 210\.0 mm wide"),
        ([(r"^rows = 7", "rows = 8")], r"8 rows need"),
        ([(r"^box = \[1\.5, 7\.0, 31\.5, 6\.0\]", "box = [1.5, 7.0, 70.0, 6.0]")],
         r"\[layout\]\[product\] box .* outside the label's safe area"),
        ([(r"^box = \[1\.5, 13\.2, 31\.5, 4\.0\]", "box = [1.5, 11.0, 31.5, 4.0]")],
         r"overlaps 'product'"),
        ([(r"^gap_x = 2\.5", "gap_x = 2.5\ngapx = 1")], r"unknown key\(s\) 'gapx'"),
        ([(r"^\[layout\.serial\]\nbox = .*$", "")], r"element 'serial' is missing"),
        ([(r'^error_level = "M"', 'error_level = "L"')], r"L is only for stocks where M"),
        ([(r'^error_level = "M"', 'wet = true\nerror_level = "M"')], r"wet = true needs"),
        ([(r"^\[layout\.lot\]\nbox = \[1\.5, 25\.8, 31\.5, 2\.2\]",
           "[layout.lot]\nbox = [1.5, 25.8, 31.5, 1.0]")], r"one line at size_min"),
        ([(r"^\[layout\.lot\]", "[layout.lot]\nsize_min = 4.0")],
         r"size_min 4\.0 is below the legible minimum 4\.75 pt"),
        ([(r"^\[layout\.country\]\nbox = \[1\.5, 33\.0, 31\.5, 2\.2\]",
           "[layout.country]\nbox = [1.5, 33.0, 15.0, 2.2]")],
         r"\[layout\.country\] box .* cannot hold 'Product of Indonesia'"),
        ([(r"^\[layout\.country\]\nbox = .*$", "")], r"element 'country' is missing"),
        ([(r"^\[layout\.lot\]", "[layout.lot]\nfont = \"italic\"")], r"'font' must be one of"),
        ([(r"^width = 63\.5", 'width = "wide"')], r"'width' must be a number"),
        ([(r"^\[page\]", "[page\n")], r"not valid TOML"),
    ],
)
def test_broken_stock_fails_with_a_clear_error(
    stock_dir: Path, edits: list[tuple[str, str]], message: str
) -> None:
    path = write_variant(stock_dir, "broken", edits)
    with pytest.raises(StockError, match=message) as info:
        load_stock(path)
    assert str(info.value).startswith("broken.toml")
    with pytest.raises(StockError, match=r"broken\.toml"):
        load_stocks(stock_dir)
