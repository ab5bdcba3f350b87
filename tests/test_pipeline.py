"""Pipeline: the default pipeline, moves through the one service (form, kanban drop, API),
lost reasons, rot, the board's sums, the forecast, visibility."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.db import db, utcnow
from crm.pipeline import services
from crm.pipeline.models import LostReason, Opportunity, Pipeline, Stage, StageChange
from tests import factories
from tests import sales_factories as sf
from tests.helpers import bearer, in_tenant, post


def opp_url(member, *parts) -> str:
    return "/".join(str(p) for p in ("", "w", member.slug, "sales", "pipeline", *parts))


def make_opp(app, owner, title: str, customer_id: int, **values) -> int:
    with in_tenant(app, owner.tenant_id, owner.user_id):
        row = factories.member_row(owner)
        opp = factories.make_opportunity(row, customer_id, title, **values)
        db.session.commit()
        return opp.id


def customer(app, owner, name="华东机械有限公司") -> int:
    return sf.customer(app, owner, name)


def stages(app, tenant_id) -> dict[str, Stage]:
    with in_tenant(app, tenant_id):
        pipe = services.ensure_default_pipeline(None)
        db.session.commit()
        out = {s.name: s for s in pipe.stages}
        for s in out.values():
            db.session.expunge(s)
        return out


def reasons(app, tenant_id) -> list[int]:
    with in_tenant(app, tenant_id):
        return [r.id for r in services.lost_reasons()]


def opp_row(app, tenant_id, opp_id) -> Opportunity:
    with in_tenant(app, tenant_id):
        o = db.session.get(Opportunity, opp_id)
        assert o is not None
        db.session.expunge(o)
        return o


def audit(app, tenant_id, opp_id) -> list[AuditEntry]:
    with in_tenant(app, tenant_id):
        rows = list(
            db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.object_type == "Opportunity", AuditEntry.object_id == opp_id)
                .order_by(AuditEntry.id)
            )
        )
        for r in rows:
            db.session.expunge(r)
        return rows


@pytest.fixture
def rep(tenant_a):
    return tenant_a["sales"]


@pytest.fixture
def opp(app, rep):
    cid = customer(app, rep)
    return make_opp(app, rep, "数控机床采购", customer_id=cid, amount=Decimal("100000.00"))


def test_default_pipeline_is_created_once_with_chinese_stages(app, tenant_a):
    st = stages(app, tenant_a.id)
    assert [(n, s.probability, s.kind) for n, s in st.items()] == [
        ("初步接洽", 10, "open"),
        ("需求确认", 30, "open"),
        ("方案报价", 50, "open"),
        ("商务谈判", 70, "open"),
        ("赢单", 100, "won"),
        ("输单", 0, "lost"),
    ]
    stages(app, tenant_a.id)
    with in_tenant(app, tenant_a.id):
        assert len(list(db.session.scalars(select(Pipeline)))) == 1
        assert len(list(db.session.scalars(select(LostReason)))) == 5


def test_a_new_opportunity_starts_in_the_first_stage_with_its_probability(app, rep, opp):
    o = opp_row(app, rep.tenant_id, opp)
    assert o.probability == 10 and o.amount == Decimal("100000.00")
    assert o.weighted_amount == Decimal("10000.00")
    assert [e.action for e in audit(app, rep.tenant_id, opp)] == ["opportunity.created"]


def _form(o_customer, **values):
    base = {
        "customer_id": str(o_customer),
        "title": "数控机床采购",
        "amount": "100000.00",
        "expected_close": "",
        "stage_id": "",
        "lost_reason_id": "",
        "competitor": "",
        "owner_id": "",
        "next_step": "",
        "source": "",
    }
    base.update(values)
    return base


def test_moving_through_the_form_applies_probability_and_audits(app, rep, opp, client_as):
    st = stages(app, rep.tenant_id)
    o = opp_row(app, rep.tenant_id, opp)
    c = client_as(rep)
    r = post(c, opp_url(rep, "opportunities", opp, "edit"),
             _form(o.customer_id, stage_id=str(st["方案报价"].id), owner_id=str(rep.id)))  # fmt: skip
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    o = opp_row(app, rep.tenant_id, opp)
    assert o.stage_id == st["方案报价"].id and o.probability == 50
    moved = [e for e in audit(app, rep.tenant_id, opp) if e.action == "opportunity.stage_changed"]
    assert moved and moved[0].changes["probability"] == {"before": 10, "after": 50}


def test_losing_through_the_form_requires_a_reason_and_changes_nothing_without_it(app, rep, opp, client_as):
    st = stages(app, rep.tenant_id)
    o = opp_row(app, rep.tenant_id, opp)
    c = client_as(rep)
    r = post(c, opp_url(rep, "opportunities", opp, "edit"),
             _form(o.customer_id, title="改了标题", stage_id=str(st["输单"].id), owner_id=str(rep.id)))  # fmt: skip
    assert r.status_code == 400
    assert 'id="lost_reason_id-error"' in r.get_data(as_text=True)
    o = opp_row(app, rep.tenant_id, opp)
    assert o.stage_id == st["初步接洽"].id and o.title == "数控机床采购"
    assert [e.action for e in audit(app, rep.tenant_id, opp)] == ["opportunity.created"]


def test_the_kanban_drop_goes_through_the_same_service(app, rep, opp, client_as):
    st = stages(app, rep.tenant_id)
    c = client_as(rep, **{"HX-Request": "true"})
    r = post(c, opp_url(rep, "opportunities", opp, "move"), {"stage_id": str(st["商务谈判"].id)})
    assert r.status_code == 200
    assert 'id="board"' in r.get_data(as_text=True)
    o = opp_row(app, rep.tenant_id, opp)
    assert o.stage_id == st["商务谈判"].id and o.probability == 70
    assert [e.action for e in audit(app, rep.tenant_id, opp)][-1] == "opportunity.stage_changed"
    with in_tenant(app, rep.tenant_id):
        history = [h.to_stage_id for h in db.session.scalars(select(StageChange).order_by(StageChange.id))]
    assert history == [st["初步接洽"].id, st["商务谈判"].id]


def test_a_drop_on_lost_without_a_reason_is_refused_and_changes_nothing(app, rep, opp, client_as, raw_rows):
    st = stages(app, rep.tenant_id)
    before = raw_rows("opportunities")
    c = client_as(rep)
    r = post(c, opp_url(rep, "opportunities", opp, "move"), {"stage_id": str(st["输单"].id)})
    assert r.status_code == 422
    assert r.get_data(as_text=True).strip()  # the reason, shown by kanban.js
    assert raw_rows("opportunities") == before
    assert [e.action for e in audit(app, rep.tenant_id, opp)] == ["opportunity.created"]


def test_a_drop_on_lost_with_a_reason_and_competitor_closes_the_deal(app, rep, opp, client_as):
    st = stages(app, rep.tenant_id)
    reason = reasons(app, rep.tenant_id)[1]
    c = client_as(rep)
    r = post(c, opp_url(rep, "opportunities", opp, "move"),
             {"stage_id": str(st["输单"].id), "lost_reason_id": str(reason), "competitor": "某竞品公司"})  # fmt: skip
    assert r.status_code == 200
    o = opp_row(app, rep.tenant_id, opp)
    assert (o.stage_id, o.probability, o.lost_reason_id, o.competitor) == (st["输单"].id, 0, reason, "某竞品公司")
    assert o.closed_at is not None
    entry = audit(app, rep.tenant_id, opp)[-1]
    assert entry.changes["lost_reason"]["after"] == "选择了竞争对手"


def test_a_stage_of_another_pipeline_is_refused(app, rep, opp, client_as):
    with in_tenant(app, rep.tenant_id):
        other = Pipeline(name="项目型", position=1)
        other.stages = [Stage(name="立项", probability=20, position=0)]
        db.session.add(other)
        db.session.commit()
        foreign_stage = other.stages[0].id
    r = post(client_as(rep), opp_url(rep, "opportunities", opp, "move"), {"stage_id": str(foreign_stage)})
    assert r.status_code == 422


def test_a_card_past_its_stage_rot_days_is_marked(app, rep, client_as):
    cid = customer(app, rep)
    fresh = make_opp(app, rep, "新商机", customer_id=cid)
    stale = make_opp(app, rep, "老商机", customer_id=cid)
    with in_tenant(app, rep.tenant_id):
        db.session.get(Opportunity, stale).stage_entered_at = utcnow() - timedelta(days=20)  # first stage rots at 14
        db.session.commit()
        pipe_id = db.session.get(Opportunity, stale).pipeline_id
    page = client_as(rep).get(opp_url(rep, pipe_id)).get_data(as_text=True)
    card = re.search(rf'data-testid="card-{stale}".*?</article>', page, re.S).group(0)
    assert 'data-testid="rotting"' in card and "rotting" in card
    card = re.search(rf'data-testid="card-{fresh}".*?</article>', page, re.S).group(0)
    assert 'data-testid="rotting"' not in card


def _column(page: str, stage_id: int) -> dict[str, str]:
    col = re.search(rf'data-testid="stage-{stage_id}".*?</header>', page, re.S).group(0)
    return {k: re.search(rf'data-testid="{k}">([^<]*)<', col).group(1) for k in ("count", "total", "weighted")}


def test_the_board_shows_count_sum_and_weighted_sum_per_stage(app, rep, client_as):
    st = stages(app, rep.tenant_id)
    cid = customer(app, rep)
    make_opp(app, rep, "甲", customer_id=cid, amount=Decimal("1000.10"))
    make_opp(app, rep, "乙", customer_id=cid, amount=Decimal("2000.25"))
    moved = make_opp(app, rep, "丙", customer_id=cid, amount=Decimal("333.33"))
    with in_tenant(app, rep.tenant_id, rep.user_id):
        services.change_stage(factories.member_row(rep), db.session.get(Opportunity, moved), st["方案报价"].id)
        db.session.commit()
    page = client_as(rep).get(opp_url(rep, st["初步接洽"].pipeline_id)).get_data(as_text=True)
    assert _column(page, st["初步接洽"].id) == {"count": "2", "total": "¥3,000.35", "weighted": "¥300.04"}
    assert _column(page, st["方案报价"].id) == {"count": "1", "total": "¥333.33", "weighted": "¥166.67"}
    assert _column(page, st["赢单"].id) == {"count": "0", "total": "¥0.00", "weighted": "¥0.00"}


def test_the_board_costs_the_same_statements_with_5_or_40_opportunities(app, rep, client_as, count_queries):
    st = stages(app, rep.tenant_id)
    url = opp_url(rep, st["初步接洽"].pipeline_id)
    c = client_as(rep)
    customers = [customer(app, rep, f"客户{i}有限公司") for i in range(5)]

    def add(n):
        with in_tenant(app, rep.tenant_id, rep.user_id):
            row = factories.member_row(rep)
            for i in range(n):
                services.create_opportunity(row, services.OpportunityInput(
                    values={"customer_id": customers[i % 5], "title": f"商机{i}", "amount": Decimal(i)},
                    stage_id=list(st.values())[i % 4].id))  # fmt: skip
            db.session.commit()

    add(5)
    c.get(url)
    with count_queries() as few:
        assert c.get(url).status_code == 200
    add(35)
    with count_queries() as many:
        assert c.get(url).status_code == 200
    assert many.count == few.count


def test_forecast_by_month_and_by_rep_weights_open_deals(app, tenant_a, rep, client_as, token_for):
    mgr = tenant_a["sales_manager"]
    cid = customer(app, rep)
    st = stages(app, tenant_a.id)
    make_opp(app, rep, "一", customer_id=cid, amount=Decimal("1000"), expected_close=date(2027, 1, 15))
    make_opp(app, rep, "二", customer_id=cid, amount=Decimal("500"), expected_close=date(2027, 1, 30))
    make_opp(app, mgr, "三", customer_id=cid, amount=Decimal("2000"), expected_close=date(2027, 2, 1))
    won = make_opp(app, mgr, "四", customer_id=cid, amount=Decimal("9999"), expected_close=date(2027, 1, 2))
    with in_tenant(app, tenant_a.id, mgr.user_id):
        services.change_stage(factories.member_row(mgr), db.session.get(Opportunity, won), st["赢单"].id)
        db.session.commit()
    with in_tenant(app, tenant_a.id, mgr.user_id):
        by_month = services.forecast(factories.member_row(mgr), "month")
        by_rep = services.forecast(factories.member_row(mgr), "rep")
    assert [(r["key"], r["count"], r["amount"], r["weighted"]) for r in by_month] == [
        ("2027-01", 2, Decimal("1500.00"), Decimal("150.00")),
        ("2027-02", 1, Decimal("2000.00"), Decimal("200.00")),
    ]
    assert [(r["label"], r["weighted"]) for r in by_rep] == [("张伟", Decimal("200.00")), ("刘洋", Decimal("150.00"))]
    # the rep's own view holds only the rep's deals and those of customers the rep sees
    r = client_as(mgr).get(opp_url(mgr, "forecast"))
    assert r.status_code == 200 and "¥150.00" in r.get_data(as_text=True) and "data-chart" in r.get_data(as_text=True)
    api = client_as(mgr).get("/api/v1/forecast?by=rep", headers=bearer(token_for(mgr))).get_json()
    assert api[0]["weighted"] == "200.00"


def test_a_rep_sees_own_and_collaborating_opportunities_but_another_reps_is_404(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    other = sf.add_rep(app, tenant_a, "rep2", "孙丽")
    mine = make_opp(app, rep, "我的", customer_id=customer(app, rep, "我的客户有限公司"))
    theirs_cid = customer(app, other, "别人的客户有限公司")
    theirs = make_opp(app, other, "别人的", customer_id=theirs_cid)
    shared_cid = customer(app, other, "合作客户有限公司")
    shared = make_opp(app, other, "合作的", customer_id=shared_cid)
    sf.collaborate(app, other, shared_cid, rep, can_edit=False)
    c = client_as(rep)
    assert c.get(opp_url(rep, "opportunities", mine)).status_code == 200
    assert c.get(opp_url(rep, "opportunities", shared)).status_code == 200
    assert c.get(opp_url(rep, "opportunities", theirs)).status_code == 404
    assert post(c, opp_url(rep, "opportunities", theirs, "move"), {"stage_id": "1"}).status_code == 404
    with in_tenant(app, tenant_a.id):
        pipe_id = db.session.get(Opportunity, mine).pipeline_id
    board = c.get(opp_url(rep, pipe_id)).get_data(as_text=True)
    assert "我的" in board and "合作的" in board and "别人的" not in board


def test_the_customer_page_lists_its_opportunities(app, rep, opp, client_as):
    o = opp_row(app, rep.tenant_id, opp)
    page = client_as(rep).get(f"/w/{rep.slug}/sales/customers/{o.customer_id}").get_data(as_text=True)
    assert "数控机床采购" in page


def test_a_manager_adds_a_lost_reason_a_rep_may_not(app, tenant_a, client_as):
    mgr, rep = tenant_a["sales_manager"], tenant_a["sales"]
    assert post(client_as(mgr), opp_url(mgr, "lost-reasons"), {"name": "交期太长"}).status_code == 302
    assert post(client_as(mgr), opp_url(mgr, "lost-reasons"), {"name": "交期太长"}).status_code == 400
    assert post(client_as(rep), opp_url(rep, "lost-reasons"), {"name": "其它原因"}).status_code == 403
    with in_tenant(app, tenant_a.id):
        assert "交期太长" in [r.name for r in services.lost_reasons()]


def test_a_column_shows_n_cards_with_true_totals_and_load_more_returns_the_rest(app, rep, client_as, monkeypatch):
    monkeypatch.setattr(services, "BOARD_PAGE", 3)
    monkeypatch.setattr(services.board, "__defaults__", (3,))
    monkeypatch.setattr(services.more_cards, "__defaults__", (3,))
    st = stages(app, rep.tenant_id)
    first = st["初步接洽"]
    cid = customer(app, rep)
    today = date.today()
    # 7 cards: 5 dated (two on the same day: the keyset's id breaks the tie), 2 undated (last)
    closes = [today + timedelta(days=d) for d in (5, 1, 3, 3, 9)] + [None, None]
    amounts = [Decimal("100.05"), Decimal("200.15"), Decimal("0.05"), Decimal("333.33"), Decimal("10"),
               Decimal("1.25"), Decimal("99.99")]  # fmt: skip
    ids = [make_opp(app, rep, f"商机{i}", customer_id=cid, amount=a, expected_close=c)
           for i, (a, c) in enumerate(zip(amounts, closes, strict=True))]  # fmt: skip
    order = [ids[i] for i in (1, 2, 3, 0, 4, 5, 6)]  # nearest close first, then id; undated last
    weighted = sum((a * 10 / 100).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP") for a in amounts)
    c = client_as(rep)
    page = c.get(opp_url(rep, first.pipeline_id)).get_data(as_text=True)
    col = _column(page, first.id)
    assert col["count"] == "7"
    assert col["total"] == "¥" + format(sum(amounts), ",.2f")
    assert col["weighted"] == "¥" + format(weighted, ",.2f")
    shown = [int(x) for x in re.findall(r'data-testid="card-(\d+)"', page)]
    assert shown == order[:3]
    more = re.search(rf'data-testid="load-more-{first.id}"\s+hx-get="([^"]+)"', page)
    assert more, "a column with more than N cards offers Load more"
    seen = list(shown)
    url = more.group(1).replace("&amp;", "&")
    for _ in range(5):
        part = c.get(url)
        assert part.status_code == 200
        html = part.get_data(as_text=True)
        seen += [int(x) for x in re.findall(r'data-testid="card-(\d+)"', html)]
        nxt = re.search(r'hx-get="([^"]+)"', html)
        if not nxt:
            break
        url = nxt.group(1).replace("&amp;", "&")
    assert seen == order


def test_the_board_and_load_more_keep_to_the_members_scope(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    other = sf.add_rep(app, tenant_a, "rep2", "孙丽")
    mine = make_opp(app, rep, "我的", customer_id=customer(app, rep, "我的客户有限公司"), amount=Decimal("10"))
    theirs_cid = customer(app, other, "别人的客户有限公司")
    theirs = make_opp(app, other, "别人的", customer_id=theirs_cid, amount=Decimal("500"))
    shared_cid = customer(app, other, "合作客户有限公司")
    shared = make_opp(app, other, "合作的", customer_id=shared_cid, amount=Decimal("1"))
    sf.collaborate(app, other, shared_cid, rep, can_edit=False)
    first = stages(app, rep.tenant_id)["初步接洽"]
    c = client_as(rep)
    page = c.get(opp_url(rep, first.pipeline_id)).get_data(as_text=True)
    assert _column(page, first.id) == {"count": "2", "total": "¥11.00", "weighted": "¥1.10"}
    part = c.get(opp_url(rep, first.pipeline_id, "stages", first.id, "cards")).get_data(as_text=True)
    for html in (page, part):
        assert f'card-{mine}"' in html and f'card-{shared}"' in html and f'card-{theirs}"' not in html
