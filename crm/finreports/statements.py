"""Balance sheet (资产负债表), income statement (利润表) and the customer statement (对账单)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, literal, select

from crm.books.models import PROFIT_AND_LOSS_TYPES, Account, JournalEntry, JournalLine
from crm.books.services import standard_of, today_in
from crm.db import db
from crm.finreports.base import Column, Report, register
from crm.finreports.common import (
    ZERO,
    AccountInfo,
    descendants,
    fiscal_year_start,
    load_accounts,
    month_end,
    net_when,
    parse_date,
    parse_month,
    parse_range,
)
from crm.finreports.layouts import IS_CREDIT_LINES, Line, balance_sheet_layout, income_statement_layout
from crm.letterhead.services import letterhead_of
from crm.money_words import to_capital
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from tenants.models import Membership, Tenant


def _roll_up(accounts: dict[int, AccountInfo], by_account: dict[int, Decimal]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for aid, value in by_account.items():
        a = accounts.get(aid)
        code = a.root_code if a else ""
        out[code] = out.get(code, ZERO) + value
    return out


def _evaluate(
    lines: list[Line], nets: dict[str, Decimal], sign: int, accounts: dict[int, AccountInfo], named: set[str]
) -> dict[str, Decimal]:
    """Line key → amount; ``nets`` are debit − credit per first-level code; sign −1 for credit lines."""
    roots = {a.code: a for a in accounts.values() if a.depth == 0}
    values: dict[str, Decimal] = {}
    for line in lines:
        if line.sums:
            total = ZERO
            for k in line.sums:
                total += -values[k[1:]] if k.startswith("-") else values[k]
            values[line.key] = total
            continue
        codes = {c.lstrip("-") for c in line.codes}
        if line.other_type:
            types = ("asset", "cost") if line.other_type == "asset" else (line.other_type,)
            codes |= {c for c, a in roots.items() if a.type in types and c not in named}
        if line.include_pl:
            codes |= {c for c, a in roots.items() if a.type in PROFIT_AND_LOSS_TYPES}
        values[line.key] = sign * sum((nets.get(c, ZERO) for c in codes), ZERO)
    return values


def _named_codes(lines: Iterable[Line]) -> set[str]:
    return {c.lstrip("-") for line in lines for c in line.codes}


# --- balance sheet ---------------------------------------------------------------------------


def balance_sheet_values(tenant: Tenant, as_of: date) -> tuple[dict[str, Decimal], dict[str, Decimal], list[Line]]:
    """(closing values, year-opening values, lines in order) by line key."""
    year_start = fiscal_year_start(tenant, as_of)
    before = JournalLine.entry_date < year_start
    stmt = (
        select(
            JournalLine.account_id,
            net_when(literal(True)),
            net_when(before),
        )
        .where(JournalLine.posted.is_(True), JournalLine.entry_date <= as_of)
        .group_by(JournalLine.account_id)
    )
    closing_by: dict[int, Decimal] = {}
    opening_by: dict[int, Decimal] = {}
    for aid, closing, opening in db.session.execute(stmt):
        closing_by[aid] = Decimal(closing)
        opening_by[aid] = Decimal(opening)
    accounts = load_accounts()
    assets, liabilities = balance_sheet_layout(standard_of(tenant))
    named = _named_codes(assets + liabilities)
    closing_nets, opening_nets = _roll_up(accounts, closing_by), _roll_up(accounts, opening_by)
    closing = {**_evaluate(assets, closing_nets, 1, accounts, named),
               **_evaluate(liabilities, closing_nets, -1, accounts, named)}  # fmt: skip
    opening = {**_evaluate(assets, opening_nets, 1, accounts, named),
               **_evaluate(liabilities, opening_nets, -1, accounts, named)}  # fmt: skip
    return closing, opening, assets + liabilities


BOLD = "§total"


def _standard_note(tenant: Tenant) -> str:
    if standard_of(tenant) == "cas":
        return _("Layout of the Accounting Standards for Business Enterprises.")
    return _("Layout of the Accounting Standards for Small Enterprises.")


@register("balance_sheet")
def balance_sheet(tenant: Tenant, actor: Membership, params: dict[str, Any]) -> Report:
    as_of = parse_date(params, "as_of", today_in(tenant))
    assert as_of is not None
    closing, opening, lines = balance_sheet_values(tenant, as_of)
    rows: list[list[Any]] = []
    for line in lines:
        if line.other_type and not closing[line.key] and not opening[line.key]:
            continue
        row: list[Any] = [str(line.label), closing[line.key], opening[line.key]]
        rows.append([*row, BOLD] if line.is_total else row)
    return Report(
        key="balance_sheet",
        title=_l("Balance sheet"),
        subtitle=_("As of %(date)s", date=as_of.isoformat()),
        columns=[
            Column("line", _l("Item"), "text", 36),
            Column("closing", _l("Closing balance"), "money", 18),
            Column("opening", _l("Beginning of year"), "money", 18),
        ],
        rows=rows,
        notes=[_standard_note(tenant)],
        params={"as_of": as_of.isoformat()},
        row_count=len(rows),
        section_marker=BOLD,
    )


# --- income statement ------------------------------------------------------------------------


def income_statement_values(
    tenant: Tenant, start: date, end: date, year_start: date
) -> tuple[dict[str, Decimal], dict[str, Decimal], list[Line]]:
    """(period values, year-to-date values, lines): movements of posted lines, closing entries left out."""
    in_period = JournalLine.entry_date >= start
    stmt = (
        select(
            JournalLine.account_id,
            net_when(in_period),
            net_when(literal(True)),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.posted.is_(True), JournalLine.entry_date >= year_start, JournalLine.entry_date <= end,
            JournalEntry.kind != "closing",
        )
        .group_by(JournalLine.account_id)
    )  # fmt: skip
    period_by: dict[int, Decimal] = {}
    ytd_by: dict[int, Decimal] = {}
    for aid, period, ytd in db.session.execute(stmt):
        period_by[aid], ytd_by[aid] = Decimal(period), Decimal(ytd)
    accounts = load_accounts()
    layout = income_statement_layout(standard_of(tenant))

    def values(nets: dict[str, Decimal]) -> dict[str, Decimal]:
        credit_lines = [x for x in layout if x.key in IS_CREDIT_LINES]
        debit_lines = [x for x in layout if x.key not in IS_CREDIT_LINES and not x.sums]
        named = _named_codes(layout)
        out = {**_evaluate(credit_lines, nets, -1, accounts, named),
               **_evaluate(debit_lines, nets, 1, accounts, named)}  # fmt: skip
        for line in layout:
            if line.sums:
                out[line.key] = sum((-out[k[1:]] if k.startswith("-") else out[k] for k in line.sums), ZERO)
        return out

    return values(_roll_up(accounts, period_by)), values(_roll_up(accounts, ytd_by)), layout


@register("income_statement")
def income_statement(tenant: Tenant, actor: Membership, params: dict[str, Any]) -> Report:
    month = parse_month(params, "period")
    if month is None:
        today = today_in(tenant)
        month = (today.year, today.month)
    start, end = date(month[0], month[1], 1), month_end(*month)
    year_start = fiscal_year_start(tenant, start)
    period, ytd, layout = income_statement_values(tenant, start, end, year_start)
    rows: list[list[Any]] = []
    for line in layout:
        row: list[Any] = [str(line.label), period[line.key], ytd[line.key]]
        rows.append([*row, BOLD] if line.is_total else row)
    return Report(
        key="income_statement",
        title=_l("Income statement"),
        subtitle=start.strftime("%Y-%m"),
        columns=[
            Column("line", _l("Item"), "text", 36),
            Column("period", _l("This period"), "money", 18),
            Column("year", _l("Year to date"), "money", 18),
        ],
        rows=rows,
        notes=[_standard_note(tenant), _("Year to date from %(date)s.", date=year_start.isoformat())],  # fmt: skip
        params={"period": start.strftime("%Y-%m")},
        row_count=len(rows),
        section_marker=BOLD,
    )


# --- customer statement (对账单) --------------------------------------------------------------


def statement_accounts(accounts: dict[int, AccountInfo]) -> set[int]:
    roles = db.session.execute(select(Account.id).where(Account.role.in_(("receivable", "customer_advance"))))
    ids: set[int] = set()
    for (aid,) in roles:
        ids |= descendants(accounts, aid)
    return ids


@register("statement")
def statement(tenant: Tenant, actor: Membership, params: dict[str, Any]) -> Report:
    raw = params.get("customer")
    if raw is None or str(raw).strip() == "":
        raise InvalidInput({"customer": _("Choose a customer.")})
    customer = get_in_tenant(Customer, int(str(raw))) if str(raw).strip().isdigit() else None
    if customer is None:
        raise InvalidInput({"customer": _("Choose a customer of this workspace.")})
    rng, echo = parse_range(tenant, params, allow_period=True)
    echo["customer"] = customer.id
    accounts = load_accounts()
    ids = statement_accounts(accounts)
    party = and_(
        JournalLine.posted.is_(True), JournalLine.party_type == "customer", JournalLine.party_id == customer.id,
        JournalLine.account_id.in_(ids),
    )  # fmt: skip
    opening = db.session.scalar(select(net_when(literal(True))).where(party, JournalLine.entry_date < rng.start))
    opening = Decimal(opening or 0)
    net = net_when(literal(True))
    stmt = (
        select(JournalEntry.entry_date, JournalEntry.number, JournalEntry.memo, net)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(party, JournalLine.entry_date >= rng.start, JournalLine.entry_date <= rng.end)
        .group_by(JournalEntry.id, JournalEntry.entry_date, JournalEntry.number, JournalEntry.memo)
        .order_by(JournalEntry.entry_date, JournalEntry.number, JournalEntry.id)
    )
    rows: list[list[Any]] = [[rng.start, "", _("Opening balance"), None, None, opening]]
    balance, td, tc = opening, ZERO, ZERO
    for d, number, memo, amount in db.session.execute(stmt):
        amount = Decimal(amount)
        if not amount:
            continue  # an allocation moving 预收 to 应收: nothing changes for the customer
        debit, credit = (amount, None) if amount > 0 else (None, -amount)
        balance += amount
        td += debit or ZERO
        tc += credit or ZERO
        rows.append([d, number or "", memo or "", debit, credit, balance])
    company = letterhead_of(tenant).get("legal_name") or tenant.name
    if balance >= 0:
        note = _("Balance owed to us on %(date)s: %(amount)s (%(words)s).", date=rng.end.isoformat(),
                 amount=f"¥{balance:,.2f}", words=to_capital(balance))  # fmt: skip
    else:
        note = _("Credit held for the customer on %(date)s: %(amount)s (%(words)s).", date=rng.end.isoformat(),
                 amount=f"¥{-balance:,.2f}", words=to_capital(-balance))  # fmt: skip
    return Report(
        key="statement",
        title=_l("Customer statement"),
        subtitle=f"{company} · {customer.name} · {rng.label}",
        columns=[
            Column("date", _l("Date"), "date", 11),
            Column("number", _l("Entry"), "text", 16),
            Column("memo", _l("Memo / document"), "text", 36),
            Column("debit", _l("Debit (billed)"), "money"),
            Column("credit", _l("Credit (received)"), "money"),
            Column("balance", _l("Balance"), "money"),
        ],
        rows=rows,
        totals=[[None, "", _("Period total"), td, tc, None], [rng.end, "", _("Closing balance"), None, None, balance]],
        notes=[note],
        params=echo,
        row_count=len(rows),
    )
