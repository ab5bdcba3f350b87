"""404 outside: another workspace's objects and pages do not exist for you.

Every rule is taken from the live url_map, so a route added later is covered without
touching this file — unless it takes an object id this file has no object for, in which
case OBJECTS below must learn it (the test says so).
"""

from __future__ import annotations

import re

import pytest
from flask import url_for

from crm.db import db
from tenants.models import Membership
from tests.areas import merged
from tests.helpers import bearer, in_tenant, post

# For each <int:…> variable: the object of workspace "a" a visitor from "b" will ask for.
OBJECTS = {
    "member_id": lambda w: w.tenants["a"]["sales"].id,
    "job_id": lambda w: w.job_id["a"],
    "invitation_id": lambda w: w.invitation_id["a"],
    "note_id": lambda w: w.note_ids[("a", "owner")],
    "token_id": lambda w: w.token_ids[("a", "owner")],
    "customer_id": lambda w: w.customer_id["a"],
    "contact_id": lambda w: w.contact_id["a"],
    "followup_id": lambda w: w.followup_id["a"],
    "task_id": lambda w: w.task_id["a"],
    "attachment_id": lambda w: w.attachment_id["a"],
    "pipeline_id": lambda w: w.pipeline_id["a"],
    "opportunity_id": lambda w: w.opportunity_id["a"],
    "stage_id": lambda w: w.stage_id["a"],
    "product_id": lambda w: w.product_id["a"],
    "quote_id": lambda w: w.quote_id["a"],
    "order_id": lambda w: w.order_id["a"],
    "contract_id": lambda w: w.contract_id["a"],
    "supplier_id": lambda w: w.supplier_id["a"],
    "invoice_id": lambda w: w.invoice_id["a"],
    "bill_id": lambda w: w.bill_id["a"],
    "account_id": lambda w: w.account_id["a"],
    "department_id": lambda w: w.department_id["a"],
    "journal_entry_id": lambda w: w.journal_entry_id["a"],
    "entry_id": lambda w: w.audit_entry_id["a"],
    "work_report_id": lambda w: w.work_report_id["a"],
    "announcement_id": lambda w: w.announcement_id["a"],
    "category_id": lambda w: w.kb_category_id["a"],
    "article_id": lambda w: w.kb_article_id["a"],
    "link_id": lambda w: w.kb_link_id["a"],
    "batch_id": lambda w: w.import_batch_id["a"],
    "payment_id": lambda w: w.receipt_id["a"],
    "settlement_id": lambda w: w.settlement_id["a"],
    "document_id": lambda w: w.invoice_doc_id["a"],
}
OBJECTS.update(merged("OBJECTS"))  # areas built in files of their own (tests/areas.py)
OTHER_VALUES = {
    "path": "x",
    "token": "x",
    "code": "en",
    "period_key": "2026-01",
    "period": "2026-01",
    "key": "trial_balance",
}

INT_VAR = re.compile(r"<int:(\w+)>")


def _rules(app, prefix: str):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefix):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, rule


def _url(app, rule, world, slug: str | None, need_objects: bool = True) -> str:
    """The rule's URL with workspace a's objects (need_objects) or any ids (when the slug alone
    must already answer 404)."""
    values = {}
    for arg in rule.arguments:
        if arg == "slug":
            values[arg] = slug
        elif f"<int:{arg}>" in rule.rule:
            if not need_objects and arg not in OBJECTS:
                values[arg] = 1
                continue
            assert arg in OBJECTS, (
                f"tests/test_cross_tenant.py: add an object of workspace a for <int:{arg}> ({rule.rule})"
            )
            values[arg] = OBJECTS[arg](world)
        else:
            values[arg] = OTHER_VALUES[arg]
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def _send(client, method: str, url: str, headers=None):
    if method == "GET":
        return client.get(url, headers=headers)
    if url.startswith("/api/"):
        if method == "DELETE":
            return client.delete(url, headers=headers)
        # A body that would be valid, so only the tenant wall can stop it.
        body = {"kind": "members"} if url.startswith("/api/v1/exports") else {"name": "x"}
        if url.startswith("/api/v1/opportunities"):
            body = {"stage_id": 1} if url.endswith("/move") else {"title": "x"}
        elif url.endswith("/release"):
            body = {"reason": "x"}
        elif url.endswith("/assign"):
            body = {"member_id": 1}
        return client.open(url, method=method, json=body, headers=headers)
    return post(client, url)


def _tenant_tables(app) -> list[str]:
    from tenants.rls import tenant_owned_tables

    with app.app_context():
        return tenant_owned_tables()


@pytest.fixture
def world(world, app):
    """The conftest world, plus a follow-up (with its task and attachment) per workspace."""
    from tests.test_activities import add_activities

    add_activities(app, world)
    from tests.test_audit_log import add_audit_entries

    add_audit_entries(app, world)
    from tests.work_report_factories import add_work_reports

    add_work_reports(app, world)
    from tests.test_pipeline_settings import add_pipeline_objects

    add_pipeline_objects(app, world)
    from tests.announcement_factories import add_announcement_objects

    add_announcement_objects(app, world)
    from tests.kb_factories import add_kb_objects

    add_kb_objects(app, world)
    from tests.settlement_factories import add_settlement_objects

    add_settlement_objects(app, world)
    from tests.areas import build_all

    build_all(app, world)
    return world


@pytest.fixture
def snapshot_a(app, raw_rows, world):
    """Everything of workspace a, as stored."""

    def _snap():
        a = world.tenants["a"]
        snap = {t: raw_rows(t, "tenant_id = :t", {"t": a.id}) for t in _tenant_tables(app)}
        snap["tenants"] = raw_rows("tenants", "id = :t", {"t": a.id})
        snap["users"] = raw_rows("users", "id IN (SELECT user_id FROM memberships WHERE tenant_id = :t)", {"t": a.id})
        return snap

    return _snap


def test_objects_of_another_workspace_are_404_through_your_own(app, world, client_as, snapshot_a):
    before = snapshot_a()
    b_owner = world.tenants["b"]["owner"]
    client = client_as(b_owner)
    checked, wrong = [], []
    for method, rule in _rules(app, "/w/<slug>/"):
        if not INT_VAR.search(rule.rule):
            continue
        url = _url(app, rule, world, slug=world.tenants["b"].slug)
        r = _send(client, method, url)
        checked.append(url)
        if r.status_code != 404:
            wrong.append(f"{method} {url}: {r.status_code}")
    assert checked, "no routes with object ids found"
    assert not wrong, "B's owner reached A's objects:\n" + "\n".join(wrong)
    assert snapshot_a() == before, "workspace A changed"


def test_objects_of_another_workspace_are_404_through_the_api(app, world, client, snapshot_a):
    before = snapshot_a()
    token = world.tokens[("b", "owner")]
    checked, wrong = [], []
    for method, rule in _rules(app, "/api/"):
        if not INT_VAR.search(rule.rule):
            continue
        url = _url(app, rule, world, slug=None)
        r = _send(client, method, url, headers=bearer(token))
        checked.append(url)
        if r.status_code != 404 or not r.is_json:
            wrong.append(f"{method} {url}: {r.status_code}")
    assert checked
    assert not wrong, "B's token reached A's objects:\n" + "\n".join(wrong)
    assert snapshot_a() == before


def _every_workspace_route_is_404(app, client, world, slug):
    wrong = []
    for method, rule in _rules(app, "/w/<slug>/"):
        url = _url(app, rule, world, slug=slug, need_objects=False)
        r = _send(client, method, url)
        if r.status_code != 404:
            wrong.append(f"{method} {url}: {r.status_code}")
    return wrong


def test_member_of_another_workspace_gets_404_everywhere_in_it(app, world, client_as, snapshot_a):
    before = snapshot_a()
    client = client_as(world.tenants["b"]["owner"])
    wrong = _every_workspace_route_is_404(app, client, world, world.tenants["a"].slug)
    assert not wrong, "\n".join(wrong)
    assert snapshot_a() == before


def test_anonymous_gets_404_everywhere_in_a_workspace(app, world, client, snapshot_a):
    before = snapshot_a()
    wrong = _every_workspace_route_is_404(app, client, world, world.tenants["a"].slug)
    assert not wrong, "\n".join(wrong)
    assert snapshot_a() == before


def test_unknown_workspace_is_404(app, world, client_as):
    client = client_as(world.tenants["a"]["owner"])
    wrong = _every_workspace_route_is_404(app, client, world, "no-such-workspace")
    assert not wrong, "\n".join(wrong)


def test_deactivated_member_gets_404_everywhere_in_the_workspace(app, world, client_as):
    rep = world.tenants["a"]["sales"]
    client = client_as(rep)
    assert client.get(f"/w/{rep.slug}/").status_code == 200
    with in_tenant(app, rep.tenant_id):
        db.session.get(Membership, rep.id).is_active = False
        db.session.commit()
    wrong = _every_workspace_route_is_404(app, client, world, rep.slug)
    assert not wrong, "\n".join(wrong)
    assert client.get("/api/v1/me", headers=bearer(world.tokens[("a", "sales")])).status_code == 401


def test_another_workspace_slug_in_a_url_built_for_yours_does_not_switch_tenant(app, world, client_as):
    """Objects are looked up in the workspace of the URL, never by id alone."""
    a, b = world.tenants["a"], world.tenants["b"]
    client = client_as(a["owner"])
    assert client.get(f"/w/{a.slug}/settings/members/{a['sales'].id}/edit").status_code == 200
    assert client.get(f"/w/{a.slug}/settings/members/{b['sales'].id}/edit").status_code == 404
    assert client.get(f"/w/{a.slug}/jobs/{world.job_id['b']}").status_code == 404


def test_requests_leave_no_tenant_or_user_behind(app, world, client_as, client):
    """The tenant and user of a request live in context variables; each request resets them
    (a worker thread serves someone else next)."""
    from tenants.context import current_tenant_id, current_user_id

    a, b = world.tenants["a"], world.tenants["b"]
    member = client_as(a["owner"])
    for c, url in [
        (member, f"/w/{a.slug}/"),
        (member, f"/w/{b.slug}/"),  # 404 after the tenant was looked up
        (member, f"/w/{a.slug}/settings/members/{b['sales'].id}/edit"),  # 404 inside A
        (member, "/workspaces"),
        (client, f"/w/{a.slug}/"),
        (client, "/api/v1/me"),
    ]:
        c.get(url)
        assert (current_tenant_id(), current_user_id()) == (None, None), url
    client.get("/api/v1/me", headers=bearer(world.tokens[("a", "owner")]))
    assert (current_tenant_id(), current_user_id()) == (None, None)


def test_pages_show_nothing_of_another_workspace(app, world, client_as):
    a, b = world.tenants["a"], world.tenants["b"]
    c = client_as(a["owner"])
    b_strings = {m.name for m in b.members.values()} | {m.email for m in b.members.values()} | {b.name}
    b_strings |= {f"newcomer@{b.slug}.example.com", f"{b.slug} 客户有限公司", f"{b.slug} 联系人"}
    for url in (
        f"/w/{a.slug}/",
        f"/w/{a.slug}/settings/members",
        f"/w/{a.slug}/notifications",
        f"/w/{a.slug}/notifications/bell",
        f"/w/{a.slug}/sales/",
        f"/w/{a.slug}/office/",
        f"/w/{a.slug}/finance/",
        f"/w/{a.slug}/account/tokens",
        f"/w/{a.slug}/search?q=b",
        f"/w/{a.slug}/search?q=example",
        f"/w/{a.slug}/search?q={b.slug}",
        f"/w/{a.slug}/sales/customers",
        f"/w/{a.slug}/sales/customers?q={b.slug}",
        f"/w/{a.slug}/sales/customers?q=客户",
        "/workspaces",
    ):
        page = c.get(url).get_data(as_text=True)
        leaked = sorted(s for s in b_strings if s in page)
        assert not leaked, f"{url} shows workspace b's {leaked}"


def test_ids_in_query_strings_and_bodies_do_not_reach_another_workspace(app, world, client_as, snapshot_a):
    """Quote form helpers take ids outside the path: ?opportunity_id=, a picked product, an API body."""
    before = snapshot_a()
    a, b = world.tenants["a"], world.tenants["b"]
    c = client_as(b["owner"])
    base = f"/w/{b.slug}/sales/quotes"
    new_from_a = f"{base}/new?opportunity_id={world.opportunity_id['a']}"
    assert c.get(new_from_a).status_code == 404
    assert post(c, new_from_a, {"lines-0-description": "x"}).status_code == 404
    pid = world.product_id["a"]
    assert c.get(f"{base}/line", query_string={"index": 0, "lines-0-product_id": pid}).status_code == 404
    r = c.post(
        "/api/v1/quotes",
        json={"customer_id": world.customer_id["b"], "opportunity_id": world.opportunity_id["a"],
              "lines": [{"description": "x", "unit_price": "1.00", "tax_rate": "0.13"}]},
        headers=bearer(world.tokens[("b", "owner")]),
    )  # fmt: skip
    assert r.status_code == 422 and "opportunity_id" in r.get_json()["errors"]["json"]
    # A's letterhead never shows on B's settings page.
    with in_tenant(app, a.id):
        from tenants.models import Tenant

        t = db.session.get(Tenant, a.id)
        t.settings = {**(t.settings or {}), "letterhead": {"legal_name": "阿尔法专用抬头"}}
        db.session.commit()
    before = snapshot_a()
    assert "阿尔法专用抬头" not in c.get(f"/w/{b.slug}/settings/letterhead").get_data(as_text=True)
    assert snapshot_a() == before
