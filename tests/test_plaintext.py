"""What a typed text may contain (registry/plaintext.py), without the app: which problem is
named first, and what a single-line field refuses that a multi-line one takes."""

from __future__ import annotations

import pytest

from registry.plaintext import BIDI_CONTROLS, LINE_BREAKS, TextProblem, text_problem


@pytest.mark.parametrize("value", ["", "honey", "Madu Sumbawa – 950,5 kg", "日本向け",
                                   "100\u00a0kg", "zero\u200bwidth", "emoji 🍯"])
def test_ordinary_text_passes(value: str) -> None:
    assert text_problem(value) is None
    assert text_problem(value, multiline=True) is None


def test_the_bidi_controls_are_the_embeddings_overrides_and_isolates() -> None:
    assert {chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]} == BIDI_CONTROLS
    assert {"\r", "\n", "\u2028", "\u2029"} == LINE_BREAKS


@pytest.mark.parametrize("ch", sorted(BIDI_CONTROLS))
def test_bidi_controls_are_refused_everywhere(ch: str) -> None:
    assert text_problem(f"honey{ch}gnp.exe") is TextProblem.BIDI
    assert text_problem(f"line one\nline{ch} two", multiline=True) is TextProblem.BIDI


@pytest.mark.parametrize("ch", ["\x00", "\x01", "\x1b", "\x1f", "\t", "\x0b", "\x0c", "\x7f",
                                "\x80", "\x85", "\x9f"])
def test_control_characters_are_refused_everywhere(ch: str) -> None:
    assert text_problem(f"a{ch}b") is TextProblem.CONTROL
    assert text_problem(f"a{ch}b", multiline=True) is TextProblem.CONTROL


@pytest.mark.parametrize("ch", sorted(LINE_BREAKS))
def test_line_breaks_only_in_texts_of_several_lines(ch: str) -> None:
    assert text_problem(f"Jl. Raya{ch}Mataram") is TextProblem.LINE_BREAK
    assert text_problem(f"Jl. Raya{ch}Mataram", multiline=True) is None


def test_windows_line_ends_in_a_multiline_text() -> None:
    assert text_problem("one\r\ntwo\r\n", multiline=True) is None
    assert text_problem("one\r\ntwo\r\n") is TextProblem.LINE_BREAK


def test_multiline_is_named_never_positional() -> None:
    with pytest.raises(TypeError):
        text_problem("a\nb", True)  # type: ignore[misc]


def test_bidi_is_named_before_anything_else() -> None:
    assert text_problem("\x00\u202e") is TextProblem.BIDI
    assert text_problem("a\nb\u2066") is TextProblem.BIDI


def test_a_control_character_is_named_before_a_line_break() -> None:
    assert text_problem("a\nb\x00") is TextProblem.CONTROL
    assert text_problem("\x00\na") is TextProblem.CONTROL
    assert text_problem("a\nb\x00", multiline=True) is TextProblem.CONTROL
