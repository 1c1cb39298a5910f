"""Text fitting (registry/printing/render/text.py): the largest size that holds the text whole,
breaks between words before breaks after dashes or inside words, an ellipsis only as the last
resort, and never a glyph outside the box. Exact cases with a monospaced stand-in font whose
figures can be worked out by hand; properties with the shipped DejaVu Sans."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from registry.printing.render.fonts import Face, font_face
from registry.printing.render.label import LabelData
from registry.printing.render.text import (
    ELLIPSIS,
    clean_text,
    element_text,
    fit_lines,
    fit_text,
    overflowing,
)
from registry.printing.stocks import Box, TextElement, TextStyle, load_stocks

STOCKS = load_stocks()
FACE = font_face(STOCKS["a4-3x7"].fonts["regular"])


class Mono:
    """Every character half an em wide; a line is exactly one em high (0.8 up, 0.2 down).
    So at size s a character is s / 2 points wide and a line of n pitches 1.2 s."""

    ascent, descent = 0.8, 0.2

    def width(self, text: str) -> float:
        return 500.0 * len(text)


MONO: Face = Mono()  # type: ignore[assignment]


def style(size_max: float = 10.0, size_min: float = 5.0, max_lines: int = 2) -> TextStyle:
    return TextStyle("regular", size_max, size_min, max_lines, "left", "", 1.2)


def test_text_that_fits_keeps_the_largest_size() -> None:
    assert fit_lines(MONO, "aaaa", style(), 50.0, 10.0) == (10.0, ["aaaa"])


def test_empty_text_takes_no_line() -> None:
    assert fit_lines(MONO, "", style(), 50.0, 10.0) == (10.0, [])


def test_wraps_between_words_when_the_box_has_room_for_lines() -> None:
    # 10 characters a line at 10 pt; two lines need 10 + 12 = 22 pt.
    assert fit_lines(MONO, "aaaa bbbb cccc", style(), 50.0, 22.0) == (
        10.0, ["aaaa bbbb", "cccc"])


def test_shrinks_to_one_line_when_the_box_holds_only_one() -> None:
    # 15 pt holds one line down to 6.82 pt; 14 characters in 50 pt need a size ≤ 7.14 pt,
    # tried in 0.25 pt steps down from 10.
    assert fit_lines(MONO, "aaaa bbbb cccc", style(), 50.0, 15.0) == (7.0, ["aaaa bbbb cccc"])


def test_max_lines_bounds_the_lines_whatever_the_height() -> None:
    # At 10 pt three lines of 5 characters; two lines of 8 need 6.25 pt.
    assert fit_lines(MONO, "aa bb cc dd ee", style(max_lines=2), 25.0, 100.0) == (
        6.25, ["aa bb cc", "dd ee"])


def test_a_smaller_size_keeps_a_dashed_word_whole() -> None:
    # At 10 pt only 6 characters fit 30 pt: "aaaa–" / "bbbb" would be the larger size, but the
    # whole word at 6.5 pt reads better ("Bali–NTB–NTT").
    assert fit_lines(MONO, "aaaa–bbbb", style(), 30.0, 30.0) == (6.5, ["aaaa–bbbb"])


def test_breaks_after_the_dash_when_no_legible_size_holds_the_word() -> None:
    assert fit_lines(MONO, "aaaa–bbbb", style(size_min=8.0), 30.0, 30.0) == (
        10.0, ["aaaa–", "bbbb"])


def test_breaks_inside_a_word_only_as_the_last_way_to_keep_it_whole() -> None:
    assert fit_lines(MONO, "abcdefghij", style(size_min=8.0), 30.0, 30.0) == (
        10.0, ["abcdef", "ghij"])


def test_nothing_fits_whole_at_the_minimum_then_fit_lines_says_so() -> None:
    assert fit_lines(MONO, "a" * 40, style(), 30.0, 30.0) is None


def test_fit_text_cuts_with_an_ellipsis_only_what_cannot_fit() -> None:
    size, lines = fit_text(MONO, "aaaa bbbb cccc dddd eeee ffff", style(max_lines=2), 30.0, 30.0)
    # The smallest size, as many lines as fit, the last one ending in the ellipsis, all inside.
    assert size == 5.0
    assert lines == ["aaaa bbbb", "cccc dddd e…"]
    assert all(MONO.width(line) * size / 1000 <= 30.0 for line in lines)


def test_fit_text_goes_below_the_minimum_only_for_a_box_too_low_for_one_line() -> None:
    size, lines = fit_text(MONO, "abc", style(), 50.0, 4.0)
    assert size == 4.0 and lines == ["abc"]


def test_clean_text_drops_controls_and_bidi_overrides() -> None:
    assert clean_text(" a\u202eb\x00c\n\t d\u200b ") == "abc d"
    assert clean_text("Cafe\u0301") == "Café"


def test_element_text_adds_the_prefix_only_to_a_value() -> None:
    label = LabelData(product_name="Kopi", origin_regency="", origin_province="NTT",
                      producer="", lot="  KOPI-26 ", net_quantity="250 g", best_before=None,
                      serial="1", short_host="mib.id", qr_uri="https://mib.id/")
    lot = TextElement("lot", Box(0, 0, 10, 5), TextStyle("regular", 8, 5, 1, "left", "Lot ", 1.2))
    producer = TextElement("producer", Box(0, 0, 10, 5), lot.style)
    origin = TextElement("origin", Box(0, 0, 10, 5), style())
    assert element_text(lot, label) == "Lot KOPI-26"
    assert element_text(producer, label) == ""
    assert element_text(origin, label) == "NTT"


@pytest.mark.parametrize("stock_id", ["roll-50x30", "letter-3x10"])
def test_overflowing_names_the_elements_that_cannot_hold_the_text(stock_id: str) -> None:
    stock = STOCKS[stock_id]
    fine = LabelData(product_name="Kopi Arabika", origin_regency="Kabupaten Ngada",
                     origin_province="NTT", producer="Koperasi Tani", lot="KOPI-26",
                     net_quantity="250 g", best_before="2027-06-30", serial="0000000001",
                     short_host="mib.id", qr_uri="https://mib.id/")
    assert overflowing(stock, fine) == []
    too_long = replace(fine, product_name="Kopi " * 80, lot="W" * 60)
    assert overflowing(stock, too_long) == ["product", "lot"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(text="0G", width=5.0, height=16.0, max_lines=2)
@given(
    text=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400),
    width=st.floats(min_value=5, max_value=300),
    height=st.floats(min_value=3, max_value=100),
    max_lines=st.integers(min_value=1, max_value=6),
)
def test_fit_text_never_overflows(text: str, width: float, height: float, max_lines: int) -> None:
    style = TextStyle("regular", 10.0, 4.5, max_lines, "left", "", 1.17)
    clean = clean_text(text)
    size, lines = fit_text(FACE, clean, style, width, height)
    assert len(lines) <= max_lines
    if lines:
        used = (FACE.ascent + FACE.descent) * size + (len(lines) - 1) * 1.17 * size
        assert used <= height + 1e-6
        for line in lines:
            assert FACE.width(line) * size / 1000 <= width + 1e-6


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12),
                      min_size=1, max_size=12),
       width=st.floats(min_value=20, max_value=200))
def test_what_fit_lines_accepts_is_the_whole_text(words: list[str], width: float) -> None:
    text = " ".join(words)
    fitted = fit_lines(FACE, text, style(max_lines=3), width, 40.0)
    if fitted is not None:
        size, lines = fitted
        assert style().size_min <= size <= style().size_max
        assert "".join(text.split()) == "".join("".join(lines).split())
        assert ELLIPSIS not in "".join(lines)
