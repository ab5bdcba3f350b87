"""Meta-tests over the schema: every tenant-owned table is keyed, indexed and walled by tenant."""

from __future__ import annotations

import pytest
from sqlalchemy import UniqueConstraint, text

from crm.db import db
from tenants.models import TenantScoped
from tenants.rls import tenant_owned_tables
from tests.conftest import APP_ROLE


def _scoped_tables(app):
    with app.app_context():
        return {
            m.local_table.name: m.local_table for m in db.Model.registry.mappers if issubclass(m.class_, TenantScoped)
        }


def test_there_are_tenant_owned_tables(app):
    tables = _scoped_tables(app)
    assert {"memberships", "invitations", "api_tokens", "audit_entries", "notifications", "job_records"} <= set(tables)
    with app.app_context():
        assert sorted(tables) == tenant_owned_tables()


def test_tenant_id_is_not_null_and_references_tenants(app):
    for name, table in _scoped_tables(app).items():
        col = table.c.tenant_id
        assert not col.nullable, f"{name}.tenant_id must be NOT NULL"
        assert {fk.column.table.name for fk in col.foreign_keys} == {"tenants"}, f"{name}.tenant_id → tenants.id"


def test_every_tenant_owned_table_has_an_index_led_by_tenant_id(app):
    for name, table in _scoped_tables(app).items():
        leading = [list(ix.columns)[0].name for ix in table.indexes]
        assert "tenant_id" in leading, f"{name} has no index whose first column is tenant_id"


def test_unique_constraints_include_tenant_id(app):
    for name, table in _scoped_tables(app).items():
        for cons in table.constraints:
            if isinstance(cons, UniqueConstraint):
                cols = [c.name for c in cons.columns]
                assert "tenant_id" in cols, f"unique constraint {cons.name} on {name} lacks tenant_id: {cols}"
        for ix in table.indexes:
            if ix.unique:
                cols = [c.name for c in ix.columns]
                assert "tenant_id" in cols, f"unique index {ix.name} on {name} lacks tenant_id: {cols}"
        for col in table.columns:
            assert not (col.unique and col.name != "tenant_id"), f"{name}.{col.name} is unique across tenants"


@pytest.mark.postgres
def test_database_unique_indexes_include_tenant_id(owner_engine, app):
    """The migrated database, not just the models: no unique index on a tenant table lacks tenant_id."""
    with app.app_context():
        tables = tenant_owned_tables()
    with owner_engine.connect() as conn:
        rows = conn.execute(
            text(
                """
                SELECT t.relname, i.relname, array_agg(a.attname ORDER BY k.ord)
                FROM pg_index x
                JOIN pg_class t ON t.oid = x.indrelid
                JOIN pg_class i ON i.oid = x.indexrelid
                JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
                JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                WHERE x.indisunique AND NOT x.indisprimary AND t.relname = ANY(:tables)
                GROUP BY t.relname, i.relname
                """
            ),
            {"tables": tables},
        ).all()
        for table, index, cols in rows:
            assert "tenant_id" in cols, f"unique index {index} on {table} lacks tenant_id"
        for table in tables:
            first = conn.execute(
                text(
                    """
                    SELECT count(*) FROM pg_index x
                    JOIN pg_class t ON t.oid = x.indrelid
                    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
                    WHERE t.relname = :t AND a.attname = 'tenant_id'
                    """
                ),
                {"t": table},
            ).scalar()
            assert first, f"{table}: no index led by tenant_id in the database"
            nullable = conn.execute(
                text(
                    "SELECT is_nullable FROM information_schema.columns "
                    "WHERE table_name = :t AND column_name = 'tenant_id'"
                ),
                {"t": table},
            ).scalar()
            assert nullable == "NO", f"{table}.tenant_id is nullable in the database"


@pytest.mark.postgres
def test_every_tenant_owned_table_has_forced_rls_and_a_policy(owner_engine, app):
    with app.app_context():
        tables = tenant_owned_tables()
    with owner_engine.connect() as conn:
        for table in tables:
            row = conn.execute(
                text(
                    "SELECT c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relname = :t"
                ),
                {"t": table},
            ).one_or_none()
            assert row is not None, f"{table} is missing from the migrated database (no migration?)"
            rls, forced, owner = row
            assert rls, f"{table}: row level security is not enabled"
            assert forced, f"{table}: row level security is not forced"
            assert owner != APP_ROLE, f"{table} is owned by the app role, so RLS would not bind it"
            policies = conn.execute(
                text(
                    "SELECT policyname, qual, with_check FROM pg_policies "
                    "WHERE schemaname = 'public' AND tablename = :t"
                ),
                {"t": table},
            ).all()
            assert policies, f"{table} has no policy"
            assert all("app.tenant_id" in (p.with_check or p.qual or "") for p in policies), policies


@pytest.mark.postgres
def test_app_role_is_not_privileged(app):
    with app.app_context(), db.engine.connect() as conn:
        who, superuser, bypass = conn.execute(
            text("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
    assert who == APP_ROLE
    assert not superuser, "the app must not connect as a superuser (RLS would not apply)"
    assert not bypass, "the app role must not have BYPASSRLS"


@pytest.mark.postgres
def test_app_role_cannot_change_the_schema_or_policies(app):
    from sqlalchemy.exc import DBAPIError

    with app.app_context(), db.engine.connect() as conn:
        for stmt in (
            "ALTER TABLE memberships DISABLE ROW LEVEL SECURITY",
            "DROP POLICY tenant_isolation ON memberships",
            "CREATE TABLE sneaky (id int)",
        ):
            with pytest.raises(DBAPIError), conn.begin():
                conn.execute(text(stmt))
