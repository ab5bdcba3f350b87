"""/api/v1/pipelines, /api/v1/opportunities (+ /move) and /api/v1/forecast."""

from __future__ import annotations

from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.db import db
from tests import sales_factories as sf
from tests.helpers import bearer, in_tenant


def _setup(app, tenant_a, token_for):
    rep = tenant_a["sales"]
    return rep, bearer(token_for(rep)), sf.customer(app, rep, "华东机械有限公司")


def test_pipelines_list_their_stages(app, tenant_a, client, token_for):
    _rep, h, _cid = _setup(app, tenant_a, token_for)
    body = client.get("/api/v1/pipelines", headers=h).get_json()
    assert body[0]["is_default"] is True
    assert [(s["name"], s["probability"], s["kind"]) for s in body[0]["stages"]][-2:] == [
        ("赢单", 100, "won"),
        ("输单", 0, "lost"),
    ]


def test_create_get_patch_list_and_delete(app, tenant_a, client, token_for):
    rep, h, cid = _setup(app, tenant_a, token_for)
    r = client.post(
        "/api/v1/opportunities",
        json={
            "customer_id": cid,
            "title": "ERP 升级",
            "expected_close": "2027-03-31",
            "lines": [{"description": "服务器", "quantity": "2", "unit_price": "12345.67"}],
        },
        headers=h,
    )
    assert r.status_code == 201, r.get_json()
    o = r.get_json()
    assert o["amount"] == "24691.34" and o["probability"] == 10 and o["weighted_amount"] == "2469.13"
    assert o["owner_id"] == rep.id and o["lines"][0]["unit_price"] == "12345.67"
    oid = o["id"]
    assert client.get(f"/api/v1/opportunities/{oid}", headers=h).get_json()["title"] == "ERP 升级"
    stages = client.get("/api/v1/pipelines", headers=h).get_json()[0]["stages"]
    # with lines the amount is their sum: a different amount beside them is refused, and nothing changes
    r = client.patch(f"/api/v1/opportunities/{oid}", json={"stage_id": stages[2]["id"], "amount": "30000"}, headers=h)
    assert r.status_code == 422 and "amount" in r.get_json()["errors"]["json"]
    assert client.get(f"/api/v1/opportunities/{oid}", headers=h).get_json()["probability"] == 10
    # without lines the amount is typed
    body = {"stage_id": stages[2]["id"], "amount": "30000", "lines": []}
    r = client.patch(f"/api/v1/opportunities/{oid}", json=body, headers=h)
    assert r.status_code == 200 and r.get_json()["probability"] == 50 and r.get_json()["amount"] == "30000.00"
    assert r.get_json()["lines"] == []
    listed = client.get(f"/api/v1/opportunities?stage_id={stages[2]['id']}&customer_id={cid}", headers=h).get_json()
    assert [x["id"] for x in listed] == [oid]
    assert client.get(f"/api/v1/opportunities?stage_id={stages[0]['id']}", headers=h).get_json() == []
    ranged = client.get("/api/v1/opportunities?close_from=2027-03-01&close_to=2027-03-31", headers=h).get_json()
    assert [x["id"] for x in ranged] == [oid]
    assert client.get("/api/v1/opportunities?close_from=2027-04-01", headers=h).get_json() == []
    assert client.delete(f"/api/v1/opportunities/{oid}", headers=h).status_code == 204
    assert client.get(f"/api/v1/opportunities/{oid}", headers=h).status_code == 404
    with in_tenant(app, tenant_a.id):
        actions = list(
            db.session.scalars(
                select(AuditEntry.action).where(AuditEntry.object_type == "Opportunity").order_by(AuditEntry.id)
            )
        )
    assert actions == [
        "opportunity.created",
        "opportunity.updated",
        "opportunity.stage_changed",
        "opportunity.deleted",
    ]


def test_move_to_lost_without_a_reason_is_422_naming_the_field_and_changes_nothing(app, tenant_a, client, token_for):
    _rep, h, cid = _setup(app, tenant_a, token_for)
    oid = client.post("/api/v1/opportunities", json={"customer_id": cid, "title": "丢单"}, headers=h).get_json()["id"]
    lost = client.get("/api/v1/pipelines", headers=h).get_json()[0]["stages"][-1]["id"]
    r = client.post(f"/api/v1/opportunities/{oid}/move", json={"stage_id": lost}, headers=h)
    assert r.status_code == 422 and "lost_reason_id" in r.get_json()["errors"]["json"]
    r = client.patch(f"/api/v1/opportunities/{oid}", json={"stage_id": lost, "title": "改名"}, headers=h)
    assert r.status_code == 422 and "lost_reason_id" in r.get_json()["errors"]["json"]
    o = client.get(f"/api/v1/opportunities/{oid}", headers=h).get_json()
    assert (o["title"], o["probability"]) == ("丢单", 10)
    with in_tenant(app, tenant_a.id):
        from crm.pipeline.services import lost_reasons

        reason = lost_reasons()[0].id
    r = client.post(
        f"/api/v1/opportunities/{oid}/move",
        json={"stage_id": lost, "lost_reason_id": reason, "competitor": "友商"},
        headers=h,
    )
    assert r.status_code == 200
    assert (r.get_json()["lost_reason_id"], r.get_json()["competitor"], r.get_json()["probability"]) == (
        reason,
        "友商",
        0,
    )


def test_bad_input_names_the_field(app, tenant_a, client, token_for):
    _rep, h, cid = _setup(app, tenant_a, token_for)
    r = client.post("/api/v1/opportunities", json={"customer_id": cid + 999, "title": "x"}, headers=h)
    assert r.status_code == 422 and "customer_id" in r.get_json()["errors"]["json"]
    r = client.post("/api/v1/opportunities", json={"customer_id": cid, "title": "x", "amount": "-1"}, headers=h)
    assert r.status_code == 422 and "amount" in r.get_json()["errors"]["json"]
    r = client.post("/api/v1/opportunities", json={"customer_id": cid, "title": "x", "stage_id": 99999}, headers=h)
    assert r.status_code == 422 and "stage_id" in r.get_json()["errors"]["json"]


def test_another_reps_opportunity_is_404_through_the_api(app, tenant_a, client, token_for):
    rep, h, _cid = _setup(app, tenant_a, token_for)
    other = sf.add_rep(app, tenant_a, "rep2", "孙丽")
    theirs = sf.customer(app, other, "别人的客户有限公司")
    h2 = bearer(token_for(other))
    oid = client.post("/api/v1/opportunities", json={"customer_id": theirs, "title": "别人的"}, headers=h2).get_json()
    oid = oid["id"]
    assert client.get(f"/api/v1/opportunities/{oid}", headers=h).status_code == 404
    assert client.post(f"/api/v1/opportunities/{oid}/move", json={"stage_id": 1}, headers=h).status_code == 404
    assert client.get("/api/v1/opportunities", headers=h).get_json() == []
    # and a rep cannot open one on a customer they do not see
    r = client.post("/api/v1/opportunities", json={"customer_id": theirs, "title": "抢单"}, headers=h)
    assert r.status_code == 422 and "customer_id" in r.get_json()["errors"]["json"]


def test_forecast_rejects_an_unknown_grouping(app, tenant_a, client, token_for):
    _rep, h, _cid = _setup(app, tenant_a, token_for)
    assert client.get("/api/v1/forecast?by=week", headers=h).status_code == 422
    assert client.get("/api/v1/forecast?by=month", headers=h).get_json() == []
