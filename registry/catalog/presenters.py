"""The batch page's words: a ``BatchOverview`` turned into what the exporter's batch page and
the trade office's review page lay out (the history and the print jobs' files in the reader's
language), so neither page's view imports the other's and the templates hold no logic."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from registry.catalog import history
from registry.catalog.overview import BatchOverview
from registry.certificates import presenters as certificates
from registry.plots import presenters as plots
from registry.printing import presenters as printing
from registry.shipments import presenters as shipment_words
from registry.shipments import services as shipments


def batch_page(session: Session, overview: BatchOverview) -> dict[str, Any]:
    """The template context of ``catalog/_facts.html`` and the sections both pages include."""
    return {
        "batch": overview.batch,
        "product": overview.product,
        "exporter": overview.exporter,
        "documents": [(d, certificates.certificate_view(d)) for d in overview.documents],
        "expiry_notices": [certificates.notice_text(n) for n in overview.expiry_notices],
        "certificate_status": certificates.gaps_text(overview.required_certificates,
                                                     overview.certificate_gaps),
        # The exporter is told before submitting what the approval will ask for (a notice:
        # the submission is not refused, see README "Certificates").
        "certificate_notice": (certificates.before_approval_text(overview.certificate_gaps)
                               if overview.can_submit else None),
        "decisions": overview.decisions,
        "history": history.batch_history(overview.events),
        "editable": overview.editable,
        "can_submit": overview.can_submit,
        "officer_actions": [action.value for action in overview.officer_actions],
        "can_label": overview.can_label,
        "scans": overview.scans,
        "bound": overview.bound,
        "allowances": overview.allowances,
        "print_jobs": printing.job_summaries(session, overview.print_jobs),
        "stock_names": printing.stock_names(),
        "show_bound": overview.show_bound,
        # Its shipments through the Bali hub: the exporter's, and the origin office's to read.
        "shipments": shipment_words.rows(shipments.for_batch(session, overview.batch)),
        "plot_rows": plots.rows(overview.plots),
        "plot_map": (plots.plot_map(overview.batch.origin_regency_code, overview.plots)
                     if overview.plots else ""),
        "eudr": overview.eudr,
    }
