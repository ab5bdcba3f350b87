"""The sales ledger (销售台账): the lines of the orders in the member's scope with received and
outstanding money, filters, paging in a constant number of statements, the SUMIF pivots,
week-over-week / month-over-month / year-over-year growth, targets and the ranking, saved views,
and the API — each figure checked against sums worked out by hand from the orders below.

Workspace a: the rep (sales, reports to the manager) and a second rep outside the team.
  o1 2026-03-02 (a Monday) rep, 苏州甲 (江苏省): 服务器 2 × 1000, 交换机 3 × 200   → 2600 excl.
  o2 2026-03-09 (next Monday) rep, 杭州乙 (浙江省): 服务器 1 × 1000                → 1000
  o3 2026-02-10 rep2, 广州丙 (广东省): 交换机 5 × 200                               → 1000
  o4 2026-03-10 rep, 苏州甲: 服务器 1 × 500, cancelled                              → (500)
  o5 2025-03-15 rep, 杭州乙: 服务器 1 × 800                                        → 800
  An invoice for o1 (2938.00 incl.) with 1000.00 received.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from crm.db import db
from crm.ledger import services
from crm.sales.services import InvalidInput
from tenants.context import tenant_context
from tenants.models import Membership
from tests import area_ledger as al
from tests.area_ledger import url
from tests.helpers import ApiClient, in_tenant, post, text_of

D = Decimal


@pytest.fixture
def ledger(app, tenant_a, tenant_b):
    return al.build_ledger(app, tenant_a, tenant_b)


def read(app, who, fn, *args, **kw):
    with in_tenant(app, who.tenant_id, who.user_id):
        return fn(db.session.get(Membership, who.id), *args, **kw)


# ================================================================ the lines


def test_the_owner_sees_every_line_but_cancelled_ones_with_amounts_excluding_and_including_tax(app, ledger):
    page = read(app, ledger.t["owner"], services.ledger_page, services.LedgerFilter())
    assert page.total == 5
    assert page.amount_excl == D("5400.00")
    assert page.amount_incl == D("6102.00")
    assert page.quantity == D("12.000")
    newest = page.rows[0]
    assert (newest.number, newest.customer, newest.region, newest.product) == (
        newest.number,
        "杭州乙贸易有限公司",
        "浙江省",
        "服务器",
    )
    assert newest.order_date == date(2026, 3, 9)
    assert [r.order_date for r in page.rows] == sorted((r.order_date for r in page.rows), reverse=True)


def test_cancelled_orders_show_only_when_the_status_filter_asks(app, ledger):
    owner = ledger.t["owner"]
    everything = read(app, owner, services.ledger_page, services.LedgerFilter(status="all"))
    cancelled = read(app, owner, services.ledger_page, services.LedgerFilter(status="cancelled"))
    assert everything.total == 6
    assert cancelled.total == 1 and cancelled.amount_excl == D("500.00")
    assert cancelled.rows[0].received == D("0.00") and cancelled.rows[0].outstanding == D("0.00")


def test_a_rep_sees_the_lines_of_their_own_orders_and_a_manager_their_teams(app, ledger):
    t = ledger.t
    rep = read(app, t["sales"], services.ledger_page, services.LedgerFilter())
    manager = read(app, t["sales_manager"], services.ledger_page, services.LedgerFilter())
    rep2 = read(app, ledger.rep2, services.ledger_page, services.LedgerFilter())
    assert {r.order_id for r in rep.rows} == {ledger.o1, ledger.o2, ledger.o5}
    assert {r.order_id for r in manager.rows} == {ledger.o1, ledger.o2, ledger.o5}  # rep2 is not in the team
    assert {r.order_id for r in rep2.rows} == {ledger.o3}
    assert rep2.amount_excl == D("1000.00")


def test_received_money_is_spread_over_the_orders_lines_and_adds_up_to_the_cent(app, ledger):
    page = read(app, ledger.t["owner"], services.ledger_page, services.LedgerFilter(customer_id=ledger.c1))
    lines = [r for r in page.rows if r.order_id == ledger.o1]
    assert len(lines) == 2
    assert sum(r.received for r in lines) == D("1000.00")
    assert sum(r.outstanding for r in lines) == ledger.o1_incl - D("1000.00")
    # By share of the order: 2260 of 2938 and 678 of 2938.
    assert [r.received for r in sorted(lines, key=lambda r: -r.amount_incl)] == [D("769.23"), D("230.77")]


def test_a_product_filter_keeps_the_lines_share_of_what_was_received(app, ledger):
    page = read(app, ledger.t["owner"], services.ledger_page, services.LedgerFilter(product_id=ledger.switch,
                                                                                  customer_id=ledger.c1))  # fmt: skip
    assert [r.received for r in page.rows] == [D("230.77")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"region": "浙江省"}, {"o2", "o5"}),
        ({"from": "2026-03-01", "to": "2026-03-31"}, {"o1", "o2"}),
        ({"rep": "REP2"}, {"o3"}),
        ({"status": "pending"}, {"o1", "o2", "o3", "o5"}),
    ],
)
def test_filters_narrow_the_lines(app, ledger, query, expected):
    query = {k: (str(ledger.rep2.id) if v == "REP2" else v) for k, v in query.items()}
    f = services.parse_filter(query)
    page = read(app, ledger.t["owner"], services.ledger_page, f)
    assert {r.order_id for r in page.rows} == {getattr(ledger, o) for o in expected}


@pytest.mark.parametrize(
    ("query", "field"),
    [({"from": "2026-13-01"}, "from"), ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
     ({"status": "lost"}, "status"), ({"rep": "abc"}, "rep"), ({"region": "x" * 31}, "region")],
)  # fmt: skip
def test_bad_filters_name_the_field(query, field):
    with pytest.raises(InvalidInput) as err:
        services.parse_filter(query)
    assert field in err.value.errors


def test_the_ledger_page_shows_the_lines_and_the_totals_of_the_whole_filter(app, ledger, client_as):
    c = client_as(ledger.t["owner"])
    resp = c.get(url(ledger.t, page_size=2))
    html = text_of(resp)
    assert resp.status_code == 200
    assert "杭州乙贸易有限公司" in html and "广州丙电子有限公司" in html
    assert "5,400.00" in html and "6,102.00" in html
    bad = c.get(url(ledger.t, **{"from": "nonsense"}))
    assert bad.status_code == 400 and "YYYY-MM-DD" in text_of(bad)


def test_the_ledger_page_issues_the_same_number_of_statements_for_2_or_60_orders(app, ledger, client_as,
                                                                                count_queries):  # fmt: skip
    c = client_as(ledger.t["owner"])
    c.get(url(ledger.t))
    with count_queries() as few:
        assert c.get(url(ledger.t)).status_code == 200
    with in_tenant(app, ledger.t.id, ledger.t["owner"].user_id):
        rep = db.session.get(Membership, ledger.t["sales"].id)
        from crm.catalog.models import Product

        server = db.session.get(Product, ledger.server)
        for i in range(60):
            o = al.order(rep, ledger.c1, date(2026, 1, 1 + i % 28), [(server, "1", "10.00"), (None, "2", "5.00")])
            if i % 3 == 0:
                al.paid_invoice(o, "5.00")
        db.session.commit()
    with count_queries() as many:
        resp = c.get(url(ledger.t))
        assert resp.status_code == 200
    assert "Page 1 of 3" in text_of(resp)
    assert many.count == few.count
    with count_queries() as later:
        assert c.get(url(ledger.t, page=3)).status_code == 200
    assert later.count == few.count


def test_quantities_show_as_plain_numbers(app, ledger, client_as):
    with in_tenant(app, ledger.t.id, ledger.t["sales"].user_id):
        rep = db.session.get(Membership, ledger.t["sales"].id)
        al.order(rep, ledger.c2, date(2026, 4, 1), [(None, "10", "1.00"), (None, "2.5", "1.00")])
        db.session.commit()
    html = text_of(client_as(ledger.t["sales"]).get(url(ledger.t, **{"from": "2026-04-01"})))
    assert ">12.5</div>" in html and "10 " in html
    assert "E+" not in html


@pytest.mark.parametrize(
    "page",
    ["summary?rows=customer&cols=week", "growth?period=week&by=product&from=2026-01-01&to=2026-03-31", "charts",
     "targets?period=2026-Q1"],
)  # fmt: skip
def test_the_summary_growth_chart_and_target_pages_issue_a_fixed_number_of_statements(app, ledger, client_as,
                                                                                     count_queries, page):  # fmt: skip
    c = client_as(ledger.t["owner"])
    c.get(url(ledger.t) + "/" + page)
    with count_queries() as few:
        assert c.get(url(ledger.t) + "/" + page).status_code == 200
    with in_tenant(app, ledger.t.id, ledger.t["owner"].user_id):
        owner = db.session.get(Membership, ledger.t["owner"].id)
        products = [al.product(owner, f"X{i}", f"产品{i}") for i in range(12)]
        customers = [al.customer(owner, f"客户{i}有限公司", f"省{i}") for i in range(12)]
        for i in range(40):
            al.order(owner, customers[i % 12].id, date(2026, 1, 1) + timedelta(days=2 * i),
                     [(products[i % 12], "1", "10.00"), (products[(i + 5) % 12], "2", "3.00")])  # fmt: skip
        db.session.commit()
    with count_queries() as many:
        assert c.get(url(ledger.t) + "/" + page).status_code == 200
    assert many.count == few.count


def test_exports_read_every_line_in_page_order_chunk_by_chunk(app, ledger):
    with in_tenant(app, ledger.t.id, ledger.t["owner"].user_id):
        owner = db.session.get(Membership, ledger.t["owner"].id)
        f = services.LedgerFilter(status="all")
        whole = [r.line_id for r in services.ledger_page(owner, f, 1, 200).rows]
        for chunk in (1, 2, 4):
            assert [r.line_id for r in services.iter_ledger(owner, f, chunk=chunk)] == whole


# ================================================================ summaries


def test_a_pivot_by_region_and_month_sums_amounts_with_row_and_column_totals(app, ledger):
    p = read(app, ledger.t["owner"], services.summarize, services.LedgerFilter(), "region", "month", "amount")
    assert p.row_keys == ["江苏省", "广东省", "浙江省"] or p.row_keys[0] == "江苏省"
    assert p.cell("江苏省", "2026-03").amount == D("2600.00")
    assert p.cell("浙江省", "2026-03").amount == D("1000.00")
    assert p.cell("浙江省", "2025-03").amount == D("800.00")
    assert p.cell("广东省", "2026-02").amount == D("1000.00")
    assert p.col_keys == ["2025-03", "2026-02", "2026-03"]
    assert p.col_totals["2026-03"].amount == D("3600.00")
    assert p.row_totals["浙江省"].amount == D("1800.00")
    assert p.total.amount == D("5400.00") and p.total.quantity == D("12.000")


def test_a_pivot_by_product_and_week_puts_lines_in_weeks_starting_on_monday(app, ledger):
    f = services.LedgerFilter(date_from=date(2026, 3, 1), date_to=date(2026, 3, 15))
    p = read(app, ledger.t["owner"], services.summarize, f, "product", "week", "quantity")
    assert p.col_keys == ["2026-03-02", "2026-03-09"]
    assert p.cell(ledger.server, "2026-03-02").quantity == D("2.000")
    assert p.cell(ledger.server, "2026-03-09").quantity == D("1.000")
    assert p.cell(ledger.switch, "2026-03-02").quantity == D("3.000")
    assert p.row_labels[ledger.server] == "服务器"


def test_a_rep_sums_only_their_own_lines(app, ledger):
    p = read(app, ledger.t["sales"], services.summarize, services.LedgerFilter(), "salesperson")
    assert list(p.row_totals) == [ledger.t["sales"].id]
    assert p.total.amount == D("4400.00")


def test_summary_refuses_an_unknown_dimension_or_the_same_one_twice(app, ledger):
    for args in (("colour", None, "amount"), ("region", "region", "amount"), ("region", None, "profit")):
        with pytest.raises(InvalidInput):
            read(app, ledger.t["owner"], services.summarize, services.LedgerFilter(), *args)


def test_the_summary_page_shows_the_pivot(app, ledger, client_as):
    c = client_as(ledger.t["sales_manager"])
    resp = c.get(url(ledger.t, "summary", rows="customer", cols="month", measure="amount"))
    html = text_of(resp)
    assert resp.status_code == 200
    assert "苏州甲科技有限公司" in html and "2026-03" in html and "4,400.00" in html
    assert "广州丙电子有限公司" not in html
    assert c.get(url(ledger.t, "summary", rows="nope")).status_code == 400


# ================================================================ growth


def test_week_over_week_compares_each_monday_week_with_the_one_before(app, ledger):
    f = services.LedgerFilter(date_from=date(2026, 3, 2), date_to=date(2026, 3, 15))
    g = read(app, ledger.t["owner"], services.growth, f, "week")
    assert g.buckets == ["2026-03-02", "2026-03-09"]
    first, second = g.totals["2026-03-02"], g.totals["2026-03-09"]
    assert (first.value, first.earlier, first.pct) == (D("2600.00"), D("0.00"), None)  # "—"
    assert (second.value, second.earlier) == (D("1000.00"), D("2600.00"))
    assert second.pct == D("-61.5")


def test_month_over_month_and_year_over_year(app, ledger):
    f = services.LedgerFilter(date_from=date(2026, 2, 1), date_to=date(2026, 3, 31))
    mom = read(app, ledger.t["owner"], services.growth, f, "month")
    assert mom.totals["2026-03"].value == D("3600.00")
    assert mom.totals["2026-03"].pct == D("260.0")  # 3600 against 1000
    assert mom.totals["2026-02"].pct is None  # January had nothing
    yoy = read(app, ledger.t["owner"], services.growth, f, "month", "", "year")
    assert yoy.totals["2026-03"].earlier == D("800.00")
    assert yoy.totals["2026-03"].pct == D("350.0")


def test_growth_per_product(app, ledger):
    f = services.LedgerFilter(date_from=date(2026, 3, 2), date_to=date(2026, 3, 15))
    g = read(app, ledger.t["owner"], services.growth, f, "week", "product")
    assert g.cells[(ledger.server, "2026-03-09")].pct == D("-50.0")
    assert g.cells[(ledger.switch, "2026-03-09")].pct == D("-100.0")
    assert g.keys == [ledger.server, ledger.switch]


def test_the_growth_page_shows_a_dash_when_the_earlier_period_is_zero(app, ledger, client_as):
    c = client_as(ledger.t["owner"])
    resp = c.get(url(ledger.t, "growth", period="week", **{"from": "2026-03-02", "to": "2026-03-15"}))
    html = text_of(resp)
    assert resp.status_code == 200
    assert "—" in html and "-61.5%" in html


# ================================================================ charts


def test_the_charts_show_the_trend_regions_and_product_shares(app, ledger):
    from crm.ledger import charts

    c = read(app, ledger.t["owner"], charts.build, services.LedgerFilter(), today=date(2026, 3, 31))
    trend = c.trend["data"]
    assert trend["labels"][0] == "2025-04" and trend["labels"][-1] == "2026-03"
    assert trend["datasets"][0]["data"][-2:] == ["1000.00", "3600.00"]  # February, March
    assert c.regions["data"]["labels"] == ["江苏省", "广东省", "浙江省"]
    assert c.regions["data"]["datasets"][0]["data"] == ["2600.00", "1000.00", "1000.00"]
    assert c.products["type"] == "doughnut"
    assert dict(zip(c.products["data"]["labels"], c.products["data"]["datasets"][0]["data"], strict=True)) == {
        "服务器": "3000.00", "交换机": "1600.00"}  # fmt: skip
    weeks = read(app, ledger.t["owner"], charts.build,
                 services.LedgerFilter(date_from=date(2026, 3, 1), date_to=date(2026, 3, 15)))  # fmt: skip
    assert weeks.period == "week" and weeks.trend["data"]["datasets"][0]["data"] == ["0.00", "2600.00", "1000.00"]


# ================================================================ targets and ranking


def test_a_manager_sets_a_reps_target_and_the_ranking_shows_completion(app, ledger, client_as):
    c = client_as(ledger.t["sales_manager"])
    resp = post(c, url(ledger.t, "targets"), {"member_id": ledger.t["sales"].id, "period": "2026-03",
                                              "amount": "4000"})  # fmt: skip
    assert resp.status_code == 302
    r = read(app, ledger.t["sales_manager"], services.ranking, "2026-03")
    row = next(x for x in r.rows if x.member_id == ledger.t["sales"].id)
    assert (row.target, row.actual, row.completion, row.rank) == (D("4000.00"), D("3600.00"), D("90.0"), 1)
    page = text_of(c.get(url(ledger.t, "targets", period="2026-03")))
    assert "90.0%" in page


def test_a_quarter_without_its_own_target_adds_up_its_months(app, ledger):
    with in_tenant(app, ledger.t.id, ledger.t["owner"].user_id):
        from tenants.models import Tenant

        tenant, owner = db.session.get(Tenant, ledger.t.id), db.session.get(Membership, ledger.t["owner"].id)
        for month in ("2026-01", "2026-02", "2026-03"):
            services.set_target(tenant, owner, ledger.t["sales"].id, month, "3000")
        services.set_target(tenant, owner, ledger.rep2.id, "2026-Q1", "500")
        db.session.commit()
    r = read(app, ledger.t["owner"], services.ranking, "2026-Q1")
    rows = {x.member_id: x for x in r.rows}
    assert rows[ledger.t["sales"].id].target == D("9000.00")
    assert rows[ledger.rep2.id].target == D("500.00") and rows[ledger.rep2.id].completion == D("200.0")


def test_a_rep_cannot_set_targets_and_a_manager_only_for_their_team(app, ledger, client_as):
    rep = client_as(ledger.t["sales"])
    assert post(rep, url(ledger.t, "targets"), {"member_id": ledger.t["sales"].id, "period": "2026-03",
                                                "amount": "1"}).status_code == 403  # fmt: skip
    mgr = client_as(ledger.t["sales_manager"])
    resp = post(mgr, url(ledger.t, "targets"), {"member_id": ledger.rep2.id, "period": "2026-03", "amount": "1"})
    assert resp.status_code == 400
    for bad in ({"period": "2026-13"}, {"amount": "-5"}, {"amount": "1.234"}):
        data = {"member_id": ledger.t["sales"].id, "period": "2026-03", "amount": "1", **bad}
        assert post(mgr, url(ledger.t, "targets"), data).status_code == 400
    assert read(app, ledger.t["owner"], services.list_targets) == []


# ================================================================ saved views


def test_a_rep_saves_a_personal_view_and_only_a_manager_shares_one(app, ledger, client_as):
    rep = client_as(ledger.t["sales"])
    resp = post(rep, url(ledger.t, "views"), {"name": "浙江", "params": "region=浙江省&status=all", "tab": "ledger"})
    assert resp.status_code == 302
    refused = post(rep, url(ledger.t, "views"), {"name": "共享", "params": "", "shared": "y", "tab": "ledger"})
    assert refused.status_code == 400
    mgr = client_as(ledger.t["sales_manager"])
    assert post(mgr, url(ledger.t, "views"), {"name": "团队", "params": "rows=product", "shared": "y",
                                              "tab": "summary"}).status_code == 302  # fmt: skip
    views = {v.name: v for v in read(app, ledger.t["sales"], services.visible_views)}
    assert set(views) == {"浙江", "团队"}
    assert views["浙江"].params == {"region": "浙江省", "status": "all", "tab": "ledger"}
    opened = rep.get(url(ledger.t, "views", views["团队"].id))
    assert opened.status_code == 302 and "/summary?rows=product" in opened.headers["Location"]
    # The manager does not see the rep's personal view; the rep cannot delete the shared one.
    assert mgr.get(url(ledger.t, "views", views["浙江"].id)).status_code == 404
    assert post(rep, url(ledger.t, "views", views["团队"].id, "delete")).status_code == 403


# ================================================================ API


def test_the_api_lists_lines_sums_pivots_and_growth(app, ledger, client, token_for):
    api = ApiClient(client, token_for(ledger.t["owner"]))
    lines = api.get("/ledger?from=2026-03-01&to=2026-03-31&page_size=2").get_json()
    assert lines["total"] == 3 and lines["amount_excl"] == "3600.00" and len(lines["items"]) == 2
    o1_lines = api.get(f"/ledger?customer={ledger.c1}").get_json()["items"]
    assert sorted(x["received"] for x in o1_lines) == ["230.77", "769.23"]
    summary = api.get("/ledger/summary?rows=region&cols=month&measure=amount&from=2026-02-01&to=2026-03-31")
    body = summary.get_json()
    assert summary.status_code == 200 and body["total"]["amount"] == "4600.00"
    js = next(r for r in body["rows"] if r["key"] == "江苏省")
    assert [c["amount"] for c in js["cells"]] == ["0.00", "2600.00"]
    growth = api.get("/ledger/growth?by=product&period=week&from=2026-03-02&to=2026-03-15").get_json()
    assert growth["buckets"] == ["2026-03-02", "2026-03-09"]
    assert growth["total"]["cells"][0]["growth_pct"] is None
    assert growth["total"]["cells"][1]["growth_pct"] == "-61.5"
    bad = api.get("/ledger/summary?rows=region&cols=region")
    assert bad.status_code == 422 and "cols" in bad.get_json()["errors"]["query"]
    assert api.get("/ledger?from=2026-02-30").status_code == 422


def test_the_api_targets_crud_follows_the_page_rules(app, ledger, client, token_for):
    mgr = ApiClient(client, token_for(ledger.t["sales_manager"]))
    created = mgr.post("/sales-targets", {"member_id": ledger.t["sales"].id, "period": "2026-Q1", "amount": "9000"})
    assert created.status_code == 201, created.get_json()
    tid = created.get_json()["id"]
    assert mgr.patch(f"/sales-targets/{tid}", {"amount": "9500.50"}).get_json()["amount"] == "9500.50"
    refused = mgr.post("/sales-targets", {"member_id": ledger.rep2.id, "period": "2026-Q1", "amount": "1"})
    assert refused.status_code == 422 and "member_id" in refused.get_json()["errors"]["json"]
    rep = ApiClient(client, token_for(ledger.t["sales"]))
    assert rep.get(f"/sales-targets/{tid}").status_code == 200
    assert rep.delete(f"/sales-targets/{tid}").status_code == 403
    ranking = rep.get("/ledger/ranking?period=2026-Q1").get_json()
    assert ranking["rows"][0]["target"] == "9500.50" and ranking["rows"][0]["actual"] == "3600.00"
    assert mgr.delete(f"/sales-targets/{tid}").status_code == 204
    assert mgr.get(f"/sales-targets/{tid}").status_code == 404


def test_another_workspaces_lines_never_show(app, ledger, tenant_b, client, token_for):
    api = ApiClient(client, token_for(tenant_b["owner"]))
    body = api.get("/ledger").get_json()
    assert body["total"] == 1 and body["amount_excl"] == "54439.00"
    with in_tenant(app, ledger.t.id):
        assert services.parse_filter({}) == services.LedgerFilter()
    with app.app_context(), tenant_context(ledger.t.id):
        owner = db.session.get(Membership, ledger.t["owner"].id)
        assert "Beta Customer" not in {r.customer for r in services.ledger_page(owner, services.LedgerFilter()).rows}
