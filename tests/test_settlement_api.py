"""/api/v1 receipts, payments, allocations, offsets, write-offs: the UI's rules, rules named."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.db import db
from crm.invoicing.models import Invoice
from crm.settlement.models import Payment, Settlement
from tests.factories import add_member
from tests.helpers import ApiClient, in_tenant
from tests.settlement_factories import account_id, add_settlement_objects


@pytest.fixture
def w(app, world_a):
    add_settlement_objects(app, world_a)
    return world_a


@pytest.fixture
def fin(client, token_for, w):
    return ApiClient(client, token_for(w.tenants["a"]["finance"]))


def test_a_receipt_is_created_as_a_draft_patched_posted_and_listed(app, w, fin):
    cust = w.customer_id["a"]
    r = fin.post("/receipts", {"customer": cust, "date": "2026-03-09", "amount": "120.00", "reference": "B-1"})
    assert r.status_code == 201, r.json
    body = r.json
    assert body["status"] == "draft" and body["number"].startswith("SK-")
    r = fin.patch(f"/receipts/{body['id']}", {"amount": "150.50"})
    assert r.status_code == 200 and r.json["amount"] == "150.50"
    r = fin.post(f"/receipts/{body['id']}/post")
    assert r.status_code == 200 and r.json["status"] == "posted" and r.json["unallocated"] == "150.50"
    r = fin.get(f"/receipts?party={cust}&unallocated=true")
    assert {x["id"] for x in r.json["items"]} == {body["id"], w.receipt_id["a"]}
    assert fin.get(f"/payments/{body['id']}").status_code == 404  # a receipt is not a payment


def test_bad_input_answers_422_per_field(w, fin):
    r = fin.post("/receipts", {"customer": 999999, "amount": "-1", "post": True})
    assert r.status_code == 422
    assert set(r.json["errors"]["json"]) >= {"customer_id", "amount"}


def test_allocation_names_the_rule_when_over_and_undo_is_a_delete(app, w, fin):
    rid, inv = w.receipt_id["a"], w.invoice_doc_id["a"]
    r = fin.post("/allocations", {"payment": rid, "invoice": inv, "amount": "300.01", "date": "2026-03-09"})
    assert r.status_code == 422 and r.json["rule"] == "over_allocation"
    r = fin.post("/allocations", {"payment": rid, "invoice": inv, "amount": "100.00", "date": "2026-03-09"})
    assert r.status_code == 201 and r.json["items"][0]["amount"] == "100.00"
    sid = r.json["items"][0]["id"]
    assert {x["id"] for x in fin.get(f"/allocations?payment={rid}").json["items"]} == {sid, w.settlement_id["a"]}
    r = fin.client.delete(f"/api/v1/allocations/{sid}?reason=wrong", headers=fin.h)
    assert r.status_code == 204
    with in_tenant(app, w.tenants["a"].id):
        s = db.session.get(Settlement, sid)
        assert s.undone_on is not None and s.undo_reason == "wrong"
        assert db.session.get(Payment, rid).unallocated == Decimal("300.00")
    assert fin.delete(f"/allocations/{sid}").json["rule"] == "already_undone"
    assert fin.delete(f"/offsets/{w.settlement_id['a']}").status_code == 404  # an allocation is not an offset


def test_auto_allocation_through_the_api(app, w, fin):
    r = fin.post("/allocations", {"payment": w.receipt_id["a"], "auto": True, "date": "2026-03-09"})
    assert r.status_code == 201 and [x["amount"] for x in r.json["items"]] == ["300.00"]


def test_offsets_and_their_rules(app, w, fin):
    inv, bill = w.invoice_doc_id["a"], w.settle_bill_id["a"]
    r = fin.post("/offsets", {"invoice": inv, "bill": bill, "amount": "9999.00", "date": "2026-03-09"})
    assert r.status_code == 422 and r.json["rule"] == "over_allocation"
    r = fin.post("/offsets", {"invoice": inv, "bill": bill, "amount": "10.00", "date": "2026-03-09"})
    assert r.status_code == 201 and r.json["kind"] == "offset"
    assert len(fin.get(f"/offsets?bill={bill}").json["items"]) == 2
    assert fin.delete(f"/offsets/{r.json['id']}").status_code == 204


def test_write_offs_need_books_write_off(app, w, fin, client, token_for):
    doc = w.invoice_doc_id["a"]
    with in_tenant(app, w.tenants["a"].id):
        acct = account_id("non_operating_expense")
    body = {"document": doc, "amount": "1.00", "account": acct, "reason": "坏账", "date": "2026-03-09"}
    assert fin.post("/write-offs", body).status_code == 403
    assert fin.delete(f"/write-offs/{w.write_off_id['a']}").status_code == 403
    assert fin.get("/write-offs").status_code == 200
    with app.app_context():
        fm = add_member(w.tenants["a"], "finance_manager", "fm@alpha.example.com", "财务经理")
        db.session.commit()
    mgr = ApiClient(client, token_for(fm))
    r = mgr.post("/write-offs", body)
    assert r.status_code == 201 and r.json["kind"] == "write_off"
    with in_tenant(app, w.tenants["a"].id):
        assert db.session.get(Invoice, doc).open_amount == Decimal("879.00")
    assert mgr.delete(f"/write-offs/{r.json['id']}").status_code == 204


def test_a_payment_with_nothing_allocated_is_reversed(app, w, fin):
    pid = w.supplier_payment_id["a"]
    r = fin.post(f"/payments/{pid}/reverse", {"date": "2026-03-20", "reason": "退回"})
    assert r.status_code == 200 and r.json["status"] == "reversed" and r.json["reversed_on"] == "2026-03-20"
    r = fin.post(f"/receipts/{w.receipt_id['a']}/reverse", {})
    assert r.status_code == 422 and r.json["rule"] == "has_allocations"
