from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Model, UTCDateTime, utcnow
from tenants.models import Membership, TenantScoped, User


class AuditEntry(TenantScoped, Model):
    """Who did what to which object, and when — with before/after of the changed fields."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_tenant_time", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    # The person (kept even when their membership is gone) and the membership acting.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    object_type: Mapped[str] = mapped_column(String(60), nullable=False)
    object_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str | None] = mapped_column(String(255))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User | None] = relationship()
    member: Mapped[Membership | None] = relationship()
