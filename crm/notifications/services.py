"""Sending and reading in-app notifications (and e-mail when mail is configured)."""

from __future__ import annotations

from sqlalchemy import func, select, update

from crm.db import db, utcnow
from crm.notifications.models import Notification
from tenants.models import Membership


def notify(
    recipient: Membership,
    kind: str,
    title: str,
    body: str | None = None,
    link: str | None = None,
    *,
    email: bool = False,
) -> Notification:
    note = Notification(recipient_id=recipient.id, kind=kind, title=title[:200], body=body, link=link)
    db.session.add(note)
    if email:
        from crm.mail import send_mail

        send_mail(recipient.user.email, title, (body or title) + (f"\n\n{link}" if link else ""))
    return note


def unread_count(member: Membership) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.recipient_id == member.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def recent(member: Membership, limit: int = 20) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.recipient_id == member.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(member: Membership, note_id: int | None = None) -> int:
    stmt = update(Notification).where(Notification.recipient_id == member.id, Notification.read_at.is_(None))
    if note_id is not None:
        stmt = stmt.where(Notification.id == note_id)
    result = db.session.execute(stmt.values(read_at=utcnow()))
    return result.rowcount or 0
