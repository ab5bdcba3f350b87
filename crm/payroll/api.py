"""/api/v1/employees, /api/v1/payroll-runs, /api/v1/payslips: the same rules as the payroll
pages (payroll.manage; payslips: a member's own, or all with payroll.manage; another
workspace's object is 404)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NoReturn

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.api.errors import fail, object_first
from crm.db import db
from crm.payroll import services
from crm.payroll.models import Employee, PayrollLine, PayrollRun
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, can, require

employees_bp = Blueprint("api_employees", __name__, url_prefix="/employees", description="Employees (员工)")
runs_bp = Blueprint("api_payroll_runs", __name__, url_prefix="/payroll-runs", description="Payroll runs (工资)")
payslips_bp = Blueprint("api_payslips", __name__, url_prefix="/payslips", description="Payslips (工资条)")
settings_bp = Blueprint(
    "api_payroll_settings", __name__, url_prefix="/payroll-settings",
    description="Social insurance and housing fund rates (社保公积金比例)",
)  # fmt: skip

MANAGE = services.PERMISSION
Money = fields.Decimal(as_string=True, dump_only=True)


class PayrollEmployeeSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(validate=validate.Length(max=60))
    resident_id = fields.String(validate=validate.Length(max=30), metadata={"description": "居民身份证号, checked"})
    member_id = fields.Integer(allow_none=True, metadata={"description": "the member, when they sign in here"})
    department_id = fields.Integer(allow_none=True)
    hire_date = fields.Date()
    leave_date = fields.Date(allow_none=True)
    base_salary = fields.Decimal(as_string=True)
    allowances = fields.Decimal(as_string=True, metadata={"description": "recurring, monthly"})
    deductions = fields.Decimal(as_string=True, metadata={"description": "recurring, monthly, off gross pay"})
    si_base = fields.Decimal(as_string=True, metadata={"description": "social insurance base"})
    hf_base = fields.Decimal(as_string=True, metadata={"description": "housing fund base"})
    bonus_method = fields.String(validate=validate.OneOf(("separate", "folded")))
    bank_name = fields.String(allow_none=True, validate=validate.Length(max=120))
    bank_account = fields.String(allow_none=True, validate=validate.Length(max=40))
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))
    created_at = fields.DateTime(dump_only=True)


class PayrollEmployeePatchSchema(PayrollEmployeeSchema):
    pass


class PayslipSchema(Schema):
    id = fields.Integer(dump_only=True, metadata={"description": "the payslip id"})
    employee_id = fields.Integer(dump_only=True)
    employee_name = fields.String(dump_only=True)
    period = fields.String(attribute="key", dump_only=True)
    gross = Money
    bonus = Money
    bonus_method = fields.String(dump_only=True)
    pension_employee = Money
    medical_employee = Money
    unemployment_employee = Money
    housing_employee = Money
    si_hf_employee = Money
    special_additional = Money
    taxable = Money
    cumulative_taxable = Money
    cumulative_tax_due = Money
    cumulative_withheld = Money
    tax = Money
    bonus_tax = Money
    net = Money
    si_employer = Money
    housing_employer = Money


class PayrollRunSchema(Schema):
    id = fields.Integer(dump_only=True)
    period = fields.String(attribute="key", dump_only=True)
    status = fields.String(dump_only=True, metadata={"description": "draft, confirmed, paid"})
    job_id = fields.Integer(dump_only=True, allow_none=True)
    computed_at = fields.DateTime(dump_only=True, allow_none=True)
    employee_count = fields.Integer(dump_only=True)
    total_gross = Money
    total_employee_si_hf = Money
    total_tax = Money
    total_net = Money
    total_employer = Money
    accrual_entry_id = fields.Integer(dump_only=True, allow_none=True)
    payment_entry_id = fields.Integer(dump_only=True, allow_none=True)


class PayrollRunDetailSchema(PayrollRunSchema):
    lines = fields.List(fields.Nested(PayslipSchema), dump_only=True)


class PayrollRunCreateSchema(Schema):
    period = fields.String(load_default=None, metadata={"description": "YYYY-MM"})


class SpecialDeductionSchema(Schema):
    id = fields.Integer(dump_only=True)
    period = fields.String(attribute="key", metadata={"description": "YYYY-MM: in effect from this month"})
    children = fields.Integer(load_only=True, metadata={"description": "children in education (2,000 each)"})
    infants = fields.Integer(load_only=True, metadata={"description": "children under 3 (2,000 each)"})
    children_education = fields.Decimal(as_string=True, dump_only=True)
    infant_care = fields.Decimal(as_string=True, dump_only=True)
    elderly_support = fields.Decimal(as_string=True)
    housing_loan = fields.Decimal(as_string=True)
    housing_rent = fields.Decimal(as_string=True)
    continuing_education = fields.Decimal(as_string=True)
    total = fields.Decimal(as_string=True, dump_only=True)


class BonusSchema(Schema):
    id = fields.Integer(dump_only=True)
    period = fields.String(attribute="key", metadata={"description": "YYYY-MM: paid with this month's payroll"})
    amount = fields.Decimal(as_string=True, metadata={"description": "0 removes it"})


class PayrollSettingsSchema(Schema):
    city = fields.String(validate=validate.Length(max=40))
    pension_employee = fields.Decimal(as_string=True, metadata={"description": "percent, 0–50"})
    pension_employer = fields.Decimal(as_string=True)
    medical_employee = fields.Decimal(as_string=True)
    medical_employer = fields.Decimal(as_string=True)
    unemployment_employee = fields.Decimal(as_string=True)
    unemployment_employer = fields.Decimal(as_string=True)
    injury_employer = fields.Decimal(as_string=True)
    maternity_employer = fields.Decimal(as_string=True)
    housing_employee = fields.Decimal(as_string=True)
    housing_employer = fields.Decimal(as_string=True)


class PayrollSettingsPatchSchema(PayrollSettingsSchema):
    pass


class PayrollRunPaySchema(Schema):
    account_id = fields.Integer(allow_none=True, metadata={"description": "a bank or cash account; default: 银行存款"})
    date = fields.Date(allow_none=True, metadata={"description": "defaults to today"})


def _fail(err: Exception) -> NoReturn:
    fail(err, "You may not do this.")


def _employee(employee_id: int) -> Employee:
    e = get_in_tenant(Employee, employee_id)
    if e is None:
        abort(404, message="No such employee.")
    return e


def _run(run_id: int) -> PayrollRun:
    r = get_in_tenant(PayrollRun, run_id)
    if r is None:
        abort(404, message="No such payroll run.")
    return r


def _percent_view(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"city": row.city}
    for name in services.rate_fields():
        out[name] = (row.rate(*name.rsplit("_", 1)) * 100).quantize(Decimal("0.01"))
    return out


@employees_bp.route("")
class Employees(MethodView):
    @require(MANAGE)
    @employees_bp.response(200, PayrollEmployeeSchema(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        return services.list_employees()

    @require(MANAGE)
    @employees_bp.arguments(PayrollEmployeeSchema)
    @employees_bp.response(201, PayrollEmployeeSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        try:
            e = services.save_employee(g.tenant, g.member, data)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return e


@employees_bp.route("/<int:employee_id>")
class EmployeeItem(MethodView):
    @require(MANAGE)
    @employees_bp.response(200, PayrollEmployeeSchema)
    def get(self, employee_id: int):  # type: ignore[no-untyped-def]
        return _employee(employee_id)

    @require(MANAGE)
    @object_first(_employee)
    @employees_bp.arguments(PayrollEmployeePatchSchema(partial=True))
    @employees_bp.response(200, PayrollEmployeeSchema)
    def patch(self, data, employee_id: int):  # type: ignore[no-untyped-def]
        e = _employee(employee_id)
        if not data:
            return e
        try:
            services.save_employee(g.tenant, g.member, data, e)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return e


@employees_bp.route("/<int:employee_id>/special-deductions")
class EmployeeSpecialDeductions(MethodView):
    @require(MANAGE)
    @employees_bp.response(200, SpecialDeductionSchema(many=True))
    def get(self, employee_id: int):  # type: ignore[no-untyped-def]
        """Declared special additional deductions, latest first."""
        return services.special_deductions_of(_employee(employee_id))

    @require(MANAGE)
    @object_first(_employee)
    @employees_bp.arguments(SpecialDeductionSchema)
    @employees_bp.response(201, SpecialDeductionSchema)
    def post(self, data, employee_id: int):  # type: ignore[no-untyped-def]
        """Declare (or replace) the deductions in effect from a month."""
        data = dict(data)
        if "key" in data:
            data["period"] = data.pop("key")
        try:
            row = services.save_special_deduction(g.tenant, g.member, _employee(employee_id), data)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return row


@employees_bp.route("/<int:employee_id>/bonuses")
class EmployeeBonuses(MethodView):
    @require(MANAGE)
    @employees_bp.response(200, BonusSchema(many=True))
    def get(self, employee_id: int):  # type: ignore[no-untyped-def]
        return services.bonuses_of(_employee(employee_id))

    @require(MANAGE)
    @object_first(_employee)
    @employees_bp.arguments(BonusSchema)
    @employees_bp.response(200, BonusSchema(many=True))
    def post(self, data, employee_id: int):  # type: ignore[no-untyped-def]
        """Set the one-off bonus paid with a month's payroll (0 removes it); answers all bonuses."""
        data = dict(data)
        if "key" in data:
            data["period"] = data.pop("key")
        employee = _employee(employee_id)
        try:
            services.save_bonus(g.tenant, g.member, employee, data)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return services.bonuses_of(employee)


@settings_bp.route("")
class PayrollSettingsItem(MethodView):
    @require(MANAGE)
    @settings_bp.response(200, PayrollSettingsSchema)
    def get(self):  # type: ignore[no-untyped-def]
        """The rates as percentages of each employee's base."""
        row = services.settings_for(g.tenant)
        db.session.commit()
        return _percent_view(row)

    @require(MANAGE)
    @settings_bp.arguments(PayrollSettingsPatchSchema(partial=True))
    @settings_bp.response(200, PayrollSettingsSchema)
    def patch(self, data):  # type: ignore[no-untyped-def]
        try:
            row = services.save_settings(g.tenant, g.member, dict(data))
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return _percent_view(row)


@runs_bp.route("")
class Runs(MethodView):
    @require(MANAGE)
    @runs_bp.response(200, PayrollRunSchema(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        return services.list_runs()

    @require(MANAGE)
    @runs_bp.arguments(PayrollRunCreateSchema)
    @runs_bp.response(202, PayrollRunSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        """Start (or re-start) the month's run as a job; poll GET …/<id> or /api/v1/jobs/<job_id>."""
        from workers.queue import JobsUnavailable, submit  # noqa: PLC0415

        try:
            run = services.prepare_run(g.tenant, g.member, data.get("period"))
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        run_id = run.id
        try:
            job = submit("payroll_run", g.member, {"run_id": run_id})
        except JobsUnavailable:
            db.session.rollback()
            abort(503, message="The job service is unavailable; nothing was started.")
        run = _run(run_id)
        run.job_id = job.id
        db.session.commit()
        return run


@runs_bp.route("/<int:payroll_run_id>")
class RunItem(MethodView):
    @require(MANAGE)
    @runs_bp.response(200, PayrollRunDetailSchema)
    def get(self, payroll_run_id: int):  # type: ignore[no-untyped-def]
        """The run with each employee's gross, deductions, taxable income, tax and net."""
        return _run(payroll_run_id)


@runs_bp.route("/<int:payroll_run_id>/confirm")
class RunConfirm(MethodView):
    @require(MANAGE)
    @runs_bp.response(200, PayrollRunSchema)
    def post(self, payroll_run_id: int):  # type: ignore[no-untyped-def]
        """Lock the run and post it to the books."""
        run = _run(payroll_run_id)
        try:
            services.confirm_run(g.tenant, g.member, run)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return run


@runs_bp.route("/<int:payroll_run_id>/pay")
class RunPay(MethodView):
    @require(MANAGE)
    @object_first(_run)
    @runs_bp.arguments(PayrollRunPaySchema)
    @runs_bp.response(200, PayrollRunSchema)
    def post(self, data, payroll_run_id: int):  # type: ignore[no-untyped-def]
        """Mark a confirmed run paid: Dr 应付职工薪酬—工资 / Cr the bank account, the net pay."""
        run = _run(payroll_run_id)
        try:
            services.pay_run(g.tenant, g.member, run, data.get("account_id"), data.get("date"))
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return run


@payslips_bp.route("")
class Payslips(MethodView):
    @require("office.access")
    @payslips_bp.response(200, PayslipSchema(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        """Your own payslips (confirmed months); payroll staff see every payslip."""
        if can(g.member, MANAGE):
            return services.all_payslips()
        return services.payslips_of(g.member)


@payslips_bp.route("/<int:payslip_id>")
class PayslipItem(MethodView):
    @require("office.access")
    @payslips_bp.response(200, PayslipSchema)
    def get(self, payslip_id: int):  # type: ignore[no-untyped-def]
        line = get_in_tenant(PayrollLine, payslip_id)
        if line is None:
            abort(404, message="No such payslip.")
        if not services.may_see_payslip(g.member, line):
            abort(403, message="This payslip is not yours.")
        return line


blueprints = [employees_bp, runs_bp, payslips_bp, settings_bp]
