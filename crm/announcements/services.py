"""Announcements: writing them, who they are for, reading, acknowledging, receipts, publishing.

An announcement is *published* once its publish_at has passed (or it has none) and *live* until
its expires_at. Its audience is every active member holding one of its audience_roles (none:
everyone). Publication notifies the audience once — at save time for an immediate one, or by
``publish_due(now)`` (run every few minutes by the scheduler) for a scheduled one.
Services take the actor, check the permission, flush and audit; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, cast, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from crm.announcements.models import CATEGORIES, Announcement, AnnouncementRead
from crm.attachments import services as attachments
from crm.audit.services import record
from crm.db import db
from crm.markdown import plain_text
from crm.notifications.services import notify
from crm.sales.services import InvalidInput
from roles.catalogue import ROLE_NAMES
from roles.checks import can, ensure
from tenants.models import Membership, Tenant

MANAGE = "announcements.manage"
MAX_BODY = 50_000


# ---------------------------------------------------------------- who sees what


def audience_clause(member: Membership) -> ColumnElement[bool]:
    """SQL: the announcement is for this member (no audience, or one of their roles).

    The JSON list is matched as text ('["sales", "finance"]' contains '"sales"'), the same on
    SQLite and PostgreSQL; role names come from the catalogue, so they hold no quotes.
    """
    as_text = cast(Announcement.audience_roles, String)
    terms: list[ColumnElement[bool]] = [as_text == "[]"]
    for role in member.roles or []:
        if role in ROLE_NAMES:
            terms.append(as_text.contains(f'"{role}"', autoescape=True))
    return or_(*terms)


def live_clause(now: datetime) -> ColumnElement[bool]:
    """SQL: published (publish_at passed or none) and not expired."""
    return and_(
        or_(Announcement.publish_at.is_(None), Announcement.publish_at <= now),
        or_(Announcement.expires_at.is_(None), Announcement.expires_at > now),
    )


def _mine(member: Membership) -> Any:
    return and_(AnnouncementRead.announcement_id == Announcement.id, AnnouncementRead.member_id == member.id)


@dataclass
class FeedItem:
    announcement: Announcement
    read_at: datetime | None
    acknowledged_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


def _newest_first() -> list[Any]:
    published = func.coalesce(Announcement.publish_at, Announcement.created_at)
    return [Announcement.pinned.desc(), published.desc(), Announcement.id.desc()]


def feed(
    member: Membership, now: datetime, category: str | None = None, limit: int = 200, manage_all: bool = False
) -> list[FeedItem]:
    """The member's announcements, pinned first then newest, with their own read marks (one query).

    ``manage_all`` (managers): every announcement, scheduled and expired ones included."""
    stmt = select(Announcement, AnnouncementRead.read_at, AnnouncementRead.acknowledged_at).outerjoin(
        AnnouncementRead, _mine(member)
    )
    if not (manage_all and can(member, MANAGE)):
        stmt = stmt.where(live_clause(now), audience_clause(member))
    if category in CATEGORIES:
        stmt = stmt.where(Announcement.category == category)
    rows = db.session.execute(stmt.order_by(*_newest_first()).limit(limit))
    return [FeedItem(a, read_at, ack_at) for a, read_at, ack_at in rows]


def unread_count(member: Membership, now: datetime) -> int:
    stmt = (
        select(func.count(Announcement.id))
        .outerjoin(AnnouncementRead, _mine(member))
        .where(live_clause(now), audience_clause(member), AnnouncementRead.read_at.is_(None))
    )
    return db.session.scalar(stmt) or 0


def can_read(member: Membership, ann: Announcement, now: datetime) -> bool:
    if not can(member, "office.access"):
        return False
    if can(member, MANAGE):
        return True
    return ann.is_published(now) and ann.is_for(member)


def pending_ack_id(member: Membership, now: datetime) -> int | None:
    """The oldest live announcement for this member still waiting for their acknowledgement
    (one small statement: LIMIT 1 over the announcements that require one)."""
    stmt = (
        select(Announcement.id)
        .where(
            Announcement.requires_ack.is_(True),
            live_clause(now),
            audience_clause(member),
            ~exists().where(_mine(member), AnnouncementRead.acknowledged_at.is_not(None)),
        )
        .order_by(func.coalesce(Announcement.publish_at, Announcement.created_at), Announcement.id)
        .limit(1)
    )
    return db.session.scalar(stmt)


def audience_members(ann: Announcement) -> list[Membership]:
    """Active members the announcement is for (one query; roles are matched in Python)."""
    rows = db.session.scalars(select(Membership).where(Membership.is_active.is_(True)).order_by(Membership.id))
    return [m for m in rows if ann.is_for(m)]


# ---------------------------------------------------------------- reading


def _copy(ann: Announcement, member: Membership) -> AnnouncementRead:
    row = db.session.scalars(
        select(AnnouncementRead).where(
            AnnouncementRead.announcement_id == ann.id, AnnouncementRead.member_id == member.id
        )
    ).one_or_none()
    if row is None:
        row = AnnouncementRead(announcement_id=ann.id, member_id=member.id)
        db.session.add(row)
    return row


def mark_read(member: Membership, ann: Announcement, now: datetime) -> AnnouncementRead | None:
    """Opening an announcement that is for the member marks it read (managers previewing one
    that is not for them leave no mark)."""
    if not (ann.is_published(now) and ann.is_for(member)):
        return None
    row = _copy(ann, member)
    if row.read_at is None:
        row.read_at = now
        db.session.flush()
    return row


def acknowledge(member: Membership, ann: Announcement, now: datetime) -> AnnouncementRead:
    if not (ann.requires_ack and ann.is_published(now) and ann.is_for(member)):
        raise InvalidInput({"announcement": _("This announcement does not ask you for an acknowledgement.")})
    row = _copy(ann, member)
    row.read_at = row.read_at or now
    if row.acknowledged_at is None:
        row.acknowledged_at = now
        db.session.flush()
        record("announcement.acknowledged", ann, actor=member, summary=ann.title)
    return row


# ---------------------------------------------------------------- writing


def _check(data: dict[str, Any], current: Announcement | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if "title" in data or current is None:
        title = (data.get("title") or "").strip()
        if not title:
            errors["title"] = _("Give the announcement a title.")
        elif len(title) > 200:
            errors["title"] = _("At most 200 characters.")
        out["title"] = title
    if "category" in data or current is None:
        category = data.get("category") or "general"
        if category not in CATEGORIES:
            errors["category"] = _("Choose one of the categories.")
        out["category"] = category
    if "body" in data or current is None:
        body = data.get("body") or ""
        if len(body) > MAX_BODY:
            errors["body"] = _("At most %(n)d characters.", n=MAX_BODY)
        out["body"] = body
    if "audience_roles" in data:
        roles = list(dict.fromkeys(data.get("audience_roles") or []))
        if any(r not in ROLE_NAMES for r in roles):
            errors["audience_roles"] = _("Choose roles of this workspace.")
        out["audience_roles"] = roles
    for key in ("pinned", "requires_ack"):
        if key in data:
            out[key] = bool(data[key])
    for key in ("publish_at", "expires_at"):
        if key in data:
            value = data[key]
            if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                errors[key] = _("Not a valid date and time.")
            out[key] = value
    publish_at = out.get("publish_at", current.publish_at if current else None)
    expires_at = out.get("expires_at", current.expires_at if current else None)
    if "expires_at" not in errors and publish_at and expires_at and expires_at <= publish_at:
        errors["expires_at"] = _("The announcement must expire after it is published.")
    if errors:
        raise InvalidInput(errors)
    return out


def create(actor: Membership, data: dict[str, Any], now: datetime) -> Announcement:
    ensure(actor, MANAGE)
    values = _check(data, None)
    ann = Announcement(author_id=actor.id, **{"audience_roles": [], **values})
    db.session.add(ann)
    db.session.flush()
    record("announcement.created", ann, actor=actor, summary=ann.title)
    deliver(ann, now)
    return ann


def update(actor: Membership, ann: Announcement, data: dict[str, Any], now: datetime) -> Announcement:
    ensure(actor, MANAGE)
    values = _check(data, ann)
    changes = {}
    for key, value in values.items():
        old = getattr(ann, key)
        if old != value:
            changes[key] = [str(old) if isinstance(old, datetime) else old,
                            str(value) if isinstance(value, datetime) else value]  # fmt: skip
            setattr(ann, key, value)
    db.session.flush()
    if changes:
        record("announcement.updated", ann, actor=actor, summary=ann.title, changes=changes)
    deliver(ann, now)
    return ann


def delete(actor: Membership, ann: Announcement) -> None:
    ensure(actor, MANAGE)
    attachments.delete_for(actor, "announcement", ann.id)
    record("announcement.deleted", ann, actor=actor, summary=ann.title)
    db.session.delete(ann)
    db.session.flush()


def add_attachment(actor: Membership, ann: Announcement, filename: str, data: bytes) -> Any:
    ensure(actor, MANAGE)
    return attachments.add(actor, "announcement", ann.id, filename, data)


# ---------------------------------------------------------------- publishing and reminders


def link_of(ann: Announcement, slug: str) -> str:
    return f"/w/{slug}/office/announcements/{ann.id}"


def deliver(ann: Announcement, now: datetime) -> int:
    """Notify the audience that the announcement is out — once, and only once it is live."""
    if ann.notified_at is not None or not ann.is_published(now):
        return 0
    ann.notified_at = now
    tenant = db.session.get(Tenant, ann.tenant_id)
    assert tenant is not None
    sent = 0
    for m in audience_members(ann):
        if m.id == ann.author_id:
            continue
        notify(m, "announcement.published", _l("Announcement: %(title)s", title=ann.title),
               plain_text(ann.body, 200) or None, link=link_of(ann, tenant.slug))  # fmt: skip
        sent += 1
    db.session.flush()
    record("announcement.published", ann, summary=ann.title, changes={"notified": sent})
    return sent


def publish_due(now: datetime) -> int:
    """Scheduled announcements whose time has come (current tenant): notify their audience.
    Returns how many announcements were published. Run by the scheduler every few minutes."""
    due = list(
        db.session.scalars(
            select(Announcement).where(Announcement.notified_at.is_(None), live_clause(now)).order_by(Announcement.id)
        )
    )
    for ann in due:
        deliver(ann, now)
    return len(due)


@dataclass
class Receipts:
    read: list[tuple[Membership, AnnouncementRead]]
    unread: list[tuple[Membership, AnnouncementRead | None]]


def receipts(actor: Membership, ann: Announcement) -> Receipts:
    ensure(actor, MANAGE)
    copies = {
        r.member_id: r
        for r in db.session.scalars(select(AnnouncementRead).where(AnnouncementRead.announcement_id == ann.id))
    }
    out = Receipts([], [])
    for m in audience_members(ann):
        row = copies.get(m.id)
        if row is not None and row.read_at is not None:
            out.read.append((m, row))
        else:
            out.unread.append((m, row))
    out.read.sort(key=lambda pair: pair[1].read_at or ann.created_at)
    return out


def remind(actor: Membership, ann: Announcement, now: datetime) -> int:
    """Notify every audience member who has not read it yet; returns how many."""
    ensure(actor, MANAGE)
    if not ann.is_published(now):
        raise InvalidInput({"announcement": _("Only a published announcement can be reminded of.")})
    tenant = db.session.get(Tenant, ann.tenant_id)
    assert tenant is not None
    pending = receipts(actor, ann).unread
    for m, row in pending:
        if row is None:
            row = AnnouncementRead(announcement_id=ann.id, member_id=m.id)
            db.session.add(row)
        row.reminded_at = now
        notify(m, "announcement.reminder", _l("Reminder: please read “%(title)s”", title=ann.title),
               link=link_of(ann, tenant.slug))  # fmt: skip
    db.session.flush()
    record("announcement.reminded", ann, actor=actor, summary=ann.title, changes={"reminded": len(pending)})
    return len(pending)


def readable_attachment_owner(member: Membership, owner_id: int) -> bool:
    """Attachments of an announcement: its audience once it is published, and managers."""
    from crm.db import utcnow

    ann = db.session.scalars(select(Announcement).where(Announcement.id == owner_id)).one_or_none()
    return ann is not None and can_read(member, ann, utcnow())


attachments.register_owner("announcement", readable_attachment_owner)
