"""Helpers for the order tests: arrange through the real services, read back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from crm.contracts.models import Contract
from crm.db import db
from crm.orders import services as orders
from crm.orders.models import Order
from crm.quotes import services as quotes
from crm.quotes.models import Quote
from crm.sales.models import Customer
from tenants.context import tenant_context
from tenants.models import Membership, Tenant
from tests import factories
from tests.factories import MemberInfo
from tests.helpers import in_tenant

HAND_LINES = [{"description": "实施服务", "quantity": "2", "unit_price": "1000.00", "tax_rate": "0.06"}]


def make_order(
    rep: Membership,
    customer_id: int,
    lines: list[dict[str, Any]] | None = None,
    *,
    quote_id: int | None = None,
    contract_id: int | None = None,
    **kw: Any,
) -> Order:
    """Inside an app context; flushes (the caller commits)."""
    with tenant_context(rep.tenant_id, user_id=rep.user_id):
        customer = db.session.get(Customer, customer_id)
        tenant = db.session.get(Tenant, rep.tenant_id)
        quote = db.session.get(Quote, quote_id) if quote_id else None
        contract = db.session.get(Contract, contract_id) if contract_id else None
        if lines is None and quote is None and contract is None:
            lines = HAND_LINES
        o = orders.create_order(
            rep, tenant, customer, orders.OrderInput(lines=lines, **kw), quote=quote, contract=contract
        )
        db.session.flush()
    return o


def _row(member: MemberInfo) -> Membership:
    with tenant_context(member.tenant_id):
        return factories.member_row(member)


def order(app: Flask, rep: MemberInfo, customer_id: int, lines: list[dict[str, Any]] | None = None, **kw: Any) -> int:
    with app.app_context():
        oid = make_order(_row(rep), customer_id, lines, **kw).id
        db.session.commit()
        return oid


def set_quote_status(app: Flask, tenant_id: int, quote_id: int, status: str) -> None:
    with in_tenant(app, tenant_id):
        db.session.get(Quote, quote_id).status = status
        db.session.commit()


def contract(
    app: Flask, rep: MemberInfo, customer_id: int, *, title: str = "年度维保合同", amount: str = "11300.00",
    status: str = "active", quote_id: int | None = None,
) -> int:  # fmt: skip
    """A contract row as the contracts context leaves it once approved (status set directly)."""
    with in_tenant(app, rep.tenant_id):
        n = db.session.scalar(select(func.count(Contract.id))) or 0
        c = Contract(
            number=f"HT-{date.today().year}-{n + 1:04d}", title=title, customer_id=customer_id, quote_id=quote_id,
            owner_id=rep.id, created_by_id=rep.id, status=status, amount=Decimal(amount),
        )  # fmt: skip
        db.session.add(c)
        db.session.commit()
        return c.id


def deliver(app: Flask, rep: MemberInfo, order_id: int, quantities: list[str]) -> None:
    """Set the delivered quantity of each line, in line order."""
    with app.app_context():
        row = _row(rep)
        with tenant_context(rep.tenant_id, user_id=rep.user_id):
            o = orders.load_order(order_id)
            orders.record_delivery(row, o, {x.id: q for x, q in zip(o.lines, quantities, strict=True)})
            db.session.commit()


def read_order(app: Flask, tenant_id: int, order_id: int) -> dict[str, Any] | None:
    with in_tenant(app, tenant_id):
        o = db.session.get(Order, order_id)
        if o is None:
            return None
        return {
            "number": o.number, "customer_id": o.customer_id, "quote_id": o.quote_id, "contract_id": o.contract_id,
            "owner_id": o.owner_id, "order_date": o.order_date, "province": o.province, "city": o.city,
            "delivery_status": o.delivery_status, "prices_include_tax": o.prices_include_tax, "notes": o.notes,
            "total_excl": o.total_excl, "total_tax": o.total_tax, "total_incl": o.total_incl,
            "lines": [(x.description, x.quantity, x.unit_price, x.amount_excl, x.tax, x.amount_incl) for x in o.lines],
            "delivered": [x.delivered_quantity for x in o.lines],
            "line_ids": [x.id for x in o.lines],
        }  # fmt: skip


def order_ids(app: Flask, tenant_id: int) -> list[int]:
    with in_tenant(app, tenant_id):
        return list(db.session.scalars(select(Order.id).order_by(Order.id)))


def quote(app: Flask, rep: MemberInfo, customer_id: int, lines: list[dict[str, Any]] | None = None, **kw: Any) -> int:
    with app.app_context():
        row = _row(rep)
        with tenant_context(rep.tenant_id, user_id=rep.user_id):
            q = quotes.create_quote(
                row, db.session.get(Tenant, rep.tenant_id), db.session.get(Customer, customer_id),
                quotes.QuoteInput(lines=lines or HAND_LINES, **kw),
            )  # fmt: skip
            db.session.commit()
            return q.id


D = Decimal
