"""Helpers for the product and quote tests: arrange through the real services, read back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask

from crm.catalog import services as catalog
from crm.catalog.models import Product
from crm.db import db
from crm.quotes import services as quotes
from crm.quotes.models import Quote
from crm.sales.models import Customer
from tenants.context import tenant_context
from tenants.models import Membership, Tenant
from tests import factories
from tests.factories import MemberInfo
from tests.helpers import in_tenant


def make_product(
    manager: Membership, code: str, name: str, price: str = "100.00", rate: str = "0.13", **kw: Any
) -> Product:
    """Inside an app context; flushes (the caller commits)."""
    with tenant_context(manager.tenant_id, user_id=manager.user_id):
        p = catalog.create_product(manager, {"code": code, "name": name, "list_price": price, "vat_rate": rate, **kw})
        db.session.flush()
    return p


def make_quote(rep: Membership, customer_id: int, lines: list[dict[str, Any]] | None = None, **kw: Any) -> Quote:
    with tenant_context(rep.tenant_id, user_id=rep.user_id):
        customer = db.session.get(Customer, customer_id)
        tenant = db.session.get(Tenant, rep.tenant_id)
        q = quotes.create_quote(
            rep, tenant, customer,
            quotes.QuoteInput(lines=lines or [{"description": "实施服务", "quantity": "1", "unit_price": "1000.00",
                                               "tax_rate": "0.06"}], **kw),
        )  # fmt: skip
        db.session.flush()
    return q


def product(app: Flask, manager: MemberInfo, code: str, name: str, **kw: Any) -> int:
    with app.app_context():
        with tenant_context(manager.tenant_id):
            row = factories.member_row(manager)
        pid = make_product(row, code, name, **kw).id
        db.session.commit()
        return pid


def quote(app: Flask, rep: MemberInfo, customer_id: int, lines: list[dict[str, Any]] | None = None, **kw: Any) -> int:
    with app.app_context():
        with tenant_context(rep.tenant_id):
            row = factories.member_row(rep)
        qid = make_quote(row, customer_id, lines, **kw).id
        db.session.commit()
        return qid


def read_quote(app: Flask, tenant_id: int, quote_id: int) -> dict[str, Any]:
    with in_tenant(app, tenant_id):
        q = db.session.get(Quote, quote_id)
        assert q is not None
        return {
            "number": q.number, "version": q.version, "display_number": q.display_number, "status": q.status,
            "total_excl": q.total_excl, "total_tax": q.total_tax, "total_incl": q.total_incl,
            "lines": [(x.description, x.quantity, x.unit_price, x.amount_excl, x.tax, x.amount_incl) for x in q.lines],
        }  # fmt: skip


D = Decimal
