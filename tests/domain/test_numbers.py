"""The exact-number helpers refuse floats and write decimals the way the ledger CSV needs."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marginbook.domain import D, cents, plain


def test_float_is_refused() -> None:
    with pytest.raises(TypeError):
        D(0.1)  # type: ignore[arg-type]


def test_non_number_names_the_value() -> None:
    with pytest.raises(ValueError, match="'1,000'"):
        D("1,000")


@pytest.mark.parametrize(
    ("value", "text"),
    [("0.100000000", "0.1"), ("1E+3", "1000"), ("-0.000000000000000001", "-0.000000000000000001"),
     ("0E-18", "0"), ("123456789012345678901234.123456789012345678", "123456789012345678901234.123456789012345678")],
)
def test_plain_has_no_exponent_and_no_trailing_zeros(value: str, text: str) -> None:
    assert plain(D(value)) == text


@given(st.decimals(allow_nan=False, allow_infinity=False, places=18, min_value=-10**20, max_value=10**20))
def test_plain_round_trips(value: Decimal) -> None:
    text = plain(value)
    assert "E" not in text and "e" not in text
    assert D(text) == value


def test_cents_round_half_up() -> None:
    assert cents(D("2.345")) == D("2.35")
    assert cents(D("-2.345")) == D("-2.35")
