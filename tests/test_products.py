"""Products: the catalogue, managed by sales managers and admins, read by everyone in Sales."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.catalog.models import Product
from crm.db import db
from tests import quote_factories as qf
from tests.helpers import ApiClient, in_tenant, post, text_of


@pytest.fixture
def api(client, token_for):
    return lambda member: ApiClient(client, token_for(member))


def _products(app, tenant_id):
    with in_tenant(app, tenant_id):
        return [(p.code, p.name, p.list_price, p.vat_rate, p.active) for p in db.session.scalars(select(Product))]


def test_manager_creates_a_product_through_the_form(app, tenant_a, client_as):
    c = client_as(tenant_a["sales_manager"])
    r = post(
        c,
        f"/w/{tenant_a.slug}/sales/products/new",
        {"code": "SRV-01", "name": "实施服务", "specification": "按人天", "unit": "人天", "list_price": "1,280.50",
         "vat_rate": "0.06", "category": "服务", "active": "y"},
    )  # fmt: skip
    assert r.status_code == 302, text_of(r)
    assert _products(app, tenant_a.id) == [("SRV-01", "实施服务", Decimal("1280.50"), Decimal("0.06"), True)]
    page = text_of(c.get(f"/w/{tenant_a.slug}/sales/products"))
    assert "SRV-01" in page and "1,280.50" in page and "6 %" in page


def test_a_sales_rep_reads_products_but_cannot_manage_them(app, tenant_a, client_as):
    qf.product(app, tenant_a["owner"], "HW-1", "服务器")
    rep = client_as(tenant_a["sales"])
    assert "服务器" in text_of(rep.get(f"/w/{tenant_a.slug}/sales/products"))
    assert rep.get(f"/w/{tenant_a.slug}/sales/products/new").status_code == 403
    r = post(
        rep, f"/w/{tenant_a.slug}/sales/products/new", {"code": "X", "name": "X", "list_price": "1", "vat_rate": "0.13"}
    )
    assert r.status_code == 403
    assert len(_products(app, tenant_a.id)) == 1


def test_bad_price_and_rate_are_refused_and_nothing_is_saved(app, tenant_a, client_as):
    c = client_as(tenant_a["admin"])
    r = post(
        c, f"/w/{tenant_a.slug}/sales/products/new",
        {"code": "A", "name": "A", "list_price": "-5", "vat_rate": "0.13"},
    )  # fmt: skip
    assert r.status_code == 400
    assert "is-invalid" in text_of(r)
    assert _products(app, tenant_a.id) == []


def test_product_code_is_unique_per_workspace(app, tenant_a, tenant_b, api):
    qf.product(app, tenant_a["owner"], "P-100", "产品甲")
    r = api(tenant_a["admin"]).post("/products", {"code": "p-100", "name": "重复", "list_price": "1.00"})
    assert r.status_code == 422
    assert "code" in r.get_json()["errors"]["json"]
    # The same code is free in another workspace.
    r = api(tenant_b["owner"]).post("/products", {"code": "P-100", "name": "Other", "list_price": "1.00"})
    assert r.status_code == 201, r.get_json()
    assert len(_products(app, tenant_a.id)) == 1 and len(_products(app, tenant_b.id)) == 1


def test_unique_constraint_leads_with_tenant_id():
    uq = [c for c in Product.__table__.constraints if c.__class__.__name__ == "UniqueConstraint"]
    assert [list(c.columns.keys()) for c in uq] == [["tenant_id", "code"]]


def test_api_create_get_patch_and_deactivate(app, tenant_a, api):
    mgr = api(tenant_a["sales_manager"])
    r = mgr.post(
        "/products", {"code": "HW-9", "name": "交换机", "unit": "台", "list_price": "3999.00", "vat_rate": "13"}
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["vat_rate"] == "0.13" and body["list_price"] == "3999.00" and body["active"] is True
    pid = body["id"]
    assert api(tenant_a["sales"]).get(f"/products/{pid}").get_json()["name"] == "交换机"
    r = mgr.patch(f"/products/{pid}", {"list_price": "3899.5"})
    assert r.status_code == 200 and r.get_json()["list_price"] == "3899.50"
    assert api(tenant_a["sales"]).patch(f"/products/{pid}", {"name": "x"}).status_code == 403
    assert mgr.delete(f"/products/{pid}").status_code == 204
    assert api(tenant_a["sales"]).get(f"/products/{pid}").get_json()["active"] is False
    with in_tenant(app, tenant_a.id):
        # Without ORDER BY PostgreSQL may return rows in any order (a previous test's DELETE freed space).
        entries = select(AuditEntry).where(AuditEntry.object_type == "Product").order_by(AuditEntry.id)
        actions = [e.action for e in db.session.scalars(entries)]
    assert actions == ["product.created", "product.updated", "product.deactivated"]


def test_api_422_names_the_field(app, tenant_a, api):
    mgr = api(tenant_a["sales_manager"])
    r = mgr.post("/products", {"code": "Z", "name": "Z", "list_price": "1.00", "vat_rate": "0.17"})
    assert r.status_code == 422 and "vat_rate" in r.get_json()["errors"]["json"]
    r = mgr.post("/products", {"code": "Z", "name": "Z", "list_price": "abc"})
    assert r.status_code == 422 and "list_price" in r.get_json()["errors"]["json"]
    r = mgr.post("/products", {"name": "Z", "list_price": "1"})
    assert r.status_code == 422 and "code" in r.get_json()["errors"]["json"]
    assert _products(app, tenant_a.id) == []


def test_api_list_filters_and_paginates(app, tenant_a, api):
    qf.product(app, tenant_a["owner"], "HW-1", "服务器", category="硬件")
    qf.product(app, tenant_a["owner"], "HW-2", "交换机", category="硬件")
    qf.product(app, tenant_a["owner"], "SV-1", "运维服务", category="服务", rate="0.06")
    old = qf.product(app, tenant_a["owner"], "OLD-1", "旧型号", category="硬件")
    api(tenant_a["owner"]).delete(f"/products/{old}")
    rep = api(tenant_a["sales"])
    assert [p["code"] for p in rep.get("/products").get_json()["items"]] == ["HW-1", "HW-2", "SV-1"]
    assert [p["code"] for p in rep.get("/products?category=硬件").get_json()["items"]] == ["HW-1", "HW-2"]
    assert [p["code"] for p in rep.get("/products?q=运维").get_json()["items"]] == ["SV-1"]
    assert [p["code"] for p in rep.get("/products?active=false").get_json()["items"]] == ["OLD-1"]
    page = rep.get("/products?page=2&page_size=2").get_json()
    assert page["total"] == 3 and [p["code"] for p in page["items"]] == ["SV-1"]


def test_finance_has_no_sales_workspace(app, tenant_a, api, client_as):
    assert api(tenant_a["finance"]).get("/products").status_code == 403
    assert client_as(tenant_a["finance"]).get(f"/w/{tenant_a.slug}/sales/products").status_code == 403
