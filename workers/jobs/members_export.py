"""Export the member list to xlsx or PDF — the job that proves the job path end to end."""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from crm.db import utcnow
from crm.exports.pdf import render_pdf
from crm.exports.xlsx import write_table
from crm.members.services import list_members
from roles.catalogue import ROLES
from tenants.context import current_tenant
from workers.files import write_result
from workers.models import JobRecord
from workers.runner import JobFailed, Progress

MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def members_export(record: JobRecord, progress: Progress) -> None:
    fmt = record.params.get("format", "xlsx")
    if fmt not in MIMETYPES:
        raise JobFailed(f"unknown format {fmt}")
    locale = record.params.get("locale") or "zh_Hans_CN"
    with force_locale(locale):
        progress(10, _("Reading members"))
        members = list_members()
        tenant = current_tenant
        headers = [_("Name"), _("E-mail"), _("Roles"), _("Job title"), _("Reports to"), _("Status"), _("Joined")]
        rows = []
        for m in members:
            rows.append(
                [
                    m.user.name,
                    m.user.email,
                    "、".join(str(ROLES[r].label) for r in m.roles if r in ROLES),
                    m.title or "",
                    m.reports_to.user.name if m.reports_to else "",
                    _("Active") if m.is_active else _("Deactivated"),
                    m.created_at,
                ]
            )
        progress(50, _("Writing the file"))
        if fmt == "xlsx":
            data = write_table(_("Members"), headers, rows)
        else:
            html = render_template("exports/members.pdf.html", tenant=tenant, headers=headers, rows=rows, now=utcnow())
            data = render_pdf(html)
        name = f"{tenant.slug}-members.{fmt}"
        record.result_path = write_result(record.tenant_id, record.id, name, data)
        record.result_name = name
        record.result_mimetype = MIMETYPES[fmt]
        progress(95, _("Done"))
