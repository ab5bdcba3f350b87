"""The ORM half of tenant isolation (tenants.guard) and the one escape hatch, unscoped()."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from crm.api.models import ApiToken
from crm.audit.models import AuditEntry
from crm.db import db
from crm.notifications.models import Notification
from tenants.context import CrossTenantWrite, TenantContextMissing, tenant_context, unscoped
from tenants.models import Invitation, Membership, User
from tests import factories
from tests.helpers import in_tenant

ROOT = Path(__file__).resolve().parent.parent


def test_query_without_tenant_raises(app, tenant_a):
    with app.app_context():
        with pytest.raises(TenantContextMissing):
            db.session.scalars(select(Membership)).all()
        with pytest.raises(TenantContextMissing):
            db.session.execute(select(func.count(Invitation.id))).scalar()
        with pytest.raises(TenantContextMissing):
            db.session.get(Membership, tenant_a["owner"].id)
        # Platform tables (users, tenants) are not tenant-owned: no context needed.
        assert db.session.scalar(select(func.count(User.id))) == 5


def test_bulk_update_and_delete_without_tenant_raise(app, tenant_a):
    with app.app_context():
        with pytest.raises(TenantContextMissing):
            db.session.execute(update(Membership).values(title="x"))
        db.session.rollback()
        with pytest.raises(TenantContextMissing):
            db.session.execute(delete(Notification))


def test_select_sees_only_current_tenant(app, tenant_a, tenant_b):
    with in_tenant(app, tenant_a.id):
        members = db.session.scalars(select(Membership)).all()
        assert {m.id for m in members} == {m.id for m in tenant_a.members.values()}
        # Even an explicit filter on another tenant's id finds nothing.
        assert db.session.scalars(select(Membership).where(Membership.tenant_id == tenant_b.id)).all() == []
        assert db.session.get(Membership, tenant_b["owner"].id) is None
        # Joins and aliases are filtered too.
        boss = db.aliased(Membership)
        pairs = db.session.execute(select(Membership.id, boss.id).join(boss, Membership.reports_to_id == boss.id)).all()
        assert pairs == [(tenant_a["sales"].id, tenant_a["sales_manager"].id)]
    with in_tenant(app, tenant_b.id):
        assert {m.id for m in db.session.scalars(select(Membership))} == {m.id for m in tenant_b.members.values()}


def test_relationship_loads_are_filtered(app, tenant_a, tenant_b):
    # A row of A that (wrongly) points at B's member: the lazy load inside A finds nothing.
    with app.app_context(), tenant_context(tenant_a.id):
        rep = db.session.get(Membership, tenant_a["sales"].id)
        assert rep.reports_to.id == tenant_a["sales_manager"].id
        rep.reports_to_id = tenant_b["owner"].id
        db.session.flush()
        db.session.expire(rep)
        assert rep.reports_to is None
        db.session.rollback()
        tokens = db.session.scalars(select(ApiToken)).all()
        assert tokens == []


def test_bulk_update_and_delete_touch_only_current_tenant(app, tenant_a, tenant_b):
    with app.app_context():
        for t in (tenant_a, tenant_b):
            with tenant_context(t.id):
                owner = db.session.get(Membership, t["owner"].id)
                factories.make_notification(owner, "hi")
        db.session.commit()
        with tenant_context(tenant_a.id):
            res = db.session.execute(update(Membership).values(title="bulk"))
            assert res.rowcount == 5
            res = db.session.execute(delete(Notification))
            assert res.rowcount == 1
            db.session.commit()
        with tenant_context(tenant_b.id):
            titles = set(db.session.scalars(select(Membership.title)))
            assert titles == {None}
            assert db.session.scalar(select(func.count(Notification.id))) == 1


def test_flush_fills_tenant_id(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        entry = AuditEntry(action="test", object_type="-")
        db.session.add(entry)
        db.session.flush()
        assert entry.tenant_id == tenant_a.id


def test_flush_without_tenant_raises(app, tenant_a):
    with app.app_context():
        db.session.add(AuditEntry(action="test", object_type="-"))
        with pytest.raises(TenantContextMissing):
            db.session.flush()


def test_flush_of_other_tenants_row_raises(app, tenant_a, tenant_b):
    with in_tenant(app, tenant_a.id):
        db.session.add(AuditEntry(action="test", object_type="-", tenant_id=tenant_b.id))
        with pytest.raises(CrossTenantWrite):
            db.session.flush()
        db.session.rollback()


def test_changing_a_loaded_row_in_another_tenant_raises(app, tenant_a, tenant_b):
    with app.app_context():
        with tenant_context(tenant_a.id):
            row = db.session.get(Membership, tenant_a["sales"].id)
        with tenant_context(tenant_b.id):
            row.title = "moved"
            with pytest.raises(CrossTenantWrite):
                db.session.flush()
            db.session.rollback()
        with tenant_context(tenant_a.id):
            row = db.session.get(Membership, tenant_a["sales"].id)
            row.tenant_id = tenant_b.id
            with pytest.raises(CrossTenantWrite):
                db.session.flush()
            db.session.rollback()


def test_nested_tenant_context_restores(app, tenant_a, tenant_b):
    from tenants.context import current_tenant_id

    with app.app_context():
        assert current_tenant_id() is None
        with tenant_context(tenant_a.id):
            with tenant_context(tenant_b.id):
                assert current_tenant_id() == tenant_b.id
            assert current_tenant_id() == tenant_a.id
        assert current_tenant_id() is None


def test_unscoped_lifts_the_filter(app, tenant_a, tenant_b):
    with app.app_context(), unscoped():
        # Only the ORM filter is lifted; on PostgreSQL RLS still applies (see test_rls).
        rows = db.session.scalars(select(Membership)).all()
        if db.engine.dialect.name == "sqlite":
            assert len(rows) == 10


# ---------------------------------------------------------------- unscoped() stays rare

ALLOWED_UNSCOPED = {
    ("tenants/context.py", "unscoped"),  # the definition
    ("tenants/services.py", "memberships_of"),  # a person's own workspaces (sign-in, switcher)
}


def _unscoped_sites() -> set[tuple[str, str]]:
    """(file, enclosing function) of every ``unscoped()`` call and of its definition."""
    sites: set[tuple[str, str]] = set()

    class Visitor(ast.NodeVisitor):
        def __init__(self, rel: str) -> None:
            self.rel = rel
            self.stack: list[str] = []

        def _func(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
            if node.name == "unscoped":
                sites.add((self.rel, "unscoped"))
            self.stack.append(node.name)
            self.generic_visit(node)
            self.stack.pop()

        visit_FunctionDef = _func
        visit_AsyncFunctionDef = _func

        def visit_Call(self, node: ast.Call) -> None:
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if name == "unscoped":
                sites.add((self.rel, self.stack[0] if self.stack else "<module>"))
            self.generic_visit(node)

    for package in ("crm", "tenants", "roles", "workers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            Visitor(rel).visit(ast.parse(path.read_text(encoding="utf-8"), filename=rel))
    return sites


def test_unscoped_is_used_only_where_reviewed():
    sites = _unscoped_sites()
    unexpected = sites - ALLOWED_UNSCOPED
    assert not unexpected, (
        f"unscoped() used outside the reviewed allow-list: {sorted(unexpected)}. "
        "It lifts tenant isolation; if this use is really platform-wide work, add it to "
        "ALLOWED_UNSCOPED in tests/test_guard.py with a reason."
    )
    assert ("tenants/services.py", "memberships_of") in sites
