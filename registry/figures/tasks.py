"""The figures' minute sweep: scans into the summary cells (``summary.roll_up_scans``)."""

from __future__ import annotations

from sqlmodel import Session

from registry.figures import summary
from registry.queue import every_minute
from registry.web.database import engine


@every_minute
def roll_up_scans() -> None:
    """Add the settled scans to the cells, so the dashboard's live tail stays a few minutes
    of scans however long the registry runs."""
    with Session(engine(), expire_on_commit=False) as session:
        summary.roll_up_scans(session)
        session.commit()
