"""/api/v1/orders: list with filters, get, create (by hand, from a quote or contract), patch,
delete, deliveries, cancel — with the UI's rules, scopes and tenant wall."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.db import db
from tests import order_factories as of
from tests import sales_factories as sf
from tests.helpers import ApiClient, in_tenant, post

LINE = {"description": "设备", "quantity": "2", "unit_price": "1000.00", "tax_rate": "0.13"}


@pytest.fixture
def api(client, token_for):
    return lambda member: ApiClient(client, token_for(member))


@pytest.fixture
def customer_a(app, tenant_a):
    return sf.customer(app, tenant_a["sales"], "上海百川科技有限公司", province="上海市", city="浦东新区")


def test_create_by_hand_get_and_list_with_the_filtered_sum(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    r = rep.post("/orders", {"customer_id": customer_a, "order_date": "2026-02-03", "lines": [LINE]})
    assert r.status_code == 201, r.get_json()
    o = r.get_json()
    assert (o["number"], o["delivery_status"], o["province"], o["city"]) == ("SO-2026-0001", "pending", "上海市",
                                                                            "浦东新区")  # fmt: skip
    assert (o["total_excl"], o["total_tax"], o["total_incl"]) == ("2000.00", "260.00", "2260.00")
    assert o["owner_id"] == tenant_a["sales"].id and o["lines"][0]["delivered_quantity"] == "0.000"
    assert rep.get(f"/orders/{o['id']}").get_json()["lines"][0]["amount_incl"] == "2260.00"
    rep.post("/orders", {"customer_id": customer_a, "order_date": "2026-03-03", "lines": [LINE, LINE]})
    page = rep.get("/orders").get_json()
    assert page["total"] == 2 and page["total_incl"] == "6780.00"
    page = rep.get("/orders?date_from=2026-03-01").get_json()
    assert page["total"] == 1 and page["total_incl"] == "4520.00"
    assert rep.get("/orders?date_to=2026-02-28").get_json()["items"][0]["id"] == o["id"]
    assert rep.get(f"/orders?customer_id={customer_a}&owner_id={tenant_a['sales'].id}").get_json()["total"] == 2
    assert rep.get("/orders?delivery_status=delivered").get_json() == {
        "items": [], "page": 1, "page_size": 50, "total": 0, "total_incl": "0.00",
    }  # fmt: skip
    assert rep.get("/orders?delivery_status=nope").status_code == 422
    assert rep.get("/orders?page_size=1&page=2").get_json()["items"][0]["id"] == o["id"]


def test_create_from_a_quote_and_from_a_contract(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    qid = of.quote(app, tenant_a["sales"], customer_a, [LINE], prices_include_tax=True)
    r = rep.post("/orders", {"customer_id": customer_a, "quote_id": qid})
    assert r.status_code == 422 and "quote_id" in r.get_json()["errors"]["json"]  # a draft quote
    of.set_quote_status(app, tenant_a.id, qid, "accepted")
    o = rep.post("/orders", {"customer_id": customer_a, "quote_id": qid}).get_json()
    assert (o["quote_id"], o["prices_include_tax"], o["total_incl"]) == (qid, True, "2000.00")
    cid = of.contract(app, tenant_a["sales"], customer_a, title="维保", amount="565.00")
    o = rep.post("/orders", {"customer_id": customer_a, "contract_id": cid}).get_json()
    assert (o["contract_id"], o["quote_id"], o["total_excl"], o["total_tax"]) == (cid, None, "500.00", "65.00")
    assert o["lines"][0]["description"] == "维保" and o["lines"][0]["tax_rate"] == "0.13"
    other = sf.customer(app, tenant_a["sales"], "另一家公司")
    r = rep.post("/orders", {"customer_id": other, "contract_id": cid})
    assert r.status_code == 422 and "contract_id" in r.get_json()["errors"]["json"]


def test_422_names_the_field_and_saves_nothing(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    bad = [
        ({}, "lines"),
        ({"lines": []}, "lines"),
        ({"lines": [{**LINE, "tax_rate": "0.17"}]}, "lines.0.tax_rate"),
        ({"lines": [{**LINE, "quantity": "-1"}]}, "lines.0.quantity"),
        ({"lines": [LINE], "owner_id": tenant_a["finance"].id}, "owner_id"),
        ({"lines": [LINE], "quote_id": 999999}, "quote_id"),
    ]
    for body, field in bad:
        r = rep.post("/orders", {"customer_id": customer_a, **body})
        assert r.status_code == 422, (body, r.get_json())
        assert field in r.get_json()["errors"]["json"], (field, r.get_json())
    assert of.order_ids(app, tenant_a.id) == []


def test_patch_deliveries_cancel_and_delete_follow_the_rules(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    o = rep.post("/orders", {"customer_id": customer_a, "lines": [LINE, {**LINE, "quantity": "1"}]}).get_json()
    path = f"/orders/{o['id']}"
    r = rep.patch(path, {"notes": "分两批", "city": "徐汇区", "lines": [{**LINE, "quantity": "3"}]})
    assert r.status_code == 200 and r.get_json()["total_incl"] == "3390.00" and r.get_json()["city"] == "徐汇区"
    o = rep.patch(path, {"lines": [LINE, {**LINE, "quantity": "1"}]}).get_json()
    ids = [x["id"] for x in o["lines"]]
    r = rep.post(path + "/deliveries", {"lines": [{"line_id": ids[0], "delivered_quantity": "3"}]})
    assert r.status_code == 422 and "lines.0.delivered_quantity" in r.get_json()["errors"]["json"]
    r = rep.post(path + "/deliveries", {"lines": [{"line_id": ids[0], "delivered_quantity": "2"}]})
    assert r.get_json()["delivery_status"] == "partial"
    r = rep.patch(path, {"lines": [LINE]})
    assert r.status_code == 422 and "lines" in r.get_json()["errors"]["json"]
    assert rep.patch(path, {"order_date": "2026-06-01"}).get_json()["order_date"] == "2026-06-01"
    assert rep.delete(path).status_code == 422
    assert rep.post(path + "/cancel", {"reason": ""}).status_code == 422
    r = rep.post(path + "/cancel", {"reason": "客户改单"})
    assert (
        r.status_code == 200 and r.get_json()["delivery_status"] == "cancelled" and "客户改单" in r.get_json()["notes"]
    )
    for call in (
        lambda: rep.patch(path, {"notes": "x"}),
        lambda: rep.post(path + "/cancel", {"reason": "x"}),
        lambda: rep.post(path + "/deliveries", {"lines": [{"line_id": ids[1], "delivered_quantity": "1"}]}),
    ):
        assert call().status_code == 422  # fmt: skip
    fresh = rep.post("/orders", {"customer_id": customer_a, "lines": [LINE]}).get_json()["id"]
    assert rep.delete(f"/orders/{fresh}").status_code == 204
    assert rep.get(f"/orders/{fresh}").status_code == 404
    with in_tenant(app, tenant_a.id):
        actions = list(
            db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == o["id"],
                                                               AuditEntry.object_type == "Order"))
        )  # fmt: skip
    assert actions == ["order.created", "order.updated", "order.updated", "order.delivered", "order.updated",
                       "order.cancelled"]  # fmt: skip


def test_a_fully_delivered_order_is_delivered_and_cannot_be_cancelled(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    o = rep.post("/orders", {"customer_id": customer_a, "lines": [LINE]}).get_json()
    r = rep.post(f"/orders/{o['id']}/deliveries", {"lines": [{"line_id": o["lines"][0]["id"],
                                                              "delivered_quantity": "2"}]})  # fmt: skip
    assert r.get_json()["delivery_status"] == "delivered"
    r = rep.post(f"/orders/{o['id']}/cancel", {"reason": "太晚"})
    assert r.status_code == 422 and "delivery_status" in r.get_json()["errors"]["json"]


def test_scope_rep_manager_and_finance(app, tenant_a, customer_a, api):
    other = sf.add_rep(app, tenant_a, "rep2", "孙丽")
    oid = of.order(app, tenant_a["sales"], customer_a)
    stranger = api(other)
    assert stranger.get(f"/orders/{oid}").status_code == 404
    assert stranger.get("/orders").get_json()["items"] == []
    assert stranger.patch(f"/orders/{oid}", {"lines": "not a list"}).status_code == 404  # wall before parsing
    assert stranger.delete(f"/orders/{oid}").status_code == 404
    r = stranger.post("/orders", {"customer_id": customer_a, "lines": [LINE]})
    assert r.status_code == 422 and "customer_id" in r.get_json()["errors"]["json"]
    assert api(tenant_a["sales_manager"]).get(f"/orders/{oid}").status_code == 200
    assert api(tenant_a["finance"]).get("/orders").status_code == 403


def test_the_openapi_document_describes_orders(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for p in ("/api/v1/orders", "/api/v1/orders/{order_id}", "/api/v1/orders/{order_id}/deliveries",
              "/api/v1/orders/{order_id}/cancel"):  # fmt: skip
        assert p in spec["paths"], p
    assert set(spec["paths"]["/api/v1/orders/{order_id}"]) >= {"get", "patch", "delete"}


def test_another_workspaces_orders_are_404_through_ui_and_api(app, tenant_a, tenant_b, customer_a, api, client_as):
    oid = of.order(app, tenant_a["sales"], customer_a)
    before = of.read_order(app, tenant_a.id, oid)
    b = api(tenant_b["owner"])
    assert b.get(f"/orders/{oid}").status_code == 404
    assert b.patch(f"/orders/{oid}", {"notes": "x"}).status_code == 404
    assert b.delete(f"/orders/{oid}").status_code == 404
    assert (
        b.post(f"/orders/{oid}/deliveries", {"lines": [{"line_id": 1, "delivered_quantity": "1"}]}).status_code == 404
    )
    assert b.post(f"/orders/{oid}/cancel", {"reason": "x"}).status_code == 404
    assert b.get("/orders").get_json()["total"] == 0
    c = client_as(tenant_b["owner"])
    base = f"/w/{tenant_b.slug}/sales/orders/{oid}"
    for path in ("", "/edit", "/delivery", "/cancel"):
        assert c.get(base + path).status_code == 404, path
    for path in ("/edit", "/delivery", "/cancel", "/delete"):
        assert post(c, base + path, {"reason": "x"}).status_code == 404, path
    assert c.get(f"/w/{tenant_b.slug}/sales/orders/new?contract_id=1&quote_id=1").status_code == 302
    assert of.read_order(app, tenant_a.id, oid) == before
