"""Individual income tax on wages (crm.payroll.tax): cumulative withholding and the one-off bonus,
against the reference README's tables and worked example."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.payroll import tax
from crm.payroll.tax import Cumulative, MonthIncome

D = Decimal


def run_year(months: list[MonthIncome]) -> list[Decimal]:
    """The tax withheld in each month, from January, employed all year."""
    prior, out = Cumulative(), []
    for i, month in enumerate(months):
        result = tax.withhold(prior, month, i + 1)
        out.append(result.tax)
        prior = tax.carry(result)
    return out


def test_reference_example_withholds_360_then_1200():
    month = MonthIncome(gross=D("20000"), special=D("2000"), special_additional=D("1000"))
    taxes = run_year([month] * 12)
    assert taxes[:3] == [D("360.00")] * 3
    assert taxes[3:] == [D("1200.00")] * 9
    assert sum(taxes) == D("11880.00")


def test_high_earner_crosses_three_brackets_in_four_months():
    taxes = run_year([MonthIncome(gross=D("100000"))] * 4)
    # 95,000 → 10 %; 190,000 → 20 %; 285,000 → 20 %; 380,000 → 25 %
    assert taxes == [D("6980.00"), D("14100.00"), D("19000.00"), D("23000.00")]


@pytest.mark.parametrize(
    ("taxable", "due"),
    [
        ("36000", "1080.00"), ("36000.01", "1080.00"), ("36100", "1090.00"),
        ("144000", "11880.00"), ("144100", "11900.00"),
        ("300000", "43080.00"), ("300100", "43105.00"),
        ("420000", "73080.00"), ("420100", "73110.00"),
        ("660000", "145080.00"), ("660100", "145115.00"),
        ("960000", "250080.00"), ("960100", "250125.00"),
        ("0", "0.00"), ("-5", "0.00"),
    ],
)  # fmt: skip
def test_annual_table_brackets_are_continuous_at_each_crossing(taxable, due):
    assert tax.cumulative_tax_due(D(taxable)) == D(due)


def test_hire_in_july_counts_the_basic_deduction_from_july():
    assert tax.months_employed(2026, 7, 2026, 7) == 1
    assert tax.months_employed(2026, 12, 2026, 7) == 6
    assert tax.months_employed(2026, 3, 2025, 11) == 3
    assert tax.months_employed(2026, 6, 2026, 7) == 0
    month = MonthIncome(gross=D("20000"), special=D("2000"), special_additional=D("1000"))
    # From July, six months: 12,000 taxable a month, 72,000 by December.
    prior, taxes = Cumulative(), []
    for m in range(7, 13):
        result = tax.withhold(prior, month, tax.months_employed(2026, m, 2026, 7))
        taxes.append(result.tax)
        prior = tax.carry(result)
    assert taxes == [D("360.00"), D("360.00"), D("360.00"), D("1200.00"), D("1200.00"), D("1200.00")]
    assert result.cumulative_basic == D("30000.00")
    assert result.cumulative_taxable == D("72000.00")


def test_falling_cumulative_tax_withholds_zero_and_catches_up_later():
    months = [
        MonthIncome(gross=D("50000")),  # 45,000 taxable: 1,980
        MonthIncome(gross=D("0")),  # 40,000: due 1,480 < 1,980 withheld → 0
        MonthIncome(gross=D("10000")),  # 45,000: due 1,980, already 1,980 → 0
        MonthIncome(gross=D("20000")),  # 60,000: due 3,480 → 1,500
    ]
    assert run_year(months) == [D("1980.00"), D("0.00"), D("0.00"), D("1500.00")]


def test_income_below_the_threshold_owes_nothing():
    taxes = run_year([MonthIncome(gross=D("4800"), special=D("500"))] * 3)
    assert taxes == [D("0.00")] * 3


def test_months_employed_out_of_range_is_refused():
    with pytest.raises(ValueError):
        tax.withhold(Cumulative(), MonthIncome(gross=D("1")), 0)


@pytest.mark.parametrize(
    ("bonus", "due"),
    [
        ("36000", "1080.00"),  # ÷12 = 3,000: still 3 %
        ("36000.12", "3390.01"),  # ÷12 = 3,000.01: 10 % − 210, the first cliff
        ("144000", "14190.00"),  # ÷12 = 12,000: 10 %
        ("144000.12", "27390.02"),  # 20 % − 1,410
        ("300000", "58590.00"), ("300000.12", "72340.03"),  # 20 % up to 25,000, then 25 % − 2,660
        ("420000", "102340.00"), ("420000.12", "121590.04"),  # 30 % − 4,410 past 35,000
        ("660000", "193590.00"), ("660000.12", "223840.04"),  # 35 % − 7,160 past 55,000
        ("960000", "328840.00"), ("960000.12", "416840.05"),  # 45 % − 15,160 past 80,000
        ("0", "0.00"),
    ],
)  # fmt: skip
def test_one_off_bonus_uses_the_monthly_table_by_bonus_over_twelve(bonus, due):
    assert tax.bonus_tax(D(bonus)) == D(due)


def test_folding_the_bonus_into_wages_is_taxed_with_the_cumulative_table():
    wages = MonthIncome(gross=D("20000"), special=D("2000"), special_additional=D("1000"))
    prior = Cumulative()
    for m in range(1, 12):
        prior = tax.carry(tax.withhold(prior, wages, m))
    december_separate = tax.withhold(prior, wages, 12).tax + tax.bonus_tax(D("36000"))
    folded = MonthIncome(gross=D("56000"), special=D("2000"), special_additional=D("1000"))
    december_folded = tax.withhold(prior, folded, 12).tax
    assert december_separate == D("1200.00") + D("1080.00")
    # 144,000 + 36,000 = 180,000 taxable: 19,080 due − 10,680 withheld
    assert december_folded == D("8400.00")
