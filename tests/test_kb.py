"""Office → Knowledge base through the UI: visibility by nested category roles, drafts, versions,
diffs and restore, edit conflicts, Chinese search, global search, files, links, XSS, languages."""

from __future__ import annotations

import re
import threading
from html.parser import HTMLParser

import pytest
from flask import render_template, render_template_string
from sqlalchemy import select

from crm.attachments.models import Attachment
from crm.db import db
from crm.kb import services as kb
from crm.kb.models import KbArticle, KbArticleVersion, KbLink
from tenants.context import tenant_context
from tenants.models import Membership
from tests import factories
from tests import kb_factories as f
from tests.helpers import csrf_from_page, in_tenant, post, text_of
from tests.test_markdown import PAYLOADS

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def base(m) -> str:
    return f"/w/{m.slug}/office/kb"


def _form(a_title: str, body: str, category_id: int, base_version=None, **extra) -> dict:
    data = {"title": a_title, "body": body, "category_id": str(category_id), "status": "published", "tags": ""}
    if base_version is not None:
        data["base_version"] = str(base_version)
    data.update(extra)
    return data


@pytest.fixture
def kbw(app, tenant_a):
    """A tree: 通用 (everyone) → 财务 (finance only) → 报销 (sales or finance); and 销售 (sales, managers)."""
    owner = tenant_a["owner"]
    general = f.category(app, owner, "通用")
    finance = f.category(app, owner, "财务", parent_id=general, roles=["finance"])
    claims = f.category(app, owner, "报销", parent_id=finance, roles=["sales", "finance"])
    sales = f.category(app, owner, "销售", roles=["sales", "sales_manager"])
    return {
        "general": general, "finance": finance, "claims": claims, "sales": sales,
        "a_general": f.article(app, owner, general, "公司介绍", "我们是一家**软件**公司。"),
        "a_finance": f.article(app, owner, finance, "财务制度", "月底结账。"),
        "a_claims": f.article(app, owner, claims, "报销流程", "先填单，再审批。"),
        "a_sales": f.article(app, owner, sales, "销售手册", "报价审批流程：经理签字。", tags="playbook, 报价"),
        "a_draft": f.article(app, owner, general, "草稿文章", "还没写完", status="draft"),
    }  # fmt: skip


# ---------------------------------------------------------------- visibility


def test_a_nested_category_is_visible_only_when_every_ancestor_admits_the_role(app, tenant_a, kbw, client_as):
    rep = client_as(tenant_a["sales"])
    page = text_of(rep.get(base(tenant_a["sales"])))
    assert "公司介绍" in page and "销售手册" in page
    # 报销 admits sales, but its parent 财务 does not: hidden.
    assert "财务制度" not in page and "报销流程" not in page
    assert rep.get(f"{base(tenant_a['sales'])}/articles/{kbw['a_claims']}").status_code == 404
    assert rep.get(f"{base(tenant_a['sales'])}/articles/{kbw['a_finance']}").status_code == 404

    fin = client_as(tenant_a["finance"])
    page = text_of(fin.get(base(tenant_a["finance"])))
    assert "财务制度" in page and "报销流程" in page and "公司介绍" in page
    assert "销售手册" not in page
    assert fin.get(f"{base(tenant_a['finance'])}/articles/{kbw['a_sales']}").status_code == 404

    owner = client_as(tenant_a["owner"])  # kb.manage sees every category
    page = text_of(owner.get(base(tenant_a["owner"])))
    for title in ("公司介绍", "财务制度", "报销流程", "销售手册", "草稿文章"):
        assert title in page


def test_drafts_are_hidden_from_readers_and_shown_to_writers(app, tenant_a, kbw, client_as):
    rep, mgr = tenant_a["sales"], tenant_a["sales_manager"]
    assert "草稿文章" not in text_of(client_as(rep).get(base(rep)))
    assert client_as(rep).get(f"{base(rep)}/articles/{kbw['a_draft']}").status_code == 404
    r = client_as(mgr).get(f"{base(mgr)}/articles/{kbw['a_draft']}")
    assert r.status_code == 200 and "草稿文章" in text_of(r)
    # Publishing makes it readable.
    f.edit(app, tenant_a["owner"], kbw["a_draft"], status="published")
    assert client_as(rep).get(f"{base(rep)}/articles/{kbw['a_draft']}").status_code == 200


def test_readers_cannot_write(app, tenant_a, kbw, client_as):
    rep = tenant_a["sales"]
    c = client_as(rep)
    r = post(c, f"{base(rep)}/articles/{kbw['a_general']}/edit", _form("改掉", "x", kbw["general"], 1))
    assert r.status_code == 403
    assert f.read(app, tenant_a.id, kbw["a_general"])["title"] == "公司介绍"


# ---------------------------------------------------------------- writing, versions, diff, restore


def test_article_created_through_the_form_keeps_author_tags_and_first_version(app, tenant_a, kbw, client_as):
    mgr = tenant_a["sales_manager"]
    c = client_as(mgr)
    assert c.get(f"{base(mgr)}/articles/new").status_code == 200
    r = post(c, f"{base(mgr)}/articles/new", _form("产品单页", "# 产品\n\n参数表", kbw["sales"], tags="产品, Sheet"))
    assert r.status_code == 302
    with in_tenant(app, tenant_a.id):
        aid = db.session.scalars(select(KbArticle.id).where(KbArticle.title == "产品单页")).one()
    got = f.read(app, tenant_a.id, aid)
    assert got["author_id"] == mgr.id and got["last_editor_id"] == mgr.id
    assert got["tags"] == ["产品", "sheet"] and got["version"] == 1 and len(got["versions"]) == 1
    page = text_of(c.get(r.headers["Location"]))
    assert "<h1>产品</h1>" in page and "参数表" in page


def test_each_save_is_a_version_history_diffs_any_two_and_restore_adds_one(app, tenant_a, kbw, client_as):
    owner = tenant_a["owner"]
    aid = kbw["a_general"]
    c = client_as(owner)
    for i, (body, v) in enumerate([("第二段<b>加粗</b>", 1), ("第三版内容", 2)]):
        r = post(c, f"{base(owner)}/articles/{aid}/edit", _form("公司介绍", body, kbw["general"], v, note=f"n{i}"))
        assert r.status_code == 302, text_of(r)[:500]
    got = f.read(app, tenant_a.id, aid)
    assert got["version"] == 3 and [v[0] for v in got["versions"]] == [1, 2, 3]

    page = text_of(c.get(f"{base(owner)}/articles/{aid}/history?from=1&to=2"))
    diff = page[page.index('data-testid="kb-diff"') :]
    assert "- 我们是一家**软件**公司。" in diff and "+ 第二段&lt;b&gt;加粗&lt;/b&gt;" in diff  # escaped, coloured lines
    assert "<b>加粗</b>" not in page
    assert c.get(f"{base(owner)}/articles/{aid}/history?from=1&to=9").status_code == 400

    r = post(c, f"{base(owner)}/articles/{aid}/restore", {"version": "1"})
    assert r.status_code == 302
    got = f.read(app, tenant_a.id, aid)
    assert got["version"] == 4 and got["body"] == "我们是一家**软件**公司。"
    assert [v[0] for v in got["versions"]] == [1, 2, 3, 4]  # nothing deleted


def test_saving_unchanged_text_adds_no_version(app, tenant_a, kbw, client_as):
    owner = tenant_a["owner"]
    r = post(client_as(owner), f"{base(owner)}/articles/{kbw['a_finance']}/edit",
             _form("财务制度", "月底结账。", kbw["finance"], 1))  # fmt: skip
    assert r.status_code == 302
    assert f.read(app, tenant_a.id, kbw["a_finance"])["version"] == 1


# ---------------------------------------------------------------- edit conflicts


def test_the_second_of_two_concurrent_edits_is_refused_with_both_diffs_and_nothing_is_lost(
    app, tenant_a, kbw, client_as
):
    owner, mgr = tenant_a["owner"], tenant_a["sales_manager"]
    aid = kbw["a_sales"]
    url = f"{base(owner)}/articles/{aid}/edit"
    c1, c2 = client_as(owner), client_as(mgr)
    p1, p2 = text_of(c1.get(url)), text_of(c2.get(url))
    assert 'name="base_version" type="hidden" value="1"' in p1 or 'value="1"' in p2
    r1 = c1.post(url, data={**_form("销售手册", "报价审批流程：经理签字。\n甲的补充", kbw["sales"], 1),
                            "csrf_token": csrf_from_page(p1), "tags": "playbook"})  # fmt: skip
    assert r1.status_code == 302
    mine = "报价审批流程：总监签字。\n乙的补充"
    r2 = c2.post(url, data={**_form("销售手册", mine, kbw["sales"], 1), "csrf_token": csrf_from_page(p2),
                            "tags": "playbook"})  # fmt: skip
    assert r2.status_code == 409
    page = text_of(r2)
    assert 'data-testid="kb-conflict"' in page
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1)
    assert "乙的补充" in textarea and "总监签字" in textarea  # the user's text is kept
    theirs = page[page.index('data-testid="kb-diff-theirs"') : page.index('data-testid="kb-diff-yours"')]
    yours = page[page.index('data-testid="kb-diff-yours"') :]
    assert "+ 甲的补充" in theirs and "乙的补充" not in theirs
    assert "+ 乙的补充" in yours and "+ 报价审批流程：总监签字。" in yours
    got = f.read(app, tenant_a.id, aid)
    assert got["version"] == 2 and "甲的补充" in got["body"]  # the first save stands, untouched
    # "Save anyway": the re-rendered form now carries the current version as its base.
    assert re.search(r'name="base_version"[^>]*value="2"|value="2"[^>]*name="base_version"', page)
    r3 = c2.post(url, data={**_form("销售手册", mine, kbw["sales"], 2), "csrf_token": csrf_from_page(page),
                            "tags": "playbook"})  # fmt: skip
    assert r3.status_code == 302
    got = f.read(app, tenant_a.id, aid)
    assert got["version"] == 3 and got["body"] == mine
    assert "甲的补充" in got["versions"][1][2]  # theirs is kept in history


@pytest.mark.postgres
def test_two_concurrent_saves_on_postgres_never_both_win(app, tenant_a, kbw):
    aid = kbw["a_general"]
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}
    errors: list[BaseException] = []

    def worker(member, text: str) -> None:
        try:
            with app.app_context(), tenant_context(tenant_a.id, user_id=member.user_id):
                actor = db.session.get(Membership, member.id)
                a = db.session.get(KbArticle, aid)
                barrier.wait()
                try:
                    kb.update_article(actor, a, kb.ArticleInput(body=text, fields_sent={"body"}), 1)
                    db.session.commit()
                    outcomes[text] = "won"
                except kb.EditConflict:
                    db.session.rollback()
                    outcomes[text] = "conflict"
                finally:
                    db.session.remove()
        except BaseException as err:  # noqa: BLE001 (reported by the main thread)
            errors.append(err)

    for _ in range(3):
        threads = [
            threading.Thread(target=worker, args=(tenant_a["owner"], "甲")),
            threading.Thread(target=worker, args=(tenant_a["sales_manager"], "乙")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert sorted(outcomes.values()) == ["conflict", "won"], outcomes
        got = f.read(app, tenant_a.id, aid)
        winner = next(k for k, v in outcomes.items() if v == "won")
        assert got["version"] == 2 and got["body"] == winner and [v[0] for v in got["versions"]] == [1, 2]
        # Back to version 1 for the next round (as the owner, outside the race).
        with in_tenant(app, tenant_a.id):
            db.session.execute(db.delete(KbArticleVersion).where(KbArticleVersion.version == 2))
            a = db.session.get(KbArticle, aid)
            a.version, a.body = 1, "我们是一家**软件**公司。"
            db.session.commit()
        outcomes.clear()


# ---------------------------------------------------------------- search


@pytest.mark.parametrize(("q", "found", "not_found"), [
    ("审批", ["销售手册", "报销流程"], ["公司介绍"]),  # two characters, in bodies
    ("手册", ["销售手册"], ["报销流程"]),  # two characters, in a title
    ("报价审批", ["销售手册"], ["报销流程"]),
    ("软件", ["公司介绍"], ["销售手册"]),
    ("采购", [], ["销售手册", "公司介绍"]),
])  # fmt: skip
def test_chinese_words_of_two_characters_are_found_in_titles_and_bodies(app, tenant_a, kbw, client_as, q, found,
                                                                       not_found):  # fmt: skip
    owner = tenant_a["owner"]
    page = text_of(client_as(owner).get(base(owner), query_string={"q": q}))
    listing = page[page.index("<form") :]
    for title in found:
        assert title in listing, (q, title)
    for title in not_found:
        assert title not in listing, (q, title)


def test_filters_by_tag_and_category(app, tenant_a, kbw, client_as):
    owner = tenant_a["owner"]
    c = client_as(owner)
    page = text_of(c.get(base(owner), query_string={"tag": "报价"}))
    assert "销售手册" in page and "公司介绍" not in page
    page = text_of(c.get(base(owner), query_string={"category_id": kbw["finance"]}))
    assert "财务制度" in page and "公司介绍" not in page.split('data-testid="kb-articles"')[1]


def test_the_global_search_box_finds_articles_the_member_may_read(app, tenant_a, kbw, client_as):
    rep, fin = tenant_a["sales"], tenant_a["finance"]
    page = text_of(client_as(rep).get(f"/w/{rep.slug}/search", query_string={"q": "审批"}))
    assert "销售手册" in page and "报销流程" not in page
    page = text_of(client_as(fin).get(f"/w/{fin.slug}/search", query_string={"q": "审批"}))
    assert "报销流程" in page and "销售手册" not in page
    assert "草稿文章" not in text_of(client_as(rep).get(f"/w/{rep.slug}/search", query_string={"q": "草稿"}))


# ---------------------------------------------------------------- XSS


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.script_text.append(data)


def assert_harmless(html: str, payload: str) -> None:
    p = _Elements()
    p.feed(html)
    assert not p.script_text, (payload, p.script_text)
    for tag, attrs in p.found:
        assert tag not in {"iframe", "math", "details", "object", "embed", "style"}, (payload, tag)
        if tag == "script":
            assert (attrs.get("src") or "").startswith(("/static/", "/bootstrap/static/")), (payload, attrs)
        assert not any(name.startswith("on") for name in attrs), (payload, tag, attrs)
        for name in ("href", "src", "action", "formaction"):
            url = (attrs.get(name) or "").strip().lower()
            assert not url.startswith(("javascript:", "vbscript:", "data:", "//")), (payload, url)
            if tag == "img" and name == "src" and url:
                assert url.startswith("/"), (payload, url)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_payloads_in_titles_bodies_and_tags_are_neutralised(app, tenant_a, kbw, client_as, payload):
    owner = tenant_a["owner"]
    c = client_as(owner)
    r = post(c, f"{base(owner)}/articles/new", _form(payload[:200], f"审批 {payload}\n\n{payload}", kbw["general"],
                                                      tags=payload[:30]))  # fmt: skip
    assert r.status_code == 302, text_of(r)[:400]
    aid = int(r.headers["Location"].rsplit("/", 1)[1])
    r = post(c, f"{base(owner)}/articles/{aid}/edit", _form(payload[:200], f"改 {payload}", kbw["general"], 1))
    assert r.status_code == 302
    reader = client_as(tenant_a["sales"])
    for client, url in [
        (reader, f"{base(owner)}/articles/{aid}"),
        (reader, base(owner)),
        (reader, f"{base(owner)}?q=审批"),
        (reader, f"{base(owner)}/articles/{aid}/history?from=1&to=2"),
        (reader, f"/w/{owner.slug}/search?q=审批"),
        (c, f"{base(owner)}/articles/{aid}/edit"),
    ]:
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert_harmless(text_of(resp), payload)


def test_xss_payloads_in_a_conflict_page_are_neutralised(app, tenant_a, kbw, client_as):
    owner = tenant_a["owner"]
    payload = "\n".join(PAYLOADS)
    f.edit(app, owner, kbw["a_general"], body=payload)
    r = post(client_as(owner), f"{base(owner)}/articles/{kbw['a_general']}/edit",
             _form(PAYLOADS[0], payload + "\n<svg onload=alert(2)>", kbw["general"], 1))  # fmt: skip
    assert r.status_code == 409
    assert_harmless(text_of(r), payload)


# ---------------------------------------------------------------- files


def test_an_uploaded_image_is_inserted_as_an_app_path_and_served_to_readers_only(app, tenant_a, kbw, client_as):
    owner, rep = tenant_a["owner"], tenant_a["sales"]
    aid = kbw["a_general"]
    c = client_as(owner)
    r = post(c, f"{base(owner)}/articles/{aid}/files", {"file": (__import__("io").BytesIO(PNG), "流程图.png")},
             content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 302
    with in_tenant(app, tenant_a.id):
        att = db.session.scalars(select(Attachment).where(Attachment.owner_type == "kb_article")).one()
        att_id = att.id
    url = f"/w/{owner.slug}/files/{att_id}"
    page = text_of(c.get(f"{base(owner)}/articles/{aid}/edit"))
    assert f'data-kb-insert="![流程图.png]({url})"' in page
    f.edit(app, owner, aid, body=f"见图：\n\n![流程图.png]({url})")
    page = text_of(client_as(rep).get(f"{base(rep)}/articles/{aid}"))
    assert f'<img src="{url}" alt="流程图.png">' in page
    assert client_as(rep).get(url).status_code == 200
    # A draft's files are not for readers.
    f.edit(app, owner, aid, status="draft")
    assert client_as(rep).get(url).status_code == 404
    # A file that is not what it claims is refused, nothing stored.
    r = post(c, f"{base(owner)}/articles/{aid}/files", {"file": (__import__("io").BytesIO(b"MZ\x00\x01"), "x.png")},
             content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 303
    assert f.count(app, tenant_a.id, Attachment) == 1


# ---------------------------------------------------------------- links from customers and opportunities


def test_a_customer_page_lists_linked_articles_and_its_editors_link_more(app, tenant_a, kbw, client_as):
    rep = tenant_a["sales"]
    with in_tenant(app, tenant_a.id):
        customer, _ = factories.make_customer(db.session.get(Membership, rep.id), "百川科技有限公司")
        db.session.commit()
        cid = customer.id
    c = client_as(rep)
    page = text_of(c.get(f"/w/{rep.slug}/sales/customers/{cid}"))
    assert 'data-testid="kb-linked-articles"' in page and "财务制度" not in page
    r = post(c, f"{base(rep)}/links", {"article_id": kbw["a_sales"], "object_type": "customer", "object_id": cid})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/sales/customers/{cid}")
    section = text_of(c.get(f"/w/{rep.slug}/sales/customers/{cid}")).split('data-testid="kb-linked-articles"')[1]
    assert "销售手册" in section.split("<form")[0]
    # An article the rep cannot read cannot be linked.
    r = post(c, f"{base(rep)}/links", {"article_id": kbw["a_claims"], "object_type": "customer", "object_id": cid})
    assert r.status_code == 303
    # Finance reads articles but not customers: no linking.
    r = post(client_as(tenant_a["finance"]), f"{base(rep)}/links",
             {"article_id": kbw["a_general"], "object_type": "customer", "object_id": cid})  # fmt: skip
    assert r.status_code == 404
    with in_tenant(app, tenant_a.id):
        links = db.session.scalars(select(KbLink)).all()
        assert [(lk.article_id, lk.object_type, lk.object_id) for lk in links] == [(kbw["a_sales"], "customer", cid)]
        link_id = links[0].id
    assert post(c, f"{base(rep)}/links/{link_id}/delete").status_code == 302
    assert f.count(app, tenant_a.id, KbLink) == 0


def test_the_opportunity_partial_shows_linked_articles(app, tenant_a, kbw):
    rep = tenant_a["sales"]
    with in_tenant(app, tenant_a.id):
        member = db.session.get(Membership, rep.id)
        customer, _ = factories.make_customer(member, "百川科技有限公司")
        opp = factories.make_opportunity(member, customer.id, "年度框架")
        db.session.commit()
        oid = opp.id
    f.link(app, rep, kbw["a_sales"], "opportunity", oid)
    from crm.kb.views import opportunity_articles
    from crm.pipeline.models import Opportunity

    with app.test_request_context(f"/w/{rep.slug}/"), tenant_context(tenant_a.id):
        from flask import g

        member = db.session.get(Membership, rep.id)
        g.member, g.tenant = member, member.tenant
        opp = db.session.get(Opportunity, oid)
        html = render_template("office/kb/_linked_articles.html", kb=opportunity_articles(member, opp))
        included = render_template_string(
            "{% with kb=kb_for_opportunity(opp) %}{% include 'office/kb/_linked_articles.html' %}{% endwith %}", opp=opp
        )
    assert "销售手册" in html and f'value="{oid}"' in html and 'name="article_id"' in html
    assert included == html


# ---------------------------------------------------------------- categories


def test_categories_nest_refuse_cycles_and_only_empty_ones_are_deleted(app, tenant_a, kbw, client_as):
    owner = tenant_a["owner"]
    c = client_as(owner)
    r = post(c, f"{base(owner)}/categories/{kbw['general']}/edit", {"name": "通用", "parent_id": kbw["claims"]})
    assert r.status_code == 400 and "inside itself" in text_of(r)
    r = post(c, f"{base(owner)}/categories", {"name": "新类", "parent_id": kbw["sales"], "roles": ["finance"]})
    assert r.status_code == 302
    assert post(c, f"{base(owner)}/categories/{kbw['general']}/delete").status_code == 303  # not empty
    with in_tenant(app, tenant_a.id):
        new = next(x for x in kb.all_categories() if x.name == "新类")
        assert new.roles == ["finance"] and new.parent_id == kbw["sales"]
        new_id = new.id
    assert post(c, f"{base(owner)}/categories/{new_id}/delete").status_code == 302
    assert new_id not in {x.id for x in _cats(app, tenant_a)}


def _cats(app, tenant):
    with in_tenant(app, tenant.id):
        return kb.all_categories()


# ---------------------------------------------------------------- languages and statement counts


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_pages_render_in_both_languages(app, tenant_a, kbw, client_as, lang):
    owner = tenant_a["owner"]
    c = client_as(owner, accept_language=lang)
    aid = kbw["a_sales"]
    f.edit(app, owner, aid, body="新内容")
    for url in ["", "/categories", f"/categories/{kbw['sales']}/edit", "/articles/new", f"/articles/{aid}",
                f"/articles/{aid}/edit", f"/articles/{aid}/history"]:  # fmt: skip
        r = c.get(base(owner) + url)
        assert r.status_code == 200, url
        assert re.search(r'<html[^>]*lang="' + ("en" if lang == "en" else "zh"), text_of(r)), url


def _grow(app, tenant, n: int, kbw) -> None:
    for i in range(n):
        f.article(app, tenant["sales_manager"], kbw["general"], f"文章{i}", f"正文{i}", tags=f"t{i}")


@pytest.mark.parametrize("path", ["", "?q=正文", "/articles/{aid}", "/articles/{aid}/history"])
def test_list_and_article_pages_issue_a_constant_number_of_statements(app, tenant_a, kbw, client_as, count_queries,
                                                                     path):  # fmt: skip
    owner = tenant_a["owner"]
    c = client_as(owner)
    url = base(owner) + path.format(aid=kbw["a_general"])
    _grow(app, tenant_a, 2, kbw)
    f.edit(app, tenant_a["admin"], kbw["a_general"], body="管理员修改")  # editors other than the viewer, both times
    assert c.get(url).status_code == 200
    with count_queries() as small:
        assert c.get(url).status_code == 200
    _grow(app, tenant_a, 12, kbw)
    for i in range(6):
        f.edit(app, tenant_a["admin"], kbw["a_general"], body=f"第{i}次修改")
    with count_queries() as large:
        assert c.get(url).status_code == 200
    assert small.count == large.count, "\n".join(large.statements)
    assert large.count <= 20


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("q", "indexes"),
    [
        ("审批", ["ix_kb_articles_bigrams"]),
        ("报价审批流程", ["ix_kb_articles_bigrams"]),
        ("1234", ["ix_kb_articles_title_trgm", "ix_kb_articles_body_trgm"]),
    ],
)
def test_search_uses_the_gin_indexes_under_rls(app, tenant_a, kbw, owner_engine, q, indexes):
    from sqlalchemy import event, text

    words = ["合同", "发票", "客户", "产品", "培训", "售后", "渠道", "价格", "库存", "物流"]
    with in_tenant(app, tenant_a.id):
        for i in range(1500):
            title, body = f"{words[i % 10]}说明{i}", f"{words[(i * 7) % 10]}{words[(i * 3) % 10]}的处理办法 {i}"
            db.session.add(
                KbArticle(
                    category_id=kbw["general"],
                    title=title,
                    body=body,
                    status="published",
                    tags="",
                    version=1,
                    search_bigrams=kb._search_keys(title, body),
                )  # fmt: skip
            )
        db.session.commit()
    with owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE kb_articles"))
    captured: list[tuple[str, object]] = []
    with in_tenant(app, tenant_a.id, tenant_a["owner"].user_id):
        engine = db.engine

        def _grab(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            captured.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", _grab)
        try:
            rows, _total = kb.list_articles(db.session.get(Membership, tenant_a["owner"].id), kb.ArticleQuery(q=q))
        finally:
            event.remove(engine, "before_cursor_execute", _grab)
        assert rows and all(q in a.title + a.body + a.tags for a in rows)
        statement, params = next((s, p) for s, p in captured if "FROM kb_articles" in s and "OPERATOR(public." in s)
        assert db.session.execute(text("SELECT current_user")).scalar() != "postgres"
        plan = "\n".join(r[0] for r in db.session.connection().exec_driver_sql("EXPLAIN " + statement, params).all())
    for index in indexes:
        assert f"Bitmap Index Scan on {index}" in plan, plan
    assert "Seq Scan on kb_articles" not in plan, plan


def test_the_opportunity_page_lists_its_linked_articles(app, tenant_a, kbw, client_as):
    rep = tenant_a["sales"]
    with in_tenant(app, tenant_a.id):
        member = db.session.get(Membership, rep.id)
        customer, _ = factories.make_customer(member, "百川科技有限公司")
        opp = factories.make_opportunity(member, customer.id, "年度框架")
        db.session.commit()
        oid = opp.id
    f.link(app, rep, kbw["a_sales"], "opportunity", oid)
    page = client_as(rep).get(f"/w/{rep.slug}/sales/pipeline/opportunities/{oid}").get_data(as_text=True)
    assert 'data-testid="kb-linked-articles"' in page and "销售手册" in page
