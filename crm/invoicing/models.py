"""Finance → receivables and payables: suppliers, customer invoices (应收单) and supplier bills (应付单).

Invoices and bills are one table told apart by ``direction`` ("receivable" | "payable"): they
share lines, VAT, posting, settlement and aging, and differ only in the party and the accounts
they post to. ``open_amount`` is kept by crm.settlement (total − active settlements), so lists
and aging read it without summing.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.books.models import Account, Department, JournalEntry
from crm.catalog.models import PricedLineColumns
from crm.contracts.models import Contract
from crm.db import Model, Money, Timestamps, UTCDateTime
from crm.orders.models import Order
from crm.sales.models import Customer
from tenants.models import Membership, TenantScoped

DIRECTIONS = ("receivable", "payable")
# draft → posted (open) → paid when nothing is open; cancelled only as a draft.
# A posted document is corrected by reversing it (status "reversed"), never edited.
STATUSES = ("draft", "posted", "paid", "reversed", "cancelled")
STATUS_LABELS = {
    "draft": _l("Draft"),
    "posted": _l("Open"),
    "paid": _l("Settled"),
    "reversed": _l("Reversed"),
    "cancelled": _l("Cancelled"),
}
STATUS_BADGES = {
    "draft": "secondary", "posted": "warning", "paid": "success", "reversed": "light", "cancelled": "danger",
}  # fmt: skip
VAT_RATES = ("0.13", "0.09", "0.06", "0.03", "0.01", "0.00")


class Supplier(TenantScoped, Timestamps, Model):
    __tablename__ = "suppliers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "uscc"),
        Index("ix_suppliers_tenant_name", "tenant_id", "name"),
        Index("ix_suppliers_tenant_customer", "tenant_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    uscc: Mapped[str | None] = mapped_column(String(18))
    contact_name: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(255))
    bank_name: Mapped[str | None] = mapped_column(String(120))
    bank_account: Mapped[str | None] = mapped_column(String(60))
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30, nullable=False)
    # When the supplier is also a customer (应收冲应付 needs to know they are one party).
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    notes: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    customer: Mapped[Customer | None] = relationship()


class Invoice(TenantScoped, Timestamps, Model):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_invoices_tenant_direction_status_due", "tenant_id", "direction", "status", "due_date"),
        Index("ix_invoices_tenant_customer", "tenant_id", "customer_id"),
        Index("ix_invoices_tenant_supplier", "tenant_id", "supplier_id"),
        Index("ix_invoices_tenant_order", "tenant_id", "order_id"),
        Index("ix_invoices_tenant_contract", "tenant_id", "contract_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(10), nullable=False)
    # Ours (AR-2026-0001 / AP-2026-0001), and for a bill the supplier's own invoice number.
    number: Mapped[str] = mapped_column(String(60), nullable=False)
    external_number: Mapped[str | None] = mapped_column(String(60))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id", ondelete="RESTRICT"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id", ondelete="SET NULL"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    invoice_date: Mapped[date] = mapped_column(Date, nullable=False)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="draft", nullable=False)
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    total_excl: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    total_tax: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    total_incl: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    # total_incl − Σ active settlements; kept by crm.settlement in the same transaction.
    open_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    memo: Mapped[str | None] = mapped_column(Text)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the posting is reversed (only possible with nothing settled): from that date the
    # document no longer counts as open.
    reversed_on: Mapped[date | None] = mapped_column(Date)
    reversal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))

    customer: Mapped[Customer | None] = relationship()
    supplier: Mapped[Supplier | None] = relationship()
    order: Mapped[Order | None] = relationship()
    contract: Mapped[Contract | None] = relationship()
    department: Mapped[Department | None] = relationship()
    entry: Mapped[JournalEntry | None] = relationship(foreign_keys=[entry_id])
    created_by: Mapped[Membership | None] = relationship(foreign_keys=[created_by_id])
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )

    @property
    def is_receivable(self) -> bool:
        return self.direction == "receivable"

    @property
    def party_name(self) -> str:
        party = self.customer if self.is_receivable else self.supplier
        return party.name if party is not None else ""


class InvoiceLine(PricedLineColumns, TenantScoped, Model):
    __tablename__ = "invoice_lines"
    __table_args__ = (Index("ix_invoice_lines_tenant_invoice", "tenant_id", "invoice_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False)
    # Revenue account for an invoice line, expense/inventory account for a bill line;
    # None means the workspace default (主营业务收入 / 管理费用).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id", ondelete="SET NULL"))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    account: Mapped[Account | None] = relationship()
