"""Sales → Import and Finance → 凭证导入: upload a sheet, correct the column mapping, read the dry run,
commit as a job, download the rejected rows, undo a whole import; and the customer export the round
trip starts from."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
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


class _Area:
    """One import area: the sales kinds under Sales → Import (imports.run), the vouchers under
    Finance → 凭证导入 (finance.access). The same pages; each serves only its kinds, and another
    area's import is not found here."""

    def __init__(self, blueprint: Blueprint, permission: str, kinds: tuple[str, ...]) -> None:
        self.bp, self.permission, self.kinds = blueprint, permission, kinds
        self.ep = blueprint.name
        guard = require(permission)
        for rule, name, view, methods in (
            ("", "index", self.index, ["GET"]),
            ("", "upload", self.upload, ["POST"]),
            ("/<int:batch_id>", "show", self.show, ["GET"]),
            ("/<int:batch_id>/mapping", "remap", self.remap, ["POST"]),
            ("/<int:batch_id>/commit", "commit", self.commit, ["POST"]),
            ("/<int:batch_id>/undo", "undo", self.undo, ["POST"]),
            ("/<int:batch_id>/rejected", "rejected", self.rejected, ["GET"]),
        ):
            blueprint.add_url_rule(rule, name, guard(view), methods=methods)

    def _batch(self, batch_id: int) -> ImportBatch:
        batch = get_or_404(ImportBatch, batch_id)
        if batch.kind not in self.kinds:
            abort(404)
        return batch

    def _index(self, form: UploadForm, batches: list[ImportBatch]) -> str:
        return render_template("imports/index.html", batches=batches, form=form, kinds=KIND_LABELS,
                               labels=_status_labels(), badges=STATUS_BADGES, ep=self.ep,
                               finance=self.kinds == services.FINANCE_KINDS)  # fmt: skip

    def _form(self) -> UploadForm:
        return UploadForm(kinds=services.kinds_for(g.member, self.kinds))

    def index(self):  # type: ignore[no-untyped-def]
        batches = list(
            db.session.scalars(
                select(ImportBatch)
                .options(joinedload(ImportBatch.created_by).joinedload(Membership.user))
                .where(ImportBatch.kind.in_(self.kinds))
                .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
                .limit(100)
            )
        )
        return self._index(self._form(), batches)

    def upload(self):  # type: ignore[no-untyped-def]
        form = self._form()
        if not form.validate_on_submit():
            return self._index(form, []), 400
        f = form.file.data
        try:
            batch = services.upload(g.tenant, g.member, form.kind.data, f.filename or "upload", f.read())
        except InvalidInput as err:
            db.session.rollback()
            _flash_errors(err)
            return redirect(url_for(f"{self.ep}.index"))
        db.session.commit()
        return redirect(url_for(f"{self.ep}.show", batch_id=batch.id))

    def show(self, batch_id: int):  # type: ignore[no-untyped-def]
        batch = self._batch(batch_id)
        counts = batch.counts or {}
        specs = mp.fields_of(batch.kind) if batch.kind in mp.FIELDS else ()
        return render_template(
            "imports/show.html",
            batch=batch,
            counts=counts,
            specs=specs,
            labels={
                "lines": _("Lines"),
                "order_date": _("Date"),
                "province": _("Region"),
                **{f.key: f.label for f in specs},
            },  # fmt: skip
            kinds=KIND_LABELS,
            status_labels=_status_labels(),
            badges=STATUS_BADGES,
            commit_form=CommitForm(),
            editable=batch.status in ("uploaded", "analysed", "failed"),
            ep=self.ep,
        )

    def remap(self, batch_id: int):  # type: ignore[no-untyped-def]
        batch = self._batch(batch_id)
        headers = (batch.counts or {}).get("headers") or []
        chosen = {str(i): request.form.get(f"col-{i}", "") for i in range(len(headers))}
        try:
            services.remap(g.tenant, g.member, batch, chosen)
        except InvalidInput as err:
            db.session.rollback()
            _flash_errors(err)
            return redirect(url_for(f"{self.ep}.show", batch_id=batch_id))
        db.session.commit()
        flash(_("Mapping saved and the file checked again. This workspace will use it for the next file."),
              "success")  # fmt: skip
        return redirect(url_for(f"{self.ep}.show", batch_id=batch_id))

    def commit(self, batch_id: int):  # type: ignore[no-untyped-def]
        batch = self._batch(batch_id)
        form = CommitForm()
        if not form.validate_on_submit():
            flash(_("Choose how to import."), "danger")
            return redirect(url_for(f"{self.ep}.show", batch_id=batch_id))
        try:
            services.start_commit(g.tenant, g.member, batch, form.mode.data)
            job = submit("import_commit", g.member, {"batch_id": batch.id, "locale": str(get_locale())})
        except InvalidInput as err:
            db.session.rollback()
            _flash_errors(err)
            return redirect(url_for(f"{self.ep}.show", batch_id=batch_id))
        except JobsUnavailable:
            db.session.rollback()
            flash(_("The job service is unavailable right now, so nothing was started. Please try again shortly."),
                  "danger")  # fmt: skip
            return redirect(url_for(f"{self.ep}.show", batch_id=batch_id))
        batch = self._batch(batch_id)
        batch.job_id = job.id
        db.session.commit()
        return redirect(url_for("jobs.show", job_id=job.id))

    def undo(self, batch_id: int):  # type: ignore[no-untyped-def]
        batch = self._batch(batch_id)
        try:
            result = services.undo(g.tenant, g.member, batch)
        except InvalidInput as err:
            db.session.rollback()
            _flash_errors(err)
            return redirect(url_for(f"{self.ep}.show", batch_id=batch_id))
        db.session.commit()
        if "reversed" in result:
            flash(_("Import undone: %(reversed)d vouchers reversed, %(kept)d already reversed by hand.", **result),
                  "success")  # fmt: skip
        else:
            flash(_("Import undone: %(deleted)d removed, %(restored)d restored, %(kept)d kept because other records "
                    "use them (archived or deactivated).", **result), "success")  # fmt: skip
        return redirect(url_for(f"{self.ep}.show", batch_id=batch_id))

    def rejected(self, batch_id: int):  # type: ignore[no-untyped-def]
        batch = self._batch(batch_id)
        try:
            data = services.rejected_xlsx(batch)
        except InvalidInput as err:
            _flash_errors(err)
            return redirect(url_for(f"{self.ep}.show", batch_id=batch_id))
        name = f"rejected-{batch.id}.xlsx"
        return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)


SALES_KINDS = tuple(k for k in services.ACTIVE_KINDS if k not in services.FINANCE_KINDS)
finance_bp = Blueprint("journal_imports", __name__, url_prefix="/w/<slug>/finance/imports")
_Area(bp, "imports.run", SALES_KINDS)
_Area(finance_bp, "finance.access", services.FINANCE_KINDS)


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
