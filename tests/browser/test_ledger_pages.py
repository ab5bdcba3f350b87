"""The sales ledger in a real browser, in English and 简体中文, at desktop and phone width: the
lines, a two-way summary, week-over-week growth with its "—", the three charts drawn by
Chart.js under the CSP (no inline script), and the targets page — with no console error, page
error or CSP violation on any of them (the Browsing collector fails the test otherwise)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browsing, LiveServer, new_owner, sign_in, sign_up, zh

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}


def seed_orders(server: LiveServer, slug: str, email: str) -> None:
    """Products, customers in three provinces and two months of orders by the owner."""
    from sqlalchemy import select

    from crm.catalog import services as catalog
    from crm.db import db
    from crm.orders import services as orders
    from crm.sales.services import CustomerInput, create_customer
    from tenants.context import tenant_context
    from tenants.models import Membership, Tenant, User

    with server.app.app_context():
        tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
        with tenant_context(tenant.id):
            owner = db.session.scalars(
                select(Membership).join(User, User.id == Membership.user_id).where(User.email == email)
            ).one()
        with tenant_context(tenant.id, user_id=owner.user_id):
            products = [
                catalog.create_product(owner, {"code": c, "name": n, "list_price": "100", "vat_rate": "0.13"})
                for c, n in (("SRV", "服务器"), ("SW", "交换机"), ("AP", "无线接入点"))
            ]
            customers = [
                create_customer(owner, CustomerInput(values={"name": n, "province": p}, confirm_duplicates=True))
                for n, p in (("苏州甲科技有限公司", "江苏省"), ("杭州乙贸易有限公司", "浙江省"),
                             ("广州丙电子有限公司", "广东省"))
            ]  # fmt: skip
            start = date.today() - timedelta(days=70)
            for i in range(24):
                p, c = products[i % 3], customers[i % 3]
                line = {"product_id": p.id, "description": p.name, "quantity": str(1 + i % 4),
                        "unit_price": str(500 + 100 * (i % 5)), "tax_rate": "0.13"}  # fmt: skip
                orders.create_order(
                    owner, tenant, c, orders.OrderInput(lines=[line], order_date=start + timedelta(days=3 * i))
                )
            db.session.commit()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_the_ledger_pages_at_desktop_and_phone_width(browsing: Browsing, live_server: LiveServer, locale: str):
    person, ws = new_owner("ledger")
    page = browsing.new_page(locale=locale)
    sign_up(page, person, ws)
    seed_orders(live_server, ws.slug, person.email)
    chinese = locale.startswith("zh")

    def t(msgid: str) -> str:
        return (zh(msgid) or msgid) if chinese else msgid

    base = f"/w/{ws.slug}/sales/ledger"
    page.goto(base)
    expect(page.get_by_test_id("ledger-table")).to_be_visible()
    expect(page.get_by_role("heading", name=t("Sales ledger"))).to_be_visible()
    expect(page.get_by_test_id("ledger-table")).to_contain_text("苏州甲科技有限公司")
    browsing.shot(page, f"{locale}-lines")

    page.goto(f"{base}/summary?rows=region&cols=month&measure=amount")
    expect(page.get_by_test_id("pivot")).to_contain_text("浙江省")
    browsing.shot(page, f"{locale}-summary")

    page.goto(f"{base}/growth?period=week&by=product")
    expect(page.get_by_test_id("growth-table")).to_contain_text("—")
    browsing.shot(page, f"{locale}-growth")

    page.goto(f"{base}/charts")
    for chart in ("chart-trend", "chart-regions", "chart-products"):
        canvas = page.get_by_test_id(chart)
        expect(canvas).to_have_attribute("data-drawn", "1")  # app.js drew it with Chart.js
    browsing.shot(page, f"{locale}-charts")

    page.goto(f"{base}/targets")
    page.locator("#member_id").select_option(index=1)
    page.locator("#amount").fill("20000")
    page.get_by_test_id("target-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("ranking")).to_contain_text("20,000.00")
    browsing.shot(page, f"{locale}-targets")

    phone = browsing.new_page(locale=locale, **PHONE)
    sign_in(phone, person)
    for path, step in (
        (base, "lines"),
        (f"{base}/summary?rows=product&cols=week", "summary"),
        (f"{base}/charts", "charts"),
    ):
        phone.goto(path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{step} scrolls sideways at phone width ({width}px)"
        browsing.shot(phone, f"{locale}-phone-{step}")
