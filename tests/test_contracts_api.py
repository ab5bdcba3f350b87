"""/api/v1/contracts: create, list with filters and pages, patch drafts, the approval actions,
delete drafts, PDF — same rules as the pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from crm.contracts.models import Contract
from crm.db import db
from tests import contract_factories as cf
from tests import quote_factories as qf
from tests import sales_factories as sf
from tests.helpers import ApiClient, in_tenant


@pytest.fixture
def api(client, token_for):
    return lambda member: ApiClient(client, token_for(member))


@pytest.fixture
def customer_a(app, tenant_a):
    return sf.customer(app, tenant_a["sales"], "上海百川科技有限公司")


BODY = {
    "title": "软件许可合同", "signed_on": "2026-02-01", "starts_on": "2026-02-01", "ends_on": "2027-01-31",
    "amount": "50000.00", "terms": "一年质保",
    "payments": [{"due_on": "2026-02-15", "amount": "20000.00", "note": "首付"},
                 {"due_on": "2026-08-15", "amount": "30000.00"}],
}  # fmt: skip


def test_create_get_and_list(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    r = rep.post("/contracts", {"customer_id": customer_a, **BODY})
    assert r.status_code == 201, r.get_json()
    k = r.get_json()
    assert (k["number"], k["status"], k["amount"], k["owner_id"]) == ("HT-2026-0001", "draft", "50000.00",
                                                                       tenant_a["sales"].id)  # fmt: skip
    assert [p["amount"] for p in k["payments"]] == ["20000.00", "30000.00"] and k["reviews"] == []
    assert rep.get(f"/contracts/{k['id']}").get_json()["payments"][0]["note"] == "首付"
    page = rep.get(f"/contracts?customer_id={customer_a}").get_json()
    assert [x["id"] for x in page["items"]] == [k["id"]] and page["total"] == 1
    assert rep.get("/contracts?status=active").get_json()["items"] == []


def test_422_names_the_field_and_saves_nothing(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    bad = [
        ({"payments": []}, "payments"),
        ({"payments": [{"due_on": "2026-02-15", "amount": "49999.99"}]}, "payments"),
        ({"payments": [{"due_on": "2026-02-15", "amount": "0"}, {"due_on": "2026-03-15", "amount": "50000"}]},
         "payments.0.amount"),
        ({"ends_on": "2025-01-01"}, "ends_on"),
        ({"amount": "-1"}, "amount"),
        ({"title": ""}, "title"),
    ]  # fmt: skip
    for change, fld in bad:
        r = rep.post("/contracts", {"customer_id": customer_a, **BODY, **change})
        assert r.status_code == 422, (change, r.get_json())
        assert fld in r.get_json()["errors"]["json"], (fld, r.get_json())
    r = rep.post("/contracts", BODY)
    assert r.status_code == 422 and "customer_id" in r.get_json()["errors"]["json"]
    with in_tenant(app, tenant_a.id):
        assert db.session.scalars(select(Contract)).all() == []


def test_from_an_accepted_quote_defaults_customer_amount_and_plan(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    qid = qf.quote(app, tenant_a["sales"], customer_a)
    r = rep.post("/contracts", {"quote_id": qid})
    assert r.status_code == 422 and "quote_id" in r.get_json()["errors"]["json"]  # a draft quote
    rep.post(f"/quotes/{qid}/send")
    with in_tenant(app, tenant_a.id, tenant_a["sales"].user_id):
        from crm.quotes import services as quotes
        from crm.quotes.models import Quote
        from tests import factories

        quotes.set_outcome(factories.member_row(tenant_a["sales"]), db.session.get(Quote, qid), "accepted")
        db.session.commit()
    r = rep.post("/contracts", {"quote_id": qid})
    assert r.status_code == 201, r.get_json()
    k = r.get_json()
    assert (k["customer_id"], k["quote_id"], k["amount"]) == (customer_a, qid, "1060.00")
    assert [p["amount"] for p in k["payments"]] == ["1060.00"]


def test_patch_only_drafts_and_only_what_was_sent(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    r = rep.patch(f"/contracts/{cid}", {"title": "改名后的合同"})
    assert r.status_code == 200 and r.get_json()["title"] == "改名后的合同" and r.get_json()["amount"] == "120000.00"
    r = rep.patch(f"/contracts/{cid}", {"amount": "90000.00"})
    assert r.status_code == 422 and "payments" in r.get_json()["errors"]["json"]
    r = rep.patch(f"/contracts/{cid}", {"amount": "90000.00", "payments": [{"due_on": "2026-05-01",
                                                                            "amount": "90000.00"}]})  # fmt: skip
    assert r.status_code == 200 and len(r.get_json()["payments"]) == 1
    assert rep.post(f"/contracts/{cid}/submit").get_json()["status"] == "pending"
    r = rep.patch(f"/contracts/{cid}", {"title": "x"})
    assert r.status_code == 422 and "status" in r.get_json()["errors"]["json"]
    assert rep.delete(f"/contracts/{cid}").status_code == 422
    assert cf.read(app, tenant_a.id, cid)["title"] == "改名后的合同"


def test_approval_flow_with_four_eyes(app, tenant_a, api):
    mgr = api(tenant_a["sales_manager"])
    cust = sf.customer(app, tenant_a["sales_manager"], "经理的客户")
    cid = mgr.post("/contracts", {"customer_id": cust, **BODY}).get_json()["id"]
    mgr.post(f"/contracts/{cid}/submit")
    r = mgr.post(f"/contracts/{cid}/approve")
    assert r.status_code == 403 and r.is_json
    assert api(tenant_a["sales"]).post(f"/contracts/{cid}/approve").status_code == 403
    r = api(tenant_a["admin"]).post(f"/contracts/{cid}/reject", {})
    assert r.status_code == 422 and "comment" in r.get_json()["errors"]["json"]
    r = api(tenant_a["admin"]).post(f"/contracts/{cid}/approve", {"comment": "同意"})
    assert r.status_code == 200, r.get_json()
    k = r.get_json()
    assert k["status"] == "active" and k["approved_by_id"] == tenant_a["admin"].id
    assert [(x["decision"], x["comment"]) for x in k["reviews"]] == [("submitted", None), ("approved", "同意")]
    assert mgr.post(f"/contracts/{cid}/terminate", {}).status_code == 422
    r = mgr.post(f"/contracts/{cid}/terminate", {"reason": "客户破产"})
    assert r.get_json()["status"] == "terminated" and r.get_json()["termination_reason"] == "客户破产"


def test_list_filters_and_pages(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    ids = [cf.contract(app, tenant_a["sales"], customer_a) for _ in range(3)]
    cf.act(app, tenant_a["sales"], ids[0], "submit")
    cf.act(app, tenant_a["sales_manager"], ids[0], "approve")
    cf.set_fields(app, tenant_a.id, ids[0], ends_on=date.today() + timedelta(days=5))
    assert [x["id"] for x in rep.get("/contracts?expiring_within_days=10").get_json()["items"]] == [ids[0]]
    assert rep.get("/contracts?expiring_within_days=4").get_json()["items"] == []
    assert rep.get(f"/contracts?owner_id={tenant_a['owner'].id}").get_json()["total"] == 0
    page = rep.get("/contracts?page=2&page_size=2").get_json()
    assert (page["total"], [x["id"] for x in page["items"]]) == (3, [ids[0]])
    assert rep.get("/contracts?status=nope").status_code == 422


def test_visibility_follows_the_customer(app, tenant_a, customer_a, api):
    other = sf.add_rep(app, tenant_a, "rep2", "孙丽")
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    stranger = api(other)
    assert stranger.get(f"/contracts/{cid}").status_code == 404
    assert stranger.get("/contracts").get_json()["items"] == []
    assert stranger.patch(f"/contracts/{cid}", {"title": "x"}).status_code == 404
    assert stranger.delete(f"/contracts/{cid}").status_code == 404
    r = stranger.post("/contracts", {"customer_id": customer_a, **BODY})
    assert r.status_code == 422 and "customer_id" in r.get_json()["errors"]["json"]
    assert api(tenant_a["sales_manager"]).get(f"/contracts/{cid}").status_code == 200
    assert api(tenant_a["sales"]).delete(f"/contracts/{cid}").status_code == 204
    assert cf.read(app, tenant_a.id, cid) is None


def test_redate_needs_an_approver_and_an_active_contract(app, tenant_a, customer_a, api):
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    mgr = api(tenant_a["sales_manager"])
    assert mgr.post(f"/contracts/{cid}/redate", {"ends_on": "2027-12-31"}).status_code == 422
    cf.act(app, tenant_a["sales"], cid, "submit")
    cf.act(app, tenant_a["sales_manager"], cid, "approve")
    assert api(tenant_a["sales"]).post(f"/contracts/{cid}/redate", {"ends_on": "2027-12-31"}).status_code == 403
    r = mgr.post(f"/contracts/{cid}/redate", {"ends_on": "2027-12-31"})
    assert r.status_code == 200 and r.get_json()["ends_on"] == "2027-12-31"


def test_pdf_and_openapi(app, tenant_a, customer_a, api, client):
    cid = cf.contract(app, tenant_a["sales"], customer_a)
    r = api(tenant_a["sales"]).get(f"/contracts/{cid}/pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/contracts", "/contracts/{contract_id}", "/contracts/{contract_id}/approve"} <= {
        p.removeprefix("/api/v1") for p in spec["paths"]
    }
