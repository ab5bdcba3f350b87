"""The Finance dashboard's figures: a fixed handful of statements whatever the data size."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, case, literal, select

from crm.books.models import Account, JournalEntry, JournalLine
from crm.books.services import is_set_up, today_in
from crm.db import db
from crm.finreports.aging import BUCKET_LABELS, BUCKETS, open_documents
from crm.finreports.common import ZERO, add_months, fen, money_sum, net_when, sum_when
from crm.invoicing.models import Invoice
from tenants.models import Tenant


@dataclass
class FinanceDashboard:
    set_up: bool
    today: date
    ar_open: Decimal = ZERO
    ar_overdue: Decimal = ZERO
    ap_open: Decimal = ZERO
    ap_due_soon: Decimal = ZERO
    cash: Decimal = ZERO
    revenue_this_month: Decimal = ZERO
    revenue_last_month: Decimal = ZERO
    months: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)  # (YYYY-MM, revenue, expenses)
    aging: dict[str, Decimal] = field(default_factory=dict)

    @property
    def revenue_change(self) -> Decimal | None:
        if not self.revenue_last_month:
            return None
        return ((self.revenue_this_month - self.revenue_last_month) / abs(self.revenue_last_month) * 100).quantize(
            Decimal("0.1")
        )

    @property
    def has_movements(self) -> bool:
        return any(r or e for _m, r, e in self.months)

    @property
    def has_aging(self) -> bool:
        return any(self.aging.values())


def build(tenant: Tenant) -> FinanceDashboard:
    today = today_in(tenant)
    d = FinanceDashboard(set_up=is_set_up(tenant), today=today)
    if not d.set_up:
        return d
    soon = today + timedelta(days=7)
    is_open = Invoice.status == "posted"
    ar = and_(is_open, Invoice.direction == "receivable")
    ap = and_(is_open, Invoice.direction == "payable")
    row = db.session.execute(
        select(
            sum_when(ar, Invoice.open_amount),
            sum_when(and_(ar, Invoice.due_date < today), Invoice.open_amount),
            sum_when(ap, Invoice.open_amount),
            sum_when(and_(ap, Invoice.due_date <= soon), Invoice.open_amount),
        ).where(Invoice.status == "posted")
    ).one()
    d.ar_open, d.ar_overdue, d.ap_open, d.ap_due_soon = row
    d.cash = (
        db.session.scalar(
            select(net_when(literal(True)))
            .join(Account, Account.id == JournalLine.account_id)
            .where(JournalLine.posted.is_(True), Account.is_cash.is_(True), JournalLine.entry_date <= today)
        )
        or ZERO
    )

    # Twelve months of revenue and expenses in one statement (closing entries left out).
    first = add_months(today.replace(day=1), -11)
    starts = [add_months(first, i) for i in range(13)]
    cols: list[Any] = []
    for i in range(12):
        within = and_(JournalLine.entry_date >= starts[i], JournalLine.entry_date < starts[i + 1])
        credit_minus_debit = fen(JournalLine.credit) - fen(JournalLine.debit)
        cols.append(money_sum(case((and_(within, Account.type == "revenue"), credit_minus_debit), else_=0)))
        cols.append(money_sum(case((and_(within, Account.type == "expense"), -credit_minus_debit), else_=0)))
    sums = db.session.execute(
        select(*cols)
        .join(Account, Account.id == JournalLine.account_id)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.posted.is_(True), JournalLine.entry_date >= first, JournalLine.entry_date < starts[12],
            Account.type.in_(("revenue", "expense")), JournalEntry.kind != "closing",
        )
    ).one()  # fmt: skip
    d.months = [(starts[i].strftime("%Y-%m"), sums[2 * i] or ZERO, sums[2 * i + 1] or ZERO) for i in range(12)]
    d.revenue_this_month, d.revenue_last_month = d.months[-1][1], d.months[-2][1]

    aging = open_documents("receivable", today, with_names=False)
    d.aging = aging.totals()
    return d


def charts(d: FinanceDashboard) -> dict[str, dict[str, Any]]:
    return {
        "revenue": {
            "type": "bar",
            "data": {
                "labels": [m for m, _r, _e in d.months],
                "datasets": [
                    {"label": _("Revenue"), "data": [str(r) for _m, r, _e in d.months], "backgroundColor": "#198754"},
                    {"label": _("Expenses"), "data": [str(e) for _m, _r, e in d.months], "backgroundColor": "#dc3545"},
                ],
            },
            "options": {"plugins": {"legend": {"display": True}}, "scales": {"y": {"beginAtZero": True}}},
        },
        "aging": {
            "type": "bar",
            "data": {
                "labels": [str(BUCKET_LABELS[b]) for b in BUCKETS],
                "datasets": [
                    {
                        "label": _("Open receivables"),
                        "data": [str(d.aging.get(b, ZERO)) for b in BUCKETS],
                        "backgroundColor": ["#6c757d", "#198754", "#ffc107", "#fd7e14", "#dc3545"],
                    }
                ],
            },
            "options": {"scales": {"y": {"beginAtZero": True}}},
        },
    }
