"""Pipeline: pipelines and their ordered stages, lost reasons, opportunities and their lines."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Model, Money, Timestamps, UTCDateTime, to_money, utcnow
from crm.sales.models import Customer
from tenants.models import Membership, TenantScoped

STAGE_KINDS = ("open", "won", "lost")


class Pipeline(TenantScoped, Timestamps, Model):
    __tablename__ = "pipelines"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    stages: Mapped[list[Stage]] = relationship(
        back_populates="pipeline", cascade="all, delete-orphan", order_by="Stage.position"
    )


class Stage(TenantScoped, Model):
    __tablename__ = "pipeline_stages"
    __table_args__ = (Index("ix_pipeline_stages_tenant_pipeline", "tenant_id", "pipeline_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    probability: Mapped[int] = mapped_column(Integer, default=0, nullable=False)  # percent, 0..100
    rot_days: Mapped[int | None] = mapped_column(Integer)  # None: never rots
    kind: Mapped[str] = mapped_column(String(8), default="open", nullable=False)  # open | won | lost

    pipeline: Mapped[Pipeline] = relationship(back_populates="stages")

    @property
    def is_final(self) -> bool:
        return self.kind != "open"


class LostReason(TenantScoped, Model):
    __tablename__ = "lost_reasons"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class Opportunity(TenantScoped, Timestamps, Model):
    __tablename__ = "opportunities"
    __table_args__ = (
        Index("ix_opportunities_tenant_pipeline_stage", "tenant_id", "pipeline_id", "stage_id"),
        Index("ix_opportunities_tenant_customer", "tenant_id", "customer_id"),
        Index("ix_opportunities_tenant_owner", "tenant_id", "owner_id"),
        Index("ix_opportunities_tenant_close", "tenant_id", "expected_close"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="RESTRICT"), nullable=False)
    stage_id: Mapped[int] = mapped_column(ForeignKey("pipeline_stages.id", ondelete="RESTRICT"), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    expected_close: Mapped[date | None] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    next_step: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(60))
    probability: Mapped[int] = mapped_column(Integer, default=0, nullable=False)  # the stage's, when entered
    lost_reason_id: Mapped[int | None] = mapped_column(ForeignKey("lost_reasons.id", ondelete="SET NULL"))
    competitor: Mapped[str | None] = mapped_column(String(100))
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[Customer] = relationship()
    pipeline: Mapped[Pipeline] = relationship()
    stage: Mapped[Stage] = relationship()
    owner: Mapped[Membership | None] = relationship(foreign_keys=[owner_id])
    lost_reason: Mapped[LostReason | None] = relationship()
    lines: Mapped[list[OpportunityLine]] = relationship(
        back_populates="opportunity", cascade="all, delete-orphan", order_by="OpportunityLine.id"
    )

    @property
    def weighted_amount(self) -> Decimal:
        return to_money(self.amount * self.probability / 100)  # half-up at the fen, like every amount


class OpportunityLine(TenantScoped, Model):
    __tablename__ = "opportunity_lines"
    __table_args__ = (Index("ix_opportunity_lines_tenant_opportunity", "tenant_id", "opportunity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id", ondelete="CASCADE"), nullable=False)
    # The product catalogue is built in parallel by another context; until it lands, a line
    # keeps the product's id without a foreign key (and its own description and price), so
    # this table does not depend on a migration that may not exist yet.
    product_id: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(200), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("1"), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)

    opportunity: Mapped[Opportunity] = relationship(back_populates="lines")

    @property
    def amount(self) -> Decimal:
        return to_money(self.quantity * self.unit_price)


class StageChange(TenantScoped, Model):
    """Every stage an opportunity entered: the funnel counts them; rot reads the latest."""

    __tablename__ = "opportunity_stage_changes"
    __table_args__ = (Index("ix_opportunity_stage_changes_tenant_opp", "tenant_id", "opportunity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id", ondelete="CASCADE"), nullable=False)
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("pipeline_stages.id", ondelete="SET NULL"))
    to_stage_id: Mapped[int] = mapped_column(ForeignKey("pipeline_stages.id", ondelete="CASCADE"), nullable=False)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
