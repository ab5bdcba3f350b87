"""Operator commands: workspace create, member add, token create, seed demo."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.db import db
from tenants.models import Membership, Tenant, User
from tests.helpers import bearer, in_tenant


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def _run(*args: str, ok: bool = True):
        result = runner.invoke(args=list(args))
        if ok:
            assert result.exit_code == 0, f"{args}: {result.output}\n{result.exception!r}"
        return result

    return _run


def _member(app, slug, email):
    with app.app_context():
        tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
        user = db.session.scalars(select(User).where(User.email == email)).one()
        with in_tenant(app, tenant.id):
            m = db.session.scalars(select(Membership).where(Membership.user_id == user.id)).one()
            return {"id": m.id, "roles": m.roles, "reports_to_id": m.reports_to_id, "name": user.name}


def test_workspace_create_member_add_and_token_create(app, cli):
    out = cli(
        "workspace",
        "create",
        "--name",
        "华东贸易",
        "--slug",
        "huadong",
        "--owner-email",
        "Boss@HuaDong.example.com",
        "--owner-password",
        "boss-password-123",
        "--owner-name",
        "钱总",
    ).output
    assert "created workspace huadong" in out
    boss = _member(app, "huadong", "boss@huadong.example.com")
    assert boss["roles"] == ["owner"] and boss["name"] == "钱总"

    cli(
        "member",
        "add",
        "--workspace",
        "huadong",
        "--email",
        "mgr@huadong.example.com",
        "--password",
        "manager-pass-123",
        "--roles",
        "sales_manager",
        "--reports-to",
        "boss@huadong.example.com",
    )
    cli(
        "member",
        "add",
        "--workspace",
        "huadong",
        "--email",
        "rep@huadong.example.com",
        "--password",
        "rep-password-123",
        "--name",
        "小周",
        "--roles",
        "sales,finance",
        "--reports-to",
        "mgr@huadong.example.com",
    )
    mgr = _member(app, "huadong", "mgr@huadong.example.com")
    rep = _member(app, "huadong", "rep@huadong.example.com")
    assert mgr["reports_to_id"] == boss["id"]
    assert rep["reports_to_id"] == mgr["id"] and rep["roles"] == ["sales", "finance"] and rep["name"] == "小周"

    result = cli("token", "create", "--workspace", "huadong", "--email", "rep@huadong.example.com", "--name", "erp")
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("tzk_") and " " not in token
    r = app.test_client().get("/api/v1/me", headers=bearer(token))
    assert r.status_code == 200 and r.get_json()["email"] == "rep@huadong.example.com"


def test_member_add_refuses_bad_input(app, cli, tenant_a):
    r = cli(
        "member",
        "add",
        "--workspace",
        "nowhere",
        "--email",
        "x@example.com",
        "--password",
        "long-enough-pw",
        "--roles",
        "sales",
        ok=False,
    )
    assert r.exit_code != 0 and "no workspace" in r.output
    r = cli(
        "member",
        "add",
        "--workspace",
        tenant_a.slug,
        "--email",
        "x@example.com",
        "--password",
        "long-enough-pw",
        "--roles",
        "emperor",
        ok=False,
    )
    assert r.exit_code != 0 and "unknown roles" in r.output
    r = cli(
        "member",
        "add",
        "--workspace",
        tenant_a.slug,
        "--email",
        "x@example.com",
        "--password",
        "short",
        "--roles",
        "sales",
        ok=False,
    )
    assert r.exit_code != 0
    r = cli(
        "member",
        "add",
        "--workspace",
        tenant_a.slug,
        "--email",
        "x@example.com",
        "--password",
        "long-enough-pw",
        "--roles",
        "sales",
        "--reports-to",
        "owner@beta.example.com",
        ok=False,
    )
    assert r.exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.email == "x@example.com")) == 0


def test_member_add_of_a_manager_from_another_workspace_is_refused(app, cli, tenant_a, tenant_b):
    r = cli(
        "member",
        "add",
        "--workspace",
        tenant_a.slug,
        "--email",
        "y@example.com",
        "--password",
        "long-enough-pw",
        "--roles",
        "sales",
        "--reports-to",
        tenant_b["owner"].email,
        ok=False,
    )
    assert r.exit_code != 0 and "is not a member of" in r.output


def test_workspace_create_refuses_bad_or_taken_slug_and_short_password(app, cli, tenant_a):
    for slug in ("alpha", "Not OK", "api"):
        r = cli(
            "workspace",
            "create",
            "--name",
            "X",
            "--slug",
            slug,
            "--owner-email",
            "o@example.com",
            "--owner-password",
            "long-enough-pw",
            ok=False,
        )
        assert r.exit_code != 0 and "invalid or taken" in r.output
    r = cli(
        "workspace",
        "create",
        "--name",
        "X",
        "--slug",
        "fine-slug",
        "--owner-email",
        "o@example.com",
        "--owner-password",
        "short",
        ok=False,
    )
    assert r.exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Tenant.id))) == 1
        assert db.session.scalar(select(func.count(User.id)).where(User.email == "o@example.com")) == 0


def test_token_create_for_a_non_member_fails(app, cli, tenant_a, tenant_b):
    r = cli("token", "create", "--workspace", tenant_a.slug, "--email", tenant_b["owner"].email, ok=False)
    assert r.exit_code != 0 and "not an active member" in r.output


def test_seed_demo_is_idempotent(app, cli):
    first = cli("seed", "demo").output
    assert "/w/demo/" in first

    def counts():
        with app.app_context():
            tenant = db.session.scalars(select(Tenant).where(Tenant.slug == "demo")).one()
            with in_tenant(app, tenant.id):
                members = db.session.scalars(select(Membership)).all()
                return (
                    db.session.scalar(select(func.count(Tenant.id))),
                    db.session.scalar(select(func.count(User.id))),
                    sorted(
                        (m.user.email, tuple(m.roles), m.reports_to.user.email if m.reports_to else None)
                        for m in members
                    ),
                )

    before = counts()
    cli("seed", "demo")
    assert counts() == before
    assert len(before[2]) == 7
    # Demo reps report to the demo manager; the accountant to the finance manager.
    assert ("accountant@demo.taizhang.local", ("finance",), "finance@demo.taizhang.local") in before[2]
    assert ("sales@demo.taizhang.local", ("sales",), "manager@demo.taizhang.local") in before[2]
    # And the demo accounts sign in.
    from crm.cli import DEMO_PASSWORD
    from tests.helpers import login

    login(app.test_client(), "owner@demo.taizhang.local", DEMO_PASSWORD)
