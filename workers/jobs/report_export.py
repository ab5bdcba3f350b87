"""Export a finance report (crm.finreports) to xlsx or PDF, with progress.

params: {"report": key, "format": "xlsx" | "pdf", "params": {...}, "locale": "zh_Hans_CN" | "en"}.
The report is built in the job's tenant for the member who asked (their permissions apply);
the xlsx is streamed straight into the result file, the PDF is laid out in chunks of pages.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from crm.db import db, utcnow
from crm.finreports.base import build
from crm.finreports.export import write_pdf, write_xlsx
from crm.sales.services import InvalidInput
from tenants.context import current_tenant
from tenants.models import Membership
from workers.files import job_dir, write_result
from workers.models import JobRecord
from workers.runner import JobFailed, Progress

MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def file_name(title: str, subtitle: str, fmt: str) -> str:
    """「总账-2026-03-01至2026-03-31.xlsx」: the title and period, safe on every file system."""
    chinese = re.search(r"[\u4e00-\u9fff]", title) is not None
    period = re.sub(r"\s*[–至]\s*", "至", subtitle or "").strip() if chinese else (subtitle or "").strip()
    stem = f"{title}-{period}" if chinese else f"{title} {period}"
    stem = UNSAFE.sub("-", stem).strip(" .-") or "report"
    return f"{stem[:120]}.{fmt}"


def report_export(record: JobRecord, progress: Progress) -> None:
    key = record.params.get("report")
    fmt = record.params.get("format", "xlsx")
    if fmt not in MIMETYPES:
        raise JobFailed(f"unknown format {fmt}")
    locale = record.params.get("locale") or "zh_Hans_CN"
    actor = db.session.get(Membership, record.requested_by_id) if record.requested_by_id else None
    if actor is None:
        raise JobFailed("the member who asked for this export is gone")
    tenant = current_tenant
    with force_locale(locale):
        progress(2, _("Reading the books"))
        try:
            report = build(str(key), tenant, actor, dict(record.params.get("params") or {}))
        except InvalidInput as err:
            raise JobFailed("; ".join(f"{k}: {v}" for k, v in err.errors.items())) from err
        try:
            zone = ZoneInfo(tenant.timezone or "Asia/Shanghai")
        except (KeyError, ValueError):
            zone = ZoneInfo("Asia/Shanghai")
        printed_at = utcnow().astimezone(zone)
        company, printed_by = str(tenant.name), str(actor.user.name)
        writing = _("Writing the file")

        def on_rows(done: int, total: int | None) -> None:
            share = 85 if fmt == "xlsx" else 40
            pct = 5 + (share * done // total if total else min(share, done // 20_000))
            progress(min(pct, 5 + share), f"{writing} ({done:,})")

        name = file_name(str(report.title), str(report.subtitle or ""), fmt)
        if fmt == "xlsx":
            directory = job_dir(record.tenant_id, record.id)
            tmp = directory / f".{record.id}.xlsx.tmp"
            write_xlsx(report, tmp, company=company, printed_by=printed_by, printed_at=printed_at, progress=on_rows)
            target = directory / name
            os.replace(tmp, target)
            record.result_path = str(target.relative_to(Path(current_app.config["FILES_DIR"]).resolve()))
        else:
            laying_out = _("Laying out pages")

            def on_pages(done: int, total: int) -> None:
                progress(45 + 45 * done // max(total, 1), f"{laying_out} ({done} / {total})")

            data = write_pdf(report, company=company, printed_by=printed_by, printed_at=printed_at,
                             progress=on_rows, page_progress=on_pages)  # fmt: skip
            progress(95, _("Saving the file"))
            record.result_path = write_result(record.tenant_id, record.id, name, data)
        record.result_name = name
        record.result_mimetype = MIMETYPES[fmt]
        progress(98, _("Done"))
