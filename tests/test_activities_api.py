"""/api/v1/followups and /api/v1/tasks: the UI's rules through the same services."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests import sales_factories as sf
from tests.helpers import bearer
from tests.test_activities import log, task


@pytest.fixture
def api(app, token_for):
    def _api(member):
        c = app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = bearer(token_for(member))["Authorization"]
        return c

    return _api


@pytest.fixture
def cust(app, tenant_a):
    return sf.customer(app, tenant_a["sales"], "客户甲")


def test_create_get_patch_delete_a_followup(app, tenant_a, cust, api, raw_rows):
    c = api(tenant_a["sales"])
    due = (date.today() + timedelta(days=2)).isoformat()
    r = c.post(
        "/api/v1/followups", json={"customer_id": cust, "kind": "meeting", "summary": "开会", "next_followup_on": due}
    )
    assert r.status_code == 201, r.json
    fid = r.json["id"]
    assert r.json["author_id"] == tenant_a["sales"].id
    assert c.get(f"/api/v1/followups/{fid}").json["summary"] == "开会"
    r = c.patch(f"/api/v1/followups/{fid}", json={"summary": "改了"})
    assert r.status_code == 200 and r.json["summary"] == "改了" and r.json["kind"] == "meeting"
    tasks = c.get("/api/v1/tasks").json
    assert [t["due_on"] for t in tasks] == [due]
    assert c.delete(f"/api/v1/followups/{fid}").status_code == 204
    assert raw_rows("followups") == []


def test_bad_followup_answers_422_with_the_field(app, tenant_a, cust, api, raw_rows):
    c = api(tenant_a["sales"])
    r = c.post("/api/v1/followups", json={"customer_id": cust, "kind": "fax", "summary": "x"})
    assert r.status_code == 422 and "kind" in r.json["errors"]["json"]
    r = c.post("/api/v1/followups", json={"customer_id": cust, "kind": "call", "summary": "x",
                                          "next_followup_on": "2000-01-01"})  # fmt: skip
    assert r.status_code == 422 and "next_followup_on" in r.json["errors"]["json"]
    assert raw_rows("followups") == []


def test_list_by_customer_paginates_newest_first(app, tenant_a, cust, api):
    rep = tenant_a["sales"]
    from crm.db import utcnow

    for i in range(5):
        log(app, rep, cust, summary=f"n{i}", occurred_at=utcnow() - timedelta(days=5 - i))
    c = api(rep)
    page = c.get(f"/api/v1/followups?customer_id={cust}&limit=3").json
    assert [f["summary"] for f in page["items"]] == ["n4", "n3", "n2"] and page["next_offset"] == 3
    page = c.get(f"/api/v1/followups?customer_id={cust}&limit=3&offset=3").json
    assert [f["summary"] for f in page["items"]] == ["n1", "n0"] and page["next_offset"] is None


def test_another_rep_gets_404_for_the_customer_and_its_followups(app, tenant_a, cust, api):
    fid = log(app, tenant_a["sales"], cust)
    other = sf.add_rep(app, tenant_a, "other", "周敏")
    c = api(other)
    assert c.get(f"/api/v1/followups?customer_id={cust}").status_code == 404
    assert c.get(f"/api/v1/followups/{fid}").status_code == 404
    assert c.post("/api/v1/followups", json={"customer_id": cust, "kind": "call", "summary": "x"}).status_code == 404
    assert c.delete(f"/api/v1/followups/{fid}").status_code == 404


def test_finance_is_403_inside_the_workspace(app, tenant_a, cust, api):
    assert api(tenant_a["finance"]).get(f"/api/v1/followups?customer_id={cust}").status_code == 403


def test_tasks_create_patch_done_delete(app, tenant_a, cust, api, raw_rows):
    c = api(tenant_a["sales"])
    r = c.post("/api/v1/tasks", json={"title": "寄样品", "due_on": date.today().isoformat(), "customer_id": cust})
    assert r.status_code == 201 and r.json["assignee_id"] == tenant_a["sales"].id
    tid = r.json["id"]
    r = c.patch(f"/api/v1/tasks/{tid}", json={"done": True})
    assert r.status_code == 200 and r.json["done"] is True and r.json["done_at"]
    assert c.get("/api/v1/tasks").json == []
    assert [t["id"] for t in c.get("/api/v1/tasks?include_done=true").json] == [tid]
    assert [t["id"] for t in c.get(f"/api/v1/tasks?customer_id={cust}&include_done=true").json] == [tid]
    assert c.delete(f"/api/v1/tasks/{tid}").status_code == 204
    assert raw_rows("tasks") == []


def test_tasks_list_is_mine_overdue_first(app, tenant_a, api):
    rep = tenant_a["sales"]
    task(app, rep, title="b", due_on=date.today() + timedelta(days=1))
    task(app, rep, title="a", due_on=date.today() - timedelta(days=1))
    task(app, tenant_a["sales_manager"], title="not mine")
    assert [t["title"] for t in api(rep).get("/api/v1/tasks").json] == ["a", "b"]


def test_a_task_without_title_is_422(app, tenant_a, api, raw_rows):
    r = api(tenant_a["sales"]).post("/api/v1/tasks", json={"title": ""})
    assert r.status_code == 422
    assert raw_rows("tasks") == []
