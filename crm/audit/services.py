"""Writing to the audit log. Services call ``record``; it adds to the session, never commits."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from sqlalchemy import inspect

from crm.audit.models import AuditEntry
from crm.db import db
from tenants.models import Membership


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def changes_of(obj: Any, fields: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Before/after of the changed attributes of a loaded object, before flush."""
    state = inspect(obj)
    out: dict[str, dict[str, Any]] = {}
    for attr in state.attrs:
        if fields is not None and attr.key not in fields:
            continue
        hist = attr.history
        if not hist.has_changes():
            continue
        before = hist.deleted[0] if hist.deleted else None
        after = hist.added[0] if hist.added else None
        if before != after:
            out[attr.key] = {"before": _plain(before), "after": _plain(after)}
    return out


def record(
    action: str,
    obj: Any = None,
    *,
    actor: Membership | None = None,
    user_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    summary: str | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    if obj is not None:
        object_type = object_type or type(obj).__name__
        if object_id is None:
            object_id = getattr(obj, "id", None)
    entry = AuditEntry(
        action=action,
        object_type=object_type or "-",
        object_id=object_id,
        member_id=actor.id if actor is not None else None,
        user_id=user_id if user_id is not None else (actor.user_id if actor is not None else None),
        summary=(summary or "")[:255] or None,
        changes={k: v for k, v in (changes or {}).items()},
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
