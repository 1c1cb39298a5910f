"""Scan figures of one batch, read straight from the ``scan`` table with SQL aggregates.

Access is the caller's business: pass a batch that ``catalog.services.get_batch`` returned.
"""

from __future__ import annotations

from sqlalchemy import case, func
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from registry.api.schemas import ScanFigures
from registry.catalog.models import Batch
from registry.verify.models import Scan
from registry.verify.rules import SUSPICIOUS_VALUES


def _counts(session: Session, batch_id: int, column: Mapped[str | None]) -> dict[str, int]:
    rows = session.exec(
        select(column, func.count()).where(Scan.batch_id == batch_id)
        .group_by(column).order_by(func.count().desc())
    ).all()
    return {str(key) if key is not None else "unknown": int(n) for key, n in rows}


def scan_figures(session: Session, batch: Batch) -> ScanFigures:
    total, first, last, suspicious = session.exec(
        select(
            func.count(),
            func.min(Scan.created_at),
            func.max(Scan.created_at),
            func.coalesce(func.sum(case((col(Scan.verdict).in_(SUSPICIOUS_VALUES), 1),
                                        else_=0)), 0),
        ).where(Scan.batch_id == batch.id)
    ).one()
    return ScanFigures(
        batch_id=batch.id, total=int(total), suspicious=int(suspicious), first_scan_at=first,
        last_scan_at=last,
        by_verdict=_counts(session, batch.id, col(Scan.verdict)),
        by_language=_counts(session, batch.id, col(Scan.language)),
        by_country=_counts(session, batch.id, col(Scan.country)),
    )
