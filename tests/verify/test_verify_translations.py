"""The verification page speaks Chinese and Japanese: every string it shows is translated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.support import Translations

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "registry" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")
# Shown on the page through filters rather than from registry/verify itself.
ALSO_ON_THE_PAGE = {"Origin", "Best before", "Lot code", "Exporter", "Destination",
                    "Phytosanitary certificate", "Halal certificate", "Organic certificate",
                    "Certificate of origin", "Laboratory results", "Other document", "kg",
                    "tonnes", "litres", "pieces"}


def _read(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def _page_strings() -> set[str]:
    pot = _read(TRANSLATIONS / "messages.pot")
    return {str(m.id) for m in pot if m.id and any(
        name.startswith(("templates/verify/", "registry/verify/")) for name, _ in m.locations)
    } | ALSO_ON_THE_PAGE


@pytest.mark.parametrize("lang", ["zh", "ja"])
def test_verification_page_strings_are_translated(lang: str) -> None:
    po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    catalog = _read(po)
    wanted = _page_strings()
    assert len(wanted) > 40
    missing = sorted(s for s in wanted if not catalog.get(s) or not catalog.get(s).string)
    assert not missing, f"{lang}: untranslated on the verification page: {missing}"
    fuzzy = sorted(s for s in wanted if catalog.get(s) and catalog.get(s).fuzzy)
    assert not fuzzy, fuzzy
    for s in wanted:
        message = catalog.get(s)
        assert set(PLACEHOLDER.findall(s)) == set(PLACEHOLDER.findall(str(message.string))), s
    with (po.with_suffix(".mo")).open("rb") as fh:
        compiled = Translations(fh)
    stale = [s for s in wanted if compiled.gettext(s) != catalog.get(s).string]
    assert not stale, f"{lang}: messages.mo is out of date, run `pybabel compile`: {stale}"
