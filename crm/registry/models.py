from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Model, Timestamps
from tenants.models import TenantScoped
from tenants.search_sql import trigram_index


class RegistryEntry(TenantScoped, Timestamps, Model):
    """A business-registration record (工商信息) the workspace imported, for look-ups."""

    __tablename__ = "registry_entries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "uscc"),
        Index("ix_registry_entries_tenant_name", "tenant_id", "name"),
        trigram_index("ix_registry_entries_name_trgm", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    uscc: Mapped[str] = mapped_column(String(18), nullable=False)
    legal_representative: Mapped[str | None] = mapped_column(String(60))
    registered_capital: Mapped[str | None] = mapped_column(String(60))
    established_on: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str | None] = mapped_column(String(30))
