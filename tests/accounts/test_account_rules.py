"""Account rules without the app (registry/accounts/rules.py): which passwords are refused and
why, in the order a person is told, and the shape of a NIB."""

from __future__ import annotations

import pytest

from registry.accounts.rules import (
    MAX_DECLINE_REASON,
    MAX_PASSWORD,
    MIN_PASSWORD,
    PasswordProblem,
    decline_reason_problem,
    password_problem,
    valid_nib,
)

GOOD = "kd8#Lq2z"  # eight characters, not in any leaked list


def test_the_limits_the_sign_up_form_states() -> None:
    # registry/accounts/forms.py tells people "at least 8" and "at most 128" characters.
    assert (MIN_PASSWORD, MAX_PASSWORD) == (8, 128)


@pytest.mark.parametrize(("password", "problem"), [
    ("", PasswordProblem.TOO_SHORT),
    ("kd8#Lq2", PasswordProblem.TOO_SHORT),
    (GOOD, None),
    ("kd8#Lq2z" * 16, None),
    ("kd8#Lq2z" * 16 + "x", PasswordProblem.TOO_LONG),
])
def test_length_bounds(password: str, problem: PasswordProblem | None) -> None:
    assert password_problem(password) is problem


@pytest.mark.parametrize("password", ["password", "PASSWORD", "Sunshine", "qwertyuiop",
                                      "dragon12"])
def test_leaked_passwords_are_refused_in_any_case(password: str) -> None:
    assert password_problem(password) is PasswordProblem.COMMON


@pytest.mark.parametrize(("password", "problem"), [
    ("aaaaaaaa", PasswordProblem.COMMON),
    ("abababab", PasswordProblem.COMMON),
    ("aAaAaAaA", PasswordProblem.COMMON),
    ("abcabcab", None),
    ("aaaaaaab", PasswordProblem.COMMON),
    ("aaaaaabc", None),
])
def test_fewer_than_three_different_characters_is_as_weak_as_a_leaked_one(
        password: str, problem: PasswordProblem | None) -> None:
    assert password_problem(password) is problem


def test_the_password_may_not_be_the_email_address() -> None:
    email = "ani.wulandari@example.id"
    assert password_problem(email, email=email) is PasswordProblem.IS_EMAIL
    assert password_problem("Ani.Wulandari@Example.ID", email=email) is PasswordProblem.IS_EMAIL
    assert password_problem(email.upper(), email=email.title()) is PasswordProblem.IS_EMAIL
    assert password_problem(GOOD, email=email) is None
    assert password_problem(email + "!", email=email) is None
    assert password_problem("ani.wulandari@example", email=email) is None
    assert password_problem("Abc-Def-123", email=email) is None


def test_the_email_is_named_never_positional() -> None:
    # Two strings side by side: by position, the password and the address could be swapped.
    with pytest.raises(TypeError):
        password_problem(GOOD, "ani.wulandari@example.id")  # type: ignore[misc]


def test_without_an_email_nothing_is_compared() -> None:
    assert password_problem(GOOD, email="") is None
    assert password_problem(GOOD) is None


def test_the_first_problem_is_the_one_reported() -> None:
    # Length before the leaked lists ("123456" is leaked and short), leaked before e-mail.
    assert password_problem("123456") is PasswordProblem.TOO_SHORT
    assert password_problem("password", email="password") is PasswordProblem.COMMON
    assert password_problem("aaaaaaaa", email="aaaaaaaa") is PasswordProblem.COMMON
    assert password_problem("x" * 129, email="x" * 129) is PasswordProblem.TOO_LONG


@pytest.mark.parametrize(("nib", "ok"), [
    ("1234567890123", True),
    ("0000000000000", True),
    ("123456789012", False),
    ("12345678901234", False),
    ("123456789012a", False),
    (" 1234567890123", False),
    ("1234 567890123", False),
    ("1234567890123\n", False),  # "$" matched before a trailing newline
    ("١٢٣٤٥٦٧٨٩٠١٢٣", False),  # Arabic-Indic digits: "\d" took them
    ("", False),
])
def test_a_nib_is_thirteen_digits(nib: str, ok: bool) -> None:
    assert valid_nib(nib) is ok


@pytest.mark.parametrize(("reason", "problem"), [
    ("", "required"),
    (" \n\t ", "required"),
    ("x", None),
    ("x" * MAX_DECLINE_REASON, None),
    ("  " + "x" * MAX_DECLINE_REASON + "\n", None),  # counted without the blanks around it
    ("x" * (MAX_DECLINE_REASON + 1), "too_long"),
])
def test_a_decline_reason_says_something_in_a_few_sentences(reason: str,
                                                             problem: str | None) -> None:
    assert MAX_DECLINE_REASON == 1000  # the pending page's textarea says so (maxlength)
    assert decline_reason_problem(reason) == problem
