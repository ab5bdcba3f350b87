"""Export the sales ledger, a summary of it or its growth (crm.ledger.export) to xlsx or PDF.

params: {"what": "ledger" | "summary" | "growth", "format": "xlsx" | "pdf", "params": {...},
"locale": "zh_Hans_CN" | "en"}. Built in the job's tenant for the member who asked, so their
data scope applies; the xlsx streams straight into the result file.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from crm.db import db, utcnow
from crm.finreports.export import write_pdf
from crm.ledger.export import report_for, write_xlsx
from crm.sales.services import InvalidInput
from tenants.context import current_tenant
from tenants.models import Membership
from workers.files import job_dir, write_result
from workers.jobs.report_export import MIMETYPES, file_name
from workers.models import JobRecord
from workers.runner import JobFailed, Progress

WHATS = ("ledger", "summary", "growth")


def ledger_export(record: JobRecord, progress: Progress) -> None:
    what = str(record.params.get("what") or "ledger")
    fmt = str(record.params.get("format") or "xlsx")
    if fmt not in MIMETYPES or what not in WHATS:
        raise JobFailed(f"unknown export {what}/{fmt}")
    params = {str(k): str(v) for k, v in dict(record.params.get("params") or {}).items()}
    actor = db.session.get(Membership, record.requested_by_id) if record.requested_by_id else None
    if actor is None:
        raise JobFailed("the member who asked for this export is gone")
    tenant = current_tenant
    with force_locale(record.params.get("locale") or "zh_Hans_CN"):
        titles = {"ledger": _("Sales ledger"), "summary": _("Sales summary"), "growth": _("Sales growth")}
        try:
            zone = ZoneInfo(tenant.timezone or "Asia/Shanghai")
        except (KeyError, ValueError):
            zone = ZoneInfo("Asia/Shanghai")
        printed_at = utcnow().astimezone(zone)
        name = file_name(str(titles[what]), printed_at.strftime("%Y-%m-%d"), fmt)
        writing = _("Writing the file")

        def on_rows(done: int, total: int | None) -> None:
            share = 90 if fmt == "xlsx" else 40
            pct = 5 + (share * done // total if total else 0)
            progress(min(pct, 5 + share), f"{writing} ({done:,})")

        progress(2, _("Reading the ledger"))
        try:
            if fmt == "xlsx":
                directory = job_dir(record.tenant_id, record.id)
                tmp = directory / f".{record.id}.xlsx.tmp"
                write_xlsx(actor, what, params, tmp, progress=on_rows)
                target = directory / name
                os.replace(tmp, target)
                record.result_path = str(target.relative_to(Path(current_app.config["FILES_DIR"]).resolve()))
            else:
                report = report_for(actor, what, params)
                laying_out = _("Laying out pages")

                def on_pages(done: int, total: int) -> None:
                    progress(45 + 45 * done // max(total, 1), f"{laying_out} ({done} / {total})")

                data = write_pdf(report, company=str(tenant.name), printed_by=str(actor.user.name),
                                 printed_at=printed_at, progress=on_rows, page_progress=on_pages)  # fmt: skip
                progress(95, _("Saving the file"))
                record.result_path = write_result(record.tenant_id, record.id, name, data)
        except InvalidInput as err:
            raise JobFailed("; ".join(f"{k}: {v}" for k, v in err.errors.items())) from err
        record.result_name = name
        record.result_mimetype = MIMETYPES[fmt]
        progress(98, _("Done"))
