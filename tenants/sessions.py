"""Server-side records of signed-in browsers: created at sign-in, revoked at sign-out and on
password change. Platform-wide (a person, not a workspace), so not tenant-scoped."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from crm.db import db, utcnow
from tenants.models import User, UserSession

SHORT = timedelta(hours=12)
REMEMBERED = timedelta(days=30)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def open_session(user: User, remember: bool, user_agent: str | None) -> str:
    """Returns the secret to keep in the (signed) cookie; only its hash is stored."""
    secret = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=_hash(secret),
            expires_at=utcnow() + (REMEMBERED if remember else SHORT),
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    return secret


def is_live(user: User, secret: str | None) -> bool:
    if not secret:
        return False
    row = db.session.scalars(select(UserSession).where(UserSession.token_hash == _hash(secret))).one_or_none()
    now = utcnow()
    return row is not None and row.user_id == user.id and row.revoked_at is None and row.expires_at > now


def close_session(secret: str | None) -> None:
    if secret:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _hash(secret), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def close_all_sessions(user: User) -> None:
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
