"""Finance reports: exact figures on a small hand-made set of entries, balancing, aging boundaries,
the customer statement, streaming, pages and the dashboard."""

from __future__ import annotations

import types
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from crm.finreports.base import build
from crm.sales.services import InvalidInput
from tests import finreports_factories as ff

D = Decimal


def run(app, t, key: str, params: dict[str, Any], locale: str = "en") -> tuple[Any, list[list[Any]]]:
    from flask_babel import force_locale

    from tenants.context import tenant_context
    from tests import factories

    with app.test_request_context(), force_locale(locale), tenant_context(t.id):
        from crm.db import db
        from tenants.models import Tenant

        tenant = db.session.get(Tenant, t.id)
        report = build(key, tenant, factories.member_row(t["finance"]), params)
        rows = [list(r) for r in report.rows]
        report.title = str(report.title)
        report.notes = [str(n) for n in report.notes]
        return report, rows


def by_code(rows):
    return {r[0]: r for r in rows}


# --- trial balance ---------------------------------------------------------------------------


def test_trial_balance_figures_and_balance(app, tenant_a):
    ff.standard_books(app, tenant_a)
    report, rows = run(app, tenant_a, "trial_balance", {"period": "2026-02"})
    tb = by_code(rows)
    z = D("0")
    #                          opening Dr, Cr     period Dr, Cr          closing Dr, Cr
    assert tb["1002"][2:] == [D("100000"), z, z, D("2000"), D("98000"), z]
    assert tb["3001"][2:] == [z, D("100000"), z, z, z, D("100000")]
    assert tb["1122"][2:] == [z, z, D("11300"), z, D("11300"), z]
    assert tb["5001"][2:] == [z, z, D("10000"), D("10000"), z, z]  # closed into 本年利润
    assert tb["3103"][2:] == [z, z, z, D("8000"), z, D("8000")]
    # the parent 应交税费 is the sum of its sub-account, shown indented under it
    assert tb["2221"][2:] == [z, z, z, D("1300"), z, D("1300")]
    assert tb["222101"][1].startswith("\u3000") and tb["222101"][5] == D("1300")
    assert "1001" not in tb  # all zeros: hidden
    total = report.totals[0]
    assert total[2] == total[3] == D("100000")
    assert total[4] == total[5] == D("23300")
    assert total[6] == total[7] == D("109300")
    assert report.subtitle == "2026-02"


def test_trial_balance_range_and_bad_params(app, tenant_a):
    ff.standard_books(app, tenant_a)
    report, rows = run(app, tenant_a, "trial_balance", {"from": "2026-01-01", "to": "2026-03-31"})
    t = report.totals[0]
    assert t[2] == t[3] == 0 and t[4] == t[5] == D("133300") and t[6] == t[7] == D("109300")
    for params, field in (({"period": "2026-13"}, "period"), ({"from": "x"}, "from"),
                          ({"from": "2026-03-01", "to": "2026-02-01"}, "to")):  # fmt: skip
        with pytest.raises(InvalidInput) as err:
            run(app, tenant_a, "trial_balance", params)
        assert field in err.value.errors


def test_trial_balance_is_one_statement_over_journal_lines(app, tenant_a, count_queries):
    ff.standard_books(app, tenant_a)
    with count_queries() as q:
        run(app, tenant_a, "trial_balance", {"period": "2026-02"})
    lines = [s for s in q.statements if "journal_lines" in s]
    assert len(lines) == 1 and "GROUP BY" in lines[0].upper()


# --- balance sheet and income statement -----------------------------------------------------


def _lines(rows):
    return {r[0]: r for r in rows}


@pytest.mark.parametrize("standard", ["small", "cas"])
def test_balance_sheet_balances(app, tenant_a, standard):
    ff.standard_books(app, tenant_a, standard=standard)
    for as_of, assets in (("2026-02-15", D("111300")), ("2026-03-31", D("109300"))):
        report, rows = run(app, tenant_a, "balance_sheet", {"as_of": as_of})
        bs = _lines(rows)
        assert bs["Total assets"][1] == assets
        assert bs["Total liabilities and owners' equity"][1] == assets
        assert bs["Total assets"][2] == bs["Total liabilities and owners' equity"][2] == 0  # beginning of year
        assert bs["Total assets"][-1] == report.section_marker  # subtotals are bold
    bs = _lines(rows)
    assert bs["Cash and cash equivalents"][1] == D("103000")
    assert bs["Accounts receivable"][1] == D("6300")
    assert bs["Taxes payable"][1] == D("1300")
    assert bs["Advances from customers"][1] == 0
    assert bs["Undistributed profit"][1] == D("8000")
    # before the close, the unclosed revenue is in undistributed profit
    _r, rows = run(app, tenant_a, "balance_sheet", {"as_of": "2026-02-15"})
    assert _lines(rows)["Undistributed profit"][1] == D("10000")


def test_balance_sheet_year_opening_column(app, tenant_a):
    ff.standard_books(app, tenant_a)
    # a later year: the beginning-of-year column holds 2026's closing figures
    _r, rows = run(app, tenant_a, "balance_sheet", {"as_of": "2027-01-31"})
    bs = _lines(rows)
    assert bs["Total assets"][2] == bs["Total assets"][1] == D("109300")
    assert bs["Total liabilities and owners' equity"][2] == D("109300")


def test_income_statement_excludes_closing_entries(app, tenant_a):
    ff.standard_books(app, tenant_a)
    report, rows = run(app, tenant_a, "income_statement", {"period": "2026-02"})
    inc = _lines(rows)
    assert inc["Operating revenue"][1:3] == [D("10000"), D("10000")]
    assert inc["Administrative expenses"][1:3] == [D("2000"), D("2000")]
    assert inc["Operating profit"][1] == D("8000")
    assert inc["Total profit"][1] == D("8000")
    assert inc["Net profit"][1:3] == [D("8000"), D("8000")]
    _r, rows = run(app, tenant_a, "income_statement", {"period": "2026-03"})
    inc = _lines(rows)
    assert inc["Net profit"][1] == 0 and inc["Net profit"][2] == D("8000")


def test_income_statement_fiscal_year_start(app, tenant_a):
    ff.standard_books(app, tenant_a)
    from crm.db import db
    from tenants.models import Tenant
    from tests.helpers import in_tenant

    with in_tenant(app, tenant_a.id):
        t = db.session.get(Tenant, tenant_a.id)
        t.settings = {**(t.settings or {}), "fiscal_year_start": 3}
        db.session.commit()
    report, rows = run(app, tenant_a, "income_statement", {"period": "2026-03"})
    assert _lines(rows)["Net profit"][2] == 0  # the year began in March
    assert "2026-03-01" in report.notes[-1]


# --- general ledger and journal -------------------------------------------------------------


def test_general_ledger_one_account_streams(app, tenant_a):
    ff.standard_books(app, tenant_a)
    report, _rows = run(app, tenant_a, "general_ledger", {"account": "1002", "from": "2026-02-01", "to": "2026-03-31"})
    assert report.row_count == 2 + 3
    # rows are a generator: iterate it inside the context
    from flask_babel import force_locale

    from tenants.context import tenant_context
    from tests import factories

    with app.test_request_context(), force_locale("en"), tenant_context(tenant_a.id):
        from crm.db import db
        from tenants.models import Tenant

        r = build("general_ledger", db.session.get(Tenant, tenant_a.id), factories.member_row(tenant_a["finance"]),
                  {"account": "1002", "from": "2026-02-01", "to": "2026-03-31"})  # fmt: skip
        assert isinstance(r.rows, types.GeneratorType)
        rows = list(r.rows)
    assert rows[0][2] == "Opening balance" and rows[0][6:] == ["Dr", D("100000")]
    assert rows[1][0] == date(2026, 2, 20) and rows[1][5] == D("2000") and rows[1][7] == D("98000")
    assert rows[2][4] == D("5000") and rows[2][7] == D("103000")
    assert rows[3][2] == "Period total" and rows[3][4:6] == [D("5000"), D("2000")]
    assert rows[4][2] == "Closing balance" and rows[4][6:] == ["Dr", D("103000")]


def test_general_ledger_every_account_in_sections(app, tenant_a):
    b = ff.standard_books(app, tenant_a)
    report, rows = run(app, tenant_a, "general_ledger", {"period": "2026-03"})
    sections = [r for r in rows if r[-1] == report.section_marker]
    assert [s[1] for s in sections] == ["1002", "1122", "2203"]
    assert report.row_count == len(rows) == 4 + 3 * 4
    # the customer's name is the counterparty of its lines; 预收 nets to zero: 平
    adv = rows[rows.index(sections[2]) :]
    assert "华东贸易" in {r[3] for r in adv}
    assert adv[-1][6] == "Nil" and adv[-1][7] == 0
    assert b.customer_id
    _r, zh = run(app, tenant_a, "general_ledger", {"period": "2026-03"}, locale="zh_Hans_CN")
    assert zh[0][1:3] == ["1002", "银行存款"]  # account names in the reader's language


def test_general_ledger_bad_account(app, tenant_a):
    ff.standard_books(app, tenant_a)
    with pytest.raises(InvalidInput) as err:
        run(app, tenant_a, "general_ledger", {"account": "9999"})
    assert "account" in err.value.errors


def test_journal_lists_every_posted_line(app, tenant_a):
    ff.standard_books(app, tenant_a)
    report, rows = run(app, tenant_a, "journal", {"from": "2026-02-01", "to": "2026-02-28"})
    assert report.row_count == len(rows) == 8
    assert report.totals[0][5] == report.totals[0][6] == D("23300")
    assert rows[0][0] == date(2026, 2, 10) and rows[0][3] == "1122 Accounts receivable" and rows[0][4] == "华东贸易"
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)


# --- aging ------------------------------------------------------------------------------------


AS_OF = date(2026, 6, 30)


def _aging_books(app, t):
    b = ff.standard_books(app, t)
    e = b.entries["e2"]
    ids = {}
    for age, amount in ((-1, "1"), (0, "2"), (30, "4"), (31, "8"), (60, "16"), (61, "32"), (90, "64"), (91, "128")):
        ids[age] = ff.invoice(app, t, e, f"AR-{age}", amount, date(2026, 1, 1), AS_OF - timedelta(days=age),
                              customer_id=b.customer_id)  # fmt: skip
    return b, ids


def test_aging_bucket_boundaries(app, tenant_a):
    _aging_books(app, tenant_a)
    report, rows = run(app, tenant_a, "ar_aging", {"as_of": AS_OF.isoformat()})
    assert len(rows) == 1
    assert rows[0][0] == "华东贸易"
    assert rows[0][1:] == [D("1"), D("6"), D("24"), D("96"), D("128"), D("255")]
    assert report.totals[0][1:] == rows[0][1:]


def test_aging_settlements_as_of(app, tenant_a):
    b, ids = _aging_books(app, tenant_a)
    ff.settle(app, tenant_a, ids[91], "100", AS_OF + timedelta(days=1))  # after: does not reduce
    ff.settle(app, tenant_a, ids[0], "1", date(2026, 5, 1), undone_on=date(2026, 7, 15))  # undone later
    _r, rows = run(app, tenant_a, "ar_aging", {"as_of": AS_OF.isoformat()})
    assert rows[0][2] == D("5") and rows[0][5] == D("128")
    _r, rows = run(app, tenant_a, "ar_aging", {"as_of": "2026-07-20"})
    # on 07-20 the write-off of 100 counts, the undone one no longer does
    by_total = rows[0][-1]
    assert by_total == D("255") - D("100")


def test_aging_detail_and_no_due_date(app, tenant_a):
    b = ff.standard_books(app, tenant_a)
    ff.invoice(app, tenant_a, b.entries["e2"], "AR-X", "50", date(2026, 4, 1), None, customer_id=b.customer_id)
    report, rows = run(app, tenant_a, "ar_aging", {"as_of": AS_OF.isoformat(), "detail": "1"})
    assert rows == [["华东贸易", "AR-X", date(2026, 4, 1), None, 90, None, None, None, D("50"), None, D("50")]]


def test_ap_aging_by_supplier(app, tenant_a):
    b = ff.standard_books(app, tenant_a)
    sid = ff.supplier(app, tenant_a, "上海供应商")
    ff.invoice(app, tenant_a, b.entries["e3"], "AP-1", "700", date(2026, 6, 1), date(2026, 7, 1),
               supplier_id=sid, direction="payable")  # fmt: skip
    report, rows = run(app, tenant_a, "ap_aging", {"as_of": AS_OF.isoformat()})
    assert rows == [["上海供应商", D("700"), D("0"), D("0"), D("0"), D("0"), D("700")]]
    _r, ar = run(app, tenant_a, "ar_aging", {"as_of": AS_OF.isoformat()})
    assert ar == []


# --- customer statement ---------------------------------------------------------------------


def test_customer_statement(app, tenant_a):
    b = ff.standard_books(app, tenant_a)
    report, rows = run(app, tenant_a, "statement", {"customer": b.customer_id, "from": "2026-02-01",
                                                    "to": "2026-03-31"})  # fmt: skip
    assert rows[0][2] == "Opening balance" and rows[0][5] == 0
    assert [r[3:] for r in rows[1:]] == [[D("11300"), None, D("11300")], [None, D("5000"), D("6300")]]
    assert len(rows) == 3  # the allocation 预收 → 应收 nets to zero: left out
    assert report.totals[-1][5] == D("6300")
    assert "陆仟叁佰元整" in report.notes[0]
    assert "华东贸易" in report.subtitle and "阿尔法科技有限公司" in report.subtitle
    # the opening balance of a later range
    _r, later = run(app, tenant_a, "statement", {"customer": b.customer_id, "period": "2026-04"})
    assert later[0][5] == D("6300") and len(later) == 1


def test_statement_refuses_a_customer_of_another_workspace(app, tenant_a, tenant_b):
    b = ff.standard_books(app, tenant_a)
    ff.set_up(app, tenant_b)
    for params in ({"customer": b.customer_id}, {"customer": "abc"}, {}):
        with pytest.raises(InvalidInput) as err:
            run(app, tenant_b, "statement", params)
        assert "customer" in err.value.errors


# --- pages ------------------------------------------------------------------------------------


PAGES = ("", "trial-balance", "general-ledger", "journal", "balance-sheet", "income-statement", "ar-aging",
         "ap-aging", "statement")  # fmt: skip


def test_pages_render_with_and_without_data(app, tenant_a, client_as):
    c = client_as(tenant_a["finance"])
    base = f"/w/{tenant_a.slug}/finance/reports/"
    for p in PAGES:  # before the books exist
        assert c.get(base + p).status_code == 200, p
    b = ff.standard_books(app, tenant_a)
    for p in PAGES:
        assert c.get(base + p + "?period=2026-02").status_code == 200, p
    html = c.get(base + "trial-balance?period=2026-02").get_data(as_text=True)
    assert "100,000.00" in html and 'data-testid="report-total"' in html
    html = c.get(base + "general-ledger?from=2026-01-01&to=2026-03-31").get_data(as_text=True)
    assert 'data-section="1"' in html
    html = c.get(base + f"statement?customer={b.customer_id}&from=2026-02-01&to=2026-03-31").get_data(as_text=True)
    assert "6,300.00" in html and "陆仟叁佰元整" in html
    assert c.get(base + "trial-balance?period=2026-99").status_code == 400


def test_aging_page_has_a_stacked_chart(app, tenant_a, client_as):
    _aging_books(app, tenant_a)
    c = client_as(tenant_a["finance"])
    html = c.get(f"/w/{tenant_a.slug}/finance/reports/ar-aging?as_of=2026-06-30").get_data(as_text=True)
    assert 'data-testid="chart-aging"' in html and "stacked" in html and "chart.umd.min.js" in html


def test_long_reports_page_at_500_rows(app, tenant_a, client_as):
    from crm.finreports import views

    ff.standard_books(app, tenant_a)
    c = client_as(tenant_a["finance"])
    saved = views.PAGE_ROWS
    views.PAGE_ROWS = 3
    try:
        url = f"/w/{tenant_a.slug}/finance/reports/journal?from=2026-01-01&to=2026-03-31"
        html = c.get(url).get_data(as_text=True)
        assert 'data-testid="report-pages"' in html and "page=2" in html
        assert html.count("<tr>") == 1 + 3  # the heading and three rows
    finally:
        views.PAGE_ROWS = saved


def test_statement_page_with_a_foreign_customer_is_404(app, tenant_a, tenant_b, client_as):
    b = ff.standard_books(app, tenant_a)
    c = client_as(tenant_b["finance"])
    r = c.get(f"/w/{tenant_b.slug}/finance/reports/statement?customer={b.customer_id}")
    assert r.status_code == 404 and "华东贸易" not in r.get_data(as_text=True)


def test_pages_in_chinese(app, tenant_a, client_as):
    ff.standard_books(app, tenant_a)
    c = client_as(tenant_a["finance"])
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    html = c.get(f"/w/{tenant_a.slug}/finance/reports/trial-balance?period=2026-02").get_data(as_text=True)
    assert "银行存款" in html


def test_sales_roles_have_no_reports(app, tenant_a, client_as):
    for role in ("sales", "sales_manager"):
        c = client_as(tenant_a[role])
        assert c.get(f"/w/{tenant_a.slug}/finance/reports/trial-balance").status_code == 403


# --- dashboard --------------------------------------------------------------------------------


def test_finance_dashboard_before_the_books(app, tenant_a, client_as):
    c = client_as(tenant_a["finance"])
    html = c.get(f"/w/{tenant_a.slug}/finance/").get_data(as_text=True)
    assert 'data-testid="books-not-set-up"' in html


def test_finance_dashboard_figures_and_constant_queries(app, tenant_a, client_as, count_queries):
    b = ff.standard_books(app, tenant_a)
    ff.invoice(app, tenant_a, b.entries["e2"], "AR-D", "100", date(2026, 1, 1), None, customer_id=b.customer_id)
    c = client_as(tenant_a["finance"])
    url = f"/w/{tenant_a.slug}/finance/"
    c.get(url)
    with count_queries() as q1:
        html = c.get(url).get_data(as_text=True)
    assert 'data-testid="chart-revenue"' in html and 'data-testid="stat-cash"' in html
    for i in range(5):
        ff.invoice(app, tenant_a, b.entries["e2"], f"AR-D{i}", "100", date(2026, 1, 1), date(2026, 1, 31),
                   customer_id=b.customer_id)  # fmt: skip
        ff.post(app, tenant_a, date(2026, 3, 10 + i), "more", lambda: [ff.dr("bank", "1"), ff.cr("revenue", "1")])
    with count_queries() as q2:
        html = c.get(url).get_data(as_text=True)
    assert q1.count == q2.count
    assert "600.00" in html  # six invoices of 100 open and overdue


def test_dashboard_numbers(app, tenant_a):
    from crm.db import db
    from crm.finreports import dashboard
    from tenants.models import Tenant
    from tests.helpers import in_tenant

    b = ff.standard_books(app, tenant_a)
    ff.invoice(app, tenant_a, b.entries["e2"], "AR-9", "300", date(2026, 1, 1), date(2026, 1, 31),
               customer_id=b.customer_id)  # fmt: skip
    with in_tenant(app, tenant_a.id), app.test_request_context():
        d = dashboard.build(db.session.get(Tenant, tenant_a.id))
    assert d.set_up and d.cash == D("103000")
    assert d.ar_open == D("300") and d.ar_overdue == D("300")
    months = dict((m, (r, e)) for m, r, e in d.months)
    if "2026-02" in months:
        assert months["2026-02"] == (D("10000"), D("2000"))


def test_workspace_made_accounts_still_balance(app, tenant_a):
    """A first-level account no layout line names lands in a catch-all line: both statements stay whole."""
    from crm.books.models import Account
    from crm.db import db
    from tests.helpers import in_tenant

    ff.standard_books(app, tenant_a)
    with in_tenant(app, tenant_a.id):
        for code, typ, nb in (("5099", "revenue", "credit"), ("1999", "asset", "debit")):
            db.session.add(
                Account(code=code, name_zh=f"自建{code}", name_en=f"Own {code}", type=typ, normal_balance=nb)
            )
        db.session.commit()
    ff.post(app, tenant_a, date(2026, 3, 20), "其他", lambda: [ff.dr("1999", "700"), ff.cr("5099", "700")])
    _r, rows = run(app, tenant_a, "income_statement", {"period": "2026-03"})
    assert _lines(rows)["Operating revenue"][1] == D("700")
    _r, rows = run(app, tenant_a, "balance_sheet", {"as_of": "2026-03-31"})
    bs = _lines(rows)
    assert bs["Other assets"][1] == D("700")
    assert bs["Total assets"][1] == bs["Total liabilities and owners' equity"][1] == D("110000")
