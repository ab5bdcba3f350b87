"""Data scopes: own, team (the member and everyone reporting to them, transitively), all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from crm.db import db
from roles.catalogue import Scope, scope_of
from tenants.models import Membership


def team_member_ids(member: Membership) -> set[int]:
    """The member and everyone who reports to them, at any depth (one query)."""
    rows = db.session.execute(select(Membership.id, Membership.reports_to_id)).all()
    children: dict[int, list[int]] = {}
    for mid, parent in rows:
        if parent is not None:
            children.setdefault(parent, []).append(mid)
    seen = {member.id}
    stack = [member.id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


def visible_member_ids(member: Membership) -> set[int] | None:
    """Membership ids whose records this member sees; None means everyone's."""
    scope = scope_of(member.roles)
    if scope is None:
        return set()
    if scope is Scope.ALL:
        return None
    if scope is Scope.TEAM:
        return team_member_ids(member)
    return {member.id}


def owner_id_of(obj: Any) -> int | None:
    """The membership id an object belongs to, by convention ``owner_id`` (or the member itself)."""
    if isinstance(obj, Membership):
        return obj.id
    return getattr(obj, "owner_id", None)


def in_scope(member: Membership, obj: Any) -> bool:
    visible = visible_member_ids(member)
    if visible is None:
        return True
    owner = owner_id_of(obj)
    return owner is None or owner in visible


def scope_filter(member: Membership, owner_column: Any) -> Any:
    """A WHERE clause limiting rows to the member's scope (True for scope all)."""
    from sqlalchemy import true

    visible = visible_member_ids(member)
    if visible is None:
        return true()
    return owner_column.in_(visible)
