"""Period close (结账) and re-open (反结账).

Months close in order from the books' start. Closing a month posts, dated its last day, the
closing entry that carries every revenue and expense balance to 本年利润 (current_profit), and
in the fiscal year's last month a second entry carrying 本年利润 to 未分配利润. Only then is
the month marked closed (the postings need it open). Re-opening the latest closed month sets it
open and reverses those entries on the same day, so a re-close carries the amounts once.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, func, select, type_coerce

from crm.audit.services import record
from crm.books import services as books
from crm.books.errors import RuleViolation
from crm.books.models import PROFIT_AND_LOSS_TYPES, Account, FiscalPeriod, JournalEntry, JournalLine
from crm.db import Money, db, utcnow
from roles.checks import PermissionDenied, can
from tenants.models import Membership, Tenant

ZERO = Decimal("0.00")


@dataclass
class Check:
    key: str
    label: str
    ok: bool
    detail: str = ""
    link: str | None = None


@dataclass
class MonthRow:
    year: int
    month: int
    period: FiscalPeriod | None

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def status(self) -> str:
        return self.period.status if self.period else "open"


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_key(key: str) -> tuple[int, int] | None:
    """ "2026-03" → (2026, 3); anything else → None."""
    parts = (key or "").split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4 or len(parts[1]) != 2:
        return None
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12 or year < 1900:
        return None
    return year, month


def _next(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def fiscal_year_last_month(tenant: Tenant) -> int:
    start = int((tenant.settings or {}).get("fiscal_year_start") or 1)
    return (start - 2) % 12 + 1


def months(tenant: Tenant) -> list[MonthRow]:
    """From the books' start to the current month (and any later month with entries), newest first."""
    start = books.books_start(tenant)
    if start is None:
        return []
    last = books.today_in(tenant).replace(day=1)
    latest_entry = db.session.scalar(select(func.max(JournalEntry.entry_date)))
    if latest_entry is not None and latest_entry.replace(day=1) > last:
        last = latest_entry.replace(day=1)
    rows = {(p.year, p.month): p for p in db.session.scalars(select(FiscalPeriod))}
    out: list[MonthRow] = []
    y, m = start.year, start.month
    while (y, m) <= (last.year, last.month):
        out.append(MonthRow(y, m, rows.get((y, m))))
        y, m = _next(y, m)
    out.reverse()
    return out


def _link(endpoint: str, **values: object) -> str | None:
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except Exception:  # noqa: BLE001 — a link is a convenience; no request context in a job
        return None


def _balances(account_ids: list[int], until: date) -> dict[int, Decimal]:
    if not account_ids:
        return {}
    fen = func.sum(type_coerce(JournalLine.debit, BigInteger)) - func.sum(type_coerce(JournalLine.credit, BigInteger))
    stmt = (
        select(JournalLine.account_id, type_coerce(fen, Money()))
        .where(JournalLine.posted.is_(True), JournalLine.entry_date <= until, JournalLine.account_id.in_(account_ids))
        .group_by(JournalLine.account_id)
    )
    return {aid: bal for aid, bal in db.session.execute(stmt) if bal}


def _money(v: Decimal) -> str:
    return f"{v + 0:,.2f}"  # + 0 turns Decimal("-0.00") into 0.00


def close_checklist(tenant: Tenant, year: int, month: int) -> list[Check]:
    from crm.invoicing.models import Invoice  # noqa: PLC0415 — documents live above the books
    from crm.settlement import balances  # noqa: PLC0415
    from crm.settlement.models import Payment  # noqa: PLC0415

    first, last = date(year, month, 1), month_end(year, month)
    checks: list[Check] = []
    # (a) earlier months closed, in order from the books' start
    start = books.books_start(tenant)
    open_before: list[str] = []
    if start is not None:
        closed = {
            (p.year, p.month) for p in db.session.scalars(select(FiscalPeriod).where(FiscalPeriod.status == "closed"))
        }
        y, m = start.year, start.month
        while (y, m) < (year, month):
            if (y, m) not in closed:
                open_before.append(f"{y:04d}-{m:02d}")
            y, m = _next(y, m)
    checks.append(
        Check(
            "earlier_months", _("Earlier months are closed"), not open_before,
            _("Close these months first: %(months)s", months=", ".join(open_before)) if open_before else "",
            _link("books.periods"),
        )
    )  # fmt: skip
    # (b) no draft journal entries in the month
    drafts = db.session.scalar(
        select(func.count(JournalEntry.id)).where(
            JournalEntry.status == "draft", JournalEntry.entry_date >= first, JournalEntry.entry_date <= last
        )
    )
    checks.append(
        Check(
            "draft_entries", _("No draft journal entries in the month"), not drafts,
            _("%(num)d draft entries: post or delete them.", num=drafts) if drafts else "",
            _link("books.entries", status="draft", date_from=first.isoformat(), date_to=last.isoformat()),
        )
    )  # fmt: skip
    # (c) no draft invoices, bills, receipts or payments in the month
    draft_invoices = db.session.scalar(
        select(func.count(Invoice.id)).where(
            Invoice.status == "draft", Invoice.invoice_date >= first, Invoice.invoice_date <= last
        )
    )
    draft_payments = db.session.scalar(
        select(func.count(Payment.id)).where(
            Payment.status == "draft", Payment.payment_date >= first, Payment.payment_date <= last
        )
    )
    checks.append(
        Check(
            "draft_documents", _("No draft invoices, bills, receipts or payments in the month"),
            not draft_invoices and not draft_payments,
            _("%(invoices)d draft invoices or bills, %(payments)d draft receipts or payments: post or delete them.",
              invoices=draft_invoices, payments=draft_payments) if (draft_invoices or draft_payments) else "",
        )
    )  # fmt: skip

    # (d) sub-ledgers agree with their control accounts
    def ledger(key: str, label: str, role: str, sub: Decimal, sign: int) -> None:
        try:
            control = books.account_balance(books.account_for(role).id, until=last) * sign
        except RuleViolation:
            control = ZERO
        diff = sub - control
        detail = _(
            "Documents: %(sub)s · account: %(control)s · difference: %(diff)s",
            sub=_money(sub),
            control=_money(control),
            diff=_money(diff),
        )
        checks.append(Check(key, label, diff == ZERO, detail))

    ledger("receivables", _("Open invoices equal the receivables account"), "receivable",
           sum(balances.residuals_as_of("receivable", last).values(), ZERO), 1)  # fmt: skip
    ledger("payables", _("Open bills equal the payables account"), "payable",
           sum(balances.residuals_as_of("payable", last).values(), ZERO), -1)  # fmt: skip
    ledger("customer_credit", _("Unallocated receipts equal customer advances"), "customer_advance",
           sum(balances.unallocated_as_of("in", last).values(), ZERO), -1)  # fmt: skip
    ledger("prepayments", _("Unallocated payments equal prepayments"), "prepayment",
           sum(balances.unallocated_as_of("out", last).values(), ZERO), 1)  # fmt: skip
    return checks


def failed(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.ok]


def checklist_violation(checks: list[Check]) -> RuleViolation:
    return RuleViolation("close_checklist", {c.key: f"{c.label}: {c.detail}".rstrip(": ") for c in failed(checks)})


def _validate_month(tenant: Tenant, year: int, month: int) -> None:
    start = books.books_start(tenant)
    if start is None or (year, month) < (start.year, start.month):
        raise RuleViolation("before_books_start", {"period": _("This month is before the books start.")})
    today = books.today_in(tenant)
    if (year, month) > (today.year, today.month):
        raise RuleViolation("future_month", {"period": _("A month can be closed once it has begun.")})


def precheck_close(tenant: Tenant, actor: Membership | None, year: int, month: int) -> list[Check]:
    """What the request runs before submitting the job: refuses at once what the job would."""
    if actor is not None and not can(actor, "periods.close"):
        raise PermissionDenied("periods.close")
    _validate_month(tenant, year, month)
    row = books.period_row(year, month)
    if row is not None and row.status == "closed":
        raise RuleViolation("already_closed", {"period": _("This month is already closed.")})
    checks = close_checklist(tenant, year, month)
    if failed(checks):
        raise checklist_violation(checks)
    return checks


def _closing_lines(until: date) -> tuple[list[books.LineInput], Decimal, Decimal]:
    pl = list(db.session.scalars(select(Account.id).where(Account.type.in_(PROFIT_AND_LOSS_TYPES))))
    bal = _balances(pl, until)
    lines: list[books.LineInput] = []
    to_debit_profit = to_credit_profit = ZERO
    for aid in sorted(bal):
        b = bal[aid]
        if b > 0:  # a debit balance (expenses): credit it, debit 本年利润
            lines.append(books.LineInput(aid, credit=b))
            to_debit_profit += b
        else:  # a credit balance (revenue): debit it, credit 本年利润
            lines.append(books.LineInput(aid, debit=-b))
            to_credit_profit += -b
    return lines, to_debit_profit, to_credit_profit


def close_period(tenant: Tenant, actor: Membership | None, year: int, month: int) -> FiscalPeriod:
    """Close a month: check again under the period's row lock, post the closing entries, mark it closed."""
    if actor is not None and not can(actor, "periods.close"):
        raise PermissionDenied("periods.close")
    _validate_month(tenant, year, month)
    books.period_lock(tenant, year, month, exclusive=True)  # postings into the month wait, or are waited for
    row = books.period_row(year, month, for_update=True)
    if row is None:
        row = FiscalPeriod(year=year, month=month, status="open")
        db.session.add(row)
        db.session.flush()
        row = books.period_row(year, month, for_update=True)
        assert row is not None
    if row.status == "closed":
        raise RuleViolation("already_closed", {"period": _("This month is already closed.")})
    checks = close_checklist(tenant, year, month)
    if failed(checks):
        raise checklist_violation(checks)
    last = month_end(year, month)
    profit = books.account_for("current_profit")
    lines, dr, cr = _closing_lines(last)
    first_entry: JournalEntry | None = None
    if lines:
        lines += [books.LineInput(profit.id, debit=dr), books.LineInput(profit.id, credit=cr)]
        memo = books.memo(_l("Closing %(month)s: revenue and expenses to current-year profit", month=row.key))
        first_entry = books.post_lines(tenant, actor, last, memo, lines, source=("period", row.id), kind="closing")
    if month == fiscal_year_last_month(tenant):
        b = books.account_balance(profit.id, until=last)
        if b:
            undistributed = books.account_for("undistributed_profit")
            if b < 0:  # a profit (credit balance)
                carry = [books.LineInput(profit.id, debit=-b), books.LineInput(undistributed.id, credit=-b)]
            else:
                carry = [books.LineInput(undistributed.id, debit=b), books.LineInput(profit.id, credit=b)]
            memo = books.memo(_l("Year-end %(month)s: current-year profit to undistributed profit", month=row.key))
            year_end = books.post_lines(tenant, actor, last, memo, carry, source=("period", row.id), kind="closing")
            first_entry = first_entry or year_end
    row.status = "closed"
    row.closed_at = utcnow()
    row.closed_by_id = actor.id if actor else None
    row.closing_entry_id = first_entry.id if first_entry else None
    db.session.flush()
    record("period.close", row, actor=actor, object_type="FiscalPeriod", summary=row.key)
    return row


def closing_entries(period: FiscalPeriod) -> list[JournalEntry]:
    """The closing entries of a period still in force (not reversed)."""
    return list(
        db.session.scalars(
            select(JournalEntry)
            .where(
                JournalEntry.source_type == "period", JournalEntry.source_id == period.id,
                JournalEntry.kind == "closing", JournalEntry.status == "posted",
                JournalEntry.reversed_by_id.is_(None),
            )
            .order_by(JournalEntry.id.desc())
        )
    )  # fmt: skip


def reopen_period(tenant: Tenant, actor: Membership | None, year: int, month: int, reason: str) -> FiscalPeriod:
    """Re-open the latest closed month; its closing entries are reversed on the month's last day."""
    if actor is not None and not can(actor, "periods.reopen"):
        raise PermissionDenied("periods.reopen")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInputReason()
    row = books.period_row(year, month, for_update=True)
    if row is None or row.status != "closed":
        raise RuleViolation("not_closed", {"period": _("This month is not closed.")})
    later = db.session.scalar(
        select(func.count(FiscalPeriod.id)).where(
            FiscalPeriod.status == "closed",
            (FiscalPeriod.year > year) | ((FiscalPeriod.year == year) & (FiscalPeriod.month > month)),
        )
    )
    if later:
        raise RuleViolation("not_latest", {"period": _("Only the latest closed month can be re-opened.")})
    row.status = "open"
    row.reopened_at = utcnow()
    row.reopened_by_id = actor.id if actor else None
    row.reopen_reason = reason[:255]
    db.session.flush()
    last = month_end(year, month)
    for entry in closing_entries(row):
        books.reverse_entry(tenant, actor, entry, last, _("Re-open %(month)s: %(reason)s", month=row.key,
                                                              reason=reason[:200]))  # fmt: skip
    row.closing_entry_id = None
    db.session.flush()
    record("period.reopen", row, actor=actor, object_type="FiscalPeriod", summary=f"{row.key}: {reason[:200]}")
    return row


def InvalidInputReason() -> Exception:  # noqa: N802 — reads like the exception it builds
    from crm.sales.services import InvalidInput  # noqa: PLC0415

    return InvalidInput({"reason": _("Say why the month is re-opened.")})
