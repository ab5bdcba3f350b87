"""The books' core rules (crm.books.services): the chart seeded from either standard, the posting
gate every path goes through, reversals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.books import services as books
from crm.books.errors import RuleViolation
from crm.books.models import Account, FiscalPeriod, JournalEntry
from crm.db import db
from crm.sales.services import InvalidInput
from tenants.models import Tenant
from tests.factories import member_row
from tests.helpers import in_tenant

D = date(2026, 3, 10)


def _setup(tenant_a, standard="small"):
    tenant = db.session.get(Tenant, tenant_a.id)
    books.set_up_books(tenant, member_row(tenant_a["finance"]), standard, start=date(2026, 1, 1))
    return tenant


def _lines(debit_role="bank", credit_role="revenue", amount="100.00", credit_amount=None):
    return [
        books.LineInput(books.account_for(debit_role).id, debit=amount),
        books.LineInput(books.account_for(credit_role).id, credit=credit_amount or amount),
    ]


@pytest.mark.parametrize(
    ("standard", "profit", "revenue", "undistributed"),
    [("small", "3103", "5001", "310401"), ("cas", "4103", "6001", "410401")],
)
def test_the_chart_is_seeded_from_the_chosen_standard_with_its_own_codes(
    app, tenant_a, standard, profit, revenue, undistributed
):
    with in_tenant(app, tenant_a.id):
        _setup(tenant_a, standard)
        assert books.account_for("current_profit").code == profit
        assert books.account_for("revenue").code == revenue
        assert books.account_for("undistributed_profit").code == undistributed
        assert books.account_for("vat_output").parent.role == "taxes_payable"
        codes = set(db.session.scalars(db.select(Account.code)))
        # 坏账准备 exists only in the enterprise standard
        assert ("1231" in codes) == (standard == "cas")
        # 应付股利 (CAS) or 应付利润 (small enterprises), named in both languages by the standard
        dividends = db.session.scalars(db.select(Account).where(Account.code == "2232")).one()
        expected = ("应付利润", "Profits payable") if standard == "small" else ("应付股利", "Dividends payable")
        assert (dividends.name_zh, dividends.name_en) == expected


def test_the_standard_cannot_change_once_set_up(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        tenant = _setup(tenant_a)
        with pytest.raises(RuleViolation) as err:
            books.set_up_books(tenant, None, "cas")
        assert err.value.rule == "already_set_up"


def test_a_balanced_entry_posts_with_a_number_per_month_and_its_lines_marked_posted(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        tenant = _setup(tenant_a)
        actor = member_row(tenant_a["finance"])
        first = books.post_lines(tenant, actor, D, "sale", _lines())
        second = books.post_lines(tenant, actor, D, "sale", _lines())
        april = books.post_lines(tenant, actor, date(2026, 4, 1), "sale", _lines())
        assert (first.number, second.number, april.number) == ("记-2026-03-0001", "记-2026-03-0002", "记-2026-04-0001")
        assert all(line.posted and line.entry_date == D for line in first.lines)
        assert books.account_balance(books.account_for("bank").id) == Decimal("300.00")


def test_an_unbalanced_entry_is_refused_by_the_unbalanced_rule_and_nothing_posts(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        tenant = _setup(tenant_a)
        actor = member_row(tenant_a["finance"])
        entry = books.create_entry(tenant, actor, books.EntryInput(D, "typo", _lines(credit_amount="99.99")))
        with pytest.raises(RuleViolation) as err:
            books.post_entry(tenant, actor, entry)
        assert err.value.rule == "unbalanced"
        assert "0.01" in err.value.errors["lines"]
        assert entry.status == "draft" and entry.number is None


def test_a_line_on_a_parent_account_or_with_both_sides_is_refused_beside_the_line(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        tenant = _setup(tenant_a)
        parent = books.account_for("taxes_payable")
        bank = books.account_for("bank")
        bad = [books.LineInput(parent.id, debit="1"), books.LineInput(bank.id, debit="1", credit="1")]
        with pytest.raises(InvalidInput) as err:
            books.create_entry(tenant, None, books.EntryInput(D, "x", bad))
        assert set(err.value.errors) == {"lines.0.account", "lines.1.credit"}


def test_nothing_posts_into_a_closed_month_whoever_asks(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        tenant = _setup(tenant_a)
        db.session.add(FiscalPeriod(year=2026, month=3, status="closed"))
        db.session.flush()
        for role in ("finance", "owner"):
            with pytest.raises(RuleViolation) as err:
                books.post_lines(tenant, member_row(tenant_a[role]), D, "late", _lines())
            assert err.value.rule == "period_closed"
        with pytest.raises(RuleViolation):
            books.post_lines(tenant, None, D, "a job", _lines())  # jobs and imports have no exemption


def test_before_the_lock_date_only_a_member_with_books_post_locked_may_post(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        tenant = _setup(tenant_a)
        books.set_lock_date(tenant, member_row(tenant_a["owner"]), date(2026, 3, 31))
        with pytest.raises(RuleViolation) as err:
            books.post_lines(tenant, member_row(tenant_a["finance"]), D, "x", _lines())
        assert err.value.rule == "lock_date"
        assert books.post_lines(tenant, member_row(tenant_a["owner"]), D, "x", _lines()).is_posted


def test_nothing_posts_before_the_books_start(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        tenant = _setup(tenant_a)
        with pytest.raises(RuleViolation) as err:
            books.post_lines(tenant, None, date(2025, 12, 31), "x", _lines())
        assert err.value.rule == "before_books_start"


def test_a_reversal_mirrors_the_entry_links_both_and_leaves_the_original_untouched(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        tenant = _setup(tenant_a)
        actor = member_row(tenant_a["finance"])
        entry = books.post_lines(tenant, actor, D, "sale", _lines())
        rev = books.reverse_entry(tenant, actor, entry, date(2026, 3, 20))
        assert rev.reverses_id == entry.id and entry.reversed_by_id == rev.id
        assert [(x.debit, x.credit) for x in rev.lines] == [(x.credit, x.debit) for x in entry.lines]
        assert books.account_balance(books.account_for("bank").id) == Decimal("0.00")
        assert books.account_balance(books.account_for("bank").id, until=date(2026, 3, 15)) == Decimal("100.00")
        with pytest.raises(RuleViolation) as err:
            books.reverse_entry(tenant, actor, entry)
        assert err.value.rule == "already_reversed"
        with pytest.raises(RuleViolation) as err:
            books.update_draft(tenant, actor, entry, books.EntryInput(D, "edit", _lines()))
        assert err.value.rule == "posted_is_final"
        assert db.session.scalar(db.select(db.func.count(JournalEntry.id))) == 2


def test_a_feature_gets_its_own_sub_account_once_and_leaves_room_for_others(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        tenant, actor = _setup(tenant_a), member_row(tenant_a["finance"])
        travel = books.ensure_sub_account(tenant, actor, "admin_expense", "expense_travel", "差旅费", "Travel")
        pay = books.ensure_sub_account(tenant, actor, "admin_expense", "admin_payroll", "职工薪酬", "Staff costs")
        again = books.ensure_sub_account(tenant, actor, "admin_expense", "expense_travel", "x", "x")
        assert (travel.code, pay.code, again.id) == ("560201", "560202", travel.id)
        assert travel.parent_id == pay.parent_id == books.account_for("admin_expense").id


def test_a_parent_with_lines_of_its_own_is_used_as_it_is(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        tenant, actor = _setup(tenant_a), member_row(tenant_a["finance"])
        selling, bank = books.account_for("selling_expense"), books.account_for("bank")
        lines = [books.LineInput(selling.id, debit="10"), books.LineInput(bank.id, credit="10")]
        books.post_lines(tenant, actor, date(2026, 1, 5), "by hand", lines)
        got = books.ensure_sub_account(tenant, actor, "selling_expense", "selling_travel", "差旅费", "Travel")
        assert got.id == selling.id and got.role == "selling_expense"


def test_memos_the_system_writes_are_chinese_whoever_posts(app):
    from flask_babel import force_locale
    from flask_babel import lazy_gettext as _l

    with app.test_request_context(), force_locale("en"):
        text = books.memo(_l("Receipt %(number)s from %(party)s", number="SK-1", party="甲"))
        assert text == "收款单 SK-1（付款方：甲）"
