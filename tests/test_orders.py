"""Orders (订单): one pricing implementation shared with quotes; by hand, from a quote, from a
contract; delivery status derivation; cancel and delete rules; visibility; the pages."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.catalog.pricing import LineAmounts, parse_lines
from crm.db import db
from crm.orders.models import Order
from crm.orders.services import derive_status
from crm.quotes import services as quote_services
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from tests import order_factories as of
from tests import quote_factories as qf
from tests import sales_factories as sf
from tests.helpers import in_tenant, post, text_of

D = Decimal
MIXED = [
    {"description": "服务器", "quantity": "2", "unit_price": "12345.67", "tax_rate": "0.13"},
    {"description": "实施服务", "quantity": "3", "unit_price": "800.00", "tax_rate": "6", "discount_pct": "10"},
    {"description": "运输", "quantity": "1", "unit_price": "100.00", "tax_rate": "0.09"},
]


@pytest.fixture
def customer_a(app, tenant_a):
    return sf.customer(app, tenant_a["sales"], "上海百川科技有限公司", province="上海市", city="上海市")


def _base(tenant) -> str:
    return f"/w/{tenant.slug}/sales/orders"


def _actions(app, tenant_id: int, order_id: int) -> list[str]:
    with in_tenant(app, tenant_id):
        rows = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_type == "Order", AuditEntry.object_id == order_id)
            .order_by(AuditEntry.id)
        )  # fmt: skip
        return list(rows)


# ================================================================ one pricing implementation


def test_quotes_use_the_shared_pricing_functions():
    from crm.catalog import pricing

    assert quote_services.line_amounts is pricing.line_amounts
    assert quote_services.totals is pricing.totals
    assert quote_services.LineAmounts is pricing.LineAmounts


def test_parse_lines_prices_each_line_and_names_bad_fields(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        lines = parse_lines(MIXED)
        assert [x.amounts for x in lines] == [
            LineAmounts(D("24691.34"), D("3209.87"), D("27901.21")),
            LineAmounts(D("2160.00"), D("129.60"), D("2289.60")),
            LineAmounts(D("100.00"), D("9.00"), D("109.00")),
        ]
        assert lines[1].tax_rate == D("0.06") and lines[1].discount_pct == D("10.00")
        incl = parse_lines([{"description": "设备", "unit_price": "1000.00", "tax_rate": "0.13"}], includes_tax=True)
        assert incl[0].amounts == LineAmounts(D("884.96"), D("115.04"), D("1000.00"))
        with pytest.raises(InvalidInput) as err:
            parse_lines(
                [{"description": "x", "unit_price": "1", "tax_rate": "0.17", "quantity": "0"}, {"tax_rate": ""}]
            )
        assert set(err.value.errors) == {
            "lines.0.tax_rate", "lines.0.quantity", "lines.1.description", "lines.1.unit_price", "lines.1.tax_rate",
        }  # fmt: skip
        with pytest.raises(InvalidInput) as err:
            parse_lines([])
        assert set(err.value.errors) == {"lines"}


def test_an_order_and_a_quote_with_the_same_lines_have_the_same_numbers(app, tenant_a, customer_a):
    qid = qf.quote(app, tenant_a["sales"], customer_a, MIXED)
    oid = of.order(app, tenant_a["sales"], customer_a, MIXED)
    q, o = qf.read_quote(app, tenant_a.id, qid), of.read_order(app, tenant_a.id, oid)
    assert q["lines"] == o["lines"]
    assert (o["total_excl"], o["total_tax"], o["total_incl"]) == (D("26951.34"), D("3348.47"), D("30299.81"))
    assert (q["total_excl"], q["total_tax"], q["total_incl"]) == (o["total_excl"], o["total_tax"], o["total_incl"])


# ================================================================ by hand, from a quote, from a contract


def test_by_hand_defaults_date_region_and_rep_from_the_customer(app, tenant_a, customer_a):
    oid = of.order(app, tenant_a["sales"], customer_a)
    o = of.read_order(app, tenant_a.id, oid)
    assert o["number"] == f"SO-{date.today().year}-0001"
    assert o["order_date"] == date.today() and (o["province"], o["city"]) == ("上海市", "上海市")
    assert o["owner_id"] == tenant_a["sales"].id and o["delivery_status"] == "pending"
    assert o["quote_id"] is None and o["contract_id"] is None
    assert o["total_incl"] == D("2120.00")  # 2 × 1000.00 + 6 %
    assert of.read_order(app, tenant_a.id, of.order(app, tenant_a["sales"], customer_a))["number"].endswith("-0002")


def test_a_pool_customers_order_belongs_to_whoever_takes_it(app, tenant_a):
    pool = sf.customer(app, tenant_a["sales_manager"], "公海客户", owner_id=None)
    o = of.read_order(app, tenant_a.id, of.order(app, tenant_a["sales_manager"], pool))
    assert o["owner_id"] == tenant_a["sales_manager"].id


def test_from_a_sent_or_accepted_quote_copies_lines_and_tax_basis(app, tenant_a, customer_a):
    qid = of.quote(app, tenant_a["sales"], customer_a, MIXED[:1], prices_include_tax=True)
    with pytest.raises(InvalidInput) as err, app.app_context():  # still a draft
        of.make_order(of._row(tenant_a["sales"]), customer_a, quote_id=qid)
    assert "quote_id" in err.value.errors
    assert of.order_ids(app, tenant_a.id) == []
    for status in ("sent", "accepted"):
        of.set_quote_status(app, tenant_a.id, qid, status)
        o = of.read_order(app, tenant_a.id, of.order(app, tenant_a["sales"], customer_a, quote_id=qid))
        assert o["quote_id"] == qid and o["prices_include_tax"] is True
        assert o["lines"] == qf.read_quote(app, tenant_a.id, qid)["lines"]
        assert o["total_incl"] == D("24691.34")  # 2 × 12345.67 including tax


def test_from_an_active_contract_without_a_quote_one_line_at_13_percent_including_tax(app, tenant_a, customer_a):
    cid = of.contract(app, tenant_a["sales"], customer_a, title="年度维保合同", amount="11300.00")
    o = of.read_order(app, tenant_a.id, of.order(app, tenant_a["sales"], customer_a, contract_id=cid))
    assert o["contract_id"] == cid and o["quote_id"] is None and o["prices_include_tax"] is True
    assert o["lines"] == [("年度维保合同", D("1.000"), D("11300.00"), D("10000.00"), D("1300.00"), D("11300.00"))]


def test_from_a_contract_with_a_quote_copies_the_quotes_lines_and_links_both(app, tenant_a, customer_a):
    qid = of.quote(app, tenant_a["sales"], customer_a, MIXED)
    of.set_quote_status(app, tenant_a.id, qid, "accepted")
    cid = of.contract(app, tenant_a["sales"], customer_a, quote_id=qid, amount="30299.81")
    o = of.read_order(app, tenant_a.id, of.order(app, tenant_a["sales"], customer_a, contract_id=cid))
    assert (o["contract_id"], o["quote_id"]) == (cid, qid)
    assert o["lines"] == qf.read_quote(app, tenant_a.id, qid)["lines"] and o["total_incl"] == D("30299.81")


@pytest.mark.parametrize("status", ["draft", "pending", "expired", "terminated"])
def test_only_an_active_contract_becomes_an_order(app, tenant_a, customer_a, status):
    cid = of.contract(app, tenant_a["sales"], customer_a, status=status)
    with pytest.raises(InvalidInput) as err, app.app_context():
        of.make_order(of._row(tenant_a["sales"]), customer_a, contract_id=cid)
    assert "contract_id" in err.value.errors


def test_the_contract_line_is_editable_in_the_form_before_saving(app, tenant_a, customer_a, client_as):
    cid = of.contract(app, tenant_a["sales"], customer_a, title="软件许可合同", amount="5650.00")
    c = client_as(tenant_a["sales"])
    page = text_of(c.get(f"{_base(tenant_a)}/new?contract_id={cid}"))
    assert "软件许可合同" in page and 'value="5650.00"' in page and 'data-testid="order-source"' in page
    r = post(
        c, f"{_base(tenant_a)}/new",
        {"contract_id": cid, "order_date": "2026-03-01", "prices_include_tax": "y",
         "lines-0-description": "软件许可（首期）", "lines-0-quantity": "1", "lines-0-unit_price": "2260.00",
         "lines-0-tax_rate": "0.13"},
    )  # fmt: skip
    assert r.status_code == 302, text_of(r)
    (oid,) = of.order_ids(app, tenant_a.id)
    o = of.read_order(app, tenant_a.id, oid)
    assert o["contract_id"] == cid and o["order_date"] == date(2026, 3, 1)
    assert o["lines"] == [("软件许可（首期）", D("1.000"), D("2260.00"), D("2000.00"), D("260.00"), D("2260.00"))]
    assert o["number"] == "SO-2026-0001"


# ================================================================ delivery


def _line(qty: str, delivered: str):
    from crm.orders.models import OrderLine

    return OrderLine(quantity=D(qty), delivered_quantity=D(delivered))


def test_delivery_status_is_derived_from_the_lines():
    assert derive_status([_line("2", "0"), _line("1", "0")]) == "pending"
    assert derive_status([_line("2", "1"), _line("1", "0")]) == "partial"
    assert derive_status([_line("2", "2"), _line("1", "0.5")]) == "partial"
    assert derive_status([_line("2", "2"), _line("1", "1")]) == "delivered"


def test_recording_delivery_moves_the_status_and_fixes_the_lines(app, tenant_a, customer_a, client_as):
    oid = of.order(app, tenant_a["sales"], customer_a, MIXED)
    of.deliver(app, tenant_a["sales"], oid, ["1", "0", "0"])
    assert of.read_order(app, tenant_a.id, oid)["delivery_status"] == "partial"
    c = client_as(tenant_a["sales"])
    # Lines are fixed now: the edit page offers the header only, and a line change is refused.
    page = text_of(c.get(f"{_base(tenant_a)}/{oid}/edit"))
    assert "lines-0-description" not in page
    with pytest.raises(InvalidInput) as err, app.app_context():
        from crm.orders import services

        with in_tenant(app, tenant_a.id):
            o = services.load_order(oid)
            only_lines = services.OrderInput(lines=MIXED[:1], fields_sent={"lines"})
            services.update_order(of._row(tenant_a["sales"]), o, only_lines)
    assert "lines" in err.value.errors
    ids = of.read_order(app, tenant_a.id, oid)["line_ids"]
    r = post(c, f"{_base(tenant_a)}/{oid}/delivery", {f"delivered-{ids[0]}": "2", f"delivered-{ids[1]}": "3",
                                                      f"delivered-{ids[2]}": "1"})  # fmt: skip
    assert r.status_code == 302
    o = of.read_order(app, tenant_a.id, oid)
    assert o["delivery_status"] == "delivered" and o["delivered"] == [D("2"), D("3"), D("1")]
    assert _actions(app, tenant_a.id, oid) == ["order.created", "order.delivered", "order.delivered"]


def test_a_delivered_quantity_outside_0_to_ordered_is_refused_beside_the_line(app, tenant_a, customer_a, client_as):
    oid = of.order(app, tenant_a["sales"], customer_a, MIXED)
    ids = of.read_order(app, tenant_a.id, oid)["line_ids"]
    c = client_as(tenant_a["sales"])
    r = post(c, f"{_base(tenant_a)}/{oid}/delivery", {f"delivered-{ids[0]}": "1", f"delivered-{ids[1]}": "4",
                                                      f"delivered-{ids[2]}": "-1"})  # fmt: skip
    assert r.status_code == 400
    html = text_of(r)
    for i in (1, 2):
        assert re.search(rf'is-invalid"[^>]*name="delivered-{ids[i]}"', html), i
    assert not re.search(rf'is-invalid"[^>]*name="delivered-{ids[0]}"', html)
    o = of.read_order(app, tenant_a.id, oid)
    assert o["delivered"] == [D("0"), D("0"), D("0")] and o["delivery_status"] == "pending"


# ================================================================ cancel and delete


def test_cancel_is_final_keeps_the_reason_and_is_audited(app, tenant_a, customer_a, client_as):
    oid = of.order(app, tenant_a["sales"], customer_a, MIXED)
    of.deliver(app, tenant_a["sales"], oid, ["1", "0", "0"])
    c = client_as(tenant_a["sales"])
    r = post(c, f"{_base(tenant_a)}/{oid}/cancel", {"reason": ""})
    assert r.status_code == 400 and "is-invalid" in text_of(r)
    assert post(c, f"{_base(tenant_a)}/{oid}/cancel", {"reason": "客户取消采购"}).status_code == 302
    o = of.read_order(app, tenant_a.id, oid)
    assert o["delivery_status"] == "cancelled" and "客户取消采购" in o["notes"]
    # Final: no edit, no delivery, no second cancel, no delete.
    assert c.get(f"{_base(tenant_a)}/{oid}/edit").status_code == 302
    assert c.get(f"{_base(tenant_a)}/{oid}/delivery").status_code == 302
    assert post(c, f"{_base(tenant_a)}/{oid}/cancel", {"reason": "again"}).status_code == 400
    assert post(c, f"{_base(tenant_a)}/{oid}/delete").status_code == 302
    assert of.read_order(app, tenant_a.id, oid)["delivery_status"] == "cancelled"
    assert _actions(app, tenant_a.id, oid) == ["order.created", "order.delivered", "order.cancelled"]
    with in_tenant(app, tenant_a.id):
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "order.cancelled")).one()
        assert entry.changes["reason"] == "客户取消采购"


def test_a_fully_delivered_order_cannot_be_cancelled(app, tenant_a, customer_a, client_as):
    oid = of.order(app, tenant_a["sales"], customer_a)
    of.deliver(app, tenant_a["sales"], oid, ["2"])
    r = post(client_as(tenant_a["sales"]), f"{_base(tenant_a)}/{oid}/cancel", {"reason": "晚了"})
    assert r.status_code == 400
    assert of.read_order(app, tenant_a.id, oid)["delivery_status"] == "delivered"


def test_only_a_pending_order_with_nothing_delivered_can_be_deleted(app, tenant_a, customer_a, client_as):
    c = client_as(tenant_a["sales"])
    partial = of.order(app, tenant_a["sales"], customer_a)
    of.deliver(app, tenant_a["sales"], partial, ["1"])
    r = post(c, f"{_base(tenant_a)}/{partial}/delete")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/orders/{partial}")
    assert of.read_order(app, tenant_a.id, partial) is not None
    pending = of.order(app, tenant_a["sales"], customer_a)
    assert post(c, f"{_base(tenant_a)}/{pending}/delete").status_code == 302
    assert of.read_order(app, tenant_a.id, pending) is None
    assert _actions(app, tenant_a.id, pending) == ["order.created", "order.deleted"]


# ================================================================ the form


def test_create_by_hand_through_the_form(app, tenant_a, customer_a, client_as):
    pid = qf.product(app, tenant_a["owner"], "HW-1", "服务器", price="10000.00", rate="0.13", unit="台")
    c = client_as(tenant_a["sales"])
    page = text_of(c.get(f"{_base(tenant_a)}/new?customer_id={customer_a}"))
    assert "服务器" in page and 'id="order-line-template"' in page and "lines-__i__-description" in page
    # Non-contiguous line indices (a row added, another removed in the browser) are fine.
    r = post(
        c, f"{_base(tenant_a)}/new",
        {"customer_id": customer_a, "order_date": "2026-05-20", "province": "", "city": "",
         "lines-0-product_id": pid, "lines-0-quantity": "2", "lines-0-discount_pct": "5",
         "lines-3-description": "安装", "lines-3-quantity": "1", "lines-3-unit_price": "500",
         "lines-3-tax_rate": "0.06"},
    )  # fmt: skip
    assert r.status_code == 302, text_of(r)
    (oid,) = of.order_ids(app, tenant_a.id)
    o = of.read_order(app, tenant_a.id, oid)
    assert o["total_excl"] == D("19500.00") and o["total_incl"] == D("22000.00")  # 19000 + 2470, 500 + 30
    assert (o["province"], o["city"]) == ("上海市", "上海市")  # blank region: the customer's


def test_form_errors_sit_beside_the_line_field_and_save_nothing(app, tenant_a, customer_a, client_as):
    c = client_as(tenant_a["sales"])
    r = post(
        c, f"{_base(tenant_a)}/new",
        {"customer_id": customer_a, "order_date": "2026-05-20", "lines-0-description": "咨询",
         "lines-0-quantity": "0", "lines-0-unit_price": "100", "lines-0-tax_rate": "0.06"},
    )  # fmt: skip
    assert r.status_code == 400
    assert re.search(r'name="lines-0-quantity"[^>]*is-invalid|is-invalid[^>]*name="lines-0-quantity"', text_of(r))
    assert of.order_ids(app, tenant_a.id) == []


def test_edit_header_and_lines_while_pending(app, tenant_a, customer_a, client_as):
    oid = of.order(app, tenant_a["sales"], customer_a)
    c = client_as(tenant_a["sales"])
    assert 'value="实施服务"' in text_of(c.get(f"{_base(tenant_a)}/{oid}/edit"))
    r = post(
        c, f"{_base(tenant_a)}/{oid}/edit",
        {"order_date": "2026-04-01", "province": "江苏省", "city": "苏州市", "notes": "分批发货",
         "lines-0-description": "实施服务", "lines-0-quantity": "3", "lines-0-unit_price": "1000.00",
         "lines-0-tax_rate": "0.06"},
    )  # fmt: skip
    assert r.status_code == 302, text_of(r)
    o = of.read_order(app, tenant_a.id, oid)
    assert (o["order_date"], o["province"], o["city"], o["notes"]) == (date(2026, 4, 1), "江苏省", "苏州市", "分批发货")
    assert o["total_incl"] == D("3180.00")
    assert _actions(app, tenant_a.id, oid) == ["order.created", "order.updated"]


# ================================================================ visibility


def test_a_rep_sees_only_their_customers_orders_and_the_manager_sees_the_team(app, tenant_a, customer_a, client_as):
    other = sf.add_rep(app, tenant_a, "rep2", "孙丽")
    outsider = sf.add_rep(app, tenant_a, "rep3", "周强", role="sales_manager")
    oid = of.order(app, tenant_a["sales"], customer_a)
    number = of.read_order(app, tenant_a.id, oid)["number"]
    c = client_as(other)
    for path in ("", "/edit", "/delivery", "/cancel"):
        assert c.get(f"{_base(tenant_a)}/{oid}{path}").status_code == 404, path
    assert post(c, f"{_base(tenant_a)}/{oid}/delete").status_code == 404
    assert number not in text_of(c.get(_base(tenant_a)))
    assert of.read_order(app, tenant_a.id, oid) is not None
    # The rep's manager sees it; a manager of another (empty) team does not.
    assert number in text_of(client_as(tenant_a["sales_manager"]).get(_base(tenant_a)))
    assert client_as(tenant_a["sales_manager"]).get(f"{_base(tenant_a)}/{oid}").status_code == 200
    assert client_as(outsider).get(f"{_base(tenant_a)}/{oid}").status_code == 404


def test_a_collaborator_reads_the_order_and_edits_only_with_edit_access(app, tenant_a, customer_a, client_as):
    reader, editor = sf.add_rep(app, tenant_a, "rep2", "孙丽"), sf.add_rep(app, tenant_a, "rep3", "周强")
    oid = of.order(app, tenant_a["sales"], customer_a)
    with in_tenant(app, tenant_a.id, tenant_a["sales"].user_id):
        from crm.sales import services as sales

        customer = db.session.get(Customer, customer_a)
        sales.set_collaborators(sf.actor(tenant_a["sales"]), customer, [(reader.id, False), (editor.id, True)])
        db.session.commit()
    c = client_as(reader)
    assert c.get(f"{_base(tenant_a)}/{oid}").status_code == 200
    assert c.get(f"{_base(tenant_a)}/{oid}/delivery").status_code == 403
    assert post(c, f"{_base(tenant_a)}/{oid}/delete").status_code == 403
    assert client_as(editor).get(f"{_base(tenant_a)}/{oid}/delivery").status_code == 200


# ================================================================ the pages


def test_index_filters_and_sums_the_filtered_set(app, tenant_a, customer_a, client_as):
    other = sf.customer(app, tenant_a["sales"], "北京远景贸易有限公司")
    a1 = of.order(app, tenant_a["sales"], customer_a, order_date=date(2026, 1, 10))  # 2120.00
    of.order(app, tenant_a["sales"], customer_a, MIXED, order_date=date(2026, 2, 10))  # 30299.81
    b1 = of.order(app, tenant_a["sales"], other, order_date=date(2026, 3, 10))  # 2120.00
    of.deliver(app, tenant_a["sales"], b1, ["1"])
    c = client_as(tenant_a["sales"])

    def shown(query: str) -> tuple[list[str], str]:
        html = text_of(c.get(f"{_base(tenant_a)}?{query}"))
        numbers = re.findall(r'class="font-monospace" href="[^"]+">(SO-[^<]+)<', html)
        m = re.search(r'data-testid="orders-sum">([^<]*)<', html)
        return numbers, (m.group(1).strip() if m else "")

    assert shown("") == (["SO-2026-0003", "SO-2026-0002", "SO-2026-0001"], "¥ 34,539.81")
    assert shown("status=partial") == (["SO-2026-0003"], "¥ 2,120.00")
    assert shown("q=北京") == (["SO-2026-0003"], "¥ 2,120.00")
    assert shown("date_from=2026-01-01&date_to=2026-02-28") == (["SO-2026-0002", "SO-2026-0001"], "¥ 32,419.81")
    assert shown(f"owner_id={tenant_a['sales'].id}&status=pending")[1] == "¥ 32,419.81"
    assert "No orders match" in text_of(c.get(f"{_base(tenant_a)}?status=cancelled"))
    show = text_of(c.get(f"{_base(tenant_a)}/{a1}"))
    assert "上海百川科技有限公司" in show and 'data-testid="line-delivered"' in show


def test_empty_state_says_what_to_do(app, tenant_a, client_as):
    html = text_of(client_as(tenant_a["sales"]).get(_base(tenant_a)))
    assert "No orders yet" in html and "New order" in html


def test_the_order_page_links_customer_quote_and_contract(app, tenant_a, customer_a, client_as):
    qid = of.quote(app, tenant_a["sales"], customer_a)
    of.set_quote_status(app, tenant_a.id, qid, "accepted")
    cid = of.contract(app, tenant_a["sales"], customer_a, quote_id=qid)
    oid = of.order(app, tenant_a["sales"], customer_a, contract_id=cid)
    html = text_of(client_as(tenant_a["sales"]).get(f"{_base(tenant_a)}/{oid}"))
    assert f"/sales/customers/{customer_a}" in html and f"/sales/quotes/{qid}" in html
    assert 'data-testid="order-links"' in html and "HT-" in html


def test_the_customer_page_lists_its_orders(app, tenant_a, customer_a, client_as):
    oid = of.order(app, tenant_a["sales"], customer_a)
    number = of.read_order(app, tenant_a.id, oid)["number"]
    page = text_of(client_as(tenant_a["sales"]).get(f"/w/{tenant_a.slug}/sales/customers/{customer_a}"))
    assert 'data-testid="customer-orders"' in page and number in page


def test_the_sidebar_lists_orders_last_in_sales(app, tenant_a, client_as):
    html = text_of(client_as(tenant_a["sales"]).get(f"/w/{tenant_a.slug}/sales/"))
    assert f'href="{_base(tenant_a)}"' in html


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_order_pages_render_in_both_languages(app, tenant_a, customer_a, client_as, lang):
    oid = of.order(app, tenant_a["sales"], customer_a)
    c = client_as(tenant_a["sales"], **{"Accept-Language": lang})
    for url in ("", "/new", f"/{oid}", f"/{oid}/edit", f"/{oid}/delivery", f"/{oid}/cancel"):
        r = c.get(_base(tenant_a) + url)
        assert r.status_code == 200, url
        assert re.search(r'<html[^>]*lang="(en|zh)', text_of(r)).group(1) == lang[:2], url
    index = text_of(c.get(_base(tenant_a)))
    assert ("含税合计" in index) is (lang == "zh-CN")  # an already translated column title


# ================================================================ constant statement counts


def _grow(app, tenant, customer_id: int, n: int) -> None:
    pid = qf.product(app, tenant["owner"], f"P-{n}", f"产品{n}")
    for i in range(n):
        oid = of.order(app, tenant["sales"], customer_id, [*MIXED, {"product_id": pid, "quantity": str(i + 1)}])
        if i % 2:
            of.deliver(app, tenant["sales"], oid, ["1", "0", "0", "0"])


@pytest.mark.parametrize("page", ["index", "customer"])
def test_constant_statements_for_the_order_list_and_the_customer_section(
    app, tenant_a, customer_a, client_as, count_queries, page
):
    c = client_as(tenant_a["sales_manager"])
    _grow(app, tenant_a, customer_a, 2)
    url = _base(tenant_a) if page == "index" else f"/w/{tenant_a.slug}/sales/customers/{customer_a}"
    assert c.get(url).status_code == 200  # warm caches
    with count_queries() as small:
        assert c.get(url).status_code == 200
    _grow(app, tenant_a, customer_a, 12)
    with count_queries() as large:
        assert c.get(url).status_code == 200
    assert small.count == large.count, "\n".join(large.statements)
    with in_tenant(app, tenant_a.id):
        assert len(db.session.scalars(select(Order.id)).all()) == 14


def test_constant_statements_for_the_order_page_with_1_or_12_lines(app, tenant_a, customer_a, client_as, count_queries):
    qid = of.quote(app, tenant_a["sales"], customer_a)
    of.set_quote_status(app, tenant_a.id, qid, "accepted")
    one = of.order(app, tenant_a["sales"], customer_a, quote_id=qid)
    many = of.order(app, tenant_a["sales"], customer_a, (MIXED * 4), quote_id=qid)
    of.deliver(app, tenant_a["sales"], many, ["1"] + ["0"] * 11)
    c = client_as(tenant_a["sales"])
    assert c.get(f"{_base(tenant_a)}/{one}").status_code == 200  # warm caches
    with count_queries() as small:
        assert c.get(f"{_base(tenant_a)}/{one}").status_code == 200
    with count_queries() as large:
        assert c.get(f"{_base(tenant_a)}/{many}").status_code == 200
    assert small.count == large.count, "\n".join(large.statements)
    assert large.count <= 20, "\n".join(large.statements)
