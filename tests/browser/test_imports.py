"""Import in a real browser: an owner uploads a hand-made ledger, reads the dry run (counts, problems,
unknown salesperson), imports the good rows, and sees the result with its undo button."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_owner, sign_up
from tests.imports_factories import customer_ledger

pytestmark = pytest.mark.browser


def test_an_owner_imports_the_good_rows_of_a_ledger(browsing, live_server, tmp_path):
    owner, ws = new_owner("imports")
    page = browsing.new_page()
    sign_up(page, owner, ws)
    for name in ("张伟", "刘洋"):
        live_server.seed_member(ws.slug, f"{len(name)}{ord(name[0])}@{ws.slug}.example.com", name, ["sales"])
    ledger = tmp_path / "台账.xlsx"
    ledger.write_bytes(customer_ledger())

    page.goto(f"/w/{ws.slug}/sales/imports")
    browsing.shot(page, "01-empty")
    page.locator("#kind").select_option("customers")
    page.locator("#file").set_input_files(str(ledger))
    page.get_by_test_id("import-upload").locator("button[type=submit]").click()
    expect(page.get_by_test_id("import-counts").locator("[data-count=new]")).to_have_text("2")
    expect(page.get_by_test_id("unknown-owners")).to_contain_text("赵六")
    expect(page.get_by_test_id("import-problems")).to_contain_text("Same customer as row 5")
    browsing.shot(page, "02-dry-run")

    page.get_by_test_id("import-commit").locator("input[value=good_rows]").check()
    page.get_by_test_id("import-commit").locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+"))
    page.goto(f"/w/{ws.slug}/sales/imports")
    page.get_by_test_id("import-table").locator("a").first.click()
    expect(page.get_by_test_id("import-status")).to_have_text("Imported", timeout=15000)
    browsing.shot(page, "03-imported")
    page.goto(f"/w/{ws.slug}/sales/customers")
    expect(page.locator("main")).to_contain_text("北京百川科技有限公司")
    browsing.shot(page, "04-customers")
