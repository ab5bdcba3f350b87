"""PostgreSQL row-level security: the second wall.

The app connects as a role that does not own the tables, so FORCE ROW LEVEL SECURITY and
the policies below apply to it. The tenant (and acting user) are set per transaction with
set_config(..., true), which is dropped at commit/rollback and so never leaks across pooled
connections.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, event, text
from sqlalchemy.orm import Session

from tenants.context import current_tenant_id, current_user_id

TENANT_SETTING = "app.tenant_id"
USER_SETTING = "app.user_id"

_SET = text("SELECT set_config('app.tenant_id', :tid, true), set_config('app.user_id', :uid, true)")


def apply_settings(connection: Any, tenant_id: int | None, user_id: int | None = None) -> None:
    """Set the tenant (and user) for the connection's open transaction; nothing off PostgreSQL.
    For bare connections outside the session (a job's progress writes) as well as the session."""
    if connection.dialect.name != "postgresql":
        return
    tid, uid = tenant_id, user_id
    connection.execute(_SET, {"tid": "" if tid is None else str(tid), "uid": "" if uid is None else str(uid)})


def _apply(connection: Any) -> None:
    apply_settings(connection, current_tenant_id(), current_user_id())


def _after_begin(session: Session, transaction: Any, connection: Any) -> None:
    _apply(connection)


def sync_session_settings() -> None:
    """Re-apply the settings to the open transaction after the context changed mid-way."""
    from crm.db import db

    try:
        session = db.session()
    except RuntimeError:  # no application context: nothing open to sync
        return
    if session.in_transaction():
        _apply(session.connection())


_installed = False


def install() -> None:
    global _installed
    if not _installed:
        event.listen(Session, "after_begin", _after_begin)
        _installed = True


def policy_sql(table: str) -> list[str]:
    """DDL that walls one tenant-owned table; used by migrations and the meta-test."""
    check = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::integer"
    using = check
    if table == "memberships":
        # A person may read their own memberships across workspaces (the switcher, sign-in),
        # but rows are only ever written inside the tenant in context.
        using = f"({check}) OR user_id = NULLIF(current_setting('app.user_id', true), '')::integer"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS tenant_isolation ON {table}",
        f"CREATE POLICY tenant_isolation ON {table} USING ({using}) WITH CHECK ({check})",
    ]


def tenant_owned_tables() -> list[str]:
    from crm.db import Base
    from tenants.models import TenantScoped

    names = set()
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        if issubclass(mapper.class_, TenantScoped) and isinstance(table, Table):
            names.add(table.name)
    return sorted(names)
