"""Data for the finance report tests: books set up, entries posted through crm.books.services,
invoices and settlements written directly (their services are built elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select

from crm.books import services as books
from crm.books.models import Account
from crm.books.services import LineInput
from crm.db import db, utcnow
from crm.invoicing.models import Invoice
from crm.settlement.models import Settlement
from tenants.models import Tenant
from tests import factories, sales_factories
from tests.factories import MemberInfo, TenantInfo
from tests.helpers import in_tenant

D = Decimal


def acc(role_or_code: str) -> int:
    if role_or_code.isdigit():
        return db.session.scalars(select(Account.id).where(Account.code == role_or_code)).one()
    return books.account_for(role_or_code).id


def dr(account: str, amount: str, party: tuple[str, int] | None = None, memo: str | None = None) -> LineInput:
    return LineInput(acc(account), debit=amount, party_type=party[0] if party else None,
                     party_id=party[1] if party else None, memo=memo)  # fmt: skip


def cr(account: str, amount: str, party: tuple[str, int] | None = None, memo: str | None = None) -> LineInput:
    return LineInput(acc(account), credit=amount, party_type=party[0] if party else None,
                     party_id=party[1] if party else None, memo=memo)  # fmt: skip


@dataclass
class Books:
    """The hand-made set every figure test checks (small-enterprise standard, books from 2026-01)."""

    customer_id: int
    entries: dict[str, int] = field(default_factory=dict)


def set_up(app: Flask, t: TenantInfo, standard: str = "small", start: date = date(2026, 1, 1)) -> None:
    with in_tenant(app, t.id):
        tenant = db.session.get(Tenant, t.id)
        books.set_up_books(tenant, factories.member_row(t["finance"]), standard, start)
        db.session.commit()


def post(app: Flask, t: TenantInfo, when: date, memo: str, lines: Any, kind: str = "document") -> int:
    with in_tenant(app, t.id):
        tenant = db.session.get(Tenant, t.id)
        actor = factories.member_row(t["finance"])
        entry = books.post_lines(tenant, actor, when, memo, lines() if callable(lines) else lines, kind=kind)
        db.session.commit()
        return entry.id


def standard_books(app: Flask, t: TenantInfo, standard: str = "small", customer_name: str = "华东贸易") -> Books:
    """E1 capital in; E2 invoice 11,300 to the customer; E3 expense 2,000; E6 February closed to 本年利润;
    E4 receipt 5,000 (预收) and E5 its allocation to the invoice (nets to 0 for the customer)."""
    set_up(app, t, standard)
    cid = sales_factories.customer(app, t["owner"], customer_name)
    capital = "3001" if standard == "small" else "4001"
    c = ("customer", cid)
    b = Books(cid)
    b.entries["e1"] = post(app, t, date(2026, 1, 5), "投资款", lambda: [dr("bank", "100000"), cr(capital, "100000")])
    b.entries["e2"] = post(
        app, t, date(2026, 2, 10), "销售发票 AR-1",
        lambda: [dr("receivable", "11300", c), cr("revenue", "10000"), cr("vat_output", "1300")],
    )  # fmt: skip
    b.entries["e3"] = post(
        app, t, date(2026, 2, 20), "办公费", lambda: [dr("admin_expense", "2000"), cr("bank", "2000")]
    )
    b.entries["e6"] = post(
        app, t, date(2026, 2, 28), "结转损益",
        lambda: [dr("revenue", "10000"), cr("admin_expense", "2000"), cr("current_profit", "8000")], kind="closing",
    )  # fmt: skip
    b.entries["e4"] = post(
        app, t, date(2026, 3, 5), "收款 SK-1", lambda: [dr("bank", "5000"), cr("customer_advance", "5000", c)]
    )
    b.entries["e5"] = post(
        app, t, date(2026, 3, 5), "核销 SK-1 → AR-1",
        lambda: [dr("customer_advance", "5000", c), cr("receivable", "5000", c)],
    )  # fmt: skip
    return b


def invoice(
    app: Flask, t: TenantInfo, entry_id: int, number: str, amount: str, invoice_date: date,
    due_date: date | None, *, customer_id: int | None = None, supplier_id: int | None = None,
    direction: str = "receivable",
) -> int:  # fmt: skip
    with in_tenant(app, t.id):
        inv = Invoice(
            direction=direction, number=number, customer_id=customer_id, supplier_id=supplier_id,
            invoice_date=invoice_date, due_date=due_date, status="posted", total_excl=D(amount), total_tax=D("0"),
            total_incl=D(amount), open_amount=D(amount), entry_id=entry_id,
        )  # fmt: skip
        db.session.add(inv)
        db.session.commit()
        return inv.id


def settle(
    app: Flask, t: TenantInfo, invoice_id: int, amount: str, settled_on: date, undone_on: date | None = None
) -> int:
    with in_tenant(app, t.id):
        s = Settlement(kind="write_off", invoice_id=invoice_id, amount=D(amount), settled_on=settled_on,
                       undone_on=undone_on, created_at=utcnow(), reason="test")  # fmt: skip
        db.session.add(s)
        db.session.commit()
        return s.id


def supplier(app: Flask, t: TenantInfo, name: str) -> int:
    from crm.invoicing.models import Supplier  # noqa: PLC0415

    with in_tenant(app, t.id):
        s = Supplier(name=name)
        db.session.add(s)
        db.session.commit()
        return s.id


def member(t: TenantInfo, role: str = "finance") -> MemberInfo:
    return t[role]
