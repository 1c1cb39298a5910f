"""Pages of long lists (registry/db/paging.py): which rows a page shows and where its links go.

Unit tests without the app; the API's paging over real lists is in tests/api/test_paging.py.
"""

from __future__ import annotations

import dataclasses

import pytest

from registry.db.paging import PER_PAGE, Page, Window, window_from


def page(number: int, total: int, size: int = 10) -> Page[int]:
    """Page ``number`` of a list of ``total`` items, holding the items a database would give."""
    window = Window(number, size)
    items = list(range(window.offset + 1, min(total, window.offset + size) + 1))
    return Page(items, total, window)


def test_a_page_shows_fifty_rows_unless_told_otherwise() -> None:
    assert PER_PAGE == 50
    assert Window() == Window(1, 50)
    assert window_from("2").size == 50
    assert window_from("2", size=20) == Window(2, 20)


@pytest.mark.parametrize(("number", "size"), [(0, 10), (-1, 10), (1, 0), (1, -5), (0, 0)])
def test_windows_start_at_one(number: int, size: int) -> None:
    with pytest.raises(ValueError, match="start at 1"):
        Window(number, size)


def test_the_smallest_window_is_allowed() -> None:
    assert Window(1, 1).offset == 0


@pytest.mark.parametrize(("number", "size", "offset"), [(1, 20, 0), (2, 20, 20), (3, 20, 40),
                                                        (7, 1, 6), (2, 50, 50)])
def test_offset_skips_the_pages_before(number: int, size: int, offset: int) -> None:
    assert Window(number, size).offset == offset


@pytest.mark.parametrize(("total", "last"), [(0, 1), (1, 1), (9, 1), (10, 1), (11, 2), (20, 2),
                                             (21, 3), (95, 10)])
def test_the_last_page_counts_a_partial_page(total: int, last: int) -> None:
    assert page(1, total).last == last


def test_links_from_the_first_middle_and_last_page() -> None:
    first, middle, last = page(1, 25), page(2, 25), page(3, 25)
    assert (first.previous, first.next) == (None, 2)
    assert (middle.previous, middle.next) == (1, 3)
    assert (last.previous, last.next) == (2, None)
    assert (first.number, middle.number, last.number) == (1, 2, 3)


def test_a_single_page_links_nowhere() -> None:
    only = page(1, 7)
    assert (only.previous, only.next, only.last) == (None, None, 1)


def test_past_the_end_leads_back_to_the_last_page() -> None:
    # A bookmark of page 9 after the list shrank to three pages: "previous" goes to page 3.
    beyond = page(9, 25)
    assert beyond.items == [] and beyond.first_item == 0
    assert (beyond.previous, beyond.next, beyond.last) == (3, None, 3)
    # Just past the end too: page 4 of three leads back to 3, not to itself.
    assert page(4, 25).previous == 3


@pytest.mark.parametrize(("number", "total", "first_item", "last_item"), [
    (1, 25, 1, 10), (2, 25, 11, 20), (3, 25, 21, 25), (1, 0, 0, 0)])
def test_showing_items_m_to_n(number: int, total: int, first_item: int, last_item: int) -> None:
    shown = page(number, total)
    assert (shown.first_item, shown.last_item) == (first_item, last_item)


@pytest.mark.parametrize(("number", "size", "first_item", "last_item"), [
    (3, 1, 3, 3), (2, 3, 4, 6), (2, 5, 6, 10), (4, 3, 10, 11)])
def test_showing_items_on_odd_sized_pages(number: int, size: int, first_item: int,
                                          last_item: int) -> None:
    shown = page(number, 11, size=size)
    assert (shown.first_item, shown.last_item) == (first_item, last_item)


def test_a_window_cannot_be_changed_after_it_was_checked() -> None:
    window = window_from("3")
    with pytest.raises(dataclasses.FrozenInstanceError):
        window.number = 0  # type: ignore[misc]
    shown = page(1, 5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        shown.total = 0  # type: ignore[misc]


@pytest.mark.parametrize(("value", "number"), [
    (None, 1), ("", 1), ("1", 1), ("7", 7), (" 3 ", 3), ("abc", 1), ("2.5", 1), ("0", 1),
    ("-3", 1), ("100000", 100_000), ("100001", 100_000), ("99999999999999999999", 100_000)])
def test_a_page_from_the_url(value: str | None, number: int) -> None:
    assert window_from(value) == Window(number, PER_PAGE)


def test_the_url_page_is_capped_at_most() -> None:
    assert window_from("9", most=5).number == 5
    assert window_from("5", most=5).number == 5
    assert window_from("4", most=5).number == 4
