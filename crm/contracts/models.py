"""Sales → Contracts (合同): numbered per workspace, a payment plan (回款计划) that adds up to the
amount, manager approval, expiry reminders. Linked back to the quote and the opportunity it came
from, so the 360° view and later the ledger can follow won deal → quote → contract → order."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Model, Money, Timestamps, UTCDateTime, utcnow
from crm.pipeline.models import Opportunity
from crm.quotes.models import Quote
from crm.sales.models import Customer
from tenants.models import Membership, TenantScoped

# draft → pending (submitted) → active (approved) → expired (end date passed) | terminated.
# A rejection sends a pending contract back to draft with the manager's comment.
STATUSES = ("draft", "pending", "active", "expired", "terminated")
STATUS_LABELS = {
    "draft": _l("Draft"),
    "pending": _l("Pending approval"),
    "active": lazy_pgettext("contract status", "Active"),
    "expired": _l("Expired"),
    "terminated": _l("Terminated"),
}
STATUS_BADGES = {
    "draft": "secondary", "pending": "warning", "active": "success", "expired": "light", "terminated": "danger",
}  # fmt: skip


class Contract(TenantScoped, Timestamps, Model):
    __tablename__ = "contracts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_contracts_tenant_customer", "tenant_id", "customer_id"),
        Index("ix_contracts_tenant_status_end", "tenant_id", "status", "ends_on"),
        Index("ix_contracts_tenant_owner", "tenant_id", "owner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False)
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id", ondelete="SET NULL"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="draft", nullable=False)
    signed_on: Mapped[date | None] = mapped_column(Date)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), nullable=False)
    terms: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    termination_reason: Mapped[str | None] = mapped_column(String(255))
    # The expiry reminder goes once per contract; re-dating the end clears this.
    expiry_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[Customer] = relationship()
    quote: Mapped[Quote | None] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()
    owner: Mapped[Membership | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[Membership | None] = relationship(foreign_keys=[created_by_id])
    approved_by: Mapped[Membership | None] = relationship(foreign_keys=[approved_by_id])
    payments: Mapped[list[ContractPayment]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="ContractPayment.position"
    )
    reviews: Mapped[list[ContractReview]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="ContractReview.id"
    )

    @property
    def editable(self) -> bool:
        return self.status == "draft"


class ContractPayment(TenantScoped, Model):
    """One instalment of the payment plan (回款计划). The plan's amounts add up to the contract's."""

    __tablename__ = "contract_payments"
    __table_args__ = (Index("ix_contract_payments_tenant_contract", "tenant_id", "contract_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    note: Mapped[str | None] = mapped_column(String(200))

    contract: Mapped[Contract] = relationship(back_populates="payments")


class ContractReview(TenantScoped, Model):
    """Each submit, approval and rejection, with the reviewer's comment: the approval history."""

    __tablename__ = "contract_reviews"
    __table_args__ = (Index("ix_contract_reviews_tenant_contract", "tenant_id", "contract_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), nullable=False)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    decision: Mapped[str] = mapped_column(String(12), nullable=False)  # submitted | approved | rejected
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    contract: Mapped[Contract] = relationship(back_populates="reviews")
    member: Mapped[Membership | None] = relationship()
