"""Pages of long lists. A province's decided batches run into the hundreds of thousands, so
lists are counted and cut in SQL (``registry.db.fetch_page``): no request loads a whole list to
show fifty rows. No Flask, no database here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

PER_PAGE = 50


@dataclass(frozen=True)
class Window:
    """Which page of a list, and how long a page is."""

    number: int = 1
    size: int = PER_PAGE

    def __post_init__(self) -> None:
        if self.number < 1 or self.size < 1:
            raise ValueError("page number and size start at 1")

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    window: Window
    # ``total`` is a floor, and more rows follow: the list was counted only so far ahead of
    # this page (``fetch_page``'s ``count_ahead``), as counting all of it would cost too much.
    more: bool = False

    @property
    def number(self) -> int:
        return self.window.number

    @property
    def last(self) -> int:
        """The last page's number (1 for an empty list)."""
        return max(1, -(-self.total // self.window.size))

    @property
    def previous(self) -> int | None:
        """The page before this one; past the end, the last page."""
        return min(self.number - 1, self.last) if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.last else None

    @property
    def first_item(self) -> int:
        """Position of the page's first item in the whole list, from 1 (0 when empty)."""
        return self.window.offset + 1 if self.items else 0

    @property
    def last_item(self) -> int:
        return self.window.offset + len(self.items)


def window_from(value: str | None, size: int = PER_PAGE, most: int = 100_000) -> Window:
    """The window for a ``?page=`` value from a URL; anything unusable is page 1."""
    try:
        number = int(value or 1)
    except ValueError:
        number = 1
    return Window(min(max(number, 1), most), size)
