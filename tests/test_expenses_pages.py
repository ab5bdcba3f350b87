"""Expense pages: a claim filed, submitted, approved, reviewed and paid through the forms; the
timeline the claimant sees; refusals flashed and changing nothing; receipts; finance's batch;
reports in xlsx and PDF; and a constant number of statements on the lists."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crm.db import db
from crm.expenses import services
from crm.expenses.models import ExpenseAdvance, ExpenseClaim
from tenants.models import Membership, Tenant
from tests.area_expenses import category_id, make_claim, paid_claim
from tests.books_factories import setup_books
from tests.helpers import csrf_token, in_tenant, post

PAY_DAY = date(2026, 3, 10)
OFF = "/w/{slug}/office/expenses"
FIN = "/w/{slug}/finance/expenses"


@pytest.fixture
def books_a(app, tenant_a):
    with in_tenant(app, tenant_a.id, tenant_a["owner"].user_id):
        setup_books(db.session.get(Tenant, tenant_a.id))
        db.session.commit()
    return tenant_a


def _claim(app, t, claim_id) -> ExpenseClaim:
    with in_tenant(app, t.id):
        c = db.session.get(ExpenseClaim, claim_id)
        db.session.expunge(c)
        return c


def _line_form(t, app, **extra):
    with in_tenant(app, t.id):
        travel = category_id("travel")
        db.session.commit()
    data = {
        "title": "上海出差", "lines-0-expense_date": "2026-03-01", "lines-0-category_id": str(travel),
        "lines-0-amount": "1,090.00", "lines-0-input_vat": "90", "lines-0-invoice_number": "24310000000012345678",
        "lines-0-description": "高铁", "lines-1-expense_date": "2026-03-02", "lines-1-amount": "",
    }  # fmt: skip
    data.update(extra)
    return data


def test_a_claim_goes_from_the_form_to_paid_and_the_claimant_sees_each_step(app, books_a, client_as):
    t = books_a
    rep, boss, fin = client_as(t["sales"]), client_as(t["sales_manager"]), client_as(t["finance"])
    off, finance = OFF.format(slug=t.slug), FIN.format(slug=t.slug)
    r = post(rep, off + "/claims/new", _line_form(t, app, then="submit"))
    assert r.status_code == 302
    claim_id = int(r.headers["Location"].rsplit("/", 1)[-1])
    c = _claim(app, t, claim_id)
    assert (c.status, c.total, c.total_vat) == ("submitted", 1090, 90)
    page = boss.get(f"{off}/claims/{claim_id}").get_data(as_text=True)
    assert "Approve" in page and "Reject with a reason" in page
    assert c.number in boss.get(off).get_data(as_text=True)  # waiting for the manager's approval
    assert post(boss, f"{off}/claims/{claim_id}/approve").status_code == 302
    assert post(fin, f"{finance}/claims/{claim_id}/review").status_code == 302
    assert _claim(app, t, claim_id).status == "reviewed"
    r = post(fin, finance + "/pay", {"claim_ids": str(claim_id), "on": PAY_DAY.isoformat()})
    assert r.status_code == 302
    c = _claim(app, t, claim_id)
    assert c.status == "paid" and c.entry_id and c.paid_on == PAY_DAY
    page = rep.get(f"{off}/claims/{claim_id}").get_data(as_text=True)
    for step in ("Submitted for approval", "Approved", "Reviewed by finance", "Posted to the books", "Paid"):
        assert step in page
    assert "Paid and posted" in page and "Edit" not in page


def test_a_form_with_bad_lines_answers_400_beside_the_field_and_saves_nothing(app, books_a, client_as, raw_rows):
    t = books_a
    rep = client_as(t["sales"])
    data = _line_form(t, app, **{"lines-0-amount": "abc", "lines-0-input_vat": "5", "lines-0-invoice_number": ""})
    r = post(rep, OFF.format(slug=t.slug) + "/claims/new", data)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Enter an amount greater than zero" in page and "Deductible VAT needs the VAT invoice" in page
    assert raw_rows("expense_claims") == []


def test_refusals_are_flashed_and_change_nothing(app, books_a, client_as):
    t = books_a
    with in_tenant(app, t.id, t["sales"].user_id):
        rep = db.session.get(Membership, t["sales"].id)
        claim = make_claim(rep)
        services.submit_claim(db.session.get(Tenant, t.id), rep, claim)
        claim_id = claim.id
        db.session.commit()
    off = OFF.format(slug=t.slug)
    me = client_as(t["sales"])
    r = post(me, f"{off}/claims/{claim_id}/approve", follow_redirects=True)
    assert "Nobody approves their own claim." in r.get_data(as_text=True)
    assert post(client_as(t["finance"]), f"{off}/claims/{claim_id}/approve").status_code == 403  # not the manager
    boss = client_as(t["sales_manager"])
    r = post(boss, f"{off}/claims/{claim_id}/reject", {"comment": ""})
    assert r.status_code == 400 and "Say why" in r.get_data(as_text=True)
    assert _claim(app, t, claim_id).status == "submitted"
    post(boss, f"{off}/claims/{claim_id}/reject", {"comment": "缺发票"})
    page = me.get(f"{off}/claims/{claim_id}").get_data(as_text=True)
    assert "缺发票" in page and "Submit again" in page
    assert me.get(f"{off}/claims/{claim_id}/edit").status_code == 200


def test_another_members_claim_is_403_and_another_workspaces_is_404(app, books_a, tenant_b, client_as):
    t = books_a
    with in_tenant(app, t.id, t["sales"].user_id):
        claim = make_claim(db.session.get(Membership, t["sales"].id))
        claim_id = claim.id
        db.session.commit()
    off = OFF.format(slug=t.slug)
    assert client_as(t["admin"]).get(f"{off}/claims/{claim_id}").status_code == 200  # expenses.pay
    with in_tenant(app, t.id):
        from tests.factories import add_member

        other = add_member(t, "sales", "other@alpha.example.com", "另一个销售")
        db.session.commit()
    assert client_as(other).get(f"{off}/claims/{claim_id}").status_code == 403
    outsider = client_as(tenant_b["owner"])
    assert outsider.get(f"/w/{tenant_b.slug}/office/expenses/claims/{claim_id}").status_code == 404


def test_a_receipt_is_attached_checked_and_downloaded_by_who_sees_the_claim(app, books_a, tenant_b, client_as):
    t = books_a
    with in_tenant(app, t.id, t["sales"].user_id):
        claim = make_claim(db.session.get(Membership, t["sales"].id))
        claim_id, line_id = claim.id, claim.lines[0].id
        db.session.commit()
    off = OFF.format(slug=t.slug)
    rep = client_as(t["sales"])
    url = f"{off}/claims/{claim_id}/lines/{line_id}/receipt"
    bad = rep.post(url, data={"csrf_token": csrf_token(rep), "receipt": (io.BytesIO(b"MZ\x00\x00"), "x.exe")},
                   content_type="multipart/form-data", follow_redirects=True)  # fmt: skip
    assert "can be attached" in bad.get_data(as_text=True)
    good = rep.post(url, data={"csrf_token": csrf_token(rep), "receipt": (io.BytesIO(b"%PDF-1.4 x"), "发票.pdf")},
                    content_type="multipart/form-data")  # fmt: skip
    assert good.status_code == 302
    with in_tenant(app, t.id):
        att_id = db.session.get(ExpenseClaim, claim_id).lines[0].attachment_id
    assert att_id
    assert rep.get(f"/w/{t.slug}/files/{att_id}").status_code == 200
    assert client_as(t["finance"]).get(f"/w/{t.slug}/files/{att_id}").status_code == 200
    with in_tenant(app, t.id):
        from tests.factories import add_member

        other = add_member(t, "sales", "nosy@alpha.example.com", "好奇")
        db.session.commit()
    assert client_as(other).get(f"/w/{t.slug}/files/{att_id}").status_code == 404


def test_finance_pays_a_batch_and_an_advance_from_the_review_page(app, books_a, client_as):
    t = books_a
    with in_tenant(app, t.id, t["owner"].user_id):
        tenant = db.session.get(Tenant, t.id)
        rep, boss, fin = (db.session.get(Membership, t[r].id) for r in ("sales", "sales_manager", "finance"))
        ids = []
        for amount in ("10.00", "20.00"):
            c = make_claim(rep, amount=amount)
            services.submit_claim(tenant, rep, c)
            services.approve_claim(tenant, boss, c)
            services.review_claim(tenant, fin, c)
            ids.append(c.id)
        adv = services.request_advance(tenant, rep, {"amount": "300", "purpose": "出差"})
        services.approve_advance(tenant, boss, adv)
        adv_id = adv.id
        db.session.commit()
    finance = FIN.format(slug=t.slug)
    f = client_as(t["finance"])
    page = f.get(finance).get_data(as_text=True)
    assert "Pay ticked claims" in page and "JK-" in page
    r = post(f, finance + "/pay", {"claim_ids": [str(i) for i in ids], "on": PAY_DAY.isoformat()})
    assert r.status_code == 302
    assert all(_claim(app, t, i).status == "paid" for i in ids)
    assert post(f, f"{finance}/advances/{adv_id}/pay", {"on": PAY_DAY.isoformat()}).status_code == 302
    with in_tenant(app, t.id):
        assert db.session.get(ExpenseAdvance, adv_id).status == "paid"


def test_reports_answer_in_the_page_xlsx_and_pdf(app, books_a, client_as):
    t = books_a
    with in_tenant(app, t.id, t["owner"].user_id):
        rep, boss, fin = (db.session.get(Membership, t[r].id) for r in ("sales", "sales_manager", "finance"))
        paid_claim(rep, boss, fin, PAY_DAY, amount="123.45")
        db.session.commit()
    finance = FIN.format(slug=t.slug)
    f = client_as(t["finance"])
    page = f.get(finance + "/reports?by=category").get_data(as_text=True)
    assert "Travel" in page and "123.45" in page  # the English client: the English name
    x = f.get(finance + "/reports.xlsx?by=month")
    assert x.status_code == 200
    sheet = load_workbook(io.BytesIO(x.data)).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[1][:3] == ["2026-03", 1, 123.45]
    p = f.get(finance + "/reports.pdf?by=member")
    assert p.status_code == 200 and p.data.startswith(b"%PDF")


def test_categories_page_remaps_a_category(app, books_a, client_as):
    t = books_a
    with in_tenant(app, t.id, t["finance"].user_id):
        from crm.books import services as books

        fin = db.session.get(Membership, t["finance"].id)
        target = books.ensure_sub_account(
            db.session.get(Tenant, t.id), fin, "selling_expense", "x_sell", "差旅费", "Travel"
        )
        travel = category_id("travel")
        target_id = target.id
        db.session.commit()
    finance = FIN.format(slug=t.slug)
    f = client_as(t["finance"])
    assert "差旅费" in f.get(finance + "/categories").get_data(as_text=True)
    assert post(f, f"{finance}/categories/{travel}", {"account_id": str(target_id)}).status_code == 302
    with in_tenant(app, t.id):
        from crm.expenses.models import ExpenseCategory

        assert db.session.get(ExpenseCategory, travel).account_id == target_id


def _fill(app, t, n: int) -> None:
    with in_tenant(app, t.id, t["owner"].user_id):
        tenant = db.session.get(Tenant, t.id)
        rep, boss, fin = (db.session.get(Membership, t[r].id) for r in ("sales", "sales_manager", "finance"))
        for i in range(n):
            c = make_claim(rep, amount=f"{i + 1}.00")
            services.submit_claim(tenant, rep, c)
            if i % 2:
                services.approve_claim(tenant, boss, c)
                services.review_claim(tenant, fin, c)
            adv = services.request_advance(tenant, rep, {"amount": "10", "purpose": f"#{i}"})
            if i % 2:
                services.approve_advance(tenant, boss, adv)
        db.session.commit()


@pytest.mark.parametrize("who,path", [("sales", OFF), ("sales_manager", OFF), ("finance", FIN),
                                      ("finance", FIN + "/reports"), ("finance", FIN + "/categories")])  # fmt: skip
def test_the_lists_issue_the_same_number_of_statements_for_2_or_12_claims(
    app, books_a, client_as, count_queries, who, path
):
    t = books_a
    client = client_as(t[who])
    url = path.format(slug=t.slug)
    _fill(app, t, 2)
    client.get(url)
    with count_queries() as small:
        assert client.get(url).status_code == 200
    _fill(app, t, 10)
    with count_queries() as big:
        assert client.get(url).status_code == 200
    assert big.count == small.count, (small.count, big.count)


def test_the_office_sidebar_lists_expense_claims_for_every_member_and_claims_to_pay_for_finance(
    app, books_a, client_as
):
    t = books_a
    rep_page = client_as(t["sales"]).get(OFF.format(slug=t.slug)).get_data(as_text=True)
    assert "Expense claims" in rep_page and "Claims to pay" not in rep_page
    fin_page = client_as(t["finance"]).get(FIN.format(slug=t.slug)).get_data(as_text=True)
    assert "Claims to pay" in fin_page


def test_an_empty_claim_list_says_what_to_do(app, books_a, client_as):
    page = client_as(books_a["sales"]).get(OFF.format(slug=books_a.slug)).get_data(as_text=True)
    assert "No expense claims yet" in page and "New claim" in page
    with in_tenant(app, books_a.id):
        assert db.session.scalars(select(ExpenseClaim)).all() == []


def test_the_claimant_reads_the_claim_and_its_timeline_in_chinese(app, books_a, client_as):
    """Locale zh_Hans_CN (the browser asks for Chinese)."""
    t = books_a
    with in_tenant(app, t.id, t["sales"].user_id):
        rep = db.session.get(Membership, t["sales"].id)
        claim = make_claim(rep)
        services.submit_claim(db.session.get(Tenant, t.id), rep, claim)
        claim_id = claim.id
        db.session.commit()
    zh = client_as(t["sales"], accept_language="zh-CN,zh")
    page = zh.get(f"/w/{t.slug}/office/expenses/claims/{claim_id}").get_data(as_text=True)
    for text in ("报销人", "待审批", "办理进度", "填写草稿", "已提交审批", "差旅费"):
        assert text in page, text
    listing = zh.get(f"/w/{t.slug}/office/expenses").get_data(as_text=True)
    assert "我的报销单" in listing and "费用报销" in listing


def test_the_claim_page_issues_the_same_statements_for_1_or_12_lines(app, books_a, client_as, count_queries):
    t = books_a
    with in_tenant(app, t.id, t["sales"].user_id):
        rep = db.session.get(Membership, t["sales"].id)
        keys = ["travel", "transport", "entertainment", "office", "telecom", "training", "other"]
        ids = []
        for n in (1, 12):
            data = services.ClaimInput(title="多行", lines=[
                {"expense_date": "2026-03-01", "category_id": category_id(keys[i % 7]), "amount": f"{i + 1}.00",
                 "description": f"第{i + 1}行"} for i in range(n)
            ])  # fmt: skip
            ids.append(services.create_claim(db.session.get(Tenant, t.id), rep, data).id)
        db.session.commit()
    client = client_as(t["sales"])
    off = OFF.format(slug=t.slug)
    client.get(f"{off}/claims/{ids[0]}")
    with count_queries() as one:
        assert client.get(f"{off}/claims/{ids[0]}").status_code == 200
    with count_queries() as twelve:
        assert client.get(f"{off}/claims/{ids[1]}").status_code == 200
    assert twelve.count == one.count, (one.count, twelve.count)


def test_one_sidebar_line_is_lit_on_pages_two_workspaces_share_a_blueprint_for(app, books_a, client_as):
    import re

    t = books_a
    fin = client_as(t["finance"])
    for url, lit in (
        (FIN.format(slug=t.slug), f"/w/{t.slug}/finance/expenses"),
        (f"/w/{t.slug}/finance/expenses/categories", f"/w/{t.slug}/finance/expenses"),
        (OFF.format(slug=t.slug), f"/w/{t.slug}/office/expenses"),
    ):
        page = fin.get(url).get_data(as_text=True)
        active = re.findall(r'class="nav-link nav-sub active" href="([^"]+)"', page)
        assert active == [lit], (url, active)
