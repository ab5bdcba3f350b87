"""大写金额: amounts in Chinese capital numerals, exactly (crm.money_words)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.money_words import to_capital


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("100.00", "壹佰元整"),
        ("1005.30", "壹仟零伍元叁角"),
        ("0.05", "伍分"),
        ("0.50", "伍角"),
        ("0", "零元整"),
        ("1.05", "壹元零伍分"),
        ("10", "壹拾元整"),
        ("105000", "壹拾万伍仟元整"),
        ("100000", "壹拾万元整"),
        ("1000010.01", "壹佰万零壹拾元零壹分"),
        ("20000000", "贰仟万元整"),
        ("1000000001", "壹拾亿零壹元整"),
        ("1130.00", "壹仟壹佰叁拾元整"),
    ],
)
def test_capital_numerals(amount, words):
    assert to_capital(Decimal(amount)) == words


def test_rounds_half_up_to_the_fen_first():
    assert to_capital(Decimal("0.005")) == "壹分"
    assert to_capital("2.675") == "贰元陆角捌分"


def test_negative_amounts_say_so():
    assert to_capital("-3.20") == "负叁元贰角"


def test_floats_are_refused():
    with pytest.raises(TypeError):
        to_capital(1.5)  # type: ignore[arg-type]
