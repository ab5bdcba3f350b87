"""/api/v1/work-reports: the same rules as the pages — prefill, recipients, receipts, comments,
visibility (404 outside, 403 inside), rules and the overview."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.db import db
from crm.notifications.models import Notification
from tests import sales_factories as sf
from tests import work_report_factories as wf
from tests.helpers import bearer, in_tenant
from tests.test_work_reports import D, at, seed_period

API = "/api/v1/work-reports"


@pytest.fixture
def h(token_for):
    return lambda member: bearer(token_for(member))


def test_create_with_prefill_returns_the_drafted_report(app, tenant_a, client, h):
    rep, mgr = tenant_a["sales"], tenant_a["sales_manager"]
    seeded = seed_period(app, tenant_a, rep)
    r = client.post(API, json={"kind": "daily", "period_start": D.isoformat(), "prefill": True}, headers=h(rep))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "draft" and body["period_start"] == D.isoformat() and body["period_end"] == D.isoformat()
    assert "讨论了二期报价" in body["done"] and "准备演示材料" in body["planned"]
    assert [x["member_id"] for x in body["recipients"]] == [mgr.id]
    assert {(x["object_type"], x["object_id"]) for x in body["links"]} == {
        ("customer", seeded["customer"]), ("customer", seeded["other"]), ("opportunity", seeded["opportunity"]),
    }  # fmt: skip
    again = client.post(API, json={"kind": "daily", "period_start": D.isoformat()}, headers=h(rep))
    assert again.status_code == 422 and "period_start" in again.get_json()["errors"]["json"]


def test_write_submit_read_comment_and_reply(app, tenant_a, client, h):
    rep, mgr = tenant_a["sales"], tenant_a["sales_manager"]
    rid = client.post(API, json={"kind": "weekly", "period_start": D.isoformat(), "done": "- 签了合同"},
                      headers=h(rep)).get_json()["id"]  # fmt: skip
    assert client.get(f"{API}/{rid}", headers=h(mgr)).status_code == 404  # a draft
    r = client.patch(f"{API}/{rid}", json={"planned": "- 回款", "problems": "缺演示机"}, headers=h(rep))
    assert r.status_code == 200 and r.get_json()["planned"] == "- 回款"
    assert client.post(f"{API}/{rid}/submit", headers=h(rep)).get_json()["status"] == "submitted"
    assert client.post(f"{API}/{rid}/submit", headers=h(rep)).status_code == 422
    assert client.get(f"{API}/{rid}/receipts", headers=h(rep)).get_json()[0]["read_at"] is None
    got = client.get(f"{API}/{rid}", headers=h(mgr)).get_json()
    assert got["period_start"] == "2026-11-16" and got["problems"] == "缺演示机"
    assert client.get(f"{API}/{rid}/receipts", headers=h(rep)).get_json()[0]["read_at"] is not None
    c = client.post(f"{API}/{rid}/comments", json={"body": "演示机下周到"}, headers=h(mgr))
    assert c.status_code == 201
    reply = client.post(f"{API}/{rid}/comments", json={"body": "收到", "parent_id": c.get_json()["id"]}, headers=h(rep))
    assert reply.status_code == 201 and reply.get_json()["parent_id"] == c.get_json()["id"]
    comments = client.get(f"{API}/{rid}/comments", headers=h(mgr)).get_json()
    assert [(x["member_id"], x["body"]) for x in comments] == [(mgr.id, "演示机下周到"), (rep.id, "收到")]
    with in_tenant(app, tenant_a.id):
        kinds = {(n.recipient_id, n.kind) for n in db.session.scalars(db.select(Notification))}
    assert {(rep.id, "report.comment"), (mgr.id, "report.comment"), (mgr.id, "report.submitted")} <= kinds
    assert client.patch(f"{API}/{rid}", json={"done": "改"}, headers=h(mgr)).status_code == 403
    assert client.delete(f"{API}/{rid}", headers=h(rep)).status_code == 422  # submitted


def test_lists_mine_received_and_team(app, tenant_a, client, h):
    rep, mgr = tenant_a["sales"], tenant_a["sales_manager"]
    rep2 = sf.add_rep(app, tenant_a, "rep2", "赵磊", reports_to=mgr.id)
    mine = wf.report(app, rep, "daily", D)
    theirs = wf.report(app, rep2, "daily", D, recipient_ids=[])
    assert [x["id"] for x in client.get(API, headers=h(rep)).get_json()["items"]] == [mine]
    assert [x["id"] for x in client.get(f"{API}?box=received", headers=h(mgr)).get_json()["items"]] == [mine]
    team = client.get(f"{API}?box=team", headers=h(mgr)).get_json()
    assert {x["id"] for x in team["items"]} == {mine, theirs} and team["total"] == 2
    by_author = client.get(f"{API}?author_id={rep2.id}", headers=h(mgr)).get_json()["items"]
    assert [x["id"] for x in by_author] == [theirs]
    assert client.get(f"{API}?box=team", headers=h(rep)).status_code == 403
    assert client.get(f"{API}?author_id={rep.id}", headers=h(rep2)).get_json()["items"] == []


def test_a_peer_rep_and_another_teams_manager_get_404(app, tenant_a, client, h):
    rep = tenant_a["sales"]
    rid = wf.report(app, rep, "daily", D)
    peer = sf.add_rep(app, tenant_a, "peer", "赵磊", reports_to=tenant_a["sales_manager"].id)
    boss2 = sf.add_rep(app, tenant_a, "boss2", "孙丽", role="sales_manager")
    for who in (peer, boss2, tenant_a["finance"]):
        for method, path, body in (("GET", "", None), ("PATCH", "", {"done": "x"}), ("DELETE", "", None),
                                   ("POST", "/submit", None), ("GET", "/comments", None),
                                   ("POST", "/comments", {"body": "x"}), ("GET", "/receipts", None)):  # fmt: skip
            r = client.open(f"{API}/{rid}{path}", method=method, json=body, headers=h(who))
            assert r.status_code == 404 and r.is_json, (who.name, method, path)
    assert wf.read_report(app, tenant_a.id, rid)["comments"] == []


def test_overview_and_rules(app, tenant_a, client, h):
    mgr = tenant_a["sales_manager"]
    r = client.put(f"{API}/rules", json={"daily": {"roles": ["sales"], "time": "18:00"}}, headers=h(mgr))
    assert r.status_code == 200 and r.get_json()["daily"]["roles"] == ["sales"]
    bad = client.put(f"{API}/rules", json={"daily": {"roles": ["king"], "time": "7pm"}}, headers=h(mgr))
    assert bad.status_code == 422 and set(bad.get_json()["errors"]["json"]) == {"daily.roles", "daily.time"}
    assert client.get(f"{API}/rules", headers=h(mgr)).get_json()["daily"] == {"roles": ["sales"], "time": "18:00"}
    wf.report(app, tenant_a["sales"], "daily", D, submitted_at=at(D, 20))
    day2 = D + timedelta(days=1)
    ov = client.get(f"{API}/overview?kind=daily&from={D}&to={day2}", headers=h(mgr)).get_json()
    assert ov["periods"] == [D.isoformat(), day2.isoformat()]
    [row] = ov["rows"]
    assert row["member_id"] == tenant_a["sales"].id and [c["state"] for c in row["cells"]] == ["late", "missing"]
    assert ov["totals"]["late"] == 1 and ov["totals"]["missing"] == 1
    assert client.get(f"{API}/overview", headers=h(tenant_a["sales"])).status_code == 403
    assert client.put(f"{API}/rules", json={}, headers=h(tenant_a["sales"])).status_code == 403


def test_bad_input_changes_nothing(app, tenant_a, client, h):
    rep = tenant_a["sales"]
    for body in (
        {"kind": "yearly", "period_start": D.isoformat()},
        {"kind": "daily", "period_start": D.isoformat(), "recipient_ids": [999999]},
        {"kind": "daily", "period_start": D.isoformat(), "links": [{"object_type": "customer", "object_id": 999999}]},
    ):
        assert client.post(API, json=body, headers=h(rep)).status_code == 422, body
    assert client.get(API, headers=h(rep)).get_json()["total"] == 0


def test_links_to_records_the_author_cannot_see_are_refused(app, tenant_a, client, h):
    from tests import factories

    rep2 = sf.add_rep(app, tenant_a, "rep2", "赵磊", reports_to=tenant_a["sales_manager"].id)
    with in_tenant(app, tenant_a.id, rep2.user_id):
        theirs, _ = factories.make_customer(factories.member_row(rep2), "别人的客户")
        db.session.commit()
        cid = theirs.id
    r = client.post(API, json={"kind": "daily", "period_start": D.isoformat(),
                               "links": [{"object_type": "customer", "object_id": cid}]},
                    headers=h(tenant_a["sales"]))  # fmt: skip
    assert r.status_code == 422 and "links" in r.get_json()["errors"]["json"]


def test_ids_of_another_workspace_in_the_body_are_refused(app, tenant_a, tenant_b, client, h):
    from tests import factories

    with in_tenant(app, tenant_a.id, tenant_a["sales"].user_id):
        a_customer, _ = factories.make_customer(factories.member_row(tenant_a["sales"]), "阿尔法的客户")
        db.session.commit()
        a_customer_id = a_customer.id
    b_rep = tenant_b["sales"]
    for body in (
        {"kind": "daily", "period_start": D.isoformat(), "recipient_ids": [tenant_a["sales_manager"].id]},
        {
            "kind": "daily",
            "period_start": D.isoformat(),
            "links": [{"object_type": "customer", "object_id": a_customer_id}],
        },
    ):
        assert client.post(API, json=body, headers=h(b_rep)).status_code == 422, body
    a_report = wf.report(app, tenant_a["sales"], "daily", D)
    listed = client.get(f"{API}?box=team&author_id={tenant_a['sales'].id}", headers=h(tenant_b["owner"])).get_json()
    assert listed["items"] == [] and a_report
