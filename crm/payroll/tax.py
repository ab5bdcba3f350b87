"""Individual income tax on wages, as pure functions (no database, no request).

Cumulative withholding (累计预扣法), per employee over the months of one calendar year at this
employer:

    cumulative taxable = cumulative gross − cumulative tax-free income
                         − 5,000 × months employed here this year
                         − cumulative special deductions (employee social insurance + housing fund)
                         − cumulative special additional deductions − cumulative other deductions
    tax this month     = (cumulative taxable × rate − quick deduction) − tax already withheld
    negative → withhold 0 this month; there is no refund during the year.

"Already withheld" is what was really withheld, so a month withheld at 0 is made up in the
next month whose cumulative tax is higher again.

The year-end one-off bonus (全年一次性奖金) is taxed separately with the monthly table looked up
by bonus ÷ 12, or folded into that month's wages, as the employee chooses.

Every amount is rounded half-up to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
BASIC_DEDUCTION = Decimal("5000.00")  # 基本减除费用, per month employed

# (upper bound of cumulative taxable income, rate, quick deduction); None: no upper bound.
ANNUAL_TABLE: tuple[tuple[Decimal | None, Decimal, Decimal], ...] = (
    (Decimal("36000"), Decimal("0.03"), Decimal("0")),
    (Decimal("144000"), Decimal("0.10"), Decimal("2520")),
    (Decimal("300000"), Decimal("0.20"), Decimal("16920")),
    (Decimal("420000"), Decimal("0.25"), Decimal("31920")),
    (Decimal("660000"), Decimal("0.30"), Decimal("52920")),
    (Decimal("960000"), Decimal("0.35"), Decimal("85920")),
    (None, Decimal("0.45"), Decimal("181920")),
)
# The monthly table, used for the separately taxed one-off bonus (looked up by bonus ÷ 12).
MONTHLY_TABLE: tuple[tuple[Decimal | None, Decimal, Decimal], ...] = (
    (Decimal("3000"), Decimal("0.03"), Decimal("0")),
    (Decimal("12000"), Decimal("0.10"), Decimal("210")),
    (Decimal("25000"), Decimal("0.20"), Decimal("1410")),
    (Decimal("35000"), Decimal("0.25"), Decimal("2660")),
    (Decimal("55000"), Decimal("0.30"), Decimal("4410")),
    (Decimal("80000"), Decimal("0.35"), Decimal("7160")),
    (None, Decimal("0.45"), Decimal("15160")),
)

BONUS_METHODS = ("separate", "folded")


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def bracket(amount: Decimal, table: tuple[tuple[Decimal | None, Decimal, Decimal], ...]) -> tuple[Decimal, Decimal]:
    """(rate, quick deduction) of the bracket holding ``amount`` (upper bounds inclusive)."""
    for upper, rate, quick in table:
        if upper is None or amount <= upper:
            return rate, quick
    raise AssertionError("the last bracket is unbounded")


def cumulative_tax_due(cumulative_taxable: Decimal) -> Decimal:
    """Tax on a year-to-date taxable income with the annual table; nothing on zero or less."""
    if cumulative_taxable <= 0:
        return ZERO
    rate, quick = bracket(cumulative_taxable, ANNUAL_TABLE)
    return max(money(cumulative_taxable * rate - quick), ZERO)


@dataclass(frozen=True)
class Cumulative:
    """Year-to-date figures at this employer, before the month being computed."""

    gross: Decimal = ZERO
    tax_free: Decimal = ZERO
    special: Decimal = ZERO  # employee social insurance + housing fund (专项扣除)
    special_additional: Decimal = ZERO  # 专项附加扣除
    other: Decimal = ZERO  # 其他扣除
    withheld: Decimal = ZERO  # tax really withheld on wages so far


@dataclass(frozen=True)
class MonthIncome:
    gross: Decimal
    special: Decimal = ZERO
    special_additional: Decimal = ZERO
    tax_free: Decimal = ZERO
    other: Decimal = ZERO


@dataclass(frozen=True)
class Withholding:
    """One month's result: the year-to-date figures including this month, and the tax."""

    months: int
    cumulative_gross: Decimal
    cumulative_tax_free: Decimal
    cumulative_basic: Decimal
    cumulative_special: Decimal
    cumulative_special_additional: Decimal
    cumulative_other: Decimal
    cumulative_taxable: Decimal  # never below zero
    cumulative_tax_due: Decimal
    tax: Decimal  # withheld this month (never negative)
    cumulative_withheld: Decimal


def withhold(prior: Cumulative, month: MonthIncome, months_employed: int) -> Withholding:
    """The tax to withhold this month. ``months_employed`` counts this month and every earlier
    month of the year at this employer (from the hire month for a hire during the year)."""
    if months_employed < 1 or months_employed > 12:
        raise ValueError("months_employed is 1–12")
    gross = money(prior.gross + month.gross)
    tax_free = money(prior.tax_free + month.tax_free)
    special = money(prior.special + month.special)
    additional = money(prior.special_additional + month.special_additional)
    other = money(prior.other + month.other)
    basic = money(BASIC_DEDUCTION * months_employed)
    taxable = max(gross - tax_free - basic - special - additional - other, ZERO)
    due = cumulative_tax_due(taxable)
    tax = max(due - prior.withheld, ZERO)
    return Withholding(
        months=months_employed, cumulative_gross=gross, cumulative_tax_free=tax_free, cumulative_basic=basic,
        cumulative_special=special, cumulative_special_additional=additional, cumulative_other=other,
        cumulative_taxable=taxable, cumulative_tax_due=due, tax=tax, cumulative_withheld=money(prior.withheld + tax),
    )  # fmt: skip


def carry(result: Withholding) -> Cumulative:
    """The year-to-date figures to carry into the next month."""
    return Cumulative(
        gross=result.cumulative_gross, tax_free=result.cumulative_tax_free, special=result.cumulative_special,
        special_additional=result.cumulative_special_additional, other=result.cumulative_other,
        withheld=result.cumulative_withheld,
    )  # fmt: skip


def bonus_tax(bonus: Decimal) -> Decimal:
    """Tax on a year-end one-off bonus taxed separately: bonus × rate − quick deduction, the
    bracket found by bonus ÷ 12 in the monthly table."""
    if bonus <= 0:
        return ZERO
    rate, quick = bracket(bonus / 12, MONTHLY_TABLE)
    return max(money(bonus * rate - quick), ZERO)


def months_employed(year: int, month: int, hire_year: int, hire_month: int) -> int:
    """Months at this employer in ``year`` up to and including ``month``: from January, or from
    the hire month for a hire during the year."""
    if (hire_year, hire_month) > (year, month):
        return 0
    first = hire_month if hire_year == year else 1
    return month - first + 1
