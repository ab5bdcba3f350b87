"""Fetching tenant-owned rows: by id *and* tenant, so a foreign id is a 404."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort
from sqlalchemy import select

from crm.db import db
from tenants.context import require_tenant_id

T = TypeVar("T")


def get_in_tenant(model: type[T], obj_id: Any) -> T | None:
    stmt = select(model).where(model.id == obj_id, model.tenant_id == require_tenant_id())  # type: ignore[attr-defined]
    return db.session.scalars(stmt).one_or_none()


def get_or_404(model: type[T], obj_id: Any) -> T:
    obj = get_in_tenant(model, obj_id)
    if obj is None:
        abort(404)
    return obj
