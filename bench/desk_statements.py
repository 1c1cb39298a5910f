"""The desk's scan lists counted with their page (one statement, ``count(*) OVER ()``) or
counted apart (a count, then the page: two groupings), alternately in one run, best of 3.

Builds on ``bench/verify.py --keep DIR`` as ``bench/desk.py`` does (its ``fill``), at the
tenfold volume by default (300,000 not-genuine scans, 200,000 "possible copy" answers)::

    .venv/bin/python bench/desk_statements.py --reuse /tmp/bv
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import desk  # puts the repository on sys.path for the registry's imports below
import kept


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reuse", metavar="DIR", required=True)
    p.add_argument("--not-genuine", type=int, default=300_000)
    p.add_argument("--copies", type=int, default=200_000)
    args = p.parse_args()
    from sqlmodel import Session

    import registry.desk.services as services
    from registry.db import fetch_page, make_engine
    from registry.db.paging import Window

    def counted_apart(session: Session, statement: Any, window: Window,
                      count_ahead: int | None = None, **_: Any) -> Any:
        return fetch_page(session, statement, window, count_ahead)

    for db, url in kept.copies(Path(args.reuse), "desk",
                               lambda u: desk.fill(u, args.not_genuine, args.copies)):
        engine = make_engine(url)
        with Session(engine) as session:
            for name, scope in (("office NTB", services.DeskScope(province="52")),
                                ("administrators, everything",
                                 services.DeskScope(admin=True, everything=True))):
                best: dict[tuple[str, str], float] = {}
                for _round in range(3):
                    for mode, fetch in (("one statement", fetch_page),
                                        ("count apart", counted_apart)):
                        services.fetch_page = fetch  # type: ignore[assignment]
                        for listing in (services.copy_serials, services.scan_groups):
                            t = time.perf_counter()
                            listing(session, scope, Window(1, 25))
                            took = time.perf_counter() - t
                            key = (mode, listing.__name__)
                            best[key] = min(best.get(key, took), took)
                services.fetch_page = fetch_page
                for (mode, listing_name), took in sorted(best.items()):
                    print(f"{db:<11} {name:<27} {listing_name:<13} {mode:<14} "
                          f"{took * 1000:7.0f} ms", flush=True)
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
