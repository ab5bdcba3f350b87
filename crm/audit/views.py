"""Settings → Audit log: who changed what and when, filtered, one change in detail, xlsx export."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from crm.audit import browse
from crm.audit.models import AuditEntry
from crm.db import db
from crm.sales.services import InvalidInput
from crm.scoping import get_or_404
from roles.checks import require
from workers.queue import JobsUnavailable, submit

bp = Blueprint("audit", __name__, url_prefix="/w/<slug>/settings/audit")

FILTER_KEYS = ("member_id", "object_type", "action", "date_from", "date_to")


def _filters() -> tuple[browse.AuditFilters, dict[str, str]]:
    raw = {k: request.values.get(k, "") for k in FILTER_KEYS}
    try:
        return browse.parse_filters(raw), {}
    except InvalidInput as err:
        return browse.AuditFilters(), err.errors


@bp.get("")
@require("audit.view")
def index():
    filters, errors = _filters()
    try:
        before = int(request.args["before"]) if request.args.get("before") else None
    except ValueError:
        before = None
    entries, next_id = browse.page(g.tenant, filters, before_id=before)
    args = {k: request.args.get(k, "") for k in FILTER_KEYS}
    ctx = {
        "entries": entries,
        "next_id": next_id,
        "filters": filters,
        "args": args,
        "query": {k: v for k, v in args.items() if v},
        "errors": errors,
        "options": browse.filter_options(),
        "type_label": browse.object_type_label,
        "paged": before is not None,
    }
    return render_template("audit/index.html", **ctx), (400 if errors else 200)


@bp.get("/<int:entry_id>")
@require("audit.view")
def show(entry_id: int):
    entry = get_or_404(AuditEntry, entry_id)
    return render_template(
        "audit/show.html",
        entry=entry,
        rows=browse.change_rows(entry),
        show_value=browse.show_value,
        type_label=browse.object_type_label,
    )


@bp.post("/export")
@require("audit.view")
def export():
    filters, errors = _filters()
    if errors:
        flash(_("Correct the filters before exporting."), "danger")
        return redirect(url_for("audit.index"))
    try:
        job = submit("audit_export", g.member, {**filters.as_params(), "locale": str(get_locale())})
    except JobsUnavailable:
        db.session.rollback()
        flash(
            _("The job service is unavailable right now, so nothing was started. Please try again shortly."), "danger"
        )
        return redirect(url_for("audit.index", **{k: v for k, v in filters.as_params().items() if v is not None}))
    return redirect(url_for("jobs.show", job_id=job.id))
