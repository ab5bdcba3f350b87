"""/api/v1/kb: the same rules as the UI — visibility, drafts, versions, conflicts (409), links, XSS."""

from __future__ import annotations

import pytest

from crm.kb.models import KbArticle, KbCategory, KbLink
from tests import factories
from tests import kb_factories as f
from tests.helpers import bearer, in_tenant
from tests.test_kb import assert_harmless
from tests.test_markdown import PAYLOADS

API = "/api/v1/kb"


@pytest.fixture
def tok(tenant_a, token_for):
    return {role: bearer(token_for(tenant_a[role])) for role in ("owner", "sales_manager", "sales", "finance")}


@pytest.fixture
def cats(app, tenant_a):
    owner = tenant_a["owner"]
    general = f.category(app, owner, "通用")
    finance = f.category(app, owner, "财务", parent_id=general, roles=["finance"])
    return {
        "general": general, "finance": finance,
        "a_general": f.article(app, owner, general, "销售手册", "报价审批流程：经理签字。", tags="playbook"),
        "a_finance": f.article(app, owner, finance, "财务制度", "月底结账，审批后付款。"),
        "a_draft": f.article(app, owner, general, "草稿", "未完成", status="draft"),
    }  # fmt: skip


def test_categories_crud_needs_kb_manage_and_validates_the_tree(app, tenant_a, client, tok):
    r = client.post(f"{API}/categories", json={"name": "产品资料", "roles": ["sales"]}, headers=tok["sales_manager"])
    assert r.status_code == 201 and r.json["roles"] == ["sales"]
    root = r.json["id"]
    r = client.post(f"{API}/categories", json={"name": "单页", "parent_id": root}, headers=tok["owner"])
    child = r.json["id"]
    assert client.patch(f"{API}/categories/{root}", json={"parent_id": child}, headers=tok["owner"]).status_code == 422
    assert (
        client.post(f"{API}/categories", json={"name": "x", "roles": ["nobody"]}, headers=tok["owner"]).status_code
        == 422
    )
    assert client.post(f"{API}/categories", json={"name": "x"}, headers=tok["sales"]).status_code == 403
    assert client.patch(f"{API}/categories/{root}", json={"name": "y"}, headers=tok["sales"]).status_code == 403
    # Finance's role is not admitted by 产品资料: its sub-category does not exist for them.
    assert client.get(f"{API}/categories/{child}", headers=tok["finance"]).status_code == 404
    assert [c["name"] for c in client.get(f"{API}/categories", headers=tok["sales"]).json] == ["产品资料", "单页"]
    assert client.delete(f"{API}/categories/{root}", headers=tok["owner"]).status_code == 422  # has a child
    assert client.delete(f"{API}/categories/{child}", headers=tok["owner"]).status_code == 204
    assert client.delete(f"{API}/categories/{root}", headers=tok["owner"]).status_code == 204
    assert f.count(app, tenant_a.id, KbCategory) == 0


def test_articles_are_created_listed_and_read_with_rendered_html(app, tenant_a, client, tok, cats):
    body = {"title": "产品单页", "body": "# 参数\n\n**重点**", "category_id": cats["general"], "status": "published",
            "tags": ["产品", "Sheet"]}  # fmt: skip
    r = client.post(f"{API}/articles", json=body, headers=tok["sales_manager"])
    assert r.status_code == 201, r.json
    a = r.json
    assert a["version"] == 1 and a["tags"] == ["产品", "sheet"] and a["author_id"] == tenant_a["sales_manager"].id
    assert "<h1>参数</h1>" in a["html"] and "<strong>重点</strong>" in a["html"]
    assert client.post(f"{API}/articles", json=body, headers=tok["sales"]).status_code == 403
    bad = client.post(f"{API}/articles", json={**body, "category_id": 999999}, headers=tok["owner"])
    assert bad.status_code == 422 and "category_id" in bad.json["errors"]["json"]

    got = client.get(f"{API}/articles", query_string={"tag": "sheet"}, headers=tok["sales"]).json
    assert [x["title"] for x in got["items"]] == ["产品单页"]
    got = client.get(f"{API}/articles", query_string={"q": "审批"}, headers=tok["sales"]).json
    assert [x["title"] for x in got["items"]] == ["销售手册"]  # 财务制度 is not in the rep's categories
    got = client.get(f"{API}/articles", query_string={"q": "审批"}, headers=tok["finance"]).json
    assert sorted(x["title"] for x in got["items"]) == ["财务制度", "销售手册"]
    got = client.get(f"{API}/articles", query_string={"category_id": cats["finance"]}, headers=tok["owner"]).json
    assert [x["title"] for x in got["items"]] == ["财务制度"]


def test_drafts_are_for_writers_only(app, tenant_a, client, tok, cats):
    assert client.get(f"{API}/articles/{cats['a_draft']}", headers=tok["sales"]).status_code == 404
    assert client.get(f"{API}/articles/{cats['a_draft']}", headers=tok["owner"]).status_code == 200
    titles = [x["title"] for x in client.get(f"{API}/articles", query_string={"status": "draft"},
                                               headers=tok["sales"]).json["items"]]  # fmt: skip
    assert "草稿" not in titles
    titles = [x["title"] for x in client.get(f"{API}/articles", query_string={"status": "draft"},
                                               headers=tok["owner"]).json["items"]]  # fmt: skip
    assert titles == ["草稿"]


def test_patch_on_a_stale_base_version_answers_409_with_both_diffs_and_changes_nothing(
    app, tenant_a, client, tok, cats
):
    aid = cats["a_general"]
    url = f"{API}/articles/{aid}"
    r = client.patch(url, json={"body": "报价审批流程：经理签字。\n甲的补充", "base_version": 1}, headers=tok["owner"])
    assert r.status_code == 200 and r.json["version"] == 2
    r = client.patch(url, json={"body": "报价审批流程：总监签字。", "base_version": 1}, headers=tok["sales_manager"])
    assert r.status_code == 409
    c = r.json
    assert c["current_version"] == 2 and c["base_version"] == 1
    assert "+甲的补充" in c["their_change"] and "总监" not in c["their_change"]
    assert "+报价审批流程：总监签字。" in c["your_change"] and "-报价审批流程：经理签字。" in c["your_change"]
    got = f.read(app, tenant_a.id, aid)
    assert got["version"] == 2 and "甲的补充" in got["body"] and len(got["versions"]) == 2
    # On top of the current version it goes through; both texts stay in the history.
    r = client.patch(url, json={"body": "报价审批流程：总监签字。", "base_version": 2}, headers=tok["sales_manager"])
    assert r.status_code == 200 and r.json["version"] == 3 and r.json["last_editor_id"] == tenant_a["sales_manager"].id
    assert [v[2] for v in f.read(app, tenant_a.id, aid)["versions"]][1:] == [
        "报价审批流程：经理签字。\n甲的补充", "报价审批流程：总监签字。",
    ]  # fmt: skip


def test_versions_diff_and_restore(app, tenant_a, client, tok, cats):
    aid = cats["a_general"]
    f.edit(app, tenant_a["owner"], aid, title="销售手册（新）", body="新流程")
    vs = client.get(f"{API}/articles/{aid}/versions", headers=tok["sales"]).json
    assert [v["version"] for v in vs] == [2, 1]
    d = client.get(f"{API}/articles/{aid}/versions/diff", query_string={"from": 1, "to": 2}, headers=tok["sales"])
    assert d.status_code == 200
    assert "-销售手册\n+销售手册（新）" in d.json["diff"] and "+新流程" in d.json["diff"]
    bad = client.get(f"{API}/articles/{aid}/versions/diff", query_string={"from": 1, "to": 7}, headers=tok["sales"])
    assert bad.status_code == 422
    assert client.post(f"{API}/articles/{aid}/restore", json={"version": 1}, headers=tok["sales"]).status_code == 403
    r = client.post(f"{API}/articles/{aid}/restore", json={"version": 1}, headers=tok["owner"])
    assert r.status_code == 200 and r.json["version"] == 3 and r.json["title"] == "销售手册"
    assert r.json["body"] == "报价审批流程：经理签字。"


def test_links_to_customers_and_opportunities(app, tenant_a, client, tok, cats):
    from crm.db import db
    from tenants.models import Membership

    rep = tenant_a["sales"]
    with in_tenant(app, tenant_a.id):
        member = db.session.get(Membership, rep.id)
        customer, _ = factories.make_customer(member, "百川科技有限公司")
        opp = factories.make_opportunity(member, customer.id, "年度框架")
        db.session.commit()
        cid, oid = customer.id, opp.id
    url = f"{API}/articles/{cats['a_general']}/links"
    r = client.post(url, json={"object_type": "customer", "object_id": cid}, headers=tok["sales"])
    assert r.status_code == 201
    link_id = r.json["id"]
    assert (
        client.post(url, json={"object_type": "opportunity", "object_id": oid}, headers=tok["sales"]).status_code == 201
    )
    assert (
        client.post(url, json={"object_type": "customer", "object_id": cid}, headers=tok["finance"]).status_code == 422
    )
    assert client.post(url, json={"object_type": "invoice", "object_id": cid}, headers=tok["sales"]).status_code == 422
    got = client.get(url, headers=tok["sales"]).json
    assert sorted((x["object_type"], x["object_id"]) for x in got) == [("customer", cid), ("opportunity", oid)]
    assert client.get(url, headers=tok["finance"]).json == []  # finance cannot see customers
    assert client.delete(f"{url}/{link_id}", headers=tok["finance"]).status_code == 403
    assert client.delete(f"{url}/{link_id}", headers=tok["sales"]).status_code == 204
    assert f.count(app, tenant_a.id, KbLink) == 1


def test_deleting_an_article_takes_its_versions_and_links(app, tenant_a, client, tok, cats):
    aid = cats["a_general"]
    assert client.delete(f"{API}/articles/{aid}", headers=tok["sales"]).status_code == 403
    assert client.delete(f"{API}/articles/{aid}", headers=tok["owner"]).status_code == 204
    assert f.read(app, tenant_a.id, aid) is None
    assert client.get(f"{API}/articles/{aid}", headers=tok["owner"]).status_code == 404


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_payloads_come_back_harmless_in_the_api_html(app, tenant_a, client, tok, cats, payload):
    body = {"title": payload[:200], "body": payload, "category_id": cats["general"], "status": "published"}
    r = client.post(f"{API}/articles", json=body, headers=tok["owner"])
    assert r.status_code == 201
    html = client.get(f"{API}/articles/{r.json['id']}", headers=tok["sales"]).json["html"]
    assert_harmless(html, payload)
    assert r.json["title"] == payload[:200]  # stored as typed: JSON is data, escaping is the page's job


def test_objects_of_another_workspace_are_404(app, tenant_a, tenant_b, client, cats, token_for):
    other = bearer(token_for(tenant_b["owner"]))
    aid = cats["a_general"]
    for method, url in [("GET", f"{API}/articles/{aid}"), ("PATCH", f"{API}/articles/{aid}"),
                        ("GET", f"{API}/articles/{aid}/versions"), ("POST", f"{API}/articles/{aid}/restore"),
                        ("GET", f"{API}/categories/{cats['general']}")]:  # fmt: skip
        r = client.open(url, method=method, json={"version": 1, "body": "x"}, headers=other)
        assert r.status_code == 404, url
    assert client.get(f"{API}/articles", headers=other).json["items"] == []
    with in_tenant(app, tenant_a.id):
        from crm.db import db

        assert db.session.get(KbArticle, aid).version == 1
