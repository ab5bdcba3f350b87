"""Import in a real browser: an owner uploads a hand-made ledger, reads the dry run (counts, problems,
unknown salesperson), imports the good rows, and sees the result with its undo button."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_owner, sign_up
from tests.imports_factories import customer_ledger, sales_ledger, voucher_book

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


def _seed_books(live_server, slug: str, email: str) -> None:
    """Books from 2026-01 (small-enterprise chart, 管理费用 split), a department and a customer."""
    from sqlalchemy import select

    from crm.db import db
    from tenants.context import tenant_context
    from tenants.models import Membership, Tenant, User
    from tests.imports_factories import voucher_books

    with live_server.app.app_context():
        tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
        user = db.session.scalars(select(User).where(User.email == email)).one()
        with tenant_context(tenant, user_id=user.id):
            owner = db.session.scalars(select(Membership).where(Membership.user_id == user.id)).one()
            voucher_books(tenant, owner, owner)
        db.session.commit()


def test_finance_imports_vouchers_reads_the_refusals_and_undoes_by_reversal(browsing, live_server, tmp_path):
    owner, ws = new_owner("vouchers")
    page = browsing.new_page()
    sign_up(page, owner, ws)
    _seed_books(live_server, ws.slug, owner.email)
    book = tmp_path / "序时账.xlsx"
    book.write_bytes(voucher_book())

    page.goto(f"/w/{ws.slug}/finance/imports")
    expect(page.locator("#kind option")).to_have_count(1)
    browsing.shot(page, "01-empty")
    page.locator("#file").set_input_files(str(book))
    page.get_by_test_id("import-upload").locator("button[type=submit]").click()
    expect(page.get_by_test_id("import-counts").locator("[data-count=new]")).to_have_text("10")
    expect(page.get_by_test_id("import-problems")).to_contain_text("difference 10.00")
    expect(page.get_by_test_id("import-problems")).to_contain_text("sub-accounts")
    browsing.shot(page, "02-dry-run")
    page.set_viewport_size({"width": 390, "height": 844})
    browsing.shot(page, "03-dry-run-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_test_id("import-commit").locator("input[value=good_rows]").check()
    page.get_by_test_id("import-commit").locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+"))
    page.goto(f"/w/{ws.slug}/finance/imports")
    page.get_by_test_id("import-table").locator("a").first.click()
    expect(page.get_by_test_id("import-status")).to_have_text("Imported", timeout=15000)
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Undo import").click()
    expect(page.locator("main")).to_contain_text("4 vouchers reversed")
    browsing.shot(page, "04-undone")


def test_a_hand_made_sales_ledger_dry_run(browsing, live_server, tmp_path):
    owner, ws = new_owner("ledger")
    page = browsing.new_page()
    sign_up(page, owner, ws)
    ledger = tmp_path / "销售台账.xlsx"
    ledger.write_bytes(sales_ledger())
    page.goto(f"/w/{ws.slug}/sales/imports")
    page.locator("#kind").select_option("orders")
    page.locator("#file").set_input_files(str(ledger))
    page.get_by_test_id("import-upload").locator("button[type=submit]").click()
    expect(page.get_by_test_id("import-mapping")).to_contain_text("金额(含税)")
    expect(page.get_by_test_id("unknown-owners")).to_contain_text("赵六")
    browsing.shot(page, "01-dry-run")
    page.set_viewport_size({"width": 390, "height": 844})
    browsing.shot(page, "02-dry-run-phone")
