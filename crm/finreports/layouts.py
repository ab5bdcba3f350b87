"""The statements' layouts per accounting standard: each line is a signed sum of first-level
account codes (sub-accounts roll up to their first-level account), or a subtotal of lines.

Balance sheet signs: asset lines add the accounts' debit − credit, liability and equity lines
their credit − debit. A "-" code marks a contra account (坏账准备, 累计折旧): adding its
debit − credit is what subtracts its credit balance from the asset it corrects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Line:
    key: str
    label: Any
    codes: tuple[str, ...] = ()  # "1122", "-1231"
    # A subtotal: keys of the lines it adds ("-key" subtracts); shown bold.
    sums: tuple[str, ...] = ()
    # "P&L": every revenue/expense account's unclosed balance also lands here.
    include_pl: bool = False
    # Catch-all: first-level accounts of this type no other line names.
    other_type: str | None = None
    heading: bool = False

    @property
    def is_total(self) -> bool:
        return bool(self.sums)


def _bs(std: str) -> tuple[list[Line], list[Line]]:
    cas = std == "cas"
    prod, overhead = ("5001", "5101") if cas else ("4001", "4101")
    equity = ("4001", "4002", "4101") if cas else ("3001", "3002", "3101")
    profit = ("4103", "4104") if cas else ("3103", "3104")
    assets = [
        Line("cash", _l("Cash and cash equivalents"), ("1001", "1002", "1012")),
        Line("notes_receivable", _l("Notes receivable"), ("1121",)),
        Line("receivable", _l("Accounts receivable"), ("1122", "-1231") if cas else ("1122",)),
        Line("prepayment", _l("Prepayments"), ("1123",)),
        Line("other_receivable", _l("Other receivables"), ("1221",)),
        Line("inventory", _l("Inventories"), ("1403", "1405", prod, overhead)),
        Line("current_assets", _l("Total current assets"),
             sums=("cash", "notes_receivable", "receivable", "prepayment", "other_receivable", "inventory")),
        Line("fixed_assets", _l("Fixed assets, net"), ("1601", "-1602")),
        Line("intangible", _l("Intangible assets"), ("1701",)),
        Line("deferred", _l("Long-term deferred expenses"), ("1801",)),
        Line("other_assets", _l("Other assets"), other_type="asset"),  # and 成本类 not named above
        Line("noncurrent_assets", _l("Total non-current assets"),
             sums=("fixed_assets", "intangible", "deferred", "other_assets")),
        Line("assets", _l("Total assets"), sums=("current_assets", "noncurrent_assets")),
    ]  # fmt: skip
    liabilities = [
        Line("short_loans", _l("Short-term borrowings"), ("2001",)),
        Line("notes_payable", _l("Notes payable"), ("2201",)),
        Line("payable", _l("Accounts payable"), ("2202",)),
        Line("advances", _l("Advances from customers"), ("2203",)),
        Line("payroll", _l("Payroll payable"), ("2211",)),
        Line("taxes", _l("Taxes payable"), ("2221",)),
        Line("interest", _l("Interest payable"), ("2231",)),
        Line("dividends", _l("Dividends payable") if cas else _l("Profits payable"), ("2232",)),
        Line("other_payable", _l("Other payables"), ("2241",)),
        Line("other_liabilities", _l("Other liabilities"), other_type="liability"),
        Line("current_liabilities", _l("Total current liabilities"),
             sums=("short_loans", "notes_payable", "payable", "advances", "payroll", "taxes", "interest", "dividends",
                   "other_payable", "other_liabilities")),
        Line("long_loans", _l("Long-term borrowings"), ("2501",)),
        Line("noncurrent_liabilities", _l("Total non-current liabilities"), sums=("long_loans",)),
        Line("liabilities", _l("Total liabilities"), sums=("current_liabilities", "noncurrent_liabilities")),
        Line("capital", _l("Paid-in capital"), (equity[0],)),
        Line("capital_reserve", _l("Capital reserve"), (equity[1],)),
        Line("surplus_reserve", _l("Surplus reserve"), (equity[2],)),
        Line("retained", _l("Undistributed profit"), profit, include_pl=True),
        Line("other_equity", _l("Other equity"), other_type="equity"),
        Line("equity", _l("Total owners' equity"),
             sums=("capital", "capital_reserve", "surplus_reserve", "retained", "other_equity")),
        Line("liabilities_equity", _l("Total liabilities and owners' equity"), sums=("liabilities", "equity")),
    ]  # fmt: skip
    return assets, liabilities


def balance_sheet_layout(standard: str) -> tuple[list[Line], list[Line]]:
    return _bs("cas" if standard == "cas" else "small")


def _is(std: str) -> list[Line]:
    c = {
        "cas": dict(rev=("6001", "6051"), cost=("6401", "6402"), tax="6403", sell="6601", admin="6602", fin="6603",
                    inv="6111", noi="6301", noe="6711", cit="6801"),
        "small": dict(rev=("5001", "5051"), cost=("5401", "5402"), tax="5403", sell="5601", admin="5602", fin="5603",
                      inv="5111", noi="5301", noe="5711", cit="5801"),
    }[std]  # fmt: skip
    # Income statement signs: revenue lines are credit − debit, cost/expense lines debit − credit.
    return [
        # Workspace-made first-level accounts no line names land in revenue / administrative expenses.
        Line("revenue", _l("Operating revenue"), c["rev"], other_type="revenue"),
        Line("cost", _l("Operating costs"), c["cost"]),
        Line("taxes", _l("Taxes and surcharges"), (c["tax"],)),
        Line("selling", _l("Selling expenses"), (c["sell"],)),
        Line("admin", _l("Administrative expenses"), (c["admin"],), other_type="expense"),
        Line("financial", _l("Financial expenses"), (c["fin"],)),
        Line("investment", _l("Investment income"), (c["inv"],)),
        Line("operating_profit", _l("Operating profit"),
             sums=("revenue", "-cost", "-taxes", "-selling", "-admin", "-financial", "investment")),
        Line("non_operating_income", _l("Non-operating income"), (c["noi"],)),
        Line("non_operating_expense", _l("Non-operating expenses"), (c["noe"],)),
        Line("total_profit", _l("Total profit"),
             sums=("operating_profit", "non_operating_income", "-non_operating_expense")),
        Line("income_tax", _l("Income tax expense"), (c["cit"],)),
        Line("net_profit", _l("Net profit"), sums=("total_profit", "-income_tax")),
    ]  # fmt: skip


# Lines whose amount is credit − debit on the income statement; the others debit − credit.
IS_CREDIT_LINES = ("revenue", "investment", "non_operating_income")


def income_statement_layout(standard: str) -> list[Line]:
    return _is("cas" if standard == "cas" else "small")
