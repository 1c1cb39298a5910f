"""A batch as its pages show it: the read model the exporter's batch page and the trade
office's review page share, gathered from the catalog, decisions, print jobs and scans.

A service (session and acting user in, plain data out, no Flask): what the reader may do
with the batch is decided here, the wording is the pages' (``catalog.presenters``). It sits
beside ``catalog.services`` rather than in it because it reads the services of review,
printing and verify, which themselves import ``catalog.services``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session

from registry.accounts.models import Organisation, Role, User
from registry.audit import services as audit
from registry.audit.models import AuditEvent
from registry.catalog import services
from registry.catalog.certification import Action, Status, allowed_actions, is_editable
from registry.catalog.models import Batch, Document, Product, ProductFacts
from registry.certificates import services as certificates
from registry.certificates.rules import Gaps
from registry.clock import today
from registry.plots import services as plots
from registry.plots.models import Plot
from registry.printing import services as printing
from registry.printing.models import LabelAllowance, PrintJob
from registry.printing.rules import LabelBound
from registry.reference import EudrHeading
from registry.review.models import Decision
from registry.review.services import decisions_for
from registry.verify.services import ScanSummary, batch_scan_summary

# Once certified, a batch's labels count against its quantity; the page shows that account
# from then on (also when the certification was suspended or revoked later).
BOUND_SHOWN = frozenset({Status.APPROVED, Status.SUSPENDED, Status.REVOKED})


@dataclass(frozen=True)
class BatchOverview:
    batch: Batch
    product: ProductFacts               # as submitted once submitted, else the live product
    exporter: Organisation | None       # for readers outside the exporting company only
    documents: list[Document]
    decisions: list[tuple[Decision, User]]
    events: list[AuditEvent]            # the batch's audit events, oldest first
    editable: bool                      # the reader may edit it (its exporter, while a draft)
    can_submit: bool
    officer_actions: list[Action]       # decisions its state allows (the officer's page)
    can_label: bool                     # its exporter may order labels now
    scans: ScanSummary
    bound: LabelBound                   # labels × net content against the certified quantity
    allowances: list[tuple[LabelAllowance, str]]
    can_grant_allowance: bool           # the reader is an officer and the batch certified
    print_jobs: list[tuple[PrintJob, str]]
    show_bound: bool
    required_certificates: list[str]    # kinds the administrators' rules require of it
    certificate_gaps: Gaps              # of those, missing or only expired today
    expiry_notices: list[certificates.ExpiryNotice]  # certified: certificates expiring soon
    plots: list[Plot]                   # production plots (EU due diligence)
    eudr: EudrHeading | None            # the annex line the batch's HS code falls under


def batch_overview(session: Session, actor: User, batch_id: int, *,
                   tolerance_percent: Decimal | float) -> BatchOverview:
    """The batch if ``actor`` may see it (NotFound otherwise, as ``get_batch``), with what
    its page shows. ``tolerance_percent`` is LABEL_QUANTITY_TOLERANCE_PERCENT."""
    batch = services.get_batch(session, actor, batch_id)
    status = Status(batch.status)
    exporter = actor.role == Role.EXPORTER
    product = session.get_one(Product, batch.product_id)  # a foreign key holds it
    actions = allowed_actions(status)
    documents = services.list_documents(session, batch)
    day = today()
    return BatchOverview(
        batch=batch,
        product=services.registered_product(batch, product),
        exporter=None if exporter else session.get(Organisation, batch.organisation_id),
        documents=documents,
        decisions=decisions_for(session, batch),
        events=audit.events_for(session, "batch", batch.id),
        editable=exporter and is_editable(status),
        can_submit=exporter and Action.SUBMIT in actions,
        officer_actions=[a for a in actions if a is not Action.SUBMIT],
        can_label=exporter and printing.can_print(batch),
        scans=batch_scan_summary(session, batch),
        bound=printing.bound_for(session, batch, tolerance_percent),
        allowances=printing.allowances_for(session, batch),
        can_grant_allowance=actor.role == Role.OFFICER and printing.allowance_open(batch),
        print_jobs=printing.jobs_for_batch(session, actor, batch),
        show_bound=status in BOUND_SHOWN,
        required_certificates=certificates.required_for(session, batch),
        certificate_gaps=certificates.batch_gaps(session, batch, day),
        expiry_notices=certificates.expiry_notices(session, batch, documents, day),
        plots=plots.list_plots(session, batch),
        eudr=plots.eudr_scope(session, batch),
    )
