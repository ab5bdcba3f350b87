"""The pipeline kanban in a real browser: a rep creates an opportunity, drags its card to
another stage (the columns' counts and sums follow), and a drop on the lost stage asks for the
reason, which is recorded."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Person, new_owner, sign_in, sign_up

pytestmark = pytest.mark.browser


def _seed_customer(live_server, slug: str, email: str, name: str) -> None:
    """A customer owned by the rep, straight into the server's database."""
    from sqlalchemy import select

    from crm.db import db
    from tenants.context import tenant_context
    from tenants.models import Membership, Tenant, User
    from tests.factories import make_customer

    with live_server.app.app_context():
        tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
        user = db.session.scalars(select(User).where(User.email == email)).one()
        with tenant_context(tenant, user_id=user.id):
            member = db.session.scalars(select(Membership).where(Membership.user_id == user.id)).one()
        make_customer(member, name)
        db.session.commit()


def _recorded(live_server, slug: str, title: str) -> tuple[str, str | None, str | None]:
    """(stage name, lost reason, competitor) of the opportunity, as stored."""
    from sqlalchemy import select

    from crm.db import db
    from crm.pipeline.models import Opportunity
    from tenants.context import tenant_context
    from tenants.models import Tenant

    with live_server.app.app_context():
        tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
        with tenant_context(tenant):
            o = db.session.scalars(select(Opportunity).where(Opportunity.title == title)).one()
            return o.stage.name, o.lost_reason.name if o.lost_reason else None, o.competitor


def column(page: Page, stage: str) -> Locator:
    return page.locator("section.kanban-col").filter(has=page.locator(".card-header", has_text=stage))


def drag(page: Page, card: Locator, target: Locator) -> None:
    """Drag with the mouse, in small steps, the way a person does (SortableJS follows the pointer)."""
    card.scroll_into_view_if_needed()
    box = card.bounding_box()
    dest = target.locator(".kanban-cards").bounding_box()
    assert box and dest
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 10, box["y"] + box["height"] / 2 + 10, steps=5)
    page.mouse.move(dest["x"] + dest["width"] / 2, dest["y"] + 30, steps=20)
    page.mouse.up()


def test_a_rep_drags_a_deal_across_the_board_and_loses_it_with_a_reason(browsing, live_server):
    owner, ws = new_owner("kanban")
    page = browsing.new_page()
    sign_up(page, owner, ws)
    rep = Person(name="Liu Yang", email=f"liu.yang@{ws.slug}.example.com")
    live_server.seed_member(ws.slug, rep.email, rep.name, ["sales"])
    _seed_customer(live_server, ws.slug, rep.email, "East China Machinery Co")

    page = browsing.new_page(viewport={"width": 2200, "height": 1000})  # every column in view, to drop on
    sign_in(page, rep)
    page.goto(f"/w/{ws.slug}/sales/pipeline")
    expect(page.get_by_test_id("pipeline-settings")).to_have_count(0)  # settings are for managers
    page.get_by_role("link", name="New opportunity").click()
    page.locator("#customer_id").select_option(label="East China Machinery Co")
    page.locator("#title").fill("CNC lathe purchase")
    # one product line, typed: the amount follows it and is read-only
    page.locator("[name='lines-0-description']").fill("CNC lathe")
    page.locator("[name='lines-0-quantity']").fill("2")
    page.locator("[name='lines-0-unit_price']").fill("12345.67")
    expect(page.locator("#amount")).to_have_value("24691.34")
    expect(page.locator("#amount")).to_have_attribute("readonly", "")
    browsing.shot(page, "01-new-opportunity")
    page.locator("form[data-opportunity-form] button[type=submit]").click()
    expect(page.locator("main h1")).to_have_text("CNC lathe purchase")
    expect(page.get_by_test_id("create-quote")).to_have_attribute(
        "href", re.compile(r"/sales/quotes/new\?opportunity_id=\d+")
    )

    page.get_by_role("link", name="Pipeline").first.click()
    first, third, lost = column(page, "初步接洽"), column(page, "方案报价"), column(page, "输单")
    expect(first.get_by_test_id("count")).to_have_text("1")
    expect(first.get_by_test_id("total")).to_have_text("¥24,691.34")
    expect(third.get_by_test_id("count")).to_have_text("0")
    browsing.shot(page, "02-board")

    card = first.locator("article.kanban-card", has_text="CNC lathe purchase")
    drag(page, card, third)
    expect(third.get_by_test_id("count")).to_have_text("1")
    expect(third.get_by_test_id("total")).to_have_text("¥24,691.34")
    expect(third.get_by_test_id("weighted")).to_have_text("¥12,345.67")  # 50%
    expect(column(page, "初步接洽").get_by_test_id("count")).to_have_text("0")
    assert _recorded(live_server, ws.slug, "CNC lathe purchase") == ("方案报价", None, None)
    browsing.shot(page, "03-moved")

    # a drop on the lost stage asks why, first
    card = column(page, "方案报价").locator("article.kanban-card", has_text="CNC lathe purchase")
    drag(page, card, column(page, "输单"))
    modal = page.locator("#lost-modal")
    expect(modal).to_be_visible()
    modal.locator("#lost-reason").select_option(label="选择了竞争对手")
    modal.locator("#lost-competitor").fill("Acme Machines")
    browsing.shot(page, "04-lost-reason")
    modal.get_by_role("button", name="Mark as lost").click()
    expect(page.locator(".modal-backdrop")).to_have_count(0)
    lost = column(page, "输单")
    expect(lost.get_by_test_id("count")).to_have_text("1")
    expect(lost.locator("article.kanban-card")).to_contain_text("选择了竞争对手")
    expect(column(page, "方案报价").get_by_test_id("count")).to_have_text("0")
    assert _recorded(live_server, ws.slug, "CNC lathe purchase") == ("输单", "选择了竞争对手", "Acme Machines")
    browsing.shot(page, "05-lost")


def _stage_names(page: Page) -> list[str]:
    return [v for v in page.locator("[data-stage-list] input[name=name]").evaluate_all("els => els.map(e => e.value)")]


def _drag_stage(page: Page, name: str, onto: str) -> None:
    handle = page.locator("[data-stage-id]").filter(has=page.locator(f"input[name=name][value='{name}']"))
    target = page.locator("[data-stage-id]").filter(has=page.locator(f"input[name=name][value='{onto}']"))
    a, b = handle.locator(".drag-handle").bounding_box(), target.bounding_box()
    assert a and b
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2 - 5, steps=5)
    page.mouse.move(b["x"] + 20, b["y"] + 5, steps=20)
    page.mouse.up()


def test_a_manager_reorders_and_adds_stages(browsing):
    owner, ws = new_owner("stages")
    page = browsing.new_page(viewport={"width": 1600, "height": 1200})
    sign_up(page, owner, ws)
    page.goto(f"/w/{ws.slug}/sales/pipeline")
    page.get_by_test_id("pipeline-settings").click()
    expect(page.locator("main h1")).to_contain_text("Sales pipeline")
    assert _stage_names(page) == ["初步接洽", "需求确认", "方案报价", "商务谈判", "赢单", "输单"]
    browsing.shot(page, "01-stages")

    with page.expect_response(lambda r: r.url.endswith("/stages/order")) as answer:
        _drag_stage(page, "需求确认", onto="初步接洽")
    assert answer.value.status == 200
    expect(page.locator("[data-stage-list] input[name=name]").first).to_have_value("需求确认")
    page.reload()
    assert _stage_names(page)[:2] == ["需求确认", "初步接洽"]  # saved

    # a won stage dragged above the open ones is refused, with the reason; the list stays as saved
    with page.expect_response(lambda r: r.url.endswith("/stages/order")) as answer:
        _drag_stage(page, "赢单", onto="需求确认")
    assert answer.value.status == 200  # the list as saved, with the reason
    expect(page.get_by_test_id("stages-error")).to_contain_text("after every open stage")
    assert _stage_names(page) == ["需求确认", "初步接洽", "方案报价", "商务谈判", "赢单", "输单"]
    browsing.shot(page, "02-refused")

    # the arrows (which need no JavaScript)
    row = page.locator("[data-stage-id]").filter(has=page.locator("input[name=name][value='初步接洽']"))
    row.get_by_role("button", name="Move up").click()
    expect(page.locator("[data-stage-list] input[name=name]").first).to_have_value("初步接洽")

    add = page.get_by_test_id("add-stage-form")
    add.locator("#name").fill("试用")
    add.locator("#probability").fill("60")
    add.get_by_role("button", name="Add stage").click()
    expect(page.locator("[data-stage-list] input[name=name]").nth(4)).to_have_value("试用")
    assert _stage_names(page) == ["初步接洽", "需求确认", "方案报价", "商务谈判", "试用", "赢单", "输单"]
    browsing.shot(page, "03-added")


def _seed_opportunities(live_server, slug: str, email: str, customer: str, n: int) -> None:
    """n opportunities of the rep on the customer, in the first stage, straight into the database."""
    from decimal import Decimal

    from sqlalchemy import select

    from crm.db import db
    from crm.sales.models import Customer
    from tenants.context import tenant_context
    from tenants.models import Membership, Tenant, User
    from tests.factories import make_opportunity

    with live_server.app.app_context():
        tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
        user = db.session.scalars(select(User).where(User.email == email)).one()
        with tenant_context(tenant, user_id=user.id):
            member = db.session.scalars(select(Membership).where(Membership.user_id == user.id)).one()
            cid = db.session.scalars(select(Customer.id).where(Customer.name == customer)).one()
        for i in range(n):
            make_opportunity(member, cid, f"Deal {i:02d}", amount=Decimal("100"))
        db.session.commit()


def test_a_long_column_shows_50_cards_loads_more_and_a_loaded_card_drags(browsing, live_server):
    owner, ws = new_owner("kanbanmore")
    page = browsing.new_page()
    sign_up(page, owner, ws)
    rep = Person(name="Wang Fang", email=f"wang.fang@{ws.slug}.example.com")
    live_server.seed_member(ws.slug, rep.email, rep.name, ["sales"])
    _seed_customer(live_server, ws.slug, rep.email, "Long Column Co")
    page = browsing.new_page(viewport={"width": 2200, "height": 1000})
    sign_in(page, rep)
    page.goto(f"/w/{ws.slug}/sales/pipeline")  # creates the default pipeline
    _seed_opportunities(live_server, ws.slug, rep.email, "Long Column Co", 53)
    page.reload()
    first, third = column(page, "初步接洽"), column(page, "方案报价")
    expect(first.get_by_test_id("count")).to_have_text("53")
    expect(first.get_by_test_id("total")).to_have_text("¥5,300.00")
    expect(first.locator("article.kanban-card")).to_have_count(50)
    first.get_by_role("button", name="Load more").click()
    expect(first.locator("article.kanban-card")).to_have_count(53)
    expect(first.get_by_role("button", name="Load more")).to_have_count(0)
    browsing.shot(page, "01-loaded-more")
    expect(page.locator(".htmx-settling")).to_have_count(0)
    card = first.locator("article.kanban-card", has_text="Deal 52")
    card.evaluate("el => el.scrollIntoView({block: 'center'})")  # a loaded card, down a scrolled column
    page.wait_for_timeout(300)  # the column's own scroll comes to rest before the pointer goes down
    drag(page, card, third)
    expect(third.get_by_test_id("count")).to_have_text("1")
    expect(column(page, "初步接洽").get_by_test_id("count")).to_have_text("52")
    assert _recorded(live_server, ws.slug, "Deal 52") == ("方案报价", None, None)
