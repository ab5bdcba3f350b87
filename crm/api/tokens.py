"""Creating, checking and revoking API tokens (services, callable without a request)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from crm.api.models import ApiToken
from crm.audit.services import record
from crm.db import db, utcnow
from tenants.context import tenant_context
from tenants.models import Membership, Tenant

PREFIX = "tzk"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(member: Membership, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the plain token, which is shown once and never stored."""
    secret = secrets.token_urlsafe(32)
    # The tenant id rides in the token so it is looked up inside its own tenant only.
    plain = f"{PREFIX}_{member.tenant_id}_{secret}"
    token = ApiToken(
        member_id=member.id,
        name=name.strip()[:100] or "API",
        prefix=plain[: len(PREFIX) + 6 + len(str(member.tenant_id))],
        token_hash=_hash(plain),
    )
    db.session.add(token)
    db.session.flush()
    record("api_token.created", token, actor=member, summary=token.name)
    return token, plain


def revoke_token(actor: Membership, token: ApiToken) -> None:
    token.revoked_at = utcnow()
    record("api_token.revoked", token, actor=actor, summary=token.name)


def tokens_of(member: Membership) -> list[ApiToken]:
    return list(
        db.session.scalars(select(ApiToken).where(ApiToken.member_id == member.id).order_by(ApiToken.created_at.desc()))
    )


def parse(plain: str) -> int | None:
    parts = plain.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1].isdigit():
        return None
    return int(parts[1])


def authenticate(plain: str) -> tuple[Tenant, Membership] | None:
    """Call with no tenant in context; returns (tenant, member) for a live token of an active member."""
    tenant_id = parse(plain)
    if tenant_id is None:
        return None
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return None
    with tenant_context(tenant):
        token = db.session.scalars(select(ApiToken).where(ApiToken.token_hash == _hash(plain))).one_or_none()
        if token is None or token.revoked_at is not None or not token.member.is_active:
            return None
        token.last_used_at = utcnow()
        return tenant, token.member
