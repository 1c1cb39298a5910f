"""Progress against targets as files: CSV and XLSX (one row a target, its month-by-month
path in columns) and the yearly evaluation report (PDF, in the active locale), in the
monthly report's fonts and style (``registry.figures.exports``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from xml.sax.saxutils import escape

from flask_babel import format_date, format_datetime, format_decimal
from flask_babel import gettext as _
from openpyxl import Workbook
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from registry.catalog.vocabulary import category_label
from registry.clock import REGION_TZ
from registry.figures.exports import _fonts, csv_safe, idr, lead_time_text, volume_text
from registry.figures.queries import Figures, Row
from registry.reference import regencies
from registry.targets import presenters as say
from registry.targets.services import Progress


def progress_rows(progress: Progress) -> tuple[list[str], list[list[Any]]]:
    """The header and one row per target, as a person reads them."""
    months = say.month_names(progress.year)
    header = [_("Year"), _("Province or region"), _("Target"), _("Target for the year"),
              _("Achieved"), _("Share of target"), _("Expected share at this date"),
              _("Verdict"), _("Measured at"), _("Set by"), _("Set at (WITA)"),
              *[_("Achieved by end of %(month)s", month=m) for m in months]]
    rows = []
    for item in progress.items:
        t = item.target
        rows.append([
            progress.year, say.where_label(progress.province), say.describe(t),
            say.amount_text(t, t.amount), say.amount_text(t, item.achieved),
            say.percent(item.assessment.share), say.percent(item.assessment.expected),
            say.verdict_text(item), progress.at.isoformat(), item.set_by,
            t.set_at.astimezone(REGION_TZ).strftime("%Y-%m-%d %H:%M"),
            *[say.amount_text(t, v) if v is not None else "" for v in item.monthly]])
    return header, rows


def progress_csv(progress: Progress) -> str:
    """The whole file at once, words taken in the request: a row a target is small."""
    header, rows = progress_rows(progress)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    return "\ufeff" + buffer.getvalue()


def progress_xlsx(progress: Progress) -> bytes:
    header, rows = progress_rows(progress)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("targets")
    sheet.append(header)
    for row in rows:
        sheet.append([v if isinstance(v, int) else str(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------- PDFs
class _Styles:
    def __init__(self) -> None:
        font, bold = _fonts()
        self.font = font
        self.base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13)
        self.h1 = ParagraphStyle("h1", parent=self.base, fontName=bold, fontSize=16,
                                 leading=20, spaceAfter=4)
        self.h2 = ParagraphStyle("h2", parent=self.base, fontName=bold, fontSize=11.5,
                                 leading=15, spaceBefore=10, spaceAfter=4)
        self.small = ParagraphStyle("small", parent=self.base, fontSize=7.5, leading=10,
                                    textColor=colors.HexColor("#5b6670"))

    def p(self, text: str, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(escape(text), style or self.base)

    def table(self, rows: list[list[str]], widths: list[float]) -> Table:
        t = Table([[self.p(c) for c in r] for r in rows], colWidths=widths, hAlign="LEFT",
                  repeatRows=1)
        t.setStyle(TableStyle([
            ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#d9dcd6")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8f1ec")),
        ]))
        return t


def progress_story(progress: Progress, styles: _Styles | None = None) -> list[Any]:
    """The progress table of the monthly and the yearly reports."""
    s = styles or _Styles()
    title = _("Progress against the targets of %(year)s", year=progress.year)
    if not progress.items:
        return [s.p(title, s.h2), s.p(_("No targets were set for %(year)s.", year=progress.year))]
    rows = [[_("Target"), _("Target for the year"), _("Achieved"), _("Share of target"),
             _("Expected share at this date"), _("Verdict")]]
    for item in progress.items:
        t = item.target
        rows.append([say.describe(t), say.amount_text(t, t.amount),
                     say.amount_text(t, item.achieved), say.percent(item.assessment.share),
                     say.percent(item.assessment.expected), say.verdict_text(item)])
    return [s.p(title, s.h2),
            s.p(_("Measured at %(day)s (WITA).", day=format_date(progress.at, "medium")),
                s.small),
            s.table(rows, [50 * mm, 30 * mm, 30 * mm, 20 * mm, 22 * mm, 22 * mm])]


def _change(now: float, before: float) -> str:
    if not before:
        return "—"
    return f"{format_decimal(round((now - before) / before * 100, 1))} %"


def _top(rows: list[Row], previous: list[Row], label: Any, n: int) -> list[list[str]]:
    before = {r.key: r for r in previous}
    out = []
    for r in rows[:n]:
        was = before.get(r.key, Row(r.key))
        out.append([label(r.key), format_decimal(r.batches), idr(r.value_idr),
                    idr(was.value_idr), _change(r.value_idr, was.value_idr)])
    return out


def evaluation_pdf(progress: Progress, figures: Figures, previous: Figures, *,
                   exporters: tuple[int, int], new_exporters: tuple[int, int],
                   generated: dt.datetime) -> bytes:
    """The yearly evaluation of a province (or the region): targets and results, the year's
    figures against the previous year's, top commodities, regencies and destinations, new
    exporters, approval lead times and suspicious activity."""
    from registry.web.templating import country_name

    s = _Styles()
    year = progress.year
    names = {code: r.name for code, r in regencies().items()}
    lt, plt = figures.lead_time, previous.lead_time
    headline = [
        (_("Certified batches"), format_decimal(figures.total.batches),
         format_decimal(previous.total.batches),
         _change(figures.total.batches, previous.total.batches)),
        (_("Declared export value"), idr(figures.total.value_idr),
         idr(previous.total.value_idr),
         _change(figures.total.value_idr, previous.total.value_idr)),
        (_("Volume"), volume_text(figures.total.volume), volume_text(previous.total.volume),
         ""),
        (_("Active exporters"), format_decimal(exporters[0]), format_decimal(exporters[1]),
         _change(*exporters)),
        (_("New exporters"), format_decimal(new_exporters[0]),
         format_decimal(new_exporters[1]), _change(*new_exporters)),
        (_("Approval lead time, median"), lead_time_text(lt.median_minutes),
         lead_time_text(plt.median_minutes), ""),
        (_("Approval lead time, 90th percentile"), lead_time_text(lt.p90_minutes),
         lead_time_text(plt.p90_minutes), ""),
        (_("Rejections"), format_decimal(figures.rejections),
         format_decimal(previous.rejections), _change(figures.rejections, previous.rejections)),
        (_("Scans"), format_decimal(figures.scans), format_decimal(previous.scans),
         _change(figures.scans, previous.scans)),
        (_("Suspicious scans"), format_decimal(figures.suspicious_total),
         format_decimal(previous.suspicious_total),
         _change(figures.suspicious_total, previous.suspicious_total)),
    ]
    top_head = [_("Name"), _("Batches"), str(year), str(year - 1), _("Change")]
    widths = [55 * mm, 18 * mm, 37 * mm, 37 * mm, 22 * mm]
    story: list[Any] = [
        s.p(_("Made in Bali–NTB–NTT: yearly evaluation %(year)s", year=year), s.h1),
        s.p(_("Province: %(province)s · Year: %(year)s · Compared with %(previous)s",
              province=say.where_label(progress.province), year=year, previous=year - 1)),
        Spacer(1, 3 * mm),
        *progress_story(progress, s),
        s.p(_("Results compared with the previous year"), s.h2),
        s.table([[_("Figure"), str(year), str(year - 1), _("Change")],
                 *[list(r) for r in headline]], [55 * mm, 45 * mm, 45 * mm, 25 * mm]),
        s.p(_("Top commodities"), s.h2),
        s.table([top_head, *_top(figures.by_category, previous.by_category, category_label,
                                 5)], widths),
        s.p(_("Top regencies of origin"), s.h2),
        s.table([top_head, *_top(figures.by_regency, previous.by_regency,
                                 lambda k: names.get(k, k), 10)], widths),
        s.p(_("Top destinations"), s.h2),
        s.table([top_head, *_top(figures.by_destination, previous.by_destination,
                                 country_name, 10)], widths),
        s.p(_("Suspicious activity"), s.h2),
        s.p(_("%(suspicious)s of %(scans)s scans were suspicious (not genuine or a possible "
              "copy); %(previous)s in %(year)s.",
              suspicious=format_decimal(figures.suspicious_total),
              scans=format_decimal(figures.scans),
              previous=format_decimal(previous.suspicious_total), year=year - 1)),
        Spacer(1, 5 * mm),
        s.p(_("Certified batches are batches approved in the year, including any suspended or "
              "revoked later. Active exporters had at least one batch certified in the year; "
              "new exporters their first ever. The expected share of a target grows evenly "
              "with the days of the year; ahead and behind mean at least 10 %% above or below "
              "that path. Generated %(at)s.",
              at=format_datetime(generated.astimezone(REGION_TZ), "d MMM yyyy, HH:mm")
              + " WITA"), s.small),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=16 * mm,
                            title=_("Made in Bali–NTB–NTT: yearly evaluation %(year)s",
                                    year=year),
                            author="Made in Bali–NTB–NTT registry")
    doc.build(story)
    return buffer.getvalue()


