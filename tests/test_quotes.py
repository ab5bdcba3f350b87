"""Quotes (报价单): VAT per the reference, numbering, drafts only editable, re-issue, PDF, scope."""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.db import db
from crm.numbering import format_number
from crm.quotes.models import Quote
from crm.quotes.services import LineAmounts, line_amounts, totals
from tenants.models import Tenant
from tests import quote_factories as qf
from tests import sales_factories as sf
from tests.helpers import ApiClient, in_tenant, post, text_of

D = Decimal


@pytest.fixture
def api(client, token_for):
    return lambda member: ApiClient(client, token_for(member))


@pytest.fixture
def customer_a(app, tenant_a):
    return sf.customer(app, tenant_a["sales"], "上海百川科技有限公司", address="浦东新区 88 号", phone="021-12345678")


# ================================================================ VAT arithmetic


def test_reference_example_1000_including_13_percent():
    assert line_amounts(D(1), D("1000.00"), D("0.13"), includes_tax=True) == LineAmounts(
        D("884.96"), D("115.04"), D("1000.00")
    )


def test_excluding_tax_entry_rounds_tax_half_up():
    # 0.13 × 10.50 = 1.365 → 1.37 (half-up, not half-even's 1.36)
    assert line_amounts(D(1), D("10.50"), D("0.13")) == LineAmounts(D("10.50"), D("1.37"), D("11.87"))


def test_quantity_and_discount_apply_before_tax():
    # 3 × 199.99 = 599.97; −12.5 % → 524.97375 → 524.97; tax 6 % → 31.4982 → 31.50
    assert line_amounts(D(3), D("199.99"), D("0.06"), D("12.5")) == LineAmounts(D("524.97"), D("31.50"), D("556.47"))


def test_including_tax_entry_with_discount_keeps_the_including_amount_exact():
    # 2 × 565.00 × 90 % = 1017.00 incl; excl = 1017 / 1.13 = 900.00; tax 117.00
    assert line_amounts(D(2), D("565.00"), D("0.13"), D(10), includes_tax=True) == LineAmounts(
        D("900.00"), D("117.00"), D("1017.00")
    )


def test_zero_rate():
    assert line_amounts(D("2.5"), D("40.00"), D("0.00")) == LineAmounts(D("100.00"), D("0.00"), D("100.00"))


def test_totals_are_sums_of_lines_with_mixed_rates():
    lines = [
        line_amounts(D(1), D("1000.00"), D("0.13"), includes_tax=True),
        line_amounts(D(1), D("1000.00"), D("0.06"), includes_tax=True),
        line_amounts(D(1), D("1000.00"), D("0.01"), includes_tax=True),
    ]
    # 884.96+115.04, 943.40+56.60, 990.10+9.90
    assert totals(lines) == LineAmounts(D("2818.46"), D("181.54"), D("3000.00"))


def test_quote_totals_mixed_rates_excluding_tax(app, tenant_a, customer_a):
    qid = qf.quote(
        app, tenant_a["sales"], customer_a,
        [
            {"description": "服务器", "quantity": "2", "unit_price": "12345.67", "tax_rate": "0.13"},
            {"description": "实施服务", "quantity": "3", "unit_price": "800.00", "tax_rate": "6", "discount_pct": "10"},
            {"description": "运输", "quantity": "1", "unit_price": "100.00", "tax_rate": "0.09"},
        ],
    )  # fmt: skip
    q = qf.read_quote(app, tenant_a.id, qid)
    # 24691.34 + 3209.87; 2160.00 + 129.60; 100.00 + 9.00
    assert [(x[3], x[4], x[5]) for x in q["lines"]] == [
        (D("24691.34"), D("3209.87"), D("27901.21")),
        (D("2160.00"), D("129.60"), D("2289.60")),
        (D("100.00"), D("9.00"), D("109.00")),
    ]
    assert (q["total_excl"], q["total_tax"], q["total_incl"]) == (D("26951.34"), D("3348.47"), D("30299.81"))


def test_quote_with_prices_including_tax_matches_the_reference(app, tenant_a, customer_a):
    qid = qf.quote(
        app, tenant_a["sales"], customer_a,
        [{"description": "设备", "quantity": "1", "unit_price": "1000.00", "tax_rate": "0.13"}],
        prices_include_tax=True,
    )  # fmt: skip
    q = qf.read_quote(app, tenant_a.id, qid)
    assert (q["total_excl"], q["total_tax"], q["total_incl"]) == (D("884.96"), D("115.04"), D("1000.00"))


def test_a_product_line_takes_the_products_price_and_rate(app, tenant_a, customer_a):
    pid = qf.product(app, tenant_a["owner"], "SV-1", "年度运维", price="2000.00", rate="0.06", unit="年")
    qid = qf.quote(app, tenant_a["sales"], customer_a, [{"product_id": pid, "quantity": "2"}])
    q = qf.read_quote(app, tenant_a.id, qid)
    assert q["lines"] == [("年度运维", D("2.000"), D("2000.00"), D("4000.00"), D("240.00"), D("4240.00"))]


# ================================================================ numbering


def test_numbers_follow_the_default_pattern_and_count_up(app, tenant_a, customer_a):
    from datetime import date

    ids = [qf.quote(app, tenant_a["sales"], customer_a) for _ in range(3)]
    year = date.today().year
    assert [qf.read_quote(app, tenant_a.id, i)["number"] for i in ids] == [
        f"QT-{year}-0001",
        f"QT-{year}-0002",
        f"QT-{year}-0003",
    ]


def test_numbering_pattern_is_configurable_per_workspace(app, tenant_a, tenant_b, customer_a):
    with in_tenant(app, tenant_a.id):
        t = db.session.get(Tenant, tenant_a.id)
        t.settings = {**(t.settings or {}), "numbering": {"quote": "BJ-BJ{yy}{seq:05d}"}}
        db.session.commit()
    qid = qf.quote(app, tenant_a["sales"], customer_a)
    from datetime import date

    assert qf.read_quote(app, tenant_a.id, qid)["number"] == f"BJ-BJ{date.today().year % 100:02d}00001"
    # Each workspace counts on its own.
    cb = sf.customer(app, tenant_b["sales"], "Other Co")
    assert qf.read_quote(app, tenant_b.id, qf.quote(app, tenant_b["sales"], cb))["number"].endswith("-0001")


def test_a_broken_pattern_falls_back_to_the_default():
    assert format_number("QT-{nope}", 2026, 7) == "QT-2026-0007"


# ================================================================ drafts, sending, re-issue


def test_only_drafts_are_editable(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    qid = qf.quote(app, tenant_a["sales"], customer_a)
    assert rep.patch(f"/quotes/{qid}", {"terms": "款到发货"}).status_code == 200
    assert rep.post(f"/quotes/{qid}/send").get_json()["status"] == "sent"
    r = rep.patch(f"/quotes/{qid}", {"terms": "改"})
    assert r.status_code == 422 and "status" in r.get_json()["errors"]["json"]
    assert qf.read_quote(app, tenant_a.id, qid)["status"] == "sent"
    with in_tenant(app, tenant_a.id):
        assert db.session.get(Quote, qid).terms == "款到发货"
    # The UI refuses too: the edit page sends you back to the quote.
    c = _client(app, tenant_a)
    r = c.get(f"/w/{tenant_a.slug}/sales/quotes/{qid}/edit")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/sales/quotes/{qid}")


def _client(app, tenant):
    from tests.helpers import login

    c = app.test_client()
    login(c, tenant["sales"].email)
    return c


def test_reissue_makes_a_new_version_and_keeps_the_old(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    qid = qf.quote(app, tenant_a["sales"], customer_a)
    rep.post(f"/quotes/{qid}/send")
    r = rep.post(f"/quotes/{qid}/reissue")
    assert r.status_code == 201, r.get_json()
    new = r.get_json()
    old = qf.read_quote(app, tenant_a.id, qid)
    assert old["status"] == "superseded" and old["version"] == 1
    assert new["number"] == old["number"] and new["version"] == 2 and new["status"] == "draft"
    assert new["display_number"] == old["number"] + "-v2"
    assert new["previous_id"] == qid and new["total_incl"] == str(old["total_incl"])
    # The new version is a draft again: editable, while the old one keeps its lines.
    r = rep.patch(f"/quotes/{new['id']}", {"lines": [{"description": "新报价", "quantity": "1", "unit_price": "500",
                                                        "tax_rate": "0.13"}]})  # fmt: skip
    assert r.status_code == 200 and r.get_json()["total_incl"] == "565.00"
    assert qf.read_quote(app, tenant_a.id, qid)["lines"][0][0] == "实施服务"
    assert rep.post(f"/quotes/{qid}/reissue").status_code == 422  # superseded: re-issue the latest
    page = text_of(_client(app, tenant_a).get(f"/w/{tenant_a.slug}/sales/quotes/{new['id']}"))
    assert old["number"] in page and new["display_number"] in page


def test_a_draft_cannot_be_reissued_and_outcomes_need_a_sent_quote(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    qid = qf.quote(app, tenant_a["sales"], customer_a)
    assert rep.post(f"/quotes/{qid}/reissue").status_code == 422
    c = _client(app, tenant_a)
    post(c, f"/w/{tenant_a.slug}/sales/quotes/{qid}/outcome", {"status": "accepted"})
    assert qf.read_quote(app, tenant_a.id, qid)["status"] == "draft"
    post(c, f"/w/{tenant_a.slug}/sales/quotes/{qid}/send")
    post(c, f"/w/{tenant_a.slug}/sales/quotes/{qid}/outcome", {"status": "accepted"})
    assert qf.read_quote(app, tenant_a.id, qid)["status"] == "accepted"


def test_every_write_is_audited(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    qid = qf.quote(app, tenant_a["sales"], customer_a)
    rep.patch(f"/quotes/{qid}", {"terms": "含运费"})
    rep.post(f"/quotes/{qid}/send")
    new = rep.post(f"/quotes/{qid}/reissue").get_json()["id"]
    with in_tenant(app, tenant_a.id):
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "Quote").order_by(AuditEntry.id))
        got = [(e.action, e.object_id) for e in rows]
    assert got == [
        ("quote.created", qid), ("quote.updated", qid), ("quote.sent", qid),
        ("quote.superseded", qid), ("quote.reissued", new),
    ]  # fmt: skip


# ================================================================ the form


def test_create_through_the_form_with_a_product_line(app, tenant_a, customer_a):
    pid = qf.product(app, tenant_a["owner"], "HW-1", "服务器", price="10000.00", rate="0.13", unit="台")
    c = _client(app, tenant_a)
    assert "服务器" in text_of(c.get(f"/w/{tenant_a.slug}/sales/quotes/new?customer_id={customer_a}"))
    r = post(
        c, f"/w/{tenant_a.slug}/sales/quotes/new",
        {"customer_id": customer_a, "valid_until": "2099-12-31", "terms": "三十天内付款",
         "lines-0-product_id": pid, "lines-0-quantity": "2", "lines-0-discount_pct": "5",
         "lines-1-description": "", "lines-1-quantity": ""},
    )  # fmt: skip
    assert r.status_code == 302, text_of(r)
    with in_tenant(app, tenant_a.id):
        q = db.session.scalars(select(Quote)).one()
        assert (q.total_excl, q.total_tax, q.total_incl) == (D("19000.00"), D("2470.00"), D("21470.00"))
        assert len(q.lines) == 1 and q.lines[0].unit == "台"


def test_form_errors_name_the_line_field_and_save_nothing(app, tenant_a, customer_a):
    c = _client(app, tenant_a)
    r = post(
        c, f"/w/{tenant_a.slug}/sales/quotes/new",
        {"customer_id": customer_a, "lines-0-description": "咨询", "lines-0-quantity": "0",
         "lines-0-unit_price": "100", "lines-0-tax_rate": "0.06"},
    )  # fmt: skip
    assert r.status_code == 400
    assert re.search(r'name="lines-0-quantity"[^>]*is-invalid|is-invalid[^>]*name="lines-0-quantity"', text_of(r))
    with in_tenant(app, tenant_a.id):
        assert db.session.scalars(select(Quote)).all() == []


# ================================================================ visibility


def test_a_rep_cannot_see_another_reps_customers_quote(app, tenant_a, customer_a, api):
    other = sf.add_rep(app, tenant_a, "rep2", "孙丽")
    qid = qf.quote(app, tenant_a["sales"], customer_a)
    c = app.test_client()
    from tests.helpers import login

    login(c, other.email)
    for path in ("", "/edit", "/pdf"):
        assert c.get(f"/w/{tenant_a.slug}/sales/quotes/{qid}{path}").status_code == 404
    assert post(c, f"/w/{tenant_a.slug}/sales/quotes/{qid}/send").status_code == 404
    assert api(other).get(f"/quotes/{qid}").status_code == 404
    assert api(other).get("/quotes").get_json()["items"] == []
    r = api(other).post("/quotes", {"customer_id": customer_a, "lines": [{"description": "x", "unit_price": "1",
                                                                          "tax_rate": "0.13"}]})  # fmt: skip
    assert r.status_code == 422 and "customer_id" in r.get_json()["errors"]["json"]
    # The rep's manager sees it.
    assert api(tenant_a["sales_manager"]).get(f"/quotes/{qid}").status_code == 200


def test_the_customer_page_lists_its_quotes(app, tenant_a, customer_a):
    qid = qf.quote(app, tenant_a["sales"], customer_a)
    number = qf.read_quote(app, tenant_a.id, qid)["number"]
    page = text_of(_client(app, tenant_a).get(f"/w/{tenant_a.slug}/sales/customers/{customer_a}"))
    assert 'data-testid="customer-quotes"' in page and number in page


# ================================================================ API


def test_api_create_get_and_list(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    r = rep.post(
        "/quotes",
        {"customer_id": customer_a, "prices_include_tax": True, "valid_until": "2099-01-31", "terms": "含税含运费",
         "lines": [{"description": "设备", "quantity": "1", "unit_price": "1000.00", "tax_rate": "0.13"}]},
    )  # fmt: skip
    assert r.status_code == 201, r.get_json()
    q = r.get_json()
    assert (q["total_excl"], q["total_tax"], q["total_incl"]) == ("884.96", "115.04", "1000.00")
    assert q["lines"][0]["amount_excl"] == "884.96" and q["status"] == "draft"
    got = rep.get(f"/quotes/{q['id']}").get_json()
    assert got["lines"][0]["tax"] == "115.04"
    assert [x["id"] for x in rep.get(f"/quotes?customer_id={customer_a}").get_json()["items"]] == [q["id"]]
    assert rep.get("/quotes?status=sent").get_json()["items"] == []


def test_api_422_names_the_field_and_saves_nothing(app, tenant_a, customer_a, api):
    rep = api(tenant_a["sales"])
    bad = [
        ({"lines": []}, "lines"),
        ({"lines": [{"description": "x", "unit_price": "1", "tax_rate": "0.17"}]}, "lines.0.tax_rate"),
        ({"lines": [{"description": "x", "unit_price": "1", "tax_rate": "0.13", "quantity": "-1"}]},
         "lines.0.quantity"),
        ({"lines": [{"description": "x", "unit_price": "1", "tax_rate": "0.13", "discount_pct": "120"}]},
         "lines.0.discount_pct"),
        ({"lines": [{"unit_price": "1", "tax_rate": "0.13"}]}, "lines.0.description"),
        ({"lines": [{"description": "x", "unit_price": "1.234", "tax_rate": "0.13"}]}, "lines.0.unit_price"),
        ({"valid_until": "2000-01-01", "lines": [{"description": "x", "unit_price": "1", "tax_rate": "0.13"}]},
         "valid_until"),
    ]  # fmt: skip
    for body, fld in bad:
        r = rep.post("/quotes", {"customer_id": customer_a, **body})
        assert r.status_code == 422, (body, r.get_json())
        assert fld in r.get_json()["errors"]["json"], (fld, r.get_json())
    with in_tenant(app, tenant_a.id):
        assert db.session.scalars(select(Quote)).all() == []


# ================================================================ PDF


def test_pdf_has_the_title_customer_and_amount_in_words(app, tenant_a, customer_a, api, tmp_path):
    pdftotext = shutil.which("pdftotext")
    if not pdftotext:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    qid = qf.quote(
        app, tenant_a["sales"], customer_a,
        [{"description": "服务器", "quantity": "1", "unit_price": "12345.67", "tax_rate": "0.00"}],
        terms="款到发货，质保一年。",
    )  # fmt: skip
    r = api(tenant_a["sales"]).get(f"/quotes/{qid}/pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    pdf = tmp_path / "quote.pdf"
    pdf.write_bytes(r.data)
    out = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [pdftotext, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    squashed = re.sub(r"\s+", "", out)
    number = qf.read_quote(app, tenant_a.id, qid)["number"]
    for expected in (
        "报价单",
        "上海百川科技有限公司",
        "壹万贰仟叁佰肆拾伍元陆角柒分",
        number,
        tenant_a.name,
        "款到发货",
    ):
        assert expected in squashed, f"{expected} missing from the PDF text:\n{out}"
    # The UI serves the same document.
    ui = _client(app, tenant_a).get(f"/w/{tenant_a.slug}/sales/quotes/{qid}/pdf")
    assert ui.status_code == 200 and ui.data.startswith(b"%PDF")
