"""DDL helpers for migrations: row-level security and the app role's grants (PostgreSQL only)."""

from __future__ import annotations

import os
import re
from typing import Any

from tenants.rls import policy_sql

_ROLE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


def app_role() -> str:
    role = os.environ.get("APP_DB_ROLE", "taizhang_app")
    if not _ROLE_RE.match(role):
        raise ValueError(f"APP_DB_ROLE {role!r} is not a plain identifier")
    return role


def is_postgres(op: Any) -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def enable_rls(op: Any, tables: list[str]) -> None:
    if not is_postgres(op):
        return
    for table in tables:
        for stmt in policy_sql(table):
            op.execute(stmt)


def disable_rls(op: Any, tables: list[str]) -> None:
    if not is_postgres(op):
        return
    for table in tables:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def grant_app_role(op: Any) -> None:
    """The app role may read and write rows but owns nothing, so RLS is forced on it."""
    if not is_postgres(op):
        return
    role = app_role()  # validated as a plain identifier: interpolating it is safe
    op.execute(
        f"""
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
            GRANT USAGE ON SCHEMA public TO {role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
            REVOKE ALL ON alembic_version FROM {role};
            GRANT SELECT ON alembic_version TO {role};
            ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role};
            ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role};
          END IF;
        END $$;
        """
    )
