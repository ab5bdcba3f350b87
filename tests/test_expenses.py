"""Expense claims and advances (crm.expenses.services): every status transition, the refusal of
self-approval at each step, the posting (balanced, on the categories' sub-accounts, VAT, the
advance set-off), categories and their accounts, and the report."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.books import services as books
from crm.books.errors import RuleViolation
from crm.books.models import JournalEntry
from crm.db import db
from crm.expenses import services
from crm.expenses.models import ExpenseCategory, ExpenseClaim, ExpenseEvent
from crm.notifications.models import Notification
from crm.sales.services import InvalidInput
from roles.checks import PermissionDenied
from tenants.models import Membership, Tenant
from tests.area_expenses import category_id, claim_input, make_advance, make_claim, paid_claim
from tests.books_factories import setup_books
from tests.factories import add_member
from tests.helpers import in_tenant

D = Decimal
PAY_DAY = date(2026, 3, 10)


@pytest.fixture
def books_a(app, tenant_a):
    with in_tenant(app, tenant_a.id, tenant_a["owner"].user_id):
        setup_books(db.session.get(Tenant, tenant_a.id))
        db.session.commit()
    return tenant_a


def _ctx(app, t):
    return in_tenant(app, t.id, t["owner"].user_id)


def m(t, role) -> Membership:
    return db.session.get(Membership, t[role].id)


def tenant(t) -> Tenant:
    return db.session.get(Tenant, t.id)


def _lines(entry: JournalEntry) -> list[tuple[str | None, Decimal, Decimal, str | None, int | None]]:
    return [(x.account.role or x.account.code, x.debit, x.credit, x.party_type, x.party_id) for x in entry.lines]


# ---------------------------------------------------------------- the flow


def test_a_claim_goes_from_draft_to_paid_through_every_status_and_the_timeline_shows_each(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss, fin = m(t, "sales"), m(t, "sales_manager"), m(t, "finance")
        claim = make_claim(rep)
        assert claim.status == "draft" and claim.number.startswith("BX-")
        services.submit_claim(tenant(t), rep, claim)
        assert (claim.status, claim.approver_id) == ("submitted", boss.id)
        services.approve_claim(tenant(t), boss, claim)
        assert claim.status == "approved" and claim.approved_by_id == boss.id
        services.review_claim(tenant(t), fin, claim)
        assert claim.status == "reviewed" and claim.reviewed_by_id == fin.id
        services.pay_claims(tenant(t), fin, [claim], PAY_DAY)
        assert claim.status == "paid" and claim.entry_id is not None and claim.paid_on == PAY_DAY
        actions = [e.action for e in services.timeline(claim)]
        assert actions == ["created", "submitted", "approved", "reviewed", "paid", "posted"]
        db.session.commit()


def test_a_rejected_claim_carries_the_reason_and_is_corrected_and_submitted_again(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss = m(t, "sales"), m(t, "sales_manager")
        claim = make_claim(rep)
        services.submit_claim(tenant(t), rep, claim)
        with pytest.raises(InvalidInput) as no_reason:
            services.reject_claim(tenant(t), boss, claim, "  ")
        assert "comment" in no_reason.value.errors and claim.status == "submitted"
        services.reject_claim(tenant(t), boss, claim, "发票抬头不对")
        assert claim.status == "rejected" and claim.comment == "发票抬头不对"
        notes = db.session.scalars(select(Notification).where(Notification.recipient_id == rep.id)).all()
        assert any("发票抬头不对" in n.title for n in notes)
        services.update_claim(tenant(t), rep, claim, claim_input(amount="88.00", title="更正后"))
        assert claim.total == D("88.00") and claim.status == "rejected"
        services.submit_claim(tenant(t), rep, claim)
        assert claim.status == "submitted" and claim.comment is None
        events = services.timeline(claim)
        assert [e.action for e in events] == ["created", "submitted", "rejected", "resubmitted"]
        assert events[2].comment == "发票抬头不对"


def test_finance_sends_an_approved_claim_back_rejected(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss, fin = m(t, "sales"), m(t, "sales_manager"), m(t, "finance")
        claim = make_claim(rep)
        services.submit_claim(tenant(t), rep, claim)
        services.approve_claim(tenant(t), boss, claim)
        with pytest.raises(PermissionDenied):
            services.reject_claim(tenant(t), boss, claim, "no")  # past the manager's step
        services.reject_claim(tenant(t), fin, claim, "缺少发票")
        assert claim.status == "rejected" and claim.approved_by_id is None


def test_steps_out_of_order_are_refused_and_change_nothing(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss, fin = m(t, "sales"), m(t, "sales_manager"), m(t, "finance")
        claim = make_claim(rep)
        for step in (lambda: services.approve_claim(tenant(t), boss, claim),
                     lambda: services.review_claim(tenant(t), fin, claim),
                     lambda: services.pay_claims(tenant(t), fin, [claim], PAY_DAY)):  # fmt: skip
            with pytest.raises(RuleViolation) as refused:
                step()
            assert refused.value.rule == "wrong_status"
        assert claim.status == "draft"
        services.submit_claim(tenant(t), rep, claim)
        with pytest.raises(RuleViolation):
            services.submit_claim(tenant(t), rep, claim)
        with pytest.raises(RuleViolation) as locked:
            services.update_claim(tenant(t), rep, claim, claim_input())
        assert locked.value.rule == "locked"


def test_a_paid_claim_is_locked(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, fin = m(t, "sales"), m(t, "finance")
        claim = paid_claim(rep, m(t, "sales_manager"), fin, PAY_DAY)
        for step in (lambda: services.update_claim(tenant(t), rep, claim, claim_input()),
                     lambda: services.delete_claim(rep, claim),
                     lambda: services.submit_claim(tenant(t), rep, claim),
                     lambda: services.reject_claim(tenant(t), fin, claim, "late"),
                     lambda: services.pay_claims(tenant(t), fin, [claim], PAY_DAY)):  # fmt: skip
            with pytest.raises(RuleViolation):
                step()
        assert claim.status == "paid"


def test_only_the_claimant_edits_submits_or_deletes_their_claim(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss = m(t, "sales"), m(t, "sales_manager")
        claim = make_claim(rep)
        for step in (lambda: services.update_claim(tenant(t), boss, claim, claim_input()),
                     lambda: services.submit_claim(tenant(t), boss, claim),
                     lambda: services.delete_claim(boss, claim)):  # fmt: skip
            with pytest.raises(PermissionDenied):
                step()
        claim_id = claim.id
        services.delete_claim(rep, claim)
        assert db.session.get(ExpenseClaim, claim_id) is None


# ---------------------------------------------------------------- who approves; nobody their own


def test_only_the_managers_approval_counts_when_the_claimant_has_one(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, fin, owner = m(t, "sales"), m(t, "finance"), m(t, "owner")
        claim = make_claim(rep)
        services.submit_claim(tenant(t), rep, claim)
        for other in (fin, owner):
            with pytest.raises(PermissionDenied):
                services.approve_claim(tenant(t), other, claim)
        assert claim.status == "submitted"
        notes = db.session.scalars(select(Notification).where(Notification.kind == "expense.submitted")).all()
        assert [n.recipient_id for n in notes] == [t["sales_manager"].id]


def test_without_a_manager_any_member_with_expenses_pay_approves_but_others_do_not(app, books_a):
    t = books_a
    with _ctx(app, t):
        boss, fin, rep = m(t, "sales_manager"), m(t, "finance"), m(t, "sales")
        claim = make_claim(boss)  # the sales manager reports to nobody
        services.submit_claim(tenant(t), boss, claim)
        assert claim.approver_id is None
        with pytest.raises(PermissionDenied):
            services.approve_claim(tenant(t), rep, claim)
        told = {
            n.recipient_id
            for n in db.session.scalars(select(Notification).where(Notification.kind == "expense.submitted"))
        }
        assert t["finance"].id in told and t["owner"].id in told and t["sales_manager"].id not in told
        services.approve_claim(tenant(t), fin, claim)
        assert claim.status == "approved"


def test_nobody_approves_rejects_reviews_or_pays_their_own_claim(app, books_a):
    t = books_a
    with _ctx(app, t):
        fin, owner = m(t, "finance"), m(t, "owner")
        claim = make_claim(fin)  # finance files a claim: reports to nobody, so payers approve
        services.submit_claim(tenant(t), fin, claim)
        for step in (lambda: services.approve_claim(tenant(t), fin, claim),
                     lambda: services.reject_claim(tenant(t), fin, claim, "x")):  # fmt: skip
            with pytest.raises(RuleViolation) as refused:
                step()
            assert refused.value.rule == "self_approval"
        services.approve_claim(tenant(t), owner, claim)
        with pytest.raises(RuleViolation) as own_review:
            services.review_claim(tenant(t), fin, claim)
        assert own_review.value.rule == "self_approval" and claim.status == "approved"
        services.review_claim(tenant(t), owner, claim)
        with pytest.raises(RuleViolation) as own_pay:
            services.pay_claims(tenant(t), fin, [claim], PAY_DAY)
        assert own_pay.value.rule == "self_approval" and claim.status == "reviewed" and claim.entry_id is None
        services.pay_claims(tenant(t), owner, [claim], PAY_DAY)
        assert claim.status == "paid"


def test_a_manager_who_reports_to_themselves_does_not_approve_their_own(app, books_a):
    t = books_a
    with _ctx(app, t):
        boss = m(t, "sales_manager")
        boss.reports_to_id = boss.id
        db.session.flush()
        claim = make_claim(boss)
        services.submit_claim(tenant(t), boss, claim)
        assert claim.approver_id is None
        with pytest.raises(RuleViolation) as refused:
            services.approve_claim(tenant(t), boss, claim)
        assert refused.value.rule == "self_approval"


def test_a_batch_with_ones_own_claim_pays_none_of_them(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss, fin, owner = m(t, "sales"), m(t, "sales_manager"), m(t, "finance"), m(t, "owner")
        theirs = make_claim(rep)
        services.submit_claim(tenant(t), rep, theirs)
        services.approve_claim(tenant(t), boss, theirs)
        services.review_claim(tenant(t), fin, theirs)
        own = make_claim(fin)
        services.submit_claim(tenant(t), fin, own)
        services.approve_claim(tenant(t), owner, own)
        services.review_claim(tenant(t), owner, own)
        with pytest.raises(RuleViolation) as refused:
            services.pay_claims(tenant(t), fin, [theirs, own], PAY_DAY)
        assert refused.value.rule == "self_approval"
        assert theirs.status == own.status == "reviewed"
        assert db.session.scalars(select(JournalEntry).where(JournalEntry.source_type == "expense_claim")).all() == []


def test_members_without_expenses_pay_neither_review_nor_pay(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss = m(t, "sales"), m(t, "sales_manager")
        claim = make_claim(rep)
        services.submit_claim(tenant(t), rep, claim)
        services.approve_claim(tenant(t), boss, claim)
        with pytest.raises(PermissionDenied):
            services.review_claim(tenant(t), boss, claim)
        claim.status = "reviewed"
        with pytest.raises(PermissionDenied):
            services.pay_claims(tenant(t), boss, [claim], PAY_DAY)


# ---------------------------------------------------------------- posting


def test_paying_posts_one_balanced_entry_on_the_category_sub_accounts_and_input_vat(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss, fin = m(t, "sales"), m(t, "sales_manager"), m(t, "finance")
        data = claim_input()
        data.lines = [
            {"expense_date": "2026-03-01", "category_id": category_id("travel"), "amount": "1090.00",
             "input_vat": "90.00", "invoice_number": "24310000000012345678", "description": "高铁 上海—北京"},
            {"expense_date": "2026-03-02", "category_id": category_id("travel"), "amount": "500.00",
             "description": "酒店"},
            {"expense_date": "2026-03-02", "category_id": category_id("entertainment"), "amount": "300.00",
             "description": "客户晚餐"},
        ]  # fmt: skip
        claim = services.create_claim(tenant(t), rep, data)
        assert (claim.total, claim.total_vat) == (D("1890.00"), D("90.00"))
        paid_claim(rep, boss, fin, PAY_DAY, claim=claim)
        entry = db.session.get(JournalEntry, claim.entry_id)
        assert entry.status == "posted" and entry.entry_date == PAY_DAY
        assert entry.source_type == "expense_claim" and entry.source_id == claim.id
        assert sum(x.debit for x in entry.lines) == sum(x.credit for x in entry.lines) == D("1890.00")
        got = sorted(_lines(entry), key=lambda x: str(x))
        assert got == sorted([
            ("expense_travel", D("1500.00"), D("0.00"), None, None),
            ("expense_entertainment", D("300.00"), D("0.00"), None, None),
            ("vat_input", D("90.00"), D("0.00"), None, None),
            ("bank", D("0.00"), D("1890.00"), "employee", rep.id),
        ], key=lambda x: str(x))  # fmt: skip
        travel = books.account_for("expense_travel")
        admin = books.account_for("admin_expense")
        assert travel.parent_id == admin.id and travel.code.startswith(admin.code) and travel.name_zh == "差旅费"
        assert not any(x.account_id == admin.id for x in entry.lines)  # never the first-level account


def test_a_claim_with_a_department_posts_its_expense_lines_to_that_department(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep = m(t, "sales")
        dept = books.save_department(m(t, "finance"), "销售一部")
        data = claim_input()
        data.department_id = dept.id
        claim = services.create_claim(tenant(t), rep, data)
        paid_claim(rep, m(t, "sales_manager"), m(t, "finance"), PAY_DAY, claim=claim)
        entry = db.session.get(JournalEntry, claim.entry_id)
        assert [x.department_id for x in entry.lines if x.debit] == [dept.id]


def test_finance_remaps_a_category_to_another_leaf_expense_account_and_claims_post_there(app, books_a):
    t = books_a
    with _ctx(app, t):
        fin = m(t, "finance")
        cat = db.session.get(ExpenseCategory, category_id("entertainment"))
        selling = books.account_for("selling_expense")
        with pytest.raises(InvalidInput):
            services.map_category(tenant(t), fin, cat, selling.id)  # a first-level account: refused
        target = books.ensure_sub_account(
            tenant(t), fin, "selling_expense", "selling_entertainment", "业务招待费", "Ent"
        )
        with pytest.raises(InvalidInput):
            services.map_category(tenant(t), fin, cat, books.account_for("bank").id)  # not an expense account
        with pytest.raises(PermissionDenied):
            services.map_category(tenant(t), m(t, "sales"), cat, target.id)
        services.map_category(tenant(t), fin, cat, target.id)
        assert selling.id not in {a.id for a in services.expense_accounts()}
        rep = m(t, "sales")
        data = claim_input(category="entertainment")
        claim = services.create_claim(tenant(t), rep, data)
        paid_claim(rep, m(t, "sales_manager"), fin, PAY_DAY, claim=claim)
        entry = db.session.get(JournalEntry, claim.entry_id)
        assert [x.account_id for x in entry.lines if x.debit] == [target.id]


def test_paying_before_the_books_start_pays_nothing(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss, fin = m(t, "sales"), m(t, "sales_manager"), m(t, "finance")
        claim = make_claim(rep)
        services.submit_claim(tenant(t), rep, claim)
        services.approve_claim(tenant(t), boss, claim)
        services.review_claim(tenant(t), fin, claim)
        with pytest.raises(InvalidInput) as refused:
            services.pay_claims(tenant(t), fin, [claim], date(2025, 12, 31))  # before the books start
        assert getattr(refused.value, "rule", None) == "before_books_start"
        assert claim.status == "reviewed" and claim.entry_id is None


def test_paying_from_a_cash_account_credits_cash(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, fin = m(t, "sales"), m(t, "finance")
        claim = make_claim(rep)
        services.submit_claim(tenant(t), rep, claim)
        services.approve_claim(tenant(t), m(t, "sales_manager"), claim)
        services.review_claim(tenant(t), fin, claim)
        with pytest.raises(InvalidInput):
            services.pay_claims(tenant(t), fin, [claim], PAY_DAY, account_id=books.account_for("revenue").id)
        assert claim.status == "reviewed"
        services.pay_claims(tenant(t), fin, [claim], PAY_DAY, account_id=books.account_for("cash").id)
        entry = db.session.get(JournalEntry, claim.entry_id)
        assert [x.account.role for x in entry.lines if x.credit] == ["cash"]


def test_a_batch_posts_one_entry_per_claim(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss, fin = m(t, "sales"), m(t, "sales_manager"), m(t, "finance")
        claims = []
        for amount in ("10.00", "20.00", "30.00"):
            c = make_claim(rep, amount=amount)
            services.submit_claim(tenant(t), rep, c)
            services.approve_claim(tenant(t), boss, c)
            services.review_claim(tenant(t), fin, c)
            claims.append(c)
        services.pay_claims(tenant(t), fin, claims, PAY_DAY)
        entries = [db.session.get(JournalEntry, c.entry_id) for c in claims]
        assert len({e.id for e in entries}) == 3
        assert [e.total for e in entries] == [D("10.00"), D("20.00"), D("30.00")]


# ---------------------------------------------------------------- advances


def test_an_advance_is_requested_approved_and_paid_into_other_receivables(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss, fin = m(t, "sales"), m(t, "sales_manager"), m(t, "finance")
        adv = services.request_advance(tenant(t), rep, {"amount": "2000", "purpose": "出差北京"})
        assert adv.status == "requested" and adv.number.startswith("JK-")
        with pytest.raises(RuleViolation) as early:
            services.pay_advance(tenant(t), fin, adv, PAY_DAY)
        assert early.value.rule == "wrong_status"
        with pytest.raises(PermissionDenied):
            services.approve_advance(tenant(t), fin, adv)  # the rep has a manager
        services.approve_advance(tenant(t), boss, adv)
        services.pay_advance(tenant(t), fin, adv, PAY_DAY)
        assert (adv.status, adv.open_amount) == ("paid", D("2000.00"))
        entry = db.session.get(JournalEntry, adv.entry_id)
        assert sorted(_lines(entry), key=str) == sorted([
            ("other_receivable", D("2000.00"), D("0.00"), "employee", rep.id),
            ("bank", D("0.00"), D("2000.00"), "employee", rep.id),
        ], key=str)  # fmt: skip
        receivable = books.account_for("other_receivable")
        assert books.account_balance(receivable.id, party=("employee", rep.id)) == D("2000.00")


def test_nobody_approves_rejects_or_pays_their_own_advance(app, books_a):
    t = books_a
    with _ctx(app, t):
        fin, owner = m(t, "finance"), m(t, "owner")
        adv = services.request_advance(tenant(t), fin, {"amount": "500", "purpose": "备用金"})
        for step in (lambda: services.approve_advance(tenant(t), fin, adv),
                     lambda: services.reject_advance(tenant(t), fin, adv, "x")):  # fmt: skip
            with pytest.raises(RuleViolation) as refused:
                step()
            assert refused.value.rule == "self_approval"
        services.approve_advance(tenant(t), owner, adv)
        with pytest.raises(RuleViolation) as own_pay:
            services.pay_advance(tenant(t), fin, adv, PAY_DAY)
        assert own_pay.value.rule == "self_approval" and adv.status == "approved"


def test_a_rejected_advance_needs_a_reason_and_stays_unpaid(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss, fin = m(t, "sales"), m(t, "sales_manager"), m(t, "finance")
        adv = services.request_advance(tenant(t), rep, {"amount": "500", "purpose": "备用金"})
        with pytest.raises(InvalidInput):
            services.reject_advance(tenant(t), boss, adv, "")
        services.reject_advance(tenant(t), boss, adv, "先报销上次的")
        assert adv.status == "rejected" and adv.comment == "先报销上次的"
        with pytest.raises(RuleViolation):
            services.pay_advance(tenant(t), fin, adv, PAY_DAY)


def test_bad_advance_input_answers_each_field(app, books_a):
    t = books_a
    with _ctx(app, t):
        with pytest.raises(InvalidInput) as bad:
            services.request_advance(tenant(t), m(t, "sales"), {"amount": "-1", "purpose": "", "needed_by": "soon"})
        assert set(bad.value.errors) == {"amount", "purpose", "needed_by"}


def test_a_claim_is_set_off_against_the_members_open_advance(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss, fin = m(t, "sales"), m(t, "sales_manager"), m(t, "finance")
        adv = make_advance(rep, boss, fin, "1000.00", PAY_DAY)
        first = services.create_claim(tenant(t), rep, claim_input(amount="600.00", advance_id=adv.id))
        paid_claim(rep, boss, fin, PAY_DAY, claim=first)
        assert first.advance_offset == D("600.00") and adv.open_amount == D("400.00") and adv.status == "paid"
        entry = db.session.get(JournalEntry, first.entry_id)
        assert [(x.account.role, x.credit) for x in entry.lines if x.credit] == [("other_receivable", D("600.00"))]
        second = services.create_claim(tenant(t), rep, claim_input(amount="700.00", advance_id=adv.id))
        paid_claim(rep, boss, fin, PAY_DAY, claim=second)
        assert second.advance_offset == D("400.00") and second.cash_part == D("300.00")
        assert (adv.open_amount, adv.status) == (D("0.00"), "settled")
        entry = db.session.get(JournalEntry, second.entry_id)
        credits = sorted((x.account.role, x.credit) for x in entry.lines if x.credit)
        assert credits == [("bank", D("300.00")), ("other_receivable", D("400.00"))]
        receivable = books.account_for("other_receivable")
        assert books.account_balance(receivable.id, party=("employee", rep.id)) == D("0.00")
        events = services.timeline(advance=adv)
        assert [e.action for e in events].count("set_off") == 2


def test_only_ones_own_open_advance_can_be_set_off(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss, fin = m(t, "sales"), m(t, "sales_manager"), m(t, "finance")
        theirs = make_advance(boss, m(t, "owner"), fin, "1000.00", PAY_DAY)
        with pytest.raises(InvalidInput) as foreign:
            services.create_claim(tenant(t), rep, claim_input(advance_id=theirs.id))
        assert "advance_id" in foreign.value.errors
        unpaid = services.request_advance(tenant(t), rep, {"amount": "50", "purpose": "x"})
        with pytest.raises(InvalidInput):
            services.create_claim(tenant(t), rep, claim_input(advance_id=unpaid.id))
        assert services.open_advances(rep.id) == []


# ---------------------------------------------------------------- input


def test_bad_claim_input_names_each_field_and_writes_nothing(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep = m(t, "sales")
        data = claim_input()
        data.title = ""
        data.customer_id = 999999
        data.lines = [
            {"expense_date": "2099-01-01", "category_id": 999999, "amount": "1.234", "input_vat": "5",
             "description": ""},
            {"expense_date": "2026-03-01", "category_id": category_id("office"), "amount": "100", "input_vat": "100",
             "invoice_number": "12-34", "description": "纸"},
            {"expense_date": "2026-03-01", "category_id": category_id("office"), "amount": "100", "input_vat": "6",
             "description": "笔"},
        ]  # fmt: skip
        with pytest.raises(InvalidInput) as bad:
            services.create_claim(tenant(t), rep, data)
        assert {"title", "customer_id", "lines.0.expense_date", "lines.0.category_id", "lines.0.amount",
                "lines.0.description", "lines.1.input_vat", "lines.1.invoice_number",
                "lines.2.invoice_number"} <= set(bad.value.errors)  # fmt: skip
        db.session.rollback()
        assert db.session.scalars(select(ExpenseClaim)).all() == []
        with pytest.raises(InvalidInput) as empty:
            services.create_claim(tenant(t), rep, services.ClaimInput(title="x", lines=[]))
        assert "lines" in empty.value.errors


def test_an_opportunity_link_fills_in_its_customer_and_must_match_it(app, world):
    t = world.tenants["a"]
    with in_tenant(app, t.id, t["sales"].user_id):
        rep = m(t, "sales")
        data = claim_input()
        data.opportunity_id = world.opportunity_id["a"]
        claim = services.create_claim(tenant(t), rep, data)
        assert claim.customer_id == world.customer_id["a"]
        other = claim_input()
        other.opportunity_id = world.opportunity_id["b"]  # another workspace's: not found here
        with pytest.raises(InvalidInput) as refused:
            services.create_claim(tenant(t), rep, other)
        assert "opportunity_id" in refused.value.errors


def test_editing_keeps_a_lines_receipt_when_the_line_is_kept(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep = m(t, "sales")
        claim = make_claim(rep)
        line = claim.lines[0]
        att = services.attach_receipt(tenant(t), rep, claim, line, "发票.pdf", b"%PDF-1.4 receipt")
        with pytest.raises(InvalidInput) as bad:
            services.attach_receipt(tenant(t), rep, claim, line, "notes.txt", b"hello")
        assert "receipt" in bad.value.errors
        data = claim_input(amount="12.00")
        data.lines[0]["id"] = line.id
        data.lines.append(dict(data.lines[0], id=None, description="另一张"))
        services.update_claim(tenant(t), rep, claim, data)
        assert [x.attachment_id for x in claim.lines] == [att.id, None]
        assert claim.total == D("24.00")


def test_categories_are_seeded_once_with_chinese_and_english_names(app, books_a):
    t = books_a
    with _ctx(app, t):
        first = services.ensure_categories()
        again = services.ensure_categories()
        assert [c.id for c in first] == [c.id for c in again]
        assert [c.name_zh for c in first] == ["差旅费", "交通费", "业务招待费", "办公费", "通讯费", "培训费", "其他"]
        assert all(c.name_en and c.account_id is None for c in first)


# ---------------------------------------------------------------- the report


def test_report_sums_paid_claims_by_category_member_department_and_month(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss, fin = m(t, "sales"), m(t, "sales_manager"), m(t, "finance")
        paid_claim(rep, boss, fin, date(2026, 2, 5), amount="100.00")
        paid_claim(rep, boss, fin, date(2026, 3, 5), amount="50.00", category="office")
        make_claim(rep, amount="999.00")  # a draft: not in the report
        by_month = {r.key: r.amount for r in services.report("month")}
        assert by_month == {"2026-02": D("100.00"), "2026-03": D("50.00")}
        by_cat = {r.label: (r.claims, r.amount) for r in services.report("category")}
        assert by_cat == {"差旅费": (1, D("100.00")), "办公费": (1, D("50.00"))}
        by_member = services.report("member", date(2026, 3, 1), date(2026, 3, 31))
        assert [(r.label, r.amount) for r in by_member] == [(rep.user.name, D("50.00"))]
        assert [r.amount for r in services.report("department")] == [D("150.00")]
        with pytest.raises(InvalidInput):
            services.report("colour")


def test_the_events_table_keeps_who_did_each_step(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss, fin = m(t, "sales"), m(t, "sales_manager"), m(t, "finance")
        claim = paid_claim(rep, boss, fin, PAY_DAY)
        actors = {
            e.action: e.actor_id
            for e in db.session.scalars(select(ExpenseEvent).where(ExpenseEvent.claim_id == claim.id))
        }
        assert actors["submitted"] == rep.id and actors["approved"] == boss.id and actors["paid"] == fin.id


def test_a_new_member_sees_only_their_own_claims_in_their_list(app, books_a):
    t = books_a
    with in_tenant(app, t.id):
        other = add_member(t, "sales", "x@alpha.example.com", "新人")
        db.session.commit()
    with _ctx(app, t):
        rep = m(t, "sales")
        make_claim(rep)
        newcomer = db.session.get(Membership, other.id)
        assert services.my_claims(newcomer) == [] and len(services.my_claims(rep)) == 1
        assert services.visible_claims(newcomer) == []
        assert len(services.visible_claims(m(t, "sales_manager"))) == 1  # the rep reports to them


def test_unspent_money_returned_reduces_the_open_advance_and_settles_it(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, boss, fin = m(t, "sales"), m(t, "sales_manager"), m(t, "finance")
        adv = make_advance(rep, boss, fin, "1000.00", PAY_DAY)
        with pytest.raises(InvalidInput) as too_much:
            services.repay_advance(tenant(t), fin, adv, "1000.01", PAY_DAY)
        assert "amount" in too_much.value.errors
        with pytest.raises(PermissionDenied):
            services.repay_advance(tenant(t), boss, adv, "100", PAY_DAY)
        own_advance = make_advance(fin, m(t, "owner"), m(t, "admin"), "50.00", PAY_DAY)
        with pytest.raises(RuleViolation) as own:
            services.repay_advance(tenant(t), fin, own_advance, "50.00", PAY_DAY)
        assert own.value.rule == "self_approval"
        services.repay_advance(tenant(t), fin, adv, "400.00", PAY_DAY, books.account_for("cash").id)
        assert (adv.open_amount, adv.status) == (D("600.00"), "paid")
        services.repay_advance(tenant(t), fin, adv, "600.00", PAY_DAY)
        assert (adv.open_amount, adv.status) == (D("0.00"), "settled")
        receivable = books.account_for("other_receivable")
        assert books.account_balance(receivable.id, party=("employee", rep.id)) == D("0.00")
        assert [e.action for e in services.timeline(advance=adv)].count("repaid") == 2


def test_a_new_claim_defaults_to_the_department_of_the_last_claim_or_the_payroll_record(app, books_a):
    t = books_a
    with _ctx(app, t):
        rep, fin = m(t, "sales"), m(t, "finance")
        assert services.default_department(rep) is None
        sales_dept = books.save_department(fin, "销售部")
        from tests.area_payroll import make_employee

        make_employee(m(t, "owner"), 7, member_id=rep.id, department_id=sales_dept.id)
        assert services.default_department(rep) == sales_dept.id
        other = books.save_department(fin, "市场部")
        data = claim_input()
        data.department_id = other.id
        services.create_claim(tenant(t), rep, data)
        assert services.default_department(rep) == other.id
