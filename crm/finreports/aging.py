"""AR / AP aging (账龄分析): the open residual of each document as of a date, by how long past
due it is. Age = as-of − due date (the document date when there is none); buckets: not yet due
(age < 0), 0–30, 31–60, 61–90, over 90 days, upper bounds inclusive. Residuals come from
crm.settlement.balances, so settlements dated after the as-of date do not reduce them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import select

from crm.books.services import today_in
from crm.db import db
from crm.finreports.base import Column, Report, register
from crm.finreports.common import ZERO, parse_date
from crm.invoicing.models import Invoice, Supplier
from crm.sales.models import Customer
from crm.settlement.balances import residuals_as_of
from tenants.models import Membership, Tenant

BUCKETS = ("not_due", "d0_30", "d31_60", "d61_90", "over_90")
BUCKET_LABELS = {
    "not_due": _l("Not yet due"),
    "d0_30": _l("0–30 days"),
    "d31_60": _l("31–60 days"),
    "d61_90": _l("61–90 days"),
    "over_90": _l("Over 90 days"),
}


def bucket_of(age_days: int) -> str:
    if age_days < 0:
        return "not_due"
    if age_days <= 30:
        return "d0_30"
    if age_days <= 60:
        return "d31_60"
    if age_days <= 90:
        return "d61_90"
    return "over_90"


@dataclass
class OpenDocument:
    id: int
    number: str
    party_id: int | None
    invoice_date: date
    due_date: date | None
    residual: Decimal
    age: int
    bucket: str


@dataclass
class Aging:
    as_of: date
    documents: list[OpenDocument] = field(default_factory=list)
    parties: dict[int | None, str] = field(default_factory=dict)

    def totals(self) -> dict[str, Decimal]:
        out = dict.fromkeys(BUCKETS, ZERO)
        for d in self.documents:
            out[d.bucket] += d.residual
        return out


def open_documents(direction: str, as_of: date, *, with_names: bool = True) -> Aging:
    """Posted documents of one direction open on the as-of date (three queries at most)."""
    residuals = residuals_as_of(direction, as_of)
    result = Aging(as_of)
    if not residuals:
        return result
    party_col = Invoice.customer_id if direction == "receivable" else Invoice.supplier_id
    stmt = select(Invoice.id, Invoice.number, party_col, Invoice.invoice_date, Invoice.due_date).where(
        Invoice.id.in_(list(residuals))
    )
    for iid, number, party_id, inv_date, due in db.session.execute(stmt):
        age = (as_of - (due or inv_date)).days
        result.documents.append(
            OpenDocument(iid, number, party_id, inv_date, due, residuals[iid], age, bucket_of(age))
        )  # fmt: skip
    if with_names:
        model = Customer if direction == "receivable" else Supplier
        ids = {d.party_id for d in result.documents if d.party_id is not None}
        if ids:
            result.parties = dict(db.session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())
    return result


def _truthy(raw: Any) -> bool:
    return str(raw).strip().lower() in ("1", "true", "yes", "on") if raw is not None else False


def _aging(direction: str, key: str, title: Any, tenant: Tenant, params: dict[str, Any]) -> Report:
    as_of = parse_date(params, "as_of", today_in(tenant))
    assert as_of is not None
    detail = _truthy(params.get("detail"))
    aging = open_documents(direction, as_of)
    party_label = _l("Customer") if direction == "receivable" else lazy_pgettext("party", "Supplier")
    bucket_cols = [Column(b, BUCKET_LABELS[b], "money") for b in BUCKETS] + [Column("total", _l("Total"), "money")]
    totals = aging.totals()
    grand = sum(totals.values(), ZERO)
    rows: list[list[Any]] = []
    unnamed = _("(no party)")
    if detail:
        columns = [
            Column("party", party_label, "text", 24),
            Column("number", _l("Document"), "text", 16),
            Column("invoice_date", _l("Date"), "date", 11),
            Column("due_date", _l("Due"), "date", 11),
            Column("days", _l("Days overdue"), "int", 8),
            *bucket_cols,
        ]
        docs = sorted(
            aging.documents,
            key=lambda d: (aging.parties.get(d.party_id, unnamed), d.due_date or d.invoice_date, d.number),
        )
        for d in docs:
            amounts = [d.residual if b == d.bucket else None for b in BUCKETS]
            rows.append([aging.parties.get(d.party_id, unnamed), d.number, d.invoice_date, d.due_date, d.age,
                         *amounts, d.residual])  # fmt: skip
        total_row: list[Any] = [_("Total"), "", None, None, None]
    else:
        columns = [Column("party", party_label, "text", 28), *bucket_cols]
        per_party: dict[int | None, dict[str, Decimal]] = {}
        for d in aging.documents:
            acc = per_party.setdefault(d.party_id, dict.fromkeys(BUCKETS, ZERO))
            acc[d.bucket] += d.residual
        for pid, acc in sorted(per_party.items(), key=lambda kv: aging.parties.get(kv[0], unnamed)):
            rows.append([aging.parties.get(pid, unnamed), *[acc[b] for b in BUCKETS], sum(acc.values(), ZERO)])
        total_row = [_("Total")]
    return Report(
        key=key,
        title=title,
        subtitle=_("As of %(date)s", date=as_of.isoformat()),
        columns=columns,
        rows=rows,
        totals=[[*total_row, *[totals[b] for b in BUCKETS], grand]],
        params={"as_of": as_of.isoformat(), **({"detail": True} if detail else {})},
        row_count=len(rows),
    )


@register("ar_aging")
def ar_aging(tenant: Tenant, actor: Membership, params: dict[str, Any]) -> Report:
    return _aging("receivable", "ar_aging", _l("Receivables aging"), tenant, params)


@register("ap_aging")
def ap_aging(tenant: Tenant, actor: Membership, params: dict[str, Any]) -> Report:
    return _aging("payable", "ap_aging", _l("Payables aging"), tenant, params)


def chart(report: Report) -> dict[str, Any]:
    """A Chart.js stacked bar of the buckets per party (top 10 by total), from an aging report."""
    rows = [r for r in report.rows if isinstance(r, list)]
    n = len(BUCKETS)
    if report.params.get("detail"):
        per: dict[str, list[Decimal]] = {}
        for r in rows:
            acc = per.setdefault(r[0], [ZERO] * n)
            for i in range(n):
                acc[i] += r[5 + i] or ZERO
        items = list(per.items())
    else:
        items = [(r[0], list(r[1 : 1 + n])) for r in rows]
    items.sort(key=lambda kv: sum(kv[1], ZERO), reverse=True)
    items = items[:10]
    colours = ("#6c757d", "#198754", "#ffc107", "#fd7e14", "#dc3545")
    return {
        "type": "bar",
        "data": {
            "labels": [name for name, _v in items],
            "datasets": [
                {"label": str(BUCKET_LABELS[b]), "data": [str(v[i]) for _n, v in items], "backgroundColor": colours[i]}
                for i, b in enumerate(BUCKETS)
            ],
        },
        "options": {
            "plugins": {"legend": {"display": True}},
            "scales": {"x": {"stacked": True}, "y": {"stacked": True, "beginAtZero": True}},
        },
    }
