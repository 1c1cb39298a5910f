#!/usr/bin/env python3
"""Build ``registry/reference/unlocode.csv`` from UNECE's UN/LOCODE code list (CSV edition).

Run by hand when a new release is taken (never at run time, never in the tests):

    python scripts/unlocode_from_unece.py "2023-1 UNLOCODE CodeListPart1.csv" \
        "2023-1 UNLOCODE CodeListPart2.csv" "2023-1 UNLOCODE CodeListPart3.csv"

Keeps every location whose function classifier has a seaport (``1`` at position 1) or an
airport (``4`` at position 4), leaves out the entries marked for deletion (Change ``X``) and
the country-name and reference rows (no Location). UNECE writes these files in Windows-1252
(ISO 8859-1 plus a few typographic characters such as ’ and œ); the output is UTF-8, one row a
code (a place's other names in ``other_names``, separated by "; "), sorted by
code. See SOURCES.md §4.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

# UNECE's CSV has no header row; these are its columns in order (the function classifier
# comes before the status, unlike some descriptions of the format).
COLUMNS = ("change", "country", "location", "name", "name_ascii", "subdivision", "function",
           "status", "date", "iata", "coordinates", "remarks")
OUTPUT = Path(__file__).resolve().parent.parent / "registry" / "reference" / "unlocode.csv"


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="cp1252") as fh:
        return [dict(zip(COLUMNS, (v.strip() for v in row), strict=False))
                for row in csv.reader(fh)]


def kept(row: dict[str, str]) -> bool:
    function = row.get("function", "").ljust(8, "-")
    return (bool(row.get("location")) and row.get("change") != "X"
            and (function[0] == "1" or function[3] == "4"))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="+", type=Path,
                        help="UNECE's 'UNLOCODE CodeListPart*.csv' files")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    places: dict[str, tuple[str, str, str]] = {}
    # A place with names in two languages is listed once a name under the same code
    # ("Helsingfors (Helsinki)", "Helsinki (Helsingfors)"): the first is its name, the others
    # are kept so the search finds it by any of them.
    other_names: dict[str, list[str]] = {}
    for part in args.parts:
        for row in rows(part):
            if kept(row):
                code = row["country"] + row["location"]
                if code in places:
                    other_names.setdefault(code, []).append(row["name"])
                    continue
                places[code] = (row["name"], row["country"], row["function"].ljust(8, "-"))
    with args.out.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["locode", "name", "country", "function", "other_names"])
        out.writerows([code, *places[code], "; ".join(other_names.get(code, ()))]
                      for code in sorted(places))
    print(f"{len(places)} ports and airports written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
