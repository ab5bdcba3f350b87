"""Invoices (应收单), bills (应付单), suppliers and the "to invoice" queue: the services' rules
and the finance pages."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.books import services as books
from crm.books.errors import RuleViolation
from crm.books.models import Account, FiscalPeriod, JournalEntry
from crm.contracts.models import Contract, ContractPayment
from crm.db import db
from crm.invoicing import services
from crm.invoicing.models import Invoice, Supplier
from crm.orders.models import Order
from crm.sales.services import InvalidInput
from tenants.models import Tenant
from tests import order_factories as of
from tests.factories import make_customer, member_row
from tests.helpers import html_lang, in_tenant, post, text_of, translated
from tests.invoicing_factories import DAY, LINES, VALID_USCC, document, entry_lines, entry_row, read, setup_books
from tests.invoicing_factories import post as post_doc
from tests.invoicing_factories import supplier as make_supplier_id

D = Decimal


@pytest.fixture
def fa(app, tenant_a):
    """Workspace a with its books set up (from 2026-01), a customer and a supplier."""
    setup_books(app, tenant_a.id)
    with in_tenant(app, tenant_a.id):
        customer, _c = make_customer(member_row(tenant_a["sales"]), "华东机械有限公司")
        db.session.commit()
        cid = customer.id
    sid = make_supplier_id(app, tenant_a["finance"], "上海办公用品有限公司", payment_terms_days=60)
    return {"t": tenant_a, "customer": cid, "supplier": sid, "fin": tenant_a["finance"]}


def _ctx(app, fa):
    """(tenant, actor) inside an open tenant context (use in a with in_tenant block)."""
    return db.session.get(Tenant, fa["t"].id), member_row(fa["fin"])


# ---------------------------------------------------------------- VAT and totals


@pytest.mark.parametrize(
    ("rate", "excl", "tax"),
    [("0.13", "884.96", "115.04"), ("0.09", "917.43", "82.57"), ("0.06", "943.40", "56.60"),
     ("0.03", "970.87", "29.13"), ("0.01", "990.10", "9.90"), ("0.00", "1000.00", "0.00")],
)  # fmt: skip
def test_vat_from_an_amount_including_tax_keeps_the_total_exact(app, fa, rate, excl, tax):
    line = [{"description": "服务", "quantity": "1", "unit_price": "1000.00", "tax_rate": rate}]
    doc = document(app, fa["fin"], "receivable", fa["customer"], line, on=DAY, prices_include_tax=True)
    r = read(app, fa["t"].id, doc)
    assert (r["total_excl"], r["total_tax"], r["total_incl"]) == (D(excl), D(tax), D("1000.00"))
    assert r["open_amount"] == D("1000.00")


def test_vat_from_amounts_excluding_tax_and_totals_are_sums_of_lines(app, fa):
    lines = [
        {"description": "设备", "quantity": "3", "unit_price": "333.33", "tax_rate": "0.13"},
        {"description": "运输", "quantity": "1", "unit_price": "100.00", "tax_rate": "0.09"},
    ]
    r = read(app, fa["t"].id, document(app, fa["fin"], "receivable", fa["customer"], lines, on=DAY))
    assert [x[4:7] for x in r["lines"]] == [
        (D("999.99"), D("130.00"), D("1129.99")),
        (D("100.00"), D("9.00"), D("109.00")),
    ]
    assert (r["total_excl"], r["total_tax"], r["total_incl"]) == (D("1099.99"), D("139.00"), D("1238.99"))


def test_a_rate_outside_the_vat_list_is_refused_beside_the_line(app, fa):
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        data = services.InvoiceInput("receivable", DAY, customer_id=fa["customer"],
                                     lines=[{"description": "x", "unit_price": "1", "tax_rate": "0.17"}])  # fmt: skip
        with pytest.raises(InvalidInput) as err:
            services.create_invoice(tenant, actor, data)
        assert "lines.0.tax_rate" in err.value.errors


# ---------------------------------------------------------------- posting


def test_posting_an_invoice_debits_the_customer_and_credits_revenue_per_account_and_output_vat(app, fa):
    with in_tenant(app, fa["t"].id):
        other = db.session.scalars(select(Account).where(Account.code == "5051")).one()  # 其他业务收入
        other_id = other.id
    lines = [
        {"description": "设备", "quantity": "1", "unit_price": "1000.00", "tax_rate": "0.13"},
        {"description": "租赁", "quantity": "1", "unit_price": "200.00", "tax_rate": "0.13", "account_id": other_id},
        {"description": "备件", "quantity": "1", "unit_price": "500.00", "tax_rate": "0.13"},
    ]
    doc = document(app, fa["fin"], "receivable", fa["customer"], lines, on=DAY)
    post_doc(app, fa["fin"], doc)
    r = read(app, fa["t"].id, doc)
    assert r["status"] == "posted" and r["open_amount"] == D("1921.00")
    assert entry_lines(app, fa["t"].id, r["entry_id"]) == [
        ("receivable", "1122", "1921.00", "0.00", "customer", fa["customer"]),
        ("revenue", "5001", "0.00", "1500.00", None, None),
        (None, "5051", "0.00", "200.00", None, None),
        ("vat_output", "222101", "0.00", "221.00", None, None),
    ]
    e = entry_row(app, fa["t"].id, r["entry_id"])
    assert e["status"] == "posted" and e["kind"] == "document" and e["source"] == ("invoice", doc)
    assert e["memo"] == f"应收单 {r['number']} 华东机械有限公司" and e["date"] == DAY


def test_posting_a_bill_debits_expense_and_input_vat_and_credits_the_supplier(app, fa):
    doc = document(app, fa["fin"], "payable", fa["supplier"], LINES, on=DAY, external_number="04412345")
    post_doc(app, fa["fin"], doc)
    r = read(app, fa["t"].id, doc)
    assert r["number"].startswith("AP-2026-") and r["external_number"] == "04412345"
    assert entry_lines(app, fa["t"].id, r["entry_id"]) == [
        ("admin_expense", "5602", "1000.00", "0.00", None, None),
        ("vat_input", "222102", "130.00", "0.00", None, None),
        ("payable", "2202", "0.00", "1130.00", "supplier", fa["supplier"]),
    ]


def test_once_the_expense_account_has_sub_accounts_a_bill_posts_to_one_of_its_own(app, fa):
    # Payroll or expense claims gave 管理费用 sub-accounts: it takes no lines of its own any more.
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        books.ensure_sub_account(tenant, actor, "admin_expense", "payroll_expense", "职工薪酬", "Staff costs")
        db.session.commit()
    doc = document(app, fa["fin"], "payable", fa["supplier"], LINES, on=DAY)
    post_doc(app, fa["fin"], doc)
    r = read(app, fa["t"].id, doc)
    assert r["status"] == "posted"
    assert entry_lines(app, fa["t"].id, r["entry_id"])[0] == (
        "purchases_expense",
        "560202",
        "1000.00",
        "0.00",
        None,
        None,
    )


def test_a_zero_rate_line_posts_without_a_tax_line(app, fa):
    line = [{"description": "出口", "quantity": "1", "unit_price": "500.00", "tax_rate": "0.00"}]
    doc = document(app, fa["fin"], "receivable", fa["customer"], line, on=DAY)
    post_doc(app, fa["fin"], doc)
    roles = [x[0] for x in entry_lines(app, fa["t"].id, read(app, fa["t"].id, doc)["entry_id"])]
    assert roles == ["receivable", "revenue"]


@pytest.mark.parametrize(("direction", "code", "message"), [
    ("receivable", "1002", "Choose a revenue account."),  # bank: an asset
    ("payable", "2202", "Choose an expense, cost or asset account."),  # payable: a liability
    ("payable", "2221", "This account has sub-accounts; choose one of them."),
])  # fmt: skip
def test_a_line_account_must_be_a_leaf_of_a_fitting_type(app, fa, direction, code, message):
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        acc = db.session.scalars(select(Account).where(Account.code == code)).one()
        party = {"customer_id": fa["customer"]} if direction == "receivable" else {"supplier_id": fa["supplier"]}
        data = services.InvoiceInput(direction, DAY, lines=[{**LINES[0], "account_id": acc.id}], **party)
        with pytest.raises(InvalidInput) as err:
            services.create_invoice(tenant, actor, data)
            # No request: the workspace's default language (Chinese) words the error.
            assert str(err.value.errors["lines.0.account_id"]) == translated(app, message)


def test_posting_into_a_closed_month_is_refused_and_nothing_is_posted(app, fa):
    doc = document(app, fa["fin"], "receivable", fa["customer"], on=DAY)
    with in_tenant(app, fa["t"].id):
        db.session.add(FiscalPeriod(year=2026, month=3, status="closed"))
        db.session.commit()
    with pytest.raises(RuleViolation) as err:
        post_doc(app, fa["fin"], doc)
    assert err.value.rule == "period_closed"
    with in_tenant(app, fa["t"].id):
        db.session.rollback()
        assert db.session.scalar(select(JournalEntry.id)) is None
    assert read(app, fa["t"].id, doc)["status"] == "draft"


# ---------------------------------------------------------------- drafts, final posted documents, reversal


def test_a_draft_is_edited_and_deleted_but_a_posted_one_is_final(app, fa):
    doc = document(app, fa["fin"], "receivable", fa["customer"], on=DAY)
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        inv = db.session.get(Invoice, doc)
        data = services.InvoiceInput("receivable", DAY, customer_id=fa["customer"],
                                     lines=[{**LINES[0], "quantity": "2"}])  # fmt: skip
        services.update_invoice(tenant, actor, inv, data)
        db.session.commit()
    assert read(app, fa["t"].id, doc)["total_incl"] == D("2260.00")
    post_doc(app, fa["fin"], doc)
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        inv = db.session.get(Invoice, doc)
        with pytest.raises(RuleViolation) as err:
            services.update_invoice(tenant, actor, inv, data)
        assert err.value.rule == "posted_is_final"
        with pytest.raises(RuleViolation) as err:
            services.delete_invoice(actor, inv)
        assert err.value.rule == "posted_is_final"
    draft = document(app, fa["fin"], "receivable", fa["customer"], on=DAY)
    with in_tenant(app, fa["t"].id):
        _tenant, actor = _ctx(app, fa)
        services.delete_invoice(actor, db.session.get(Invoice, draft))
        db.session.commit()
    assert read(app, fa["t"].id, draft) is None


def test_reversing_a_posted_unsettled_document_posts_the_mirror_and_marks_it_reversed(app, fa):
    doc = document(app, fa["fin"], "payable", fa["supplier"], on=DAY)
    post_doc(app, fa["fin"], doc)
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        services.reverse_invoice(tenant, actor, db.session.get(Invoice, doc), date(2026, 3, 20), "录错金额")
        db.session.commit()
    r = read(app, fa["t"].id, doc)
    assert r["status"] == "reversed" and r["reversed_on"] == date(2026, 3, 20) and r["open_amount"] == D("0.00")
    original = entry_lines(app, fa["t"].id, r["entry_id"])
    mirror = entry_lines(app, fa["t"].id, r["reversal_entry_id"])
    assert mirror == [(a, c, cr, dr, pt, pid) for a, c, dr, cr, pt, pid in original]
    assert entry_row(app, fa["t"].id, r["entry_id"])["reversed_by_id"] == r["reversal_entry_id"]
    with in_tenant(app, fa["t"].id):
        from crm.audit.models import AuditEntry

        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "bill.reverse")).one()
        assert "录错金额" in audit.summary


def test_a_partly_settled_document_cannot_be_reversed(app, fa):
    doc = document(app, fa["fin"], "receivable", fa["customer"], on=DAY)
    post_doc(app, fa["fin"], doc)
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        inv = db.session.get(Invoice, doc)
        inv.open_amount = D("100.00")  # as crm.settlement leaves it after an allocation
        with pytest.raises(RuleViolation) as err:
            services.reverse_invoice(tenant, actor, inv)
        assert err.value.rule == "settled"


def test_a_draft_cannot_be_reversed(app, fa):
    doc = document(app, fa["fin"], "receivable", fa["customer"], on=DAY)
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        with pytest.raises(RuleViolation) as err:
            services.reverse_invoice(tenant, actor, db.session.get(Invoice, doc))
        assert err.value.rule == "not_posted"


# ---------------------------------------------------------------- due dates


def test_due_date_follows_the_payment_terms(app, fa):
    bill = read(app, fa["t"].id, document(app, fa["fin"], "payable", fa["supplier"], on=DAY))
    assert bill["due_date"] == DAY + timedelta(days=60)
    inv = read(app, fa["t"].id, document(app, fa["fin"], "receivable", fa["customer"], on=DAY))
    assert inv["due_date"] == DAY + timedelta(days=30)
    with in_tenant(app, fa["t"].id):
        t = db.session.get(Tenant, fa["t"].id)
        settings = dict(t.settings)
        settings["books"] = {**settings["books"], "payment_terms_days": 45}
        t.settings = settings
        db.session.commit()
    inv = read(app, fa["t"].id, document(app, fa["fin"], "receivable", fa["customer"], on=DAY))
    assert inv["due_date"] == DAY + timedelta(days=45)
    given = read(app, fa["t"].id, document(app, fa["fin"], "receivable", fa["customer"], on=DAY,
                                           due_date=date(2026, 3, 31)))  # fmt: skip
    assert given["due_date"] == date(2026, 3, 31)


# ---------------------------------------------------------------- from CRM data and the queue


def _delivered_order(app, fa, quantities=("2",)):
    oid = of.order(app, fa["t"]["sales"], fa["customer"])
    of.deliver(app, fa["t"]["sales"], oid, list(quantities))
    return oid


def test_an_invoice_from_an_order_copies_its_lines_customer_and_contract(app, fa):
    oid = _delivered_order(app, fa)
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        order = db.session.get(Order, oid)
        inv = services.invoice_from_order(tenant, actor, order)
        db.session.commit()
        line_ids = [x.id for x in order.lines]
        iid = inv.id
    r = read(app, fa["t"].id, iid)
    o = of.read_order(app, fa["t"].id, oid)
    assert r["status"] == "draft" and r["order_id"] == oid and r["customer_id"] == fa["customer"]
    assert [x[0:3] for x in r["lines"]] == [x[0:3] for x in o["lines"]]
    assert [x[8] for x in r["lines"]] == line_ids
    assert r["total_incl"] == o["total_incl"]
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        with pytest.raises(RuleViolation) as err:
            services.invoice_from_order(tenant, actor, db.session.get(Order, oid))
        assert err.value.rule == "already_invoiced"


def test_a_cancelled_order_is_not_invoiced(app, fa):
    oid = of.order(app, fa["t"]["sales"], fa["customer"])
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        order = db.session.get(Order, oid)
        order.delivery_status = "cancelled"
        with pytest.raises(RuleViolation) as err:
            services.invoice_from_order(tenant, actor, order)
        assert err.value.rule == "order_cancelled"


def test_an_invoice_from_a_contract_instalment_or_the_whole_contract(app, fa):
    cid = of.contract(app, fa["t"]["sales"], fa["customer"], amount="11300.00")
    cid2 = of.contract(app, fa["t"]["sales"], fa["customer"], amount="11300.00")
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        c = db.session.get(Contract, cid)
        c.payments.append(ContractPayment(position=0, due_on=DAY, amount=D("3390.00")))
        c.payments.append(ContractPayment(position=1, due_on=DAY, amount=D("7910.00")))
        db.session.flush()
        second = services.invoice_from_contract(tenant, actor, c, c.payments[1])
        whole = services.invoice_from_contract(tenant, actor, db.session.get(Contract, cid2))
        db.session.commit()
        ids, number = (second.id, whole.id), c.number
    s, w = read(app, fa["t"].id, ids[0]), read(app, fa["t"].id, ids[1])
    assert s["lines"][0][0] == f"合同 {number} 第2期" and s["total_incl"] == D("7910.00")
    assert s["prices_include_tax"] and s["lines"][0][3] == D("0.13") and s["contract_id"] == cid
    assert (w["total_excl"], w["total_tax"], w["total_incl"]) == (D("10000.00"), D("1300.00"), D("11300.00"))


def test_a_draft_contract_is_not_invoiced(app, fa):
    cid = of.contract(app, fa["t"]["sales"], fa["customer"], status="draft")
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        with pytest.raises(RuleViolation) as err:
            services.invoice_from_contract(tenant, actor, db.session.get(Contract, cid))
        assert err.value.rule == "contract_not_active"


def _queue(app, fa):
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        return [(x.kind, x.id) for x in services.revenue_queue(tenant, actor)]


def test_the_queue_lists_delivered_orders_and_active_contracts_without_a_live_invoice(app, fa):
    delivered = _delivered_order(app, fa)
    partly = _delivered_order(app, fa, ("1",))
    pending = of.order(app, fa["t"]["sales"], fa["customer"])
    active = of.contract(app, fa["t"]["sales"], fa["customer"])
    of.contract(app, fa["t"]["sales"], fa["customer"], status="draft")
    queue = _queue(app, fa)
    assert ("order", delivered) in queue and ("order", partly) in queue and ("contract", active) in queue
    assert ("order", pending) not in queue and len(queue) == 3
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        iid = services.invoice_from_order(tenant, actor, db.session.get(Order, delivered)).id
        db.session.commit()
    assert ("order", delivered) not in _queue(app, fa)
    post_doc(app, fa["fin"], iid)
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        services.reverse_invoice(tenant, actor, db.session.get(Invoice, iid))
        db.session.commit()
    assert ("order", delivered) in _queue(app, fa)  # the reversed invoice no longer counts


def test_the_queue_one_click_makes_a_draft_and_opens_its_edit_page(app, fa, client_as):
    oid = _delivered_order(app, fa)
    client = client_as(fa["fin"])
    page = client.get(f"/w/{fa['t'].slug}/finance/to-invoice")
    assert page.status_code == 200 and f'data-testid="queue-order-{oid}"' in text_of(page)
    r = post(client, f"/w/{fa['t'].slug}/finance/to-invoice/orders/{oid}")
    assert r.status_code == 302 and r.headers["Location"].endswith("/edit")
    with in_tenant(app, fa["t"].id):
        inv = db.session.scalars(select(Invoice).where(Invoice.order_id == oid)).one()
        assert inv.status == "draft"
    again = post(client, f"/w/{fa['t'].slug}/finance/to-invoice/orders/{oid}", follow_redirects=True)
    assert "already has an invoice" in text_of(again)


# ---------------------------------------------------------------- suppliers


def test_supplier_uscc_is_checked_unique_and_overridable_with_a_reason(app, fa):
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        with pytest.raises(InvalidInput) as err:
            services.create_supplier(tenant, actor, {"name": "甲", "uscc": "91110000600037341X"})
        assert "uscc" in err.value.errors
        s = services.create_supplier(
            tenant, actor, {"name": "甲", "uscc": "91110000600037341X", "uscc_override_reason": "老证照"}
        )
        assert "老证照" in s.notes
        ok = services.create_supplier(tenant, actor, {"name": "乙", "uscc": VALID_USCC.lower()})
        assert ok.uscc == VALID_USCC
        with pytest.raises(InvalidInput) as err:
            services.create_supplier(tenant, actor, {"name": "丙", "uscc": VALID_USCC})
        assert "uscc" in err.value.errors
        with pytest.raises(InvalidInput) as err:
            services.create_supplier(tenant, actor, {"name": "乙"})
        assert "name" in err.value.errors


@pytest.mark.parametrize("days", ["-1", "366", "abc"])
def test_supplier_payment_terms_are_0_to_365_days(app, fa, days):
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        with pytest.raises(InvalidInput) as err:
            services.create_supplier(tenant, actor, {"name": "丁", "payment_terms_days": days})
        assert "payment_terms_days" in err.value.errors


def test_a_deactivated_supplier_gets_no_new_bills(app, fa):
    with in_tenant(app, fa["t"].id):
        tenant, actor = _ctx(app, fa)
        services.update_supplier(tenant, actor, db.session.get(Supplier, fa["supplier"]), {"is_active": False})
        db.session.commit()
        with pytest.raises(InvalidInput) as err:
            services.create_invoice(tenant, actor, services.InvoiceInput("payable", DAY, supplier_id=fa["supplier"],
                                                                         lines=LINES))  # fmt: skip
        assert "supplier_id" in err.value.errors


# ---------------------------------------------------------------- pages


def test_the_invoice_form_creates_a_draft_and_shows_errors_beside_fields(app, fa, client_as):
    client = client_as(fa["fin"])
    url = f"/w/{fa['t'].slug}/finance/invoices/new"
    assert client.get(url).status_code == 200
    bad = post(client, url, {"customer_id": fa["customer"], "invoice_date": "2026-03-10",
                             "lines-0-description": "服务", "lines-0-quantity": "1", "lines-0-unit_price": "abc",
                             "lines-0-tax_rate": "0.13"})  # fmt: skip
    assert bad.status_code == 400
    assert "is-invalid" in text_of(bad) and "Enter a unit price of zero or more" in text_of(bad)
    r = post(client, url, {"customer_id": fa["customer"], "invoice_date": "2026-03-10",
                           "lines-0-description": "服务", "lines-0-quantity": "1", "lines-0-unit_price": "1000.00",
                           "lines-0-tax_rate": "0.13", "prices_include_tax": "y"})  # fmt: skip
    assert r.status_code == 302
    show = client.get(r.headers["Location"])
    html = text_of(show)
    assert show.status_code == 200 and "884.96" in html and "115.04" in html and "壹仟元整" in html
    missing = post(client, url, {"invoice_date": "2026-03-10", "lines-0-description": "服务",
                                 "lines-0-unit_price": "1", "lines-0-tax_rate": "0.13"})  # fmt: skip
    assert missing.status_code == 400 and "Choose a customer of this workspace." in text_of(missing)


def test_posting_and_reversing_through_the_pages(app, fa, client_as):
    doc = document(app, fa["fin"], "payable", fa["supplier"], on=DAY)
    client = client_as(fa["fin"])
    base = f"/w/{fa['t'].slug}/finance/bills/{doc}"
    assert post(client, base + "/post").status_code == 302
    r = read(app, fa["t"].id, doc)
    assert r["status"] == "posted"
    edit = post(client, base + "/edit", {"supplier_id": fa["supplier"], "invoice_date": "2026-03-10"})
    assert edit.status_code == 302 and read(app, fa["t"].id, doc)["total_incl"] == D("1130.00")  # refused
    bad = post(client, base + "/reverse", {"on": "2026-03-01", "reason": "x"})
    assert bad.status_code == 400 and "cannot be dated before" in text_of(bad)
    ok = post(client, base + "/reverse", {"on": "2026-03-15", "reason": "重复录入"})
    assert ok.status_code == 302 and read(app, fa["t"].id, doc)["status"] == "reversed"
    assert post(client, base + "/delete").status_code == 302
    assert read(app, fa["t"].id, doc) is not None  # posted ones are never deleted


def test_posting_into_a_closed_month_through_the_page_says_so(app, fa, client_as):
    doc = document(app, fa["fin"], "receivable", fa["customer"], on=DAY)
    with in_tenant(app, fa["t"].id):
        db.session.add(FiscalPeriod(year=2026, month=3, status="closed"))
        db.session.commit()
    r = post(client_as(fa["fin"]), f"/w/{fa['t'].slug}/finance/invoices/{doc}/post", follow_redirects=True)
    assert "2026-03 is closed" in text_of(r)
    assert read(app, fa["t"].id, doc)["status"] == "draft"


def test_the_list_filters_and_totals_the_filtered_set(app, fa, client_as):
    a = document(app, fa["fin"], "receivable", fa["customer"], on=date(2026, 1, 10))
    document(app, fa["fin"], "receivable", fa["customer"], on=DAY)
    post_doc(app, fa["fin"], a)  # due 2026-02-09: overdue now
    client = client_as(fa["fin"])
    base = f"/w/{fa['t'].slug}/finance/invoices"
    html = text_of(client.get(base))
    assert "¥ 2,260.00" in html and "¥ 1,130.00" in html
    over = text_of(client.get(base + "?overdue=1"))
    assert 'data-testid="overdue-badge"' in over and "¥ 2,260.00" not in over
    drafts = text_of(client.get(base + "?status=draft&date_from=2026-03-01"))
    assert 'data-testid="sum-incl">¥ 1,130.00' in drafts and 'data-testid="sum-open">¥ 1,130.00' in drafts


def test_supplier_pages(app, fa, client_as):
    client = client_as(fa["fin"])
    base = f"/w/{fa['t'].slug}/finance/suppliers"
    bad = post(client, base + "/new", {"name": "坏码", "uscc": "91110000600037341X", "payment_terms_days": "30"})
    assert bad.status_code == 400 and "fails its check character" in text_of(bad)
    r = post(client, base + "/new", {"name": "新供应商", "uscc": VALID_USCC, "payment_terms_days": "45",
                                     "is_active": "y", "bank_name": "工商银行"})  # fmt: skip
    assert r.status_code == 302
    show = client.get(r.headers["Location"])
    assert show.status_code == 200 and "新供应商" in text_of(show) and "工商银行" in text_of(show)
    assert "新供应商" in text_of(client.get(base))


def test_the_pdf_renders(app, fa, client_as):
    doc = document(app, fa["fin"], "receivable", fa["customer"], on=DAY)
    r = client_as(fa["fin"]).get(f"/w/{fa['t'].slug}/finance/invoices/{doc}/pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")


def test_sales_roles_get_403(app, fa, client_as):
    client = client_as(fa["t"]["sales"])
    assert client.get(f"/w/{fa['t'].slug}/finance/invoices").status_code == 403
    assert post(client, f"/w/{fa['t'].slug}/finance/suppliers/new", {"name": "x"}).status_code == 403


def test_a_bill_id_is_not_an_invoice(app, fa, client_as):
    doc = document(app, fa["fin"], "payable", fa["supplier"], on=DAY)
    assert client_as(fa["fin"]).get(f"/w/{fa['t'].slug}/finance/invoices/{doc}").status_code == 404


@pytest.mark.parametrize("locale", ["en", "zh_Hans_CN"])
def test_pages_render_in_both_languages(app, fa, client_as, locale):
    doc = document(app, fa["fin"], "receivable", fa["customer"], on=DAY)
    bill = document(app, fa["fin"], "payable", fa["supplier"], on=DAY)
    client = client_as(fa["fin"], **{"Accept-Language": "zh-CN" if locale != "en" else "en"})
    slug = fa["t"].slug
    for url in (f"/w/{slug}/finance/invoices", f"/w/{slug}/finance/invoices/{doc}",
                f"/w/{slug}/finance/invoices/{doc}/edit", f"/w/{slug}/finance/bills", f"/w/{slug}/finance/bills/{bill}",
                f"/w/{slug}/finance/bills/new", f"/w/{slug}/finance/to-invoice", f"/w/{slug}/finance/suppliers",
                f"/w/{slug}/finance/suppliers/{fa['supplier']}", f"/w/{slug}/finance/suppliers/new"):  # fmt: skip
        r = client.get(url)
        assert r.status_code == 200, url
        # the sidebar names the pages; in Chinese once the translator has run (catalogs are not ours)
        assert html_lang(text_of(r)).startswith("zh" if locale != "en" else "en"), url
        assert "Invoices" in text_of(r) or locale != "en"


@pytest.mark.parametrize("path", ["invoices", "bills", "suppliers", "to-invoice"])
def test_list_pages_issue_a_constant_number_of_statements(app, fa, client_as, count_queries, path):
    client = client_as(fa["fin"])
    url = f"/w/{fa['t'].slug}/finance/{path}"

    def grow(n):
        for i in range(n):
            document(app, fa["fin"], "receivable", fa["customer"], on=DAY)
            document(app, fa["fin"], "payable", fa["supplier"], on=DAY)
            make_supplier_id(app, fa["fin"], f"供应商{path}{n}-{i}")
            _delivered_order(app, fa)
            of.contract(app, fa["t"]["sales"], fa["customer"])

    grow(1)
    assert client.get(url).status_code == 200
    with count_queries() as small:
        assert client.get(url).status_code == 200
    grow(6)
    with count_queries() as large:
        assert client.get(url).status_code == 200
    assert small.count == large.count, "\n".join(large.statements)


def test_nothing_is_posted_without_books_start_rules(app, tenant_a):
    """A workspace that never set up its books gets them on the first posting (this month on)."""
    with in_tenant(app, tenant_a.id):
        customer, _c = make_customer(member_row(tenant_a["sales"]), "新客户")
        db.session.commit()
        cid = customer.id
    with in_tenant(app, tenant_a.id):
        tenant = db.session.get(Tenant, tenant_a.id)
        today = books.today_in(tenant)
    doc = document(app, tenant_a["finance"], "receivable", cid, on=today)
    post_doc(app, tenant_a["finance"], doc)
    assert read(app, tenant_a.id, doc)["status"] == "posted"
