"""Payroll in the role × route matrix and the cross-tenant walk (tests/areas.py), and the
payroll factories the payroll tests share.

Payroll is for members with ``payroll.manage`` only: of the matrix roles only the owner has it
(admins and finance do not), so they answer 403. "My payslips" is every member's own page.
World objects per workspace: an employee linked to the sales rep (with a special deduction and
a bonus), a confirmed run of 2026-01 (its line is the rep's payslip) and a computed draft run
of 2026-02 (the run the matrix re-runs, confirms and refuses to pay).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from stdnum.cn import ric

from crm.db import db
from tests.areas import members, row

D = Decimal


def resident_id(n: int, birth: str = "19900101", region: str = "310101") -> str:
    """A valid 居民身份证号: region, birth date, a sequence number, and its check digit."""
    body = f"{region}{birth}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def make_employee(actor: Any, n: int = 1, **overrides: Any) -> Any:
    """An employee through the service (inside tenant_context; flushes)."""
    from crm.payroll import services
    from tenants.models import Tenant

    tenant = db.session.get(Tenant, actor.tenant_id)
    data: dict[str, Any] = {
        "name": f"员工{n:03d}", "resident_id": resident_id(n), "hire_date": date(2025, 6, 1),
        "base_salary": "20000.00", "allowances": "0", "deductions": "0", "si_base": "0", "hf_base": "0",
        "bank_name": "招商银行上海分行", "bank_account": f"62148{n:011d}",
    }  # fmt: skip
    data.update(overrides)
    return services.save_employee(tenant, actor, data)


def run_month(actor: Any, period: str, *, confirm: bool = True) -> Any:
    """Prepare and compute a month's run (as the job does), and confirm it."""
    from crm.payroll import services
    from tenants.models import Tenant

    tenant = db.session.get(Tenant, actor.tenant_id)
    run = services.prepare_run(tenant, actor, period)
    run = services.compute_run(tenant, actor, run)
    if confirm:
        run = services.confirm_run(tenant, actor, run)
    return run


def setup_books(actor: Any) -> None:
    from tenants.models import Tenant
    from tests.books_factories import setup_books as setup

    setup(db.session.get(Tenant, actor.tenant_id), actor)


PAY = "/w/<slug>/finance/payroll"
RUN = PAY + "/runs/<int:payroll_run_id>"
EMP = PAY + "/employees/<int:employee_id>"
SLIP = "/w/<slug>/payslips/<int:payslip_id>.pdf"
API_EMP = "/api/v1/employees/<int:employee_id>"
API_RUN = "/api/v1/payroll-runs/<int:payroll_run_id>"
API_SLIP = "/api/v1/payslips/<int:payslip_id>"

# Only the owner holds payroll.manage among the matrix roles.
P200 = row(404, 200, 403, 403, 403, 403)
A200 = row(401, 200, 403, 403, 403, 403)

# fmt: off
#                                                anon owner admin mgr sales finance
ROWS: dict[tuple[str, str], dict[str, int]] = {
    ("GET", PAY):                                P200,
    ("GET", PAY + "/employees"):                 P200,
    ("GET", PAY + "/employees/new"):             P200,
    ("POST", PAY + "/employees/new"):            row(404, 400, 403, 403, 403, 403),  # empty form
    ("GET", EMP):                                P200,
    ("GET", EMP + "/edit"):                      P200,
    ("POST", EMP + "/edit"):                     row(404, 400, 403, 403, 403, 403),  # empty form
    ("POST", EMP + "/special-deductions"):       row(404, 400, 403, 403, 403, 403),  # no month
    ("POST", EMP + "/bonuses"):                  row(404, 400, 403, 403, 403, 403),  # no month
    ("GET", PAY + "/settings"):                  P200,
    ("POST", PAY + "/settings"):                 row(404, 400, 403, 403, 403, 403),  # no city
    ("POST", PAY + "/runs"):                     row(404, 400, 403, 403, 403, 403),  # no month
    ("GET", RUN):                                P200,
    ("POST", RUN + "/rerun"):                    row(404, 302, 403, 403, 403, 403),  # recomputed
    ("POST", RUN + "/confirm"):                  row(404, 302, 403, 403, 403, 403),  # confirmed
    ("POST", RUN + "/pay"):                      row(404, 302, 403, 403, 403, 403),  # a draft: refused
    ("GET", RUN + "/bank.xlsx"):                 P200,
    ("GET", "/w/<slug>/office/payslips"):        members(200),
    ("GET", SLIP):                               row(404, 200, 403, 403, 200, 403),  # the rep's own
    ("GET", "/api/v1/employees"):                A200,
    ("POST", "/api/v1/employees"):               row(401, 422, 403, 403, 403, 403),  # empty body
    ("GET", API_EMP):                            A200,
    ("PATCH", API_EMP):                          A200,  # empty patch
    ("GET", "/api/v1/payroll-runs"):             A200,
    ("POST", "/api/v1/payroll-runs"):            row(401, 422, 403, 403, 403, 403),  # no period
    ("GET", API_RUN):                            A200,
    ("POST", API_RUN + "/confirm"):              A200,
    ("POST", API_RUN + "/pay"):                  row(401, 422, 403, 403, 403, 403),  # a draft: refused
    ("GET", API_EMP + "/special-deductions"):    A200,
    ("POST", API_EMP + "/special-deductions"):   row(401, 422, 403, 403, 403, 403),  # no month
    ("GET", API_EMP + "/bonuses"):               A200,
    ("POST", API_EMP + "/bonuses"):              row(401, 422, 403, 403, 403, 403),  # no month
    ("GET", "/api/v1/payroll-settings"):         A200,
    ("PATCH", "/api/v1/payroll-settings"):       A200,  # empty patch: saved as it is
    ("GET", "/api/v1/payslips"):                 row(401, 200, 200, 200, 200, 200),  # own only
    ("GET", API_SLIP):                           row(401, 200, 403, 403, 200, 403),
}
# fmt: on

PARAMS = {
    "employee_id": lambda w, role: w.payroll_employee_id["a"],
    "payroll_run_id": lambda w, role: w.payroll_run_id["a"],
    "payslip_id": lambda w, role: w.payslip_id["a"],
}
OBJECTS = {
    "employee_id": lambda w: w.payroll_employee_id["a"],
    "payroll_run_id": lambda w: w.payroll_run_id["a"],
    "payslip_id": lambda w: w.payslip_id["a"],
}


def build(app: Any, world: Any) -> None:
    """The objects named in the module docstring, in every workspace of the world."""
    from crm.payroll import services
    from tenants.context import tenant_context
    from tenants.models import Membership, Tenant

    world.payroll_employee_id, world.payroll_run_id, world.payslip_id = {}, {}, {}
    with app.app_context():
        for key, t in world.tenants.items():
            owner = t["owner"]
            with tenant_context(t.id, user_id=owner.user_id):
                actor = db.session.get(Membership, owner.id)
                tenant = db.session.get(Tenant, t.id)
                employee = make_employee(actor, 1, member_id=t["sales"].id, name=f"{key} 销售员")
                services.save_special_deduction(tenant, actor, employee, {"period": "2026-01", "housing_rent": "1500"})
                services.save_bonus(tenant, actor, employee, {"period": "2026-02", "amount": "1000"})
                january = run_month(actor, "2026-01")
                february = run_month(actor, "2026-02", confirm=False)
                world.payroll_employee_id[key] = employee.id
                world.payroll_run_id[key] = february.id
                world.payslip_id[key] = january.lines[0].id
                db.session.commit()
