"""Sales → Products: what a workspace sells, with its list price and VAT rate."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, types
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from crm.db import Model, Money, Timestamps
from tenants.models import TenantScoped

# VAT rates (reference/README.md): general taxpayers 13/9/6/0 %, small-scale 3 % and 1 %.
VAT_RATES = (Decimal("0.13"), Decimal("0.09"), Decimal("0.06"), Decimal("0.03"), Decimal("0.01"), Decimal("0.00"))


class Scaled(types.TypeDecorator[Decimal]):
    """An exact decimal with a fixed number of places, stored as a scaled integer (like Money):
    SQLite's NUMERIC would go through float. Rates use 2 places (0.13), quantities 3."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int = 2) -> None:
        super().__init__()
        self.places = places
        self.quantum = Decimal(1).scaleb(-places)

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("never a float")
        return int(Decimal(value).quantize(self.quantum, rounding=ROUND_HALF_UP).scaleb(self.places))

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.places).quantize(self.quantum)


class Product(TenantScoped, Timestamps, Model):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        Index("ix_products_tenant_category", "tenant_id", "category"),
        Index("ix_products_tenant_name", "tenant_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    specification: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(20))
    list_price: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    vat_rate: Mapped[Decimal] = mapped_column(Scaled(2), nullable=False, default=Decimal("0.13"))
    category: Mapped[str | None] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class PricedLineColumns:
    """The columns of every priced document line (quote lines, order lines): the product it may
    name, what was typed, and what crm.catalog.pricing worked out. One declaration, so the two
    documents cannot drift apart (an order copies a quote's lines field by field)."""

    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    description: Mapped[str] = mapped_column(String(200), nullable=False)
    specification: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(20))
    quantity: Mapped[Decimal] = mapped_column(Scaled(3), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    discount_pct: Mapped[Decimal] = mapped_column(Scaled(2), default=Decimal("0"), nullable=False)
    tax_rate: Mapped[Decimal] = mapped_column(Scaled(2), nullable=False)
    amount_excl: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    tax: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    amount_incl: Mapped[Decimal] = mapped_column(Money(), nullable=False)

    @declared_attr
    def product_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("products.id", ondelete="SET NULL"))

    @declared_attr
    def product(cls) -> Mapped[Product | None]:
        return relationship(Product)
