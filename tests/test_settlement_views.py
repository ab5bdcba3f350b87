"""The settlement pages: lists with totals and filters, new receipt, allocate (table → confirm),
auto-allocate (preview → confirm), offsets, write-offs, undo, the contract plan, query counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.db import db
from crm.invoicing.models import Invoice
from crm.settlement.models import Payment, Settlement
from tenants.models import Membership, Tenant
from tests.factories import add_member
from tests.helpers import in_tenant, post, text_of
from tests.settlement_factories import account_id, add_settlement_objects, make_document, make_payment


@pytest.fixture
def w(app, world_a):
    add_settlement_objects(app, world_a)
    return world_a


def _fin(client_as, w):
    return client_as(w.tenants["a"]["finance"])


def test_the_receipts_list_shows_totals_and_filters_by_unallocated(app, w, client_as):
    c = _fin(client_as, w)
    r = c.get("/w/alpha/finance/receipts")
    html = text_of(r)
    assert r.status_code == 200 and "SK-" in html
    assert 'data-testid="payments-sum">500.00' in html and 'data-testid="payments-unallocated">300.00' in html
    r = c.get(f"/w/alpha/finance/receipts?open=1&party_id={w.customer_id['a']}")
    assert "SK-" in text_of(r)
    r = c.get("/w/alpha/finance/receipts?date_from=2027-01-01")
    assert "Nothing matches" in text_of(r)


def test_lists_issue_a_constant_number_of_queries(app, w, client_as, count_queries):
    c = _fin(client_as, w)
    c.get("/w/alpha/finance/receipts")
    with count_queries() as few:
        c.get("/w/alpha/finance/receipts")
    with in_tenant(app, w.tenants["a"].id):
        tenant = db.session.get(Tenant, w.tenants["a"].id)
        actor = db.session.get(Membership, w.tenants["a"]["owner"].id)
        for _i in range(5):
            make_payment(tenant, actor, "in", w.customer_id["a"], "10.00")
        db.session.commit()
    with count_queries() as many:
        c.get("/w/alpha/finance/receipts")
    assert many.count == few.count


def test_a_new_receipt_is_saved_and_posted_and_bad_input_is_shown_beside_the_field(app, w, client_as):
    c = _fin(client_as, w)
    assert c.get("/w/alpha/finance/receipts/new").status_code == 200
    with in_tenant(app, w.tenants["a"].id):
        bank = account_id("bank")
    r = post(c, "/w/alpha/finance/receipts/new", {"party_id": w.customer_id["a"], "payment_date": "2026-03-08",
             "amount": "1.234", "account_id": bank, "post": "y"})  # fmt: skip
    assert r.status_code == 400 and "at most two decimals" in text_of(r)
    r = post(c, "/w/alpha/finance/receipts/new", {"party_id": w.customer_id["a"], "payment_date": "2026-03-08",
             "amount": "88.00", "account_id": bank, "post": "y"})  # fmt: skip
    assert r.status_code == 302
    with in_tenant(app, w.tenants["a"].id):
        p = db.session.scalars(select(Payment).where(Payment.amount == Decimal("88.00"))).one()
        assert p.status == "posted" and p.entry_id
    assert c.get(r.headers["Location"]).status_code == 200


def test_allocate_shows_a_confirmation_then_posts(app, w, client_as):
    c = _fin(client_as, w)
    rid, inv = w.receipt_id["a"], w.invoice_doc_id["a"]
    page = text_of(c.get(f"/w/alpha/finance/receipts/{rid}"))
    assert f'name="amount-{inv}" value="300.00"' in page  # the oldest-first preview prefills
    r = post(c, f"/w/alpha/finance/money/{rid}/allocate", {f"amount-{inv}": "100.00", "on": "2026-03-09"})
    assert r.status_code == 200 and "Confirm allocation" in text_of(r)
    with in_tenant(app, w.tenants["a"].id):
        assert db.session.get(Invoice, inv).open_amount == Decimal("880.00")
    r = post(
        c, f"/w/alpha/finance/money/{rid}/allocate", {f"amount-{inv}": "100.00", "on": "2026-03-09", "confirm": "1"}
    )
    assert r.status_code == 302
    with in_tenant(app, w.tenants["a"].id):
        assert db.session.get(Invoice, inv).open_amount == Decimal("780.00")
        assert db.session.get(Payment, rid).unallocated == Decimal("200.00")
    r = post(c, f"/w/alpha/finance/money/{rid}/allocate", {f"amount-{inv}": "999.00", "confirm": "1"})
    assert r.status_code == 400


def test_auto_allocate_previews_then_confirms(app, w, client_as):
    c = _fin(client_as, w)
    rid, inv = w.receipt_id["a"], w.invoice_doc_id["a"]
    r = c.get(f"/w/alpha/finance/money/{rid}/auto-allocate")
    assert r.status_code == 200 and "300.00" in text_of(r)
    r = post(c, f"/w/alpha/finance/money/{rid}/auto-allocate", {"on": "2026-03-09"})
    assert r.status_code == 302
    with in_tenant(app, w.tenants["a"].id):
        assert db.session.get(Invoice, inv).open_amount == Decimal("580.00")
        assert db.session.get(Payment, rid).unallocated == Decimal("0.00")


def test_undo_from_the_receipt_page_restores_and_keeps_the_row(app, w, client_as):
    c = _fin(client_as, w)
    sid, rid = w.settlement_id["a"], w.receipt_id["a"]
    r = post(c, f"/w/alpha/finance/settlements/{sid}/undo", {"reason": "错配", "on": "2026-03-20"})
    assert r.status_code == 302
    with in_tenant(app, w.tenants["a"].id):
        s = db.session.get(Settlement, sid)
        assert s.undone_on == date(2026, 3, 20) and s.undo_reason == "错配"
        assert db.session.get(Payment, rid).unallocated == Decimal("500.00")
    assert "Undone on 2026-03-20" in text_of(c.get(f"/w/alpha/finance/receipts/{rid}"))


def test_write_off_is_for_finance_managers_only(app, w, client_as):
    doc = w.invoice_doc_id["a"]
    assert _fin(client_as, w).get(f"/w/alpha/finance/documents/{doc}/write-off").status_code == 403
    with app.app_context():
        fm = add_member(w.tenants["a"], "finance_manager", "fm@alpha.example.com", "财务经理")
        db.session.commit()
    c = client_as(fm)
    page = text_of(c.get(f"/w/alpha/finance/documents/{doc}/write-off"))
    assert 'value="880.00"' in page
    with in_tenant(app, w.tenants["a"].id):
        acct = account_id("non_operating_expense")
    r = post(c, f"/w/alpha/finance/documents/{doc}/write-off",
             {"amount": "30.00", "account_id": acct, "settled_on": "2026-03-09", "reason": "坏账"})  # fmt: skip
    assert r.status_code == 302
    with in_tenant(app, w.tenants["a"].id):
        assert db.session.get(Invoice, doc).open_amount == Decimal("850.00")


def test_an_offset_is_reviewed_then_posted(app, w, client_as):
    c = _fin(client_as, w)
    cust, inv, bill = w.customer_id["a"], w.invoice_doc_id["a"], w.settle_bill_id["a"]
    page = text_of(c.get(f"/w/alpha/finance/offsets/new?customer={cust}"))
    assert "AR-" in page and "AP-" in page
    body = {"invoice_id": inv, "bill_id": bill, "amount": "60.00", "settled_on": "2026-03-09"}
    r = post(c, f"/w/alpha/finance/offsets/new?customer={cust}", body)
    assert r.status_code == 200 and 'name="confirm"' in text_of(r)
    r = post(c, f"/w/alpha/finance/offsets/new?customer={cust}", {**body, "confirm": "1"})
    assert r.status_code == 302
    with in_tenant(app, w.tenants["a"].id):
        assert db.session.get(Invoice, inv).open_amount == Decimal("820.00")
        assert db.session.get(Invoice, bill).open_amount == Decimal("450.00")
    assert "AP-" in text_of(c.get("/w/alpha/finance/offsets"))
    r = post(c, f"/w/alpha/finance/offsets/new?customer={cust}", {**body, "amount": "600.00", "confirm": "1"})
    assert r.status_code == 400


def test_the_contract_page_shows_planned_and_received_with_constant_queries(app, w, client_as, count_queries):
    from crm.contracts.models import Contract

    cid = w.contract_id["a"]
    c = client_as(w.tenants["a"]["owner"])
    c.get(f"/w/alpha/sales/contracts/{cid}")
    with count_queries() as before:
        r = c.get(f"/w/alpha/sales/contracts/{cid}")
    assert 'data-testid="plan-progress"' in text_of(r)
    with in_tenant(app, w.tenants["a"].id):
        tenant = db.session.get(Tenant, w.tenants["a"].id)
        actor = db.session.get(Membership, w.tenants["a"]["owner"].id)
        contract = db.session.get(Contract, cid)
        for _i in range(3):
            doc = make_document(tenant, actor, "receivable", contract.customer_id, "10.00", contract_id=cid)
            rec = make_payment(tenant, actor, "in", contract.customer_id, "10.00")
            from crm.settlement import services as st

            st.allocate(tenant, actor, rec, doc, "10.00", date(2026, 3, 9))
        db.session.commit()
    with count_queries() as after:
        r = c.get(f"/w/alpha/sales/contracts/{cid}")
    assert after.count == before.count
    assert "30.00" in text_of(r)


def test_sales_people_do_not_see_receipts(w, client_as):
    assert client_as(w.tenants["a"]["sales"]).get("/w/alpha/finance/receipts").status_code == 403


def test_the_invoice_page_lists_its_settlements_with_undo_and_write_off_links(app, w, client_as):
    if "invoicing.invoice_show" not in app.view_functions:
        pytest.skip("the invoice page is not there yet")
    with app.test_request_context():
        from flask import url_for

        url = url_for("invoicing.invoice_show", slug="alpha", invoice_id=w.invoice_doc_id["a"])
    html = text_of(client_as(w.tenants["a"]["owner"]).get(url))
    assert 'data-testid="document-settlements"' in html
    assert f"/finance/settlements/{w.settlement_id['a']}/undo" in html
    assert f"/finance/documents/{w.invoice_doc_id['a']}/write-off" in html
    html = text_of(client_as(w.tenants["a"]["finance"]).get(url))
    assert "/write-off" not in html  # plain finance may not write off
