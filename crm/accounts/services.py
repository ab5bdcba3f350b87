"""Signing in, password resets and profile changes — callable without a request."""

from __future__ import annotations

import logging

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from crm.audit.services import record
from crm.db import db, utcnow
from tenants.context import tenant_context
from tenants.identity import set_password, user_by_email, verify_password
from tenants.models import User
from tenants.services import memberships_of

log = logging.getLogger("taizhang.auth")


def _audit_everywhere(user: User, action: str, summary: str | None = None) -> None:
    """Sign-in events belong to the person, so each of their workspaces' logs gets them."""
    for member in memberships_of(user, active_only=False):
        with tenant_context(member.tenant_id, user_id=user.id):
            record(action, member, actor=member, object_type="Membership", summary=summary)
            # Written while still inside that tenant: the guard (and RLS) refuse it outside.
            db.session.flush()


def authenticate(email: str, password: str) -> User | None:
    """The same work and the same answer whether or not the e-mail is known."""
    user = user_by_email(email)
    ok = verify_password(user, password)
    if user is None:
        log.info("failed sign-in for unknown e-mail")
        return None
    if not ok:
        _audit_everywhere(user, "auth.sign_in_failed")
        return None
    user.last_login_at = utcnow()
    _audit_everywhere(user, "auth.sign_in")
    return user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="taizhang.password-reset")


def make_reset_token(user: User) -> str:
    # The epoch is bumped by every password change, so a used link stops working.
    return _serializer().dumps({"u": user.id, "e": user.session_epoch})


def user_for_reset_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_TTL_SECONDS"])
    except (BadSignature, SignatureExpired):
        return None
    user = db.session.get(User, data.get("u"))
    if user is None or user.session_epoch != data.get("e"):
        return None
    return user


def reset_password(user: User, password: str) -> None:
    set_password(user, password)
    _audit_everywhere(user, "auth.password_reset")


def change_password(user: User, current: str, new: str) -> bool:
    if not verify_password(user, current):
        return False
    set_password(user, new)
    _audit_everywhere(user, "auth.password_changed")
    return True
