"""Export the work-report overview (members × periods, submitted / late / missing) to xlsx."""

from __future__ import annotations

from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _

from crm.db import db, utcnow
from crm.exports.xlsx import write_table
from crm.scoping import get_in_tenant
from crm.workreports import services
from tenants.context import current_tenant
from tenants.models import Membership, Tenant
from workers.files import write_result
from workers.models import JobRecord
from workers.runner import JobFailed, Progress

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def work_reports_export(record: JobRecord, progress: Progress) -> None:
    p = record.params
    kind = p.get("kind")
    try:
        first, last = date.fromisoformat(p["from"]), date.fromisoformat(p["to"])
    except (KeyError, TypeError, ValueError) as exc:
        raise JobFailed("bad dates") from exc
    if kind not in ("daily", "weekly", "monthly"):
        raise JobFailed(f"unknown kind {kind}")
    requester = get_in_tenant(Membership, record.requested_by_id)
    if requester is None or not requester.is_active:
        raise JobFailed("the requester is no longer a member")
    tenant = db.session.get(Tenant, current_tenant.id)
    assert tenant is not None
    with force_locale(p.get("locale") or "zh_Hans_CN"):
        progress(10, _("Reading reports"))
        ov = services.overview(requester, tenant, kind, first, last, utcnow())
        labels = {
            "submitted": _("Submitted"), "late": _("Late"), "missing": _("Missing"), "pending": _("Not yet due"),
            "not_required": _("Not required"),
        }  # fmt: skip
        headers = [_("Member"), _("Job title")] + [services.period_label(kind, s, e) for s, e in ov.periods]
        headers += [_("Submitted"), _("Late"), _("Missing")]
        rows = []
        total = max(len(ov.rows), 1)
        for i, row in enumerate(ov.rows):
            states = [c.state for c in row.cells]
            rows.append(
                [row.member.user.name, row.member.title or "", *[labels[s] for s in states],
                 states.count("submitted"), states.count("late"), states.count("missing")]
            )  # fmt: skip
            if i % 50 == 0:
                progress(10 + int(70 * i / total), _("Reading reports"))
        progress(85, _("Writing the file"))
        data = write_table(services.kind_label(kind), headers, rows)
        name = f"{tenant.slug}-work-reports-{kind}-{first.isoformat()}-{last.isoformat()}.xlsx"
        record.result_path = write_result(record.tenant_id, record.id, name, data)
        record.result_name = name
        record.result_mimetype = XLSX
        progress(95, _("Done"))
