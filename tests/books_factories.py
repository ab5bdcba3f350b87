"""Books objects for the tests: books set up, a department, a draft and a posted journal entry.
Call inside tenant_context; they flush, the caller commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from crm.books import services as books
from crm.books.models import JournalEntry
from crm.db import db
from tenants.models import Membership, Tenant

START = date(2026, 1, 1)


def setup_books(tenant: Tenant, actor: Membership | None = None, start: date = START) -> None:
    if not books.is_set_up(tenant):
        books.set_up_books(tenant, actor, "small", start=start)


def lines(debit_role: str = "bank", credit_role: str = "revenue", amount: str = "100.00") -> list[books.LineInput]:
    return [
        books.LineInput(books.account_for(debit_role).id, debit=amount),
        books.LineInput(books.account_for(credit_role).id, credit=amount),
    ]


def make_entry(
    tenant: Tenant, actor: Membership | None, when: date, amount: str = "100.00", *, post: bool = False,
    debit_role: str = "bank", credit_role: str = "revenue", memo: str = "test entry",
) -> JournalEntry:  # fmt: skip
    entry = books.create_entry(tenant, actor, books.EntryInput(when, memo, lines(debit_role, credit_role, amount)))
    if post:
        books.post_entry(tenant, actor, entry)
    return entry


def add_books(w: Any, key: str, rows: dict[str, Membership]) -> None:
    """The World's books objects: books set up (from START), a department, a draft entry dated
    today (the matrix posts, edits and deletes it), and an account id (the bank account)."""
    from tenants.context import tenant_context  # noqa: PLC0415

    fin = rows["finance"]
    with tenant_context(fin.tenant_id, user_id=fin.user_id):
        tenant = db.session.get(Tenant, fin.tenant_id)
        assert tenant is not None
        setup_books(tenant, fin)
        w.account_id[key] = books.account_for("bank").id
        w.department_id[key] = books.save_department(fin, f"{key} 销售部").id
        w.journal_entry_id[key] = make_entry(tenant, fin, books.today_in(tenant)).id
        db.session.flush()
