"""/api/v1/reports: shapes, money as strings, paging of the long reports, 422 naming the field."""

from __future__ import annotations

import pytest

from tests import finreports_factories as ff
from tests.helpers import ApiClient


@pytest.fixture
def api(client, token_for):
    return lambda member: ApiClient(client, token_for(member))


def test_trial_balance_shape(app, tenant_a, api):
    ff.standard_books(app, tenant_a)
    r = api(tenant_a["finance"]).get("/reports/trial-balance?period=2026-02")
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) >= {"report", "title", "subtitle", "params", "columns", "rows", "totals", "notes"}
    assert body["report"] == "trial_balance" and body["params"] == {"period": "2026-02"}
    assert body["columns"][2] == {"key": "opening_debit", "label": "Opening debit", "kind": "money"}
    bank = next(x for x in body["rows"] if x["code"] == "1002")
    assert bank["opening_debit"] == "100000.00" and bank["closing_debit"] == "98000.00"
    assert body["totals"][0]["period_debit"] == body["totals"][0]["period_credit"] == "23300.00"


def test_every_report_answers(app, tenant_a, api):
    b = ff.standard_books(app, tenant_a)
    a = api(tenant_a["owner"])
    for path in ("trial-balance?from=2026-01-01&to=2026-03-31", "general-ledger?account=1002&period=2026-03",
                 "journal?from=2026-01-01&to=2026-03-31", "balance-sheet?as_of=2026-03-31",
                 "income-statement?period=2026-02", "ar-aging?as_of=2026-06-30", "ap-aging",
                 f"statement?customer={b.customer_id}&from=2026-02-01&to=2026-03-31"):  # fmt: skip
        r = a.get("/reports/" + path)
        assert r.status_code == 200, (path, r.get_json())
    bs = a.get("/reports/balance-sheet?as_of=2026-03-31").get_json()
    lines = {x["line"]: x for x in bs["rows"]}
    assert lines["Total assets"]["closing"] == lines["Total liabilities and owners' equity"]["closing"] == "109300.00"
    assert lines["Total assets"].get("section") is True
    st = a.get(f"/reports/statement?customer={b.customer_id}&from=2026-02-01&to=2026-03-31").get_json()
    assert st["totals"][-1]["balance"] == "6300.00" and "陆仟叁佰元整" in st["notes"][0]


def test_long_reports_are_paged(app, tenant_a, api):
    ff.standard_books(app, tenant_a)
    a = api(tenant_a["finance"])
    r = a.get("/reports/journal?from=2026-01-01&to=2026-03-31&limit=5").get_json()
    assert r["limit"] == 5 and r["offset"] == 0 and r["has_more"] is True and len(r["rows"]) == 5
    assert r["row_count"] == 14
    r2 = a.get("/reports/journal?from=2026-01-01&to=2026-03-31&limit=5&offset=10").get_json()
    assert len(r2["rows"]) == 4 and r2["has_more"] is False
    assert r2["rows"][0]["date"] == "2026-03-05"
    gl = a.get("/reports/general-ledger?period=2026-03").get_json()
    assert gl["limit"] == 1000 and gl["rows"][0]["section"] is True and gl["rows"][0]["number"] == "1002"
    assert a.get("/reports/journal?limit=10001").status_code == 422
    assert a.get("/reports/journal?limit=0").status_code == 422


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("trial-balance?period=2026-13", "period"),
        ("trial-balance?from=2026-03-01&to=2026-01-01", "to"),
        ("general-ledger?account=nope", "account"),
        ("journal?from=yesterday", "from"),
        ("balance-sheet?as_of=2026-02-30", "as_of"),
        ("income-statement?period=26-01", "period"),
        ("ar-aging?as_of=x", "as_of"),
        ("statement", "customer"),
        ("statement?customer=999999", "customer"),
    ],
)
def test_bad_params_are_422_naming_the_field(app, tenant_a, api, path, field):
    ff.set_up(app, tenant_a)
    r = api(tenant_a["finance"]).get("/reports/" + path)
    assert r.status_code == 422
    assert field in r.get_json()["errors"]["json"]


def test_another_workspace_customer_gives_nothing(app, tenant_a, tenant_b, api):
    b = ff.standard_books(app, tenant_a)
    ff.set_up(app, tenant_b)
    r = api(tenant_b["finance"]).get(f"/reports/statement?customer={b.customer_id}")
    assert r.status_code == 422 and "华东贸易" not in r.get_data(as_text=True)
    # and workspace b's reports never show a's figures
    tb = api(tenant_b["finance"]).get("/reports/trial-balance?from=2026-01-01&to=2026-12-31").get_json()
    assert tb["rows"] == []


def test_sales_roles_are_refused(app, tenant_a, api):
    for role in ("sales", "sales_manager"):
        assert api(tenant_a[role]).get("/reports/trial-balance").status_code == 403
