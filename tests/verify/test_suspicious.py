"""One meaning of "suspicious" (``registry.verify.rules.SUSPICIOUS``): the batch's scan figures
in the API and the dashboard count the same scans, the ones whose buyer was told "not genuine"
or "possible copy", and no other."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from conftest import World
from registry.api.scans import scan_figures
from registry.clock import REGION_TZ, utcnow
from registry.figures.queries import Filters, dashboard
from registry.verify.models import Scan
from registry.verify.rules import SUSPICIOUS, Verdict


def test_api_and_dashboard_count_the_same_suspicious_scans(db: Session, world: World) -> None:
    now = utcnow()
    for n, verdict in enumerate(Verdict):  # one scan of every verdict a page can give
        db.add(Scan(created_at=now - dt.timedelta(minutes=n), batch_id=world.batch_a.id,
                    gtin="0" * 14, lot="A-LOT-1", serial=str(n + 1), serial_number=n + 1,
                    verdict=verdict.value, language="en", client=f"{n:016d}"))
    db.commit()
    assert {v.value for v in SUSPICIOUS} == {"not_genuine", "possible_copy"}

    api = scan_figures(db, world.batch_a)
    month = now.astimezone(REGION_TZ).date().replace(day=1)
    figures = dashboard(db, world.admin, Filters(start=month, end=month))

    assert api.total == len(Verdict) and api.suspicious == 2
    assert figures.suspicious == {"not_genuine": 1, "possible_copy": 1}
    assert figures.suspicious_total == api.suspicious
