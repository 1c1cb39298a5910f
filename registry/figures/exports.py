"""Exports of the figures: CSV and XLSX of the certified batches, and the monthly PDF report.

Rows say what a person reads, in the exporting user's language: column titles, categories,
units and the status shown today (an approved batch past its validity is expired); the JSON
API keeps the codes. The words are looked up once (``export_words``), before the rows.

CSV is streamed row by row from a server-side cursor; XLSX is written the same way by the task
queue's worker into the file store (``registry.figures.exportfiles``), so an export of a few
hundred thousand batches never sits in memory as Python objects, nor holds a web worker. Text
that a spreadsheet would run as a formula (``=HYPERLINK(...)`` as a product or producer name)
is neutralised: in CSV by a leading apostrophe (OWASP's advice), in XLSX by storing every text
cell as a string. The words are taken in the request (CSV) or under the asker's saved
language (XLSX, in the worker).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from flask_babel import format_date, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from registry.catalog.certification import Display, Status, display_status
from registry.catalog.rules import Category, Unit
from registry.catalog.vocabulary import category_label, status_label, unit_label
from registry.clock import REGION_TZ, today
from registry.figures.queries import EXPORT_COLUMNS, Figures, Row, lead_step
from registry.printing.stocks import FONTS_DIR
from registry.reference import PROVINCES, hs_codes, regencies

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# The query's columns plus the HS description after the HS code and the regency's name after
# its code.
COLUMNS = (*EXPORT_COLUMNS[:7], "hs_description", *EXPORT_COLUMNS[7:8], "origin_regency",
           *EXPORT_COLUMNS[8:])
COLUMN_LABELS: dict[str, LazyString] = {
    "approved_at": _l("Approved at (WITA)"),
    "lot_code": _l("Lot code"),
    "exporter": _l("Exporter"),
    "product_id_name": _l("Product name (Indonesian)"),
    "product_en_name": _l("Product name (English)"),
    "category": _l("Category"),
    "hs_code": _l("HS code"),
    "hs_description": _l("HS description"),
    "origin_regency_code": _l("Origin regency code"),
    "origin_regency": _l("Origin regency"),
    "origin_province_code": _l("Origin province code"),
    "producer": _l("Producer"),
    "hub": _l("Export hub"),
    "destination_country": _l("Destination country"),
    "quantity": _l("Quantity"),
    "unit": _l("Unit"),
    "normalised_quantity": _l("Normalised quantity"),
    "normalised_unit": _l("Normalised unit"),
    "declared_value_idr": _l("Declared export value (IDR)"),
    "submitted_at": _l("Submitted at (WITA)"),
    "status": _l("Status"),
    "valid_until": _l("Valid until"),
}
_AT = {name: i for i, name in enumerate(COLUMNS)}


@dataclass(frozen=True)
class ExportWords:
    """The words of one export in its reader's language, taken while the request lasts."""

    header: list[str]
    categories: dict[str, str]
    units: dict[str, str]
    statuses: dict[str, str]
    day: dt.date  # the day whose status the export shows (WITA)
    lang: str = "en"  # the HS descriptions' language (Indonesian where the registry has it)


def export_words() -> ExportWords:
    return ExportWords(
        header=[str(COLUMN_LABELS[name]) for name in COLUMNS],
        categories={c.value: category_label(c) for c in Category},
        units={u.value: unit_label(u) for u in Unit},
        statuses={d.value: status_label(d) for d in Display},
        day=today(), lang=str(get_locale()))


def csv_safe(value: Any) -> Any:
    """Prefix text a spreadsheet would read as a formula with ``'`` (numbers stay numbers)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    """Database values as a reader expects them: local time, exact decimals."""
    if isinstance(value, dt.datetime):
        return value.astimezone(REGION_TZ).replace(tzinfo=None, microsecond=0)
    if isinstance(value, float):
        return Decimal(str(value)).quantize(Decimal("0.001")).normalize()
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.001")).normalize()
    return value


def export_values(row: Sequence[Any], words: ExportWords) -> list[Any]:
    """One exported row: the query's columns plus the HS description and the regency's name
    after their codes, with words for codes."""
    values = [_plain(v) for v in row]
    hs = hs_codes().get(values[_AT["hs_code"]] or "")
    values.insert(_AT["hs_description"], hs.description_in(words.lang) if hs else "")
    regency = regencies().get(values[_AT["origin_regency_code"]])
    values.insert(_AT["origin_regency"], regency.name if regency else "")
    shown = display_status(Status(values[_AT["status"]]), values[_AT["valid_until"]], words.day)
    values[_AT["status"]] = words.statuses[shown]
    values[_AT["category"]] = words.categories.get(values[_AT["category"]],
                                                   values[_AT["category"]])
    for name in ("unit", "normalised_unit"):
        values[_AT[name]] = words.units.get(values[_AT[name]], values[_AT[name]])
    return values


def csv_lines(rows: Iterable[Sequence[Any]], words: ExportWords) -> Iterator[str]:
    """UTF-8 CSV lines with a BOM first, so Excel reads the en dash and Indonesian names."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(words.header)
    yield "\ufeff" + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_safe(_csv_text(v)) for v in export_values(row, words)])
        yield buffer.getvalue()


def _csv_text(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return "" if value is None else value


def write_xlsx(rows: Iterable[Sequence[Any]], words: ExportWords, target: str | IO[bytes],
               title: str = "batches") -> None:
    """A workbook written in openpyxl's write-only mode into ``target`` (a path or a binary
    file): rows go to a temporary file as they come, so memory stays flat however many there
    are. The task queue's worker calls it (``registry.figures.tasks``), never a request."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(words.header)
    for row in rows:
        cells = []
        for value in export_values(row, words):
            if isinstance(value, Decimal):
                value = float(value) if value != value.to_integral() else int(value)
            if isinstance(value, str):
                # Records from before control characters were refused at the edge: XML
                # cannot carry them, and one made the export fail for everyone.
                value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            cells.append(cell)
        sheet.append(cells)
    workbook.save(target)


# ---------------------------------------------------------------------------- monthly PDF
def _fonts() -> tuple[str, str]:
    """DejaVu Sans (embedded): the en dash and every Indonesian name render everywhere."""
    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONTS_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(FONTS_DIR / "DejaVuSans-Bold.ttf")))
    return "DejaVuSans", "DejaVuSans-Bold"


def idr(value: int) -> str:
    return f"Rp {format_decimal(value)}"


def volume_text(volume: dict[str, Decimal]) -> str:
    parts = [f"{format_decimal(q)} {unit_label(u)}" for u, q in sorted(volume.items()) if q]
    return ", ".join(parts) or "—"


def lead_time_text(minutes: int | None) -> str:
    """A lead time with the precision a reader needs, in the reader's locale: minutes under an
    hour ("45 min"), tenths of an hour under ten ("1.5 h"), hours under two days ("5 h"),
    tenths of a day beyond ("2.5 days"). Floored to its ``queries.lead_step``, as the summary
    cells keep it: 1 h 35 min reads "1.5 h"."""
    if minutes is None:
        return "—"
    minutes = lead_step(minutes)
    if minutes < 60:
        return _("%(n)s min", n=format_decimal(minutes))
    if minutes < 600:
        return _("%(n)s h", n=format_decimal(Decimal(minutes // 6) / 10, format="#,##0.#"))
    if minutes < 2880:
        return _("%(n)s h", n=format_decimal(minutes // 60))
    return _("%(n)s days", n=format_decimal(Decimal(minutes // 144) / 10, format="#,##0.#"))


def headline(figures: Figures) -> list[tuple[str, str]]:
    """The report's and the page's key figures, in one place so they always agree."""
    lt = figures.lead_time
    return [
        (_("Certified batches"), format_decimal(figures.total.batches)),
        (_("Declared export value"), idr(figures.total.value_idr)),
        (_("Volume"), volume_text(figures.total.volume)),
        (_("Approval lead time, median"), lead_time_text(lt.median_minutes)),
        (_("Approval lead time, 90th percentile"), lead_time_text(lt.p90_minutes)),
        (_("Rejections"), format_decimal(figures.rejections)),
        (_("Labels printed"), format_decimal(figures.labels_printed)),
        (_("Scans"), format_decimal(figures.scans)),
        (_("Suspicious scans"), format_decimal(figures.suspicious_total)),
    ]


def _bar_drawing(rows: Sequence[Row], names: dict[str, str], font: str, title: str) -> Drawing:
    rows = list(rows)[:12]
    height = 40 + 18 * max(1, len(rows))
    # The drawing's default font is Helvetica (never embedded), even where no text uses it.
    drawing = Drawing(170 * mm, height, initialFontName=font)
    drawing.add(String(0, height - 12, title, fontName=font, fontSize=10))
    if not rows:
        drawing.add(String(0, height - 32, "—", fontName=font, fontSize=9))
        return drawing
    chart = HorizontalBarChart()
    # types-reportlab declares the plot area's box int; reportlab takes any number.
    chart.x, chart.y = 55 * mm, 10  # type: ignore[assignment]
    chart.width, chart.height = 100 * mm, height - 30  # type: ignore[assignment]
    # Reversed: reportlab draws the first category at the bottom.
    chart.data = [[r.value_idr / 1e6 for r in reversed(rows)]]
    chart.categoryAxis.categoryNames = [names.get(r.key, r.key)[:32] for r in reversed(rows)]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 8
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = lambda v: format_decimal(round(v))
    chart.bars[0].fillColor = colors.HexColor("#0e7a62")
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    return drawing


def _ending(sections: list[Any], footnote: list[Any]) -> list[Any]:
    """The report's last flowables with the footnote kept on the page of the last one."""
    return [*sections[:-1], KeepTogether([sections[-1], *footnote])]


def monthly_pdf(figures: Figures, *, province: str | None, month: dt.date,
                progress: Sequence[Any] = ()) -> bytes:
    """A printable A4 report for one province (or all three) and month, in the active locale.
    ``progress``: the flowables of the progress against the year's targets
    (``registry.targets.exports.progress_story``), for the offices' reports."""
    font, bold = _fonts()
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13)
    h1 = ParagraphStyle("h1", parent=base, fontName=bold, fontSize=16, leading=20,
                        spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=base, fontName=bold, fontSize=11.5, leading=15,
                        spaceBefore=10, spaceAfter=4)
    small = ParagraphStyle("small", parent=base, fontSize=7.5, leading=10,
                           textColor=colors.HexColor("#5b6670"))

    def p(text: str, style: ParagraphStyle = base) -> Paragraph:
        from xml.sax.saxutils import escape

        return Paragraph(escape(text), style)

    def table(rows: list[list[str]], widths: list[float]) -> Table:
        t = Table([[p(c) for c in r] for r in rows], colWidths=widths, hAlign="LEFT")
        t.setStyle(TableStyle([
            # A table's own font (Helvetica unless told) sets no text here, but would be
            # referenced and left unembedded.
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#d9dcd6")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8f1ec")),
        ]))
        return t

    month_label = format_date(month, "MMMM yyyy")
    province_name = PROVINCES[province] if province else _("All three provinces")
    names = {code: r.name for code, r in regencies().items()}
    from registry.web.templating import country_name

    story: list[Any] = [
        p(_("Made in Bali–NTB–NTT: monthly report"), h1),
        p(_("Province: %(province)s · Month: %(month)s", province=province_name,
            month=month_label)),
        Spacer(1, 4 * mm),
        p(_("Headline figures"), h2),
        table([[_("Figure"), _("Value")], *[[a, b] for a, b in headline(figures)]],
              [70 * mm, 100 * mm]),
        Spacer(1, 4 * mm),
        _bar_drawing(figures.by_regency, names, font,
                     _("Declared export value by origin regency (million IDR)")),
        p(_("By commodity"), h2),
        table([[_("Category"), _("Batches"), _("Value"), _("Volume")],
               *[[category_label(r.key), format_decimal(r.batches), idr(r.value_idr),
                  volume_text(r.volume)] for r in figures.by_category]],
              [45 * mm, 20 * mm, 50 * mm, 55 * mm]),
        # The last section and the footnote move to a new page together: alone, the
        # footnote once made a page of its own.
        *_ending([
            p(_("By destination"), h2),
            table([[_("Country"), _("Batches"), _("Value"), _("Volume")],
                   *[[country_name(r.key), format_decimal(r.batches), idr(r.value_idr),
                      volume_text(r.volume)] for r in figures.by_destination[:15]]],
                  [45 * mm, 20 * mm, 50 * mm, 55 * mm]),
            *progress,
        ], [
            Spacer(1, 6 * mm),
            p(_("Certified batches are batches approved in the month, including any suspended "
                "or revoked later. Volumes are in normalised units (tonnes as kg). Lead time "
                "runs from submission to approval."), small),
        ]),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=16 * mm,
                            # The canvas' own first font, otherwise Helvetica, which is never
                            # embedded: every font in the file is the labels' DejaVu Sans.
                            initialFontName=font,
                            title=_("Made in Bali–NTB–NTT: monthly report"),
                            author="Made in Bali–NTB–NTT registry")
    doc.build(story)
    return buffer.getvalue()
