"""The HS 2022 list (registry/reference/hs_codes.csv): integrity of the data, and the search
by code and words (registry/reference/hs_search.py). No app."""

from __future__ import annotations

import csv
import re

import pytest

from registry.reference import HERE, hs_codes, typical_hs_codes
from registry.reference.hs_search import code_of, fold, search

# The region's typical codes, as the list held them before it was the whole nomenclature.
TYPICAL = [
    "090111", "090112", "090121", "090122", "040900", "710121", "710122", "121221", "121229",
    "080131", "080132", "120799", "080299", "090510", "090520", "180100", "090710", "090720",
    "121299", "121190", "030231", "030232", "030233", "030234", "030239", "030341", "030342",
    "030343", "030344", "030349", "030487", "160414", "030199", "030289", "030389", "030631",
    "030611", "030811", "030812", "030819", "010221", "010229", "020110", "020120", "020130",
    "020210", "020220", "020230", "250100", "520841", "520842", "520849", "520941", "520949",
    "621490", "442011", "442019", "442090", "441920", "442199", "460211", "460212", "460219",
    "711311", "711411",
]


def rows() -> list[dict[str, str]]:
    with (HERE / "hs_codes.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_code_is_six_digits_and_unique() -> None:
    codes = [row["code"] for row in rows()]
    assert all(re.fullmatch(r"[0-9]{6}", code) for code in codes)
    assert len(codes) == len(set(codes))
    assert codes == sorted(codes)


def test_the_whole_nomenclature_is_there() -> None:
    codes = hs_codes()
    assert len(codes) >= 5000
    # Subheadings new in HS 2022 (so the list is not an older edition) and the examples.
    for code in ("442011", "080291", "240411", "030559", "151311", "200819", "090411",
                 "090611", "691200"):
        assert code in codes, code
    # Subheadings HS 2022 deleted.
    for code in ("442010", "080290"):
        assert code not in codes, code


def test_every_code_has_english_text() -> None:
    assert all(hs.description.strip() for hs in hs_codes().values())


def test_the_typical_codes_are_present_and_flagged() -> None:
    assert len(TYPICAL) == 65
    assert {hs.code for hs in typical_hs_codes()} == set(TYPICAL)
    assert all(hs_codes()[code].typical for code in TYPICAL)
    # ... with their product named in both languages (the figures' chapter labels read it)
    # and Indonesian text.
    assert all(hs_codes()[code].product and hs_codes()[code].product_id
               and hs_codes()[code].description_id for code in TYPICAL)


def test_a_reader_gets_indonesian_where_there_is_some_and_english_otherwise() -> None:
    dried_fish, ginseng = hs_codes()["030559"], hs_codes()["121120"]
    assert dried_fish.description_in("id").startswith("Ikan lainnya")
    assert dried_fish.description_in("en").startswith("Fish; dried")
    assert dried_fish.description_in("zh") == dried_fish.description
    assert not ginseng.description_id
    assert ginseng.description_in("id") == ginseng.description
    assert not ginseng.has_text_in("id") and ginseng.has_text_in("en")


@pytest.mark.parametrize("written", ["030559", "0305.59", "0305 59", " 0305.59 "])
def test_a_code_is_read_however_it_is_written(written: str) -> None:
    assert code_of(written) == "030559"


@pytest.mark.parametrize("written", ["", "0305", "0305.5", "999999", "ikan", "0305599"])
def test_what_is_not_a_subheading_is_no_code(written: str) -> None:
    assert code_of(written) is None


def test_a_code_or_its_beginning_finds_the_subheadings_under_it() -> None:
    assert [hs.code for hs in search("0305.59").items] == ["030559"]
    heading = search("0305")
    assert heading.total == 22 and all(hs.code.startswith("0305") for hs in heading.items)


@pytest.mark.parametrize(("query", "code"), [
    ("ikan kering", "030559"), ("dried fish", "030559"), ("IKAN Kering", "030559"),
    ("kelapa", "151311"), ("minyak kelapa", "151311"), ("coconut oil", "151311"),
    ("kacang", "200819"), ("lada", "090411"), ("kayu manis", "090611"),
    ("keramik", "691200"), ("ceramic tableware", "691200"), ("rumput laut", "121221"),
])
def test_words_in_indonesian_or_english_find_the_code(query: str, code: str) -> None:
    assert code in {hs.code for hs in search(query, limit=100).items}


def test_every_word_must_match() -> None:
    assert {hs.code for hs in search("kayu manis").items} == {"090611", "090619", "090620"}
    assert search("ikan kering zzzz").total == 0


def test_the_typical_codes_come_first() -> None:
    found = search("ikan", limit=200).items
    flags = [hs.typical for hs in found]
    assert flags[0] and not flags[-1]
    assert flags == sorted(flags, reverse=True)


def test_an_indonesian_word_is_not_the_beginning_of_an_english_one() -> None:
    # "mete" (cashew) is not "metal" or "meters".
    assert {hs.code for hs in search("mete").items} == {"080131", "080132"}


def test_accents_and_case_do_not_matter() -> None:
    assert fold("Kópi ÉSPRESSO") == "kopi espresso"
    assert [hs.code for hs in search("Kópi").items] == [hs.code for hs in search("kopi").items]


@pytest.mark.parametrize("query", ["", "   ", "dan atau", "%%%", "x" * 5000])
def test_empty_or_odd_queries_find_nothing_and_do_not_fail(query: str) -> None:
    assert search(query).total == 0
