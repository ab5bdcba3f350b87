"""One permission check for views, services, templates and the API: ``can(member, perm, obj)``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g

from roles.catalogue import PERMISSIONS, permissions_of
from roles.scopes import in_scope
from tenants.models import Membership

F = TypeVar("F", bound=Callable[..., Any])


class PermissionDenied(Exception):
    """Raised by services when the actor lacks a permission; views turn it into 403."""

    def __init__(self, permission: str) -> None:
        super().__init__(permission)
        self.permission = permission


def can(member: Membership | None, permission: str, obj: Any = None) -> bool:
    """Does this member hold the permission (and, given an object, is it in their scope)?"""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if member is None or not member.is_active:
        return False
    if permission not in permissions_of(member.roles):
        return False
    if obj is not None:
        if getattr(obj, "tenant_id", member.tenant_id) != member.tenant_id:
            return False
        return in_scope(member, obj)
    return True


def ensure(member: Membership | None, permission: str, obj: Any = None) -> None:
    """Service-side check: raise PermissionDenied instead of returning False."""
    if not can(member, permission, obj):
        raise PermissionDenied(permission)


def require(*permissions: str) -> Callable[[F], F]:
    """View decorator: the current member must hold every permission, else 403."""
    for p in permissions:
        if p not in PERMISSIONS:
            raise KeyError(f"unknown permission {p!r}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            member = g.get("member")
            if member is None:
                abort(404)
            for p in permissions:
                if not can(member, p):
                    abort(403)
            return view(*args, **kwargs)

        wrapped.required_permissions = permissions  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator
