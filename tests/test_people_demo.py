"""The demo's expense claims and payroll (crm/people_demo.py, run by `flask seed demo` after the
books): claims in every state with the right people doing each step, an advance set off, a paid
payroll month with payslips, balanced postings into open months only, and nothing added twice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from stdnum.cn import ric

from crm.books import services as books
from crm.books.models import Department, FiscalPeriod, JournalEntry
from crm.db import db
from crm.expenses.models import ExpenseAdvance, ExpenseClaim, ExpenseEvent
from crm.payroll import services as payroll
from crm.payroll.models import Bonus, Employee, PayrollLine, PayrollRun, SpecialDeduction
from tenants.models import Membership, Tenant
from tests.helpers import in_tenant, login

DEMO_PASSWORD = "taizhang-demo-2026"
OURS = ("expense_claim", "expense_advance", "payroll_run")
ZERO = Decimal("0.00")


@pytest.fixture
def seeded(app):
    """Seed the demo workspace on an empty database; returns its tenant id."""
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    with app.app_context():
        return db.session.scalars(select(Tenant.id).where(Tenant.slug == "demo")).one()


def _member(email_prefix: str) -> Membership:
    members = db.session.scalars(select(Membership)).all()
    return next(m for m in members if m.user.email == f"{email_prefix}@demo.taizhang.local")


def _balanced(entry: JournalEntry) -> None:
    debit = sum((x.debit for x in entry.lines), ZERO)
    credit = sum((x.credit for x in entry.lines), ZERO)
    assert entry.status == "posted" and entry.number
    assert debit == credit == entry.total > 0, entry.number


def test_claims_are_in_every_state_and_nobody_acts_on_their_own(app, seeded):
    with in_tenant(app, seeded):
        tenant = db.session.get(Tenant, seeded)
        today = books.today_in(tenant)
        claims = db.session.scalars(select(ExpenseClaim)).all()
        assert {c.status for c in claims} == {"draft", "submitted", "approved", "reviewed", "rejected", "paid"}
        assert len({c.claimant_id for c in claims}) >= 5
        rejected = [c for c in claims if c.status == "rejected"]
        assert rejected and all(c.comment for c in rejected)
        for c in claims:
            assert c.lines and c.total == sum((x.amount for x in c.lines), ZERO)
            assert all(today - timedelta(days=62) <= x.expense_date <= today for x in c.lines)
            boss = c.claimant.reports_to
            if c.status != "draft":
                assert c.approver_id == (boss.id if boss else None)
            if c.status in ("approved", "reviewed", "paid"):
                assert c.approved_by_id not in (None, c.claimant_id)
                assert c.approved_by_id == (boss.id if boss else c.approved_by_id)
            if c.status in ("reviewed", "paid"):
                assert c.reviewed_by_id not in (None, c.claimant_id)
            if c.status == "paid":
                assert c.paid_by_id not in (None, c.claimant_id) and c.entry_id is not None
            else:
                assert c.entry_id is None
        # the claimant without a manager (the owner) waits for finance
        owner = _member("owner")
        assert any(c.claimant_id == owner.id and c.status == "submitted" and c.approver_id is None for c in claims)


def test_the_advance_is_paid_and_a_claim_is_set_off_against_it(app, seeded):
    with in_tenant(app, seeded):
        adv = db.session.scalars(select(ExpenseAdvance)).one()
        assert adv.entry_id is not None and adv.paid_by_id not in (None, adv.member_id)
        assert adv.approved_by_id == adv.member.reports_to_id
        claim = db.session.scalars(select(ExpenseClaim).where(ExpenseClaim.advance_id == adv.id)).one()
        assert claim.status == "paid" and claim.claimant_id == adv.member_id
        assert claim.advance_offset == adv.amount - adv.open_amount > 0
        assert adv.status == ("settled" if adv.open_amount == 0 else "paid")
        other_receivable = books.account_for("other_receivable").id
        party = ("employee", adv.member_id)
        assert books.account_balance(other_receivable, party=party) == adv.open_amount
        actions = set(db.session.scalars(select(ExpenseEvent.action).where(ExpenseEvent.advance_id == adv.id)))
        assert {"requested", "approved", "paid", "set_off"} <= actions


def test_paid_claims_and_the_payroll_post_balanced_entries_into_open_months_only(app, seeded):
    with in_tenant(app, seeded):
        paid = db.session.scalars(select(ExpenseClaim).where(ExpenseClaim.status == "paid")).all()
        assert len(paid) >= 2
        for c in paid:
            assert c.entry.source_type == "expense_claim" and c.entry.source_id == c.id
            assert c.entry.entry_date == c.paid_on
            _balanced(c.entry)
        run = db.session.scalars(select(PayrollRun).where(PayrollRun.status == "paid")).one()
        assert run.accrual_entry is not None and run.payment_entry is not None
        _balanced(run.accrual_entry)
        _balanced(run.payment_entry)
        assert run.payment_entry.total == run.total_net == sum((x.net for x in run.lines), ZERO)
        assert run.employee_count == len(run.lines) and run.total_tax > 0
        closed = {(p.year, p.month) for p in db.session.scalars(select(FiscalPeriod)) if p.status == "closed"}
        assert len(closed) == 2  # the finance seed's two earlier months
        ours = db.session.scalars(select(JournalEntry).where(JournalEntry.source_type.in_(OURS))).all()
        assert len(ours) == len(paid) + 1 + 2  # the claims, the advance, the payroll's accrual and payment
        assert all((e.entry_date.year, e.entry_date.month) not in closed for e in ours)


def test_employees_have_valid_ids_bank_accounts_deductions_and_a_bonus(app, seeded):
    with in_tenant(app, seeded):
        employees = db.session.scalars(select(Employee)).all()
        assert 6 <= len(employees) <= 8
        linked = [e for e in employees if e.member_id is not None]
        assert len(linked) > len(employees) / 2 and 1 <= len(employees) - len(linked) <= 2
        for e in employees:
            assert ric.is_valid(e.resident_id), e.resident_id
            assert e.bank_account and e.bank_account.isdigit() and e.bank_name
            assert e.department_id is not None and e.base_salary > 0 and e.si_base > 0 and e.hf_base > 0
        assert len({e.department_id for e in employees}) >= 3
        specials = db.session.scalars(select(SpecialDeduction)).all()
        assert len(specials) >= 2 and all(s.total > 0 for s in specials)
        assert any(s.children_education > 0 for s in specials) and any(s.housing_rent > 0 for s in specials)
        bonus = db.session.scalars(select(Bonus)).one()
        line = db.session.scalars(select(PayrollLine).where(PayrollLine.employee_id == bonus.employee_id)).one()
        assert line.bonus == bonus.amount and line.bonus_tax > 0


def test_a_member_linked_to_an_employee_sees_their_payslip(app, seeded):
    with in_tenant(app, seeded):
        rep = _member("sales")
        slips = payroll.payslips_of(rep)
        assert len(slips) == 1 and slips[0].employee.member_id == rep.id and slips[0].net > 0
        net = f"{slips[0].net:,.2f}"
    client = app.test_client()
    login(client, "sales@demo.taizhang.local", DEMO_PASSWORD)
    html = client.get("/w/demo/office/payslips").get_data(as_text=True)
    assert 'data-testid="my-payslips"' in html and net in html


def _counts(app, tid):
    models = (ExpenseClaim, ExpenseAdvance, ExpenseEvent, Employee, SpecialDeduction, Bonus, PayrollRun, PayrollLine,
              JournalEntry, Department)  # fmt: skip
    with in_tenant(app, tid):
        return {m.__name__: db.session.scalar(select(func.count(m.id))) for m in models}


def test_seeding_again_adds_no_claims_employees_runs_or_entries(app, seeded):
    before = _counts(app, seeded)
    assert all(before.values()), before
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    assert _counts(app, seeded) == before
