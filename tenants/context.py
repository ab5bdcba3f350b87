"""Which tenant (and which user) the current unit of work acts for.

Held in context variables rather than flask.g so that requests, RQ jobs, CLI commands and
tests all enter a tenant the same way: ``with tenant_context(tenant): ...``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from werkzeug.local import LocalProxy

if TYPE_CHECKING:
    from tenants.models import Tenant

_tenant_id: ContextVar[int | None] = ContextVar("taizhang_tenant_id", default=None)
_user_id: ContextVar[int | None] = ContextVar("taizhang_user_id", default=None)
_unscoped: ContextVar[bool] = ContextVar("taizhang_unscoped", default=False)


class TenantContextMissing(RuntimeError):
    """A tenant-owned table was queried or written with no tenant in context."""


class CrossTenantWrite(RuntimeError):
    """A flush tried to write a row belonging to a tenant other than the current one."""


def current_tenant_id() -> int | None:
    return _tenant_id.get()


def require_tenant_id() -> int:
    tid = _tenant_id.get()
    if tid is None:
        raise TenantContextMissing("no tenant in context")
    return tid


def current_user_id() -> int | None:
    return _user_id.get()


def is_unscoped() -> bool:
    return _unscoped.get()


def _sync_database() -> None:
    # Imported late: rls imports the db, and the db must not be needed to import this module.
    from tenants.rls import sync_session_settings

    sync_session_settings()


@contextmanager
def tenant_context(tenant: Tenant | int, user_id: int | None = None) -> Iterator[int]:
    """Act for one tenant until the block ends. Nesting replaces, then restores."""
    tid = tenant if isinstance(tenant, int) else tenant.id
    if tid is None:
        raise TenantContextMissing("tenant has no id yet; flush it first")
    t1 = _tenant_id.set(tid)
    t2 = _user_id.set(user_id) if user_id is not None else None
    _sync_database()
    try:
        yield tid
    finally:
        _tenant_id.reset(t1)
        if t2 is not None:
            _user_id.reset(t2)
        _sync_database()


def set_request_identity(tenant_id: int | None, user_id: int | None) -> list[Any]:
    """Used by the request resolver; returns tokens for reset_request_identity."""
    tokens = [_tenant_id.set(tenant_id), _user_id.set(user_id)]
    _sync_database()
    return tokens


def reset_request_identity(tokens: list[Any]) -> None:
    _tenant_id.reset(tokens[0])
    _user_id.reset(tokens[1])


@contextmanager
def acting_user(user_id: int) -> Iterator[None]:
    """Name the person acting (row-level security lets them read their own memberships)."""
    token = _user_id.set(user_id)
    _sync_database()
    try:
        yield
    finally:
        _user_id.reset(token)
        _sync_database()


@contextmanager
def unscoped() -> Iterator[None]:
    """THE escape hatch: queries in this block are not filtered by tenant.

    For platform-wide work only — sign-up, listing a person's own workspaces at sign-in,
    operator commands. Every use is greppable as ``unscoped()``; review it like eval.
    On PostgreSQL row-level security still applies underneath.
    """
    token = _unscoped.set(True)
    try:
        yield
    finally:
        _unscoped.reset(token)


def _load_current_tenant() -> Tenant:
    from crm.db import db
    from tenants.models import Tenant

    tenant = db.session.get(Tenant, require_tenant_id())
    if tenant is None:
        raise TenantContextMissing("tenant in context does not exist")
    return tenant


current_tenant: Tenant = LocalProxy(_load_current_tenant)  # type: ignore[assignment]
