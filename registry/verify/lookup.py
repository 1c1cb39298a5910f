"""Everything a label's verification needs, in one SQL statement on a DB-API connection.

Every scan of every package lands here, so the lookup is written for that: one round trip
(on PostgreSQL each one costs more than the work inside it), no ORM objects, and statement text
that never changes so both databases keep it prepared. Decisions, public documents, confirmed
shipments and plots come with the batch row (``verify_facts``, one JSON array kept by
``facts.py``); the printed range and the serial's scan counts ride along from two index probes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from registry.gs1 import digital_link as gs1
from registry.verify.rules import ScanStats

# The statement, with the few spellings that differ between SQLite and PostgreSQL filled in.
# The batch's decisions, public documents, confirmed shipments and plots come with its row
# (``verify_facts``, kept by registry/verify/facts.py): four subqueries fewer on every scan.
_SQL = """
SELECT b.id AS batch_id, b.version, b.status, b.valid_until, b.quantity, b.unit,
       b.production_date, b.best_before, b.origin_regency_code, b.origin_province_code,
       b.producer, b.hub, b.destination_country, b.lot_code AS lot,
       b.product_id, b.product_name_en AS name_en, b.product_name_id AS name_id,
       b.product_category AS category, b.product_hs_code AS hs_code,
       b.product_photo IS NOT NULL AS has_photo, o.name AS exporter,
       EXISTS (SELECT 1 FROM print_job j WHERE j.batch_id = b.id
               AND j.serial_first <= :serial AND j.serial_last >= :serial) AS printed,
       b.verify_facts AS facts,
       (SELECT {arr}(count(*), count(DISTINCT CASE WHEN s.created_at >= :day_start
                                                 THEN s.client END),
                     count(CASE WHEN s.created_at >= :since THEN 1 END),
                     count(CASE WHEN s.client = :client THEN 1 END))
          FROM scan s WHERE s.batch_id = b.id AND s.serial_number = :serial) AS scans
  FROM batch b
  LEFT JOIN organisation o ON o.id = b.organisation_id
 WHERE b.gtin = :gtin AND b.lot_code = :lot AND b.status <> 'draft'
 ORDER BY b.id
 LIMIT 1
"""
_DIALECT = {"sqlite": {"arr": "json_array"}, "postgresql": {"arr": "json_build_array"}}
# A label whose signature is good under a revoked key is the registry's only if the registry
# signed this serial under that key before the revocation's effective time (issue 12 §1).
_SIGNED_BEFORE_SQL = """
SELECT 1 FROM batch b
  JOIN print_job j ON j.batch_id = b.id
  JOIN label_signature ls ON ls.job_id = j.id AND ls.kid = :kid
  JOIN signing_key k ON k.kid = ls.kid
 WHERE b.gtin = :gtin AND b.lot_code = :lot
   AND j.serial_first <= :serial AND j.serial_last >= :serial
   AND k.revoked_from IS NOT NULL AND ls.first_signed_at < k.revoked_from
 LIMIT 1
"""
_SEEN_SQL = ("SELECT DISTINCT client FROM scan WHERE batch_id = :batch_id "
             "AND serial_number = :serial AND client IN ({clients})")


def _paramstyle(sql: str, dialect: str) -> str:
    """``:name`` parameters (sqlite3) as psycopg's ``%(name)s``."""
    return sql if dialect == "sqlite" else re.sub(r":(\w+)", r"%(\1)s", sql)


def _statement(dialect: str) -> str:
    return _paramstyle(_SQL.format(**_DIALECT[dialect]), dialect)


# The batch is found by the GTIN and product facts frozen with it at submission (0010), never
# through the live product: what the office certified is what the buyer sees, whatever the
# product's record says today. Drafts carry no frozen GTIN; ``ORDER BY`` only decides between
# batches whose GTIN was shared by two companies before GTINs became unique (see 0010).
STATEMENTS = {dialect: _statement(dialect) for dialect in _DIALECT}
# The statement's column names (its aliases), by dialect; rows are read by name.
_COLUMNS: dict[str, tuple[str, ...]] = {}


@dataclass(frozen=True, slots=True)
class DecisionRow:
    id: int
    action: str
    day: dt.date
    office: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class DocumentRow:
    id: int
    kind: str
    sha256: str
    uploaded_at: str
    # A certificate's facts (issue 18 §2); None for plain documents.
    number: str | None = None
    issuer: str | None = None
    issued_on: dt.date | None = None
    expires_on: dt.date | None = None
    form_type: str | None = None
    scheme: str | None = None


@dataclass(frozen=True, slots=True)
class ShipmentRow:
    """A shipment the Bali office confirmed: it passed ``hub`` on ``passage_date``."""

    id: int
    hub: str
    passage_date: dt.date
    destination_locode: str


@dataclass(frozen=True, slots=True)
class Facts:
    """A batch's kept verification facts (``batch.verify_facts``, facts.py), read: what the
    label's page and the lot's walk-up page both show besides the batch's own columns."""

    decisions: list[DecisionRow]
    documents: list[DocumentRow]
    shipments: list[ShipmentRow]
    has_plots: bool

    def latest(self, action: str) -> DecisionRow | None:
        """The latest decision of ``action`` (by WITA day, then id)."""
        rows = [d for d in self.decisions if d.action == action]
        return max(rows, key=lambda d: (d.day, d.id)) if rows else None


@dataclass(frozen=True, slots=True)
class LabelRow:
    """The batch behind a label code, whether this serial was printed, and its scans so far."""

    batch_id: int
    version: int
    status: str
    valid_until: dt.date | None
    quantity: Decimal
    unit: str
    production_date: dt.date
    best_before: dt.date | None
    origin_regency_code: str
    origin_province_code: str
    producer: str
    hub: str
    destination_country: str
    lot: str
    product_id: int
    name_en: str
    name_id: str
    category: str
    hs_code: str
    has_photo: bool
    exporter: str
    printed: bool
    # Decisions, public documents, confirmed shipments and whether production plots are on
    # record (EU due diligence; where they are is never read here): the batch row's kept facts.
    facts: Facts = field(default_factory=lambda: Facts([], [], [], has_plots=False))
    stats: ScanStats = field(default_factory=ScanStats)


_MILLI = Decimal("0.001")
# A batch whose facts the hook never had cause to fill (NULL: no decisions, documents,
# shipments or plots yet; see facts.py).
_NO_FACTS = (None, None, None, False)


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _json(value: Any) -> list[Any]:
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str) else value


def read_facts(value: Any) -> Facts:
    """``batch.verify_facts`` (JSON text, or already decoded) as rows, in the order the pages
    list them."""
    decisions, documents, shipments, has_plots = _json(value) or _NO_FACTS
    return Facts(
        decisions=[DecisionRow(i, a, _date(d) or dt.date.min, office, reason)
                   for i, a, d, office, reason in decisions or ()],
        documents=sorted((DocumentRow(i, k, h, str(u), n, issuer, _date(on), _date(until), f, sc)
                          for i, k, h, u, n, issuer, on, until, f, sc
                          in documents or ()),
                         key=lambda d: (d.uploaded_at, d.id)),
        shipments=sorted((ShipmentRow(i, h, _date(d) or dt.date.min, code)
                          for i, h, d, code in shipments or ()),
                         key=lambda s: (s.passage_date, s.id)),
        has_plots=bool(has_plots))


def dialect_of(connection: Any) -> str:
    return "sqlite" if type(connection).__module__.startswith("sqlite3") else "postgresql"


def _since_param(dialect: str, since: dt.datetime) -> Any:
    # Whole seconds are precise enough for an hour's window, and let the text be reused.
    return _since_text(since.replace(microsecond=0)) if dialect == "sqlite" else since


@lru_cache(maxsize=4)
def _since_text(since: dt.datetime) -> str:
    # SQLite holds timestamps as naive UTC text in SQLAlchemy's format; compare like with like.
    return since.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def find(connection: Any, link: gs1.DigitalLink, *, since: dt.datetime, client: str,
         pending_clients: tuple[str, ...] = (), day_start: dt.datetime | None = None
         ) -> LabelRow | None:
    """The label's batch and scan counts, counting this scan and ``pending_clients`` (the
    client of each scan still in the write buffer) as well; ``None`` when no batch has this
    GTIN and lot.

    Distinct clients are counted from ``day_start`` on (default: ``since``): a client hash
    changes every day, so one buyer scanning on six days would otherwise be six clients."""
    dialect = dialect_of(connection)
    # A parsed link's GTIN is already checked and 14 digits long.
    serial = link.serial_number
    params = {"gtin": link.gtin, "lot": link.lot, "serial": -1 if serial is None else serial,
              "since": _since_param(dialect, since), "client": client,
              "day_start": _since_param(dialect, day_start or since)}
    cursor = connection.cursor()
    try:
        cursor.execute(STATEMENTS[dialect], params)
        found = cursor.fetchone()
        if found is None:
            return None
        names = _COLUMNS.get(dialect)
        if names is None:  # read once per dialect: the statement's text never changes
            names = _COLUMNS[dialect] = tuple(column[0] for column in cursor.description)
        row = dict(zip(names, found, strict=True))
        total, clients, recent, this_seen = _json(row["scans"])
        extra = set(pending_clients) - {client}
        seen = set()
        if extra and serial is not None:
            seen = _seen(cursor, dialect, row["batch_id"], serial, extra)
        # This scan and the buffered ones are not in the table yet: count them as written.
        stats = ScanStats(
            total=total + len(pending_clients) + 1,
            distinct_clients=clients + (0 if this_seen else 1) + len(extra - seen),
            in_window=recent + len(pending_clients) + 1,
        ) if serial is not None else ScanStats()
    finally:
        cursor.close()
    return LabelRow(
        batch_id=row["batch_id"], version=row["version"], status=row["status"],
        valid_until=_date(row["valid_until"]),
        quantity=Decimal(str(row["quantity"])).quantize(_MILLI), unit=row["unit"],
        production_date=_date(row["production_date"]) or dt.date.min,
        best_before=_date(row["best_before"]),
        origin_regency_code=row["origin_regency_code"],
        origin_province_code=row["origin_province_code"], producer=row["producer"],
        hub=row["hub"], destination_country=row["destination_country"], lot=row["lot"],
        product_id=row["product_id"], name_en=row["name_en"], name_id=row["name_id"],
        category=row["category"], hs_code=row["hs_code"], has_photo=bool(row["has_photo"]),
        exporter=row["exporter"] or "", printed=bool(row["printed"]),
        facts=read_facts(row["facts"]), stats=stats,
    )


def signed_before_revocation(connection: Any, link: gs1.DigitalLink) -> bool:
    """Whether the registry signed ``link``'s serial under its (revoked) key before the key's
    effective revocation time. Asked only on that rare path, never on a genuine scan."""
    serial = link.serial_number
    if serial is None or link.key_id is None:
        return False
    cursor = connection.cursor()
    try:
        cursor.execute(_paramstyle(_SIGNED_BEFORE_SQL, dialect_of(connection)),
                       {"kid": link.key_id, "gtin": link.gtin, "lot": link.lot,
                        "serial": serial})
        return cursor.fetchone() is not None
    finally:
        cursor.close()


def _seen(cursor: Any, dialect: str, batch_id: int, serial: int, clients: set[str]) -> set[str]:
    names = [f"c{n}" for n in range(len(clients))]
    marks = ", ".join(f":{n}" if dialect == "sqlite" else f"%({n})s" for n in names)
    sql = _SEEN_SQL.format(clients=marks)
    if dialect != "sqlite":
        sql = re.sub(r":(batch_id|serial)\b", r"%(\1)s", sql)
    params = {"batch_id": batch_id, "serial": serial, **dict(zip(names, clients, strict=True))}
    cursor.execute(sql, params)
    return {r[0] for r in cursor.fetchall()}
