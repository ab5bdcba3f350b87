"""Announcements and who has read (and acknowledged) them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Model, Timestamps, UTCDateTime
from tenants.models import Membership, TenantScoped

CATEGORIES = ("general", "policy", "event", "holiday", "system")


class Announcement(TenantScoped, Timestamps, Model):
    __tablename__ = "announcements"
    __table_args__ = (
        Index("ix_announcements_tenant_publish", "tenant_id", "publish_at"),
        Index("ix_announcements_tenant_ack", "tenant_id", "requires_ack"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str] = mapped_column(String(20), default="general", nullable=False)
    body: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # Role names the announcement is for; empty means everyone in the workspace.
    audience_roles: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # None: published as soon as it is saved.
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    requires_ack: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    # When the audience was notified of its publication (once; see services.publish_due).
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    author: Mapped[Membership | None] = relationship()

    def is_published(self, now: datetime) -> bool:
        return (self.publish_at is None or self.publish_at <= now) and not self.is_expired(now)

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def is_for(self, member: Membership) -> bool:
        return not self.audience_roles or any(r in self.audience_roles for r in member.roles or [])


class AnnouncementRead(TenantScoped, Model):
    """One member's copy of an announcement: when read, acknowledged, last reminded."""

    __tablename__ = "announcement_reads"
    __table_args__ = (
        UniqueConstraint("tenant_id", "announcement_id", "member_id"),
        Index("ix_announcement_reads_tenant_member", "tenant_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"), nullable=False)
    member_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    member: Mapped[Membership] = relationship()
