"""Helpers for the announcement tests: arrange through the real services, read back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from crm.announcements import services
from crm.announcements.models import Announcement, AnnouncementRead
from crm.db import db, utcnow
from crm.notifications.models import Notification
from tests import factories
from tests.factories import MemberInfo
from tests.helpers import in_tenant

TXT = b"holiday schedule\n"


def announcement(
    app: Flask,
    author: MemberInfo,
    title: str = "国庆放假通知",
    *,
    now: datetime | None = None,
    files: list[tuple[str, bytes]] | None = None,
    **data: Any,
) -> int:
    """An announcement written by `author` through the service (committed); returns its id."""
    data.setdefault("body", "十月一日至七日放假，**八日**上班。")
    with in_tenant(app, author.tenant_id, author.user_id):
        row = factories.member_row(author)
        ann = services.create(row, {"title": title, **data}, now or utcnow())
        for name, content in files or []:
            services.add_attachment(row, ann, name, content)
        db.session.commit()
        return ann.id


def shift(app: Flask, tenant_id: int, announcement_id: int, **values: Any) -> None:
    """Move an announcement's dates (e.g. publish_at into the past) as if time had passed."""
    with in_tenant(app, tenant_id):
        ann = db.session.get(Announcement, announcement_id)
        for key, value in values.items():
            setattr(ann, key, value)
        db.session.commit()


def publish_due(app: Flask, tenant_id: int, now: datetime | None = None) -> int:
    with in_tenant(app, tenant_id):
        n = services.publish_due(now or utcnow())
        db.session.commit()
        return n


def notes(app: Flask, member: MemberInfo, kind: str) -> list[str]:
    """Titles of the member's notifications of one kind."""
    with in_tenant(app, member.tenant_id):
        return list(
            db.session.scalars(
                select(Notification.title)
                .where(Notification.recipient_id == member.id, Notification.kind == kind)
                .order_by(Notification.id)
            )
        )


def copy_of(app: Flask, member: MemberInfo, announcement_id: int) -> AnnouncementRead | None:
    with in_tenant(app, member.tenant_id):
        row = db.session.scalars(
            select(AnnouncementRead).where(
                AnnouncementRead.announcement_id == announcement_id, AnnouncementRead.member_id == member.id
            )
        ).one_or_none()
        if row is not None:
            db.session.expunge(row)
        return row


def add_announcement_objects(app: Flask, world: Any) -> None:
    """For each workspace of a World: a published announcement for everyone by the owner, with a
    text attachment (no acknowledgement needed, so no page is stopped). Sets announcement_id."""
    world.announcement_id = {}
    for key, t in world.tenants.items():
        world.announcement_id[key] = announcement(
            app, t["owner"], f"{t.slug} 公告", files=[("schedule.txt", TXT)], now=utcnow() - timedelta(seconds=1)
        )


def published_title(app: Flask, title: str, locale: str = "zh_Hans_CN") -> str:
    """The notification title a member reading `locale` gets when an announcement is published."""
    from tests.helpers import translated

    return translated(app, "Announcement: %(title)s", locale) % {"title": title}
