"""Sales → Ledger (销售台账): the ledger itself is a view of order lines (crm.orders); what it
keeps of its own is the saved views of it and the reps' targets (业绩目标)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Model, Money, Timestamps
from tenants.models import Membership, TenantScoped


class LedgerView(TenantScoped, Timestamps, Model):
    """A named set of ledger filters (and the summary's layout): its owner's, or shared with the
    whole sales team when a manager shares it."""

    __tablename__ = "ledger_views"
    __table_args__ = (
        UniqueConstraint("tenant_id", "owner_id", "name"),
        Index("ix_ledger_views_tenant_shared", "tenant_id", "shared"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    shared: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)

    owner: Mapped[Membership] = relationship(foreign_keys=[owner_id])


class SalesTarget(TenantScoped, Timestamps, Model):
    """A rep's target (业绩目标) for a month ("2026-03") or a quarter ("2026-Q1"), in sales
    excluding tax."""

    __tablename__ = "sales_targets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "member_id", "period"),
        Index("ix_sales_targets_tenant_period", "tenant_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), nullable=False)
    period: Mapped[str] = mapped_column(String(7), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))

    member: Mapped[Membership] = relationship(foreign_keys=[member_id])
