"""Factories: one small function per model, plus `build_workspace` for a tenant with one
member of every role.

Every factory works inside an application context and flushes, never commits (the fixture
that calls them commits). Tenant-owned rows are created inside ``tenant_context`` so the
guard stamps and checks tenant_id exactly as it does for the application.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from crm.db import db, utcnow
from tenants.context import tenant_context
from tenants.models import Invitation, Membership, Tenant, User

PASSWORD = "correct-horse-battery-staple"  # ≥ 12 characters, as the app requires

_hash_cache: dict[str, str] = {}


def password_hash(password: str = PASSWORD) -> str:
    """Hashing is deliberately slow; hash the shared test password once per run."""
    from tenants.identity import hash_password

    if password not in _hash_cache:
        _hash_cache[password] = hash_password(password)
    return _hash_cache[password]


# ---------------------------------------------------------------- plain records


@dataclass(frozen=True)
class MemberInfo:
    """What tests need to know about a member, usable after the session is gone."""

    id: int
    user_id: int
    email: str
    name: str
    roles: tuple[str, ...]
    tenant_id: int
    slug: str
    password: str = PASSWORD


@dataclass
class TenantInfo:
    id: int
    slug: str
    name: str
    members: dict[str, MemberInfo] = field(default_factory=dict)

    def __getitem__(self, role: str) -> MemberInfo:
        return self.members[role]


def info(member: Membership, slug: str) -> MemberInfo:
    return MemberInfo(
        id=member.id,
        user_id=member.user_id,
        email=member.user.email,
        name=member.user.name,
        roles=tuple(member.roles),
        tenant_id=member.tenant_id,
        slug=slug,
    )


# ---------------------------------------------------------------- model factories


def make_user(email: str, name: str, password: str = PASSWORD, locale: str | None = None) -> User:
    user = User(email=email.lower(), name=name, password_hash=password_hash(password), locale=locale)
    db.session.add(user)
    db.session.flush()
    return user


def make_tenant(slug: str, name: str | None = None) -> Tenant:
    tenant = Tenant(slug=slug, name=name or slug.title())
    db.session.add(tenant)
    db.session.flush()
    return tenant


def make_member(
    tenant: Tenant | int,
    user: User,
    roles: list[str],
    reports_to: Membership | int | None = None,
    *,
    active: bool = True,
    title: str | None = None,
) -> Membership:
    reports_to_id = reports_to.id if isinstance(reports_to, Membership) else reports_to
    with tenant_context(tenant):
        member = Membership(
            user_id=user.id,
            roles=list(roles),
            reports_to_id=reports_to_id,
            is_active=active,
            deactivated_at=None if active else utcnow(),
            title=title,
        )
        db.session.add(member)
        db.session.flush()
    return member


def make_invitation(
    actor: Membership, email: str, roles: list[str] | None = None, *, ttl_hours: int = 24
) -> tuple[Invitation, str]:
    """Returns the invitation and its plain token (the part of the link after /invitations/)."""
    from tenants.services import create_invitation

    with tenant_context(actor.tenant_id):
        inv, token = create_invitation(email, roles or ["sales"], actor, None, ttl_hours)
        db.session.flush()
    return inv, token


def expire_invitation(inv: Invitation) -> None:
    with tenant_context(inv.tenant_id):
        inv.expires_at = utcnow() - timedelta(minutes=1)
        db.session.flush()


def make_token(member: Membership, name: str = "test") -> str:
    """A live API token for the member; returns the plain bearer token."""
    from crm.api.tokens import create_token

    with tenant_context(member.tenant_id, user_id=member.user_id):
        _token, plain = create_token(member, name)
        db.session.flush()
    return plain


def make_notification(member: Membership, title: str = "Hello", link: str | None = None):
    from crm.notifications.services import notify

    with tenant_context(member.tenant_id):
        note = notify(member, "test", title, link=link)
        db.session.flush()
    return note


def make_job(
    member: Membership,
    *,
    kind: str = "members_export",
    status: str = "finished",
    content: bytes = b"PK fake result",
    filename: str = "result.xlsx",
):
    """A job record; when finished, with a result file written where the app looks for it."""
    from workers.files import write_result
    from workers.models import JobRecord

    with tenant_context(member.tenant_id):
        job = JobRecord(kind=kind, params={"format": "xlsx"}, requested_by_id=member.id, status=status)
        db.session.add(job)
        db.session.flush()
        if status == JobRecord.FINISHED:
            job.result_path = write_result(member.tenant_id, job.id, filename, content)
            job.result_name = filename
            job.result_mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            job.progress = 100
            job.finished_at = utcnow()
        db.session.flush()
    return job


def make_customer(owner: Membership, name: str, *, contact: str | None = None, **values):
    """A customer owned by `owner` (through the service, so search keys and audit are real),
    optionally with one contact. Returns (customer, contact or None)."""
    from crm.sales.services import CustomerInput, create_customer, save_contact

    with tenant_context(owner.tenant_id, user_id=owner.user_id):
        customer = create_customer(owner, CustomerInput(values={"name": name, **values}, confirm_duplicates=True))
        person = save_contact(owner, customer, {"name": contact}) if contact else None
        db.session.flush()
    return customer, person


def make_opportunity(owner: Membership, customer_id: int, title: str, **values):
    """An opportunity of `owner` on a customer, in the default pipeline's first stage (through the service)."""
    from crm.pipeline.services import OpportunityInput, create_opportunity

    with tenant_context(owner.tenant_id, user_id=owner.user_id):
        opp = create_opportunity(owner, OpportunityInput(values={"customer_id": customer_id, "title": title, **values}))
        db.session.flush()
    return opp


# ---------------------------------------------------------------- whole workspaces

ROLE_ORDER = ("owner", "admin", "sales_manager", "sales", "finance")

NAMES = {
    "a": {"owner": "王建国", "admin": "李秀英", "sales_manager": "张伟", "sales": "刘洋", "finance": "陈静"},
    "b": {
        "owner": "Bob Owner",
        "admin": "Betty Admin",
        "sales_manager": "Bill Manager",
        "sales": "Ben Sales",
        "finance": "Bea Finance",
    },
}


def build_workspace(slug: str, name: str, key: str) -> TenantInfo:
    """A workspace with one member per role; the sales rep reports to the sales manager."""
    tenant = make_tenant(slug, name)
    names = NAMES.get(key) or {r: f"{key.upper()} {r}" for r in ROLE_ORDER}
    members: dict[str, Membership] = {}
    for role in ROLE_ORDER:
        user = make_user(f"{role}@{slug}.example.com", names[role])
        boss = members.get("sales_manager") if role == "sales" else None
        members[role] = make_member(tenant, user, [role], reports_to=boss)
    return TenantInfo(
        id=tenant.id, slug=tenant.slug, name=tenant.name, members={r: info(m, slug) for r, m in members.items()}
    )


def add_member(tenant: TenantInfo, role: str, email: str, name: str, reports_to: int | None = None, **kw) -> MemberInfo:
    """One more member in an existing workspace (by TenantInfo)."""
    user = make_user(email, name)
    member = make_member(tenant.id, user, [role], reports_to=reports_to, **kw)
    return info(member, tenant.slug)


def member_row(member: MemberInfo) -> Membership:
    """The Membership row behind a MemberInfo (call inside tenant_context(member.tenant_id))."""
    from crm.scoping import get_in_tenant

    row = get_in_tenant(Membership, member.id)
    assert row is not None
    return row
