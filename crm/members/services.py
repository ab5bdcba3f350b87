"""Members and invitations: the rules (roles exist, a workspace keeps an active owner, no
reporting loops). Services take (actor, data), flush and audit; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from crm.audit.services import record
from crm.db import db, utcnow
from crm.mail import mail_configured, send_mail
from roles.catalogue import ROLES, unknown_roles
from roles.checks import PermissionDenied, ensure
from tenants.context import current_tenant
from tenants.identity import normalise_email
from tenants.models import Invitation, Membership
from tenants.services import create_invitation


class MemberRuleBroken(ValueError):
    """A change that would break a workspace rule; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class InvitationSent:
    invitation: Invitation
    link: str
    mailed: bool


def list_members(include_inactive: bool = True) -> list[Membership]:
    stmt = select(Membership).order_by(Membership.is_active.desc(), Membership.id)
    if not include_inactive:
        stmt = stmt.where(Membership.is_active.is_(True))
    return list(db.session.scalars(stmt))


def pending_invitations() -> list[Invitation]:
    rows = db.session.scalars(
        select(Invitation)
        .where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .order_by(Invitation.created_at.desc())
    )
    return [inv for inv in rows if inv.status == "pending"]


def _check_roles(roles: list[str], actor: Membership) -> list[str]:
    roles = [r for r in dict.fromkeys(roles) if r]
    if not roles:
        raise MemberRuleBroken("roles", _("Choose at least one role."))
    bad = unknown_roles(roles)
    if bad:
        raise MemberRuleBroken("roles", _("Unknown role: %(name)s", name=", ".join(bad)))
    if "owner" in roles and not actor.has_role("owner"):
        raise MemberRuleBroken("roles", _("Only an owner can make someone an owner."))
    return sorted(roles, key=lambda r: -ROLES[r].rank)


def _check_reports_to(member: Membership | None, reports_to_id: int | None) -> int | None:
    if not reports_to_id:
        return None
    boss = db.session.scalars(select(Membership).where(Membership.id == reports_to_id)).one_or_none()
    if boss is None:
        raise MemberRuleBroken("reports_to", _("That manager is not a member of this workspace."))
    if member is not None:
        seen: set[int] = set()
        node: Membership | None = boss
        while node is not None and node.id not in seen:
            if node.id == member.id:
                raise MemberRuleBroken("reports_to", _("That would make a reporting loop."))
            seen.add(node.id)
            node = node.reports_to
    return boss.id


def _active_owners() -> list[Membership]:
    return [m for m in list_members(include_inactive=False) if m.has_role("owner")]


def invite(actor: Membership, email: str, roles: list[str], reports_to_id: int | None = None) -> InvitationSent:
    ensure(actor, "members.manage")
    email = normalise_email(email)
    roles = _check_roles(roles, actor)
    reports_to_id = _check_reports_to(None, reports_to_id)
    for m in list_members():
        if m.user.email == email and m.is_active:
            raise MemberRuleBroken("email", _("%(email)s is already a member.", email=email))
    for old in pending_invitations():
        if old.email == email:
            old.revoked_at = utcnow()  # a new invitation replaces the old link
    inv, token = create_invitation(email, roles, actor, reports_to_id, current_app.config["INVITATION_TTL_HOURS"])
    link = url_for("accounts.invitation", token=token, _external=True)
    tenant = current_tenant
    subject = _("%(who)s invites you to %(workspace)s on Taizhang", who=actor.user.name, workspace=tenant.name)
    body = _(
        "%(who)s has invited you to the workspace %(workspace)s.\n\nAccept within %(hours)d hours:\n%(link)s",
        who=actor.user.name,
        workspace=tenant.name,
        hours=current_app.config["INVITATION_TTL_HOURS"],
        link=link,
    )
    mailed = send_mail(email, subject, body)
    record("invitation.created", inv, actor=actor, summary=email, changes={"roles": {"before": None, "after": roles}})
    return InvitationSent(inv, link, mailed and mail_configured())


def revoke_invitation(actor: Membership, inv: Invitation) -> None:
    ensure(actor, "members.manage")
    if inv.status != "pending":
        raise MemberRuleBroken("invitation", _("This invitation is no longer open."))
    inv.revoked_at = utcnow()
    record("invitation.revoked", inv, actor=actor, summary=inv.email)


def update_member(
    actor: Membership, member: Membership, roles: list[str], reports_to_id: int | None, title: str | None
) -> None:
    ensure(actor, "members.manage")
    roles = _check_roles(roles, actor)
    if member.has_role("owner") and "owner" not in roles:
        if not actor.has_role("owner"):
            raise MemberRuleBroken("roles", _("Only an owner can change an owner's roles."))
        if member.is_active and len(_active_owners()) <= 1:
            raise MemberRuleBroken("roles", _("A workspace needs at least one active owner."))
    before = {"roles": list(member.roles), "reports_to_id": member.reports_to_id, "title": member.title}
    member.roles = roles
    member.reports_to_id = _check_reports_to(member, reports_to_id)
    member.title = (title or "").strip() or None
    after = {"roles": roles, "reports_to_id": member.reports_to_id, "title": member.title}
    changes = {k: {"before": before[k], "after": after[k]} for k in before if before[k] != after[k]}
    if changes:
        action = "member.roles_changed" if "roles" in changes else "member.updated"
        record(action, member, actor=actor, summary=member.user.email, changes=changes)


def set_active(actor: Membership, member: Membership, active: bool) -> None:
    ensure(actor, "members.manage")
    if member.is_active == active:
        return
    if not active:
        if member.id == actor.id:
            raise MemberRuleBroken("member", _("You cannot deactivate yourself."))
        if member.has_role("owner"):
            if not actor.has_role("owner"):
                raise MemberRuleBroken("member", _("Only an owner can deactivate an owner."))
            if len(_active_owners()) <= 1:
                raise MemberRuleBroken("member", _("A workspace needs at least one active owner."))
    member.is_active = active
    member.deactivated_at = None if active else utcnow()
    record(
        "member.reactivated" if active else "member.deactivated",
        member,
        actor=actor,
        summary=member.user.email,
        changes={"is_active": {"before": not active, "after": active}},
    )


def transfer_ownership(actor: Membership, new_owner: Membership) -> None:
    """The new owner gains the owner role; the old one keeps admin. Never leaves zero owners."""
    if not actor.has_role("owner"):
        raise PermissionDenied("ownership.transfer")
    ensure(actor, "ownership.transfer")
    if new_owner.id == actor.id:
        raise MemberRuleBroken("member", _("You already own this workspace."))
    if not new_owner.is_active:
        raise MemberRuleBroken("member", _("Ownership can only go to an active member."))
    before_new, before_old = list(new_owner.roles), list(actor.roles)
    new_owner.roles = _check_roles([*new_owner.roles, "owner"], actor)
    actor.roles = _check_roles([r for r in actor.roles if r != "owner"] + ["admin"], actor)
    record(
        "ownership.transferred",
        new_owner,
        actor=actor,
        summary=f"{actor.user.email} → {new_owner.user.email}",
        changes={
            "new_owner_roles": {"before": before_new, "after": new_owner.roles},
            "old_owner_roles": {"before": before_old, "after": actor.roles},
        },
    )
