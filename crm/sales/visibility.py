"""Who sees which customer: owner in scope, collaborators, and the public pool.

Reps see the customers they own or collaborate on plus the pool; managers their team's;
admins and owners all. Children (contacts, follow-ups, ...) follow their customer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, false, or_, select, true

from crm.sales.models import Customer, CustomerCollaborator
from roles.checks import can
from roles.scopes import visible_member_ids
from tenants.models import Membership


def customer_filter(member: Membership) -> Any:
    """A WHERE clause for the customers this member may read."""
    if not can(member, "sales.access"):
        return false()
    visible = visible_member_ids(member)
    if visible is None:
        return true()
    collaborating = exists(
        select(CustomerCollaborator.id).where(
            CustomerCollaborator.customer_id == Customer.id,
            CustomerCollaborator.member_id == member.id,
            CustomerCollaborator.tenant_id == Customer.tenant_id,
        )
    )
    return or_(Customer.owner_id.in_(visible), Customer.owner_id.is_(None), collaborating)


def can_read(member: Membership, customer: Customer) -> bool:
    if not can(member, "sales.access"):
        return False
    visible = visible_member_ids(member)
    if visible is None or customer.owner_id is None or customer.owner_id in visible:
        return True
    return any(c.member_id == member.id for c in customer.collaborators)


def can_edit(member: Membership, customer: Customer) -> bool:
    """Owners in scope edit; collaborators only with edit access; pool customers are claimed first."""
    if not can(member, "sales.access"):
        return False
    visible = visible_member_ids(member)
    if customer.owner_id is None:
        return visible is None or can(member, "customers.assign")
    if visible is None or customer.owner_id in visible:
        return True
    return any(c.member_id == member.id and c.can_edit for c in customer.collaborators)


def readable_customer(member: Membership, customer_id: int | None) -> Customer | None:
    """The customer a form may put a new record on: in this workspace, not archived, readable by
    the member; None otherwise (the form then says "choose one of your customers")."""
    from crm.scoping import get_in_tenant

    if customer_id is None:
        return None
    c = get_in_tenant(Customer, customer_id)
    if c is None or c.archived_at is not None or not can_read(member, c):
        return None
    return c
