"""Office → Work reports (工作汇报): a member's report of a day, ISO week or month.

One report per author, kind and period. Recipients read it (read receipts) and comment;
links point at customers and opportunities; attachments live in crm.attachments
(owner_type "work_report"). Reminders remember who was reminded of which period, so the
scheduled reminder fires once per period.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Model, Timestamps, UTCDateTime, utcnow
from tenants.models import Membership, TenantScoped

KINDS = ("daily", "weekly", "monthly")
STATUSES = ("draft", "submitted")
LINK_TYPES = ("customer", "opportunity")


class WorkReport(TenantScoped, Timestamps, Model):
    __tablename__ = "work_reports"
    __table_args__ = (
        UniqueConstraint("tenant_id", "author_id", "kind", "period_start"),
        Index("ix_work_reports_tenant_kind_period", "tenant_id", "kind", "period_start"),
        Index("ix_work_reports_tenant_author", "tenant_id", "author_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    done: Mapped[str | None] = mapped_column(Text)
    planned: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="draft", nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    author: Mapped[Membership] = relationship()
    recipients: Mapped[list[WorkReportRecipient]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="WorkReportRecipient.id"
    )
    links: Mapped[list[WorkReportLink]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="WorkReportLink.id"
    )
    comments: Mapped[list[WorkReportComment]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="WorkReportComment.id"
    )

    @property
    def submitted(self) -> bool:
        return self.status == "submitted"


class WorkReportRecipient(TenantScoped, Model):
    __tablename__ = "work_report_recipients"
    __table_args__ = (
        UniqueConstraint("tenant_id", "report_id", "member_id"),
        Index("ix_work_report_recipients_tenant_member", "tenant_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("work_reports.id", ondelete="CASCADE"), nullable=False)
    member_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    report: Mapped[WorkReport] = relationship(back_populates="recipients")
    member: Mapped[Membership] = relationship()


class WorkReportComment(TenantScoped, Model):
    __tablename__ = "work_report_comments"
    __table_args__ = (Index("ix_work_report_comments_tenant_report", "tenant_id", "report_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("work_reports.id", ondelete="CASCADE"), nullable=False)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("work_report_comments.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    report: Mapped[WorkReport] = relationship(back_populates="comments")
    member: Mapped[Membership | None] = relationship()


class WorkReportLink(TenantScoped, Model):
    __tablename__ = "work_report_links"
    __table_args__ = (
        UniqueConstraint("tenant_id", "report_id", "object_type", "object_id"),
        Index("ix_work_report_links_tenant_report", "tenant_id", "report_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("work_reports.id", ondelete="CASCADE"), nullable=False)
    object_type: Mapped[str] = mapped_column(String(20), nullable=False)
    object_id: Mapped[int] = mapped_column(Integer, nullable=False)

    report: Mapped[WorkReport] = relationship(back_populates="links")


class WorkReportReminder(TenantScoped, Model):
    """A reminder sent for a missing report: at most one per member, kind and period."""

    __tablename__ = "work_report_reminders"
    __table_args__ = (UniqueConstraint("tenant_id", "member_id", "kind", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
