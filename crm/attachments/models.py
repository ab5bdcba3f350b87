"""An attachment: a checked file stored per tenant, owned by one record (owner_type + owner_id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Model, UTCDateTime, utcnow
from tenants.models import TenantScoped


class Attachment(TenantScoped, Model):
    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_tenant_owner", "tenant_id", "owner_type", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The owning record; who may download is decided by that record's visibility
    # (crm.attachments.services.register_owner).
    owner_type: Mapped[str] = mapped_column(String(40), nullable=False)
    owner_id: Mapped[int] = mapped_column(Integer, nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    mimetype: Mapped[str] = mapped_column(String(120), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
