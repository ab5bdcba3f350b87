"""Settlement rules (crm.settlement.services): receipts and payments, allocations both ways,
over-allocation, auto-allocation, offsets, write-offs, undo by reversal, the contract plan."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.books.errors import RuleViolation
from crm.books.models import JournalEntry
from crm.db import db
from crm.invoicing.models import Invoice
from crm.sales.services import InvalidInput
from crm.settlement import services as st
from crm.settlement.balances import residuals_as_of, unallocated_as_of
from crm.settlement.models import Payment, Settlement
from roles.checks import PermissionDenied
from tenants.context import tenant_context
from tenants.models import Membership, Tenant
from tests import factories
from tests.factories import add_member, member_row
from tests.helpers import in_tenant
from tests.settlement_factories import account_id, balance, make_document, make_payment, make_supplier, setup_books

D = date(2026, 3, 10)


@pytest.fixture
def ctx(app, tenant_a):
    """Inside workspace a: (tenant, finance member, customer id)."""
    with in_tenant(app, tenant_a.id):
        tenant = db.session.get(Tenant, tenant_a.id)
        fin = member_row(tenant_a["finance"])
        setup_books(tenant, fin)
        customer, _c = factories.make_customer(member_row(tenant_a["sales"]), "甲客户有限公司")
        db.session.flush()
        yield tenant, fin, customer.id


def _entries_balance() -> None:
    for e in db.session.scalars(select(JournalEntry).where(JournalEntry.status == "posted")):
        assert sum(x.debit for x in e.lines) == sum(x.credit for x in e.lines) == e.total


def test_a_posted_receipt_credits_the_customer_advance_and_is_all_unallocated(ctx):
    tenant, fin, cust = ctx
    r = make_payment(tenant, fin, "in", cust, "300.00")
    assert r.number.startswith("SK-") and r.status == "posted" and r.unallocated == Decimal("300.00")
    assert balance("bank") == Decimal("300.00")
    assert balance("customer_advance", ("customer", cust)) == Decimal("-300.00")
    entry = db.session.get(JournalEntry, r.entry_id)
    assert (entry.source_type, entry.source_id) == ("receipt", r.id)


def test_bad_receipt_input_names_each_field_and_creates_nothing(ctx):
    tenant, fin, _cust = ctx
    with pytest.raises(InvalidInput) as err:
        st.create_payment(tenant, fin, st.PaymentInput("in", None, "1.001", account_id("revenue"), customer_id=999))
    assert set(err.value.errors) == {"payment_date", "amount", "account_id", "customer_id"}
    assert db.session.scalar(select(Payment.id)) is None


def test_one_receipt_to_several_invoices_and_one_invoice_from_several_receipts(ctx):
    tenant, fin, cust = ctx
    inv1 = make_document(tenant, fin, "receivable", cust, "1000.00")
    inv2 = make_document(tenant, fin, "receivable", cust, "500.00")
    r1 = make_payment(tenant, fin, "in", cust, "800.00")
    st.allocate(tenant, fin, r1, inv1, "600.00", D)
    st.allocate(tenant, fin, r1, inv2, "200.00", D)
    assert r1.unallocated == Decimal("0.00")
    assert (inv1.open_amount, inv2.open_amount) == (Decimal("400.00"), Decimal("300.00"))
    r2 = make_payment(tenant, fin, "in", cust, "1000.00")
    st.allocate(tenant, fin, r2, inv1, "400.00", D)
    assert inv1.open_amount == Decimal("0.00") and inv1.status == "paid"
    assert r2.unallocated == Decimal("600.00")
    # 预收 equals the money not allocated; 应收 equals what is open.
    assert -balance("customer_advance", ("customer", cust)) == Decimal("600.00")
    assert balance("receivable", ("customer", cust)) == Decimal("300.00")
    assert sum(unallocated_as_of("in", D).values()) == Decimal("600.00")
    assert residuals_as_of("receivable", D) == {inv2.id: Decimal("300.00")}
    _entries_balance()


@pytest.mark.parametrize("amount", ["300.01", "500.01"])
def test_over_allocation_is_refused_on_either_side_and_changes_nothing(ctx, amount):
    tenant, fin, cust = ctx
    inv = make_document(tenant, fin, "receivable", cust, "500.00")
    r = make_payment(tenant, fin, "in", cust, "300.00") if amount == "300.01" else None
    if r is None:
        r = make_payment(tenant, fin, "in", cust, "900.00")
    db.session.commit()
    before = (r.unallocated, inv.open_amount)
    with pytest.raises(RuleViolation) as err:
        st.allocate(tenant, fin, r, inv, amount, D)
    assert err.value.rule == "over_allocation" and "amount" in err.value.errors
    db.session.rollback()
    assert (r.unallocated, inv.open_amount) == before
    assert db.session.scalar(select(Settlement.id)) is None


def test_allocation_needs_the_same_party_and_direction_and_a_date_after_both(ctx, tenant_a):
    tenant, fin, cust = ctx
    other, _c = factories.make_customer(member_row(tenant_a["sales"]), "乙客户")
    inv = make_document(tenant, fin, "receivable", other.id, "100.00")
    r = make_payment(tenant, fin, "in", cust, "100.00")
    with pytest.raises(RuleViolation) as err:
        st.allocate(tenant, fin, r, inv, "10", D)
    assert err.value.rule == "not_same_party"
    sup = make_supplier("供应商")
    bill = make_document(tenant, fin, "payable", sup.id, "100.00")
    with pytest.raises(RuleViolation) as err:
        st.allocate(tenant, fin, r, bill, "10", D)
    assert err.value.rule == "wrong_direction"
    mine = make_document(tenant, fin, "receivable", cust, "100.00")
    with pytest.raises(InvalidInput) as err:
        st.allocate(tenant, fin, r, mine, "10", date(2026, 3, 2))
    assert "date" in err.value.errors


def test_a_payment_to_a_supplier_settles_its_bill(ctx):
    tenant, fin, _cust = ctx
    sup = make_supplier("供应商")
    bill = make_document(tenant, fin, "payable", sup.id, "226.00")
    p = make_payment(tenant, fin, "out", sup.id, "300.00")
    assert p.number.startswith("FK-") and balance("prepayment", ("supplier", sup.id)) == Decimal("300.00")
    st.allocate(tenant, fin, p, bill, "226.00", D)
    assert bill.status == "paid" and p.unallocated == Decimal("74.00")
    assert balance("prepayment", ("supplier", sup.id)) == Decimal("74.00")
    assert balance("payable", ("supplier", sup.id)) == Decimal("0.00")
    _entries_balance()


def test_auto_allocation_goes_oldest_first_and_matches_its_preview(ctx):
    tenant, fin, cust = ctx
    late = make_document(tenant, fin, "receivable", cust, "100.00", date(2026, 2, 1), date(2026, 4, 30))
    early = make_document(tenant, fin, "receivable", cust, "100.00", date(2026, 2, 20), date(2026, 3, 1))
    mid = make_document(tenant, fin, "receivable", cust, "100.00", date(2026, 2, 10), date(2026, 3, 15))
    r = make_payment(tenant, fin, "in", cust, "150.00")
    preview = st.allocation_preview(r)
    assert [(d.id, a) for d, a in preview] == [(early.id, Decimal("100.00")), (mid.id, Decimal("50.00"))]
    assert [(d.id, a) for d, a in st.allocation_preview(r, Decimal("30"))] == [(early.id, Decimal("30.00"))]
    done = st.auto_allocate(tenant, fin, r, D)
    assert [(s.invoice_id, s.amount) for s in done] == [(d.id, a) for d, a in preview]
    assert (early.open_amount, mid.open_amount, late.open_amount) == (
        Decimal("0.00"), Decimal("50.00"), Decimal("100.00"),
    )  # fmt: skip
    assert r.unallocated == Decimal("0.00")
    with pytest.raises(RuleViolation) as err:
        st.auto_allocate(tenant, fin, r, D)
    assert err.value.rule == "nothing_to_allocate"


def test_an_offset_moves_the_payable_against_the_receivable_of_one_party(ctx):
    tenant, fin, cust = ctx
    sup = make_supplier("既是客户也是供应商", customer_id=cust)
    inv = make_document(tenant, fin, "receivable", cust, "1000.00")
    bill = make_document(tenant, fin, "payable", sup.id, "300.00")
    s = st.offset(tenant, fin, inv, bill, "300.00", D)
    assert (inv.open_amount, bill.open_amount, bill.status) == (Decimal("700.00"), Decimal("0.00"), "paid")
    lines = {(x.account.role, x.party_type): (x.debit, x.credit) for x in s.entry.lines}
    assert lines == {
        ("payable", "supplier"): (Decimal("300.00"), Decimal("0.00")),
        ("receivable", "customer"): (Decimal("0.00"), Decimal("300.00")),
    }
    assert balance("receivable", ("customer", cust)) == Decimal("700.00")
    with pytest.raises(RuleViolation) as err:
        st.offset(tenant, fin, inv, bill, "0.01", D)
    assert err.value.rule == "over_allocation"
    stranger = make_supplier("无关供应商")
    other_bill = make_document(tenant, fin, "payable", stranger.id, "50.00")
    with pytest.raises(RuleViolation) as err:
        st.offset(tenant, fin, inv, other_bill, "10", D)
    assert err.value.rule == "not_same_party"
    _entries_balance()


def test_write_off_needs_books_write_off_a_reason_and_stays_within_the_open_amount(ctx, app, tenant_a):
    tenant, fin, cust = ctx
    inv = make_document(tenant, fin, "receivable", cust, "100.00")
    acct = account_id("non_operating_expense")
    with pytest.raises(PermissionDenied):
        st.write_off(tenant, fin, inv, "1.00", acct, "坏账")
    db.session.commit()
    mgr_info = add_member(tenant_a, "finance_manager", "fm@alpha.example.com", "财务经理")
    mgr = db.session.get(Membership, mgr_info.id)
    with pytest.raises(InvalidInput) as err:
        st.write_off(tenant, mgr, inv, "1.00", acct, " ")
    assert "reason" in err.value.errors
    with pytest.raises(RuleViolation) as err:
        st.write_off(tenant, mgr, inv, "100.01", acct, "坏账", D)
    assert err.value.rule == "over_allocation"
    s = st.write_off(tenant, mgr, inv, "100.00", acct, "坏账", D)
    assert inv.status == "paid" and s.kind == "write_off" and s.reason == "坏账"
    assert balance("non_operating_expense") == Decimal("100.00")
    assert balance("receivable", ("customer", cust)) == Decimal("0.00")
    with pytest.raises(PermissionDenied):
        st.undo_settlement(tenant, fin, s, D)
    st.undo_settlement(tenant, mgr, s, D, "误操作")
    assert inv.open_amount == Decimal("100.00") and inv.status == "posted"
    assert balance("non_operating_expense") == Decimal("0.00")


def test_a_payable_write_off_credits_the_chosen_income_account(ctx, tenant_a):
    tenant, _fin, _cust = ctx
    owner = member_row(tenant_a["owner"])
    sup = make_supplier("供应商")
    bill = make_document(tenant, owner, "payable", sup.id, "100.00")
    st.write_off(tenant, owner, bill, "0.50", account_id("non_operating_income"), "尾差", D)
    assert balance("non_operating_income") == Decimal("-0.50")
    assert balance("payable", ("supplier", sup.id)) == Decimal("-99.50")


def test_undo_restores_every_balance_exactly_and_keeps_the_row(ctx):
    tenant, fin, cust = ctx
    inv = make_document(tenant, fin, "receivable", cust, "1000.00")
    r = make_payment(tenant, fin, "in", cust, "1000.00")
    s = st.allocate(tenant, fin, r, inv, "1000.00", D)
    assert inv.status == "paid"
    st.undo_settlement(tenant, fin, s, date(2026, 3, 20), "错配")
    assert (r.unallocated, inv.open_amount, inv.status) == (Decimal("1000.00"), Decimal("1000.00"), "posted")
    assert s.undone_on == date(2026, 3, 20) and s.undo_reason == "错配" and s.undo_entry_id
    assert db.session.get(Settlement, s.id) is not None
    assert balance("receivable", ("customer", cust)) == Decimal("1000.00")
    assert -balance("customer_advance", ("customer", cust)) == Decimal("1000.00")
    # As of a date before the undo, the allocation still counted.
    assert residuals_as_of("receivable", date(2026, 3, 15)) == {}
    assert residuals_as_of("receivable", date(2026, 3, 20)) == {inv.id: Decimal("1000.00")}
    with pytest.raises(RuleViolation) as err:
        st.undo_settlement(tenant, fin, s, D)
    assert err.value.rule == "already_undone"
    _entries_balance()


def test_a_receipt_is_reversed_only_with_nothing_allocated_and_drafts_edit_and_delete(ctx):
    tenant, fin, cust = ctx
    inv = make_document(tenant, fin, "receivable", cust, "100.00")
    r = make_payment(tenant, fin, "in", cust, "100.00")
    s = st.allocate(tenant, fin, r, inv, "40", D)
    with pytest.raises(RuleViolation) as err:
        st.reverse_payment(tenant, fin, r, D)
    assert err.value.rule == "has_allocations"
    st.undo_settlement(tenant, fin, s, D)
    st.reverse_payment(tenant, fin, r, D, "退回")
    assert r.status == "reversed" and r.reversed_on == D
    assert balance("bank") == Decimal("0.00")
    with pytest.raises(RuleViolation):
        st.allocate(tenant, fin, r, inv, "1", D)
    draft = make_payment(tenant, fin, "in", cust, "10.00", post=False)
    assert draft.status == "draft" and draft.entry_id is None
    st.update_payment(tenant, fin, draft, st.PaymentInput("in", D, "12.50", None, customer_id=cust, memo="x"))
    assert draft.amount == Decimal("12.50") == draft.unallocated
    st.delete_payment(fin, draft)
    with pytest.raises(RuleViolation) as err:
        st.delete_payment(fin, r)
    assert err.value.rule == "posted_is_final"


def test_nothing_settles_into_a_closed_month(ctx):
    from crm.books.models import FiscalPeriod

    tenant, fin, cust = ctx
    inv = make_document(tenant, fin, "receivable", cust, "100.00")
    r = make_payment(tenant, fin, "in", cust, "100.00")
    db.session.add(FiscalPeriod(year=2026, month=3, status="closed"))
    db.session.commit()
    with pytest.raises(RuleViolation) as err:
        st.allocate(tenant, fin, r, inv, "10", D)
    assert err.value.rule == "period_closed"
    db.session.rollback()
    assert db.session.get(Invoice, inv.id).open_amount == Decimal("100.00")


def test_plan_progress_fills_the_instalments_in_due_date_order(ctx, tenant_a):
    from crm.contracts.models import ContractPayment
    from tests.contract_factories import make_contract

    tenant, fin, cust = ctx
    contract = make_contract(member_row(tenant_a["sales"]), cust)
    for p in list(contract.payments):
        db.session.delete(p)
    db.session.flush()
    db.session.add_all([
        ContractPayment(contract_id=contract.id, position=1, due_on=date(2026, 6, 1), amount=Decimal("600.00")),
        ContractPayment(contract_id=contract.id, position=0, due_on=date(2026, 4, 1), amount=Decimal("400.00")),
    ])  # fmt: skip
    db.session.flush()
    inv = make_document(tenant, fin, "receivable", cust, "1000.00", contract_id=contract.id)
    r = make_payment(tenant, fin, "in", cust, "700.00")
    s = st.allocate(tenant, fin, r, inv, "500.00", D)
    rows = st.plan_progress(contract)
    assert [(x.due_on, x.planned, x.received, x.outstanding) for x in rows] == [
        (date(2026, 4, 1), Decimal("400.00"), Decimal("400.00"), Decimal("0.00")),
        (date(2026, 6, 1), Decimal("600.00"), Decimal("100.00"), Decimal("500.00")),
    ]
    st.undo_settlement(tenant, fin, s, D)
    assert [x.received for x in st.plan_progress(contract)] == [Decimal("0.00"), Decimal("0.00")]


def test_every_settlement_and_undo_is_in_the_audit_log(ctx):
    from crm.audit.models import AuditEntry

    tenant, fin, cust = ctx
    inv = make_document(tenant, fin, "receivable", cust, "100.00")
    r = make_payment(tenant, fin, "in", cust, "100.00")
    s = st.allocate(tenant, fin, r, inv, "10", D)
    st.undo_settlement(tenant, fin, s, D)
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "Settlement")))
    assert actions == {"settlement.allocate", "settlement.undo"}


@pytest.mark.postgres
def test_two_threads_allocating_the_same_receipt_never_over_allocate(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        tenant = db.session.get(Tenant, tenant_a.id)
        fin = member_row(tenant_a["finance"])
        setup_books(tenant, fin)
        customer, _c = factories.make_customer(member_row(tenant_a["sales"]), "并发客户")
        inv1 = make_document(tenant, fin, "receivable", customer.id, "1000.00")
        inv2 = make_document(tenant, fin, "receivable", customer.id, "1000.00")
        r = make_payment(tenant, fin, "in", customer.id, "1000.00")
        db.session.commit()
        ids = (r.id, inv1.id, inv2.id)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def worker(invoice_id: int) -> None:
        try:
            with app.app_context(), tenant_context(tenant_a.id):
                t = db.session.get(Tenant, tenant_a.id)
                actor = db.session.get(Membership, tenant_a["finance"].id)
                pay = db.session.get(Payment, ids[0])
                doc = db.session.get(Invoice, invoice_id)
                barrier.wait()
                try:
                    st.allocate(t, actor, pay, doc, "700.00", D)
                    db.session.commit()
                    outcomes.append("ok")
                except RuleViolation as err:
                    db.session.rollback()
                    outcomes.append(err.rule)
        except BaseException as err:  # noqa: BLE001 (reported by the main thread)
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(i,)) for i in ids[1:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(outcomes) == ["ok", "over_allocation"]
    with in_tenant(app, tenant_a.id):
        r = db.session.get(Payment, ids[0])
        total = sum(s.amount for s in db.session.scalars(select(Settlement).where(Settlement.payment_id == r.id)))
        assert total == Decimal("700.00") and r.unallocated == Decimal("300.00")
