"""Print jobs: serial allocation, the print shop's jobs and label data for rendering.

Services flush and never commit. Label data is computed before a download starts streaming,
so the stream itself never touches the database session.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import object_session
from sqlmodel import Session, col, select

from registry.accounts.models import Organisation, OrgKind, Role, User
from registry.audit import services as audit
from registry.audit.tags import EventTag
from registry.catalog.certification import Status, may_issue_labels
from registry.catalog.models import Batch, Product, ProductFacts
from registry.catalog.services import get_batch, registered_product
from registry.clock import today, utcnow
from registry.exceptions import Conflict, Forbidden, NotFound, ValidationError
from registry.figures import summary as figures_summary
from registry.gs1 import digital_link as gs1
from registry.notifications import services as notifications
from registry.printing.models import LabelAllowance, PrintJob, Reprint, SerialCounter
from registry.printing.render.label import LabelData
from registry.printing.render.stream import sheet_count
from registry.printing.render.text import overflowing
from registry.printing.rules import (
    DEFAULT_TOLERANCE_PERCENT,
    LabelBound,
    allowance_problems,
    job_problems,
    label_bound,
    net_problem,
    plain,
    reprint_problems,
    sheet_serials,
    to_batch_unit,
)
from registry.printing.stocks import Stock, load_stocks
from registry.reference import PROVINCE_SHORT, regencies
from registry.signing.services import record_signature
from registry.signing.signer import Signer


@cache
def stocks() -> dict[str, Stock]:
    return load_stocks()


def print_shops(session: Session) -> list[Organisation]:
    return list(session.exec(
        select(Organisation).where(Organisation.kind == OrgKind.PRINTER).order_by(Organisation.name)
    ).all())


class LabelBoundExceeded(ValidationError):
    """An order whose labels would claim more than the batch may: the numbers travel with it
    so that the form and the API can say them in the reader's language."""

    def __init__(self, bound: LabelBound, this_order: Decimal) -> None:
        self.bound, self.this_order = bound, this_order
        unit = bound.unit
        super().__init__(
            f"too many labels for the certified quantity: {plain(bound.ordered)} {unit} ordered "
            f"already, {plain(this_order)} {unit} in this order, {plain(bound.allowed)} {unit} "
            f"allowed", fields={"quantity": "over_certified_quantity"},
            extra={"labelled": {"ordered": plain(bound.ordered),
                                "this_order": plain(this_order),
                                "allowed": plain(bound.allowed), "unit": unit}})


class LabelTextTooLong(ValidationError):
    """The batch's text does not fit the chosen stock at the legible minimum: the stock, the
    elements that do not fit and the stocks that would hold it travel with the refusal, so the
    form and the API can name them in the reader's language."""

    def __init__(self, stock: Stock, elements: list[str], larger: list[Stock]) -> None:
        self.stock, self.elements, self.larger = stock, elements, larger
        super().__init__(
            f"the label text does not fit stock {stock.id}: {', '.join(elements)}; "
            f"stocks that hold it: {', '.join(s.id for s in larger) or 'none'}",
            fields={"stock": "text_does_not_fit"},
            extra={"does_not_fit": {"stock": stock.id, "elements": elements,
                                    "larger_stocks": [s.id for s in larger]}})


def check_text_fits(stock_id: str, source: LabelSource) -> None:
    """Refuse a stock that cannot print the batch's text whole (the lot identifies the batch;
    a name cut on a signed label misleads), suggesting the stocks that can, smallest first."""
    sample = source.widest()
    elements = overflowing(stocks()[stock_id], sample)
    if elements:
        larger = sorted((st for st in stocks().values() if not overflowing(st, sample)),
                        key=lambda st: st.label_width * st.label_height)
        raise LabelTextTooLong(stocks()[stock_id], elements, larger)


def lock_serials(session: Session, batch_id: int) -> None:
    """Take the batch's counter row for the rest of the transaction without moving it: a no-op
    UPDATE locks the row on PostgreSQL and takes SQLite's single write lock, so whatever this
    transaction reads next (the labels already ordered) no concurrent order can change."""
    _ensure_counter(session, batch_id)
    session.exec(
        update(SerialCounter)
        .where(col(SerialCounter.batch_id) == batch_id)
        .values(next_serial=SerialCounter.next_serial)
    )


def _ensure_counter(session: Session, batch_id: int) -> None:
    """The batch's counter row, made on its first order (a no-op once it exists)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(SerialCounter).values(batch_id=batch_id, next_serial=1)
        .on_conflict_do_nothing(index_elements=["batch_id"])
    )


def bound_for(session: Session, batch: Batch,
              tolerance_percent: Decimal | float = DEFAULT_TOLERANCE_PERCENT) -> LabelBound:
    """What the batch's labels claim so far against what they may (reprints are not jobs)."""
    jobs = session.exec(
        select(PrintJob.quantity, PrintJob.net_quantity).where(PrintJob.batch_id == batch.id)
    ).all()
    allowances = session.exec(
        select(func.coalesce(func.sum(LabelAllowance.amount), 0))
        .where(LabelAllowance.batch_id == batch.id)
    ).one()
    return label_bound(certified=Decimal(batch.quantity), batch_unit=batch.unit,
                       tolerance_percent=Decimal(str(tolerance_percent)),
                       allowances=Decimal(str(allowances)),
                       jobs=[(q, net) for q, net in jobs])


def allocate_serials(session: Session, batch_id: int, count: int) -> tuple[int, int]:
    """Reserve ``count`` consecutive serials of a batch: one atomic UPDATE ... RETURNING on the
    batch's counter row, so concurrent orders queue on its lock and never overlap."""
    _ensure_counter(session, batch_id)
    new_next = session.exec(
        update(SerialCounter)
        .where(col(SerialCounter.batch_id) == batch_id)
        .values(next_serial=SerialCounter.next_serial + count)
        .returning(col(SerialCounter.next_serial))
    ).scalar_one()
    if new_next - 1 >= 10**gs1.MAX_SERIAL_DIGITS:
        raise Conflict("this batch has used up its serial numbers")
    return new_next - count, new_next - 1


def can_print(batch: Batch) -> bool:
    return may_issue_labels(Status(batch.status), batch.valid_until, today())


def require_printable(batch: Batch) -> None:
    if not can_print(batch):
        raise Conflict("labels are only issued for certified batches within their validity")


def order_job(
    session: Session, actor: User, batch_id: int, *, printer_org_id: int, stock: str,
    quantity: int, net_quantity: str,
    tolerance_percent: Decimal | float = DEFAULT_TOLERANCE_PERCENT, host: str = "",
) -> PrintJob:
    """Order labels. Their net content in all (with the batch's earlier jobs) may not exceed
    the certified quantity plus ``tolerance_percent`` plus officers' allowances; the check
    runs under the batch's counter lock, so parallel orders cannot pass it together. The
    stock must hold the batch's text whole (``host``, the short verification address, is
    checked too when given)."""
    if actor.role != Role.EXPORTER:
        raise Forbidden("only exporters order labels")
    batch = get_batch(session, actor, batch_id)
    require_printable(batch)
    problems = job_problems(quantity=quantity, net_quantity=net_quantity, stock=stock,
                            stocks=set(stocks()), batch_unit=batch.unit)
    shop = session.get(Organisation, printer_org_id)
    if shop is None or shop.kind != OrgKind.PRINTER:
        problems["printer_org_id"] = "unknown"
    if problems:
        raise ValidationError("invalid print job", fields=problems)
    net, _problem = net_problem(net_quantity, batch.unit)
    assert net is not None
    product = session.get_one(Product, batch.product_id)
    check_text_fits(stock, label_source(batch, product, net_quantity=net.text, host=host,
                                        scheme="https"))
    lock_serials(session, batch.id)
    bound = bound_for(session, batch, tolerance_percent)
    this_order = to_batch_unit(quantity * net.base, batch.unit)
    if not bound.admits(this_order):
        raise LabelBoundExceeded(bound, this_order)
    first, last = allocate_serials(session, batch.id, quantity)
    job = PrintJob(
        batch_id=batch.id, exporter_org_id=batch.organisation_id, printer_org_id=printer_org_id,
        stock=stock, quantity=quantity, serial_first=first, serial_last=last,
        net_quantity=net.text, ordered_by=actor.id,
    )
    session.add(job)
    session.flush()
    figures_summary.record_print_job(session, job)  # the figures' cells, in this transaction
    audit.record(session, actor=actor, action=EventTag.PrintJob.ORDER, object_type="batch",
                 object_id=batch.id, after={"job_id": job.id, "stock": stock,
                                            "quantity": quantity, "serials": [first, last],
                                            "printer_org_id": printer_org_id})
    notifications.job_assigned(session, job)
    return job


def allowance_open(batch: Batch) -> bool:
    """Whether an office may raise the batch's label allowance: while it is certified
    (approved, or suspended and perhaps reinstated), not before and not once revoked."""
    return Status(batch.status) in (Status.APPROVED, Status.SUSPENDED)


def grant_allowance(session: Session, actor: User, batch_id: int, *, amount: Decimal | None,
                    reason: str) -> LabelAllowance:
    """An officer of the batch's province lets its labels claim ``amount`` more (in the
    batch's unit), for a reason the exporter sees."""
    if actor.role != Role.OFFICER:
        raise Forbidden("only trade offices grant label allowances")
    batch = get_batch(session, actor, batch_id)  # other provinces: 404
    if not allowance_open(batch):
        raise Conflict("allowances are for certified batches")
    problems = allowance_problems(amount, reason)
    if problems:
        raise ValidationError("invalid allowance", fields=problems)
    assert amount is not None
    grant = LabelAllowance(batch_id=batch.id, amount=amount, reason=reason.strip(),
                           granted_by=actor.id)
    session.add(grant)
    session.flush()
    audit.record(session, actor=actor, action=EventTag.Batch.LABEL_ALLOWANCE, object_type="batch",
                 object_id=batch.id, after={"allowance_id": grant.id, "amount": plain(amount),
                                            "unit": batch.unit, "reason": grant.reason})
    return grant


def allowances_for(session: Session, batch: Batch) -> list[tuple[LabelAllowance, str]]:
    rows = session.exec(
        select(LabelAllowance, User.name).join(User, col(User.id) == LabelAllowance.granted_by)
        .where(LabelAllowance.batch_id == batch.id).order_by(col(LabelAllowance.id))
    ).all()
    return [(grant, name) for grant, name in rows]


def jobs_for_batch(session: Session, actor: User, batch: Batch) -> list[tuple[PrintJob, str]]:
    rows = session.exec(
        select(PrintJob, Organisation.name)
        .join(Organisation, col(Organisation.id) == PrintJob.printer_org_id)
        .where(PrintJob.batch_id == batch.id)
        .order_by(col(PrintJob.id))
    ).all()
    return [(job, name) for job, name in rows]


@dataclass(frozen=True)
class JobRow:
    job: PrintJob
    batch: Batch
    product: ProductFacts
    exporter: str
    downloadable: bool


def jobs_for_printer(session: Session, actor: User) -> list[JobRow]:
    if actor.role != Role.PRINTER:
        raise Forbidden("only print shops see print jobs")
    rows = session.exec(
        select(PrintJob, Batch, Product, Organisation.name)
        .join(Batch, col(Batch.id) == PrintJob.batch_id)
        .join(Product, col(Product.id) == Batch.product_id)
        .join(Organisation, col(Organisation.id) == PrintJob.exporter_org_id)
        .where(PrintJob.printer_org_id == actor.organisation_id)
        .order_by(col(PrintJob.id).desc())
    ).all()
    return [
        JobRow(job, batch, registered_product(batch, product), exporter, can_print(batch))
        for job, batch, product, exporter in rows
    ]


def printer_job(session: Session, actor: User, job_id: int) -> tuple[PrintJob, Batch, Product]:
    """A job of the actor's print shop whose batch may still carry labels."""
    if actor.role != Role.PRINTER:
        raise Forbidden("only print shops download labels")
    job = session.get(PrintJob, job_id)
    if job is None or job.printer_org_id != actor.organisation_id:
        raise NotFound("no such print job")
    batch = session.get_one(Batch, job.batch_id)
    product = session.get_one(Product, batch.product_id)
    require_printable(batch)
    return job, batch, product


def record_download(session: Session, actor: User, job: PrintJob, kind: str, kid: str) -> None:
    """A download of the job's labels, signed by key ``kid``: counted, audited, and the key
    noted as a signer of the job (refused first, writing nothing, if it was just revoked)."""
    record_signature(session, job.id, kid)
    job.downloads += 1
    job.last_downloaded_at = utcnow()
    session.add(job)
    session.flush()
    audit.record(session, actor=actor, action=EventTag.PrintJob.DOWNLOAD, object_type="print_job",
                 object_id=job.id, after={"format": kind, "batch_id": job.batch_id,
                                          "serials": [job.serial_first, job.serial_last],
                                          "kid": kid})


def record_reprint(session: Session, actor: User, job: PrintJob, *, sheet_first: int,
                   sheet_last: int, reason: str, kid: str) -> Reprint:
    sheets = sheet_count(stocks()[job.stock], job.quantity)
    problems = reprint_problems(sheet_first, sheet_last, sheets, reason)
    if problems:
        raise ValidationError("invalid reprint", fields=problems)
    record_signature(session, job.id, kid)
    reprint = Reprint(job_id=job.id, sheet_first=sheet_first, sheet_last=sheet_last,
                      reason=reason.strip(), printed_by=actor.id)
    session.add(reprint)
    session.flush()
    audit.record(session, actor=actor, action=EventTag.PrintJob.REPRINT, object_type="print_job",
                 object_id=job.id, after={"sheets": [sheet_first, sheet_last],
                                          "reason": reprint.reason, "kid": kid})
    return reprint


def reprint_serials(job: PrintJob, sheet_first: int, sheet_last: int) -> tuple[int, int]:
    """The serials on the job's sheets ``sheet_first`` to ``sheet_last``: a reprint signs
    and prints these again, the same as on the damaged sheets, and only those."""
    per_sheet = stocks()[job.stock].labels_per_sheet
    return sheet_serials(job.serial_first, job.serial_last, per_sheet, sheet_first, sheet_last)


# ---------------------------------------------------------------- label data


@dataclass(frozen=True)
class LabelSource:
    """Everything a label stream needs, detached from the database session."""

    gtin: str
    lot: str
    product_name: str
    origin_regency: str
    origin_province: str
    producer: str
    net_quantity: str
    best_before: str | None
    host: str
    scheme: str
    exporter: str = ""

    def labels(self, signer: Signer, first: int, last: int) -> Iterator[LabelData]:
        for number in range(first, last + 1):
            serial = gs1.format_serial(number)
            yield LabelData(
                product_name=self.product_name, origin_regency=self.origin_regency,
                origin_province=self.origin_province, producer=self.producer, lot=self.lot,
                net_quantity=self.net_quantity, best_before=self.best_before, serial=serial,
                short_host=self.host, exporter=self.exporter,
                qr_uri=signer.label_uri(self.host, self.gtin, self.lot, serial, self.scheme),
            )


    def widest(self) -> LabelData:
        """A label of this batch with the longest serial the registry issues, for measuring
        (its QR URI is left empty: the stock's QR box is validated for the longest URI)."""
        return LabelData(
            product_name=self.product_name, origin_regency=self.origin_regency,
            origin_province=self.origin_province, producer=self.producer, lot=self.lot,
            net_quantity=self.net_quantity, best_before=self.best_before,
            serial=gs1.format_serial(10**gs1.MAX_SERIAL_DIGITS - 1), short_host=self.host,
            exporter=self.exporter, qr_uri="")

    def specimen(self, signer: Signer, next_serial: int) -> LabelData:
        """A proof's label: serial 0…0 as wide as the next real serial (so the code has the
        real length), signed in the specimen domain, which never verifies as a label."""
        serial = "0" * min(len(str(max(next_serial, 1))), gs1.MAX_SERIAL_DIGITS)
        return LabelData(
            product_name=self.product_name, origin_regency=self.origin_regency,
            origin_province=self.origin_province, producer=self.producer, lot=self.lot,
            net_quantity=self.net_quantity, best_before=self.best_before, serial=serial,
            short_host=self.host, exporter=self.exporter,
            qr_uri=signer.specimen_uri(self.host, self.gtin, self.lot, serial, self.scheme),
        )


def label_source(batch: Batch, product: Product, *, net_quantity: str, host: str,
                 scheme: str) -> LabelSource:
    """The batch's labels, with the product as frozen at submission: a later edit of the
    product never reaches labels of a certified batch."""
    regency = regencies()[batch.origin_regency_code]
    facts = registered_product(batch, product)
    # Read in the batch's own session, so that every caller (order check, preview, download)
    # prints the same name without passing it along.
    session = object_session(batch)
    exporter = session.get(Organisation, batch.organisation_id) if session else None
    return LabelSource(
        gtin=facts.gtin, lot=batch.lot_code, product_name=facts.name_en,
        origin_regency=regency.name, origin_province=PROVINCE_SHORT[regency.province_code],
        producer=batch.producer, net_quantity=net_quantity,
        best_before=batch.best_before.isoformat() if batch.best_before else None,
        host=host, scheme=scheme, exporter=exporter.name if exporter else "",
    )


def next_free_serial(session: Session, batch_id: int) -> int:
    counter = session.get(SerialCounter, batch_id)
    return counter.next_serial if counter else 1


def sheets_of(job: PrintJob) -> int:
    return sheet_count(stocks()[job.stock], job.quantity)
