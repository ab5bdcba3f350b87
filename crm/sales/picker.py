"""Choosing a customer on another record's form (quote, contract, order, opportunity).

A workspace may hold 100,000 customers, so a form never lists them all: it lists the first
``LIMIT`` the member may edit, by name, and a search box above the list (htmx) swaps in the
matches for what is typed, through the same search as the customer list (pinyin, initials,
bigrams). The chosen customer is always among the options, so a re-rendered form keeps it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.db import db
from crm.sales.models import Customer
from crm.sales.services import CustomerQuery, list_customers
from crm.sales.visibility import can_edit
from tenants.models import Membership

LIMIT = 50


def customer_options(
    member: Membership, q: str | None = None, selected: Customer | None = None
) -> list[tuple[int, str]]:
    """(id, name) of customers the member may put on a new record: one page by name, search first."""
    rows = list_customers(member, CustomerQuery(q=(q or "").strip() or None, sort="name", limit=LIMIT))
    if rows:
        # can_edit reads collaborators for customers outside the member's scope: load them at once.
        ids = [c.id for c in rows]
        db.session.scalars(
            select(Customer).where(Customer.id.in_(ids)).options(selectinload(Customer.collaborators))
        ).all()
    pairs = [(c.id, c.name) for c in rows if can_edit(member, c)]
    if selected is not None and all(cid != selected.id for cid, _name in pairs):
        pairs.insert(0, (selected.id, selected.name))
    return pairs
