"""The ORM half of tenant isolation.

Every ORM statement touching a TenantScoped model is filtered to the current tenant with
with_loader_criteria; with no tenant in context it raises. Flushes fill tenant_id on new
rows and refuse rows that belong elsewhere. PostgreSQL row-level security (tenants.rls) is
the second wall underneath.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from tenants.context import CrossTenantWrite, TenantContextMissing, current_tenant_id, is_unscoped
from tenants.models import TenantScoped

_installed = False


def _is_scoped(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, TenantScoped)


def _touches_scoped(state: ORMExecuteState) -> bool:
    return any(_is_scoped(m.class_) for m in state.all_mappers)


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or not _touches_scoped(state):
        # Column loads refresh an object already loaded in scope.
        return
    if is_unscoped():
        return
    tid = current_tenant_id()
    if tid is None:
        raise TenantContextMissing(
            "query on a tenant-owned model with no tenant in context; "
            "enter tenant_context(...) or, for platform-wide work only, unscoped()"
        )
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tid, include_aliases=True)
    )


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    tid = current_tenant_id()
    unscoped = is_unscoped()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            if tid is None:
                raise TenantContextMissing(f"cannot write {type(obj).__name__} with no tenant in context")
            obj.tenant_id = tid
        elif obj.tenant_id != tid and not (unscoped and tid is None):
            raise CrossTenantWrite(f"{type(obj).__name__} belongs to tenant {obj.tenant_id}, current tenant is {tid}")


def install() -> None:
    """Attach the guard to every SQLAlchemy session (idempotent)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "do_orm_execute", _on_execute)
    event.listen(Session, "before_flush", _before_flush)
    _installed = True
