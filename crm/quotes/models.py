"""Sales → Quotes (报价单): numbered per workspace, versioned on re-issue, lines with VAT."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.catalog.models import PricedLineColumns
from crm.db import Model, Money, Timestamps, UTCDateTime
from crm.pipeline.models import Opportunity
from crm.sales.models import Customer
from tenants.models import Membership, TenantScoped

STATUSES = ("draft", "sent", "accepted", "rejected", "expired", "superseded")
STATUS_LABELS = {
    "draft": _l("Draft"),
    "sent": _l("Sent"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
    "expired": _l("Expired"),
    "superseded": _l("Superseded"),
}
STATUS_BADGES = {
    "draft": "secondary", "sent": "primary", "accepted": "success", "rejected": "danger",
    "expired": "warning", "superseded": "light",
}  # fmt: skip


class Quote(TenantScoped, Timestamps, Model):
    __tablename__ = "quotes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", "version"),
        Index("ix_quotes_tenant_customer", "tenant_id", "customer_id"),
        Index("ix_quotes_tenant_status", "tenant_id", "status"),
        Index("ix_quotes_tenant_opportunity", "tenant_id", "opportunity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), nullable=False)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="draft", nullable=False)
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    issue_date: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date | None] = mapped_column(Date)
    terms: Mapped[str | None] = mapped_column(Text)
    total_excl: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    total_tax: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    total_incl: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id", ondelete="SET NULL"))
    # The opportunity this quote prices (won deal → quote → contract → order keep their links).
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id", ondelete="SET NULL"))

    customer: Mapped[Customer] = relationship()
    created_by: Mapped[Membership | None] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()
    lines: Mapped[list[QuoteLine]] = relationship(
        back_populates="quote", cascade="all, delete-orphan", order_by="QuoteLine.position"
    )

    @property
    def display_number(self) -> str:
        return self.number if self.version == 1 else f"{self.number}-v{self.version}"

    @property
    def editable(self) -> bool:
        return self.status == "draft"


class QuoteLine(PricedLineColumns, TenantScoped, Model):
    __tablename__ = "quote_lines"
    __table_args__ = (Index("ix_quote_lines_tenant_quote", "tenant_id", "quote_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), nullable=False)

    quote: Mapped[Quote] = relationship(back_populates="lines")
