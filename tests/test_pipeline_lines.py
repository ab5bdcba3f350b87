"""Opportunity product lines (the amount is their sum, exact at the fen) and the opportunity
page's links down the chain: won deal → quote → contract → order."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.db import db
from crm.pipeline import services
from crm.pipeline.models import Opportunity, OpportunityLine
from tests import factories
from tests import sales_factories as sf
from tests.helpers import bearer, in_tenant, post
from tests.quote_factories import make_product, make_quote


@pytest.fixture
def rep(tenant_a):
    return tenant_a["sales"]


@pytest.fixture
def cid(app, rep):
    return sf.customer(app, rep, "华东机械有限公司")


@pytest.fixture
def product(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        p = make_product(factories.member_row(tenant_a["owner"]), "CNC-01", "数控车床", price="12345.67")
        db.session.commit()
        return p.id


@pytest.fixture
def foreign_product(app, tenant_b):
    with in_tenant(app, tenant_b.id):
        p = make_product(factories.member_row(tenant_b["owner"]), "X-01", "别家产品", price="1.00")
        db.session.commit()
        return p.id


def url(member, *parts) -> str:
    return "/".join(str(p) for p in ("", "w", member.slug, "sales", "pipeline", *parts))


def form(cid, lines=(), **values) -> dict[str, str]:
    body = {"customer_id": str(cid), "title": "数控机床采购", "amount": "", "expected_close": "", "stage_id": "",
            "lost_reason_id": "", "competitor": "", "owner_id": "", "next_step": "", "source": "",
            "lines_sent": "1"}  # fmt: skip
    for i, line in enumerate(lines):
        for k, v in line.items():
            body[f"lines-{i}-{k}"] = v
    body.update(values)
    return body


def first_stage(app, tenant_id) -> int:
    with in_tenant(app, tenant_id):
        pipe = services.ensure_default_pipeline(None)
        db.session.commit()
        return pipe.stages[0].id


def saved(app, tenant_id, title="数控机床采购") -> Opportunity | None:
    with in_tenant(app, tenant_id):
        o = db.session.scalars(select(Opportunity).where(Opportunity.title == title)).one_or_none()
        if o is not None:
            o.lines  # noqa: B018 - loaded before leaving the session
            db.session.expunge_all()
        return o


def test_the_amount_is_the_sum_of_the_lines_exact_at_the_fen(app, rep, cid, product, client_as):
    stage = first_stage(app, rep.tenant_id)
    lines = [
        {"product_id": str(product), "description": "", "quantity": "2", "unit_price": ""},  # filled from the product
        {"product_id": "", "description": "安装调试", "quantity": "1.5", "unit_price": "333.33"},  # 499.995 → 500.00
        {"product_id": "", "description": "", "quantity": "", "unit_price": ""},  # empty: ignored
    ]
    body = form(cid, lines, amount="999.00", stage_id=str(stage), owner_id=str(rep.id))  # a typed amount gives way
    r = post(client_as(rep), url(rep, "opportunities", "new"), body)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    o = saved(app, rep.tenant_id)
    assert [(ln.product_id, ln.description, ln.quantity, ln.unit_price, ln.amount) for ln in o.lines] == [
        (product, "数控车床", Decimal("2.00"), Decimal("12345.67"), Decimal("24691.34")),
        (None, "安装调试", Decimal("1.50"), Decimal("333.33"), Decimal("500.00")),
    ]
    assert o.amount == Decimal("25191.34")
    page = client_as(rep).get(url(rep, "opportunities", o.id)).get_data(as_text=True)
    assert "¥25,191.34" in page and "¥500.00" in page


def test_without_lines_the_amount_is_typed_and_removing_lines_keeps_the_typed_amount(app, rep, cid, client_as):
    stage = first_stage(app, rep.tenant_id)
    c = client_as(rep)
    body = form(cid, [{"description": "服务", "quantity": "3", "unit_price": "10"}], stage_id=str(stage),
                owner_id=str(rep.id))  # fmt: skip
    assert post(c, url(rep, "opportunities", "new"), body).status_code == 302
    o = saved(app, rep.tenant_id)
    assert o.amount == Decimal("30.00")
    edit = c.get(url(rep, "opportunities", o.id, "edit")).get_data(as_text=True)
    assert re.search(r'<input[^>]*id="amount"[^>]*readonly', edit)  # the sum, shown read-only
    body = form(cid, [{"description": "", "quantity": "", "unit_price": ""}], amount="88888.80", stage_id=str(stage),
                owner_id=str(rep.id))  # fmt: skip
    assert post(c, url(rep, "opportunities", o.id, "edit"), body).status_code == 302
    o = saved(app, rep.tenant_id)
    assert o.lines == [] and o.amount == Decimal("88888.80")
    edit = c.get(url(rep, "opportunities", o.id, "edit")).get_data(as_text=True)
    assert not re.search(r'<input[^>]*id="amount"[^>]*readonly', edit)


def test_a_product_of_another_workspace_is_refused_and_nothing_is_saved(app, rep, cid, foreign_product, client_as,
                                                                         raw_rows):  # fmt: skip
    stage = first_stage(app, rep.tenant_id)
    before = raw_rows("opportunities"), raw_rows("opportunity_lines")
    lines = [{"product_id": str(foreign_product), "description": "偷来的", "quantity": "1", "unit_price": "1"}]
    r = post(client_as(rep), url(rep, "opportunities", "new"), form(cid, lines, stage_id=str(stage)))
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Choose a product of this workspace." in page
    assert re.search(r'name="lines-0-product_id" class="[^"]*is-invalid', page)
    assert (raw_rows("opportunities"), raw_rows("opportunity_lines")) == before


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"description": "服务", "quantity": "1.005", "unit_price": "1"}, "quantity"),
        ({"description": "服务", "quantity": "-1", "unit_price": "1"}, "quantity"),
        ({"description": "服务", "quantity": "1", "unit_price": "abc"}, "unit_price"),
        ({"description": "", "quantity": "1", "unit_price": "5"}, "description"),
    ],
)
def test_a_bad_line_is_shown_beside_its_field(app, rep, cid, client_as, raw_rows, line, field):
    stage = first_stage(app, rep.tenant_id)
    r = post(client_as(rep), url(rep, "opportunities", "new"), form(cid, [line], stage_id=str(stage)))
    assert r.status_code == 400
    assert re.search(rf'name="lines-0-{field}" class="[^"]*is-invalid', r.get_data(as_text=True))
    assert raw_rows("opportunities") == []


def test_the_form_offers_active_products_and_a_line_template(app, rep, cid, product, client_as):
    page = client_as(rep).get(url(rep, "opportunities", "new")).get_data(as_text=True)
    assert f'value="{product}" data-name="数控车床" data-price="12345.67"' in page
    assert 'id="line-template"' in page and "lines-__i__-description" in page
    assert "/static/js/opportunity_lines.js" in page


def test_the_api_takes_lines_checks_products_and_fills_them(app, rep, cid, product, foreign_product, client,
                                                             token_for):  # fmt: skip
    h = bearer(token_for(rep))
    body = {"customer_id": cid, "title": "API 商机", "lines": [{"product_id": product, "quantity": "3"}]}
    r = client.post("/api/v1/opportunities", json=body, headers=h)
    assert r.status_code == 201, r.get_json()
    o = r.get_json()
    assert o["amount"] == "37037.01" and o["lines"][0]["description"] == "数控车床"
    assert o["lines"][0]["amount"] == "37037.01"
    body["lines"] = [{"product_id": foreign_product, "description": "x"}]
    r = client.post("/api/v1/opportunities", json=body, headers=h)
    assert r.status_code == 422 and "lines.0.product_id" in r.get_json()["errors"]["json"]


# ---------------------------------------------------------------- won deal → quote → contract → order


def _opp(app, rep, cid) -> int:
    with in_tenant(app, rep.tenant_id, rep.user_id):
        o = factories.make_opportunity(factories.member_row(rep), cid, "数控机床采购", amount=Decimal("1000"))
        db.session.commit()
        return o.id


def _contract_and_order(app, rep, cid, opp_id, quote_id, n: int) -> None:
    from crm.contracts.models import Contract
    from crm.orders.models import Order

    with in_tenant(app, rep.tenant_id, rep.user_id):
        # odd ones name the deal, even ones reach it through their quote only
        deal = opp_id if n % 2 else None
        contract = Contract(number=f"HT-{n:04d}", title="采购合同", customer_id=cid, quote_id=quote_id,
                            opportunity_id=deal, amount=Decimal("1060.00"), owner_id=rep.id)  # fmt: skip
        db.session.add(contract)
        db.session.flush()
        db.session.add(Order(number=f"SO-{n:04d}", customer_id=cid, contract_id=contract.id,
                             order_date=date(2027, 1, 1), total_incl=Decimal("1060.00"), owner_id=rep.id))  # fmt: skip
        db.session.commit()


def test_the_opportunity_page_offers_a_quote_and_lists_its_quotes_contracts_and_orders(app, rep, cid, client_as):
    opp = _opp(app, rep, cid)
    c = client_as(rep)
    page = c.get(url(rep, "opportunities", opp)).get_data(as_text=True)
    assert f'href="/w/{rep.slug}/sales/quotes/new?opportunity_id={opp}"' in page
    assert "Nothing yet." in page
    with in_tenant(app, rep.tenant_id):
        q = make_quote(factories.member_row(rep), cid, opportunity_id=opp)
        other = make_quote(factories.member_row(rep), cid)  # not of this deal
        db.session.commit()
        qid, number, other_number = q.id, q.display_number, other.display_number
    _contract_and_order(app, rep, cid, opp, qid, 1)
    page = c.get(url(rep, "opportunities", opp)).get_data(as_text=True)
    linked = re.search(r'data-testid="linked".*?</table>', page, re.S).group(0)
    assert f'href="/w/{rep.slug}/sales/quotes/{qid}"' in linked and number in linked
    assert other_number not in linked
    assert "HT-0001" in linked and "SO-0001" in linked and "¥1,060.00" in linked


def test_the_opportunity_page_costs_the_same_statements_with_1_or_4_linked_documents(app, rep, cid, client_as,
                                                                                      count_queries):  # fmt: skip
    opp = _opp(app, rep, cid)
    c = client_as(rep)

    def link(n):
        with in_tenant(app, rep.tenant_id):
            q = make_quote(factories.member_row(rep), cid, opportunity_id=opp)
            db.session.commit()
            qid = q.id
        _contract_and_order(app, rep, cid, opp, qid, n)

    link(1)
    c.get(url(rep, "opportunities", opp))
    with count_queries() as few:
        assert c.get(url(rep, "opportunities", opp)).status_code == 200
    for n in range(2, 5):
        link(n)
    with count_queries() as many:
        page = c.get(url(rep, "opportunities", opp)).get_data(as_text=True)
    assert page.count('data-testid="linked-order"') == 4
    assert many.count == few.count


def test_lines_are_replaced_not_duplicated_on_edit(app, rep, cid, client_as):
    stage = first_stage(app, rep.tenant_id)
    c = client_as(rep)
    body = form(cid, [{"description": "A", "quantity": "1", "unit_price": "1"}], stage_id=str(stage),
                owner_id=str(rep.id))  # fmt: skip
    assert post(c, url(rep, "opportunities", "new"), body).status_code == 302
    o = saved(app, rep.tenant_id)
    body = form(cid, [{"description": "B", "quantity": "2", "unit_price": "2"}], stage_id=str(stage),
                owner_id=str(rep.id))  # fmt: skip
    assert post(c, url(rep, "opportunities", o.id, "edit"), body).status_code == 302
    with in_tenant(app, rep.tenant_id):
        assert [(ln.description, ln.quantity) for ln in db.session.scalars(select(OpportunityLine))] == [
            ("B", Decimal("2.00"))
        ]
        assert db.session.get(Opportunity, o.id).amount == Decimal("4.00")


def test_every_row_removed_clears_the_lines_and_a_post_without_the_lines_keeps_them(app, rep, cid, client_as):
    stage = first_stage(app, rep.tenant_id)
    c = client_as(rep)
    body = form(cid, [{"description": "A", "quantity": "1", "unit_price": "7"}], stage_id=str(stage),
                owner_id=str(rep.id))  # fmt: skip
    assert post(c, url(rep, "opportunities", "new"), body).status_code == 302
    o = saved(app, rep.tenant_id)
    kept = form(cid, stage_id=str(stage), owner_id=str(rep.id), title="改名")
    del kept["lines_sent"]
    assert post(c, url(rep, "opportunities", o.id, "edit"), kept).status_code == 302
    o = saved(app, rep.tenant_id, "改名")
    assert [ln.description for ln in o.lines] == ["A"] and o.amount == Decimal("7.00")
    cleared = form(cid, stage_id=str(stage), owner_id=str(rep.id), title="改名", amount="5")  # rows all removed
    assert post(c, url(rep, "opportunities", o.id, "edit"), cleared).status_code == 302
    o = saved(app, rep.tenant_id, "改名")
    assert o.lines == [] and o.amount == Decimal("5.00")


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_opportunity_form_and_page_render_in_both_languages(app, rep, cid, product, client_as, lang):
    opp = _opp(app, rep, cid)
    c = client_as(rep, **{"Accept-Language": lang})
    for path in (("opportunities", "new"), ("opportunities", opp), ("opportunities", opp, "edit")):
        r = c.get(url(rep, *path))
        assert r.status_code == 200, path
        page = r.get_data(as_text=True)
        assert ('data-testid="linked"' if path[-1] == opp else 'data-testid="opp-lines"') in page
