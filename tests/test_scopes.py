"""Roles as data, can(), and data scopes: own / team (transitive) / all."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.db import db
from roles.catalogue import PERMISSIONS, ROLES, Scope, permissions_of, scope_of, unknown_roles
from roles.checks import can, require
from roles.scopes import in_scope, scope_filter, visible_member_ids
from roles.workspaces import visible_workspaces
from tenants.models import Membership
from tests import factories
from tests.helpers import in_tenant


@pytest.fixture
def team(app, tenant_a):
    """alpha plus: a junior reporting to the rep, and a second manager's separate team."""
    with in_tenant(app, tenant_a.id):
        junior = factories.add_member(
            tenant_a, "sales", "junior@alpha.example.com", "小李", reports_to=tenant_a["sales"].id
        )
        mgr2 = factories.add_member(tenant_a, "sales_manager", "mgr2@alpha.example.com", "赵强")
        rep2 = factories.add_member(tenant_a, "sales", "rep2@alpha.example.com", "孙丽", reports_to=mgr2.id)
        db.session.commit()
    return {"junior": junior, "mgr2": mgr2, "rep2": rep2}


def _visible(app, member):
    with in_tenant(app, member.tenant_id):
        return visible_member_ids(db.session.get(Membership, member.id))


def test_own_scope_sees_only_themselves(app, tenant_a, team):
    assert _visible(app, tenant_a["sales"]) == {tenant_a["sales"].id}
    assert _visible(app, team["junior"]) == {team["junior"].id}


def test_team_scope_is_transitive(app, tenant_a, team):
    mgr = tenant_a["sales_manager"]
    assert _visible(app, mgr) == {mgr.id, tenant_a["sales"].id, team["junior"].id}
    assert _visible(app, team["mgr2"]) == {team["mgr2"].id, team["rep2"].id}


@pytest.mark.parametrize("role", ["owner", "admin", "finance"])
def test_all_scope(app, tenant_a, team, role):
    assert _visible(app, tenant_a[role]) is None


def test_team_scope_survives_a_cycle_in_the_data(app, tenant_a):
    """Reporting loops are refused by the service; scopes must still terminate if one exists."""
    with in_tenant(app, tenant_a.id):
        mgr = db.session.get(Membership, tenant_a["sales_manager"].id)
        mgr.reports_to_id = tenant_a["sales"].id
        db.session.flush()
        assert visible_member_ids(mgr) == {tenant_a["sales_manager"].id, tenant_a["sales"].id}
        db.session.rollback()


def test_team_scope_stays_in_the_tenant(app, tenant_a, tenant_b):
    with in_tenant(app, tenant_b.id):
        # A B member who (wrongly) names A's manager as their boss is not on A's team.
        row = db.session.get(Membership, tenant_b["sales"].id)
        row.reports_to_id = tenant_a["sales_manager"].id
        db.session.commit()
    assert _visible(app, tenant_a["sales_manager"]) == {tenant_a["sales_manager"].id, tenant_a["sales"].id}


def test_multiple_roles_take_the_widest_scope_and_union_of_permissions(app, tenant_a):
    assert scope_of(["sales", "finance"]) is Scope.ALL
    assert scope_of(["sales", "sales_manager"]) is Scope.TEAM
    assert scope_of([]) is None and scope_of(["ghost"]) is None
    assert permissions_of(["sales", "finance"]) >= {"sales.access", "finance.access"}
    assert unknown_roles(["sales", "ghost"]) == ["ghost"]


def test_in_scope_and_scope_filter(app, tenant_a, team):
    class Deal:
        def __init__(self, owner_id, tenant_id):
            self.owner_id, self.tenant_id = owner_id, tenant_id

    with in_tenant(app, tenant_a.id):
        mgr = db.session.get(Membership, tenant_a["sales_manager"].id)
        rep = db.session.get(Membership, tenant_a["sales"].id)
        assert in_scope(mgr, Deal(team["junior"].id, tenant_a.id))
        assert not in_scope(mgr, Deal(team["rep2"].id, tenant_a.id))
        assert not in_scope(rep, Deal(mgr.id, tenant_a.id))
        ids = set(db.session.scalars(select(Membership.id).where(scope_filter(mgr, Membership.id))))
        assert ids == {mgr.id, rep.id, team["junior"].id}
        owner = db.session.get(Membership, tenant_a["owner"].id)
        assert len(set(db.session.scalars(select(Membership.id).where(scope_filter(owner, Membership.id))))) == 8
        # can() with an object checks tenant and scope.
        assert can(mgr, "sales.access", Deal(rep.id, tenant_a.id))
        assert not can(mgr, "sales.access", Deal(team["rep2"].id, tenant_a.id))
        assert not can(owner, "sales.access", Deal(rep.id, tenant_a.id + 1000))


def test_can_refuses_inactive_members_and_unknown_permissions(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        owner = db.session.get(Membership, tenant_a["owner"].id)
        assert can(owner, "members.manage")
        owner.is_active = False
        assert not can(owner, "members.manage")
        assert not can(None, "workspace.view")
        with pytest.raises(KeyError):
            can(owner, "members.nuke")
        db.session.rollback()
    with pytest.raises(KeyError):
        require("nope.nope")


def test_catalogue_is_consistent():
    for role in ROLES.values():
        assert role.permissions <= set(PERMISSIONS), role.name
        assert "workspace.view" in role.permissions, role.name
    assert "ownership.transfer" in ROLES["owner"].permissions
    assert "ownership.transfer" not in ROLES["admin"].permissions
    assert ROLES["owner"].permissions == frozenset(PERMISSIONS)


def test_visible_workspaces(app, tenant_a):
    expected = {
        "owner": ["sales", "office", "finance", "settings"],
        "admin": ["sales", "office", "finance", "settings"],
        "sales_manager": ["sales", "office"],
        "sales": ["sales", "office"],
        "finance": ["office", "finance"],
    }
    with in_tenant(app, tenant_a.id):
        for role, keys in expected.items():
            m = db.session.get(Membership, tenant_a[role].id)
            assert [w.key for w in visible_workspaces(m)] == keys, role
        assert visible_workspaces(None) == []
