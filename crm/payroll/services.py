"""Payroll's rules, callable without a request: employees, the contribution rates, special
additional deductions and bonuses, computing a month's run, confirming it into the books and
marking it paid.

Services take (tenant, actor, …), flush and audit; the caller commits. Who may call them is
checked here too (``payroll.manage``), so the pages, the API and the job share one gate.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, func, select, type_coerce
from sqlalchemy.orm import selectinload
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from crm.audit.services import record
from crm.books import services as books
from crm.books.errors import RuleViolation
from crm.books.models import Account, Department
from crm.db import Money, db, to_money, utcnow
from crm.payroll import tax
from crm.payroll.models import (
    CONTRIBUTIONS,
    DEFAULT_CITY,
    DEFAULT_RATES,
    ZERO,
    Bonus,
    Employee,
    PayrollLine,
    PayrollRun,
    PayrollSettings,
    SpecialDeduction,
)
from crm.sales.services import InvalidInput
from roles.checks import ensure
from tenants.models import Membership, Tenant

PERMISSION = "payroll.manage"
MAX_RATE_PERCENT = Decimal("50")
# Monthly caps of the special additional deductions (reference README, from 2023).
SPECIAL_FIELDS = ("children_education", "infant_care", "elderly_support", "housing_loan", "housing_rent",
                  "continuing_education")  # fmt: skip
SPECIAL_CAPS = {
    "elderly_support": Decimal("3000"),
    "housing_loan": Decimal("1000"),
    "housing_rent": Decimal("1500"),
    "continuing_education": Decimal("3600"),
}
PER_CHILD = Decimal("2000")
EMPLOYEE_MONEY = ("base_salary", "allowances", "deductions", "si_base", "hf_base")


# --- small parsers ------------------------------------------------------------------------------


def parse_period(raw: Any) -> tuple[int, int] | None:
    """ "2026-03" → (2026, 3); anything else → None."""
    text = str(raw or "").strip()
    parts = text.split("-")
    if len(parts) != 2 or len(parts[0]) != 4 or len(parts[1]) != 2 or not all(p.isdigit() for p in parts):
        return None
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        return None
    return year, month


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def clean_resident_id(raw: Any) -> str | None:
    """The compact, upper-case 居民身份证号 when its length, birth date and check digit are right."""
    try:
        return str(ric.validate(str(raw or "").strip().upper()))
    except ValidationError:
        return None


def _money_field(errors: dict[str, str], data: dict[str, Any], key: str, default: Decimal = ZERO) -> Decimal:
    value = books.parse_amount(data.get(key, default), zero_ok=True)
    if value is None:
        errors[key] = _("Enter an amount of at most two decimals, zero or more.")
        return ZERO
    return value


def _date_field(errors: dict[str, str], data: dict[str, Any], key: str, required: bool) -> date | None:
    raw = data.get(key)
    if raw in (None, ""):
        if required:
            errors[key] = _("Enter a date.")
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        errors[key] = _("Enter a date as YYYY-MM-DD.")
        return None


# --- settings -----------------------------------------------------------------------------------


def settings_for(tenant: Tenant, *, create: bool = True) -> PayrollSettings:
    """The workspace's rates; made with the defaults on first use (or, with ``create`` False,
    the defaults unsaved)."""
    row = db.session.scalars(select(PayrollSettings)).one_or_none()
    if row is None:
        row = PayrollSettings(city=DEFAULT_CITY)
        for key, (employee, employer) in DEFAULT_RATES.items():
            if hasattr(row, f"{key}_employee"):
                setattr(row, f"{key}_employee", employee)
            setattr(row, f"{key}_employer", employer)
        if create:
            db.session.add(row)
            db.session.flush()
    return row


def rate_fields() -> list[str]:
    out = []
    for key, _label, has_employee, _hf in CONTRIBUTIONS:
        if has_employee:
            out.append(f"{key}_employee")
        out.append(f"{key}_employer")
    return out


def save_settings(tenant: Tenant, actor: Membership | None, data: dict[str, Any]) -> PayrollSettings:
    """Rates arrive as percentages ("8", "0.5"), at most two decimals, 0–50 %."""
    ensure(actor, PERMISSION)
    row = settings_for(tenant)
    errors: dict[str, str] = {}
    city = str(data.get("city", row.city) or "").strip()
    if not city or len(city) > 40:
        errors["city"] = _("Enter a city of at most 40 characters.")
    values: dict[str, Decimal] = {}
    for name in rate_fields():
        raw = data.get(name, row.rate(*name.rsplit("_", 1)) * 100)
        try:
            pct = Decimal(str(raw).strip().rstrip("%") or "0")
        except InvalidOperation:
            pct = Decimal("-1")
        if not pct.is_finite() or pct < 0 or pct > MAX_RATE_PERCENT or pct != pct.quantize(Decimal("0.01")):
            errors[name] = _("Enter a percentage from 0 to 50 with at most two decimals.")
            continue
        values[name] = (pct / 100).quantize(Decimal("0.0001"))
    if errors:
        raise InvalidInput(errors)
    changes = {}
    for name, value in values.items():
        if getattr(row, name) != value:
            changes[name] = [str(getattr(row, name)), str(value)]
        setattr(row, name, value)
    if row.city != city:
        changes["city"] = [row.city, city]
    row.city = city
    db.session.flush()
    record("payroll.settings", tenant, actor=actor, object_type="Tenant", summary=city, changes=changes)
    return row


# --- employees ----------------------------------------------------------------------------------


def save_employee(
    tenant: Tenant, actor: Membership | None, data: dict[str, Any], employee: Employee | None = None
) -> Employee:
    """Create (employee None) or update. Only the keys given change on update."""
    ensure(actor, PERMISSION)

    def current(key: str) -> Any:
        if key in data:
            return data[key]
        return getattr(employee, key) if employee is not None else None

    errors: dict[str, str] = {}
    name = str(current("name") or "").strip()
    if not name or len(name) > 60:
        errors["name"] = _("Enter a name of at most 60 characters.")
    resident_id = clean_resident_id(current("resident_id"))
    if resident_id is None:
        errors["resident_id"] = _("Enter a valid 18-character resident ID number; its check digit does not match.")
    else:
        clash = db.session.scalar(select(Employee.id).where(Employee.resident_id == resident_id))
        if clash is not None and (employee is None or clash != employee.id):
            errors["resident_id"] = _("Another employee already has this resident ID number.")
    member_id = current("member_id") or None
    if member_id is not None:
        member = db.session.get(Membership, int(member_id)) if str(member_id).isdigit() else None
        if member is None or member.tenant_id != tenant.id:
            errors["member_id"] = _("Choose a member of this workspace.")
        else:
            clash = db.session.scalar(select(Employee.id).where(Employee.member_id == member.id))
            if clash is not None and (employee is None or clash != employee.id):
                errors["member_id"] = _("This member is already linked to another employee.")
    department_id = current("department_id") or None
    if department_id is not None and (
        not str(department_id).isdigit()
        or db.session.scalar(select(Department.id).where(Department.id == int(department_id))) is None
    ):
        errors["department_id"] = _("Choose a department of this workspace.")
    merged = {k: current(k) for k in ("hire_date", "leave_date", *EMPLOYEE_MONEY)}
    hire = _date_field(errors, merged, "hire_date", required=True)
    leave = _date_field(errors, merged, "leave_date", required=False)
    if hire and leave and leave < hire:
        errors["leave_date"] = _("The leaving date cannot be before the hire date.")
    amounts = {k: _money_field(errors, merged, k) for k in EMPLOYEE_MONEY}
    if not errors and amounts["deductions"] > amounts["base_salary"] + amounts["allowances"]:
        errors["deductions"] = _("Recurring deductions cannot exceed the base salary plus allowances.")
    bonus_method = str(current("bonus_method") or "separate")
    if bonus_method not in tax.BONUS_METHODS:
        errors["bonus_method"] = _("Choose how the one-off bonus is taxed.")
    bank_name = str(current("bank_name") or "").strip()
    bank_account = str(current("bank_account") or "").replace(" ", "").strip()
    if len(bank_name) > 120:
        errors["bank_name"] = _("Enter at most 120 characters.")
    if bank_account and (not bank_account.isdigit() or not 8 <= len(bank_account) <= 30):
        errors["bank_account"] = _("Enter the account number: 8 to 30 digits.")
    notes = str(current("notes") or "").strip()
    if len(notes) > 2000:
        errors["notes"] = _("Enter at most 2,000 characters.")
    if errors:
        raise InvalidInput(errors)
    new = employee is None
    if employee is None:
        employee = Employee()
        db.session.add(employee)
    before = {k: str(getattr(employee, k)) for k in ("name", "base_salary", "department_id", "leave_date")}
    employee.name, employee.resident_id = name, str(resident_id)
    employee.member_id = int(member_id) if member_id is not None else None
    employee.department_id = int(department_id) if department_id is not None else None
    employee.hire_date, employee.leave_date = hire, leave  # type: ignore[assignment]
    for key, value in amounts.items():
        setattr(employee, key, value)
    employee.bonus_method = bonus_method
    employee.bank_name, employee.bank_account = bank_name or None, bank_account or None
    employee.notes = notes or None
    db.session.flush()
    after = {k: str(getattr(employee, k)) for k in before}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k] and not new}
    record("employee.create" if new else "employee.update", employee, actor=actor, object_type="Employee",
           summary=name, changes=changes)  # fmt: skip
    return employee


def list_employees(include_left: bool = True) -> list[Employee]:
    stmt = select(Employee).options(selectinload(Employee.department), selectinload(Employee.member))
    if not include_left:
        stmt = stmt.where(Employee.leave_date.is_(None))
    return list(db.session.scalars(stmt.order_by(Employee.name, Employee.id)))


def member_choices() -> list[tuple[int, str]]:
    rows = db.session.scalars(select(Membership).where(Membership.is_active.is_(True)))
    return sorted(((m.id, m.user.name) for m in rows), key=lambda x: x[1])


def department_choices() -> list[tuple[int, str]]:
    stmt = select(Department).where(Department.is_active.is_(True)).order_by(Department.name)
    return [(d.id, d.name) for d in db.session.scalars(stmt)]


def save_special_deduction(
    tenant: Tenant, actor: Membership | None, employee: Employee, data: dict[str, Any]
) -> SpecialDeduction:
    """Declared amounts in effect from ``period`` (YYYY-MM) until a later declaration. Children
    and infants are counted (2,000 a month each); the others are monthly amounts under their caps."""
    ensure(actor, PERMISSION)
    errors: dict[str, str] = {}
    period = parse_period(data.get("period"))
    if period is None:
        errors["period"] = _("Enter a month as YYYY-MM.")
    amounts: dict[str, Decimal] = {}
    for key, count_key in (("children_education", "children"), ("infant_care", "infants")):
        raw = str(data.get(count_key, 0) or 0).strip()
        if not raw.isdigit() or int(raw) > 10:
            errors[count_key] = _("Enter a whole number from 0 to 10.")
            amounts[key] = ZERO
        else:
            amounts[key] = to_money(PER_CHILD * int(raw))
    for key, cap in SPECIAL_CAPS.items():
        value = _money_field(errors, data, key)
        if value > cap:
            limit = f"{cap:,.2f}"
            errors[key] = _("At most %(cap)s a month.", cap=limit)
        amounts[key] = value
    if amounts["housing_loan"] and amounts["housing_rent"]:
        errors["housing_rent"] = _("Housing-loan interest and housing rent cannot both be deducted.")
    if errors:
        raise InvalidInput(errors)
    assert period is not None
    row = db.session.scalars(
        select(SpecialDeduction).where(
            SpecialDeduction.employee_id == employee.id,
            SpecialDeduction.year == period[0],
            SpecialDeduction.month == period[1],
        )
    ).one_or_none()
    if row is None:
        row = SpecialDeduction(employee_id=employee.id, year=period[0], month=period[1])
        db.session.add(row)
    for key, value in amounts.items():
        setattr(row, key, value)
    db.session.flush()
    record("employee.special_deductions", employee, actor=actor, object_type="Employee",
           summary=f"{employee.name} {row.key} {row.total:,.2f}")  # fmt: skip
    return row


def special_deductions_of(employee: Employee) -> list[SpecialDeduction]:
    stmt = select(SpecialDeduction).where(SpecialDeduction.employee_id == employee.id)
    return list(db.session.scalars(stmt.order_by(SpecialDeduction.year.desc(), SpecialDeduction.month.desc())))


def save_bonus(tenant: Tenant, actor: Membership | None, employee: Employee, data: dict[str, Any]) -> Bonus | None:
    """The one-off bonus paid with a month's payroll; an amount of 0 removes it. Refused for a
    month whose run is already confirmed."""
    ensure(actor, PERMISSION)
    errors: dict[str, str] = {}
    period = parse_period(data.get("period"))
    if period is None:
        errors["period"] = _("Enter a month as YYYY-MM.")
    amount = _money_field(errors, data, "amount")
    if errors:
        raise InvalidInput(errors)
    assert period is not None
    run = run_for(*period)
    if run is not None and not run.is_draft:
        raise RuleViolation("run_locked", {"period": _("The payroll of %(month)s is confirmed; it is locked.",
                                                       month=run.key)})  # fmt: skip
    row = db.session.scalars(
        select(Bonus).where(Bonus.employee_id == employee.id, Bonus.year == period[0], Bonus.month == period[1])
    ).one_or_none()
    if amount == ZERO:
        if row is not None:
            db.session.delete(row)
            db.session.flush()
        return None
    if row is None:
        row = Bonus(employee_id=employee.id, year=period[0], month=period[1], amount=amount)
        db.session.add(row)
    row.amount = amount
    db.session.flush()
    record("employee.bonus", employee, actor=actor, object_type="Employee",
           summary=f"{employee.name} {row.key} {amount:,.2f}")  # fmt: skip
    return row


def bonuses_of(employee: Employee) -> list[Bonus]:
    stmt = select(Bonus).where(Bonus.employee_id == employee.id)
    return list(db.session.scalars(stmt.order_by(Bonus.year.desc(), Bonus.month.desc())))


# --- runs ---------------------------------------------------------------------------------------


def run_for(year: int, month: int) -> PayrollRun | None:
    return db.session.scalars(
        select(PayrollRun).where(PayrollRun.year == year, PayrollRun.month == month)
    ).one_or_none()


def list_runs() -> list[PayrollRun]:
    return list(db.session.scalars(select(PayrollRun).order_by(PayrollRun.year.desc(), PayrollRun.month.desc())))


def prepare_run(tenant: Tenant, actor: Membership | None, period: Any) -> PayrollRun:
    """The draft run of a month, made if there is none; the caller submits the job that
    computes it. A confirmed month is refused: it is locked."""
    ensure(actor, PERMISSION)
    parsed = parse_period(period)
    if parsed is None:
        raise InvalidInput({"period": _("Enter a month as YYYY-MM.")})
    run = run_for(*parsed)
    if run is None:
        run = PayrollRun(year=parsed[0], month=parsed[1], status="draft", created_by_id=actor.id if actor else None)
        db.session.add(run)
        db.session.flush()
        record("payroll_run.create", run, actor=actor, object_type="PayrollRun", summary=run.key)
    elif not run.is_draft:
        raise RuleViolation("run_locked", {"period": _("The payroll of %(month)s is confirmed; it is locked.",
                                                       month=run.key)})  # fmt: skip
    return run


def _prior_figures(year: int, month: int) -> dict[int, tax.Cumulative]:
    """Per employee, the year-to-date sums of the confirmed (or paid) runs of earlier months."""

    def total(col: Any) -> Any:
        return type_coerce(func.coalesce(func.sum(type_coerce(col, BigInteger)), 0), Money())

    stmt = (
        select(
            PayrollLine.employee_id,
            total(PayrollLine.gross),
            total(PayrollLine.si_hf_employee),
            total(PayrollLine.special_additional),
            total(PayrollLine.tax),
        )  # fmt: skip
        .join(PayrollRun, PayrollRun.id == PayrollLine.run_id)
        .where(PayrollRun.status.in_(("confirmed", "paid")), PayrollLine.year == year, PayrollLine.month < month)
        .group_by(PayrollLine.employee_id)
    )
    return {
        emp: tax.Cumulative(gross=g, special=s, special_additional=a, withheld=t)
        for emp, g, s, a, t in db.session.execute(stmt)
    }


def _special_in_effect(year: int, month: int) -> dict[int, Decimal]:
    """Per employee, the total of the latest declaration from or before the month."""
    stmt = select(SpecialDeduction).where(
        (SpecialDeduction.year < year) | ((SpecialDeduction.year == year) & (SpecialDeduction.month <= month))
    )
    latest: dict[int, SpecialDeduction] = {}
    for row in db.session.scalars(stmt):
        seen = latest.get(row.employee_id)
        if seen is None or (row.year, row.month) > (seen.year, seen.month):
            latest[row.employee_id] = row
    return {emp: row.total for emp, row in latest.items()}


def employees_of_month(year: int, month: int) -> list[Employee]:
    first = date(year, month, 1)
    stmt = (
        select(Employee)
        .where(Employee.hire_date <= month_end(year, month))
        .where((Employee.leave_date.is_(None)) | (Employee.leave_date >= first))
        .order_by(Employee.name, Employee.id)
    )
    return list(db.session.scalars(stmt))


def _contribution(base: Decimal, rate: Decimal) -> Decimal:
    return to_money(base * rate)


def compute_line(
    employee: Employee, rates: PayrollSettings, year: int, month: int, prior: tax.Cumulative,
    special_additional: Decimal, bonus: Decimal,
) -> PayrollLine:  # fmt: skip
    """One employee's month, not yet added to a run. A hire or leave during the month pays
    base, allowances and deductions for the calendar days employed."""
    first, last = date(year, month, 1), month_end(year, month)
    start = max(employee.hire_date, first)
    end = min(employee.leave_date or last, last)
    days, in_month = (end - start).days + 1, last.day

    def share(amount: Decimal) -> Decimal:
        return amount if days >= in_month else to_money(amount * days / in_month)

    base, allowances, deductions = share(employee.base_salary), share(employee.allowances), share(employee.deductions)
    wages = base + allowances - deductions
    line = PayrollLine(
        employee_id=employee.id, year=year, month=month, employee_name=employee.name,
        department_id=employee.department_id, base_salary=base, allowances=allowances,
        deductions=deductions, bonus=bonus, bonus_method=employee.bonus_method,
        bank_name=employee.bank_name, bank_account=employee.bank_account, days_paid=days, days_in_month=in_month,
    )  # fmt: skip
    folded = bonus if employee.bonus_method == "folded" else ZERO
    line.gross = to_money(wages + folded)
    for key in ("pension", "medical", "unemployment"):
        setattr(line, f"{key}_employee", _contribution(employee.si_base, rates.rate(key, "employee")))
    line.housing_employee = _contribution(employee.hf_base, rates.rate("housing", "employee"))
    line.si_hf_employee = line.pension_employee + line.medical_employee + line.unemployment_employee
    line.si_hf_employee += line.housing_employee
    for key in ("pension", "medical", "unemployment", "injury", "maternity"):
        setattr(line, f"{key}_employer", _contribution(employee.si_base, rates.rate(key, "employer")))
    line.housing_employer = _contribution(employee.hf_base, rates.rate("housing", "employer"))
    line.si_employer = (line.pension_employer + line.medical_employer + line.unemployment_employer
                        + line.injury_employer + line.maternity_employer)  # fmt: skip
    line.special_additional = special_additional
    months = tax.months_employed(year, month, employee.hire_date.year, employee.hire_date.month)
    result = tax.withhold(
        prior, tax.MonthIncome(gross=line.gross, special=line.si_hf_employee, special_additional=special_additional),
        months,
    )  # fmt: skip
    line.months_employed = months
    line.taxable = max(line.gross - tax.BASIC_DEDUCTION - line.si_hf_employee - special_additional, ZERO)
    line.cumulative_gross = result.cumulative_gross
    line.cumulative_basic = result.cumulative_basic
    line.cumulative_si_hf = result.cumulative_special
    line.cumulative_special_additional = result.cumulative_special_additional
    line.cumulative_taxable = result.cumulative_taxable
    line.cumulative_tax_due = result.cumulative_tax_due
    line.cumulative_withheld = result.cumulative_withheld
    line.tax = result.tax
    line.bonus_tax = tax.bonus_tax(bonus) if employee.bonus_method == "separate" else ZERO
    line.net = line.total_pay - line.si_hf_employee - line.tax - line.bonus_tax
    return line


def compute_run(
    tenant: Tenant, actor: Membership | None, run: PayrollRun, progress: Callable[[int, str], None] | None = None
) -> PayrollRun:
    """(Re)compute a draft run: its lines are replaced, never added to, so re-running a month
    leaves one line per employee. Takes the run's row lock so two runs of it cannot interleave."""
    ensure(actor, PERMISSION)
    locked = db.session.scalars(
        select(PayrollRun).where(PayrollRun.id == run.id).with_for_update().execution_options(populate_existing=True)
    ).one()
    if not locked.is_draft:
        raise RuleViolation("run_locked", {"period": _("The payroll of %(month)s is confirmed; it is locked.",
                                                       month=locked.key)})  # fmt: skip
    year, month = locked.year, locked.month
    # Everything is read and computed first, then written: on SQLite the progress reports (on
    # their own connection) could not commit once this transaction has written.
    rates = settings_for(tenant, create=False)
    priors = _prior_figures(year, month)
    specials = _special_in_effect(year, month)
    bonuses = {
        b.employee_id: b.amount
        for b in db.session.scalars(select(Bonus).where(Bonus.year == year, Bonus.month == month))
    }
    staff = employees_of_month(year, month)
    computed: list[PayrollLine] = []
    for i, employee in enumerate(staff):
        line = compute_line(
            employee, rates, year, month, priors.get(employee.id, tax.Cumulative()),
            specials.get(employee.id, ZERO), bonuses.get(employee.id, ZERO),
        )  # fmt: skip
        line.position = i
        computed.append(line)
        if progress is not None and (i % 10 == 9 or i == len(staff) - 1):
            progress(5 + 85 * (i + 1) // len(staff), _("Computed %(done)d of %(total)d employees",
                                                         done=i + 1, total=len(staff)))  # fmt: skip
    locked.lines.clear()
    db.session.flush()
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in computed:
        locked.lines.append(line)
        totals["gross"] += line.total_pay
        totals["si_hf"] += line.si_hf_employee
        totals["tax"] += line.total_tax
        totals["net"] += line.net
        totals["employer"] += line.employer_total
    locked.employee_count = len(staff)
    locked.total_gross, locked.total_employee_si_hf = totals["gross"], totals["si_hf"]
    locked.total_tax, locked.total_net, locked.total_employer = totals["tax"], totals["net"], totals["employer"]
    locked.computed_at = utcnow()
    db.session.flush()
    record("payroll_run.compute", locked, actor=actor, object_type="PayrollRun",
           summary=f"{locked.key}: {len(staff)}")  # fmt: skip
    return locked


def lines_of(run: PayrollRun) -> list[PayrollLine]:
    stmt = (
        select(PayrollLine)
        .where(PayrollLine.run_id == run.id)
        .options(selectinload(PayrollLine.department))
        .order_by(PayrollLine.position, PayrollLine.id)
    )
    return list(db.session.scalars(stmt))


def expense_account(tenant: Tenant, actor: Membership | None) -> Account:
    return books.ensure_sub_account(tenant, actor, "admin_expense", "payroll_expense", "职工薪酬", "Staff costs")


def withheld_si_hf_account(tenant: Tenant, actor: Membership | None) -> Account:
    """其他应付款 — 代扣社保公积金: a sub-account of its own, so other features' sub-accounts under
    其他应付款 never make payroll post to a parent."""
    return books.ensure_sub_account(
        tenant, actor, "other_payable", "withheld_si_hf", "代扣社保公积金", "Social insurance and housing fund withheld"
    )


def _check_confirmable(run: PayrollRun) -> None:
    if not run.is_draft:
        raise RuleViolation("run_locked", {"run": _("This payroll is already confirmed.")})
    if run.computed_at is None or not run.lines:
        raise RuleViolation("not_computed", {"run": _("Run the payroll first; it has no lines yet.")})
    same_year = list(db.session.scalars(select(PayrollRun).where(PayrollRun.year == run.year, PayrollRun.id != run.id)))
    if any(r.month < run.month and r.is_draft for r in same_year):
        raise RuleViolation("earlier_draft", {"run": _("Confirm the earlier months of the year first.")})
    if any(r.month > run.month and not r.is_draft for r in same_year):
        raise RuleViolation(
            "later_confirmed", {"run": _("A later month of the year is confirmed; this month can no longer be.")}
        )
    if any(r.confirmed_at and r.confirmed_at > run.computed_at for r in same_year if r.month < run.month):
        raise RuleViolation(
            "stale", {"run": _("An earlier month was confirmed after this run was computed; run it again.")}
        )


def confirm_run(tenant: Tenant, actor: Membership | None, run: PayrollRun) -> PayrollRun:
    """Lock the run and post it, dated the month's last day, in one entry: the accrual (Dr staff
    costs by department / Cr 应付职工薪酬—工资, and the employer's social insurance and housing fund
    / Cr 应付职工薪酬—社会保险费, 住房公积金), and the withholdings (Dr 应付职工薪酬—工资 /
    Cr 应交税费—应交个人所得税 and 其他应付款 for the employee's social insurance and housing fund)."""
    ensure(actor, PERMISSION)
    locked = db.session.scalars(
        select(PayrollRun).where(PayrollRun.id == run.id).with_for_update().execution_options(populate_existing=True)
    ).one()
    _check_confirmable(locked)
    lines = lines_of(locked)
    expense = expense_account(tenant, actor)
    withheld = withheld_si_hf_account(tenant, actor)
    wages = books.account_for("wages_payable")
    by_department: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    for x in lines:
        by_department[x.department_id] += x.total_pay + x.employer_total
    pay = sum((x.total_pay for x in lines), ZERO)
    si = sum((x.si_employer for x in lines), ZERO)
    hf = sum((x.housing_employer for x in lines), ZERO)
    iit = sum((x.total_tax for x in lines), ZERO)
    si_hf_ee = sum((x.si_hf_employee for x in lines), ZERO)
    memo = books.memo(_l("Payroll %(month)s", month=locked.key))
    entry_lines = [
        books.LineInput(expense.id, debit=amount, department_id=dept, memo=memo)
        for dept, amount in sorted(by_department.items(), key=lambda kv: kv[0] or 0)
    ]
    entry_lines += [
        books.LineInput(wages.id, credit=pay, memo=_("Wages payable")),
        books.LineInput(books.account_for("social_insurance_payable").id, credit=si,
                        memo=_("Employer social insurance")),
        books.LineInput(books.account_for("housing_fund_payable").id, credit=hf, memo=_("Employer housing fund")),
        books.LineInput(wages.id, debit=iit + si_hf_ee, memo=_("Withholdings from pay")),
        books.LineInput(books.account_for("iit_payable").id, credit=iit, memo=_("Individual income tax withheld")),
        books.LineInput(withheld.id, credit=si_hf_ee, memo=_("Employee social insurance and housing fund withheld")),
    ]  # fmt: skip
    entry = books.post_lines(tenant, actor, month_end(locked.year, locked.month), memo, entry_lines,
                             source=("payroll_run", locked.id))  # fmt: skip
    locked.accrual_entry_id = entry.id
    locked.status = "confirmed"
    locked.confirmed_at = utcnow()
    locked.confirmed_by_id = actor.id if actor else None
    db.session.flush()
    record("payroll_run.confirm", locked, actor=actor, object_type="PayrollRun", summary=f"{locked.key} {entry.number}")
    return locked


def pay_run(
    tenant: Tenant, actor: Membership | None, run: PayrollRun, account_id: int | None = None,
    pay_date: date | None = None,
) -> PayrollRun:  # fmt: skip
    """Mark a confirmed run paid: Dr 应付职工薪酬—工资 / Cr the bank account, the net pay."""
    ensure(actor, PERMISSION)
    locked = db.session.scalars(
        select(PayrollRun).where(PayrollRun.id == run.id).with_for_update().execution_options(populate_existing=True)
    ).one()
    if locked.status != "confirmed":
        raise RuleViolation("not_confirmed", {"run": _("Only a confirmed, unpaid payroll can be marked paid.")})
    if account_id is None:
        bank = books.account_for("bank")
        if books.has_children([bank.id]):
            raise InvalidInput({"account_id": _("Choose which bank account the pay went out of.")})
    else:
        bank = db.session.get(Account, account_id)
        if bank is None or bank.tenant_id != tenant.id or not bank.is_cash:
            raise InvalidInput({"account_id": _("Choose a bank or cash account.")})
    when = pay_date or books.today_in(tenant)
    period_end = month_end(locked.year, locked.month)
    if when < date(locked.year, locked.month, 1):
        raise InvalidInput({"date": _("Pay cannot be dated before its month.")})
    memo = books.memo(_l("Payroll %(month)s paid", month=locked.key))
    entry = books.post_lines(
        tenant, actor, when, memo,
        [books.LineInput(books.account_for("wages_payable").id, debit=locked.total_net, memo=memo),
         books.LineInput(bank.id, credit=locked.total_net, memo=memo)],
        source=("payroll_run", locked.id),
    )  # fmt: skip
    locked.payment_entry_id = entry.id
    locked.status = "paid"
    locked.paid_at = utcnow()
    locked.paid_by_id = actor.id if actor else None
    db.session.flush()
    record("payroll_run.pay", locked, actor=actor, object_type="PayrollRun",
           summary=f"{locked.key} {entry.number} (≥ {period_end.isoformat()})")  # fmt: skip
    return locked


# --- payslips -----------------------------------------------------------------------------------


def payslips_of(member: Membership) -> list[PayrollLine]:
    """A member's own payslips: lines of confirmed or paid runs of the employee linked to them."""
    stmt = (
        select(PayrollLine)
        .join(Employee, Employee.id == PayrollLine.employee_id)
        .join(PayrollRun, PayrollRun.id == PayrollLine.run_id)
        .where(Employee.member_id == member.id, PayrollRun.status.in_(("confirmed", "paid")))
        .order_by(PayrollLine.year.desc(), PayrollLine.month.desc())
    )
    return list(db.session.scalars(stmt))


def all_payslips(limit: int = 500) -> list[PayrollLine]:
    stmt = select(PayrollLine).order_by(PayrollLine.year.desc(), PayrollLine.month.desc(), PayrollLine.position)
    return list(db.session.scalars(stmt.limit(limit)))


def may_see_payslip(member: Membership | None, line: PayrollLine) -> bool:
    from roles.checks import can  # noqa: PLC0415

    if can(member, PERMISSION):
        return True
    if member is None or line.run.status not in ("confirmed", "paid"):
        return False
    return line.employee.member_id == member.id
