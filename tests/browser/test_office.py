"""The Office in a real browser: an owner posts an announcement for sales reps that must be
acknowledged, with a file; the rep is stopped at their next page until they confirm; the owner's
read receipts show the rep as read."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Person, new_owner, sign_in, sign_up

pytestmark = pytest.mark.browser


def test_an_acknowledgement_stops_the_rep_until_they_confirm(browsing, live_server, tmp_path):
    owner, ws = new_owner("office")
    page = browsing.new_page()
    sign_up(page, owner, ws)
    rep = Person(name="Liu Yang", email=f"liu.yang@{ws.slug}.example.com")
    live_server.seed_member(ws.slug, rep.email, rep.name, ["sales"])

    page.goto(f"/w/{ws.slug}/office/announcements/new")
    page.locator("#title").fill("New travel expense policy")
    page.locator("#body").fill("From **1 December** claims need a receipt photo.\n\n<script>alert(1)</script>")
    page.locator("input[name=audience_roles][value=sales]").check()
    page.locator("#requires_ack").check()
    policy = tmp_path / "policy.txt"
    policy.write_text("receipts, always", encoding="utf-8")
    page.locator("#attachment").set_input_files(str(policy))
    browsing.shot(page, "01-new-announcement")
    page.locator("main form[method=post] button[type=submit]").first.click()
    expect(page.locator("main h1")).to_contain_text("New travel expense policy")
    expect(page.locator("main")).to_contain_text("policy.txt")
    expect(page.locator("main strong", has_text="1 December")).to_have_count(1)  # Markdown rendered, script inert

    rep_page = browsing.new_page()
    sign_in(rep_page, rep)
    rep_page.goto(f"/w/{ws.slug}/sales/customers")
    expect(rep_page.get_by_test_id("ack-required")).to_be_visible()  # stopped, whatever page they asked for
    browsing.shot(rep_page, "02-stopped")
    rep_page.get_by_test_id("ack-button").click()
    expect(rep_page).to_have_url(re.compile(rf"/w/{re.escape(ws.slug)}/sales/customers"))
    rep_page.goto(f"/w/{ws.slug}/office/")
    expect(rep_page.get_by_test_id("ack-required")).to_have_count(0)  # released

    page.goto(page.url.rstrip("/") + "/receipts")
    expect(page.get_by_test_id("receipts-read")).to_contain_text("Liu Yang")
    browsing.shot(page, "03-receipts")
