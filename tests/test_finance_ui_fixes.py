"""What the finance browser journey (tests/browser/test_finance_journey.py) found wrong on the
finance pages, each pinned here without a browser: the Chinese word for an open document, a new
journal entry refused in a closed month, entry numbers in report tables, the write-off page's way
back, the widths of the invoice line inputs."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.books import closing
from crm.books import services as books
from crm.books.models import JournalEntry
from crm.db import db
from tenants.models import Tenant
from tests import factories
from tests.factories import add_member, member_row
from tests.helpers import in_tenant, post, text_of
from tests.settlement_factories import add_settlement_objects, make_document, make_payment, setup_books

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def fin(app, tenant_a):
    """tenant_a with its books set up, a customer, a posted 1,130.00 invoice and a 500.00 receipt."""
    with in_tenant(app, tenant_a.id):
        tenant = db.session.get(Tenant, tenant_a.id)
        actor = member_row(tenant_a["finance"])
        setup_books(tenant, actor)
        customer, _c = factories.make_customer(member_row(tenant_a["owner"]), "华东物流有限公司")
        inv = make_document(tenant, actor, "receivable", customer.id, "1130.00")
        receipt = make_payment(tenant, actor, "in", customer.id, "500.00")
        db.session.commit()
        ids = {"invoice": inv.id, "number": inv.number, "receipt": receipt.id, "customer": customer.id}
    return tenant_a, ids


def test_an_open_invoice_and_its_open_amount_are_not_called_view_in_chinese(fin, client_as):
    """ "Open" is also the verb (查看) elsewhere: the status and the column say 未结清 / 未结金额."""
    t, ids = fin
    c = client_as(t["finance"], **ZH)
    page = text_of(c.get(f"/w/{t.slug}/finance/invoices/{ids['invoice']}"))
    assert re.search(r'data-testid="invoice-status">\s*未结清\s*<', page)
    assert ">未结金额</th>" in page
    assert ">查看<" not in page
    listing = text_of(c.get(f"/w/{t.slug}/finance/invoices"))
    assert ">未结清</span>" in listing and ">未结金额</th>" in listing
    receipt = text_of(c.get(f"/w/{t.slug}/finance/receipts/{ids['receipt']}"))
    assert ">未结金额</th>" in receipt and ">查看<" not in receipt
    english = text_of(client_as(t["finance"]).get(f"/w/{t.slug}/finance/invoices/{ids['invoice']}"))
    assert re.search(r'data-testid="invoice-status">\s*Open\s*<', english)


def test_a_supplier_on_the_finance_pages_is_a_supplier_not_a_contract_seller(fin, client_as):
    """ "Supplier" alone is 供方 (the seller in a contract); bills and payments name a 供应商."""
    t, _ids = fin
    c = client_as(t["finance"], **ZH)
    for path in ("/finance/bills", "/finance/bills/new", "/finance/payments", "/finance/payments/new"):
        page = text_of(c.get(f"/w/{t.slug}{path}"))
        assert "供应商" in page and "供方" not in page, path


def test_a_new_entry_refused_in_a_closed_month_is_still_a_new_entry(app, fin, client_as):
    """It used to come back as "Edit draft" with a Cancel link to an entry that was rolled back."""
    t, _ids = fin
    with in_tenant(app, t.id):
        tenant = db.session.get(Tenant, t.id)
        actor = member_row(t["finance"])
        closing.close_period(tenant, actor, 2026, 1)
        bank, expense = books.account_for("bank").id, books.account_for("admin_expense").id
        before = db.session.scalar(select(func.count(JournalEntry.id)))
        db.session.commit()
    c = client_as(t["finance"])
    form = {"entry_date": "2026-01-15", "memo": "late", "post": "1",
            "lines-0-account": str(expense), "lines-0-debit": "300.00",
            "lines-1-account": str(bank), "lines-1-credit": "300.00"}  # fmt: skip
    r = post(c, f"/w/{t.slug}/finance/books/entries/new", form)
    page = text_of(r)
    assert r.status_code == 400
    assert "2026-01 is closed" in page
    assert "<h1>New journal entry</h1>" in page and "Edit draft" not in page
    assert re.search(rf'href="/w/{t.slug}/finance/books/entries"[^>]*>Cancel<', page)
    assert not re.search(r"/finance/books/entries/\d+", page)
    with in_tenant(app, t.id):
        assert db.session.scalar(select(func.count(JournalEntry.id))) == before


def test_entry_numbers_in_a_report_table_stay_on_one_line(fin, client_as):
    t, ids = fin
    c = client_as(t["finance"])
    march = "from=2026-03-01&to=2026-03-31"
    page = text_of(c.get(f"/w/{t.slug}/finance/reports/statement?customer={ids['customer']}&{march}"))
    numbers = re.findall(r'<td class="text-nowrap">(记-[\d-]+)</td>', page)
    assert len(numbers) == 2, numbers  # the invoice and the receipt
    journal = text_of(c.get(f"/w/{t.slug}/finance/reports/journal?{march}"))
    assert re.search(r'<td class="text-nowrap">记-[\d-]+</td>', journal)


def test_the_write_off_page_leads_back_to_its_invoice(app, fin, client_as):
    t, ids = fin
    with app.app_context():
        manager = add_member(t, "finance_manager", f"manager@{t.slug}.example.com", "周敏")
        db.session.commit()
    page = text_of(client_as(manager).get(f"/w/{t.slug}/finance/documents/{ids['invoice']}/write-off"))
    crumbs = re.search(r'<ol class="breadcrumb.*?</ol>', page, re.S)
    assert crumbs is not None
    assert f'href="/w/{t.slug}/finance/invoices"' in crumbs.group(0)
    assert f'href="/w/{t.slug}/finance/invoices/{ids["invoice"]}">{ids["number"]}</a>' in crumbs.group(0)


def test_the_offset_under_review_cannot_be_changed_before_it_is_posted(app, world_a, client_as):
    """The confirmation used to leave the fields editable: a changed amount was posted unreviewed."""
    add_settlement_objects(app, world_a)
    w = world_a
    c = client_as(w.tenants["a"]["finance"])
    url = f"/w/alpha/finance/offsets/new?customer={w.customer_id['a']}"
    body = {"invoice_id": w.invoice_doc_id["a"], "bill_id": w.settle_bill_id["a"], "amount": "60.00",
            "settled_on": "2026-03-09"}  # fmt: skip
    page = text_of(post(c, url, body))
    review = re.search(r'data-testid="offset-form".*?</form>', page, re.S).group(0)
    assert 'data-testid="offset-review"' in review and "60.00" in review
    assert "<select" not in review
    assert re.findall(r'<input[^>]*name="amount"[^>]*>', review) == [
        '<input type="hidden" name="amount" value="60.00">'
    ]
    assert f'href="{url}"' in review.replace("&amp;", "&")  # back to change it


def test_the_chart_of_accounts_sections_share_their_column_widths(fin, client_as):
    """Each account type is its own table; without set widths every section's columns sat elsewhere."""
    t, _ids = fin
    page = text_of(client_as(t["finance"]).get(f"/w/{t.slug}/finance/books/accounts"))
    tables = re.findall(r'<table[^>]*data-testid="accounts-\w+">\s*(<colgroup>.*?</colgroup>)', page, re.S)
    assert len(tables) >= 5 and len(set(tables)) == 1, tables
    assert tables[0].count('style="width:') == 5  # every column but the actions, which take the rest


def test_a_zero_amount_in_a_report_never_reads_minus_zero(app):
    """Liabilities and income are shown sign-flipped, so an empty line arrives as Decimal("-0.00")."""
    with app.test_request_context():
        cell = app.jinja_env.get_template("finreports/_cell.html").module.cell
        assert ">0.00</td>" in str(cell(Decimal("-0.00"), "money"))
        assert "-0.00" not in str(cell(Decimal("-0.00"), "money"))
        assert ">(1,234.50)</td>" in str(cell(Decimal("-1234.50"), "money"))
        assert ">1,234.50</td>" in str(cell(Decimal("1234.50"), "money"))


def test_invoice_line_inputs_are_wide_enough_for_a_price_and_a_rate(fin, client_as):
    t, _ids = fin
    page = text_of(client_as(t["finance"]).get(f"/w/{t.slug}/finance/invoices/new"))
    assert re.search(r'name="lines-0-unit_price"[^>]*style="min-width: 6.5rem"', page)
    assert re.search(r'name="lines-0-tax_rate"[^>]*style="min-width: 5rem"', page)
