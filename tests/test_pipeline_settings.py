"""Pipeline settings: pipelines and their stages (the shape every pipeline keeps: open stages
first, exactly one won and at least one lost stage at the end), through the pages and the API;
who may change them; audit entries."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.db import db
from crm.pipeline import services
from crm.pipeline.models import Opportunity, Pipeline, Stage, StageChange
from tests import factories
from tests import sales_factories as sf
from tests.helpers import bearer, in_tenant, post


def add_pipeline_objects(app, world) -> None:
    """world.stage_id[key]: the first stage of each workspace's default pipeline (it holds the rep's opportunity)."""
    world.stage_id = {}
    with app.app_context():
        for key, t in world.tenants.items():
            with in_tenant(app, t.id):
                world.stage_id[key] = db.session.scalars(
                    select(Stage.id).where(Stage.pipeline_id == world.pipeline_id[key]).order_by(Stage.position)
                ).first()


def base(member) -> str:
    return f"/w/{member.slug}/sales/pipeline/settings"


def layout(app, tenant_id, pipeline_id) -> list[tuple[str, str, int, int | None]]:
    with in_tenant(app, tenant_id):
        return [
            (s.name, s.kind, s.probability, s.rot_days)
            for s in db.session.scalars(
                select(Stage).where(Stage.pipeline_id == pipeline_id).order_by(Stage.position, Stage.id)
            )
        ]


def stage_ids(app, tenant_id, pipeline_id) -> dict[str, int]:
    with in_tenant(app, tenant_id):
        return {
            s.name: s.id
            for s in db.session.scalars(select(Stage).where(Stage.pipeline_id == pipeline_id).order_by(Stage.position))
        }


def actions(app, tenant_id, prefix: str = "pipeline.") -> list[str]:
    with in_tenant(app, tenant_id):
        return [
            a for a in db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)) if a.startswith(prefix)
        ]


@pytest.fixture
def mgr(tenant_a):
    return tenant_a["sales_manager"]


@pytest.fixture
def pipe_id(app, mgr):
    with in_tenant(app, mgr.tenant_id, mgr.user_id):
        pid = services.ensure_default_pipeline(None).id
        db.session.commit()
    return pid


@pytest.fixture
def deal(app, tenant_a, pipe_id):
    """The rep's opportunity, in the first stage of the default pipeline."""
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "华东机械有限公司")
    with in_tenant(app, rep.tenant_id, rep.user_id):
        opp = factories.make_opportunity(factories.member_row(rep), cid, "数控机床采购")
        db.session.commit()
        return opp.id


DEFAULT = [
    ("初步接洽", "open", 10, 14),
    ("需求确认", "open", 30, 21),
    ("方案报价", "open", 50, 21),
    ("商务谈判", "open", 70, 30),
    ("赢单", "won", 100, None),
    ("输单", "lost", 0, None),
]


# ---------------------------------------------------------------- the rules, through the pages


def test_an_open_stage_is_added_before_the_final_stages_and_a_lost_one_at_the_end(app, mgr, pipe_id, client_as):
    c = client_as(mgr)
    url = f"{base(mgr)}/{pipe_id}/stages"
    r = post(c, url, {"name": "试用", "probability": "60", "rot_days": "", "kind": "open"})
    assert r.status_code == 302
    r = post(c, url, {"name": "无响应", "probability": "", "rot_days": "", "kind": "lost"})
    assert r.status_code == 302
    assert layout(app, mgr.tenant_id, pipe_id) == [
        *DEFAULT[:4],
        ("试用", "open", 60, None),  # blank rot days: never rots
        ("赢单", "won", 100, None),
        ("输单", "lost", 0, None),
        ("无响应", "lost", 0, None),  # a lost stage is at 0%
    ]
    assert actions(app, mgr.tenant_id)[-2:] == ["pipeline.stage_created", "pipeline.stage_created"]


def test_a_second_won_stage_is_refused_and_changes_nothing(app, mgr, pipe_id, client_as):
    c = client_as(mgr)
    before = layout(app, mgr.tenant_id, pipe_id)
    r = post(c, f"{base(mgr)}/{pipe_id}/stages", {"name": "又赢了", "kind": "won"})
    assert r.status_code == 400
    assert "exactly one won stage" in r.get_data(as_text=True)
    ids = stage_ids(app, mgr.tenant_id, pipe_id)
    r = post(c, f"{base(mgr)}/{pipe_id}/stages/{ids['商务谈判']}",
             {"name": "商务谈判", "probability": "70", "rot_days": "30", "kind": "won"})  # fmt: skip
    assert r.status_code == 400 and "exactly one won stage" in r.get_data(as_text=True)
    r = post(c, f"{base(mgr)}/{pipe_id}/stages/{ids['赢单']}", {"name": "赢单", "rot_days": "", "kind": "open"})
    assert r.status_code == 400
    assert layout(app, mgr.tenant_id, pipe_id) == before
    assert "pipeline.stage_updated" not in actions(app, mgr.tenant_id)


def test_the_only_lost_stage_and_the_won_stage_cannot_be_deleted(app, mgr, pipe_id, client_as):
    c = client_as(mgr)
    ids = stage_ids(app, mgr.tenant_id, pipe_id)
    r = post(c, f"{base(mgr)}/{pipe_id}/stages/{ids['输单']}/delete")
    assert r.status_code == 400 and "at least one lost stage" in r.get_data(as_text=True)
    r = post(c, f"{base(mgr)}/{pipe_id}/stages/{ids['赢单']}/delete")
    assert r.status_code == 400 and "exactly one won stage" in r.get_data(as_text=True)
    assert layout(app, mgr.tenant_id, pipe_id) == DEFAULT


def test_final_stages_stay_after_the_open_ones_when_reordering(app, mgr, pipe_id, client_as):
    ids = stage_ids(app, mgr.tenant_id, pipe_id)
    c = client_as(mgr)
    order = [ids[n] for n in ("初步接洽", "需求确认", "赢单", "方案报价", "商务谈判", "输单")]
    r = post(c, f"{base(mgr)}/{pipe_id}/stages/order", {"stage_ids": ",".join(map(str, order))})
    assert r.status_code == 400
    assert "after every open stage" in r.get_data(as_text=True)
    # the "down" button on the last open stage would put it after the won stage: refused too
    r = post(c, f"{base(mgr)}/{pipe_id}/stages/{ids['商务谈判']}/move", {"direction": "down"})
    assert r.status_code == 400
    assert layout(app, mgr.tenant_id, pipe_id) == DEFAULT
    assert "pipeline.stages_reordered" not in actions(app, mgr.tenant_id)


def test_stages_reorder_by_drag_and_by_the_up_button(app, mgr, pipe_id, client_as):
    ids = stage_ids(app, mgr.tenant_id, pipe_id)
    c = client_as(mgr, **{"HX-Request": "true", "HX-Target": "stages"})
    order = [ids[n] for n in ("需求确认", "初步接洽", "方案报价", "商务谈判", "输单", "赢单")]
    r = post(c, f"{base(mgr)}/{pipe_id}/stages/order", {"stage_ids": ",".join(map(str, order))})
    assert r.status_code == 200 and 'id="stages"' in r.get_data(as_text=True)  # the fragment, for htmx
    assert [n for n, *_rest in layout(app, mgr.tenant_id, pipe_id)] == ["需求确认", "初步接洽", "方案报价", "商务谈判",
                                                                       "输单", "赢单"]  # fmt: skip
    r = post(client_as(mgr), f"{base(mgr)}/{pipe_id}/stages/{ids['初步接洽']}/move", {"direction": "up"})
    assert r.status_code == 302
    assert [n for n, *_rest in layout(app, mgr.tenant_id, pipe_id)][:2] == ["初步接洽", "需求确认"]
    with in_tenant(app, mgr.tenant_id):
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "pipeline.stages_reordered").order_by(AuditEntry.id)
        ).first()
        assert entry.changes["order"]["before"] == [n for n, *_r in DEFAULT]


def test_a_refused_drag_answers_the_list_in_its_saved_order_with_the_reason(app, mgr, pipe_id, client_as):
    ids = stage_ids(app, mgr.tenant_id, pipe_id)
    c = client_as(mgr, **{"HX-Request": "true", "HX-Target": "stages"})
    order = [ids[n] for n in ("赢单", "初步接洽", "需求确认", "方案报价", "商务谈判", "输单")]
    r = post(c, f"{base(mgr)}/{pipe_id}/stages/order", {"stage_ids": ",".join(map(str, order))})
    assert r.status_code == 200  # htmx swaps only a 2xx answer
    page = r.get_data(as_text=True)
    assert 'data-testid="stages-error"' in page and "after every open stage" in page
    assert page.index("初步接洽") < page.index("赢单")
    assert layout(app, mgr.tenant_id, pipe_id) == DEFAULT


def test_stage_edit_renames_reweighs_and_sets_rot_days(app, mgr, pipe_id, client_as):
    ids = stage_ids(app, mgr.tenant_id, pipe_id)
    c = client_as(mgr)
    url = f"{base(mgr)}/{pipe_id}/stages/{ids['需求确认']}"
    assert post(c, url, {"name": "需求分析", "probability": "35", "rot_days": "", "kind": "open"}).status_code == 302
    assert layout(app, mgr.tenant_id, pipe_id)[1] == ("需求分析", "open", 35, None)
    for bad, field in (({"probability": "101"}, "probability"), ({"rot_days": "0"}, "rot_days"), ({"name": ""}, "name"),
                       ({"name": "赢单"}, "name")):  # fmt: skip
        body = {"name": "需求分析", "probability": "35", "rot_days": "", "kind": "open", **bad}
        r = post(c, url, body)
        assert r.status_code == 400, bad
        assert f'id="stage-{ids["需求确认"]}-{field}"' in r.get_data(as_text=True)
        assert "is-invalid" in r.get_data(as_text=True)
    assert layout(app, mgr.tenant_id, pipe_id)[1] == ("需求分析", "open", 35, None)
    with in_tenant(app, mgr.tenant_id):
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "pipeline.stage_updated")).one()
        assert entry.changes["name"] == {"before": "需求确认", "after": "需求分析"}
        assert entry.changes["rot_days"] == {"before": 21, "after": None}


def test_an_empty_open_stage_becomes_lost_and_moves_to_the_end_at_0_percent(app, mgr, pipe_id, client_as):
    ids = stage_ids(app, mgr.tenant_id, pipe_id)
    url = f"{base(mgr)}/{pipe_id}/stages/{ids['需求确认']}"
    r = post(client_as(mgr), url, {"name": "客户放弃", "probability": "30", "rot_days": "", "kind": "lost"})
    assert r.status_code == 302
    assert layout(app, mgr.tenant_id, pipe_id)[-1] == ("客户放弃", "lost", 0, None)


def test_a_stage_holding_opportunities_keeps_its_kind(app, mgr, pipe_id, deal, client_as):
    ids = stage_ids(app, mgr.tenant_id, pipe_id)
    url = f"{base(mgr)}/{pipe_id}/stages/{ids['初步接洽']}"
    r = post(client_as(mgr), url, {"name": "初步接洽", "probability": "10", "rot_days": "14", "kind": "lost"})
    assert r.status_code == 400 and "move them before changing its kind" in r.get_data(as_text=True)
    assert layout(app, mgr.tenant_id, pipe_id) == DEFAULT


def test_a_stage_with_opportunities_is_deleted_only_after_moving_them(app, mgr, pipe_id, deal, client_as, raw_rows):
    ids = stage_ids(app, mgr.tenant_id, pipe_id)
    c = client_as(mgr)
    url = f"{base(mgr)}/{pipe_id}/stages/{ids['初步接洽']}/delete"
    before = raw_rows("pipeline_stages"), raw_rows("opportunities")
    r = post(c, url)
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and 'data-testid="delete-error"' in page and "choose another open stage" in page
    assert f'id="stage-{ids["初步接洽"]}-move_to"' in page  # the offer: where to move them
    assert post(c, url, {"move_to": str(ids["赢单"])}).status_code == 400  # not the same kind
    assert (raw_rows("pipeline_stages"), raw_rows("opportunities")) == before
    r = post(c, url, {"move_to": str(ids["需求确认"])})
    assert r.status_code == 302
    assert [n for n, *_r in layout(app, mgr.tenant_id, pipe_id)] == ["需求确认", "方案报价", "商务谈判", "赢单", "输单"]
    with in_tenant(app, mgr.tenant_id):
        o = db.session.get(Opportunity, deal)
        assert (o.stage_id, o.probability) == (ids["需求确认"], 30)
        assert (
            db.session.scalars(select(StageChange.to_stage_id).order_by(StageChange.id.desc())).first()
            == ids["需求确认"]
        )
        opp_actions = [
            a for a in db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "Opportunity"))
        ]
    assert opp_actions[-1] == "opportunity.stage_changed"
    assert actions(app, mgr.tenant_id)[-1] == "pipeline.stage_deleted"


def test_an_empty_stage_is_deleted_at_once(app, mgr, pipe_id, client_as):
    ids = stage_ids(app, mgr.tenant_id, pipe_id)
    assert post(client_as(mgr), f"{base(mgr)}/{pipe_id}/stages/{ids['方案报价']}/delete").status_code == 302
    assert "方案报价" not in stage_ids(app, mgr.tenant_id, pipe_id)
    assert [p for _n, _k, p, _r in layout(app, mgr.tenant_id, pipe_id)] == [10, 30, 70, 100, 0]


# ---------------------------------------------------------------- pipelines


def test_pipelines_are_created_renamed_made_default_and_deleted_when_empty(app, mgr, pipe_id, deal, client_as):
    c = client_as(mgr)
    r = post(c, base(mgr), {"name": "项目型销售"})
    assert r.status_code == 302
    with in_tenant(app, mgr.tenant_id):
        new_id = db.session.scalars(select(Pipeline.id).where(Pipeline.name == "项目型销售")).one()
    assert [k for _n, k, *_r in layout(app, mgr.tenant_id, new_id)] == ["open", "won", "lost"]
    assert post(c, base(mgr), {"name": "项目型销售"}).status_code == 400  # names are unique
    assert post(c, f"{base(mgr)}/{new_id}", {"name": "大项目"}).status_code == 302
    assert post(c, f"{base(mgr)}/{new_id}/default").status_code == 302
    with in_tenant(app, mgr.tenant_id):
        defaults = list(db.session.scalars(select(Pipeline.name).where(Pipeline.is_default.is_(True))))
    assert defaults == ["大项目"]
    # new opportunities go to the default pipeline
    with in_tenant(app, mgr.tenant_id, mgr.user_id):
        assert services.ensure_default_pipeline(None).id == new_id
    # the old pipeline holds the rep's deal: it stays
    r = post(c, f"{base(mgr)}/{pipe_id}/delete")
    assert r.status_code == 400 and 'data-testid="settings-error"' in r.get_data(as_text=True)
    # the empty default goes, and the other takes over as default
    assert post(c, f"{base(mgr)}/{new_id}/delete").status_code == 302
    with in_tenant(app, mgr.tenant_id):
        rows = [(p.id, p.is_default) for p in db.session.scalars(select(Pipeline))]
    assert rows == [(pipe_id, True)]
    assert actions(app, mgr.tenant_id)[-4:] == [
        "pipeline.created", "pipeline.updated", "pipeline.default_set", "pipeline.deleted"
    ]  # fmt: skip


def test_the_last_pipeline_is_never_deleted(app, mgr, pipe_id, client_as):
    r = post(client_as(mgr), f"{base(mgr)}/{pipe_id}/delete")
    assert r.status_code == 400 and "at least one pipeline" in r.get_data(as_text=True)


def test_the_settings_list_links_to_each_pipeline_and_the_lost_reasons(app, mgr, pipe_id, client_as):
    c = client_as(mgr)
    page = c.get(base(mgr)).get_data(as_text=True)
    assert f"/sales/pipeline/settings/{pipe_id}" in page and "/sales/pipeline/lost-reasons" in page
    assert "/sales/pipeline/settings" in c.get(f"/w/{mgr.slug}/sales/pipeline/{pipe_id}").get_data(as_text=True)
    assert "/sales/pipeline/settings" in c.get(f"/w/{mgr.slug}/sales/pipeline/lost-reasons").get_data(as_text=True)


# ---------------------------------------------------------------- who may


def test_a_rep_cannot_reach_the_settings(app, tenant_a, pipe_id, client_as, raw_rows):
    rep = tenant_a["sales"]
    c = client_as(rep)
    ids = stage_ids(app, rep.tenant_id, pipe_id)
    before = raw_rows("pipeline_stages"), raw_rows("pipelines")
    assert c.get(base(rep)).status_code == 403
    assert c.get(f"{base(rep)}/{pipe_id}").status_code == 403
    assert post(c, base(rep), {"name": "我的流程"}).status_code == 403
    assert post(c, f"{base(rep)}/{pipe_id}/stages", {"name": "新阶段", "kind": "open"}).status_code == 403
    r = post(c, f"{base(rep)}/{pipe_id}/stages/{ids['赢单']}", {"name": "成交", "kind": "won"})
    assert r.status_code == 403
    assert post(c, f"{base(rep)}/{pipe_id}/stages/{ids['方案报价']}/delete").status_code == 403
    assert (raw_rows("pipeline_stages"), raw_rows("pipelines")) == before
    board = c.get(f"/w/{rep.slug}/sales/pipeline/{pipe_id}").get_data(as_text=True)
    assert "/sales/pipeline/settings" not in board


def test_a_stage_of_another_pipeline_is_404_under_this_one(app, mgr, pipe_id, client_as):
    r = post(client_as(mgr), base(mgr), {"name": "第二流程"})
    assert r.status_code == 302
    with in_tenant(app, mgr.tenant_id):
        other = db.session.scalars(select(Pipeline.id).where(Pipeline.name == "第二流程")).one()
    foreign = next(iter(stage_ids(app, mgr.tenant_id, other).values()))
    r = post(client_as(mgr), f"{base(mgr)}/{pipe_id}/stages/{foreign}", {"name": "x", "kind": "open"})
    assert r.status_code == 404


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_settings_pages_render_in_both_languages(app, mgr, pipe_id, client_as, lang):
    c = client_as(mgr, **{"Accept-Language": lang})
    for url in (base(mgr), f"{base(mgr)}/{pipe_id}"):
        r = c.get(url)
        assert r.status_code == 200, url
        assert "赢单" in r.get_data(as_text=True) or url == base(mgr)


# ---------------------------------------------------------------- the API


def test_the_api_manages_pipelines_and_stages_with_the_same_rules(app, tenant_a, mgr, pipe_id, deal, client, token_for):
    h = bearer(token_for(mgr))
    r = client.post("/api/v1/pipelines", json={"name": "渠道销售"}, headers=h)
    assert r.status_code == 201, r.get_json()
    new = r.get_json()
    assert [s["kind"] for s in new["stages"]] == ["open", "won", "lost"] and new["is_default"] is False
    url = f"/api/v1/pipelines/{new['id']}"
    r = client.post(f"{url}/stages", json={"name": "报价", "probability": 40, "rot_days": 10}, headers=h)
    assert r.status_code == 201 and r.get_json()["position"] == 1
    quoted = r.get_json()["id"]
    r = client.post(f"{url}/stages", json={"name": "再赢", "kind": "won"}, headers=h)
    assert r.status_code == 422 and "kind" in r.get_json()["errors"]["json"]
    r = client.patch(f"{url}/stages/{quoted}", json={"position": 0, "probability": 45}, headers=h)
    assert r.status_code == 200 and (r.get_json()["position"], r.get_json()["probability"]) == (0, 45)
    r = client.patch(f"{url}/stages/{quoted}", json={"position": 3}, headers=h)
    assert r.status_code == 422  # after the lost stage: refused
    r = client.patch(url, json={"name": "渠道", "is_default": True}, headers=h)
    assert r.status_code == 200 and r.get_json()["is_default"] is True
    assert client.get(f"/api/v1/pipelines/{pipe_id}", headers=h).get_json()["is_default"] is False
    # the old pipeline holds the rep's deal
    assert client.delete(f"/api/v1/pipelines/{pipe_id}", headers=h).status_code == 422
    first = client.get(f"/api/v1/pipelines/{pipe_id}", headers=h).get_json()["stages"][0]["id"]
    second = client.get(f"/api/v1/pipelines/{pipe_id}", headers=h).get_json()["stages"][1]["id"]
    assert client.delete(f"/api/v1/pipelines/{pipe_id}/stages/{first}", headers=h).status_code == 422
    r = client.delete(f"/api/v1/pipelines/{pipe_id}/stages/{first}?move_to={second}", headers=h)
    assert r.status_code == 204
    assert client.get(f"/api/v1/opportunities/{deal}", headers=h).get_json()["stage_id"] == second
    assert client.delete(url, headers=h).status_code == 204  # empty: goes; the other is default again
    assert [p["is_default"] for p in client.get("/api/v1/pipelines", headers=h).get_json()] == [True]
    # a rep reads pipelines but changes none
    rh = bearer(token_for(tenant_a["sales"]))
    assert client.get(f"/api/v1/pipelines/{pipe_id}", headers=rh).status_code == 200
    assert client.post("/api/v1/pipelines", json={"name": "x"}, headers=rh).status_code == 403
    assert (
        client.patch(f"/api/v1/pipelines/{pipe_id}/stages/{second}", json={"name": "y"}, headers=rh).status_code == 403
    )
