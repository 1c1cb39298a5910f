"""The label's page writes quantities as babel would, in each of its four languages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from registry.verify.page import _decimal
from registry.web.i18n import VERIFY_LANGUAGES

# A batch's quantity: numeric(14, 3) in the schema, never negative.
quantities = st.decimals(min_value=0, max_value=Decimal("99999999999.999"), places=3,
                         allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("lang", VERIFY_LANGUAGES)
@given(quantity=quantities)
def test_quantities_read_as_babel_writes_them(lang: str, quantity: Decimal) -> None:
    assert _decimal(quantity, lang) == format_decimal(quantity.normalize(), locale=lang)


@pytest.mark.parametrize(("lang", "fraction", "thousand"), [
    ("en", "1,234,567.5", "1,000"), ("id", "1.234.567,5", "1.000"),
    ("zh", "1,234,567.5", "1,000"), ("ja", "1,234,567.5", "1,000")])
def test_a_reader_sees_the_separators_of_their_language(lang: str, fraction: str,
                                                        thousand: str) -> None:
    assert _decimal(Decimal("1234567.500"), lang) == fraction
    assert _decimal("1000.000", lang) == thousand  # normalised: 1E+3, still a whole number


def test_more_decimals_than_the_pattern_shows_are_left_to_babel() -> None:
    assert _decimal(Decimal("0.0004"), "en") == format_decimal(Decimal("0.0004"), locale="en")
