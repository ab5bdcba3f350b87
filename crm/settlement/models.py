"""Finance → money in and out, and settling it: receipts (收款) and payments (付款) through a bank
or cash account, and settlements — allocations of a receipt/payment to invoices/bills, offsets of
a party's receivable against its payable (应收冲应付), and write-offs (冲销/核销).

Unallocated money is a customer credit (预收账款) or a supplier prepayment (预付账款): posting a
receipt credits 预收; an allocation moves it to the invoice (Dr 预收 / Cr 应收). So 应收账款 always
equals the open invoices, and 预收 the money not yet allocated.

A settlement is undone by a reversal entry and ``undone_on``; the row stays. Residuals as of a
date count the settlements dated on or before it and not undone by then.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.books.models import Account, JournalEntry
from crm.db import Model, Money, Timestamps, UTCDateTime
from crm.invoicing.models import Invoice, Supplier
from crm.sales.models import Customer
from tenants.models import Membership, TenantScoped

PAYMENT_DIRECTIONS = ("in", "out")  # in = receipt (收款), out = payment (付款)
PAYMENT_STATUSES = ("draft", "posted", "reversed")
PAYMENT_STATUS_LABELS = {"draft": _l("Draft"), "posted": _l("Posted"), "reversed": _l("Reversed")}
SETTLEMENT_KINDS = ("allocation", "offset", "write_off")
SETTLEMENT_KIND_LABELS = {"allocation": _l("Allocation"), "offset": _l("Offset"), "write_off": _l("Write-off")}


class Payment(TenantScoped, Timestamps, Model):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_payments_tenant_direction_date", "tenant_id", "direction", "payment_date"),
        Index("ix_payments_tenant_customer", "tenant_id", "customer_id"),
        Index("ix_payments_tenant_supplier", "tenant_id", "supplier_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), nullable=False)
    number: Mapped[str] = mapped_column(String(60), nullable=False)  # SK-2026-0001 / FK-2026-0001
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id", ondelete="RESTRICT"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False)
    payment_date: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    # amount − Σ active allocations; kept by crm.settlement in the same transaction.
    unallocated: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(100))  # bank slip / transaction number
    memo: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="draft", nullable=False)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    # Reversing a receipt/payment (only with nothing allocated) dates it out of the books here.
    reversed_on: Mapped[date | None] = mapped_column(Date)
    reversal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))

    customer: Mapped[Customer | None] = relationship()
    supplier: Mapped[Supplier | None] = relationship()
    account: Mapped[Account] = relationship()
    entry: Mapped[JournalEntry | None] = relationship(foreign_keys=[entry_id])
    created_by: Mapped[Membership | None] = relationship(foreign_keys=[created_by_id])

    @property
    def is_receipt(self) -> bool:
        return self.direction == "in"

    @property
    def party_name(self) -> str:
        party = self.customer if self.is_receipt else self.supplier
        return party.name if party is not None else ""


class Settlement(TenantScoped, Model):
    """allocation: payment_id + invoice_id (an invoice for a receipt, a bill for a payment);
    offset: invoice_id (the receivable) + bill_id (the payable); write_off: invoice_id (either
    direction) + account_id + reason. ``amount`` is positive and reduces each document named."""

    __tablename__ = "settlements"
    __table_args__ = (
        Index("ix_settlements_tenant_invoice", "tenant_id", "invoice_id"),
        Index("ix_settlements_tenant_bill", "tenant_id", "bill_id"),
        Index("ix_settlements_tenant_payment", "tenant_id", "payment_id"),
        Index("ix_settlements_tenant_date", "tenant_id", "settled_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    settled_on: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(255))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # Undo: a reversal entry dated undone_on; the settlement no longer counts from that date.
    undone_on: Mapped[date | None] = mapped_column(Date)
    undo_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    undo_reason: Mapped[str | None] = mapped_column(String(255))

    payment: Mapped[Payment | None] = relationship()
    invoice: Mapped[Invoice | None] = relationship(foreign_keys=[invoice_id])
    bill: Mapped[Invoice | None] = relationship(foreign_keys=[bill_id])
    account: Mapped[Account | None] = relationship()
    entry: Mapped[JournalEntry | None] = relationship(foreign_keys=[entry_id])
    undo_entry: Mapped[JournalEntry | None] = relationship(foreign_keys=[undo_entry_id])

    @property
    def is_active(self) -> bool:
        return self.undone_on is None
