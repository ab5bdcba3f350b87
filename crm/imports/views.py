"""Sales → Import: upload a sheet, correct the column mapping, read the dry run, commit as a job,
download the rejected rows, undo a whole import; and the customer export the round trip starts from."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.db import db
from crm.imports import mapping as mp
from crm.imports import services
from crm.imports.forms import CommitForm, UploadForm
from crm.imports.models import KIND_LABELS, ImportBatch
from crm.sales.services import InvalidInput
from crm.scoping import get_or_404
from roles.checks import require
from tenants.models import Membership
from workers.queue import JobsUnavailable, submit

bp = Blueprint("imports", __name__, url_prefix="/w/<slug>/sales/imports")

STATUS_BADGES = {"uploaded": "secondary", "analysed": "info", "committing": "warning", "committed": "success",
                 "failed": "danger", "undone": "secondary"}  # fmt: skip
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _status_labels() -> dict[str, str]:
    return {
        "uploaded": _("Uploaded"),
        "analysed": _("Checked, not imported"),
        "committing": _("Importing"),
        "committed": _("Imported"),
        "failed": _("Failed"),
        "undone": _("Undone"),
    }


def _flash_errors(err: InvalidInput) -> None:
    for reason in err.errors.values():
        flash(reason, "danger")


@bp.get("")
@require("imports.run")
def index():
    batches = list(
        db.session.scalars(
            select(ImportBatch)
            .options(joinedload(ImportBatch.created_by).joinedload(Membership.user))
            .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
            .limit(100)
        )
    )
    return render_template("imports/index.html", batches=batches, form=UploadForm(), kinds=KIND_LABELS,
                           labels=_status_labels(), badges=STATUS_BADGES)  # fmt: skip


@bp.post("")
@require("imports.run")
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        batches: list[ImportBatch] = []
        return render_template("imports/index.html", batches=batches, form=form, kinds=KIND_LABELS,
                               labels=_status_labels(), badges=STATUS_BADGES), 400  # fmt: skip
    f = form.file.data
    try:
        batch = services.upload(g.tenant, g.member, form.kind.data, f.filename or "upload", f.read())
    except InvalidInput as err:
        db.session.rollback()
        _flash_errors(err)
        return redirect(url_for("imports.index"))
    db.session.commit()
    return redirect(url_for("imports.show", batch_id=batch.id))


@bp.get("/<int:batch_id>")
@require("imports.run")
def show(batch_id: int):
    batch = get_or_404(ImportBatch, batch_id)
    counts = batch.counts or {}
    specs = mp.fields_of(batch.kind) if batch.kind in mp.FIELDS else ()
    return render_template(
        "imports/show.html",
        batch=batch,
        counts=counts,
        specs=specs,
        labels={f.key: f.label for f in specs},
        kinds=KIND_LABELS,
        status_labels=_status_labels(),
        badges=STATUS_BADGES,
        commit_form=CommitForm(),
        editable=batch.status in ("uploaded", "analysed", "failed"),
    )


@bp.post("/<int:batch_id>/mapping")
@require("imports.run")
def remap(batch_id: int):
    batch = get_or_404(ImportBatch, batch_id)
    headers = (batch.counts or {}).get("headers") or []
    chosen = {str(i): request.form.get(f"col-{i}", "") for i in range(len(headers))}
    try:
        services.remap(g.tenant, g.member, batch, chosen)
    except InvalidInput as err:
        db.session.rollback()
        _flash_errors(err)
        return redirect(url_for("imports.show", batch_id=batch_id))
    db.session.commit()
    flash(_("Mapping saved and the file checked again. This workspace will use it for the next file."), "success")
    return redirect(url_for("imports.show", batch_id=batch_id))


@bp.post("/<int:batch_id>/commit")
@require("imports.run")
def commit(batch_id: int):
    batch = get_or_404(ImportBatch, batch_id)
    form = CommitForm()
    if not form.validate_on_submit():
        flash(_("Choose how to import."), "danger")
        return redirect(url_for("imports.show", batch_id=batch_id))
    try:
        services.start_commit(g.tenant, g.member, batch, form.mode.data)
        job = submit("import_commit", g.member, {"batch_id": batch.id, "locale": str(get_locale())})
    except InvalidInput as err:
        db.session.rollback()
        _flash_errors(err)
        return redirect(url_for("imports.show", batch_id=batch_id))
    except JobsUnavailable:
        db.session.rollback()
        flash(_("The job service is unavailable right now, so nothing was started. Please try again shortly."),
              "danger")  # fmt: skip
        return redirect(url_for("imports.show", batch_id=batch_id))
    batch = get_or_404(ImportBatch, batch_id)
    batch.job_id = job.id
    db.session.commit()
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.post("/<int:batch_id>/undo")
@require("imports.run")
def undo(batch_id: int):
    batch = get_or_404(ImportBatch, batch_id)
    try:
        result = services.undo(g.tenant, g.member, batch)
    except InvalidInput as err:
        db.session.rollback()
        _flash_errors(err)
        return redirect(url_for("imports.show", batch_id=batch_id))
    db.session.commit()
    flash(_("Import undone: %(deleted)d removed, %(restored)d restored, %(kept)d kept because other records use "
            "them (archived or deactivated).", **result), "success")  # fmt: skip
    return redirect(url_for("imports.show", batch_id=batch_id))


@bp.get("/<int:batch_id>/rejected")
@require("imports.run")
def rejected(batch_id: int):
    batch = get_or_404(ImportBatch, batch_id)
    try:
        data = services.rejected_xlsx(batch)
    except InvalidInput as err:
        _flash_errors(err)
        return redirect(url_for("imports.show", batch_id=batch_id))
    name = f"rejected-{batch.id}.xlsx"
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)


@bp.post("/export-customers")
@require("sales.access")
def export_customers():
    try:
        job = submit("customers_export", g.member, {"locale": str(get_locale())})
    except JobsUnavailable:
        db.session.rollback()
        flash(_("The job service is unavailable right now, so nothing was started. Please try again shortly."),
              "danger")  # fmt: skip
        return redirect(url_for("customers.index"))
    return redirect(url_for("jobs.show", job_id=job.id))
