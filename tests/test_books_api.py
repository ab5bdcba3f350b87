"""/api/v1 for the books: set-up, lock date, accounts, departments, journal entries."""

from __future__ import annotations

from datetime import date

import pytest

from crm.books import services as books
from crm.db import db
from tenants.models import Tenant
from tests import factories
from tests.books_factories import setup_books
from tests.factories import member_row
from tests.helpers import ApiClient, in_tenant


@pytest.fixture
def ready(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        setup_books(db.session.get(Tenant, tenant_a.id), member_row(tenant_a["finance"]))
        db.session.commit()
    return tenant_a


@pytest.fixture
def api(app, ready, token_for):
    return ApiClient(app.test_client(), token_for(ready["finance"]))


def _ids(app, t):
    with in_tenant(app, t.id):
        return books.account_for("bank").id, books.account_for("revenue").id


def test_set_up_through_the_api_once(app, tenant_a, token_for):
    api = ApiClient(app.test_client(), token_for(tenant_a["finance"]))
    assert api.get("/books").json["set_up"] is False
    assert api.post("/books/setup", {"standard": "xx", "start": "2026-01"}).status_code == 422
    r = api.post("/books/setup", {"standard": "cas", "start": "2026-04"})
    assert r.status_code == 200 and r.json == {"set_up": True, "standard": "cas", "start": "2026-04-01",
                                               "lock_date": None}  # fmt: skip
    r = api.post("/books/setup", {"standard": "small", "start": "2026-04"})
    assert r.status_code == 422 and r.json["rule"] == "already_set_up"


def test_the_lock_date_needs_books_post_locked(app, ready, api, token_for):
    r = api.patch("/books", {"lock_date": "2026-02-28"})
    assert r.status_code == 403
    with app.app_context():
        manager = factories.add_member(ready, "finance_manager", "fm@alpha.example.com", "财务经理")
        db.session.commit()
    mgr = ApiClient(app.test_client(), token_for(manager))
    r = mgr.patch("/books", {"lock_date": "2026-02-28"})
    assert r.status_code == 200 and r.json["lock_date"] == "2026-02-28"
    bank, revenue = _ids(app, ready)
    body = {"date": "2026-02-01", "post": True, "lines": [{"account": bank, "debit": "1"},
                                                          {"account": revenue, "credit": "1"}]}  # fmt: skip
    r = api.post("/journal-entries", body)
    assert r.status_code == 422 and r.json["rule"] == "lock_date"
    assert mgr.post("/journal-entries", body).status_code == 201
    assert mgr.patch("/books", {"lock_date": None}).json["lock_date"] is None


def test_accounts_list_create_and_change(app, ready, api):
    rows = api.get("/accounts?type=revenue").json
    assert rows and all(a["type"] == "revenue" for a in rows)
    bank, _revenue = _ids(app, ready)
    r = api.post("/accounts", {"parent_id": bank, "code": "100201", "name_zh": "招商银行", "name_en": "CMB"})
    assert r.status_code == 201 and r.json["type"] == "asset" and r.json["is_cash"] is True
    sub = r.json["id"]
    r = api.post("/accounts", {"parent_id": bank, "code": "2202", "name_zh": "x"})
    assert r.status_code == 422 and "code" in r.json["errors"]["json"]
    assert api.patch(f"/accounts/{sub}", {"name_en": "China Merchants Bank"}).json["name_en"] == "China Merchants Bank"
    r = api.patch(f"/accounts/{bank}", {"is_active": False})
    assert r.status_code == 422 and r.json["rule"] == "has_children"
    assert api.patch(f"/accounts/{sub}", {"is_active": False}).json["is_active"] is False
    assert all(a["is_active"] for a in api.get("/accounts?active=true").json)
    assert api.get("/accounts/999999").status_code == 404


def test_departments(app, ready, api):
    r = api.post("/departments", {"name": "研发部"})
    assert r.status_code == 201
    dept = r.json["id"]
    assert api.post("/departments", {"name": "研发部"}).status_code == 422
    assert api.patch(f"/departments/{dept}", {"is_active": False}).json["is_active"] is False
    assert [d["name"] for d in api.get("/departments").json] == ["研发部"]


def test_each_bad_line_is_named(app, ready, api):
    bank, revenue = _ids(app, ready)
    r = api.post("/journal-entries", {"date": "2026-03-01", "lines": [
        {"account": bank, "debit": "1.001"},
        {"account": 999999, "credit": "1"},
        {"account": revenue, "debit": "1", "credit": "1"},
        {"account": revenue, "credit": "1", "party_type": "customer", "party_id": 999999},
    ]})  # fmt: skip
    assert r.status_code == 422
    errors = r.json["errors"]["json"]
    assert {"lines.0.debit", "lines.1.account", "lines.2.credit", "lines.3.party"} <= set(errors)


def test_draft_post_patch_delete_reverse(app, ready, api):
    bank, revenue = _ids(app, ready)
    r = api.post("/journal-entries", {"date": "2026-03-01", "memo": "draft", "lines": [
        {"account": bank, "debit": "100.00"}, {"account": revenue, "credit": "90.00"}]})  # fmt: skip
    assert r.status_code == 201 and r.json["status"] == "draft"
    eid = r.json["id"]
    r = api.post(f"/journal-entries/{eid}/post")
    assert r.status_code == 422 and r.json["rule"] == "unbalanced"
    r = api.patch(f"/journal-entries/{eid}", {"lines": [{"account": bank, "debit": "100.00"},
                                                        {"account": revenue, "credit": "100.00"}]})  # fmt: skip
    assert r.status_code == 200 and r.json["total"] == "100.00"
    r = api.post(f"/journal-entries/{eid}/post")
    assert r.status_code == 200 and r.json["number"] == "记-2026-03-0001"
    r = api.patch(f"/journal-entries/{eid}", {"memo": "changed"})
    assert r.status_code == 422 and r.json["rule"] == "posted_is_final"
    r = api.delete(f"/journal-entries/{eid}")
    assert r.status_code == 422 and r.json["rule"] == "posted_is_final"
    r = api.post(f"/journal-entries/{eid}/reverse", {"date": "2026-02-01"})
    assert r.status_code == 422
    r = api.post(f"/journal-entries/{eid}/reverse", {"date": "2026-03-31", "memo": "冲销"})
    assert r.status_code == 201 and r.json["reverses_id"] == eid
    assert api.get(f"/journal-entries/{eid}").json["reversed_by_id"] == r.json["id"]
    listing = api.get("/journal-entries?status=posted").json
    assert listing["total"] == 2
    assert api.get(f"/journal-entries?account={bank}&date_from=2026-03-31").json["total"] == 1
    r = api.post("/journal-entries", {"date": "2026-03-02", "lines": [
        {"account": bank, "debit": "1"}, {"account": revenue, "credit": "1"}]})  # fmt: skip
    assert api.delete(f"/journal-entries/{r.json['id']}").status_code == 204


def test_before_the_books_start_is_refused(app, ready, api):
    bank, revenue = _ids(app, ready)
    r = api.post("/journal-entries", {"date": date(2025, 12, 31).isoformat(), "post": True, "lines": [
        {"account": bank, "debit": "1"}, {"account": revenue, "credit": "1"}]})  # fmt: skip
    assert r.status_code == 422 and r.json["rule"] == "before_books_start"


def test_sales_have_no_books_api(app, ready, token_for):
    api = ApiClient(app.test_client(), token_for(ready["sales"]))
    assert api.get("/journal-entries").status_code == 403
    assert api.get("/accounts").status_code == 403
