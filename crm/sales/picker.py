"""Choosing a customer on another record's form (quote, contract, order, opportunity).

A workspace may hold 100,000 customers, so a form never lists them all: it lists the first
``LIMIT`` the member may edit, by name, and a search box above the list (htmx) swaps in the
matches for what is typed, through the same search as the customer list (pinyin, initials,
bigrams). The chosen customer is always among the options, so a re-rendered form keeps it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import load_only, selectinload

from crm.db import db
from crm.sales.models import Customer
from crm.sales.services import LIST_COLUMNS, CustomerQuery, list_customers
from roles.checks import can
from roles.scopes import visible_member_ids
from tenants.models import Membership

LIMIT = 50


def customer_options(
    member: Membership, q: str | None = None, selected: Customer | None = None
) -> list[tuple[int, str]]:
    """(id, name) of customers the member may put on a new record: one page by name, search first."""
    rows = list_customers(
        member, CustomerQuery(q=(q or "").strip() or None, sort="name", limit=LIMIT), only=LIST_COLUMNS
    )
    if rows:
        # can_edit reads collaborators for customers outside the member's scope: load them at once.
        ids = [c.id for c in rows]
        db.session.scalars(
            select(Customer)
            .where(Customer.id.in_(ids))
            .options(load_only(Customer.id), selectinload(Customer.collaborators))
        ).all()
    editable = _editable_filter(member)  # can_edit, row by row, without a query per row
    pairs = [(c.id, c.name) for c in rows if editable(c)]
    if selected is not None and all(cid != selected.id for cid, _name in pairs):
        pairs.insert(0, (selected.id, selected.name))
    return pairs


def _editable_filter(member: Membership) -> Callable[[Customer], bool]:
    """can_edit for many customers: the member's scope (a query for a manager's team) read once."""
    if not can(member, "sales.access"):
        return lambda c: False
    visible = visible_member_ids(member)
    assign = can(member, "customers.assign")

    def editable(c: Customer) -> bool:
        if c.owner_id is None:
            return visible is None or assign
        if visible is None or c.owner_id in visible:
            return True
        return any(x.member_id == member.id and x.can_edit for x in c.collaborators)

    return editable
