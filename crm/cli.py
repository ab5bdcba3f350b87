"""Operator commands: workspace create, member add, token create, seed demo, worker."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from crm.db import db
from roles.catalogue import unknown_roles
from tenants.context import tenant_context
from tenants.identity import create_user, normalise_email, user_by_email
from tenants.models import Membership, Tenant
from tenants.services import SlugInvalid, SlugTaken, create_workspace

workspace_cli = AppGroup("workspace", help="Create and inspect workspaces.")
member_cli = AppGroup("member", help="Add members to a workspace.")
token_cli = AppGroup("token", help="API tokens.")
seed_cli = AppGroup("seed", help="Demo data.")

DEMO_PASSWORD = "taizhang-demo-2026"
DEMO_MEMBERS = [
    ("owner@demo.taizhang.local", "王建国", ["owner"], None),
    ("admin@demo.taizhang.local", "李秀英", ["admin"], "owner@demo.taizhang.local"),
    ("manager@demo.taizhang.local", "张伟", ["sales_manager"], "owner@demo.taizhang.local"),
    ("sales@demo.taizhang.local", "刘洋", ["sales"], "manager@demo.taizhang.local"),
    ("sales2@demo.taizhang.local", "陈静", ["sales"], "manager@demo.taizhang.local"),
    ("finance@demo.taizhang.local", "杨帆", ["finance_manager"], "owner@demo.taizhang.local"),
    ("accountant@demo.taizhang.local", "周婷", ["finance"], "finance@demo.taizhang.local"),
]


def _tenant(slug: str) -> Tenant:
    tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one_or_none()
    if tenant is None:
        raise click.ClickException(f"no workspace with slug {slug!r}")
    return tenant


def _user(email: str, name: str | None, password: str | None):  # type: ignore[no-untyped-def]
    user = user_by_email(email)
    if user is None:
        if not password:
            raise click.ClickException(f"{email} has no account yet; give --password")
        user = create_user(email, name or email.split("@")[0], password)
    return user


@workspace_cli.command("create")
@click.option("--name", required=True)
@click.option("--slug", required=True)
@click.option("--owner-email", required=True)
@click.option("--owner-password", required=True)
@click.option("--owner-name", default=None)
def workspace_create(name: str, slug: str, owner_email: str, owner_password: str, owner_name: str | None) -> None:
    """Create a workspace with its first owner."""
    try:
        owner = _user(owner_email, owner_name, owner_password)
        tenant, _member = create_workspace(name, slug, owner)
    except (SlugInvalid, SlugTaken) as exc:
        raise click.ClickException(f"slug {slug!r} is invalid or taken") from exc
    except ValueError as exc:
        raise click.ClickException(str(exc) or "password must be at least 12 characters") from exc
    db.session.commit()
    click.echo(f"created workspace {tenant.slug} (id {tenant.id}) owned by {owner.email}")


def add_member(
    tenant: Tenant, email: str, password: str | None, roles: list[str], reports_to: str | None, name: str | None = None
) -> Membership:
    bad = unknown_roles(roles)
    if bad or not roles:
        raise click.ClickException(f"unknown roles: {', '.join(bad) or '(none given)'}")
    user = _user(email, name, password)
    with tenant_context(tenant):
        member = db.session.scalars(select(Membership).where(Membership.user_id == user.id)).one_or_none()
        if member is None:
            member = Membership(user_id=user.id, roles=roles)
            db.session.add(member)
        else:
            member.roles = roles
            member.is_active = True
        if reports_to:
            boss_user = user_by_email(reports_to)
            boss = (
                boss_user
                and db.session.scalars(select(Membership).where(Membership.user_id == boss_user.id)).one_or_none()
            )
            if boss is None:
                raise click.ClickException(f"{reports_to} is not a member of {tenant.slug}")
            member.reports_to_id = boss.id
        db.session.flush()
    return member


@member_cli.command("add")
@click.option("--workspace", "slug", required=True)
@click.option("--email", required=True)
@click.option("--password", default=None)
@click.option("--name", default=None)
@click.option("--roles", required=True, help="comma-separated: owner,admin,sales_manager,sales,finance")
@click.option("--reports-to", default=None, help="e-mail of the member's manager")
def member_add(
    slug: str, email: str, password: str | None, name: str | None, roles: str, reports_to: str | None
) -> None:
    """Add (or update) a member of a workspace."""
    tenant = _tenant(slug)
    try:
        member = add_member(
            tenant,
            normalise_email(email),
            password,
            [r.strip() for r in roles.split(",") if r.strip()],
            reports_to,
            name,
        )
    except ValueError as exc:
        raise click.ClickException(str(exc) or "password must be at least 12 characters") from exc
    # Read before the commit expires it: outside its tenant, row-level security hides the row.
    granted = ",".join(member.roles)
    db.session.commit()
    click.echo(f"{email} is a member of {tenant.slug} with roles {granted}")


@token_cli.command("create")
@click.option("--workspace", "slug", required=True)
@click.option("--email", required=True)
@click.option("--name", default="cli")
def token_create(slug: str, email: str, name: str) -> None:
    """Create an API token; the token alone is printed on the last line."""
    from crm.api.tokens import create_token

    tenant = _tenant(slug)
    user = user_by_email(email)
    if user is None:
        raise click.ClickException(f"no account for {email}")
    with tenant_context(tenant, user_id=user.id):
        member = db.session.scalars(
            select(Membership).where(Membership.user_id == user.id, Membership.is_active.is_(True))
        ).one_or_none()
        if member is None:
            raise click.ClickException(f"{email} is not an active member of {slug}")
        _token, plain = create_token(member, name)
        db.session.commit()
    click.echo(f"token for {email} in {slug} (shown once):")
    click.echo(plain)


@seed_cli.command("demo")
def seed_demo() -> None:
    """Create (or refresh) the demo workspace; safe to run again."""
    slug = "demo"
    tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one_or_none()
    owner_email, owner_name = DEMO_MEMBERS[0][0], DEMO_MEMBERS[0][1]
    if tenant is None:
        owner = _user(owner_email, owner_name, DEMO_PASSWORD)
        tenant, _m = create_workspace("演示科技有限公司", slug, owner)
    for email, name, roles, boss in DEMO_MEMBERS[1:]:
        add_member(tenant, email, DEMO_PASSWORD, roles, boss, name)
    from crm.finance_demo import seed_finance
    from crm.office_demo import seed_office
    from crm.people_demo import seed_people
    from crm.sales.demo import seed_customers, seed_sales_flow

    with tenant_context(tenant):
        members = list(db.session.scalars(select(Membership).order_by(Membership.id)))
        seed_customers(members)
        seed_sales_flow(tenant, members)
        seed_office(tenant, members)
        seed_finance(tenant, members)
        seed_people(tenant, members)  # after the books: posts into the current month only
    db.session.commit()
    click.echo(f"demo workspace ready at /w/{slug}/ — sign in with any of (password {DEMO_PASSWORD}):")
    for email, _name, roles, _boss in DEMO_MEMBERS:
        click.echo(f"  {email:32} {','.join(roles)}")


@click.command("worker")
@click.option("--queue", "queues", multiple=True, default=["default"])
@click.option("--burst", is_flag=True, help="stop when the queue is empty")
def worker_command(queues: tuple[str, ...], burst: bool) -> None:
    """Run an RQ worker with the app built once, before forking."""
    from flask import current_app

    from workers.queue import redis_connection
    from workers.runner import TaizhangWorker, use_app

    conn = redis_connection()
    if conn is None:
        click.echo("REDIS_URL is not set: jobs run in-process, no worker needed.", err=True)
        sys.exit(1)
    use_app(current_app._get_current_object())  # type: ignore[attr-defined]
    TaizhangWorker(list(queues), connection=conn).work(burst=burst)


def register(app: Flask) -> None:
    for group in (workspace_cli, member_cli, token_cli, seed_cli):
        app.cli.add_command(group)
    app.cli.add_command(worker_command)
