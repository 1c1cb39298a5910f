"""The suspicious-activity desk and the sweep's signals look at the few scans that were not
genuine answers; the genuine ones (nearly every scan) must not make them slower.

At 1 M scans, the administrators' desk (scans attributed to nobody) took 3.4 s on SQLite:
``province_code IS NULL`` holds for every scan of a batch, and the desk walked all of them in
``ix_scan_desk_province`` to find the few without a batch. Here the work each query does is
counted, with few and with ten times more genuine scans: SQLite's virtual-machine steps (its
progress handler) on SQLite, PostgreSQL's buffers (``EXPLAIN (ANALYZE, BUFFERS)``) there. Both
are counts of work, not times: they do not move with the machine's load.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, insert
from sqlmodel import Session

from conftest import World
from registry.db.paging import Window
from registry.desk import services as desk
from registry.notifications import services as notices
from registry.verify.attribution import Kind
from registry.verify.models import Scan
from registry.verify.rules import Verdict

NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)


def scan(world: World, n: int, *, verdict: str = Verdict.GENUINE.value, batch: bool = True,
         province: str | None = None, organisation: int | None = None,
         kind: str | None = None, at: dt.datetime | None = None) -> dict[str, Any]:
    b = world.batch_a
    return {"created_at": at or NOW - dt.timedelta(minutes=n % 40_000),
            "batch_id": b.id if batch else None, "gtin": "09501101530003",
            "lot": b.lot_code, "serial": str(n), "serial_number": n, "verdict": verdict,
            "language": "id", "country": "ID", "country_source": "header", "mobile": True,
            "client": f"{n % 997:016x}", "product_id": None if batch else world.product_a.id,
            "organisation_id": organisation, "province_code": province, "kind": kind}


def genuine(world: World, first: int, count: int) -> list[dict[str, Any]]:
    return [scan(world, n) for n in range(first, first + count)]


def suspicious(world: World) -> list[dict[str, Any]]:
    """What the desks show: not-genuine scans for the office of NTB and company A, for
    nobody (the administrators), and "possible copy" answers on a batch of company A."""
    company = world.company_a.id
    return [
        *[scan(world, 10 + n, verdict="not_genuine", batch=False, province="52",
               organisation=company, kind=Kind.BAD_SIGNATURE.value) for n in range(3)],
        *[scan(world, 20 + n, verdict="not_genuine", batch=False, kind=Kind.OTHER.value)
          for n in range(2)],
        *[scan(world, 30 + n % 2, verdict=Verdict.POSSIBLE_COPY.value,
               at=NOW - dt.timedelta(minutes=n + 1)) for n in range(4)],
    ]


Work = Callable[[Callable[[], Any]], int]


@pytest.fixture
def work(app: Flask, db: Session) -> tuple[Work, int]:
    """The work ``query`` makes the database do: SQLite's VM steps, PostgreSQL's buffers;
    with what a query may add for a few more rows' results or a deeper index (the slack)."""
    engine = app.extensions["engine"]
    if engine.dialect.name == "sqlite":
        def sqlite_steps(query: Callable[[], Any]) -> int:
            raw = db.connection().connection.driver_connection
            steps = [0]

            def count() -> int:
                steps[0] += 1
                return 0

            raw.set_progress_handler(count, 100)
            try:
                query()
            finally:
                raw.set_progress_handler(None, 0)
            return steps[0] * 100
        return sqlite_steps, 2_000

    def pg_buffers(query: Callable[[], Any]) -> int:
        sent: list[tuple[str, Any]] = []

        def keep(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                sent.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", keep)
        try:
            query()
        finally:
            event.remove(engine, "before_cursor_execute", keep)
        total = 0
        for statement, parameters in sent:
            plan = db.connection().exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters).scalar()
            root = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
            total += root.get("Shared Hit Blocks", 0) + root.get("Shared Read Blocks", 0)
        return total
    return pg_buffers, 20


def scopes(world: World) -> dict[str, desk.DeskScope]:
    return {"administrators": desk.DeskScope(admin=True),
            "administrators, everything": desk.DeskScope(admin=True, everything=True),
            "office NTB": desk.DeskScope(province="52"),
            "company A": desk.DeskScope(organisation_id=world.company_a.id)}


def desk_lists(db: Session, world: World, since: dt.datetime | None
               ) -> Iterator[tuple[str, Callable[[], Any]]]:
    """The desk's two scan lists, as each desk shows them looking back from ``since`` (None:
    all time)."""
    for name, scope in scopes(world).items():
        yield (f"not-genuine scans, {name}",
               lambda s=scope: desk.scan_groups(db, s, Window(1, 25), since))
        yield (f"possible copies, {name}",
               lambda s=scope: desk.copy_serials(db, s, Window(1, 25), since))


def queries(db: Session, world: World) -> Iterator[tuple[str, Callable[[], Any]]]:
    yield from desk_lists(db, world, None)
    yield ("digest of NTB", lambda: notices.digest(db, "52", NOW - dt.timedelta(days=1), NOW))
    yield ("copy signals today", lambda: _rolled_back(db, lambda: notices.copy_signals(db, NOW)))


def _rolled_back(db: Session, query: Callable[[], Any]) -> Any:
    with db.begin_nested() as savepoint:
        result = query()
        savepoint.rollback()
    return result


def answers(db: Session, world: World) -> dict[str, Any]:
    return {name: _plain(query()) for name, query in queries(db, world)}


def _plain(result: Any) -> Any:
    return ([(vars(i) if hasattr(i, "__dict__") else i) for i in result.items], result.total
            ) if hasattr(result, "items") else result


def settle(db: Session) -> None:
    """PostgreSQL plans from statistics: gathered, as autovacuum would after such a load."""
    if db.get_bind().dialect.name == "postgresql":
        db.connection().exec_driver_sql("ANALYZE scan")


def test_genuine_scans_do_not_slow_the_desk_or_the_signals(
        app: Flask, db: Session, world: World, work: tuple[Work, int]) -> None:
    measure, slack = work
    db.connection().execute(insert(Scan), suspicious(world))
    db.connection().execute(insert(Scan), genuine(world, 1_000, 1_000))
    settle(db)
    before = answers(db, world)
    assert before["not-genuine scans, administrators"][1] == 1
    assert before["not-genuine scans, office NTB"][1] == 1
    assert before["possible copies, company A"][1] == 2
    assert before["digest of NTB"].not_genuine == 3 and before["digest of NTB"].copies == 4
    few = {name: measure(query) for name, query in queries(db, world)}

    db.connection().execute(insert(Scan), genuine(world, 100_000, 10_000))
    settle(db)
    assert answers(db, world) == before
    many = {name: measure(query) for name, query in queries(db, world)}
    grew = {name: (few[name], many[name]) for name in few
            if many[name] > 2 * few[name] + slack}
    assert not grew, f"work grew with the genuine scans (1,000 → 11,000): {grew}"


def test_a_desk_page_groups_once_and_the_pages_cover_the_list(
        app: Flask, db: Session, world: World) -> None:
    """The copy list groups every "possible copy" answer of its scope before it knows its
    first row, so its page carries its count (one statement, not a count and then the page),
    and paging still shows each serial once."""
    db.connection().execute(insert(Scan), [
        scan(world, serial, verdict=Verdict.POSSIBLE_COPY.value,
             at=NOW - dt.timedelta(minutes=serial + repeat))
        for serial in range(1, 61) for repeat in range(2)])
    settle(db)
    engine = app.extensions["engine"]
    groupings: list[str] = []

    def keep(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if "GROUP BY scan.batch_id, batch.lot_code" in statement:
            groupings.append(statement)

    scope = desk.DeskScope(province="52")
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", keep)
    try:
        for number in (1, 2, 3):
            groupings.clear()
            page = desk.copy_serials(db, scope, Window(number, 25))
            assert len(groupings) == 1, groupings
            assert page.total == 60 and page.last == 3
            seen += [item.serial for item in page.items]
            assert all(item.copies == 2 for item in page.items)
        past = desk.copy_serials(db, scope, Window(4, 25))
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    # Newest first: serial 1 was told last.
    assert seen == [str(n) for n in range(1, 61)]
    assert past.items == [] and past.total == 60


def old_suspicious(world: World, count: int) -> list[dict[str, Any]]:
    """``count`` suspicious scans of each kind the desks list, all of them a year old."""
    year_ago = NOW - dt.timedelta(days=365)
    company = world.company_a.id
    rows = []
    for n in range(count):
        at = year_ago - dt.timedelta(minutes=n)
        rows += [
            scan(world, 300_000 + n, verdict="not_genuine", batch=False, province="52",
                 organisation=company, kind=Kind.BAD_SIGNATURE.value, at=at),
            scan(world, 400_000 + n, verdict="not_genuine", batch=False,
                 kind=Kind.OTHER.value, at=at),
            scan(world, 500_000 + n, verdict=Verdict.POSSIBLE_COPY.value, at=at)]
    return rows


def test_a_desk_looking_back_a_period_does_not_slow_with_older_suspicious_scans(
        app: Flask, db: Session, world: World, work: tuple[Work, int]) -> None:
    """The desk looks back a quarter by default (registry.desk.rules): a year of older fakes
    and copies must not make its lists slower. Looking back over all time, they do: that is
    what the period bounds (and shows that the measure sees it)."""
    measure, slack = work
    quarter = NOW - dt.timedelta(days=90)
    db.connection().execute(insert(Scan), suspicious(world))
    db.connection().execute(insert(Scan), old_suspicious(world, 300))
    settle(db)
    before = {name: _plain(query()) for name, query in desk_lists(db, world, quarter)}
    assert before["possible copies, office NTB"][1] == 2
    assert before["not-genuine scans, administrators"][1] == 1
    few = {name: measure(query) for name, query in desk_lists(db, world, quarter)}
    ever = {name: measure(query) for name, query in desk_lists(db, world, None)}

    db.connection().execute(insert(Scan), old_suspicious(world, 3_000)[900:])
    settle(db)
    assert {name: _plain(query()) for name, query
            in desk_lists(db, world, quarter)} == before
    many = {name: measure(query) for name, query in desk_lists(db, world, quarter)}
    grew = {name: (few[name], many[name]) for name in few
            if many[name] > 2 * few[name] + slack}
    assert not grew, f"work grew with older suspicious scans (300 → 3,000 a kind): {grew}"
    ever_after = {name: measure(query) for name, query in desk_lists(db, world, None)}
    assert ever_after["possible copies, office NTB"] > 4 * ever["possible copies, office NTB"]
