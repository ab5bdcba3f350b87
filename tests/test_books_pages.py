"""The books' pages: set-up, chart of accounts, departments, journal entries (form, post, reverse,
delete, voucher PDF), the lock date; both languages; a constant query count on the journal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.books import services as books
from crm.books.models import Account, Department, JournalEntry
from crm.db import db
from tenants.models import Tenant
from tests.books_factories import make_entry, setup_books
from tests.factories import member_row
from tests.helpers import csrf_token, html_lang, in_tenant, post

D = date(2026, 3, 10)


@pytest.fixture
def ready(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        setup_books(db.session.get(Tenant, tenant_a.id), member_row(tenant_a["finance"]))
        db.session.commit()
    return tenant_a


def _url(t, path=""):
    return f"/w/{t.slug}/finance/books{path}"


def test_pages_send_to_the_set_up_until_the_books_are_set_up(app, tenant_a, client_as):
    c = client_as(tenant_a["finance"])
    r = c.get(_url(tenant_a, "/entries"))
    assert r.status_code == 302 and r.headers["Location"].endswith("/finance/books/setup")
    assert c.get(_url(tenant_a, "/setup")).status_code == 200
    r = post(c, _url(tenant_a, "/setup"), {"standard": "cas", "start": "2026-02"})
    assert r.status_code == 302
    with in_tenant(app, tenant_a.id):
        tenant = db.session.get(Tenant, tenant_a.id)
        assert books.standard_of(tenant) == "cas" and books.books_start(tenant) == date(2026, 2, 1)
        assert books.account_for("revenue").code == "6001"
    assert c.get(_url(tenant_a, "/setup")).status_code == 302  # once only
    assert c.get(_url(tenant_a, "/entries")).status_code == 200


def test_sub_accounts_follow_the_rules(app, ready, client_as):
    c = client_as(ready["finance"])
    with in_tenant(app, ready.id):
        bank = books.account_for("bank")
        bank_id, bank_code = bank.id, bank.code
        admin_exp = books.account_for("admin_expense")
        tenant = db.session.get(Tenant, ready.id)
        make_entry(tenant, member_row(ready["finance"]), D, "10.00", post=True, debit_role="admin_expense")
        db.session.commit()
        admin_id = admin_exp.id
    r = post(c, _url(ready, "/accounts"), {"parent_id": bank_id, "code": "9999", "name_zh": "工行"})
    assert r.status_code == 400 and "starts with its parent" in r.get_data(as_text=True)
    r = post(c, _url(ready, "/accounts"), {"parent_id": bank_id, "code": bank_code + "01", "name_zh": "工商银行",
                                           "name_en": "ICBC"})  # fmt: skip
    assert r.status_code == 302
    r = post(c, _url(ready, "/accounts"), {"parent_id": bank_id, "code": bank_code + "01", "name_zh": "重复"})
    assert r.status_code == 400 and "already has this code" in r.get_data(as_text=True)
    r = post(c, _url(ready, "/accounts"), {"parent_id": admin_id, "code": "560201", "name_zh": "办公费"})
    assert r.status_code == 400 and "journal lines of its own" in r.get_data(as_text=True)
    with in_tenant(app, ready.id):
        sub = db.session.scalars(select(Account).where(Account.code == bank_code + "01")).one()
        assert (sub.type, sub.normal_balance, sub.parent_id, sub.is_cash) == ("asset", "debit", bank_id, True)
        sub_id = sub.id
    page = c.get(_url(ready, "/accounts")).get_data(as_text=True)
    assert "ICBC" in page and "工商银行" in page
    # rename, deactivate; a parent with active children or an account with a balance stays
    post(c, _url(ready, f"/accounts/{sub_id}"), {"action": "rename", "name_zh": "工行", "name_en": "ICBC Beijing"})
    post(c, _url(ready, f"/accounts/{bank_id}"), {"action": "deactivate"})
    post(c, _url(ready, f"/accounts/{admin_id}"), {"action": "deactivate"})
    post(c, _url(ready, f"/accounts/{sub_id}"), {"action": "deactivate"})
    with in_tenant(app, ready.id):
        sub, bank, adm = (db.session.get(Account, i) for i in (sub_id, bank_id, admin_id))
        assert (sub.name_zh, sub.name_en, sub.is_active) == ("工行", "ICBC Beijing", False)
        assert bank.is_active and adm.is_active
    post(c, _url(ready, f"/accounts/{sub_id}"), {"action": "activate"})
    with in_tenant(app, ready.id):
        assert db.session.get(Account, sub_id).is_active


def test_departments_add_rename_deactivate(app, ready, client_as):
    c = client_as(ready["finance"])
    assert "No departments yet" in c.get(_url(ready, "/departments")).get_data(as_text=True)
    assert post(c, _url(ready, "/departments"), {"name": "销售部"}).status_code == 302
    assert post(c, _url(ready, "/departments"), {"name": "销售部"}).status_code == 400
    with in_tenant(app, ready.id):
        dept_id = db.session.scalars(select(Department.id)).one()
    post(c, _url(ready, f"/departments/{dept_id}"), {"action": "rename", "name": "市场部"})
    post(c, _url(ready, f"/departments/{dept_id}"), {"action": "deactivate"})
    with in_tenant(app, ready.id):
        d = db.session.get(Department, dept_id)
        assert (d.name, d.is_active) == ("市场部", False)


def _ids(app, t):
    with in_tenant(app, t.id):
        return books.account_for("bank").id, books.account_for("revenue").id


def test_the_entry_form_names_each_bad_line_and_changes_nothing(app, ready, client_as):
    c = client_as(ready["finance"])
    bank, revenue = _ids(app, ready)
    r = post(c, _url(ready, "/entries/new"), {
        "entry_date": D.isoformat(), "memo": "bad",
        "lines-0-account": bank, "lines-0-debit": "1.234",
        "lines-3-account": "", "lines-3-credit": "5", "lines-3-debit": "5"})  # fmt: skip
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "at most two decimals" in html and "Choose an account." in html and "either a debit or a credit" in html
    r = post(c, _url(ready, "/entries/new"), {"entry_date": D.isoformat(), "memo": "typo", "post": "1",
        "lines-0-account": bank, "lines-0-debit": "100",
        "lines-1-account": revenue, "lines-1-credit": "99.99"})  # fmt: skip
    assert r.status_code == 400 and "differ by 0.01" in r.get_data(as_text=True)
    with in_tenant(app, ready.id):
        assert db.session.scalar(select(db.func.count(JournalEntry.id))) == 0
    # "Add line" without JavaScript: the form comes back with one more row and nothing saved
    r = post(c, _url(ready, "/entries/new"), {"entry_date": D.isoformat(), "add_line": "1",
                                              "lines-0-account": bank, "lines-0-debit": "100"})  # fmt: skip
    assert r.status_code == 200 and 'name="lines-1-account"' in r.get_data(as_text=True)


def test_save_a_draft_then_post_reverse_and_print(app, ready, client_as):
    c = client_as(ready["finance"])
    bank, revenue = _ids(app, ready)
    r = post(c, _url(ready, "/entries/new"), {"entry_date": D.isoformat(), "memo": "服务收入",
        "lines-0-account": bank, "lines-0-debit": "1,130.00", "lines-0-memo": "收款",
        "lines-5-account": revenue, "lines-5-credit": "1130"})  # fmt: skip
    assert r.status_code == 302
    entry_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    show = c.get(_url(ready, f"/entries/{entry_id}")).get_data(as_text=True)
    assert "Draft" in show and "1,130.00" in show
    assert c.get(_url(ready, f"/entries/{entry_id}/edit")).status_code == 200
    assert post(c, _url(ready, f"/entries/{entry_id}/post")).status_code == 302
    with in_tenant(app, ready.id):
        e = db.session.get(JournalEntry, entry_id)
        assert e.number == "记-2026-03-0001" and e.total == Decimal("1130.00")
    # a posted entry cannot be edited or deleted
    assert c.get(_url(ready, f"/entries/{entry_id}/edit")).status_code == 302
    post(c, _url(ready, f"/entries/{entry_id}/delete"))
    r = post(c, _url(ready, f"/entries/{entry_id}/reverse"), {"date": "2026-03-15", "memo": "录错"})
    assert r.status_code == 302
    with in_tenant(app, ready.id):
        e = db.session.get(JournalEntry, entry_id)
        rev = db.session.get(JournalEntry, e.reversed_by_id)
        assert rev.reverses_id == e.id and rev.memo == "录错" and rev.entry_date == date(2026, 3, 15)
        assert books.account_balance(books.account_for("bank").id) == Decimal("0.00")
        rev_id, rev_number = rev.id, rev.number
    show = c.get(_url(ready, f"/entries/{entry_id}")).get_data(as_text=True)
    assert rev_number in show and "Reversed by" in show
    assert "Reverses" in c.get(_url(ready, f"/entries/{rev_id}")).get_data(as_text=True)
    pdf = c.get(_url(ready, f"/entries/{entry_id}/voucher.pdf"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_a_draft_can_be_deleted_and_an_unbalanced_draft_cannot_post(app, ready, client_as):
    c = client_as(ready["finance"])
    with in_tenant(app, ready.id):
        tenant = db.session.get(Tenant, ready.id)
        fin = member_row(ready["finance"])
        e = books.create_entry(tenant, fin, books.EntryInput(D, "draft", [
            books.LineInput(books.account_for("bank").id, debit="10"),
            books.LineInput(books.account_for("revenue").id, credit="9")]))  # fmt: skip
        db.session.commit()
        entry_id = e.id
    r = post(c, _url(ready, f"/entries/{entry_id}/post"))
    assert r.status_code == 302
    assert "differ by 1.00" in c.get(r.headers["Location"]).get_data(as_text=True)
    assert post(c, _url(ready, f"/entries/{entry_id}/delete")).status_code == 302
    with in_tenant(app, ready.id):
        assert db.session.get(JournalEntry, entry_id) is None


def test_the_journal_filters_and_links_to_the_period(app, ready, client_as):
    from crm.books import closing  # noqa: PLC0415

    with in_tenant(app, ready.id):
        tenant = db.session.get(Tenant, ready.id)
        fin = member_row(ready["finance"])
        make_entry(tenant, fin, date(2026, 1, 5), "20.00", post=True, memo="一月收入")
        make_entry(tenant, fin, D, "30.00", memo="三月草稿")
        closing.close_period(tenant, fin, 2026, 1)
        db.session.commit()
    c = client_as(ready["finance"])
    page = c.get(_url(ready, "/entries")).get_data(as_text=True)
    assert "一月收入" in page and "三月草稿" in page and "/finance/books/periods/2026-01" in page
    page = c.get(_url(ready, "/entries?status=draft")).get_data(as_text=True)
    assert "三月草稿" in page and "一月收入" not in page
    page = c.get(_url(ready, "/entries?date_from=2026-03-01&q=草稿")).get_data(as_text=True)
    assert "三月草稿" in page and "一月收入" not in page
    assert "No entries match" in c.get(_url(ready, "/entries?q=nothing-like-this")).get_data(as_text=True)


def test_the_lock_date_is_for_finance_managers(app, ready, client_as):
    fin = client_as(ready["finance"])
    page = fin.get(_url(ready, "/settings")).get_data(as_text=True)
    assert "Only finance managers" in page
    assert post(fin, _url(ready, "/settings"), {"lock_date": "2026-02-28"}).status_code == 403
    owner = client_as(ready["owner"])
    assert post(owner, _url(ready, "/settings"), {"lock_date": "bad"}).status_code == 400
    assert post(owner, _url(ready, "/settings"), {"lock_date": "2026-02-28"}).status_code == 302
    with in_tenant(app, ready.id):
        assert books.lock_date(db.session.get(Tenant, ready.id)) == date(2026, 2, 28)
    # plain finance can no longer post on or before it
    bank, revenue = _ids(app, ready)
    r = post(fin, _url(ready, "/entries/new"), {"entry_date": "2026-02-10", "post": "1",
        "lines-0-account": bank, "lines-0-debit": "5", "lines-1-account": revenue, "lines-1-credit": "5"})  # fmt: skip
    assert r.status_code == 400 and "locked up to 2026-02-28" in r.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_pages_render_in_both_languages(app, ready, client_as, lang):
    with in_tenant(app, ready.id):
        make_entry(db.session.get(Tenant, ready.id), member_row(ready["finance"]), D, post=True)
        entry_id = db.session.scalars(select(JournalEntry.id)).one()
        db.session.commit()
    c = client_as(ready["finance"], **{"Accept-Language": lang})
    for path in ("/entries", "/entries/new", f"/entries/{entry_id}", "/accounts", "/departments", "/periods",
                 "/periods/2026-01", "/settings"):  # fmt: skip
        r = c.get(_url(ready, path))
        assert r.status_code == 200, path
        assert (html_lang(r.get_data(as_text=True)) or "").startswith(lang[:2]), path
    accounts = c.get(_url(ready, "/accounts")).get_data(as_text=True)
    assert "银行存款" in accounts  # the reader's language first, the other beside it
    assert c.get(_url(ready, "/periods/2026-13")).status_code == 404


def test_sales_roles_have_no_books(app, ready, client_as):
    c = client_as(ready["sales"])
    assert c.get(_url(ready, "/entries")).status_code == 403


def test_another_workspaces_entry_is_404(app, ready, tenant_b, client_as, token_for):
    with in_tenant(app, ready.id):
        entry_id = make_entry(db.session.get(Tenant, ready.id), member_row(ready["finance"]), D).id
        db.session.commit()
    with in_tenant(app, tenant_b.id):
        setup_books(db.session.get(Tenant, tenant_b.id))
        db.session.commit()
    c = client_as(tenant_b["finance"])
    for path in ("", "/edit", "/voucher.pdf"):
        assert c.get(_url(tenant_b, f"/entries/{entry_id}{path}")).status_code == 404
    for path in ("/post", "/delete", "/reverse", "/edit"):
        assert post(c, _url(tenant_b, f"/entries/{entry_id}{path}")).status_code == 404
    from tests.helpers import ApiClient  # noqa: PLC0415

    api = ApiClient(app.test_client(), token_for(tenant_b["finance"]))
    assert api.get(f"/journal-entries/{entry_id}").status_code == 404
    assert api.post(f"/journal-entries/{entry_id}/post").status_code == 404
    assert api.delete(f"/journal-entries/{entry_id}").status_code == 404
    with in_tenant(app, ready.id):
        assert db.session.get(JournalEntry, entry_id).status == "draft"


def test_the_journal_issues_a_constant_number_of_statements(app, ready, client_as, count_queries):
    c = client_as(ready["finance"])

    def grow(n):
        with in_tenant(app, ready.id):
            tenant = db.session.get(Tenant, ready.id)
            fin = member_row(ready["finance"])
            for i in range(n):
                make_entry(tenant, fin, D, f"{i + 1}.00", post=i % 2 == 0)
            db.session.commit()

    grow(2)
    url = _url(ready, "/entries")
    assert c.get(url).status_code == 200
    with count_queries() as small:
        assert c.get(url).status_code == 200
    grow(25)
    with count_queries() as large:
        assert c.get(url).status_code == 200
    assert small.count == large.count, "\n".join(large.statements)


def test_attachments_of_an_entry_are_for_finance_only(app, ready, client_as):
    import io  # noqa: PLC0415

    from crm.attachments.models import Attachment  # noqa: PLC0415

    with in_tenant(app, ready.id):
        entry_id = make_entry(db.session.get(Tenant, ready.id), member_row(ready["finance"]), D).id
        db.session.commit()
    c = client_as(ready["finance"])
    r = c.post(_url(ready, f"/entries/{entry_id}/attachments"),
               data={"csrf_token": csrf_token(c), "file": (io.BytesIO("银行回单 123".encode()), "slip.txt")},
               content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 302
    with in_tenant(app, ready.id):
        att_id = db.session.scalars(select(Attachment.id).where(Attachment.owner_type == "journal_entry")).one()
    assert "slip.txt" in c.get(_url(ready, f"/entries/{entry_id}")).get_data(as_text=True)
    download = f"/w/{ready.slug}/files/{att_id}"
    assert c.get(download).status_code == 200
    assert client_as(ready["sales"]).get(download).status_code in (403, 404)
