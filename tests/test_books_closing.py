"""Period close (结账) and re-open (反结账): the checklist, the closing entries and their figures,
the year-end carry, the lock on a closed month by every path, re-open rules, the job and the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.books import closing
from crm.books import services as books
from crm.books.errors import RuleViolation
from crm.books.models import FiscalPeriod, JournalEntry
from crm.db import db
from roles.checks import PermissionDenied
from tenants.models import Tenant
from tests import factories
from tests.books_factories import make_entry, setup_books
from tests.factories import member_row
from tests.helpers import ApiClient, in_tenant, post

JAN, FEB, MAR = date(2026, 1, 20), date(2026, 2, 10), date(2026, 3, 5)


def _bal(role: str, until: date) -> Decimal:
    return books.account_balance(books.account_for(role).id, until=until)


@pytest.fixture
def booked(app, tenant_a):
    """Books from 2026-01: January sells 1,000.00 and spends 300.00 on administration."""
    with in_tenant(app, tenant_a.id):
        tenant = db.session.get(Tenant, tenant_a.id)
        fin = member_row(tenant_a["finance"])
        setup_books(tenant, fin)
        make_entry(tenant, fin, JAN, "1000.00", post=True)
        make_entry(tenant, fin, JAN, "300.00", post=True, debit_role="admin_expense", credit_role="bank")
        db.session.commit()
    return tenant_a


def _manager(app, tenant_a):
    with app.app_context():
        m = factories.add_member(tenant_a, "finance_manager", "fm@alpha.example.com", "财务经理")
        db.session.commit()
    return m


def _close(app, tenant_a, year, month, role="finance"):
    with in_tenant(app, tenant_a.id):
        tenant = db.session.get(Tenant, tenant_a.id)
        row = closing.close_period(tenant, member_row(tenant_a[role]), year, month)
        db.session.commit()
        return row.id


def test_closing_zeroes_revenue_and_expenses_and_moves_the_profit_to_current_profit(app, booked):
    _close(app, booked, 2026, 1)
    with in_tenant(app, booked.id):
        end = date(2026, 1, 31)
        assert _bal("revenue", end) == Decimal("0.00")
        assert _bal("admin_expense", end) == Decimal("0.00")
        assert _bal("current_profit", end) == Decimal("-700.00")  # a credit of 700.00
        assert _bal("bank", end) == Decimal("700.00")
        row = books.period_row(2026, 1)
        assert row.status == "closed" and row.closing_entry_id is not None
        entry = db.session.get(JournalEntry, row.closing_entry_id)
        assert (entry.kind, entry.source_type, entry.source_id, entry.entry_date) == ("closing", "period", row.id, end)
        assert entry.total == Decimal("1300.00")
        assert _bal("undistributed_profit", end) == Decimal("0.00")  # not the fiscal year's last month


def test_the_fiscal_years_last_month_carries_the_profit_to_undistributed_profit(app, booked):
    with in_tenant(app, booked.id):
        tenant = db.session.get(Tenant, booked.id)
        tenant.settings = {**(tenant.settings or {}), "fiscal_year_start": 2}  # so January ends the year
        db.session.commit()
    _close(app, booked, 2026, 1)
    with in_tenant(app, booked.id):
        end = date(2026, 1, 31)
        assert _bal("current_profit", end) == Decimal("0.00")
        assert _bal("undistributed_profit", end) == Decimal("-700.00")
        closings = db.session.scalars(select(JournalEntry).where(JournalEntry.kind == "closing")).all()
        assert len(closings) == 2


def test_an_empty_month_closes_without_an_entry(app, booked):
    _close(app, booked, 2026, 1)
    _close(app, booked, 2026, 2)
    with in_tenant(app, booked.id):
        assert books.period_row(2026, 2).closing_entry_id is None
        assert db.session.scalar(select(db.func.count(JournalEntry.id)).where(JournalEntry.kind == "closing")) == 1


def test_the_checklist_lists_what_stops_the_close(app, booked):
    with in_tenant(app, booked.id):
        tenant = db.session.get(Tenant, booked.id)
        make_entry(tenant, member_row(booked["finance"]), FEB)  # a draft in February
        db.session.commit()
        checks = {c.key: c for c in closing.close_checklist(tenant, 2026, 3)}
        assert not checks["earlier_months"].ok and "2026-01" in checks["earlier_months"].detail
        assert checks["draft_entries"].ok
        feb = {c.key: c for c in closing.close_checklist(tenant, 2026, 2)}
        assert not feb["draft_entries"].ok
        assert all(feb[k].ok for k in ("receivables", "payables", "customer_credit", "prepayments"))
        with pytest.raises(RuleViolation) as err:
            closing.close_period(tenant, member_row(booked["finance"]), 2026, 3)
        assert err.value.rule == "close_checklist" and "earlier_months" in err.value.errors
        db.session.rollback()
        assert books.period_row(2026, 3) is None or books.period_row(2026, 3).status == "open"


def test_a_month_before_the_books_or_in_the_future_or_closed_twice_is_refused(app, booked):
    with in_tenant(app, booked.id):
        tenant = db.session.get(Tenant, booked.id)
        fin = member_row(booked["finance"])
        with pytest.raises(RuleViolation) as err:
            closing.close_period(tenant, fin, 2025, 12)
        assert err.value.rule == "before_books_start"
        future = books.today_in(tenant).replace(day=1)
        year, month = (future.year + 1, 1) if future.month == 12 else (future.year, future.month + 1)
        with pytest.raises(RuleViolation) as err:
            closing.close_period(tenant, fin, year, month)
        assert err.value.rule == "future_month"
    _close(app, booked, 2026, 1)
    with in_tenant(app, booked.id), pytest.raises(RuleViolation) as err:
        closing.close_period(db.session.get(Tenant, booked.id), member_row(booked["finance"]), 2026, 1)
    assert err.value.rule == "already_closed"


def test_after_close_nothing_posts_into_the_month_by_service_api_or_form(app, booked, client_as, token_for):
    _close(app, booked, 2026, 1)
    with in_tenant(app, booked.id):
        tenant = db.session.get(Tenant, booked.id)
        with pytest.raises(RuleViolation) as err:  # a job posts with actor None
            books.post_lines(tenant, None, JAN, "late", [
                books.LineInput(books.account_for("bank").id, debit="5"),
                books.LineInput(books.account_for("revenue").id, credit="5"),
            ])  # fmt: skip
        assert err.value.rule == "period_closed"
        db.session.rollback()
        bank, revenue = books.account_for("bank").id, books.account_for("revenue").id
    api = ApiClient(app.test_client(), token_for(booked["owner"]))
    r = api.post("/journal-entries", {"date": "2026-01-25", "memo": "late", "post": True, "lines": [
        {"account": bank, "debit": "5.00"}, {"account": revenue, "credit": "5.00"}]})  # fmt: skip
    assert r.status_code == 422 and r.json["rule"] == "period_closed"
    c = client_as(booked["finance"])
    r = post(c, f"/w/{booked.slug}/finance/books/entries/new", {
        "entry_date": "2026-01-25", "memo": "late", "post": "1",
        "lines-0-account": bank, "lines-0-debit": "5", "lines-1-account": revenue, "lines-1-credit": "5"})  # fmt: skip
    assert r.status_code == 400
    assert "2026-01 is closed" in r.get_data(as_text=True)
    with in_tenant(app, booked.id):
        assert db.session.scalar(select(db.func.count(JournalEntry.id)).where(JournalEntry.memo == "late")) == 0


def test_reopen_needs_the_permission_a_reason_and_the_latest_month(app, booked, token_for):
    _close(app, booked, 2026, 1)
    _close(app, booked, 2026, 2)
    manager = _manager(app, booked)
    with in_tenant(app, booked.id):
        tenant = db.session.get(Tenant, booked.id)
        with pytest.raises(PermissionDenied):
            closing.reopen_period(tenant, member_row(booked["finance"]), 2026, 2, "fix")
    fin_api = ApiClient(app.test_client(), token_for(booked["finance"]))
    assert fin_api.post("/periods/2026-02/reopen", {"reason": "fix"}).status_code == 403
    api = ApiClient(app.test_client(), token_for(manager))
    r = api.post("/periods/2026-02/reopen", {"reason": ""})
    assert r.status_code == 422 and "reason" in r.json["errors"]["json"]
    r = api.post("/periods/2026-01/reopen", {"reason": "fix"})
    assert r.status_code == 422 and r.json["rule"] == "not_latest"
    assert api.post("/periods/2026-13/reopen", {"reason": "x"}).status_code == 404
    r = api.post("/periods/2026-02/reopen", {"reason": "补录发票"})
    assert r.status_code == 200 and r.json["status"] == "open"
    with in_tenant(app, booked.id):
        assert books.period_row(2026, 2).status == "open"
        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "period.reopen")).one()
        assert "补录发票" in audit.summary


def test_reclosing_after_reopen_carries_the_same_amounts_once(app, booked):
    _close(app, booked, 2026, 1)
    manager = _manager(app, booked)
    with in_tenant(app, booked.id):
        tenant = db.session.get(Tenant, booked.id)
        closing.reopen_period(tenant, member_row(manager), 2026, 1, "late invoice")
        db.session.commit()
        end = date(2026, 1, 31)
        assert _bal("revenue", end) == Decimal("-1000.00")  # back as before the close
        assert _bal("current_profit", end) == Decimal("0.00")
        make_entry(tenant, member_row(booked["finance"]), JAN, "50.00", post=True)
        db.session.commit()
    _close(app, booked, 2026, 1)
    with in_tenant(app, booked.id):
        end = date(2026, 1, 31)
        assert _bal("revenue", end) == Decimal("0.00")
        assert _bal("current_profit", end) == Decimal("-750.00")
        row = books.period_row(2026, 1)
        assert [e.kind for e in closing.closing_entries(row)] == ["closing"]


def test_close_through_the_api_runs_the_job_and_refuses_failing_checks(app, booked, token_for):
    api = ApiClient(app.test_client(), token_for(booked["finance"]))
    r = api.post("/periods/2026-02/close")
    assert r.status_code == 422 and r.json["rule"] == "close_checklist"
    assert "earlier_months" in r.json["errors"]["json"]
    assert api.post("/periods/2026-1/close").status_code == 404
    r = api.post("/periods/2026-01/close")
    assert r.status_code == 202, r.json
    assert r.json["kind"] == "period_close" and r.json["status"] == "finished"
    periods = {p["period"]: p for p in api.get("/periods").json}
    assert periods["2026-01"]["status"] == "closed" and periods["2026-01"]["closing_entry_id"]
    assert periods["2026-02"]["status"] == "open"
    sales = ApiClient(app.test_client(), token_for(booked["sales"]))
    assert sales.post("/periods/2026-02/close").status_code == 403


def test_close_and_reopen_through_the_pages(app, booked, client_as):
    c = client_as(booked["finance"])
    base = f"/w/{booked.slug}/finance/books/periods"
    page = c.get(f"{base}/2026-01")
    assert page.status_code == 200 and 'data-check="earlier_months" data-ok="yes"' in page.get_data(as_text=True)
    r = post(c, f"{base}/2026-01/close")
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    listing = c.get(base).get_data(as_text=True)
    assert 'data-period="2026-01"' in listing and "Closed" in listing
    assert post(c, f"{base}/2026-01/reopen", {"reason": "x"}).status_code == 403  # plain finance
    owner = client_as(booked["owner"])
    r = post(owner, f"{base}/2026-01/reopen", {"reason": ""})
    assert r.status_code == 302
    with in_tenant(app, booked.id):
        assert books.period_row(2026, 1).status == "closed"
    post(owner, f"{base}/2026-01/reopen", {"reason": "wrong rate"})
    with in_tenant(app, booked.id):
        assert books.period_row(2026, 1).status == "open"
        assert db.session.scalar(select(db.func.count(FiscalPeriod.id))) == 1


@pytest.mark.parametrize(("language", "done"), [("en", "2026-01 is closed."), ("zh-CN,zh", "2026-01 已结账。")])
def test_the_close_job_speaks_the_language_of_the_page_that_asked(app, booked, client_as, language, done):
    from workers.models import JobRecord

    c = client_as(booked["finance"], accept_language=language)
    r = post(c, f"/w/{booked.slug}/finance/books/periods/2026-01/close")
    assert r.status_code == 302
    with in_tenant(app, booked.id):
        assert db.session.scalars(select(JobRecord.message).where(JobRecord.kind == "period_close")).one() == done


def test_the_checklist_never_shows_a_negative_zero():
    assert closing._money(Decimal("-0.00")) == "0.00"
    assert closing._money(Decimal("-1234.5")) == "-1,234.50"


def test_the_close_job_page_leads_back_to_the_period_and_promises_no_file(app, booked, client_as):
    c = client_as(booked["finance"], accept_language="en")
    r = post(c, f"/w/{booked.slug}/finance/books/periods/2026-01/close")
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert f'href="/w/{booked.slug}/finance/books/periods/2026-01" data-testid="job-follow-up"' in page
    assert "the file stays available" not in page and "the work goes on without you" in page
