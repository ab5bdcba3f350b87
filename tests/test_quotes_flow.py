"""Quotes, the rest of the flow: htmx lines and live totals, quoting an opportunity, auto-expiry."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.db import db
from crm.money_words import to_capital
from crm.quotes import services
from crm.quotes.models import Quote
from tenants.context import tenant_context
from tests import factories
from tests import quote_factories as qf
from tests import sales_factories as sf
from tests.helpers import bearer, in_tenant, post, text_of

D = Decimal


@pytest.fixture
def customer_a(app, tenant_a):
    return sf.customer(app, tenant_a["sales"], "上海百川科技有限公司")


def _base(tenant) -> str:
    return f"/w/{tenant.slug}/sales/quotes"


def _opportunity(app, owner, customer_id, title="年度运维项目", lines=None, **values) -> int:
    """An opportunity of `owner` (through the pipeline service), optionally with lines."""
    from crm.pipeline.services import LineInput, OpportunityInput, create_opportunity

    with app.app_context():
        with tenant_context(owner.tenant_id):
            row = factories.member_row(owner)
        with tenant_context(owner.tenant_id, user_id=row.user_id):
            opp = create_opportunity(
                row,
                OpportunityInput(
                    values={"customer_id": customer_id, "title": title, **values},
                    lines=[LineInput(**x) for x in lines] if lines else None,
                ),
            )
            db.session.flush()
            oid = opp.id
        db.session.commit()
        return oid


def _field_value(html: str, name: str) -> str | None:
    m = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    if not m:
        return None
    v = re.search(r'value="([^"]*)"', m.group(0))
    return v.group(1) if v else ""


def _selected(html: str, name: str) -> str | None:
    m = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    assert m, f"no select {name}"
    sel = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*selected', m.group(1))
    return (sel.group(1) or sel.group(2)) if sel else None


def _preview_numbers(html: str) -> dict[str, str]:
    out = {}
    for key in ("excl", "tax", "incl", "capital"):
        m = re.search(rf'data-testid="preview-{key}">([^<]*)<', html)
        assert m, f"preview-{key} missing:\n{html}"
        out[key] = m.group(1).strip()
    return out


# ================================================================ htmx: rows


def test_line_row_without_index_is_a_blank_row_after_the_highest_index(app, tenant_a, client_as):
    c = client_as(tenant_a["sales"])
    r = c.get(f"{_base(tenant_a)}/line?lines-0-description=a&lines-4-quantity=1&lines-2-unit=台")
    assert r.status_code == 200
    html = text_of(r)
    assert 'name="lines-5-description"' in html and 'name="lines-4-' not in html
    assert r.headers["HX-Trigger-After-Swap"] == "quote-lines-changed"
    assert 'hx-get="' in html and 'name="remove_line" value="5"' in html


def test_picking_a_product_fills_the_row_from_the_server_and_keeps_quantity(app, tenant_a, client_as):
    pid = qf.product(app, tenant_a["owner"], "HW-9", "工控机", price="8800.00", rate="0.09", unit="台",
                     specification="i7/16G")  # fmt: skip
    c = client_as(tenant_a["sales"])
    args = {"index": 3, "lines-3-product_id": pid, "lines-3-quantity": "4", "lines-3-discount_pct": "5",
            "lines-3-description": "旧描述"}  # fmt: skip
    r = c.get(f"{_base(tenant_a)}/line", query_string=args)
    assert r.status_code == 200
    html = text_of(r)
    assert _field_value(html, "lines-3-description") == "工控机"
    assert _field_value(html, "lines-3-specification") == "i7/16G"
    assert _field_value(html, "lines-3-unit") == "台"
    assert _field_value(html, "lines-3-unit_price") == "8800.00"
    assert _selected(html, "lines-3-tax_rate") == "0.09"
    assert _selected(html, "lines-3-product_id") == str(pid)
    assert _field_value(html, "lines-3-quantity") == "4" and _field_value(html, "lines-3-discount_pct") == "5"


def test_line_row_refuses_another_workspaces_product_and_removal_answers_empty(app, tenant_a, tenant_b, client_as):
    foreign = qf.product(app, tenant_b["owner"], "B-1", "Beta widget")
    c = client_as(tenant_a["sales"])
    assert c.get(f"{_base(tenant_a)}/line", query_string={"index": 0, "lines-0-product_id": foreign}).status_code == 404
    assert c.get(f"{_base(tenant_a)}/line", query_string={"index": 0, "lines-0-product_id": 999999}).status_code == 404
    assert c.get(f"{_base(tenant_a)}/line", query_string={"index": 99999}).status_code == 400
    r = c.get(f"{_base(tenant_a)}/line?remove=1")
    assert r.status_code == 200 and r.data == b"" and r.headers["HX-Trigger-After-Swap"] == "quote-lines-changed"


# ================================================================ htmx: totals preview

MIXED = [
    {"description": "服务器", "quantity": "2", "unit_price": "12345.67", "tax_rate": "0.13"},
    {"description": "实施服务", "quantity": "3", "unit_price": "800.00", "tax_rate": "0.06", "discount_pct": "10"},
    {"description": "运输", "quantity": "1", "unit_price": "100.00", "tax_rate": "0.09"},
]


def _form_body(lines, customer_id=None, gap=False, **extra):
    body = {"customer_id": customer_id or "", **extra}
    for i, line in enumerate(lines):
        n = i * 3 if gap else i  # removed rows leave gaps in the indices
        for k, v in line.items():
            body[f"lines-{n}-{k}"] = v
    return body


@pytest.mark.parametrize("includes_tax", [False, True])
def test_preview_totals_match_what_the_service_saves(app, tenant_a, customer_a, client_as, includes_tax):
    c = client_as(tenant_a["sales"])
    extra = {"prices_include_tax": "y"} if includes_tax else {}
    r = post(c, f"{_base(tenant_a)}/preview", _form_body(MIXED, customer_a, gap=True, **extra))
    assert r.status_code == 200
    shown = _preview_numbers(text_of(r))
    saved = qf.read_quote(app, tenant_a.id, qf.quote(app, tenant_a["sales"], customer_a, MIXED,
                                                     prices_include_tax=includes_tax))  # fmt: skip
    assert shown == {
        "excl": f"{saved['total_excl']:,.2f}", "tax": f"{saved['total_tax']:,.2f}",
        "incl": f"{saved['total_incl']:,.2f}", "capital": to_capital(saved["total_incl"]),
    }  # fmt: skip
    if not includes_tax:
        assert shown["incl"] == "30,299.81"


def test_preview_leaves_out_incomplete_lines_and_says_so(app, tenant_a, client_as):
    c = client_as(tenant_a["sales"])
    lines = [MIXED[2], {"description": "坏行", "quantity": "0", "unit_price": "1", "tax_rate": "0.13"}]
    html = text_of(post(c, f"{_base(tenant_a)}/preview", _form_body(lines)))
    assert _preview_numbers(html)["incl"] == "109.00"
    assert 'data-testid="preview-invalid"' in html


def test_preview_needs_the_csrf_token_and_writes_nothing(app, tenant_a, client_as):
    c = client_as(tenant_a["sales"])
    assert c.post(f"{_base(tenant_a)}/preview", data=_form_body(MIXED)).status_code == 400
    with in_tenant(app, tenant_a.id):
        assert db.session.scalars(select(Quote)).all() == []


def test_form_page_shows_totals_and_an_add_line_button(app, tenant_a, customer_a, client_as):
    html = text_of(client_as(tenant_a["sales"]).get(f"{_base(tenant_a)}/new?customer_id={customer_a}"))
    assert 'data-testid="quote-preview"' in html and 'name="add_line"' in html
    assert 'hx-post="' in html and "quote-lines-changed" in html


# ================================================================ no JavaScript


def test_add_line_without_javascript_rerenders_with_one_more_row_and_saves_nothing(app, tenant_a, customer_a,
                                                                                   client_as):  # fmt: skip
    c = client_as(tenant_a["sales"])
    body = _form_body(MIXED[:2], customer_a, add_line="1")
    r = post(c, f"{_base(tenant_a)}/new", body)
    assert r.status_code == 200
    html = text_of(r)
    assert _field_value(html, "lines-0-description") == "服务器"
    assert 'name="lines-2-description"' in html  # the blank row the button asked for
    assert _preview_numbers(html)["incl"] == f"{D('27901.21') + D('2289.60'):,.2f}"
    with in_tenant(app, tenant_a.id):
        assert db.session.scalars(select(Quote)).all() == []
    # Remove names the row as posted: rows 0, 3 and 6 (gaps after earlier removals); remove 3.
    r = post(c, f"{_base(tenant_a)}/new", _form_body(MIXED, customer_a, gap=True, remove_line="3"))
    html = text_of(r)
    assert r.status_code == 200 and "实施服务" not in html
    assert [_field_value(html, f"lines-{i}-description") for i in (0, 2)] == ["服务器", "运输"]
    assert _preview_numbers(html)["incl"] == f"{D('27901.21') + D('109.00'):,.2f}"


def test_rows_with_gaps_in_their_indices_save_and_errors_sit_beside_the_row(app, tenant_a, customer_a, client_as):
    c = client_as(tenant_a["sales"])
    bad = [MIXED[0], {**MIXED[1], "unit_price": "abc"}]
    r = post(c, f"{_base(tenant_a)}/new", _form_body(bad, customer_a, gap=True))
    assert r.status_code == 400
    html = text_of(r)  # the rows come back numbered 0, 1, … with the error on the second row's price
    assert re.search(r'name="lines-1-unit_price"[^>]*is-invalid|is-invalid[^>]*name="lines-1-unit_price"', html)
    assert _field_value(html, "lines-1-unit_price") == "abc" and _field_value(html, "lines-1-description") == "实施服务"
    r = post(c, f"{_base(tenant_a)}/new", _form_body(MIXED, customer_a, gap=True))
    assert r.status_code == 302
    with in_tenant(app, tenant_a.id):
        assert db.session.scalars(select(Quote.total_incl)).one() == D("30299.81")


# ================================================================ from an opportunity


def test_quote_from_an_opportunity_prefills_customer_and_lines_and_links_back(app, tenant_a, customer_a, client_as):
    pid = qf.product(app, tenant_a["owner"], "SV-1", "年度运维", price="2000.00", rate="0.06", unit="年")
    opp = _opportunity(app, tenant_a["sales"], customer_a, lines=[
        {"description": "年度运维", "quantity": "2", "unit_price": "1800.00", "product_id": pid},
        {"description": "现场培训", "quantity": "1", "unit_price": "500.00"},
    ])  # fmt: skip
    c = client_as(tenant_a["sales"])
    r = c.get(f"{_base(tenant_a)}/new?opportunity_id={opp}")
    assert r.status_code == 200
    html = text_of(r)
    assert "上海百川科技有限公司" in html and 'data-testid="quote-opportunity"' in html
    assert _field_value(html, "lines-0-description") == "年度运维" and _field_value(html, "lines-0-quantity") == "2"
    assert _field_value(html, "lines-0-unit_price") == "1800.00" and _selected(html, "lines-0-tax_rate") == "0.06"
    assert _field_value(html, "lines-0-unit") == "年" and _selected(html, "lines-0-product_id") == str(pid)
    assert _field_value(html, "lines-1-description") == "现场培训" and _selected(html, "lines-1-tax_rate") == "0.13"
    # Submitting the prefilled form (the customer comes from the opportunity, whatever is posted).
    body = {"customer_id": "", "lines-0-product_id": pid, "lines-0-description": "年度运维", "lines-0-quantity": "2",
            "lines-0-unit_price": "1800.00", "lines-0-tax_rate": "0.06",
            "lines-1-description": "现场培训", "lines-1-quantity": "1", "lines-1-unit_price": "500.00",
            "lines-1-tax_rate": "0.13"}  # fmt: skip
    r = post(c, f"{_base(tenant_a)}/new?opportunity_id={opp}", body)
    assert r.status_code == 302, text_of(r)
    with in_tenant(app, tenant_a.id):
        q = db.session.scalars(select(Quote)).one()
        assert (q.opportunity_id, q.customer_id, q.total_incl) == (opp, customer_a, D("3816.00") + D("565.00"))
        qid = q.id
    page = text_of(c.get(f"{_base(tenant_a)}/{qid}"))
    assert f"/sales/pipeline/opportunities/{opp}" in page and "年度运维项目" in page
    # Re-issue keeps the link.
    post(c, f"{_base(tenant_a)}/{qid}/send")
    post(c, f"{_base(tenant_a)}/{qid}/reissue")
    with in_tenant(app, tenant_a.id):
        assert [x.opportunity_id for x in db.session.scalars(select(Quote).order_by(Quote.id))] == [opp, opp]


def test_an_opportunity_without_lines_becomes_one_line_of_its_amount(app, tenant_a, customer_a, client_as):
    opp = _opportunity(app, tenant_a["sales"], customer_a, title="整体方案", amount="50000.00")
    html = text_of(client_as(tenant_a["sales"]).get(f"{_base(tenant_a)}/new?opportunity_id={opp}"))
    assert _field_value(html, "lines-0-description") == "整体方案"
    assert _field_value(html, "lines-0-unit_price") == "50000.00" and _selected(html, "lines-0-tax_rate") == "0.13"


def test_a_rep_cannot_quote_another_reps_opportunity(app, tenant_a, tenant_b, customer_a, client_as):
    opp = _opportunity(app, tenant_a["sales"], customer_a)
    other = sf.add_rep(app, tenant_a, "rep2", "孙丽")
    c = client_as(other)
    assert c.get(f"{_base(tenant_a)}/new?opportunity_id={opp}").status_code == 404
    r = post(c, f"{_base(tenant_a)}/new?opportunity_id={opp}", _form_body(MIXED[:1]))
    assert r.status_code == 404
    assert c.get(f"{_base(tenant_a)}/new?opportunity_id=abc").status_code == 404
    # Another workspace's owner sees nothing of it either (through their own workspace).
    b = client_as(tenant_b["owner"])
    assert b.get(f"{_base(tenant_b)}/new?opportunity_id={opp}").status_code == 404
    # The rep's manager may.
    assert client_as(tenant_a["sales_manager"]).get(f"{_base(tenant_a)}/new?opportunity_id={opp}").status_code == 200
    with in_tenant(app, tenant_a.id):
        assert db.session.scalars(select(Quote)).all() == []


def test_api_create_accepts_the_opportunity_of_the_same_customer_only(app, tenant_a, customer_a, token_for):
    opp = _opportunity(app, tenant_a["sales"], customer_a)
    other_customer = sf.customer(app, tenant_a["sales"], "杭州东方贸易有限公司")
    h = bearer(token_for(tenant_a["sales"]))
    client = app.test_client()
    body = {"customer_id": customer_a, "opportunity_id": opp,
            "lines": [{"description": "x", "unit_price": "100.00", "tax_rate": "0.13"}]}  # fmt: skip
    r = client.post("/api/v1/quotes", json=body, headers=h)
    assert r.status_code == 201 and r.get_json()["opportunity_id"] == opp
    r = client.post("/api/v1/quotes", json={**body, "customer_id": other_customer}, headers=h)
    assert r.status_code == 422 and "opportunity_id" in r.get_json()["errors"]["json"]
    other = sf.add_rep(app, tenant_a, "rep3", "周强")
    mine = sf.customer(app, other, "其他客户")
    r = client.post("/api/v1/quotes", json={**body, "customer_id": mine}, headers=bearer(token_for(other)))
    assert r.status_code == 422 and "opportunity_id" in r.get_json()["errors"]["json"]


# ================================================================ auto-expiry


def _set_quote(app, tenant_id, qid, **values):
    with in_tenant(app, tenant_id):
        q = db.session.get(Quote, qid)
        for k, v in values.items():
            setattr(q, k, v)
        db.session.commit()


def test_expire_quotes_expires_sent_quotes_past_their_validity_only(app, tenant_a, tenant_b, customer_a):
    today = date(2030, 6, 15)
    rep = tenant_a["sales"]
    past_sent, today_sent, past_draft, future_sent = (qf.quote(app, rep, customer_a) for _ in range(4))
    _set_quote(app, tenant_a.id, past_sent, status="sent", valid_until=today - timedelta(days=1))
    _set_quote(app, tenant_a.id, today_sent, status="sent", valid_until=today)
    _set_quote(app, tenant_a.id, past_draft, valid_until=today - timedelta(days=3))
    _set_quote(app, tenant_a.id, future_sent, status="sent", valid_until=today + timedelta(days=5))
    cb = sf.customer(app, tenant_b["sales"], "Other Co")
    b_quote = qf.quote(app, tenant_b["sales"], cb)
    _set_quote(app, tenant_b.id, b_quote, status="sent", valid_until=today - timedelta(days=9))
    with in_tenant(app, tenant_a.id):
        assert services.expire_quotes(today) == 1
        db.session.commit()
    status = {i: qf.read_quote(app, tenant_a.id, i)["status"] for i in (past_sent, today_sent, past_draft, future_sent)}
    assert status == {past_sent: "expired", today_sent: "sent", past_draft: "draft", future_sent: "sent"}
    assert qf.read_quote(app, tenant_b.id, b_quote)["status"] == "sent"  # only the tenant in context
    with in_tenant(app, tenant_a.id):
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "quote.expired")).one()
        assert (entry.object_id, entry.member_id, entry.user_id) == (past_sent, None, None)
        assert entry.changes["status"] == {"before": "sent", "after": "expired"}
        assert services.expire_quotes(today) == 0  # a second run finds nothing


def test_the_list_says_when_sent_quotes_expire(app, tenant_a, customer_a, client_as):
    qid = qf.quote(app, tenant_a["sales"], customer_a)
    _set_quote(app, tenant_a.id, qid, status="sent", valid_until=date.today() + timedelta(days=12))
    draft = qf.quote(app, tenant_a["sales"], customer_a)
    _set_quote(app, tenant_a.id, draft, valid_until=date.today() + timedelta(days=3))
    html = text_of(client_as(tenant_a["sales"]).get(_base(tenant_a)))
    assert re.findall(r'data-testid="quote-expiry">\s*([^<]*?)\s*<', html) == ["expires in 12 days"]


# ================================================================ both languages


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_quote_pages_render_in_both_languages(app, tenant_a, customer_a, client_as, lang):
    opp = _opportunity(app, tenant_a["sales"], customer_a)
    c = client_as(tenant_a["sales"], **{"Accept-Language": lang})
    for url in (f"{_base(tenant_a)}/new?opportunity_id={opp}", f"{_base(tenant_a)}/line", _base(tenant_a)):
        assert c.get(url).status_code == 200, url
    assert post(c, f"{_base(tenant_a)}/preview", _form_body(MIXED)).status_code == 200


# ================================================================ statement counts


def test_the_quote_list_issues_the_same_statements_with_1_and_20_quotes(app, tenant_a, client_as, count_queries):
    rep = tenant_a["sales"]

    def grow(start: int, upto: int) -> None:
        for i in range(start, upto):
            qid = qf.quote(app, rep, sf.customer(app, rep, f"北京百川科技{i}号有限公司"))
            _set_quote(app, tenant_a.id, qid, status="sent")

    grow(0, 1)
    c = client_as(tenant_a["sales_manager"])
    assert c.get(_base(tenant_a)).status_code == 200
    with count_queries() as small:
        assert c.get(_base(tenant_a)).status_code == 200
    grow(1, 20)
    with count_queries() as large:
        page = c.get(_base(tenant_a))
    assert "北京百川科技19号有限公司" in text_of(page)
    assert small.count == large.count, "\n".join(large.statements)


def test_the_quote_page_issues_the_same_statements_with_1_and_20_lines(app, tenant_a, customer_a, client_as,
                                                                       count_queries):  # fmt: skip
    opp = _opportunity(app, tenant_a["sales"], customer_a)
    pid = qf.product(app, tenant_a["owner"], "P-1", "产品")
    line = {"product_id": pid, "quantity": "1"}
    one = qf.quote(app, tenant_a["sales"], customer_a, [line], opportunity_id=opp)
    many = qf.quote(app, tenant_a["sales"], customer_a, [line] * 20, opportunity_id=opp)
    c = client_as(tenant_a["sales"])
    assert c.get(f"{_base(tenant_a)}/{one}").status_code == 200
    with count_queries() as small:
        assert c.get(f"{_base(tenant_a)}/{one}").status_code == 200
    with count_queries() as large:
        assert c.get(f"{_base(tenant_a)}/{many}").status_code == 200
    assert small.count == large.count, "\n".join(large.statements)
