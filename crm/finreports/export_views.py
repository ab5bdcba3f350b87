"""Finance → Reports → Export: the two buttons on every report page start a report_export job.

POST /w/<slug>/finance/reports/<key>/export with the report's parameters (as the page echoes
them) and format=xlsx|pdf. The parameters are checked by building the report (its rows are a
generator, so nothing is read yet); bad ones are flashed and answered 400 without a job.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from crm.db import db
from crm.finreports.base import REPORTS, build
from crm.sales.services import InvalidInput
from roles.checks import require
from workers.queue import JobsUnavailable, submit

bp = Blueprint("finreport_exports", __name__, url_prefix="/w/<slug>/finance/reports")

FORMATS = ("xlsx", "pdf")
SKIP = {"csrf_token", "format"}
MAX_PARAMS = 20


def report_params(source: Any) -> dict[str, str]:
    """The report's parameters from a form: short non-empty strings, at most MAX_PARAMS."""
    out: dict[str, str] = {}
    for key in list(source.keys())[: MAX_PARAMS + len(SKIP)]:
        value = str(source.get(key) or "").strip()
        if key in SKIP or not value or len(key) > 40:
            continue
        out[key] = value[:200]
    return out


def check_report(key: str, params: dict[str, Any]) -> dict[str, Any]:
    """The validated parameters (as the builder echoes them); InvalidInput when bad."""
    report = build(key, g.tenant, g.member, params)
    close = getattr(report.rows, "close", None)
    if callable(close):  # a generator not started: release it at once
        close()
    return dict(report.params or params)


@bp.post("/<key>/export")
@require("finance.access")
def export(key: str):
    import crm.finreports.builders  # noqa: F401, PLC0415 — fills REPORTS

    back = request.referrer or url_for("finreports.index")
    fmt = request.form.get("format")
    if key not in REPORTS or fmt not in FORMATS:
        flash(_("Choose a report and a format (xlsx or PDF)."), "danger")
        return _back(back)
    params = report_params(request.form)
    try:
        checked = check_report(key, params)
    except InvalidInput as err:
        db.session.rollback()
        for field, reason in err.errors.items():
            flash(_("%(field)s: %(reason)s", field=field, reason=reason), "danger")
        return _back(back)
    try:
        job = submit("report_export", g.member, job_params(key, fmt, checked, str(get_locale())))
    except JobsUnavailable:
        db.session.rollback()
        flash(
            _("The job service is unavailable right now, so nothing was started. Please try again shortly."), "danger"
        )
        return redirect(back)
    return redirect(url_for("jobs.show", job_id=job.id))


def _back(back: str):  # type: ignore[no-untyped-def]
    """Answer 400 with a link back (the flash shows on that page)."""
    return render_template("finreports/_export_error.html", back=back), 400


def job_params(key: str, fmt: str, checked: dict[str, Any], locale: str) -> dict[str, Any]:
    """What the report_export job record carries (JSON: dates and numbers as their text)."""
    params = {str(k): (v if isinstance(v, str | int | bool) or v is None else str(v)) for k, v in checked.items()}
    return {"report": key, "format": fmt, "params": params, "locale": locale}
