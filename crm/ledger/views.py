"""Sales → Ledger (销售台账): the lines, the summaries (SUMIF sheets), growth, charts, targets and
the reps' ranking, saved views and exports. Thin: parse, check, call crm.ledger.services."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from crm.db import db
from crm.ledger import charts as ledger_charts
from crm.ledger import services
from crm.ledger.forms import TargetForm, ViewForm
from crm.ledger.models import LedgerView, SalesTarget
from crm.sales.services import InvalidInput
from crm.scoping import get_or_404
from roles.checks import PermissionDenied, can, require
from workers.queue import JobsUnavailable, submit

bp = Blueprint("ledger", __name__, url_prefix="/w/<slug>/sales/ledger")

EXPORTS = ("ledger", "summary", "growth")
FORMATS = ("xlsx", "pdf")


def _filter_or_errors() -> tuple[services.LedgerFilter, dict[str, str]]:
    try:
        return services.parse_filter(request.args), {}
    except InvalidInput as err:
        return services.LedgerFilter(), err.errors


def _common(f: services.LedgerFilter, errors: dict[str, str], tab: str) -> dict[str, Any]:
    return {
        "f": f, "errors": errors, "tab": tab, "choices": services.filter_choices(g.member),
        "views": services.visible_views(g.member), "view_form": ViewForm(),
        "query": request.query_string.decode()[:1000], "can_share": can(g.member, "targets.manage"),
    }  # fmt: skip


def _status(errors: dict[str, str]) -> int:
    return 400 if errors else 200


@bp.get("")
@require("sales.access")
def index():
    f, errors = _filter_or_errors()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    result = services.ledger_page(g.member, f, page)
    return render_template("ledger/index.html", result=result, **_common(f, errors, "ledger")), _status(errors)


def _summary_args() -> tuple[str, str | None, str]:
    rows = request.args.get("rows") or "region"
    cols = request.args.get("cols") or None
    measure = request.args.get("measure") or "amount"
    return rows, cols, measure


@bp.get("/summary")
@require("sales.access")
def summary():
    f, errors = _filter_or_errors()
    rows, cols, measure = _summary_args()
    try:
        pivot = services.summarize(g.member, f, rows, cols, measure)
    except InvalidInput as err:
        errors = {**errors, **err.errors}
        pivot = services.summarize(g.member, f, "region", None, "amount")
    return render_template(
        "ledger/summary.html", pivot=pivot, dimensions=services.DIMENSION_LABELS, measures=services.MEASURE_LABELS,
        **_common(f, errors, "summary"),
    ), _status(errors)  # fmt: skip


@bp.get("/growth")
@require("sales.access")
def growth():
    f, errors = _filter_or_errors()
    a = request.args
    try:
        result = services.growth(g.member, f, a.get("period") or "month", a.get("by") or "",
                                 a.get("compare") or "previous", a.get("measure") or "amount")  # fmt: skip
    except InvalidInput as err:
        errors = {**errors, **err.errors}
        result = services.growth(g.member, services.LedgerFilter(), "month")
    return render_template(
        "ledger/growth.html", growth=result, periods=services.PERIOD_LABELS,
        title=services.growth_title(result.period, result.compare), measures=services.MEASURE_LABELS,
        dimensions=services.DIMENSION_LABELS, **_common(f, errors, "growth"),
    ), _status(errors)  # fmt: skip


@bp.get("/charts")
@require("sales.access")
def charts():
    f, errors = _filter_or_errors()
    data = ledger_charts.build(g.member, f)
    return render_template("ledger/charts.html", charts=data, **_common(f, errors, "charts")), _status(errors)


# ---------------------------------------------------------------- targets and ranking


def _period_arg() -> str:
    raw = (request.args.get("period") or "").strip().upper()
    if raw:
        return raw
    today = date.today()
    return f"{today.year:04d}-{today.month:02d}"


def _target_form() -> TargetForm:
    form = TargetForm()
    form.member_id.choices = [("", "—")] + [(str(m.id), m.user.name) for m in services.sales_reps(g.member)]
    return form


@bp.get("/targets")
@require("sales.access")
def targets():
    period = _period_arg()
    errors: dict[str, str] = {}
    try:
        result = services.ranking(g.member, period)
    except InvalidInput as err:
        errors = err.errors
        result = services.ranking(g.member, f"{date.today():%Y-%m}")
    form = _target_form()
    if not form.period.data:
        form.period.data = result.period
    return render_template(
        "ledger/targets.html", ranking=result, form=form, errors=errors, tab="targets",
        can_manage=can(g.member, "targets.manage"),
        targets=services.list_targets(g.member, result.period) if can(g.member, "targets.manage") else [],
    ), _status(errors)  # fmt: skip


@bp.post("/targets")
@require("sales.access", "targets.manage")
def set_target():
    form = _target_form()
    if form.validate_on_submit():
        try:
            target = services.set_target(g.tenant, g.member, form.member_id.data, form.period.data, form.amount.data)
        except InvalidInput as err:
            db.session.rollback()
            for key, reason in err.errors.items():
                if key in form._fields:
                    form[key].errors = [reason]
        else:
            db.session.commit()
            flash(_("Target saved."), "success")
            return redirect(url_for("ledger.targets", period=target.period))
    period = (form.period.data or "").strip().upper()
    try:
        result = services.ranking(g.member, period)
    except InvalidInput:
        result = services.ranking(g.member, f"{date.today():%Y-%m}")
    return render_template(
        "ledger/targets.html", ranking=result, form=form, errors={}, tab="targets", can_manage=True,
        targets=services.list_targets(g.member, result.period),
    ), 400  # fmt: skip


@bp.post("/targets/<int:sales_target_id>/delete")
@require("sales.access", "targets.manage")
def delete_target(sales_target_id: int):
    target = get_or_404(SalesTarget, sales_target_id)
    if not services.visible_target(g.member, target):
        abort(404)
    period = target.period
    try:
        services.delete_target(g.member, target)
    except PermissionDenied:
        abort(403)
    db.session.commit()
    flash(_("Target deleted."), "success")
    return redirect(url_for("ledger.targets", period=period))


# ---------------------------------------------------------------- saved views

TAB_ENDPOINTS = {"ledger": "ledger.index", "summary": "ledger.summary", "growth": "ledger.growth",
                 "charts": "ledger.charts"}  # fmt: skip


def _query_dict(raw: str) -> dict[str, str]:
    from urllib.parse import parse_qsl  # noqa: PLC0415

    return dict(parse_qsl(raw or "", keep_blank_values=False)[:40])


@bp.post("/views")
@require("sales.access")
def save_view():
    form = ViewForm()
    tab = request.form.get("tab") if request.form.get("tab") in TAB_ENDPOINTS else "ledger"
    params = _query_dict(form.params.data or "")
    back = url_for(TAB_ENDPOINTS[tab]) + ("?" + urlencode(params) if params else "")
    if not form.validate_on_submit():
        flash(_("Give the view a name."), "danger")
        return render_template("ledger/_back.html", back=back), 400
    try:
        params["tab"] = tab
        view = services.save_view(g.tenant, g.member, form.name.data, {**params}, bool(form.shared.data))
        view.params = {**view.params, "tab": tab}
    except InvalidInput as err:
        db.session.rollback()
        for reason in err.errors.values():
            flash(reason, "danger")
        return render_template("ledger/_back.html", back=back), 400
    db.session.commit()
    flash(_("View “%(name)s” saved.", name=view.name), "success")
    return redirect(back)


@bp.get("/views/<int:ledger_view_id>")
@require("sales.access")
def open_view(ledger_view_id: int):
    view = get_or_404(LedgerView, ledger_view_id)
    if not services.can_use_view(g.member, view):
        abort(404)
    params = dict(view.params or {})
    tab = params.pop("tab", "ledger")
    endpoint = TAB_ENDPOINTS.get(tab, "ledger.index")
    return redirect(url_for(endpoint) + ("?" + urlencode(params) if params else ""))


@bp.post("/views/<int:ledger_view_id>/delete")
@require("sales.access")
def delete_view(ledger_view_id: int):
    view = get_or_404(LedgerView, ledger_view_id)
    if not services.can_use_view(g.member, view):
        abort(404)
    try:
        services.delete_view(g.member, view)
    except PermissionDenied:
        abort(403)
    db.session.commit()
    flash(_("View deleted."), "success")
    return redirect(url_for("ledger.index"))


# ---------------------------------------------------------------- exports


@bp.post("/export")
@require("sales.access")
def export():
    """Start a ledger_export job for what the page shows (ledger, summary or growth) as xlsx
    or PDF; the parameters are checked first, so a bad one starts nothing."""
    from crm.ledger.export import check_params  # noqa: PLC0415

    what, fmt = request.form.get("what"), request.form.get("format")
    params = _query_dict(request.form.get("params") or "")
    back = url_for(TAB_ENDPOINTS.get(what or "", "ledger.index")) + ("?" + urlencode(params) if params else "")
    if what not in EXPORTS or fmt not in FORMATS:
        flash(_("Choose what to export and a format (xlsx or PDF)."), "danger")
        return render_template("ledger/_back.html", back=back), 400
    try:
        checked = check_params(g.member, what, params)
    except InvalidInput as err:
        db.session.rollback()
        for field, reason in err.errors.items():
            flash(_("%(field)s: %(reason)s", field=field, reason=reason), "danger")
        return render_template("ledger/_back.html", back=back), 400
    try:
        job = submit("ledger_export", g.member, {"what": what, "format": fmt, "params": checked,
                                                 "locale": str(get_locale())})  # fmt: skip
    except JobsUnavailable:
        db.session.rollback()
        flash(_("The job service is unavailable right now, so nothing was started. Please try again shortly."),
              "danger")  # fmt: skip
        return redirect(back)
    return redirect(url_for("jobs.show", job_id=job.id))
