"""Finance → payroll pages (payroll.manage only), and every member's "My payslips".

Views parse, check, fetch in scope, call a service, render; the services hold the rules."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from crm.choices import choices
from crm.db import db
from crm.exports.pdf import render_pdf
from crm.exports.xlsx import write_table
from crm.money_words import to_capital
from crm.payroll import services
from crm.payroll.forms import BonusForm, EmployeeForm, PayForm, RunForm, SpecialDeductionForm
from crm.payroll.models import (
    BONUS_METHOD_LABELS,
    CONTRIBUTIONS,
    RUN_STATUS_BADGES,
    RUN_STATUS_LABELS,
    Employee,
    PayrollLine,
    PayrollRun,
)
from crm.sales.services import InvalidInput
from crm.scoping import get_or_404
from roles.checks import PermissionDenied, require
from workers.models import JobRecord

bp = Blueprint("payroll", __name__, url_prefix="/w/<slug>")
JOB_ERRORS = {
    "internal": _l("Something went wrong while computing the payroll. It has been logged; please run it again."),
    "transient": _l("A service was briefly unavailable; the job will retry by itself."),
    "queue_unavailable": _l("The job service was unavailable, so the job never started. Please try again."),
}
PAY = "/finance/payroll"
MANAGE = services.PERMISSION


def _ctx() -> dict[str, Any]:
    return {"status_labels": RUN_STATUS_LABELS, "badges": RUN_STATUS_BADGES, "bonus_labels": BONUS_METHOD_LABELS}


def _apply(form: FlaskForm, errors: dict[str, str]) -> list[str]:
    general = []
    for key, msg in errors.items():
        if key in form._fields:
            form[key].errors = [msg]
        else:
            general.append(msg)
    return general


def _submit_run(run: PayrollRun) -> JobRecord | None:
    """Start the job computing ``run`` (commits). None when the job service is unavailable."""
    from workers.queue import JobsUnavailable, submit  # noqa: PLC0415

    try:
        job = submit("payroll_run", g.member, {"run_id": run.id, "locale": _locale()})
    except JobsUnavailable:
        db.session.rollback()
        flash(_("The job service is unavailable; nothing was started. Try again shortly."), "danger")
        return None
    fresh = db.session.get(PayrollRun, run.id)
    if fresh is not None:
        fresh.job_id = job.id
        db.session.commit()
    return job


def _locale() -> str:
    from flask_babel import get_locale  # noqa: PLC0415

    return str(get_locale() or "zh_Hans_CN")


# ---------------------------------------------------------------- runs


@bp.get(PAY)
@require(MANAGE)
def index():  # type: ignore[no-untyped-def]
    form = RunForm()
    form.period.data = services.books.today_in(g.tenant).strftime("%Y-%m")
    runs = services.list_runs()
    employees = services.list_employees(include_left=False)
    return render_template("payroll/index.html", runs=runs, form=form, employee_count=len(employees), **_ctx())


@bp.post(PAY + "/runs")
@require(MANAGE)
def start_run():  # type: ignore[no-untyped-def]
    form = RunForm()
    general: list[str] = []
    if form.validate_on_submit():
        try:
            run = services.prepare_run(g.tenant, g.member, form.period.data)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            if isinstance(err, PermissionDenied):
                abort(403)
            general = _apply(form, err.errors)
        else:
            run_id = run.id
            job = _submit_run(run)
            return redirect(url_for("payroll.run_show", payroll_run_id=run_id, job=job.id if job else None))
    runs = services.list_runs()
    return render_template(
        "payroll/index.html", runs=runs, form=form, general=general,
        employee_count=len(services.list_employees(include_left=False)), **_ctx(),
    ), 400  # fmt: skip


@bp.get(PAY + "/runs/<int:payroll_run_id>")
@require(MANAGE)
def run_show(payroll_run_id: int):  # type: ignore[no-untyped-def]
    run = get_or_404(PayrollRun, payroll_run_id)
    job = None
    if run.is_draft and run.job_id:
        job = db.session.get(JobRecord, run.job_id)
        if job is not None and job.done and job.status == JobRecord.FINISHED:
            job = None
    pay_form = PayForm()
    pay_form.account_id.choices = choices([(None, _("Default bank account"))] + _cash_choices())
    pay_form.on.data = services.books.today_in(g.tenant).isoformat()
    return render_template(
        "payroll/run.html", run=run, lines=services.lines_of(run), job=job, pay_form=pay_form,
        errors=JOB_ERRORS, kinds={}, **_ctx(),
    )  # fmt: skip


def _cash_choices() -> list[tuple[int, str]]:
    from crm.settlement.services import cash_accounts  # noqa: PLC0415

    return [(a.id, f"{a.code} {a.name_zh}") for a in cash_accounts()]


def _run_action(payroll_run_id: int, action: str):  # type: ignore[no-untyped-def]
    run = get_or_404(PayrollRun, payroll_run_id)
    form = FlaskForm()
    if not form.validate_on_submit():
        flash(_("Your form expired. Please reload the page and try again."), "danger")
        return redirect(url_for("payroll.run_show", payroll_run_id=run.id))
    try:
        if action == "rerun":
            services.prepare_run(g.tenant, g.member, run.key)
            job = _submit_run(run)
            return redirect(url_for("payroll.run_show", payroll_run_id=payroll_run_id, job=job.id if job else None))
        if action == "confirm":
            services.confirm_run(g.tenant, g.member, run)
            message = _("The payroll of %(month)s is confirmed and posted.", month=run.key)
        else:
            pay = PayForm()
            pay.account_id.choices = choices([(None, "")] + _cash_choices())
            account_id = pay.account_id.data if pay.validate() else None
            raw_on = (request.form.get("on") or "").strip()
            try:
                on = date.fromisoformat(raw_on) if raw_on else None
            except ValueError:
                raise InvalidInput({"on": _("Enter a date as YYYY-MM-DD.")}) from None
            services.pay_run(g.tenant, g.member, run, account_id, on)
            message = _("The payroll of %(month)s is marked paid.", month=run.key)
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    except InvalidInput as err:
        db.session.rollback()
        for msg in err.errors.values():
            flash(msg, "danger")
        return redirect(url_for("payroll.run_show", payroll_run_id=payroll_run_id))
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("payroll.run_show", payroll_run_id=payroll_run_id))


@bp.post(PAY + "/runs/<int:payroll_run_id>/rerun")
@require(MANAGE)
def run_rerun(payroll_run_id: int):  # type: ignore[no-untyped-def]
    return _run_action(payroll_run_id, "rerun")


@bp.post(PAY + "/runs/<int:payroll_run_id>/confirm")
@require(MANAGE)
def run_confirm(payroll_run_id: int):  # type: ignore[no-untyped-def]
    return _run_action(payroll_run_id, "confirm")


@bp.post(PAY + "/runs/<int:payroll_run_id>/pay")
@require(MANAGE)
def run_pay(payroll_run_id: int):  # type: ignore[no-untyped-def]
    return _run_action(payroll_run_id, "pay")


@bp.get(PAY + "/runs/<int:payroll_run_id>/bank.xlsx")
@require(MANAGE)
def run_bank_file(payroll_run_id: int):  # type: ignore[no-untyped-def]
    """The bank payment file: one row per employee with net pay (numbers as numbers)."""
    run = get_or_404(PayrollRun, payroll_run_id)
    headers = [_("No."), _("Name"), _("Bank"), _("Bank account number"), _("Amount"), _("Purpose")]
    purpose = _("Wages %(month)s", month=run.key)
    rows = [
        [i, x.employee_name, x.bank_name or "", x.bank_account or "", x.net, purpose]
        for i, x in enumerate(services.lines_of(run), 1)
    ]
    data = write_table(_("Payroll %(month)s", month=run.key), headers, rows)
    resp = Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = f"payroll-bank-{run.key}.xlsx"
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


# ---------------------------------------------------------------- employees


@bp.get(PAY + "/employees")
@require(MANAGE)
def employees():  # type: ignore[no-untyped-def]
    return render_template("payroll/employees.html", rows=services.list_employees(), **_ctx())


def _employee_form(form: EmployeeForm) -> None:
    form.member_id.choices = choices([(None, "—")] + services.member_choices())
    form.department_id.choices = choices([(None, "—")] + services.department_choices())
    form.bonus_method.choices = choices(list(BONUS_METHOD_LABELS.items()))


def _employee_data(form: EmployeeForm) -> dict[str, Any]:
    return {name: form[name].data for name in form._fields if name != "csrf_token"}


def _edit(employee: Employee | None):  # type: ignore[no-untyped-def]
    form = EmployeeForm()
    if request.method == "GET" and employee is not None:
        form = EmployeeForm(obj=employee)
        form.hire_date.data = employee.hire_date.isoformat()
        form.leave_date.data = employee.leave_date.isoformat() if employee.leave_date else ""
    elif request.method == "GET":
        form.hire_date.data = services.books.today_in(g.tenant).isoformat()
        form.bonus_method.data = "separate"
    _employee_form(form)
    general: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                employee = services.save_employee(g.tenant, g.member, _employee_data(form), employee)
            except InvalidInput as err:
                db.session.rollback()
                general = _apply(form, err.errors)
            else:
                db.session.commit()
                flash(_("%(name)s saved.", name=employee.name), "success")
                return redirect(url_for("payroll.employee_show", employee_id=employee.id))
    return render_template("payroll/employee_form.html", form=form, employee=employee, general=general), status


@bp.route(PAY + "/employees/new", methods=["GET", "POST"])
@require(MANAGE)
def employee_new():  # type: ignore[no-untyped-def]
    return _edit(None)


@bp.route(PAY + "/employees/<int:employee_id>/edit", methods=["GET", "POST"])
@require(MANAGE)
def employee_edit(employee_id: int):  # type: ignore[no-untyped-def]
    return _edit(get_or_404(Employee, employee_id))


def _show_employee(employee: Employee, sd_form: SpecialDeductionForm | None = None,
                   bonus_form: BonusForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]  # fmt: skip
    month = services.books.today_in(g.tenant).strftime("%Y-%m")
    if sd_form is None:
        sd_form = SpecialDeductionForm(formdata=None)
        sd_form.period.data = month
    if bonus_form is None:
        bonus_form = BonusForm(formdata=None)
        bonus_form.period.data = month
    from sqlalchemy import select  # noqa: PLC0415

    lines = list(
        db.session.scalars(
            select(PayrollLine).where(PayrollLine.employee_id == employee.id)
            .order_by(PayrollLine.year.desc(), PayrollLine.month.desc()).limit(24)
        )
    )  # fmt: skip
    return render_template(
        "payroll/employee_show.html", employee=employee, specials=services.special_deductions_of(employee),
        bonuses=services.bonuses_of(employee), lines=lines, sd_form=sd_form, bonus_form=bonus_form, **_ctx(),
    ), status  # fmt: skip


@bp.get(PAY + "/employees/<int:employee_id>")
@require(MANAGE)
def employee_show(employee_id: int):  # type: ignore[no-untyped-def]
    return _show_employee(get_or_404(Employee, employee_id))


@bp.post(PAY + "/employees/<int:employee_id>/special-deductions")
@require(MANAGE)
def employee_special(employee_id: int):  # type: ignore[no-untyped-def]
    return _save_for_employee(
        employee_id, SpecialDeductionForm(), services.save_special_deduction,
        _("Special additional deductions saved."), "sd_form",
    )  # fmt: skip


@bp.post(PAY + "/employees/<int:employee_id>/bonuses")
@require(MANAGE)
def employee_bonus(employee_id: int):  # type: ignore[no-untyped-def]
    return _save_for_employee(employee_id, BonusForm(), services.save_bonus, _("Bonus saved."), "bonus_form")


def _save_for_employee(employee_id: int, form: Any, save: Any, done: str, form_name: str) -> Any:
    """One of the employee page's own forms (special deductions, a bonus): saved and back to the
    page, or the page again with the form's errors."""
    employee = get_or_404(Employee, employee_id)
    if form.validate_on_submit():
        try:
            save(g.tenant, g.member, employee, _employee_data(form))
        except InvalidInput as err:
            db.session.rollback()
            for msg in _apply(form, err.errors):
                flash(msg, "danger")
        else:
            db.session.commit()
            flash(done, "success")
            return redirect(url_for("payroll.employee_show", employee_id=employee.id))
    return _show_employee(employee, status=400, **{form_name: form})


# ---------------------------------------------------------------- settings


class SettingsForm(FlaskForm):
    city = StringField()


@bp.route(PAY + "/settings", methods=["GET", "POST"])
@require(MANAGE)
def settings():  # type: ignore[no-untyped-def]
    row = services.settings_for(g.tenant)
    form = SettingsForm()
    errors: dict[str, str] = {}
    values = {
        name: f"{row.rate(*name.rsplit('_', 1)) * 100:.2f}".rstrip("0").rstrip(".") for name in services.rate_fields()
    }
    status = 200
    if request.method == "GET":
        form.city.data = row.city
        db.session.commit()  # the defaults, made on first visit
    else:
        status = 400
        values.update({k: request.form.get(k, "") for k in services.rate_fields()})
        if form.validate_on_submit():
            data = {"city": form.city.data, **values}
            try:
                services.save_settings(g.tenant, g.member, data)
            except InvalidInput as err:
                db.session.rollback()
                errors = err.errors
            else:
                db.session.commit()
                flash(_("Contribution rates saved."), "success")
                return redirect(url_for("payroll.settings"))
    return render_template(
        "payroll/settings.html", form=form, values=values, errors=errors, contributions=CONTRIBUTIONS
    ), status


# ---------------------------------------------------------------- payslips


@bp.get("/office/payslips")
@require("office.access")
def my_payslips():  # type: ignore[no-untyped-def]
    return render_template("payroll/my_payslips.html", rows=services.payslips_of(g.member))


def payslip_html(line: PayrollLine) -> str:
    with force_locale("zh_Hans_CN"):
        return render_template("payroll/payslip.pdf.html", line=line, run=line.run, tenant=g.tenant,
                               capital=to_capital(line.net), contributions=CONTRIBUTIONS)  # fmt: skip


@bp.get("/payslips/<int:payslip_id>.pdf")
@require("office.access")
def payslip_pdf(payslip_id: int):  # type: ignore[no-untyped-def]
    """A payslip (工资条) in Chinese: for payroll staff, and for the employee's own member."""
    line = get_or_404(PayrollLine, payslip_id)
    if not services.may_see_payslip(g.member, line):
        abort(403)
    resp = Response(render_pdf(payslip_html(line)), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="payslip-{line.key}-{line.id}.pdf"'
    return resp
