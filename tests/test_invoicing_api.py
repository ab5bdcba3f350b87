"""/api/v1/suppliers, /api/v1/invoices, /api/v1/bills: same rules as the pages."""

from __future__ import annotations

import pytest

from crm.books.models import FiscalPeriod
from crm.db import db
from tests import order_factories as of
from tests.factories import make_customer, member_row
from tests.helpers import ApiClient, in_tenant
from tests.invoicing_factories import VALID_USCC, read, setup_books
from tests.invoicing_factories import supplier as make_supplier_id

LINE = {"description": "实施服务", "quantity": "1", "unit_price": "1000.00", "tax_rate": "0.13"}


@pytest.fixture
def fa(app, tenant_a, client, token_for):
    setup_books(app, tenant_a.id)
    with in_tenant(app, tenant_a.id):
        customer, _c = make_customer(member_row(tenant_a["sales"]), "华东机械有限公司")
        db.session.commit()
        cid = customer.id
    sid = make_supplier_id(app, tenant_a["finance"], "上海办公用品有限公司", payment_terms_days=60)
    return {
        "t": tenant_a, "customer": cid, "supplier": sid, "api": ApiClient(client, token_for(tenant_a["finance"])),
        "sales_api": ApiClient(client, token_for(tenant_a["sales"])),
    }  # fmt: skip


def test_create_post_and_read_an_invoice(app, fa):
    api = fa["api"]
    r = api.post("/invoices", {"customer": fa["customer"], "date": "2026-03-10", "lines": [LINE],
                               "prices_include_tax": True})  # fmt: skip
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "draft" and body["total_incl"] == "1000.00" and body["total_tax"] == "115.04"
    assert body["due_date"] == "2026-04-09" and body["number"].startswith("AR-2026-")
    posted = api.post(f"/invoices/{body['id']}/post").get_json()
    assert posted["status"] == "posted" and posted["entry_id"] and posted["open_amount"] == "1000.00"
    got = api.get(f"/invoices/{body['id']}").get_json()
    assert got["lines"][0]["amount_excl"] == "884.96" and got["entry_id"] == posted["entry_id"]


def test_a_posted_invoice_cannot_be_patched_or_deleted(app, fa):
    api = fa["api"]
    iid = api.post("/invoices", {"customer": fa["customer"], "date": "2026-03-10", "lines": [LINE]}).get_json()["id"]
    assert api.patch(f"/invoices/{iid}", {"memo": "改"}).get_json()["memo"] == "改"
    api.post(f"/invoices/{iid}/post")
    r = api.patch(f"/invoices/{iid}", {"memo": "再改"})
    assert r.status_code == 422 and r.get_json()["rule"] == "posted_is_final"
    r = api.delete(f"/invoices/{iid}")
    assert r.status_code == 422 and r.get_json()["rule"] == "posted_is_final"


def test_validation_errors_are_per_field(app, fa):
    r = fa["api"].post("/invoices", {"date": "2026-03-10", "lines": [{**LINE, "unit_price": "-1"}]})
    assert r.status_code == 422
    errors = r.get_json()["errors"]["json"]
    assert "customer_id" in errors and "lines.0.unit_price" in errors


def test_posting_into_a_closed_month_answers_the_rule(app, fa):
    api = fa["api"]
    iid = api.post("/invoices", {"customer": fa["customer"], "date": "2026-03-10", "lines": [LINE]}).get_json()["id"]
    with in_tenant(app, fa["t"].id):
        db.session.add(FiscalPeriod(year=2026, month=3, status="closed"))
        db.session.commit()
    r = api.post(f"/invoices/{iid}/post")
    assert r.status_code == 422 and r.get_json()["rule"] == "period_closed"
    assert read(app, fa["t"].id, iid)["status"] == "draft"


def test_reverse_through_the_api(app, fa):
    api = fa["api"]
    bid = api.post("/bills", {"supplier": fa["supplier"], "date": "2026-03-10", "lines": [LINE],
                              "external_number": "0441"}).get_json()["id"]  # fmt: skip
    assert api.post(f"/bills/{bid}/reverse", {}).get_json()["rule"] == "not_posted"
    api.post(f"/bills/{bid}/post")
    r = api.post(f"/bills/{bid}/reverse", {"date": "2026-03-12", "reason": "重复"})
    body = r.get_json()
    assert r.status_code == 200 and body["status"] == "reversed" and body["reversed_on"] == "2026-03-12"
    assert body["reversal_entry_id"] and body["external_number"] == "0441"


def test_bills_and_invoices_are_separate_resources(app, fa):
    api = fa["api"]
    bid = api.post("/bills", {"supplier": fa["supplier"], "date": "2026-03-10", "lines": [LINE]}).get_json()["id"]
    assert api.get(f"/invoices/{bid}").status_code == 404
    assert api.get(f"/bills/{bid}").get_json()["due_date"] == "2026-05-09"  # the supplier's 60 days


def test_list_filters_and_totals(app, fa):
    api = fa["api"]
    for d in ("2026-01-10", "2026-03-10"):
        api.post("/invoices", {"customer": fa["customer"], "date": d, "lines": [LINE]})
    body = api.get("/invoices?from=2026-03-01").get_json()
    assert body["total"] == 1 and body["total_incl"] == "1130.00"
    body = api.get(f"/invoices?status=draft&customer={fa['customer']}").get_json()
    assert body["total"] == 2 and body["total_incl"] == "2260.00" and "lines" not in body["items"][0]


def test_from_an_order_and_the_queue(app, fa):
    api = fa["api"]
    oid = of.order(app, fa["t"]["sales"], fa["customer"])
    of.deliver(app, fa["t"]["sales"], oid, ["2"])
    cid = of.contract(app, fa["t"]["sales"], fa["customer"])
    queue = api.get("/invoices/queue").get_json()
    assert {(x["kind"], x["id"]) for x in queue} == {("order", oid), ("contract", cid)}
    r = api.post("/invoices", {"order": oid})
    assert r.status_code == 201 and r.get_json()["order_id"] == oid
    assert api.post("/invoices", {"order": oid}).get_json()["rule"] == "already_invoiced"
    r = api.post("/invoices", {"contract": cid})
    assert r.status_code == 201 and r.get_json()["total_incl"] == "11300.00"
    assert api.get("/invoices/queue").get_json() == []


def test_suppliers(app, fa):
    api = fa["api"]
    r = api.post("/suppliers", {"name": "新供应商", "uscc": VALID_USCC, "payment_terms_days": 45})
    assert r.status_code == 201
    sid = r.get_json()["id"]
    assert api.post("/suppliers", {"name": "别的", "uscc": VALID_USCC}).status_code == 422
    bad = api.post("/suppliers", {"name": "坏码", "uscc": "91110000600037341X"})
    assert bad.status_code == 422 and "uscc" in bad.get_json()["errors"]["json"]
    assert api.patch(f"/suppliers/{sid}", {"is_active": False}).get_json()["is_active"] is False
    assert [x["name"] for x in api.get("/suppliers?q=新").get_json()] == ["新供应商"]
    assert api.patch(f"/suppliers/{sid}", {"payment_terms_days": 400}).status_code == 422


def test_sales_roles_get_403(app, fa):
    assert fa["sales_api"].get("/invoices").status_code == 403
    assert fa["sales_api"].get("/suppliers").status_code == 403


def test_api_list_issues_a_constant_number_of_statements(app, fa, count_queries):
    api = fa["api"]
    api.post("/invoices", {"customer": fa["customer"], "date": "2026-03-10", "lines": [LINE]})
    api.get("/invoices")
    with count_queries() as small:
        api.get("/invoices")
    for _ in range(5):
        api.post("/invoices", {"customer": fa["customer"], "date": "2026-03-10", "lines": [LINE]})
    with count_queries() as large:
        assert api.get("/invoices").get_json()["total"] == 6
    assert small.count == large.count, "\n".join(large.statements)
