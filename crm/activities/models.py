"""Follow-ups (跟进记录) with a customer, and tasks (due date, assignee, done)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Model, Timestamps, UTCDateTime, utcnow
from crm.sales.models import Contact, Customer
from tenants.models import Membership, TenantScoped

FOLLOWUP_KINDS = ("call", "visit", "wechat", "email", "meeting")


class FollowUp(TenantScoped, Timestamps, Model):
    __tablename__ = "followups"
    __table_args__ = (Index("ix_followups_tenant_customer_occurred", "tenant_id", "customer_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    # The opportunity (pipeline) is built in parallel: a plain column for now; the pipeline
    # migration adds the foreign key to opportunities.id once that table exists.
    opportunity_id: Mapped[int | None] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    next_followup_on: Mapped[date | None] = mapped_column(Date)

    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()
    author: Mapped[Membership | None] = relationship()


class Task(TenantScoped, Timestamps, Model):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_tenant_assignee_due", "tenant_id", "assignee_id", "done_at", "due_on"),
        Index("ix_tasks_tenant_customer", "tenant_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    due_on: Mapped[date | None] = mapped_column(Date)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    followup_id: Mapped[int | None] = mapped_column(ForeignKey("followups.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    assignee: Mapped[Membership | None] = relationship(foreign_keys=[assignee_id])
    customer: Mapped[Customer | None] = relationship()

    @property
    def done(self) -> bool:
        return self.done_at is not None

    @property
    def overdue(self) -> bool:
        return self.done_at is None and self.due_on is not None and self.due_on < utcnow().date()
