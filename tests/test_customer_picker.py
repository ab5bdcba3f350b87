"""The customer picker on quote, contract and order forms: a page of editable customers by name,
and live search (pinyin, initials) through the customer list's own search."""

from __future__ import annotations

import pytest

from crm.sales import picker
from tests import sales_factories as sf
from tests.helpers import text_of


def test_typing_initials_finds_the_customer_and_others_customers_stay_out(app, tenant_a, client_as):
    rep, other = tenant_a["sales"], sf.add_rep(app, tenant_a, "rep2", "孙丽")
    mine = sf.customer(app, rep, "北京百川科技有限公司")
    sf.customer(app, rep, "上海东方贸易有限公司")
    theirs = sf.customer(app, other, "北京百川物流有限公司")
    page = text_of(client_as(rep).get(f"/w/{tenant_a.slug}/sales/customers/options?q=bjbc"))
    assert f'value="{mine}"' in page and "北京百川科技有限公司" in page
    assert f'value="{theirs}"' not in page and "上海东方" not in page


def test_no_match_says_how_to_search_and_a_chosen_customer_stays_selected(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    chosen = sf.customer(app, rep, "杭州云端网络有限公司")
    c = client_as(rep)
    empty = text_of(c.get(f"/w/{tenant_a.slug}/sales/customers/options?q=zzzz"))
    assert "pinyin" in empty and 'value="' + str(chosen) + '"' not in empty
    kept = text_of(c.get(f"/w/{tenant_a.slug}/sales/customers/options?q=zzzz&selected={chosen}"))
    assert f'<option value="{chosen}" selected>' in kept


def test_a_customer_outside_the_scope_cannot_be_smuggled_in_as_selected(app, tenant_a, client_as):
    theirs = sf.customer(app, sf.add_rep(app, tenant_a, "rep2", "孙丽"), "深圳远方电子有限公司")
    page = text_of(client_as(tenant_a["sales"]).get(f"/w/{tenant_a.slug}/sales/customers/options?selected={theirs}"))
    assert "深圳远方" not in page


def test_the_form_lists_a_page_not_the_whole_workspace(app, tenant_a, monkeypatch):
    rep = tenant_a["sales"]
    for i in range(5):
        sf.customer(app, rep, f"客户{i}号有限公司")
    monkeypatch.setattr(picker, "LIMIT", 3)
    from tests.helpers import in_tenant

    with in_tenant(app, tenant_a.id, rep.user_id):
        from tests import factories

        assert len(picker.customer_options(factories.member_row(rep))) == 3


@pytest.mark.parametrize("path", ["quotes/new", "contracts/new", "orders/new"])
def test_new_record_forms_carry_the_search_box(app, tenant_a, client_as, path):
    page = text_of(client_as(tenant_a["sales"]).get(f"/w/{tenant_a.slug}/sales/{path}"))
    assert 'data-testid="customer-picker"' in page and "/sales/customers/options" in page


@pytest.mark.parametrize("path", ["quotes/new", "contracts/new", "orders/new"])
def test_a_tampered_customer_id_is_refused_not_a_crash(app, tenant_a, client_as, path):
    from tests.helpers import post

    r = post(client_as(tenant_a["sales"]), f"/w/{tenant_a.slug}/sales/{path}", {"customer_id": "1; drop"})
    assert r.status_code == 400 and "is-invalid" in text_of(r)
