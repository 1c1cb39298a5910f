"""Who is told what (issue 16 §5), and each user's notification settings. No Flask.

Each function writes its mails into the caller's transaction (``mail.queue_mail``), so a
decision that rolls back tells nobody; each recipient gets the mail in their own saved
language (else Indonesian), and ``queue_mail`` leaves out whoever switched the kind off.
Only active accounts are told: a disabled or waiting account reads nothing.

    exporter   a decision on its batch (with the officer's reason) · buyers' reports of
               suspected fakes of its product and possible copies of a batch's labels (each
               at most one mail a batch a day, from the minute sweep, never one a report or
               a scan)
    officer    a new exporter of the province waiting for activation · a daily digest of
               the province (submissions waiting, new reports and suspicious scans), once a
               WITA day, none when there is nothing to say
    both       a certificate of a certified batch (of the company; of the province) expiring
               in 30 days, and on the day (``certificates.services.expiry_alerts``)
    print shop a job ordered from it · a label file it asked for, rendered by the worker
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, delete, select, update

from registry.accounts.models import Organisation, OrgKind, Role, User, UserStatus
from registry.audit import services as audit
from registry.audit.tags import EventTag
from registry.catalog.certification import Action, Status
from registry.catalog.models import Batch, Product
from registry.clock import REGION_TZ
from registry.mail.kinds import MailKind
from registry.mail.models import MailOnce, MailOptOut
from registry.mail.services import queue_mail
from registry.printing.models import LabelFile, PrintJob
from registry.reference import PROVINCES
from registry.review.models import Decision
from registry.verify.models import FakeReport, Scan, told_possible_copy

# The kinds each role can receive, so the settings page offers those and no others.
ROLE_KINDS: dict[str, tuple[MailKind, ...]] = {
    Role.EXPORTER: (MailKind.BATCH_DECISION, MailKind.FAKE_REPORT, MailKind.COPY_SIGNAL,
                    MailKind.CERTIFICATE_EXPIRY),
    Role.OFFICER: (MailKind.SIGNUP_WAITING, MailKind.DAILY_DIGEST, MailKind.CERTIFICATE_EXPIRY),
    Role.PRINTER: (MailKind.PRINT_JOB_ASSIGNED, MailKind.LABEL_FILE_READY),
    Role.ADMIN: (),
}

# The digest goes out with the first sweep after this hour (WITA): read with the morning's
# work, and the day's first sweep after a worker was down still sends it.
DIGEST_HOUR = 7


# ---------------------------------------------------------------- recipients


def organisation_users(session: Session, organisation_id: int | None, role: Role) -> list[User]:
    if organisation_id is None:
        return []
    return list(session.exec(select(User).where(
        User.organisation_id == organisation_id, User.role == role,
        User.status == UserStatus.ACTIVE).order_by(col(User.id))).all())


def province_officers(session: Session, province: str) -> list[User]:
    return list(session.exec(
        select(User).join(Organisation, col(Organisation.id) == User.organisation_id)
        .where(Organisation.kind == OrgKind.TRADE_OFFICE,
               Organisation.province_code == province, User.role == Role.OFFICER,
               User.status == UserStatus.ACTIVE)
        .order_by(col(User.id))).all())


def tell(session: Session, kind: MailKind, users: Iterable[User],
         params: Mapping[str, object]) -> int:
    return sum(queue_mail(session, kind, to=user, params=params) is not None
               for user in users)


def _product_names(batch: Batch, product: Product | None) -> dict[str, str]:
    """The product's name in each mail language, as the batch shows it (frozen at
    submission)."""
    name_id = batch.product_name_id or (product.name_id if product else "")
    name_en = batch.product_name_en or (product.name_en if product else "")
    return {"id": name_id or name_en, "en": name_en or name_id}


def batch_params(session: Session, batch: Batch) -> dict[str, object]:
    product = session.get(Product, batch.product_id)
    return {"batch_id": batch.id, "lot": batch.lot_code,
            "product": _product_names(batch, product)}


# ---------------------------------------------------------------- events


def batch_decided(session: Session, batch: Batch, decision: Decision) -> int:
    """The batch's company is told of an officer's decision, with the reason given."""
    action = Action(decision.action)
    params = {**batch_params(session, batch), "action": action.value,
              "reason": decision.reason or "",
              "valid_until": decision.valid_until.isoformat() if decision.valid_until else ""}
    return tell(session, MailKind.BATCH_DECISION,
                organisation_users(session, batch.organisation_id, Role.EXPORTER), params)


def passage_decided(session: Session, batch: Batch, *, confirmed: bool,
                    reason: str | None) -> int:
    """The batch's company is told that the Bali office confirmed or refused a shipment's
    passage through the hub (a decision on its batch: the same setting, the same mail)."""
    params = {**batch_params(session, batch),
              "action": "confirm_passage" if confirmed else "refuse_passage",
              "reason": reason or "", "valid_until": ""}
    return tell(session, MailKind.BATCH_DECISION,
                organisation_users(session, batch.organisation_id, Role.EXPORTER), params)


def job_assigned(session: Session, job: PrintJob) -> int:
    """The print shop is told of a job ordered from it."""
    batch = session.get_one(Batch, job.batch_id)
    exporter = session.get_one(Organisation, job.exporter_org_id)
    params = {**batch_params(session, batch), "job_id": job.id, "quantity": job.quantity,
              "stock": job.stock, "exporter": exporter.name}
    return tell(session, MailKind.PRINT_JOB_ASSIGNED,
                organisation_users(session, job.printer_org_id, Role.PRINTER), params)


def label_file_ready(session: Session, row: LabelFile) -> int:
    """Whoever asked for the file (a print shop's user) is told it is ready to download: a
    large job renders for minutes, and nobody should have to watch the page."""
    if row.requested_by is None:
        return 0
    user = session.get(User, row.requested_by)
    if user is None or user.status != UserStatus.ACTIVE:
        return 0
    job = session.get_one(PrintJob, row.job_id)
    if user.organisation_id != job.printer_org_id:
        return 0  # moved to another organisation since: the job is no longer theirs
    batch = session.get_one(Batch, job.batch_id)
    params = {**batch_params(session, batch), "job_id": job.id, "format": row.format,
              "labels": row.labels_done}
    return tell(session, MailKind.LABEL_FILE_READY, [user], params)


def signup_waiting(session: Session, user: User, org: Organisation) -> int:
    """The province's officers are told of a new exporter waiting for activation."""
    if org.province_code is None:
        return 0
    params = {"company": org.name, "name": user.name, "nib": org.nib or "",
              "province": PROVINCES.get(org.province_code, org.province_code)}
    return tell(session, MailKind.SIGNUP_WAITING,
                province_officers(session, org.province_code), params)


# ---------------------------------------------------------------- once a day


def wita_day(now: dt.datetime) -> dt.date:
    return now.astimezone(REGION_TZ).date()


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=REGION_TZ).astimezone(dt.UTC)


def claim_day(session: Session, kind: MailKind, scope: str, day: dt.date,
              now: dt.datetime) -> bool:
    """Take (kind, scope, day) for this transaction: True for the one sweep whose INSERT
    wrote the row. Another worker's INSERT waits for this transaction and then finds it (or,
    if this one rolled back, takes it)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # RETURNING, not the row count: psycopg reports -1 for this INSERT.
    written = session.execute(insert(MailOnce).values(
        kind=kind.value, scope=scope, day=day, created_at=now,
    ).on_conflict_do_nothing(index_elements=["kind", "scope", "day"])
        .returning(col(MailOnce.kind))).first()
    return written is not None


def copy_signals(session: Session, now: dt.datetime) -> int:
    """Tell each exporter whose batch had "possible copy" answers today, once a batch a WITA
    day, however many scans there were: the verdicts the scans recorded are counted here,
    by the minute sweep, never one mail a scan. Returns the batches told of."""
    day = wita_day(now)
    since = day_start(day)
    copy = told_possible_copy()
    told = select(MailOnce.scope).where(MailOnce.kind == MailKind.COPY_SIGNAL.value,
                                        MailOnce.day == day)
    rows = session.exec(
        select(Scan.batch_id, func.count(), func.count(func.distinct(Scan.serial)))
        .where(col(Scan.created_at) >= since, copy, col(Scan.batch_id).is_not(None))
        .group_by(col(Scan.batch_id)).order_by(col(Scan.batch_id))
    ).all()
    already = set(session.exec(told).all())
    batches = 0
    for batch_id, scans, serials in rows:
        scope = f"batch:{batch_id}"
        if scope in already or not claim_day(session, MailKind.COPY_SIGNAL, scope, day, now):
            continue
        batch = session.get(Batch, batch_id)
        if batch is None:
            continue
        params = {**batch_params(session, batch), "scans": int(scans),
                  "serials": int(serials), "day": day.isoformat()}
        tell(session, MailKind.COPY_SIGNAL,
             organisation_users(session, batch.organisation_id, Role.EXPORTER), params)
        batches += 1
    return batches


# At most this many serials are named in a summary of reports (the desk lists them all).
SUMMARY_SERIALS = 10


def _report_scope(report: FakeReport) -> str | None:
    """The thing a summary is about: the batch the label named, else the product (a lot the
    registry does not know); None when no exporter is attributed (the administrators' desk)."""
    if report.organisation_id is None or report.product_id is None:
        return None
    return f"batch:{report.batch_id}" if report.batch_id else f"product:{report.product_id}"


def fake_reports(session: Session, now: dt.datetime) -> int:
    """Tell each exporter of the buyers' reports of suspected fakes of its products, at most
    once a batch a WITA day (a report of an unknown lot counts under its product), in one
    mail that counts them: a burst of reports (or one prankster) makes one mail, not one a
    report. Reports not yet told are marked once told; those of a batch told today already
    wait for tomorrow's first sweep, so every report is told once. The buyers' words stay on
    the desk: a mail carries no text a stranger typed. Returns the summaries written."""
    day = wita_day(now)
    waiting = session.exec(select(FakeReport).where(col(FakeReport.notified_at).is_(None))
                           .order_by(col(FakeReport.id)).limit(5000)).all()
    groups: dict[str, list[FakeReport]] = {}
    nobody: list[int] = []
    for report in waiting:
        scope = _report_scope(report)
        if scope is None:
            nobody.append(report.id)
        else:
            groups.setdefault(scope, []).append(report)
    told: list[int] = list(nobody)
    summaries = 0
    for scope, reports in groups.items():
        if not claim_day(session, MailKind.FAKE_REPORT, scope, day, now):
            continue
        first = reports[0]
        product = session.get(Product, first.product_id)
        batch = session.get(Batch, first.batch_id) if first.batch_id else None
        names = (_product_names(batch, product) if batch is not None else
                 {"id": product.name_id, "en": product.name_en} if product is not None else
                 {"id": "", "en": ""})
        serials = sorted({r.serial for r in reports}, key=lambda s: (len(s), s))
        params = {"product": names, "lot": batch.lot_code if batch else first.lot,
                  "reports": len(reports), "serial": serials[0],
                  "serials": ", ".join(serials[:SUMMARY_SERIALS]),
                  "more_serials": max(0, len(serials) - SUMMARY_SERIALS),
                  "day": day.isoformat()}
        tell(session, MailKind.FAKE_REPORT,
             organisation_users(session, first.organisation_id, Role.EXPORTER), params)
        told.extend(r.id for r in reports)
        summaries += 1
    if told:
        session.exec(update(FakeReport).where(col(FakeReport.id).in_(told))
                     .values(notified_at=now))
    return summaries


@dataclass(frozen=True)
class Digest:
    province: str
    since: dt.datetime
    waiting: int
    oldest_waiting: dt.datetime | None
    reports: int
    not_genuine: int
    copies: int

    @property
    def empty(self) -> bool:
        return not (self.waiting or self.reports or self.not_genuine or self.copies)


def digest(session: Session, province: str, since: dt.datetime, now: dt.datetime) -> Digest:
    """What a province's office has to look at: the submissions waiting, and what its desk
    received since ``since`` (buyers' reports, not-genuine scans attributed to it, "possible
    copy" answers on its batches)."""
    waiting, oldest = session.exec(
        select(func.count(), func.min(Batch.submitted_at)).where(
            Batch.status == Status.SUBMITTED, Batch.origin_province_code == province)).one()
    reports = session.exec(select(func.count()).select_from(FakeReport).where(
        FakeReport.province_code == province, col(FakeReport.created_at) >= since,
        col(FakeReport.created_at) < now)).one()
    not_genuine = session.exec(select(func.count()).select_from(Scan).where(
        col(Scan.batch_id).is_(None), Scan.province_code == province,
        col(Scan.created_at) >= since, col(Scan.created_at) < now)).one()
    copies = session.exec(
        select(func.count()).select_from(Scan).join(Batch, col(Batch.id) == Scan.batch_id)
        .where(told_possible_copy(),
               Batch.origin_province_code == province,
               col(Scan.created_at) >= since, col(Scan.created_at) < now)).one()
    return Digest(province, since, int(waiting), oldest, int(reports), int(not_genuine),
                  int(copies))


def daily_digests(session: Session, now: dt.datetime) -> int:
    """Each province's digest to its officers, once a WITA day after ``DIGEST_HOUR``: the
    day is claimed in this transaction (``claim_day``) whether or not there is anything to
    say, so the sweep asks once a day; the news run from the previous day's claim (or a day
    back). Returns the digests written."""
    local = now.astimezone(REGION_TZ)
    if local.hour < DIGEST_HOUR:
        return 0
    day = local.date()
    provinces = session.exec(
        select(Organisation.province_code).where(
            Organisation.kind == OrgKind.TRADE_OFFICE,
            col(Organisation.province_code).is_not(None))
        .distinct().order_by(col(Organisation.province_code))).all()
    sent = 0
    for province in provinces:
        if province is None:
            continue
        scope = f"province:{province}"
        previous = session.exec(select(func.max(MailOnce.created_at)).where(
            MailOnce.kind == MailKind.DAILY_DIGEST.value, MailOnce.scope == scope,
            col(MailOnce.day) < day)).one()
        if not claim_day(session, MailKind.DAILY_DIGEST, scope, day, now):
            continue
        since = previous or now - dt.timedelta(days=1)
        found = digest(session, province, since, now)
        if found.empty:
            continue
        params = {"province": PROVINCES.get(province, province), "day": day.isoformat(),
                  "waiting": found.waiting, "reports": found.reports,
                  "not_genuine": found.not_genuine, "copies": found.copies,
                  "oldest_waiting": (found.oldest_waiting.astimezone(REGION_TZ).date()
                                     .isoformat() if found.oldest_waiting else "")}
        if tell(session, MailKind.DAILY_DIGEST, province_officers(session, province), params):
            sent += 1
    return sent


# ---------------------------------------------------------------- settings


def kinds_for(user: User) -> tuple[MailKind, ...]:
    return ROLE_KINDS.get(user.role, ())


def switched_off_kinds(session: Session, user: User) -> set[MailKind]:
    return {MailKind(kind) for kind in session.exec(
        select(MailOptOut.kind).where(MailOptOut.user_id == user.id)).all()
        if kind in MailKind._value2member_map_}


def set_notifications(session: Session, actor: User, *, wanted: Iterable[MailKind]) -> None:
    """The actor's own settings: every kind of their role not in ``wanted`` is switched off
    (kinds of other roles and security mails are not theirs to choose). Audited."""
    offered = kinds_for(actor)
    before = switched_off_kinds(session, actor)
    off = {kind for kind in offered if kind not in set(wanted)}
    if off == before & set(offered):
        return
    session.exec(delete(MailOptOut).where(
        col(MailOptOut.user_id) == actor.id, col(MailOptOut.kind).in_(offered)))
    for kind in sorted(off):
        session.add(MailOptOut(user_id=actor.id, kind=kind.value))
    session.flush()
    audit.record(session, actor=actor, action=EventTag.Account.NOTIFICATIONS,
                 object_type="user", object_id=actor.id,
                 before={"off": sorted(before)}, after={"off": sorted(off)})
