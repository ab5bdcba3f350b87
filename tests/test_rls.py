"""PostgreSQL row-level security: the second wall, under raw SQL the guard never sees."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from crm.db import db
from tenants.context import acting_user, tenant_context

pytestmark = pytest.mark.postgres

COUNT = text("SELECT count(*) FROM memberships")


def test_raw_sql_sees_only_the_current_tenant(app, tenant_a, tenant_b):
    with app.app_context():
        with tenant_context(tenant_a.id):
            assert db.session.execute(COUNT).scalar() == 5
            ids = set(db.session.execute(text("SELECT DISTINCT tenant_id FROM memberships")).scalars())
            assert ids == {tenant_a.id}
            # A WHERE naming the other tenant finds nothing: the policy filters first.
            assert (
                db.session.execute(
                    text("SELECT count(*) FROM memberships WHERE tenant_id = :t"), {"t": tenant_b.id}
                ).scalar()
                == 0
            )
            assert (
                db.session.execute(
                    text("SELECT count(*) FROM audit_entries WHERE tenant_id <> :t"), {"t": tenant_a.id}
                ).scalar()
                == 0
            )
        db.session.commit()
        with tenant_context(tenant_b.id):
            assert db.session.execute(COUNT).scalar() == 5


def test_raw_sql_without_tenant_sees_nothing(app, tenant_a, tenant_b):
    with app.app_context():
        for table in ("memberships", "invitations", "api_tokens", "audit_entries", "notifications", "job_records"):
            assert db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0, table  # noqa: S608


def test_without_tenant_a_person_sees_only_their_own_memberships(app, tenant_a, tenant_b):
    with app.app_context():
        with acting_user(tenant_a["sales"].user_id):
            rows = db.session.execute(text("SELECT id, tenant_id FROM memberships")).all()
        assert rows == [(tenant_a["sales"].id, tenant_a.id)]
        db.session.rollback()
        # ... but other tables stay closed to them without a tenant.
        with acting_user(tenant_a["sales"].user_id):
            assert db.session.execute(text("SELECT count(*) FROM audit_entries")).scalar() == 0


def test_insert_for_another_tenant_is_refused_by_the_policy(app, tenant_a, tenant_b):
    with app.app_context():
        with tenant_context(tenant_a.id):
            with pytest.raises(DBAPIError, match="row-level security"):
                db.session.execute(
                    text(
                        "INSERT INTO audit_entries (tenant_id, created_at, action, object_type, changes) "
                        "VALUES (:t, now(), 'x', 'y', '{}')"
                    ),
                    {"t": tenant_b.id},
                )
            db.session.rollback()
        # Inserting with no tenant at all is refused too.
        with pytest.raises(DBAPIError, match="row-level security"):
            db.session.execute(
                text(
                    "INSERT INTO audit_entries (tenant_id, created_at, action, object_type, changes) "
                    "VALUES (:t, now(), 'x', 'y', '{}')"
                ),
                {"t": tenant_a.id},
            )
        db.session.rollback()


def test_update_cannot_move_a_row_to_another_tenant(app, tenant_a, tenant_b):
    with app.app_context(), tenant_context(tenant_a.id):
        with pytest.raises(DBAPIError, match="row-level security"):
            db.session.execute(
                text("UPDATE memberships SET tenant_id = :b WHERE id = :id"),
                {"b": tenant_b.id, "id": tenant_a["sales"].id},
            )
        db.session.rollback()
        # And updating/deleting B's rows silently touches nothing.
        res = db.session.execute(text("UPDATE memberships SET title = 'x' WHERE tenant_id = :b"), {"b": tenant_b.id})
        assert res.rowcount == 0
        res = db.session.execute(text("DELETE FROM memberships WHERE tenant_id = :b"), {"b": tenant_b.id})
        assert res.rowcount == 0
        db.session.commit()


def test_settings_do_not_leak_across_transactions_or_pooled_connections(app, tenant_a):
    with app.app_context():
        with tenant_context(tenant_a.id, user_id=tenant_a["owner"].user_id):
            pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
            assert db.session.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar() == str(
                tenant_a.id
            )
            db.session.commit()
        # A new transaction of the session, outside the context: nothing.
        assert db.session.execute(COUNT).scalar() == 0
        db.session.commit()
        db.session.close()
        # The same pooled connection, used raw (no session events): the settings were local.
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == pid
            tid = conn.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar()
            uid = conn.execute(text("SELECT current_setting('app.user_id', true)")).scalar()
            assert tid in (None, "") and uid in (None, "")
            assert conn.execute(COUNT).scalar() == 0


def test_settings_follow_the_context_inside_one_transaction(app, tenant_a, tenant_b):
    with app.app_context():
        with tenant_context(tenant_a.id):
            assert db.session.execute(text("SELECT DISTINCT tenant_id FROM memberships")).scalar() == tenant_a.id
            with tenant_context(tenant_b.id):
                assert db.session.execute(text("SELECT DISTINCT tenant_id FROM memberships")).scalar() == tenant_b.id
            assert db.session.execute(text("SELECT DISTINCT tenant_id FROM memberships")).scalar() == tenant_a.id
        assert db.session.execute(COUNT).scalar() == 0


def test_requests_leave_no_settings_behind(app, client, tenant_a, client_as):
    """After a request inside workspace A, the pooled connection carries no tenant."""
    c = client_as(tenant_a["owner"])
    assert c.get(f"/w/{tenant_a.slug}/").status_code == 200
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar() in (None, "")
        assert conn.execute(COUNT).scalar() == 0
