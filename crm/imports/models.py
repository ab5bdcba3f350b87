"""Excel in: an import batch (the uploaded file, the column mapping, the dry-run report, the job that
commits it) and the change log that lets a whole import be undone.

The file itself is kept per tenant (workers.files) until the batch is committed or abandoned; the
mapping the user confirmed is also saved per workspace (tenant.settings["imports"]["mappings"][kind])
so the next file with the same headers maps itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Model, Timestamps, UTCDateTime
from tenants.models import Membership, TenantScoped

KINDS = ("customers", "contacts", "products", "orders", "journal_entries")
KIND_LABELS = {
    "customers": _l("Customers"),
    "contacts": _l("Contacts"),
    "products": _l("Products"),
    "orders": _l("Historical orders (sales ledger)"),
    "journal_entries": _l("Vouchers (journal entries)"),
}
# uploaded → analysed (dry run done) → committing (job) → committed | failed; committed → undone
STATUSES = ("uploaded", "analysed", "committing", "committed", "failed", "undone")


class ImportBatch(TenantScoped, Timestamps, Model):
    __tablename__ = "import_batches"
    __table_args__ = (
        Index("ix_import_batches_tenant_created", "tenant_id", "created_at"),
        CheckConstraint("kind IN ('customers', 'contacts', 'products', 'orders', 'journal_entries')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    stored_path: Mapped[str | None] = mapped_column(String(255))  # relative, under the tenant's files
    sheet: Mapped[str | None] = mapped_column(String(100))
    header_row: Mapped[int | None] = mapped_column(Integer)  # 1-based, as Excel numbers rows
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)  # column index → field
    mode: Mapped[str] = mapped_column(String(12), default="all", nullable=False)  # all | good_rows
    status: Mapped[str] = mapped_column(String(12), default="uploaded", nullable=False)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)  # {row, column, reason}
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job_records.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))

    created_by: Mapped[Membership | None] = relationship(foreign_keys=[created_by_id])


class ImportChange(TenantScoped, Model):
    """One record an import created or updated, with the fields as they were before (for undo)."""

    __tablename__ = "import_changes"
    __table_args__ = (Index("ix_import_changes_tenant_batch", "tenant_id", "batch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id", ondelete="CASCADE"), nullable=False)
    row_number: Mapped[int] = mapped_column(Integer, nullable=False)
    object_type: Mapped[str] = mapped_column(String(20), nullable=False)  # customer | contact | product | order
    object_id: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(8), nullable=False)  # created | updated
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
