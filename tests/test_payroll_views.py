"""Payroll through the pages and the API: a run started from the page as a job, its lines,
confirm and pay, the payslip PDF (in Chinese) and the bank file, refusals that change nothing,
constant SQL per page, and payslips through the API (one's own only)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from crm.db import db
from crm.payroll.models import Employee, PayrollLine, PayrollRun
from tenants.models import Membership
from tests.area_payroll import make_employee, resident_id, run_month, setup_books
from tests.helpers import bearer, in_tenant, post

D = Decimal


@pytest.fixture
def staffed(app, tenant_a):
    """Books set up; employee 1 is the sales rep (20,000 a month), employee 2 stands alone."""
    with in_tenant(app, tenant_a.id, tenant_a["owner"].user_id):
        actor = db.session.get(Membership, tenant_a["owner"].id)
        setup_books(actor)
        make_employee(actor, 1, member_id=tenant_a["sales"].id, name="张三")
        make_employee(actor, 2, name="李四", base_salary="9000", si_base="9000", hf_base="9000")
        db.session.commit()
    return tenant_a


def _grow(app, tenant, start: int, count: int) -> None:
    with in_tenant(app, tenant.id, tenant["owner"].user_id):
        actor = db.session.get(Membership, tenant["owner"].id)
        for n in range(start, start + count):
            make_employee(actor, n, base_salary=str(5000 + n * 100))
        db.session.commit()


def _run_id(app, tenant, period: str) -> int:
    with in_tenant(app, tenant.id):
        year, month = (int(x) for x in period.split("-"))
        return db.session.scalars(select(PayrollRun.id).where(PayrollRun.year == year, PayrollRun.month == month)).one()


def test_owner_runs_confirms_and_pays_a_month_from_the_pages(app, staffed, client_as):
    client = client_as(staffed["owner"])
    base = f"/w/{staffed.slug}/finance/payroll"
    r = post(client, base + "/runs", {"period": "2026-01"})
    assert r.status_code == 302
    run_id = _run_id(app, staffed, "2026-01")
    page = client.get(f"{base}/runs/{run_id}").get_data(as_text=True)
    assert "张三" in page and "李四" in page
    assert post(client, f"{base}/runs/{run_id}/confirm").status_code == 302
    assert post(client, f"{base}/runs/{run_id}/pay", {"on": "2026-02-05"}).status_code == 302
    with in_tenant(app, staffed.id):
        run = db.session.get(PayrollRun, run_id)
        assert run.status == "paid"
        assert run.accrual_entry_id and run.payment_entry_id
        assert run.employee_count == 2


def test_rerun_of_a_confirmed_month_is_refused_and_changes_nothing(app, staffed, client_as):
    with in_tenant(app, staffed.id, staffed["owner"].user_id):
        run_month(db.session.get(Membership, staffed["owner"].id), "2026-01")
        db.session.commit()
    run_id = _run_id(app, staffed, "2026-01")
    client = client_as(staffed["owner"])
    r = post(client, f"/w/{staffed.slug}/finance/payroll/runs", {"period": "2026-01"})
    assert r.status_code == 400
    r = post(client, f"/w/{staffed.slug}/finance/payroll/runs/{run_id}/rerun")
    assert r.status_code == 302
    with in_tenant(app, staffed.id):
        assert db.session.scalar(select(func.count(PayrollLine.id))) == 2
        assert db.session.get(PayrollRun, run_id).status == "confirmed"


def test_bad_employee_form_shows_the_field_and_creates_nothing(app, staffed, client_as):
    client = client_as(staffed["owner"])
    bad_id = resident_id(9)[:-1] + ("1" if resident_id(9)[-1] != "1" else "2")
    r = post(client, f"/w/{staffed.slug}/finance/payroll/employees/new",
             {"name": "王五", "resident_id": bad_id, "hire_date": "2026-01-01", "base_salary": "abc"})  # fmt: skip
    assert r.status_code == 400
    assert 'id="resident_id-error"' in r.get_data(as_text=True)
    assert 'id="base_salary-error"' in r.get_data(as_text=True)
    with in_tenant(app, staffed.id):
        assert db.session.scalar(select(func.count(Employee.id))) == 2


def test_finance_without_the_payroll_permission_gets_403_everywhere(app, staffed, client_as, token_for):
    client = client_as(staffed["finance"])
    for url in ("/finance/payroll", "/finance/payroll/employees", "/finance/payroll/settings"):
        assert client.get(f"/w/{staffed.slug}{url}").status_code == 403
    h = bearer(token_for(staffed["finance"]))
    assert client.get("/api/v1/employees", headers=h).status_code == 403
    assert client.post("/api/v1/payroll-runs", json={"period": "2026-01"}, headers=h).status_code == 403
    with in_tenant(app, staffed.id):
        assert db.session.scalar(select(func.count(PayrollRun.id))) == 0


def test_payslip_pdf_is_chinese_and_only_for_its_employee_and_payroll(app, staffed, client_as):
    from crm.payroll.views import payslip_html

    with in_tenant(app, staffed.id, staffed["owner"].user_id):
        run = run_month(db.session.get(Membership, staffed["owner"].id), "2026-01")
        db.session.commit()
        mine = next(x.id for x in run.lines if x.employee_name == "张三")
        theirs = next(x.id for x in run.lines if x.employee_name == "李四")
    rep = client_as(staffed["sales"])
    r = rep.get(f"/w/{staffed.slug}/payslips/{mine}.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    assert rep.get(f"/w/{staffed.slug}/payslips/{theirs}.pdf").status_code == 403
    assert client_as(staffed["finance"]).get(f"/w/{staffed.slug}/payslips/{mine}.pdf").status_code == 403
    assert client_as(staffed["owner"]).get(f"/w/{staffed.slug}/payslips/{theirs}.pdf").status_code == 200
    with app.test_request_context(f"/w/{staffed.slug}/"), in_tenant(app, staffed.id):
        from flask import g

        from tenants.models import Tenant

        g.tenant = db.session.get(Tenant, staffed.id)
        html = payslip_html(db.session.get(PayrollLine, mine))
    assert "工资条" in html and "张三" in html and "实发" in html
    listing = rep.get(f"/w/{staffed.slug}/office/payslips").get_data(as_text=True)
    assert "2026-01" in listing


def test_bank_file_lists_net_pay_as_numbers(app, staffed, client_as):
    with in_tenant(app, staffed.id, staffed["owner"].user_id):
        run = run_month(db.session.get(Membership, staffed["owner"].id), "2026-01", confirm=False)
        db.session.commit()
        nets = {x.employee_name: x.net for x in run.lines}
        run_id = run.id
    r = client_as(staffed["owner"]).get(f"/w/{staffed.slug}/finance/payroll/runs/{run_id}/bank.xlsx")
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    rows = [row for row in sheet.iter_rows(values_only=True) if row and row[1] in nets]
    assert len(rows) == 2
    for row in rows:
        assert isinstance(row[4], (int, float)) and D(str(row[4])).quantize(D("0.01")) == nets[row[1]]
        assert str(row[3]).startswith("62148")


def test_api_starts_a_run_returns_its_lines_and_confirms(app, staffed, client, token_for):
    h = bearer(token_for(staffed["owner"]))
    r = client.post("/api/v1/payroll-runs", json={"period": "2026-01"}, headers=h)
    assert r.status_code == 202, r.get_json()
    run_id = r.get_json()["id"]
    body = client.get(f"/api/v1/payroll-runs/{run_id}", headers=h).get_json()
    assert body["status"] == "draft" and body["employee_count"] == 2
    zhang = next(x for x in body["lines"] if x["employee_name"] == "张三")
    assert zhang["gross"] == "20000.00" and zhang["taxable"] == "15000.00" and zhang["tax"] == "450.00"
    assert zhang["net"] == "19550.00"
    assert set(zhang) >= {"si_hf_employee", "special_additional", "cumulative_taxable", "bonus_tax"}
    bad = client.post("/api/v1/payroll-runs", json={"period": "2026-1"}, headers=h)
    assert bad.status_code == 422 and "period" in bad.get_json()["errors"]["json"]
    r = client.post(f"/api/v1/payroll-runs/{run_id}/confirm", headers=h)
    assert r.status_code == 200 and r.get_json()["status"] == "confirmed"
    again = client.post(f"/api/v1/payroll-runs/{run_id}/confirm", headers=h)
    assert again.status_code == 422 and again.get_json()["rule"] == "run_locked"
    rep = bearer(token_for(staffed["sales"]))
    own = client.get("/api/v1/payslips", headers=rep).get_json()
    assert [x["employee_name"] for x in own] == ["张三"]
    assert len(client.get("/api/v1/payslips", headers=h).get_json()) == 2


def test_api_employee_with_a_bad_resident_id_is_422_on_the_field(app, staffed, client, token_for):
    h = bearer(token_for(staffed["owner"]))
    bad = {"name": "赵六", "resident_id": "110105194912310021", "hire_date": "2026-01-01", "base_salary": "8000"}
    r = client.post("/api/v1/employees", json=bad, headers=h)
    assert r.status_code == 422
    assert "resident_id" in r.get_json()["errors"]["json"]
    good = dict(name="赵六", resident_id="11010519491231002X", hire_date="2026-01-01", base_salary="8000")
    r = client.post("/api/v1/employees", json=good, headers=h)
    assert r.status_code == 201 and r.get_json()["resident_id"] == "11010519491231002X"


@pytest.mark.parametrize("page", ["employees", "run", "index"])
def test_payroll_pages_issue_constant_sql_with_3_and_30_employees(app, staffed, client_as, count_queries, page):
    client = client_as(staffed["owner"])

    def url() -> str:
        if page == "employees":
            return f"/w/{staffed.slug}/finance/payroll/employees"
        if page == "index":
            return f"/w/{staffed.slug}/finance/payroll"
        return f"/w/{staffed.slug}/finance/payroll/runs/{_run_id(app, staffed, '2026-03')}"

    def rerun() -> None:
        with in_tenant(app, staffed.id, staffed["owner"].user_id):
            run_month(db.session.get(Membership, staffed["owner"].id), "2026-03", confirm=False)
            db.session.commit()

    _grow(app, staffed, 10, 1)
    rerun()
    assert client.get(url()).status_code == 200
    with count_queries() as small:
        assert client.get(url()).status_code == 200
    _grow(app, staffed, 20, 27)
    rerun()
    with count_queries() as large:
        assert client.get(url()).status_code == 200
    assert small.count == large.count, "\n".join(large.statements)


def test_my_payslips_page_has_an_empty_state_for_members_without_an_employee(staffed, client_as):
    page = client_as(staffed["admin"]).get(f"/w/{staffed.slug}/office/payslips")
    assert page.status_code == 200
    assert 'data-testid="my-payslips"' not in page.get_data(as_text=True)


def test_contribution_rates_are_saved_as_percentages_and_bad_ones_refused(app, staffed, client_as):
    client = client_as(staffed["owner"])
    url = f"/w/{staffed.slug}/finance/payroll/settings"
    assert client.get(url).status_code == 200
    r = post(client, url, {"city": "杭州", "pension_employee": "8", "pension_employer": "14",
                           "housing_employee": "12", "housing_employer": "60"})  # fmt: skip
    assert r.status_code == 400
    r = post(client, url, {"city": "杭州", "pension_employee": "8", "pension_employer": "14",
                           "housing_employee": "12", "housing_employer": "12"})  # fmt: skip
    assert r.status_code == 302
    from crm.payroll import services

    with in_tenant(app, staffed.id):
        row = services.settings_for(None)  # type: ignore[arg-type]
        assert row.city == "杭州" and row.pension_employer == D("0.14") and row.housing_employee == D("0.12")
    assert date(2026, 1, 1)  # the rates apply from the next computed run


@pytest.mark.redis
def test_a_run_goes_through_rq_and_the_page_shows_its_progress_until_done(make_app, staffed, token_for, monkeypatch):
    from redis import Redis
    from rq import Queue, SimpleWorker

    import workers.runner
    from tests.conftest import REDIS_URL

    conn = Redis.from_url(REDIS_URL)
    conn.flushdb()
    try:
        app = make_app(REDIS_URL=REDIS_URL, JOBS_INLINE=False)
        client = app.test_client()
        h = bearer(token_for(staffed["owner"]))
        r = client.post("/api/v1/payroll-runs", json={"period": "2026-01"}, headers=h)
        assert r.status_code == 202 and r.get_json()["employee_count"] == 0
        run_id, job_id = r.get_json()["id"], r.get_json()["job_id"]
        from tests.helpers import login

        login(client, staffed["owner"].email)
        page = client.get(f"/w/{staffed.slug}/finance/payroll/runs/{run_id}").get_data(as_text=True)
        assert f'id="job-{job_id}"' in page
        with app.app_context():
            from workers.queue import redis_connection

            q = Queue("default", connection=redis_connection())
            monkeypatch.setattr(workers.runner, "_app", app)
            SimpleWorker([q], connection=q.connection).work(burst=True)
        body = client.get(f"/api/v1/payroll-runs/{run_id}", headers=h).get_json()
        assert body["employee_count"] == 2 and len(body["lines"]) == 2
        page = client.get(f"/w/{staffed.slug}/finance/payroll/runs/{run_id}").get_data(as_text=True)
        assert f'id="job-{job_id}"' not in page and "张三" in page
    finally:
        conn.flushdb()
        conn.close()


def test_the_payroll_role_runs_payroll_without_being_an_administrator(app, staffed, client_as, token_for):
    from tests.factories import add_member

    with app.app_context():
        officer = add_member(staffed, "payroll", "payroll@alpha.example.com", "钱会计")
        db.session.commit()
    client = client_as(officer)
    for url in ("/finance/payroll", "/finance/payroll/employees", "/finance/payroll/settings"):
        assert client.get(f"/w/{staffed.slug}{url}").status_code == 200
    r = client.post("/api/v1/payroll-runs", json={"period": "2026-01"}, headers=bearer(token_for(officer)))
    assert r.status_code == 202
    assert client_as(staffed["admin"]).get(f"/w/{staffed.slug}/finance/payroll").status_code == 403


def test_sidebar_offers_payroll_to_payroll_staff_only_and_payslips_to_everyone(staffed, client_as):
    payroll_href = f'href="/w/{staffed.slug}/finance/payroll"'
    payslips_href = f'href="/w/{staffed.slug}/office/payslips"'
    owner = client_as(staffed["owner"]).get(f"/w/{staffed.slug}/office/").get_data(as_text=True)
    finance = client_as(staffed["finance"]).get(f"/w/{staffed.slug}/office/").get_data(as_text=True)
    assert payroll_href in owner and payroll_href not in finance
    assert payslips_href in owner and payslips_href in finance


def test_api_declares_deductions_and_bonuses_sets_rates_and_pays_a_run(app, staffed, client, token_for):
    h = bearer(token_for(staffed["owner"]))
    with in_tenant(app, staffed.id):
        zhang = db.session.scalars(select(Employee.id).where(Employee.name == "张三")).one()
    base = f"/api/v1/employees/{zhang}"
    r = client.post(base + "/special-deductions", json={"period": "2026-01", "children": 1, "housing_rent": "1500"},
                    headers=h)  # fmt: skip
    assert r.status_code == 201 and r.get_json()["total"] == "3500.00"
    bad = client.post(base + "/special-deductions", json={"period": "2026-01", "housing_loan": "1000",
                                                           "housing_rent": "1500"}, headers=h)  # fmt: skip
    assert bad.status_code == 422 and "housing_rent" in bad.get_json()["errors"]["json"]
    assert client.get(base + "/special-deductions", headers=h).get_json()[0]["period"] == "2026-01"
    r = client.post(base + "/bonuses", json={"period": "2026-01", "amount": "36000"}, headers=h)
    assert r.status_code == 200 and r.get_json() == [{"id": r.get_json()[0]["id"], "period": "2026-01",
                                                     "amount": "36000.00"}]  # fmt: skip
    rates = client.patch("/api/v1/payroll-settings", json={"housing_employee": "5", "housing_employer": "5"},
                         headers=h).get_json()  # fmt: skip
    assert rates["housing_employee"] == "5.00" and rates["pension_employee"] == "8.00"
    assert client.patch("/api/v1/payroll-settings", json={"pension_employer": "70"}, headers=h).status_code == 422
    run_id = client.post("/api/v1/payroll-runs", json={"period": "2026-01"}, headers=h).get_json()["id"]
    line = next(x for x in client.get(f"/api/v1/payroll-runs/{run_id}", headers=h).get_json()["lines"]
                if x["employee_id"] == zhang)  # fmt: skip
    # 20,000 − 5,000 − 3,500: 11,500 taxable (no social insurance base); the bonus apart: 1,080.
    assert line["taxable"] == "11500.00" and line["tax"] == "345.00" and line["bonus_tax"] == "1080.00"
    refused = client.post(f"/api/v1/payroll-runs/{run_id}/pay", json={}, headers=h)
    assert refused.status_code == 422 and refused.get_json()["rule"] == "not_confirmed"
    client.post(f"/api/v1/payroll-runs/{run_id}/confirm", headers=h)
    paid = client.post(f"/api/v1/payroll-runs/{run_id}/pay", json={"date": "2026-02-10"}, headers=h)
    assert paid.status_code == 200 and paid.get_json()["status"] == "paid" and paid.get_json()["payment_entry_id"]


def test_my_payslips_page_issues_constant_sql_with_1_and_6_months(app, staffed, client_as, count_queries):
    client = client_as(staffed["sales"])
    url = f"/w/{staffed.slug}/office/payslips"
    with in_tenant(app, staffed.id, staffed["owner"].user_id):
        actor = db.session.get(Membership, staffed["owner"].id)
        run_month(actor, "2026-01")
        db.session.commit()
    assert client.get(url).status_code == 200
    with count_queries() as small:
        assert client.get(url).status_code == 200
    with in_tenant(app, staffed.id, staffed["owner"].user_id):
        actor = db.session.get(Membership, staffed["owner"].id)
        for month in range(2, 7):
            run_month(actor, f"2026-{month:02d}")
        db.session.commit()
    with count_queries() as large:
        page = client.get(url)
    assert page.get_data(as_text=True).count("/payslips/") >= 6
    assert small.count == large.count, "\n".join(large.statements)


def test_the_employee_page_saves_deductions_and_a_bonus_and_shows_bad_input_beside_the_form(app, staffed, client_as):
    from crm.payroll.models import Bonus, SpecialDeduction

    client = client_as(staffed["owner"])
    with in_tenant(app, staffed.id):
        emp = db.session.scalars(select(Employee.id).where(Employee.name == "李四")).one()
    base = f"/w/{staffed.slug}/finance/payroll/employees/{emp}"
    both = {"period": "2026-01", "housing_loan": "1000", "housing_rent": "1500"}
    bad = post(client, base + "/special-deductions", both)
    assert bad.status_code == 400
    r = post(client, base + "/special-deductions", {"period": "2026-01", "children": "1", "housing_rent": "1500"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/employees/{emp}")
    assert post(client, base + "/bonuses", {"period": "2026-12", "amount": "abc"}).status_code == 400
    assert post(client, base + "/bonuses", {"period": "2026-12", "amount": "36000"}).status_code == 302
    with in_tenant(app, staffed.id):
        assert db.session.scalar(select(func.count()).select_from(SpecialDeduction)) == 1
        assert db.session.scalar(select(func.count()).select_from(Bonus)) == 1
