"""Sales → Orders (订单): from a contract, from a quote or by hand; lines with VAT like a quote's;
delivery status. Orders are what the sales ledger and finance's receivables are built from, so
an order keeps its own copy of region and rep (as they were when it was taken)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.catalog.models import PricedLineColumns, Scaled
from crm.contracts.models import Contract
from crm.db import Model, Money, Timestamps
from crm.quotes.models import Quote
from crm.sales.models import Customer
from tenants.models import Membership, TenantScoped

DELIVERY_STATUSES = ("pending", "partial", "delivered", "cancelled")
DELIVERY_LABELS = {
    "pending": _l("Pending"),
    "partial": _l("Partly delivered"),
    "delivered": _l("Delivered"),
    "cancelled": _l("Cancelled"),
}
DELIVERY_BADGES = {"pending": "secondary", "partial": "warning", "delivered": "success", "cancelled": "danger"}


class Order(TenantScoped, Timestamps, Model):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_orders_tenant_customer", "tenant_id", "customer_id"),
        Index("ix_orders_tenant_date", "tenant_id", "order_date"),
        Index("ix_orders_tenant_owner", "tenant_id", "owner_id"),
        Index("ix_orders_tenant_contract", "tenant_id", "contract_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), nullable=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id", ondelete="SET NULL"))
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))  # the rep
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    order_date: Mapped[date] = mapped_column(Date, nullable=False)
    province: Mapped[str | None] = mapped_column(String(30))
    city: Mapped[str | None] = mapped_column(String(30))
    delivery_status: Mapped[str] = mapped_column(String(12), default="pending", nullable=False)
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    total_excl: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    total_tax: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    total_incl: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)

    customer: Mapped[Customer] = relationship()
    contract: Mapped[Contract | None] = relationship()
    quote: Mapped[Quote | None] = relationship()
    owner: Mapped[Membership | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[Membership | None] = relationship(foreign_keys=[created_by_id])
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.position"
    )

    @property
    def region(self) -> str:
        return " ".join(x for x in (self.province, self.city) if x)


class OrderLine(PricedLineColumns, TenantScoped, Model):
    __tablename__ = "order_lines"
    __table_args__ = (
        Index("ix_order_lines_tenant_order", "tenant_id", "order_id"),
        Index("ix_order_lines_tenant_product", "tenant_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    delivered_quantity: Mapped[Decimal] = mapped_column(Scaled(3), default=Decimal("0"), nullable=False)

    order: Mapped[Order] = relationship(back_populates="lines")
