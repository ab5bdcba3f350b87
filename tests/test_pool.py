"""The public pool (公海): claim limits and caps, atomic claims, release with a reason,
assignment within the team, the nightly rules and their preview, the job and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.db import db, utcnow
from crm.notifications.models import Notification
from crm.sales import pool
from crm.sales.models import Customer, PoolEvent
from crm.sales.services import InvalidInput
from roles.checks import PermissionDenied
from tests import sales_factories as sf
from tests.helpers import bearer, in_tenant, post


def _claim(app, member, cid):
    with in_tenant(app, member.tenant_id, member.user_id):
        pool.claim(sf.actor(member), db.session.get(Customer, cid))
        db.session.commit()


def _owner(app, tenant, cid):
    with in_tenant(app, tenant.id):
        return db.session.get(Customer, cid).owner_id


def test_a_rep_claims_a_pool_customer_and_becomes_its_owner(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    cid = sf.customer(app, tenant_a["owner"], "公海客户甲有限公司", owner_id=None)
    r = post(client_as(rep), f"/w/{tenant_a.slug}/sales/pool/{cid}/claim")
    assert r.status_code == 302
    assert _owner(app, tenant_a, cid) == rep.id
    with in_tenant(app, tenant_a.id):
        assert db.session.scalar(select(PoolEvent.action).where(PoolEvent.customer_id == cid)) == "claim"


def test_claims_stop_at_the_daily_limit_and_change_nothing(app, tenant_a):
    rep = tenant_a["sales"]
    with in_tenant(app, tenant_a.id):
        from tenants.models import Tenant

        t = db.session.get(Tenant, tenant_a.id)
        t.settings = {"pool": {**pool.DEFAULT_RULES, "claim_limit": {"sales": 2}}}
        db.session.commit()
    ids = [sf.customer(app, tenant_a["owner"], f"限额客户{i}有限公司", owner_id=None) for i in range(3)]
    _claim(app, rep, ids[0])
    _claim(app, rep, ids[1])
    with pytest.raises(InvalidInput) as err:
        _claim(app, rep, ids[2])
    assert "limit" in err.value.errors["customer"] or "上限" in err.value.errors["customer"]
    assert _owner(app, tenant_a, ids[2]) is None


def test_a_rep_at_the_ownership_cap_cannot_claim(app, tenant_a):
    rep = tenant_a["sales"]
    with in_tenant(app, tenant_a.id):
        from tenants.models import Tenant

        t = db.session.get(Tenant, tenant_a.id)
        t.settings = {"pool": {**pool.DEFAULT_RULES, "max_owned": {"sales": 1}}}
        db.session.commit()
    sf.customer(app, rep, "已拥有客户有限公司")
    cid = sf.customer(app, tenant_a["owner"], "超额客户有限公司", owner_id=None)
    with pytest.raises(InvalidInput):
        _claim(app, rep, cid)
    assert _owner(app, tenant_a, cid) is None


def test_a_customer_already_claimed_cannot_be_claimed_again(app, tenant_a):
    cid = sf.customer(app, tenant_a["owner"], "抢单客户有限公司", owner_id=None)
    _claim(app, tenant_a["sales"], cid)
    with pytest.raises(InvalidInput):
        _claim(app, tenant_a["sales_manager"], cid)
    assert _owner(app, tenant_a, cid) == tenant_a["sales"].id


def test_release_needs_a_reason_and_puts_the_customer_back(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "释放客户有限公司")
    c = client_as(rep)
    r = post(c, f"/w/{tenant_a.slug}/sales/pool/{cid}/release", {"reason": ""})
    assert r.status_code == 400 and _owner(app, tenant_a, cid) == rep.id
    r = post(c, f"/w/{tenant_a.slug}/sales/pool/{cid}/release", {"reason": "今年没有预算"})
    assert r.status_code == 302 and _owner(app, tenant_a, cid) is None
    with in_tenant(app, tenant_a.id):
        ev = db.session.scalars(select(PoolEvent).where(PoolEvent.customer_id == cid)).one()
        assert (ev.action, ev.reason, ev.member_id) == ("release", "今年没有预算", rep.id)


def test_a_member_who_neither_owns_nor_manages_a_customer_cannot_release_it(app, tenant_a):
    cid = sf.customer(app, tenant_a["sales"], "别人的客户有限公司")
    with in_tenant(app, tenant_a.id, tenant_a["owner"].user_id):
        c = db.session.get(Customer, cid)
        with pytest.raises(PermissionDenied):
            pool.release(sf.actor(tenant_a["finance"]), c, "no")
    assert _owner(app, tenant_a, cid) == tenant_a["sales"].id


def test_a_manager_assigns_within_the_team_but_not_outside_it(app, tenant_a, client_as):
    manager = tenant_a["sales_manager"]
    cid = sf.customer(app, tenant_a["owner"], "分配客户有限公司", owner_id=None)
    c = client_as(manager)
    r = post(c, f"/w/{tenant_a.slug}/sales/pool/{cid}/assign", {"member_id": str(tenant_a["finance"].id)})
    assert r.status_code == 400 and _owner(app, tenant_a, cid) is None
    r = post(c, f"/w/{tenant_a.slug}/sales/pool/{cid}/assign", {"member_id": str(tenant_a["sales"].id)})
    assert r.status_code == 302 and _owner(app, tenant_a, cid) == tenant_a["sales"].id


def test_a_rep_cannot_assign(app, tenant_a, client_as):
    cid = sf.customer(app, tenant_a["owner"], "不能分配客户有限公司", owner_id=None)
    r = post(
        client_as(tenant_a["sales"]),
        f"/w/{tenant_a.slug}/sales/pool/{cid}/assign",
        {"member_id": str(tenant_a["sales"].id)},
    )
    assert r.status_code == 403


def test_the_nightly_rules_return_idle_customers_warn_soon_idle_ones_and_spare_locked_ones(app, tenant_a):
    rep = tenant_a["sales"]
    idle = sf.customer(app, rep, "闲置客户有限公司")
    soon = sf.customer(app, rep, "快到期客户有限公司")
    fresh = sf.customer(app, rep, "活跃客户有限公司")
    locked = sf.customer(app, rep, "锁定客户有限公司", locked=True)
    now = utcnow()
    sf.set_fields(app, tenant_a.id, idle, last_followup_at=now - timedelta(days=31))
    sf.set_fields(app, tenant_a.id, soon, last_followup_at=now - timedelta(days=28))
    sf.set_fields(app, tenant_a.id, fresh, last_followup_at=now - timedelta(days=2))
    sf.set_fields(app, tenant_a.id, locked, last_followup_at=now - timedelta(days=300))
    with in_tenant(app, tenant_a.id):
        preview = {d.customer.id: d.warn for d in pool.due_for_return(now)}
        assert preview == {idle: False, soon: True}
        assert pool.apply_rules(now) == {"returned": 1, "warned": 1}
        db.session.commit()
        # A second run the same day warns nobody twice.
        assert pool.apply_rules(now) == {"returned": 0, "warned": 0}
        db.session.commit()
        owners = {c.id: c.owner_id for c in db.session.scalars(select(Customer))}
        assert owners[idle] is None and owners[soon] == rep.id and owners[fresh] == rep.id and owners[locked] == rep.id
        notes = db.session.scalar(select(func.count(Notification.id)).where(Notification.recipient_id == rep.id))
        assert notes == 2


def test_the_pool_rules_job_runs_for_the_workspace_and_says_what_it_did(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    idle = sf.customer(app, rep, "任务闲置客户有限公司")
    sf.set_fields(app, tenant_a.id, idle, last_followup_at=utcnow() - timedelta(days=45))
    c = client_as(tenant_a["admin"])
    r = post(c, f"/w/{tenant_a.slug}/sales/pool/run")
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-status="finished"' in page and "1" in page
    assert _owner(app, tenant_a, idle) is None


def test_rules_are_saved_by_admins_and_bad_values_change_nothing(app, tenant_a, client_as):
    admin = client_as(tenant_a["admin"])
    url = f"/w/{tenant_a.slug}/sales/pool/rules"
    r = post(
        admin, url, {"return_after_idle_days": "5", "warn_days": "9", "claim_limit-sales": "4", "max_owned-sales": "50"}
    )
    assert r.status_code == 400
    with in_tenant(app, tenant_a.id):
        assert pool.pool_rules()["return_after_idle_days"] == 30
    r = post(
        admin,
        url,
        {"return_after_idle_days": "20", "warn_days": "2", "claim_limit-sales": "4", "max_owned-sales": "50"},
    )
    assert r.status_code == 302
    with in_tenant(app, tenant_a.id):
        rules = pool.pool_rules()
        assert rules["return_after_idle_days"] == 20 and rules["claim_limit"]["sales"] == 4
    assert client_as(tenant_a["sales_manager"]).get(url).status_code == 403


def test_the_pool_page_lists_only_ownerless_customers_and_offers_claim(app, tenant_a, client_as):
    sf.customer(app, tenant_a["owner"], "池中客户有限公司", owner_id=None)
    sf.customer(app, tenant_a["sales"], "有主客户有限公司")
    page = client_as(tenant_a["sales"]).get(f"/w/{tenant_a.slug}/sales/pool").get_data(as_text=True)
    assert "池中客户有限公司" in page and "有主客户有限公司" not in page


def test_api_claim_release_assign_and_preview(app, tenant_a, token_for):
    cid = sf.customer(app, tenant_a["owner"], "接口公海客户有限公司", owner_id=None)
    client = app.test_client()
    rep_h, mgr_h = bearer(token_for(tenant_a["sales"])), bearer(token_for(tenant_a["sales_manager"]))
    r = client.post(f"/api/v1/customers/{cid}/claim", headers=rep_h)
    assert r.status_code == 200 and r.json["owner_id"] == tenant_a["sales"].id
    r = client.post(f"/api/v1/customers/{cid}/claim", headers=mgr_h)
    assert r.status_code == 422
    r = client.post(f"/api/v1/customers/{cid}/release", headers=rep_h, json={})
    assert r.status_code == 422 and "reason" in r.json["errors"]["json"]
    r = client.post(f"/api/v1/customers/{cid}/release", headers=rep_h, json={"reason": "换人跟进"})
    assert r.status_code == 200 and r.json["owner_id"] is None
    r = client.post(f"/api/v1/customers/{cid}/assign", headers=rep_h, json={"member_id": tenant_a["sales"].id})
    assert r.status_code == 403
    r = client.post(f"/api/v1/customers/{cid}/assign", headers=mgr_h, json={"member_id": tenant_a["sales"].id})
    assert r.status_code == 200 and r.json["owner_id"] == tenant_a["sales"].id
    r = client.get("/api/v1/customers/pool-due", headers=mgr_h)
    assert r.status_code == 200 and r.json == []


# --- the "M days without a won deal" rule -------------------------------------------------


def _set_rules(app, tenant, **values):
    with in_tenant(app, tenant.id):
        from tenants.models import Tenant

        t = db.session.get(Tenant, tenant.id)
        t.settings = {**(t.settings or {}), "pool": {**pool.DEFAULT_RULES, **values}}
        db.session.commit()


def _win(app, member, cid, closed_at):
    """A won opportunity of customer `cid`, closed at `closed_at`."""
    from crm.pipeline import services as pipeline
    from crm.pipeline.models import Stage

    with in_tenant(app, member.tenant_id, member.user_id):
        actor = sf.actor(member)
        pipeline.ensure_default_pipeline(actor)
        won = db.session.scalars(select(Stage).where(Stage.kind == "won")).first()
        opp = pipeline.create_opportunity(
            actor, pipeline.OpportunityInput(values={"customer_id": cid, "title": "赢单", "amount": "1000.00"},
                                             stage_id=won.id)
        )  # fmt: skip
        opp.closed_at = closed_at
        db.session.commit()


def test_no_win_rule_returns_customers_without_a_recent_won_deal_and_spares_locked_ones(app, tenant_a):
    rep = tenant_a["sales"]
    _set_rules(app, tenant_a, return_after_idle_days=0, return_after_no_win_days=90, warn_days=5)
    now = utcnow()
    never_won = sf.customer(app, rep, "从未赢单客户有限公司")
    old_win = sf.customer(app, rep, "早年赢单客户有限公司")
    recent_win = sf.customer(app, rep, "近期赢单客户有限公司")
    soon = sf.customer(app, rep, "即将到期赢单客户有限公司")
    new_owner = sf.customer(app, rep, "新认领客户有限公司")
    locked = sf.customer(app, rep, "锁定无赢单客户有限公司", locked=True)
    for cid in (never_won, old_win, recent_win, soon, locked):
        # Busy with follow-ups: only the no-win clock can send these back.
        sf.set_fields(app, tenant_a.id, cid, owned_since=now - timedelta(days=400), last_followup_at=now)
    sf.set_fields(app, tenant_a.id, new_owner, owned_since=now - timedelta(days=10))
    _win(app, rep, old_win, now - timedelta(days=200))
    _win(app, rep, recent_win, now - timedelta(days=30))
    _win(app, rep, soon, now - timedelta(days=87))
    with in_tenant(app, tenant_a.id):
        preview = {d.customer.id: (d.warn, d.rule) for d in pool.due_for_return(now)}
        assert preview == {never_won: (False, "no_win"), old_win: (False, "no_win"), soon: (True, "no_win")}
        due_soon = next(d for d in pool.due_for_return(now) if d.customer.id == soon)
        assert abs(due_soon.returns_on - (now + timedelta(days=3))) < timedelta(seconds=5)
        assert pool.apply_rules(now) == {"returned": 2, "warned": 1}
        db.session.commit()
        owners = {c.id: c.owner_id for c in db.session.scalars(select(Customer))}
        assert owners[never_won] is None and owners[old_win] is None
        assert all(owners[c] == rep.id for c in (recent_win, soon, new_owner, locked))
        reasons = set(db.session.scalars(select(PoolEvent.reason).where(PoolEvent.action == "return")))
        assert reasons == {"no_win"}
        titles = list(db.session.scalars(select(Notification.title).where(Notification.recipient_id == rep.id)))
        assert len(titles) == 3 and all("90" in t for t in titles)


def test_a_customer_goes_back_when_either_clock_runs_out_and_the_first_one_is_named(app, tenant_a):
    rep = tenant_a["sales"]
    _set_rules(app, tenant_a, return_after_idle_days=30, return_after_no_win_days=60, warn_days=3)
    now = utcnow()
    busy_no_win = sf.customer(app, rep, "勤跟进无赢单客户有限公司")
    idle_winner = sf.customer(app, rep, "有赢单但闲置客户有限公司")
    fine = sf.customer(app, rep, "一切正常客户有限公司")
    sf.set_fields(app, tenant_a.id, busy_no_win, owned_since=now - timedelta(days=61), last_followup_at=now)
    sf.set_fields(app, tenant_a.id, idle_winner, owned_since=now - timedelta(days=100),
                  last_followup_at=now - timedelta(days=31))  # fmt: skip
    sf.set_fields(app, tenant_a.id, fine, owned_since=now - timedelta(days=100), last_followup_at=now)
    _win(app, rep, idle_winner, now - timedelta(days=5))
    _win(app, rep, fine, now - timedelta(days=5))
    with in_tenant(app, tenant_a.id):
        preview = {d.customer.id: d.rule for d in pool.due_for_return(now)}
        assert preview == {busy_no_win: "no_win", idle_winner: "idle"}
        assert pool.apply_rules(now) == {"returned": 2, "warned": 0}
        db.session.commit()
        reasons = dict(db.session.execute(select(PoolEvent.customer_id, PoolEvent.reason)).all())
        assert reasons == {busy_no_win: "no_win", idle_winner: "idle"}
        titles = sorted(db.session.scalars(select(Notification.title).where(Notification.recipient_id == rep.id)))
        assert any("60" in t for t in titles) and any("30" in t for t in titles)


def test_the_no_win_rule_is_off_at_zero(app, tenant_a):
    rep = tenant_a["sales"]
    _set_rules(app, tenant_a, return_after_idle_days=0, return_after_no_win_days=0)
    cid = sf.customer(app, rep, "规则关闭客户有限公司")
    sf.set_fields(app, tenant_a.id, cid, owned_since=utcnow() - timedelta(days=999))
    with in_tenant(app, tenant_a.id):
        assert pool.due_for_return() == []
        assert pool.apply_rules() == {"returned": 0, "warned": 0}


def test_the_preview_names_the_rule_and_the_date(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    _set_rules(app, tenant_a, return_after_idle_days=0, return_after_no_win_days=30, warn_days=5)
    cid = sf.customer(app, rep, "预览无赢单客户有限公司")
    returns = utcnow() + timedelta(days=2)
    sf.set_fields(app, tenant_a.id, cid, owned_since=returns - timedelta(days=30))
    page = client_as(tenant_a["sales_manager"], **{"Accept-Language": "en"}).get(f"/w/{tenant_a.slug}/sales/pool")
    html = page.get_data(as_text=True)
    assert "预览无赢单客户有限公司" in html and 'data-testid="pool-due-rule"' in html
    assert "No won deal" in html
    assert f'datetime="{returns.date().isoformat()}"' in html


def test_the_no_win_rule_is_saved_from_the_form_and_bad_values_change_nothing(app, tenant_a, client_as):
    admin = client_as(tenant_a["admin"])
    url = f"/w/{tenant_a.slug}/sales/pool/rules"
    base = {"return_after_idle_days": "30", "warn_days": "3", "claim_limit-sales": "10", "max_owned-sales": "300"}
    assert 'name="return_after_no_win_days"' in admin.get(url).get_data(as_text=True)
    for bad in ("-1", "abc", "2"):  # negative, not a number, not after the 3-day warning
        r = post(admin, url, {**base, "return_after_no_win_days": bad})
        assert r.status_code == 400, bad
        with in_tenant(app, tenant_a.id):
            assert pool.pool_rules()["return_after_no_win_days"] == 0
    r = post(admin, url, {**base, "return_after_no_win_days": "90"})
    assert r.status_code == 302
    with in_tenant(app, tenant_a.id):
        assert pool.pool_rules()["return_after_no_win_days"] == 90
    # A form without the field keeps the saved value.
    assert post(admin, url, base).status_code == 302
    with in_tenant(app, tenant_a.id):
        assert pool.pool_rules()["return_after_no_win_days"] == 90
