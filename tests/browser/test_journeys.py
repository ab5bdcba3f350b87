"""The journeys of the issue, end to end in a real browser against a live server."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import Person, new_owner, sign_in, sign_up, unique, zh


def open_dropdown(page, testid: str) -> None:
    """Open a Bootstrap dropdown. On a loaded machine a click can land before bootstrap.js has
    wired its handlers (scripts sit at the end of the body), so wait for load and click again
    if the menu did not open — never while it is open, since a second click closes it."""
    page.wait_for_load_state("load")
    toggle = page.get_by_test_id(testid)
    menu = page.locator(".dropdown-menu.show")
    for _ in range(3):
        toggle.click()
        try:
            expect(menu).to_be_visible(timeout=3_000)
            return
        except AssertionError:
            continue
    expect(menu).to_be_visible()


pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u4e00-\u9fff]")


def _dashboard_url(slug: str) -> re.Pattern[str]:
    return re.compile(rf"/w/{re.escape(slug)}/$")


def test_sign_up_lands_on_the_dashboard(browsing):
    page = browsing.new_page()
    owner, ws = new_owner("signup")

    page.goto("/signup")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    browsing.shot(page, "01-form")

    sign_up(page, owner, ws)
    expect(page.locator("main.content h1")).to_contain_text(owner.name)
    expect(page.locator("main.content .page-header")).to_contain_text(ws.company)
    expect(page.get_by_test_id("workspace-switcher")).to_contain_text(ws.company)
    expect(page.get_by_test_id("stat-active")).to_have_text("1")
    browsing.shot(page, "02-dashboard")


def test_invite_a_colleague_who_joins_as_a_sales_rep(browsing):
    owner, ws = new_owner("invite", name="Wang Jianguo")
    page = browsing.new_page()
    sign_up(page, owner, ws)

    page.goto(f"/w/{ws.slug}/settings/members")
    invite = page.locator("#invite form")
    colleague = Person(name="Liu Yang", email=f"liu.yang@{ws.slug}.example.com", password="liu-yang-secret-2024")
    invite.locator("#email").fill(colleague.email)
    invite.locator("input[name=roles][value=sales]").check()
    invite.locator("#reports_to").select_option(label=owner.name)
    browsing.shot(page, "01-invite-form")
    invite.get_by_role("button", name=re.compile("Send invitation|发送邀请")).click()

    link_box = page.get_by_test_id("invitation-link")
    expect(link_box).to_be_visible()
    link = link_box.locator("input#invite-link").input_value()
    assert re.search(r"/invitations/\S+$", link), link
    browsing.shot(page, "02-link-shown")

    # The new person, in a browser of their own.
    newcomer = browsing.new_page()
    newcomer.goto(link)
    expect(newcomer.locator("main h1")).to_contain_text(ws.company)
    newcomer.locator("#name").fill(colleague.name)
    newcomer.locator("#password").fill(colleague.password)
    browsing.shot(newcomer, "03-accept-form")
    newcomer.locator("form[method=post]:not([data-lang-form]) button[type=submit]").click()

    expect(newcomer).to_have_url(_dashboard_url(ws.slug))
    expect(newcomer.get_by_test_id("workspace-switcher")).to_contain_text(ws.company)
    expect(newcomer.get_by_test_id("nav-sales")).to_be_visible()
    expect(newcomer.get_by_test_id("nav-settings")).to_have_count(0)
    browsing.shot(newcomer, "04-joined")

    # The owner sees the new rep, reporting to them.
    page.goto(f"/w/{ws.slug}/settings/members")
    row = page.locator(f'tr[data-member="{colleague.email}"]')
    expect(row).to_contain_text(colleague.name)
    expect(row).to_contain_text(owner.name)
    browsing.shot(page, "05-member-listed")


def test_switch_workspace_from_the_top_bar(browsing):
    owner, first = new_owner("first")
    page = browsing.new_page()
    sign_up(page, owner, first)

    # A second workspace, created while signed in: the form asks only company and address.
    second_slug = unique("second")
    second_company = f"Second Branch {second_slug}"
    page.goto("/signup")
    expect(page.locator("#email")).to_have_count(0)
    expect(page.locator("#password")).to_have_count(0)
    page.locator("#company").fill(second_company)
    page.locator("#slug").fill(second_slug)
    browsing.shot(page, "01-second-signup")
    page.locator("form[method=post]:not([data-lang-form]) button[type=submit]").click()
    expect(page).to_have_url(_dashboard_url(second_slug))
    switcher = page.get_by_test_id("workspace-switcher")
    expect(switcher).to_contain_text(second_company)

    switcher.click()
    menu = page.locator(".dropdown-menu.show")
    expect(menu.locator("a.dropdown-item", has_text=first.company)).to_be_visible()
    expect(menu.locator("a.dropdown-item", has_text=second_company)).to_be_visible()
    browsing.shot(page, "02-switcher-open")
    menu.locator(f'a[href$="/w/{first.slug}/"]').click()
    expect(page).to_have_url(_dashboard_url(first.slug))
    expect(page.get_by_test_id("workspace-switcher")).to_contain_text(first.company)
    expect(page.locator("main.content .page-header")).to_contain_text(first.company)
    browsing.shot(page, "03-first")

    open_dropdown(page, "workspace-switcher")
    page.locator(f'.dropdown-menu.show a[href$="/w/{second_slug}/"]').click()
    expect(page).to_have_url(_dashboard_url(second_slug))
    expect(page.get_by_test_id("workspace-switcher")).to_contain_text(second_company)
    browsing.shot(page, "04-back-to-second")


def test_switch_language_sticks_on_the_profile(browsing):
    owner, ws = new_owner("lang")
    page = browsing.new_page()
    sign_up(page, owner, ws)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    open_dropdown(page, "member-menu")
    chinese = page.locator(".dropdown-menu.show form[data-lang-form] button", has_text="简体中文")
    expect(chinese).to_be_visible()
    browsing.shot(page, "01-member-menu")
    chinese.click()

    expect(page).to_have_url(_dashboard_url(ws.slug))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    sales = zh("Sales")
    if sales:  # catalog compiled: the navigation speaks Chinese
        assert CJK.search(sales), f"'Sales' is not translated in {sales!r}"
        expect(page.get_by_test_id("nav-sales")).to_contain_text(sales)
    browsing.shot(page, "02-chinese")

    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    # Saved on the profile, not only in this session: a fresh English browser signs in to Chinese.
    elsewhere = browsing.new_page(locale="en-US")
    sign_in(elsewhere, owner)
    expect(elsewhere).to_have_url(_dashboard_url(ws.slug))
    expect(elsewhere.locator("html")).to_have_attribute("lang", "zh-CN")
    browsing.shot(elsewhere, "03-other-browser")

    # And back to English from the same menu.
    open_dropdown(page, "member-menu")
    page.locator(".dropdown-menu.show form[data-lang-form] button", has_text="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    browsing.shot(page, "04-english-again")


def test_mobile_side_nav_is_an_offcanvas(browsing):
    owner, ws = new_owner("mobile")
    page = browsing.new_page(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    sign_up(page, owner, ws)

    nav_sales = page.get_by_test_id("nav-sales")
    expect(nav_sales).to_be_hidden()
    menu_button = page.locator('button[data-bs-toggle="offcanvas"][data-bs-target="#sidebar"]')
    expect(menu_button).to_be_visible()
    browsing.shot(page, "01-closed")

    # The top bar fits a 375-pixel phone: nothing runs past the right edge.
    overflow = page.evaluate("() => document.querySelector('header.topbar').scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the top bar runs {overflow}px past the screen"

    menu_button.click()
    sidebar = page.locator("#sidebar")
    expect(sidebar).to_have_class(re.compile(r"\bshow\b"))
    expect(nav_sales).to_be_visible()
    expect(page.get_by_test_id("nav-settings")).to_be_visible()
    page.wait_for_function("() => !document.querySelector('#sidebar').classList.contains('showing')")
    browsing.shot(page, "02-open", full_page=False)  # the offcanvas is fixed to the viewport

    nav_sales.click()
    expect(page).to_have_url(re.compile(rf"/w/{re.escape(ws.slug)}/sales/$"))
    expect(page.get_by_test_id("nav-sales")).to_be_hidden()
    browsing.shot(page, "03-sales")


def test_export_members_to_xlsx(browsing, live_server):
    owner, ws = new_owner("export", name="Wang Jianguo")
    page = browsing.new_page()
    sign_up(page, owner, ws)
    live_server.seed_member(ws.slug, f"liu@{ws.slug}.example.com", "刘洋", ["sales"])
    live_server.seed_member(ws.slug, f"chen@{ws.slug}.example.com", "Chen Jing", ["finance"])

    page.goto(f"/w/{ws.slug}/settings/members")
    form = page.get_by_test_id("export-form")
    form.locator("select").select_option("xlsx")
    browsing.shot(page, "01-members")
    form.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(rf"/w/{re.escape(ws.slug)}/jobs/\d+$"))
    download_link = page.get_by_test_id("job-download")
    expect(download_link).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("job-error")).to_have_count(0)
    browsing.shot(page, "02-ready")

    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename == f"{ws.slug}-members.xlsx"
    data = download.path().read_bytes()
    assert data[:2] == b"PK"
    book = load_workbook(BytesIO(data), read_only=True)
    names = {row[0] for row in book.active.iter_rows(min_row=2, values_only=True)}
    assert {owner.name, "刘洋", "Chen Jing"} <= names
    browsing.check(page)


def test_job_page_polls_until_the_download_appears(browsing, live_server):
    """The inline export above may finish before its page loads; here the worker is held back,
    so the page must show progress first and htmx must swap in the link when the job ends."""
    owner, ws = new_owner("polling")
    page = browsing.new_page()
    sign_up(page, owner, ws)
    params = {"format": "xlsx", "locale": "en"}
    tenant_id, job_id = live_server.queue_job(ws.slug, owner.email, "members_export", params)

    polls: list[str] = []

    def note_poll(request) -> None:
        if request.headers.get("hx-request") == "true" and f"/jobs/{job_id}" in request.url:
            polls.append(request.url)

    page.on("request", note_poll)
    page.goto(f"/w/{ws.slug}/jobs/{job_id}")
    progress = page.locator(f"#job-{job_id}")
    expect(progress).to_have_attribute("data-status", "queued")
    expect(progress.get_by_role("progressbar")).to_be_visible()
    expect(page.get_by_test_id("job-download")).to_have_count(0)
    page.wait_for_timeout(1500)  # at least one poll while still queued
    assert polls, "the progress fragment was never polled"
    browsing.shot(page, "01-queued")

    page.evaluate("() => { window.__samePage = true; }")
    assert live_server.run_job(tenant_id, job_id) == "finished"
    expect(page.get_by_test_id("job-download")).to_be_visible()
    assert page.evaluate("() => window.__samePage === true")  # swapped in place by htmx, not a reload
    expect(progress).to_have_attribute("data-status", "finished")
    browsing.shot(page, "02-finished")

    with page.expect_download() as info:
        page.get_by_test_id("job-download").click()
    book = load_workbook(BytesIO(info.value.path().read_bytes()), read_only=True)
    assert owner.name in {row[0] for row in book.active.iter_rows(min_row=2, values_only=True)}
    browsing.check(page)


def test_chinese_browser_gets_chinese_by_default(browsing):
    page = browsing.new_page(locale="zh-CN")
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    heading = page.locator("main h1")
    sign_in_zh = zh("Sign in")
    if sign_in_zh is None:  # catalog not compiled yet: either language reads correctly
        expect(heading).to_have_text(re.compile(r"\S"))
    else:
        assert CJK.search(sign_in_zh), f"'Sign in' is not translated in the compiled catalog: {sign_in_zh!r}"
        expect(heading).to_have_text(sign_in_zh)
    browsing.shot(page, "01-login")
