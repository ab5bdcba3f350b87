"""Payroll runs (crm.payroll.services and the payroll_run job): computing a month, re-running a
draft without duplicates, the lock of a confirmed month, the postings, twelve months of
cumulative withholding, and who may see a payslip."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.books import services as books
from crm.books.errors import RuleViolation
from crm.books.models import JournalEntry, JournalLine
from crm.db import db
from crm.payroll import services, tax
from crm.payroll.models import PayrollLine, PayrollRun
from crm.sales.services import InvalidInput
from roles.checks import PermissionDenied
from tenants.models import Membership, Tenant
from tests.area_payroll import make_employee, resident_id, run_month, setup_books
from tests.factories import add_member
from tests.helpers import in_tenant

D = Decimal
# With the default rates (8 + 2 + 0.5 + 7 = 17.5 %), a base of 11,428.57 withholds 2,000.00.
BASE_FOR_2000 = "11428.57"


@pytest.fixture
def owner(app, tenant_a):
    with in_tenant(app, tenant_a.id, tenant_a["owner"].user_id):
        actor = db.session.get(Membership, tenant_a["owner"].id)
        setup_books(actor)
        db.session.commit()
    return tenant_a["owner"]


def _ctx(app, member):
    return in_tenant(app, member.tenant_id, member.user_id)


def _actor(member) -> Membership:
    return db.session.get(Membership, member.id)


def _tenant(member) -> Tenant:
    return db.session.get(Tenant, member.tenant_id)


def test_reference_employee_withholds_2000_and_the_reference_tax(app, owner):
    with _ctx(app, owner):
        actor = _actor(owner)
        emp = make_employee(actor, 1, si_base=BASE_FOR_2000, hf_base=BASE_FOR_2000, hire_date=date(2024, 1, 1))
        services.save_special_deduction(_tenant(owner), actor, emp, {"period": "2026-01", "housing_loan": "1000"})
        run = run_month(actor, "2026-01")
        line = run.lines[0]
        assert line.si_hf_employee == D("2000.00")
        assert line.taxable == D("12000.00")
        assert line.tax == D("360.00")
        assert line.net == D("20000.00") - D("2000.00") - D("360.00")


def test_rerunning_a_draft_replaces_its_lines_and_never_duplicates(app, owner):
    with _ctx(app, owner):
        actor = _actor(owner)
        make_employee(actor, 1)
        first = run_month(actor, "2026-03", confirm=False)
        make_employee(actor, 2, base_salary="8000")
        again = run_month(actor, "2026-03", confirm=False)
        assert again.id == first.id
        assert db.session.scalar(select(func.count(PayrollRun.id))) == 1
        assert db.session.scalar(select(func.count(PayrollLine.id))) == 2
        assert again.employee_count == 2


def test_confirmed_run_is_locked_against_rerun_and_bonus_changes(app, owner):
    with _ctx(app, owner):
        actor = _actor(owner)
        emp = make_employee(actor, 1)
        run = run_month(actor, "2026-01")
        with pytest.raises(RuleViolation) as refused:
            services.prepare_run(_tenant(owner), actor, "2026-01")
        assert refused.value.rule == "run_locked"
        with pytest.raises(RuleViolation):
            services.compute_run(_tenant(owner), actor, run)
        with pytest.raises(RuleViolation):
            services.save_bonus(_tenant(owner), actor, emp, {"period": "2026-01", "amount": "500"})
        with pytest.raises(RuleViolation):
            services.confirm_run(_tenant(owner), actor, run)


def test_months_are_confirmed_in_order_and_a_stale_draft_must_be_rerun(app, owner):
    with _ctx(app, owner):
        actor, tenant = _actor(owner), _tenant(owner)
        make_employee(actor, 1)
        jan = run_month(actor, "2026-01", confirm=False)
        feb = run_month(actor, "2026-02", confirm=False)
        with pytest.raises(RuleViolation) as refused:
            services.confirm_run(tenant, actor, feb)
        assert refused.value.rule == "earlier_draft"
        services.confirm_run(tenant, actor, jan)
        with pytest.raises(RuleViolation) as refused:
            services.confirm_run(tenant, actor, feb)
        assert refused.value.rule == "stale"
        feb = services.compute_run(tenant, actor, feb)
        services.confirm_run(tenant, actor, feb)
        assert feb.lines[0].cumulative_gross == D("40000.00")


def test_bad_period_and_bad_employee_input_change_nothing(app, owner):
    with _ctx(app, owner):
        actor, tenant = _actor(owner), _tenant(owner)
        for bad in ("2026-13", "26-01", "", "2026-1"):
            with pytest.raises(InvalidInput) as err:
                services.prepare_run(tenant, actor, bad)
            assert "period" in err.value.errors
        with pytest.raises(InvalidInput) as err:
            make_employee(actor, 1, resident_id=resident_id(1)[:-1] + ("0" if resident_id(1)[-1] != "0" else "1"))
        assert "resident_id" in err.value.errors
        with pytest.raises(InvalidInput) as err:
            make_employee(actor, 2, base_salary="-1", hire_date="2026-02-30")
        assert {"base_salary", "hire_date"} <= set(err.value.errors)
        assert db.session.scalar(select(func.count(PayrollRun.id))) == 0


def test_finance_without_the_payroll_permission_is_refused(app, tenant_a):
    with in_tenant(app, tenant_a.id, tenant_a["finance"].user_id):
        actor = db.session.get(Membership, tenant_a["finance"].id)
        with pytest.raises(PermissionDenied):
            services.prepare_run(db.session.get(Tenant, tenant_a.id), actor, "2026-01")


def test_bonus_taxed_separately_or_folded_by_the_employees_choice(app, owner):
    with _ctx(app, owner):
        actor, tenant = _actor(owner), _tenant(owner)
        apart = make_employee(actor, 1, base_salary="10000")
        folded = make_employee(actor, 2, base_salary="10000", bonus_method="folded")
        for emp in (apart, folded):
            services.save_bonus(tenant, actor, emp, {"period": "2026-01", "amount": "36000.12"})
        run = run_month(actor, "2026-01")
        lines = {x.employee_id: x for x in run.lines}
        # Separately: 3,390.01 on the bonus (the first cliff) + 150.00 on the wages.
        assert lines[apart.id].bonus_tax == D("3390.01")
        assert lines[apart.id].tax == D("150.00")
        assert lines[apart.id].gross == D("10000.00")
        # Folded: 41,000.12 taxable in January on the annual table: 10 % − 2,520.
        assert lines[folded.id].gross == D("46000.12")
        assert lines[folded.id].tax == D("1580.01")
        assert lines[folded.id].bonus_tax == D("0.00")
        for x in run.lines:
            assert x.net == x.total_pay - x.si_hf_employee - x.total_tax


def test_fifty_employee_run_as_a_job_posts_balanced_entries(app, owner):
    from workers.models import JobRecord
    from workers.queue import submit

    with _ctx(app, owner):
        actor, tenant = _actor(owner), _tenant(owner)
        for n in range(1, 51):
            make_employee(actor, n, base_salary=str(6000 + 500 * n), si_base="8000", hf_base="8000",
                          allowances="300", deductions="50")  # fmt: skip
        run = services.prepare_run(tenant, actor, "2026-01")
        job = submit("payroll_run", actor, {"run_id": run.id})
        run.job_id = job.id
        db.session.commit()
        job_id, run_id = job.id, run.id
    with _ctx(app, owner):
        job = db.session.get(JobRecord, job_id)
        assert job.status == JobRecord.FINISHED, job.error
        assert job.progress == 100
        run = db.session.get(PayrollRun, run_id)
        assert run.employee_count == 50 and len(run.lines) == 50
        for x in run.lines:
            assert x.gross == x.base_salary + D("250.00")
            assert x.tax == tax.withhold(tax.Cumulative(), tax.MonthIncome(x.gross, x.si_hf_employee), 1).tax
        actor, tenant = _actor(owner), _tenant(owner)
        services.confirm_run(tenant, actor, run)
        services.pay_run(tenant, actor, run, pay_date=date(2026, 2, 10))
        db.session.commit()
        entries = list(db.session.scalars(select(JournalEntry).where(JournalEntry.source_type == "payroll_run")))
        assert len(entries) == 2
        for entry in entries:
            assert entry.status == "posted"
            assert sum(x.debit for x in entry.lines) == sum(x.credit for x in entry.lines)
        gross = sum((x.total_pay for x in run.lines), D("0"))
        employer = sum((x.employer_total for x in run.lines), D("0"))
        expense = services.expense_account(tenant, actor)
        assert expense.parent_id == books.account_for("admin_expense").id
        assert books.account_balance(expense.id) == gross + employer
        # Accrued, withheld and paid: nothing left owed on wages.
        assert books.account_balance(books.account_for("wages_payable").id) == D("0.00")
        assert -books.account_balance(books.account_for("iit_payable").id) == run.total_tax
        assert -books.account_balance(services.withheld_si_hf_account(tenant, actor).id) == run.total_employee_si_hf
        si_er = sum((x.si_employer for x in run.lines), D("0"))
        assert -books.account_balance(books.account_for("social_insurance_payable").id) == si_er
        assert -books.account_balance(books.account_for("bank").id) == run.total_net
        assert run.status == "paid"
        assert (
            db.session.scalar(select(func.count(JournalLine.id)).where(JournalLine.account_id == expense.parent_id))
            == 0
        )


def test_twelve_months_in_a_row_give_each_employee_the_years_tax(app, owner):
    with _ctx(app, owner):
        actor, tenant = _actor(owner), _tenant(owner)
        reference = make_employee(actor, 1, si_base=BASE_FOR_2000, hf_base=BASE_FOR_2000, hire_date=date(2020, 3, 1))
        services.save_special_deduction(tenant, actor, reference, {"period": "2025-12", "housing_loan": "1000"})
        high = make_employee(actor, 2, base_salary="100000")
        july = make_employee(actor, 3, hire_date=date(2026, 7, 1), si_base=BASE_FOR_2000, hf_base=BASE_FOR_2000)
        services.save_special_deduction(tenant, actor, july, {"period": "2026-07", "children": "1", "infants": "0"})
        june = make_employee(actor, 4, leave_date=date(2026, 6, 30))
        for month in range(1, 13):
            run_month(actor, f"2026-{month:02d}")
        db.session.commit()

        def year_tax(emp):
            lines = list(db.session.scalars(select(PayrollLine).where(PayrollLine.employee_id == emp.id)))
            return [x.tax for x in sorted(lines, key=lambda x: x.month)]

        ref = year_tax(reference)
        assert ref == [D("360.00")] * 3 + [D("1200.00")] * 9
        assert sum(ref) == D("11880.00")
        assert sum(year_tax(high)) == tax.cumulative_tax_due(D("1140000")) == D("331080.00")
        # From July: 20,000 − 5,000 − 2,000 − 2,000 = 11,000 a month for six months.
        assert len(year_tax(july)) == 6
        assert sum(year_tax(july)) == tax.cumulative_tax_due(D("66000")) == D("4080.00")
        assert len(year_tax(june)) == 6
        assert sum(year_tax(june)) == tax.cumulative_tax_due(D("90000")) == D("6480.00")
        last = db.session.scalars(
            select(PayrollLine).where(PayrollLine.employee_id == reference.id, PayrollLine.month == 12)
        ).one()
        assert last.cumulative_withheld == D("11880.00")
        assert last.cumulative_basic == D("60000.00")
        assert last.months_employed == 12


def test_payslips_are_the_employees_own_and_payroll_staffs(app, tenant_a, owner):
    with app.app_context():
        other = add_member(tenant_a, "sales", "other-rep@a.example.com", "另一位销售")
        db.session.commit()
    with _ctx(app, owner):
        actor = _actor(owner)
        make_employee(actor, 1, member_id=tenant_a["sales"].id)
        run = run_month(actor, "2026-01", confirm=False)
        line = run.lines[0]
        rep, rival = db.session.get(Membership, tenant_a["sales"].id), db.session.get(Membership, other.id)
        fin = db.session.get(Membership, tenant_a["finance"].id)
        assert services.may_see_payslip(actor, line)
        assert not services.may_see_payslip(rep, line)  # a draft is not a payslip yet
        services.confirm_run(_tenant(owner), actor, run)
        assert services.may_see_payslip(rep, line)
        assert not services.may_see_payslip(rival, line)
        assert not services.may_see_payslip(fin, line)
        assert [x.id for x in services.payslips_of(rep)] == [line.id]
        assert services.payslips_of(rival) == []


def test_hire_and_leave_during_a_month_pay_the_days_employed(app, owner):
    with _ctx(app, owner):
        actor = _actor(owner)
        joiner = make_employee(actor, 1, hire_date=date(2026, 7, 16), allowances="3100", si_base="10000")
        leaver = make_employee(actor, 2, hire_date=date(2020, 1, 1), leave_date=date(2026, 6, 15))
        make_employee(actor, 3, hire_date=date(2026, 8, 1))  # not yet employed in July
        june = {x.employee_id: x for x in run_month(actor, "2026-06").lines}
        july = {x.employee_id: x for x in run_month(actor, "2026-07").lines}
        assert set(july) == {joiner.id}
        first = july[joiner.id]
        assert (first.days_paid, first.days_in_month) == (16, 31)
        assert first.base_salary == D("10322.58") and first.allowances == D("1600.00")
        assert first.gross == D("11922.58")
        # Social insurance is due for the whole month.
        assert first.pension_employee == D("800.00")
        assert first.months_employed == 1
        last = june[leaver.id]
        assert (last.days_paid, last.days_in_month, last.gross) == (15, 30, D("10000.00"))
        assert last.months_employed == 6


def test_paying_asks_which_bank_when_the_bank_account_has_sub_accounts(app, owner):
    with _ctx(app, owner):
        actor, tenant = _actor(owner), _tenant(owner)
        make_employee(actor, 1)
        run = run_month(actor, "2026-01")
        bank = books.account_for("bank")
        icbc = books.add_sub_account(tenant, actor, bank, bank.code + "01", "工商银行基本户")
        with pytest.raises(InvalidInput) as err:
            services.pay_run(tenant, actor, run, pay_date=date(2026, 2, 5))
        assert "account_id" in err.value.errors
        services.pay_run(tenant, actor, run, icbc.id, date(2026, 2, 5))
        assert run.status == "paid"
        assert -books.account_balance(icbc.id) == run.total_net
