"""Finance → the books: chart of accounts, departments, fiscal periods, journal entries (记账凭证).

A posted entry is never edited or deleted: a reversal corrects it (both stay, linked both ways).
Lines copy their entry's date and posted flag so the reports aggregate lines alone, with one
index, without joining entries (safe because posted entries never change).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Model, Money, Timestamps, UTCDateTime
from tenants.models import Membership, TenantScoped

ACCOUNT_TYPES = ("asset", "liability", "equity", "cost", "revenue", "expense")
ACCOUNT_TYPE_LABELS = {
    "asset": _l("Asset"),
    "liability": _l("Liability"),
    "equity": _l("Equity"),
    "cost": _l("Cost"),
    "revenue": _l("Revenue"),
    "expense": _l("Expense"),
}
# Which types period close carries to 本年利润 (profit and loss); 成本类 (production cost,
# overhead) is work in progress and stays on the balance sheet.
PROFIT_AND_LOSS_TYPES = ("revenue", "expense")

STANDARDS = ("small", "cas")
STANDARD_LABELS = {"small": _l("Accounting Standards for Small Enterprises (小企业会计准则)"),
                   "cas": _l("Accounting Standards for Business Enterprises (企业会计准则)")}  # fmt: skip

PARTY_TYPES = ("customer", "supplier", "employee")
PARTY_LABELS = {"customer": _l("Customer"), "supplier": lazy_pgettext("party", "Supplier"), "employee": _l("Employee")}

ENTRY_STATUSES = ("draft", "posted")
ENTRY_STATUS_LABELS = {"draft": _l("Draft"), "posted": _l("Posted")}
# What made an entry; "manual" is typed by a person, the others by the service named.
ENTRY_KINDS = ("manual", "document", "settlement", "reversal", "closing")


class Account(TenantScoped, Timestamps, Model):
    """One account of the workspace's chart. ``role`` names the accounts the services post to
    by themselves (receivable, output VAT …), so a workspace may rename them freely."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        UniqueConstraint("tenant_id", "role"),
        Index("ix_accounts_tenant_parent", "tenant_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(100), nullable=False)
    name_en: Mapped[str] = mapped_column(String(100), nullable=False)
    type: Mapped[str] = mapped_column(String(10), nullable=False)
    normal_balance: Mapped[str] = mapped_column(String(6), nullable=False)  # debit | credit
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    role: Mapped[str | None] = mapped_column(String(30))
    # A bank or cash account receipts and payments can go through.
    is_cash: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    parent: Mapped[Account | None] = relationship(remote_side=[id])

    def label(self, locale: str | None = None) -> str:
        name = self.name_en if (locale or "").startswith("en") else self.name_zh
        return f"{self.code} {name}"


class Department(TenantScoped, Timestamps, Model):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class FiscalPeriod(TenantScoped, Model):
    """A month of the books. A row exists once the month has been closed at least once;
    a month without a row is open."""

    __tablename__ = "fiscal_periods"
    __table_args__ = (UniqueConstraint("tenant_id", "year", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    month: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(8), default="open", nullable=False)  # open | closed
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    closing_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="SET NULL"))
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    reopen_reason: Mapped[str | None] = mapped_column(String(255))

    closed_by: Mapped[Membership | None] = relationship(foreign_keys=[closed_by_id])
    reopened_by: Mapped[Membership | None] = relationship(foreign_keys=[reopened_by_id])

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


class JournalEntry(TenantScoped, Timestamps, Model):
    __tablename__ = "journal_entries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_journal_entries_tenant_date", "tenant_id", "entry_date", "id"),
        Index("ix_journal_entries_tenant_source", "tenant_id", "source_type", "source_id"),
        Index("ix_journal_entries_tenant_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Given at posting, per month: 记-2026-03-0001. Drafts have none.
    number: Mapped[str | None] = mapped_column(String(30))
    entry_date: Mapped[date] = mapped_column(Date, nullable=False)
    memo: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(8), default="draft", nullable=False)
    kind: Mapped[str] = mapped_column(String(12), default="manual", nullable=False)
    # The document that produced it ("invoice", "bill", "receipt", "payment", "settlement",
    # "period", later "expense_claim", "payroll_run"), by id.
    source_type: Mapped[str | None] = mapped_column(String(20))
    source_id: Mapped[int | None] = mapped_column(Integer)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))
    reversed_by_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="SET NULL"))
    total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)  # Σ debit
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[JournalLine]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="JournalLine.position"
    )
    created_by: Mapped[Membership | None] = relationship(foreign_keys=[created_by_id])
    posted_by: Mapped[Membership | None] = relationship(foreign_keys=[posted_by_id])
    reverses: Mapped[JournalEntry | None] = relationship(foreign_keys=[reverses_id], remote_side=[id])
    reversed_by: Mapped[JournalEntry | None] = relationship(foreign_keys=[reversed_by_id], remote_side=[id])

    @property
    def is_posted(self) -> bool:
        return self.status == "posted"


class JournalLine(TenantScoped, Model):
    __tablename__ = "journal_lines"
    __table_args__ = (
        Index("ix_journal_lines_tenant_entry", "tenant_id", "entry_id"),
        # The reports: per account over a date range, posted lines only.
        Index("ix_journal_lines_tenant_account_date", "tenant_id", "account_id", "entry_date", "id"),
        Index("ix_journal_lines_tenant_party", "tenant_id", "party_type", "party_id", "entry_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id", ondelete="CASCADE"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False)
    debit: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    credit: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    party_type: Mapped[str | None] = mapped_column(String(10))
    party_id: Mapped[int | None] = mapped_column(Integer)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"))
    memo: Mapped[str | None] = mapped_column(String(255))
    # Copies of the entry's, kept in step by crm.books.services (posted entries never change).
    entry_date: Mapped[date] = mapped_column(Date, nullable=False)
    posted: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")
    account: Mapped[Account] = relationship()
    department: Mapped[Department | None] = relationship()
