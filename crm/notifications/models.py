from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Model, UTCDateTime, utcnow
from tenants.models import TenantScoped


class Notification(TenantScoped, Model):
    """An in-app notification for one member; later issues send through crm.notifications.services."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_tenant_recipient_unread", "tenant_id", "recipient_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str | None] = mapped_column(Text)
    # A path inside the workspace ("/w/<slug>/..."), so the bell can link to the object.
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
