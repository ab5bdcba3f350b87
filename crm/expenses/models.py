"""Office/finance → expense claims (费用报销) and advances (借款).

A claim belongs to the member who files it (the claimant) and moves
draft → submitted → approved | rejected → reviewed → paid. Paying posts one journal entry per
claim (so "paid" also means "posted"; ``entry_id`` is that entry). A rejected claim is corrected
and submitted again. An advance moves requested → approved | rejected → paid, and is open until
claims set off against it have used it up. Every step is an ExpenseEvent: the claimant's
timeline.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.books.models import Account, Department, JournalEntry
from crm.db import Model, Money, Timestamps, UTCDateTime, utcnow
from crm.pipeline.models import Opportunity
from crm.sales.models import Customer
from tenants.models import Membership, TenantScoped

ZERO = Decimal("0.00")

# (key, 中文, English, parent role) — the workspace's categories the first time it uses claims.
DEFAULT_CATEGORIES = (
    ("travel", "差旅费", "Travel", "admin_expense"),
    ("transport", "交通费", "Local transport", "admin_expense"),
    ("entertainment", "业务招待费", "Business entertainment", "admin_expense"),
    ("office", "办公费", "Office supplies", "admin_expense"),
    ("telecom", "通讯费", "Telecommunications", "admin_expense"),
    ("training", "培训费", "Training", "admin_expense"),
    ("other", "其他", "Other", "admin_expense"),
)
PARENT_ROLES = ("admin_expense", "selling_expense")

CLAIM_STATUSES = ("draft", "submitted", "approved", "rejected", "reviewed", "paid")
CLAIM_STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Awaiting approval"),
    "approved": _l("Approved, awaiting finance review"),
    "rejected": _l("Rejected"),
    "reviewed": _l("Reviewed, awaiting payment"),
    "paid": _l("Paid and posted"),
}
CLAIM_STATUS_BADGES = {
    "draft": "secondary", "submitted": "warning", "approved": "info", "rejected": "danger",
    "reviewed": "primary", "paid": "success",
}  # fmt: skip
EDITABLE = ("draft", "rejected")

ADVANCE_STATUSES = ("requested", "approved", "rejected", "paid", "settled")
ADVANCE_STATUS_LABELS = {
    "requested": _l("Awaiting approval"),
    "approved": _l("Approved, awaiting payment"),
    "rejected": _l("Rejected"),
    "paid": _l("Paid, open"),
    "settled": _l("Settled"),
}
ADVANCE_STATUS_BADGES = {
    "requested": "warning", "approved": "info", "rejected": "danger", "paid": "primary", "settled": "success",
}  # fmt: skip

EVENT_LABELS = {
    "created": _l("Filled in as a draft"),
    "submitted": _l("Submitted for approval"),
    "resubmitted": _l("Corrected and submitted again"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "reviewed": _l("Reviewed by finance"),
    "paid": _l("Paid"),
    "posted": _l("Posted to the books"),
    "requested": _l("Requested"),
    "set_off": _l("Set off against a claim"),
    "repaid": _l("Repaid by the member"),
}


class ExpenseCategory(TenantScoped, Timestamps, Model):
    __tablename__ = "expense_categories"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key"),
        Index("ix_expense_categories_tenant_position", "tenant_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(30), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(60), nullable=False)
    name_en: Mapped[str] = mapped_column(String(60), nullable=False)
    parent_role: Mapped[str] = mapped_column(String(30), nullable=False)
    # The leaf expense account claims of this category post to; made on first posting
    # (crm.books.services.ensure_sub_account) unless finance mapped one before.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    account: Mapped[Account | None] = relationship()

    def label(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") else self.name_zh


class ExpenseAdvance(TenantScoped, Timestamps, Model):
    __tablename__ = "expense_advances"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_expense_advances_tenant_member_status", "tenant_id", "member_id", "status"),
        Index("ix_expense_advances_tenant_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), nullable=False)
    member_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="RESTRICT"), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    # amount − Σ set-offs of paid claims; kept by the services.
    open_amount: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    purpose: Mapped[str] = mapped_column(String(255), nullable=False)
    needed_by: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="requested", nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_on: Mapped[date | None] = mapped_column(Date)
    pay_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))

    member: Mapped[Membership] = relationship(foreign_keys=[member_id])
    entry: Mapped[JournalEntry | None] = relationship()


class ExpenseClaim(TenantScoped, Timestamps, Model):
    __tablename__ = "expense_claims"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_expense_claims_tenant_claimant_status", "tenant_id", "claimant_id", "status"),
        Index("ix_expense_claims_tenant_status", "tenant_id", "status"),
        Index("ix_expense_claims_tenant_approver_status", "tenant_id", "approver_id", "status"),
        Index("ix_expense_claims_tenant_advance", "tenant_id", "advance_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), nullable=False)
    claimant_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="RESTRICT"), nullable=False)
    # The claimant's manager when submitted (reports_to); None: anyone with expenses.pay approves.
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id", ondelete="SET NULL"))
    advance_id: Mapped[int | None] = mapped_column(ForeignKey("expense_advances.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(10), default="draft", nullable=False)
    total: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    total_vat: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    # The part of the total set off against the advance when paid; the rest went out in money.
    advance_offset: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_on: Mapped[date | None] = mapped_column(Date)
    pay_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))
    comment: Mapped[str | None] = mapped_column(Text)  # the last rejection's reason

    claimant: Mapped[Membership] = relationship(foreign_keys=[claimant_id])
    approver: Mapped[Membership | None] = relationship(foreign_keys=[approver_id])
    department: Mapped[Department | None] = relationship()
    customer: Mapped[Customer | None] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()
    advance: Mapped[ExpenseAdvance | None] = relationship()
    entry: Mapped[JournalEntry | None] = relationship()
    lines: Mapped[list[ExpenseClaimLine]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ExpenseClaimLine.position"
    )

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def cash_part(self) -> Decimal:
        return self.total - self.advance_offset


class ExpenseClaimLine(TenantScoped, Model):
    __tablename__ = "expense_claim_lines"
    __table_args__ = (
        Index("ix_expense_claim_lines_tenant_claim", "tenant_id", "claim_id"),
        Index("ix_expense_claim_lines_tenant_category", "tenant_id", "category_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("expense_claims.id", ondelete="CASCADE"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    expense_date: Mapped[date] = mapped_column(Date, nullable=False)
    category_id: Mapped[int] = mapped_column(ForeignKey("expense_categories.id", ondelete="RESTRICT"), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)  # what was paid, VAT included
    invoice_number: Mapped[str | None] = mapped_column(String(40))  # 发票号码
    input_vat: Mapped[Decimal] = mapped_column(Money(), default=ZERO, nullable=False)  # deductible 进项税额
    description: Mapped[str] = mapped_column(String(255), nullable=False)
    # The receipt (image or PDF): an attachment owned by the claim (owner_type "expense_claim").
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id", ondelete="SET NULL"))

    claim: Mapped[ExpenseClaim] = relationship(back_populates="lines")
    category: Mapped[ExpenseCategory] = relationship()

    @property
    def net_amount(self) -> Decimal:
        return self.amount - self.input_vat


class ExpenseEvent(TenantScoped, Model):
    """One step of a claim or an advance: who did what, when, and why (a rejection's reason)."""

    __tablename__ = "expense_events"
    __table_args__ = (
        Index("ix_expense_events_tenant_claim", "tenant_id", "claim_id"),
        Index("ix_expense_events_tenant_advance", "tenant_id", "advance_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("expense_claims.id", ondelete="CASCADE"))
    advance_id: Mapped[int | None] = mapped_column(ForeignKey("expense_advances.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    actor: Mapped[Membership | None] = relationship()
