"""The sales ledger in the role × route matrix and the cross-tenant walk (tests/areas.py), and
the ledger data the ledger tests share.

The ledger is for members with sales access (owner, admin, sales manager, sales rep; finance
has none: 403). Setting targets needs targets.manage (owner, admin, sales manager). World
objects per workspace: a target of the sales rep (set by the owner) and the rep's saved view.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from flask import Flask

from crm.db import db
from tests.areas import row

D = Decimal

LEDGER = "/w/<slug>/sales/ledger"
API_TARGET = "/api/v1/sales-targets/<int:sales_target_id>"
API_VIEW = "/api/v1/ledger/views/<int:ledger_view_id>"

SALES = row(404, 200, 200, 200, 200, 403)
API = row(401, 200, 200, 200, 200, 403)

# fmt: off
#                                                         anon owner admin mgr sales finance
ROWS: dict[tuple[str, str], dict[str, int]] = {
    ("GET", LEDGER):                                      SALES,
    ("GET", LEDGER + "/summary"):                         SALES,
    ("GET", LEDGER + "/growth"):                          SALES,
    ("GET", LEDGER + "/charts"):                          SALES,
    ("GET", LEDGER + "/targets"):                         SALES,
    ("POST", LEDGER + "/targets"):                        row(404, 400, 400, 400, 403, 403),  # empty form
    ("POST", LEDGER + "/targets/<int:sales_target_id>/delete"): row(404, 302, 302, 302, 403, 403),
    ("POST", LEDGER + "/views"):                          row(404, 400, 400, 400, 400, 403),  # no name
    ("GET", LEDGER + "/views/<int:ledger_view_id>"):      row(404, 404, 404, 404, 302, 403),  # the rep's own
    ("POST", LEDGER + "/views/<int:ledger_view_id>/delete"): row(404, 404, 404, 404, 302, 403),
    ("POST", LEDGER + "/export"):                         row(404, 400, 400, 400, 400, 403),  # nothing chosen
    ("GET", "/api/v1/ledger"):                            API,
    ("GET", "/api/v1/ledger/summary"):                    API,
    ("GET", "/api/v1/ledger/growth"):                     API,
    ("GET", "/api/v1/ledger/ranking"):                    row(401, 422, 422, 422, 422, 403),  # no period
    ("POST", "/api/v1/ledger/export"):                    row(401, 202, 202, 202, 202, 403),  # the whole ledger
    ("GET", "/api/v1/ledger/views"):                      API,
    ("POST", "/api/v1/ledger/views"):                     row(401, 422, 422, 422, 422, 403),  # no name
    ("GET", API_VIEW):                                    row(401, 404, 404, 404, 200, 403),
    ("DELETE", API_VIEW):                                 row(401, 404, 404, 404, 204, 403),
    ("GET", "/api/v1/sales-targets"):                     API,
    ("POST", "/api/v1/sales-targets"):                    row(401, 422, 422, 422, 403, 403),  # empty body
    ("GET", API_TARGET):                                  API,
    ("PATCH", API_TARGET):                                row(401, 422, 422, 422, 403, 403),  # no amount
    ("DELETE", API_TARGET):                               row(401, 204, 204, 204, 403, 403),
}
# fmt: on

PARAMS = {
    "sales_target_id": lambda w, role: w.sales_target_id["a"],
    "ledger_view_id": lambda w, role: w.ledger_view_id["a"],
}
OBJECTS = {
    "sales_target_id": lambda w: w.sales_target_id["a"],
    "ledger_view_id": lambda w: w.ledger_view_id["a"],
}


def build(app: Flask, world: Any) -> None:
    """The objects named in the module docstring, in every workspace of the world."""
    from crm.ledger import services
    from tenants.context import tenant_context
    from tenants.models import Membership, Tenant

    world.sales_target_id, world.ledger_view_id = {}, {}
    with app.app_context():
        for key, t in world.tenants.items():
            with tenant_context(t.id, user_id=t["owner"].user_id):
                tenant = db.session.get(Tenant, t.id)
                owner = db.session.get(Membership, t["owner"].id)
                rep = db.session.get(Membership, t["sales"].id)
                target = services.set_target(tenant, owner, rep.id, "2026-03", "50000")
                view = services.save_view(tenant, rep, "我的台账", {"status": "all"})
                world.sales_target_id[key] = target.id
                world.ledger_view_id[key] = view.id
                db.session.commit()


# ---------------------------------------------------------------- the ledger tests' data


def product(actor: Any, code: str, name: str) -> Any:
    from crm.catalog import services as catalog

    p = catalog.create_product(actor, {"code": code, "name": name, "list_price": "100.00", "vat_rate": "0.13"})
    db.session.flush()
    return p


def customer(owner: Any, name: str, province: str) -> Any:
    from tests.factories import make_customer

    return make_customer(owner, name, province=province)[0]


def order(rep: Any, customer_id: int, day: date, lines: list[tuple[Any, str, str]], **kw: Any) -> Any:
    """An order through the service: lines are (product or None, quantity, unit price) at 13%."""
    from crm.orders import services as orders
    from crm.sales.models import Customer
    from tenants.models import Tenant

    raw = [
        {"product_id": p.id if p is not None else None, "description": p.name if p is not None else "杂项",
         "quantity": q, "unit_price": price, "tax_rate": "0.13"}
        for p, q, price in lines
    ]  # fmt: skip
    tenant = db.session.get(Tenant, rep.tenant_id)
    o = orders.create_order(
        rep, tenant, db.session.get(Customer, customer_id), orders.OrderInput(lines=raw, order_date=day, **kw)
    )
    db.session.flush()
    return o


def paid_invoice(order_obj: Any, received: str) -> Any:
    """A posted customer invoice for the whole order with ``received`` settled (open_amount is what
    crm.settlement keeps as total − settlements)."""
    from tenants.models import Tenant
    from tests.settlement_factories import make_document

    tenant = db.session.get(Tenant, order_obj.tenant_id)
    doc = make_document(tenant, None, "receivable", order_obj.customer_id, order_obj.total_incl, order_obj.order_date)
    doc.order_id = order_obj.id
    doc.open_amount = order_obj.total_incl - D(received)
    db.session.flush()
    return doc


def build_ledger(app: Flask, tenant_a: Any, tenant_b: Any) -> SimpleNamespace:
    """The orders of tests/test_ledger.py's docstring in workspace a, and one order in b."""
    from crm.orders import services as orders
    from tenants.models import Membership
    from tests import factories
    from tests.helpers import in_tenant

    with app.app_context():
        rep2 = factories.add_member(tenant_a, "sales", "rep2@alpha.example.com", "李四")
        db.session.commit()
    ns = SimpleNamespace(t=tenant_a, rep2=rep2)
    with in_tenant(app, tenant_a.id, tenant_a["owner"].user_id):
        owner = db.session.get(Membership, tenant_a["owner"].id)
        rep = db.session.get(Membership, tenant_a["sales"].id)
        r2 = db.session.get(Membership, rep2.id)
        server = product(owner, "SRV", "服务器")
        switch = product(owner, "SW", "交换机")
        c1 = customer(rep, "苏州甲科技有限公司", "江苏省")
        c2 = customer(rep, "杭州乙贸易有限公司", "浙江省")
        c3 = customer(r2, "广州丙电子有限公司", "广东省")
        o1 = order(rep, c1.id, date(2026, 3, 2), [(server, "2", "1000.00"), (switch, "3", "200.00")])
        o2 = order(rep, c2.id, date(2026, 3, 9), [(server, "1", "1000.00")])
        o3 = order(r2, c3.id, date(2026, 2, 10), [(switch, "5", "200.00")])
        o4 = order(rep, c1.id, date(2026, 3, 10), [(server, "1", "500.00")])
        orders.cancel_order(rep, o4, "客户取消")
        o5 = order(rep, c2.id, date(2025, 3, 15), [(server, "1", "800.00")])
        paid_invoice(o1, "1000.00")
        ns.server, ns.switch, ns.c1, ns.c2, ns.c3 = server.id, switch.id, c1.id, c2.id, c3.id
        ns.o1, ns.o2, ns.o3, ns.o4, ns.o5 = o1.id, o2.id, o3.id, o4.id, o5.id
        ns.o1_incl = o1.total_incl
        db.session.commit()
    with in_tenant(app, tenant_b.id, tenant_b["owner"].user_id):
        rep_b = db.session.get(Membership, tenant_b["sales"].id)
        cb = customer(rep_b, "Beta Customer", "江苏省")
        order(rep_b, cb.id, date(2026, 3, 3), [(None, "7", "7777.00")])
        db.session.commit()
    return ns


def url(t, *parts, **query) -> str:
    from urllib.parse import urlencode

    path = "/".join([f"/w/{t.slug}/sales/ledger", *[str(p) for p in parts]]).rstrip("/")
    return path + ("?" + urlencode(query) if query else "")
