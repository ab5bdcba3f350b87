"""The sales dashboard: KPIs and charts in the member's scope (me / my team), exact money,
empty states, and a constant number of SQL statements whatever the data size."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.activities import services as activities
from crm.contracts.models import Contract
from crm.db import db, utcnow
from crm.pipeline import services as pipeline
from crm.pipeline.models import Opportunity, Stage
from crm.sales.models import Customer
from crm.shell import sales_dashboard
from tests import factories
from tests import sales_factories as sf
from tests.helpers import in_tenant


def _stage(kind_or_name: str) -> Stage:
    stages = pipeline.ensure_default_pipeline(None).stages
    return next(s for s in stages if kind_or_name in (s.kind, s.name) and (s.kind != "open" or s.name == kind_or_name))


def opp(app, member, customer_id, amount, stage="初步接洽", close_in=None, closed_ago=None, reason=True):
    """An opportunity of `member` in the named open stage, or 'won' / 'lost'."""
    with in_tenant(app, member.tenant_id, member.user_id):
        actor = factories.member_row(member)
        st = _stage(stage)
        lost = pipeline.lost_reasons()[0].id if st.kind == "lost" and reason else None
        values = {"customer_id": customer_id, "title": f"机会 {amount}", "amount": amount}
        if close_in is not None:
            values["expected_close"] = workspace_today(member.tenant_id) + timedelta(days=close_in)
        o = pipeline.create_opportunity(actor, pipeline.OpportunityInput(values, stage_id=st.id, lost_reason_id=lost))
        if closed_ago is not None:
            o.closed_at = utcnow() - timedelta(days=closed_ago)
        db.session.commit()
        return o.id


def workspace_today(tenant_id):
    from tenants.context import current_tenant

    return sales_dashboard.Window.at(utcnow(), current_tenant.timezone).today


def contract(app, member, customer_id, status, ends_in, number):
    """A contract ending `ends_in` days after the workspace's today (its time zone's date)."""
    with in_tenant(app, member.tenant_id):
        ends = workspace_today(member.tenant_id) + timedelta(days=ends_in)
        c = Contract(number=number, title="合同", customer_id=customer_id, owner_id=member.id, status=status,
                     ends_on=ends, amount=Decimal("1000.00"))  # fmt: skip
        db.session.add(c)
        db.session.commit()
        return c.id


def followup(app, member, customer_id, ago_seconds=60, summary="电话沟通"):
    with in_tenant(app, member.tenant_id, member.user_id):
        c = db.session.get(Customer, customer_id)
        when = utcnow() - timedelta(seconds=ago_seconds)
        activities.log_followup(factories.member_row(member), c, {"kind": "call", "summary": summary,
                                                                   "occurred_at": when})  # fmt: skip
        db.session.commit()


def task(app, member, due_in, customer_id=None, title="回电"):
    with in_tenant(app, member.tenant_id, member.user_id):
        activities.create_task(factories.member_row(member), {"title": title, "customer_id": customer_id,
                               "due_on": activities.today() + timedelta(days=due_in)})  # fmt: skip
        db.session.commit()


def build(app, member, scope=None):
    with in_tenant(app, member.tenant_id, member.user_id):
        d = sales_dashboard.build(factories.member_row(member), scope)
        return d, sales_dashboard.charts(d)


def _charts(html):
    raw = re.findall(r'data-testid="chart-(\w+)" data-chart=\'([^\']*)\'', html)
    return {n: json.loads(v.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")) for n, v in raw}


@pytest.fixture
def rep(tenant_a):
    return tenant_a["sales"]


def test_pipeline_value_and_weighted_value_are_exact_and_match_each_opportunity(app, rep):
    cid = sf.customer(app, rep, "精确金额客户有限公司")
    amounts = [("100.05", "初步接洽"), ("333.33", "需求确认"), ("0.05", "方案报价"), ("12345.67", "商务谈判")]
    for amount, stage in amounts:
        opp(app, rep, cid, amount, stage)
    opp(app, rep, cid, "999.00", "won", closed_ago=0)
    opp(app, rep, cid, "888.00", "lost", closed_ago=0)
    d, charts = build(app, rep)
    with in_tenant(app, rep.tenant_id):
        open_opps = [o for o in db.session.scalars(select(Opportunity)) if o.stage.kind == "open"]
        weighted = sum((o.weighted_amount for o in open_opps), Decimal("0"))
    assert d.pipeline_count == 4
    assert d.pipeline_amount == Decimal("12779.10")
    assert (
        d.pipeline_weighted == weighted == Decimal("10.01") + Decimal("100.00") + Decimal("0.03") + Decimal("8641.97")
    )
    assert (d.won_count, d.won_amount) == (1, Decimal("999.00"))
    # Charts carry money as exact strings, never floats.
    data = charts["pipeline"]["data"]["datasets"]
    assert data[0]["data"] == ["100.05", "333.33", "0.05", "12345.67"]
    assert data[1]["data"] == ["10.01", "100.00", "0.03", "8641.97"]


def test_the_forecast_buckets_open_deals_by_month_of_expected_close_for_six_months(app, rep):
    cid = sf.customer(app, rep, "预测客户有限公司")
    opp(app, rep, cid, "1000.00", "商务谈判", close_in=0)
    opp(app, rep, cid, "2000.00", "方案报价", close_in=62)
    opp(app, rep, cid, "5000.00", "商务谈判", close_in=400)  # beyond six months
    opp(app, rep, cid, "7000.00", "won", close_in=0, closed_ago=0)  # won: not a forecast
    d, charts = build(app, rep)
    assert len(d.forecast) == 6 and d.forecast[0].key == d.window.today.strftime("%Y-%m")
    by_key = {m.key: m for m in d.forecast}
    this_month = by_key[d.window.today.strftime("%Y-%m")]
    assert (this_month.count, this_month.weighted) == (1, Decimal("700.00"))
    later = next(m for m in d.forecast[1:] if m.count)
    assert (later.amount, later.weighted) == (Decimal("2000.00"), Decimal("1000.00"))
    assert sum(m.count for m in d.forecast) == 2
    assert charts["forecast"]["data"]["datasets"][0]["data"][0] == "700.00"


def test_a_rep_sees_only_their_own_figures_even_when_asking_for_the_team(app, tenant_a, tenant_b, rep):
    mine = sf.customer(app, rep, "我的客户有限公司")
    boss = tenant_a["sales_manager"]
    theirs = sf.customer(app, boss, "经理的客户有限公司")
    opp(app, rep, mine, "100.00")
    opp(app, boss, theirs, "900.00")
    followup(app, boss, theirs)
    other = sf.customer(app, tenant_b["sales"], "别家客户有限公司")
    opp(app, tenant_b["sales"], other, "5000.00")
    d, _c = build(app, rep, "team")
    assert (d.scope, d.can_toggle) == ("me", False)
    assert (d.customers, d.pipeline_amount, d.followups_week) == (1, Decimal("100.00"), 0)


def test_a_manager_switches_between_own_and_team_figures(app, tenant_a, rep, client_as):
    boss = tenant_a["sales_manager"]
    opp(app, rep, sf.customer(app, rep, "下属客户有限公司"), "100.00")
    opp(app, boss, sf.customer(app, boss, "经理自己的客户有限公司"), "900.00")
    me, _c = build(app, boss, "me")
    team, _c = build(app, boss, "team")
    assert (me.customers, me.pipeline_amount) == (1, Decimal("900.00"))
    assert (team.customers, team.pipeline_amount) == (2, Decimal("1000.00"))
    assert build(app, boss)[0].scope == "team"  # managers land on their team's figures
    c = client_as(boss)
    page = c.get(f"/w/{boss.slug}/sales/?scope=me").get_data(as_text=True)
    kpi = re.search(r'data-testid="stat-pipeline">([^<]*)<', page).group(1)
    assert 'data-testid="scope-toggle"' in page and "900.00" in kpi and "1,000.00" not in kpi
    page = c.get(f"/w/{boss.slug}/sales/?scope=team").get_data(as_text=True)
    assert "1,000.00" in re.search(r'data-testid="stat-pipeline">([^<]*)<', page).group(1)
    assert 'data-testid="scope-toggle"' not in client_as(rep).get(f"/w/{rep.slug}/sales/").get_data(as_text=True)


def test_tasks_due_and_overdue_are_counted_and_future_or_done_ones_are_not(app, rep):
    cid = sf.customer(app, rep, "任务客户有限公司")
    task(app, rep, 0, cid, "今天的事")
    task(app, rep, -3, None, "过期的事")
    task(app, rep, 4, cid, "下周的事")
    d, _c = build(app, rep)
    assert (d.tasks_today, d.tasks_overdue) == (1, 1)
    assert [t.title for t in d.tasks] == ["过期的事", "今天的事"]


def test_follow_ups_this_week_are_counted_per_day_with_the_latest_listed(app, rep):
    cid = sf.customer(app, rep, "跟进客户有限公司")
    followup(app, rep, cid, 30, "刚刚打过电话")
    followup(app, rep, cid, 90, "早些时候微信沟通")
    followup(app, rep, cid, 60 * 60 * 24 * 20, "三周前拜访")
    d, charts = build(app, rep)
    assert d.followups_week == 2
    assert sum(n for _day, n in d.followups_by_day) == 2 and len(d.followups_by_day) == 7
    assert [f.summary for f in d.followups_latest][:3] == ["刚刚打过电话", "早些时候微信沟通", "三周前拜访"]
    assert sum(charts["followups"]["data"]["datasets"][0]["data"]) == 2


def test_only_active_contracts_ending_within_30_days_are_listed_with_days_left(app, rep, client_as):
    cid = sf.customer(app, rep, "合同客户有限公司")
    soon = contract(app, rep, cid, "active", 20, "HT-TEST-0001")
    contract(app, rep, cid, "active", 45, "HT-TEST-0002")
    contract(app, rep, cid, "pending", 10, "HT-TEST-0003")
    contract(app, rep, cid, "expired", -2, "HT-TEST-0004")
    d, _c = build(app, rep)
    assert [(c.id, days) for c, days in d.contracts_expiring] == [(soon, 20)]
    page = client_as(rep).get(f"/w/{rep.slug}/sales/").get_data(as_text=True)
    assert "HT-TEST-0001" in page and "HT-TEST-0002" not in page and "20 days left" in page
    assert f'href="/w/{rep.slug}/sales/contracts/{soon}"' in page


def test_an_empty_workspace_shows_what_to_do(app, rep, client_as):
    page = client_as(rep).get(f"/w/{rep.slug}/sales/").get_data(as_text=True)
    assert "No open opportunities" in page and "/sales/pipeline/opportunities/new" in page
    assert "Nothing expected to close soon" in page
    assert "No active contract ends in the next 30 days" in page
    assert "No follow-ups yet" in page
    assert set(_charts(page)) == {"followups"}  # the week's (empty) bars; the rest are empty states


def _grow(app, tenant, n):
    """n more of everything the dashboard counts, for the rep and the manager."""
    for who in (tenant["sales"], tenant["sales_manager"]):
        cid = sf.customer(app, who, f"增长客户{who.id}-{n}有限公司")
        with in_tenant(app, who.tenant_id, who.user_id):
            actor = factories.member_row(who)
            st = _stage("方案报价")
            for i in range(n):
                pipeline.create_opportunity(actor, pipeline.OpportunityInput(
                    {"customer_id": cid, "title": f"机会{i}", "amount": f"{100 + i}.10",
                     "expected_close": utcnow().date() + timedelta(days=i * 9)}, stage_id=st.id))  # fmt: skip
                activities.log_followup(actor, db.session.get(Customer, cid), {"kind": "call", "summary": f"跟进{i}"})
                activities.create_task(actor, {"title": f"任务{i}", "customer_id": cid if i % 2 else None,
                                               "due_on": activities.today() - timedelta(days=i % 3)})  # fmt: skip
                db.session.add(Contract(number=f"HT-{who.id}-{n}-{i}", title="合同", customer_id=cid,
                                        owner_id=who.id, status="active", amount=Decimal("10.00"),
                                        ends_on=utcnow().date() + timedelta(days=1 + i % 25)))  # fmt: skip
            db.session.commit()


@pytest.mark.parametrize("role,scope", [("owner", "team"), ("sales_manager", "team"), ("sales_manager", "me"),
                                        ("sales", "me")])  # fmt: skip
def test_the_dashboard_costs_the_same_statements_with_1_or_20_of_everything(
    app, tenant_a, client_as, count_queries, role, scope
):
    url = f"/w/{tenant_a.slug}/sales/?scope={scope}"
    client = client_as(tenant_a[role])
    _grow(app, tenant_a, 1)
    assert client.get(url).status_code == 200  # warm caches
    with count_queries() as small:
        assert client.get(url).status_code == 200
    _grow(app, tenant_a, 20)
    with count_queries() as large:
        page = client.get(url)
        assert page.status_code == 200
    assert small.count == large.count, "\n".join(large.statements)
    assert large.count <= 25
    assert all(_charts(page.get_data(as_text=True)).values())
