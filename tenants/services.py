"""Creating workspaces, invitations and their single-use tokens, joining a workspace.

Rules about which roles exist live in roles/; these functions take role names as given and
are called by crm.members.services, which checks them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from crm.db import db, utcnow
from tenants.context import acting_user, tenant_context, unscoped
from tenants.identity import normalise_email
from tenants.models import Invitation, Membership, Tenant, User

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")
RESERVED_SLUGS = frozenset({"api", "admin", "static", "signup", "login", "logout", "www", "w", "app", "help"})


class SlugInvalid(ValueError):
    pass


class SlugTaken(ValueError):
    pass


class InvitationInvalid(ValueError):
    """Unknown, expired, revoked or already used — one answer for all, on purpose."""


def check_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug) or "--" in slug or slug in RESERVED_SLUGS:
        raise SlugInvalid(slug)
    if db.session.scalars(select(Tenant.id).where(Tenant.slug == slug)).first() is not None:
        raise SlugTaken(slug)
    return slug


def create_workspace(name: str, slug: str, owner: User) -> tuple[Tenant, Membership]:
    """A new tenant with its first owner. Platform-wide work: no tenant exists yet."""
    tenant = Tenant(name=name.strip(), slug=check_slug(slug))
    db.session.add(tenant)
    db.session.flush()
    with tenant_context(tenant, user_id=owner.id):
        member = Membership(user_id=owner.id, roles=["owner"], tenant_id=tenant.id)
        db.session.add(member)
        db.session.flush()
    return tenant, member


def memberships_of(user: User, active_only: bool = True) -> list[Membership]:
    """Every workspace a person belongs to (for sign-in and the switcher)."""
    stmt = (
        select(Membership)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .options(contains_eager(Membership.tenant))
        .where(Membership.user_id == user.id)
    )
    if active_only:
        stmt = stmt.where(Membership.is_active.is_(True))
    with unscoped(), acting_user(user.id):
        return list(db.session.scalars(stmt.order_by(Tenant.name)))


def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_invitation(
    email: str, roles: list[str], invited_by: Membership, reports_to_id: int | None, ttl_hours: int
) -> tuple[Invitation, str]:
    """Returns the invitation and its token; only the token's hash is stored."""
    secret = secrets.token_urlsafe(32)
    inv = Invitation(
        email=normalise_email(email),
        roles=list(roles),
        invited_by_id=invited_by.id,
        reports_to_id=reports_to_id,
        token_hash=_hash_token(secret),
        expires_at=utcnow() + timedelta(hours=ttl_hours),
    )
    db.session.add(inv)
    db.session.flush()
    # The tenant id travels in the token so it can be looked up inside that tenant alone.
    return inv, f"{inv.tenant_id}.{inv.id}.{secret}"


def parse_invitation_token(token: str) -> tuple[int, int, str]:
    try:
        tid, iid, secret = token.split(".", 2)
        return int(tid), int(iid), secret
    except ValueError as exc:
        raise InvitationInvalid() from exc


def find_open_invitation(token: str) -> Invitation:
    """Call inside tenant_context(tenant id from the token)."""
    _tid, iid, secret = parse_invitation_token(token)
    inv = db.session.scalars(select(Invitation).where(Invitation.id == iid)).one_or_none()
    if inv is None or not secrets.compare_digest(inv.token_hash, _hash_token(secret)):
        raise InvitationInvalid()
    if inv.status != "pending":
        raise InvitationInvalid()
    return inv


def accept_invitation(inv: Invitation, user: User) -> Membership:
    """Join (or re-join) the workspace with the invited roles; the invitation is spent."""
    member = db.session.scalars(select(Membership).where(Membership.user_id == user.id)).one_or_none()
    if member is None:
        member = Membership(user_id=user.id, roles=list(inv.roles), reports_to_id=inv.reports_to_id)
        db.session.add(member)
    else:
        member.roles = list(inv.roles)
        member.is_active = True
        member.deactivated_at = None
        if inv.reports_to_id:
            member.reports_to_id = inv.reports_to_id
    inv.accepted_at = utcnow()
    db.session.flush()
    return member
