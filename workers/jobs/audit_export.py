"""Export the audit log, as filtered on the page, to xlsx (cells that would run as formulas are
escaped by crm.exports.xlsx)."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from crm.audit import browse
from crm.audit.models import AuditEntry
from crm.db import db
from crm.exports.xlsx import write_table
from crm.labels import audit_label
from crm.sales.services import InvalidInput
from tenants.context import current_tenant
from workers.files import write_result
from workers.models import JobRecord
from workers.runner import JobFailed, Progress

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATCH = 500
MAX_ROWS = 1_000_000  # Excel's sheet limit is 1,048,576 rows


def audit_export(record: JobRecord, progress: Progress) -> None:
    locale = record.params.get("locale") or "zh_Hans_CN"
    with force_locale(locale):
        try:
            filters = browse.parse_filters(record.params)
        except InvalidInput as err:
            raise JobFailed(f"bad filters {sorted(err.errors)}") from err
        tenant = current_tenant._get_current_object()  # type: ignore[attr-defined]
        stmt = browse.filtered(tenant, filters)
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        if total > MAX_ROWS:
            raise JobFailed(f"{total} rows do not fit one sheet")
        progress(5, _("Reading the audit log"))
        headers = [
            _("Time"), _("Member"), _("E-mail"), _("Action"), _("Object"), _("Object ID"), _("Summary"),
            _("Changes"), _("IP address"),
        ]  # fmt: skip
        rows: list[list[object]] = []
        before: int | None = None
        while True:
            q = stmt.options(joinedload(AuditEntry.user)).order_by(AuditEntry.id.desc()).limit(BATCH)
            if before is not None:
                q = q.where(AuditEntry.id < before)
            batch = list(db.session.scalars(q).unique())
            for e in batch:
                rows.append(
                    [
                        browse.local_time(e, tenant),
                        e.user.name if e.user else _("System"),
                        e.user.email if e.user else "",
                        audit_label(e.action),
                        browse.object_type_label(e.object_type),
                        e.object_id,
                        e.summary or "",
                        browse.changes_text(e),
                        e.ip or "",
                    ]
                )
            if len(batch) < BATCH:
                break
            before = batch[-1].id
            progress(5 + int(80 * len(rows) / max(total, 1)), _("Reading the audit log"))
        progress(88, _("Writing the file"))
        data = write_table(_("Audit log"), headers, rows)
        name = f"{tenant.slug}-audit-log.xlsx"
        record.result_path = write_result(record.tenant_id, record.id, name, data)
        record.result_name = name
        record.result_mimetype = MIMETYPE
        progress(95, _("Done"))
