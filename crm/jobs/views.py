"""A job's page: a progress bar that htmx polls, then the download link or the error."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l

from crm.db import db
from crm.imports.models import ImportBatch
from crm.jobs.access import can_see_job
from crm.scoping import get_or_404
from roles.checks import require
from workers import files
from workers.models import JobRecord

bp = Blueprint("jobs", __name__, url_prefix="/w/<slug>/jobs")

ERRORS = {
    "internal": _l("Something went wrong while preparing the file. It has been logged; please try again."),
    "transient": _l("A service was briefly unavailable; the job will retry by itself."),
    "queue_unavailable": _l("The job service was unavailable, so the job never started. Please try again."),
}

KINDS = {
    "members_export": _l("Member list export"),
    "period_close": _l("Period close"),
    "import_commit": _l("Import from Excel"),
    "customers_export": _l("Customer list export"),
    "pool_rules": _l("Public pool rules"),
    "audit_export": _l("Audit log export"),
    "sales_daily": _l("Nightly sales upkeep"),
    "work_reports_export": _l("Work-report overview export"),
    "report_export": _l("Finance report export"),
    "payroll_run": _l("Payroll run"),
    "ledger_export": _l("Sales ledger export"),
}
# Jobs that change things rather than make a file: where to go to see what they changed.
FILE_LESS = {"period_close", "payroll_run", "import_commit", "pool_rules", "sales_daily"}


def follow_up(job: JobRecord) -> tuple[object, str] | None:
    """(label, url) of the page showing what a file-less job worked on, when there is one."""
    params = job.params or {}
    if job.kind == "period_close" and "year" in params:
        key = f"{int(params['year']):04d}-{int(params['month']):02d}"
        return _l("Back to the period"), url_for("books.period_show", period_key=key)
    if job.kind == "payroll_run" and params.get("run_id"):
        return _l("Open the payroll run"), url_for("payroll.run_show", payroll_run_id=params["run_id"])
    if job.kind == "import_commit" and params.get("batch_id"):
        batch = db.session.get(ImportBatch, params["batch_id"])
        if batch is not None:
            endpoint = "journal_imports.show" if batch.kind == "journal_entries" else "imports.show"
            return _l("Back to the import"), url_for(endpoint, batch_id=batch.id)
    return None


def _visible(job_id: int) -> JobRecord:
    job = get_or_404(JobRecord, job_id)
    if not can_see_job(g.member, job):
        abort(403)
    return job


@bp.get("/<int:job_id>")
@require("workspace.view")
def show(job_id: int):
    job = _visible(job_id)
    ctx = {
        "job": job,
        "errors": ERRORS,
        "kinds": KINDS,
        "file_less": job.kind in FILE_LESS,
        "follow_up": follow_up(job),
    }
    if request.headers.get("HX-Request"):
        return render_template("jobs/_progress.html", **ctx)
    return render_template("jobs/show.html", **ctx)


@bp.get("/<int:job_id>/download")
@require("workspace.view")
def download(job_id: int):
    job = _visible(job_id)
    if job.status != JobRecord.FINISHED or not job.result_path:
        abort(404)
    path = files.resolve(job.tenant_id, job.result_path)
    if path is None:
        abort(404)
    return send_file(path, mimetype=job.result_mimetype, as_attachment=True, download_name=job.result_name)
