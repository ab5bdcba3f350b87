"""Sales → Pipeline: the kanban board per pipeline, the opportunity form and page, the forecast."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.choices import choices
from crm.db import db
from crm.pipeline import services
from crm.pipeline.forms import MoveForm, OpportunityForm
from crm.pipeline.models import Opportunity, Pipeline
from crm.sales.models import Customer
from crm.sales.sections import Section, register
from crm.sales.visibility import customer_filter
from crm.scoping import get_or_404
from roles.checks import PermissionDenied, can, require
from roles.scopes import visible_member_ids
from tenants.models import Membership

bp = Blueprint("pipeline", __name__, url_prefix="/w/<slug>/sales/pipeline")


@bp.app_template_filter("yuan")
def yuan(value: Decimal | None) -> str:
    """¥1,234.50 — exact, from the Decimal, in the page's locale."""
    return "¥" + format_decimal(value or Decimal("0"), format="#,##0.00")


def _default_pipeline() -> Pipeline:
    pipe = services.ensure_default_pipeline(g.member)
    if db.session.new or db.session.dirty:
        db.session.commit()
    return pipe


def _visible(opportunity_id: int) -> Opportunity:
    opp = get_or_404(Opportunity, opportunity_id)
    if not services.can_read(g.member, opp):
        abort(404)  # out of scope reads like a foreign id
    return opp


def _board_context(pipe: Pipeline) -> dict[str, Any]:
    columns = services.board(g.member, pipe)
    now = services.utcnow()
    return {
        "pipe": pipe,
        "columns": columns,
        "rotting": {o.id for c in columns for o in c.cards if services.is_rotting(o, now)},
        "days": {o.id: services.days_in_stage(o, now) for c in columns for o in c.cards},
        "lost_reasons": services.lost_reasons(),
        "pipelines": services.pipelines(),
    }


@bp.get("")
@require("sales.access")
def index():
    return redirect(url_for("pipeline.board", pipeline_id=_default_pipeline().id))


@bp.get("/<int:pipeline_id>")
@require("sales.access")
def board(pipeline_id: int):
    _default_pipeline()
    pipe = get_or_404(Pipeline, pipeline_id)
    ctx = _board_context(pipe)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "board":
        return render_template("sales/pipeline/_board.html", **ctx)
    return render_template("sales/pipeline/board.html", **ctx)


@bp.post("/opportunities/<int:opportunity_id>/move")
@require("sales.access")
def move(opportunity_id: int):
    """The kanban drop. Answers the refreshed board, or 422 with the reason (nothing changed)."""
    opp = _visible(opportunity_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return _("Choose a stage."), 422
    try:
        stage_id = int(form.stage_id.data)
        reason_id = int(form.lost_reason_id.data) if form.lost_reason_id.data else None
    except ValueError:
        return _("Choose a stage."), 422
    try:
        services.change_stage(g.member, opp, stage_id, reason_id, form.competitor.data)
    except services.InvalidInput as err:
        db.session.rollback()
        return " ".join(err.errors.values()), 422
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    db.session.commit()
    pipe = db.session.get(Pipeline, opp.pipeline_id)
    return render_template("sales/pipeline/_board.html", **_board_context(pipe))


def _customer_choices(current: Customer | None) -> list[tuple[int | None, str]]:
    rows = db.session.execute(
        select(Customer.id, Customer.name)
        .where(Customer.archived_at.is_(None), customer_filter(g.member))
        .order_by(Customer.name_normalized)
        .limit(1000)
    ).all()
    out: list[tuple[int | None, str]] = [(None, "—")] + [(cid, name) for cid, name in rows]
    if current is not None and all(cid != current.id for cid, _n in out):
        out.append((current.id, current.name))
    return out


def _owner_choices(current: Membership | None) -> list[tuple[int | None, str]]:
    visible = visible_member_ids(g.member)
    stmt = select(Membership).where(Membership.is_active.is_(True)).order_by(Membership.id)
    if visible is not None:
        stmt = stmt.where(Membership.id.in_(visible))
    members = [m for m in db.session.scalars(stmt) if can(m, "sales.access")]
    out: list[tuple[int | None, str]] = [(m.id, m.user.name) for m in members]
    if current is not None and all(mid != current.id for mid, _n in out):
        out.append((current.id, current.user.name))
    return out


def _form(opp: Opportunity | None, pipe: Pipeline) -> OpportunityForm:
    form = OpportunityForm(obj=opp)
    form.customer_id.choices = choices(_customer_choices(opp.customer if opp else None))
    form.stage_id.choices = choices([(s.id, f"{s.name} · {s.probability}%") for s in pipe.stages])
    form.lost_reason_id.choices = choices([(None, "—")] + [(r.id, r.name) for r in services.lost_reasons()])
    form.owner_id.choices = choices(_owner_choices(opp.owner if opp else None))
    return form


def _save(form: OpportunityForm, opp: Opportunity | None, pipe: Pipeline):
    if form.validate_on_submit():
        values = {k: getattr(form, k).data for k in services.OPPORTUNITY_FIELDS if hasattr(form, k)}
        values["competitor"] = form.competitor.data
        data = services.OpportunityInput(
            values=values, stage_id=form.stage_id.data, lost_reason_id=form.lost_reason_id.data
        )
        try:
            if opp is None:
                opp = services.create_opportunity(g.member, data)
            else:
                services.update_opportunity(g.member, opp, data)
        except services.InvalidInput as err:
            db.session.rollback()
            for fld, msg in err.errors.items():
                if hasattr(form, fld):
                    getattr(form, fld).errors = [msg]
                else:
                    form.form_errors.append(msg)
        except PermissionDenied:
            db.session.rollback()
            abort(403)
        else:
            db.session.commit()
            flash(_("Opportunity “%(title)s” saved.", title=opp.title), "success")
            return redirect(url_for("pipeline.show", opportunity_id=opp.id))
    status = 400 if request.method == "POST" else 200
    return render_template("sales/pipeline/form.html", form=form, opp=opp, pipe=pipe), status


@bp.route("/opportunities/new", methods=["GET", "POST"])
@require("sales.access")
def new():
    pipe = _default_pipeline()
    form = _form(None, pipe)
    if request.method == "GET":
        form.owner_id.data = g.member.id
        form.stage_id.data = pipe.stages[0].id
        form.customer_id.data = request.args.get("customer_id", type=int)
    return _save(form, None, pipe)


@bp.route("/opportunities/<int:opportunity_id>/edit", methods=["GET", "POST"])
@require("sales.access")
def edit(opportunity_id: int):
    opp = _visible(opportunity_id)
    if not services.can_edit(g.member, opp):
        abort(403)
    return _save(_form(opp, opp.pipeline), opp, opp.pipeline)


@bp.get("/opportunities/<int:opportunity_id>")
@require("sales.access")
def show(opportunity_id: int):
    opp = _visible(opportunity_id)
    history = list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "Opportunity", AuditEntry.object_id == opp.id)
            .order_by(AuditEntry.id.desc())
            .limit(30)
        )
    )
    return render_template(
        "sales/pipeline/show.html",
        opp=opp,
        history=history,
        editable=services.can_edit(g.member, opp),
        rotting=services.is_rotting(opp),
        days=services.days_in_stage(opp),
    )


@bp.post("/opportunities/<int:opportunity_id>/delete")
@require("sales.access")
def delete(opportunity_id: int):
    opp = _visible(opportunity_id)
    pipeline_id = opp.pipeline_id
    try:
        services.delete_opportunity(g.member, opp)
    except PermissionDenied:
        abort(403)
    db.session.commit()
    flash(_("Opportunity deleted."), "success")
    return redirect(url_for("pipeline.board", pipeline_id=pipeline_id))


@bp.get("/forecast")
@require("sales.access")
def forecast():
    pipe = _default_pipeline()
    by_month = services.forecast(g.member, "month")
    by_rep = services.forecast(g.member, "rep")
    funnel = services.funnel(g.member, pipe)
    # Chart.js reads numbers: floats exist only here, in the rendered JSON, never in a sum.
    charts = {
        "forecast": {
            "type": "bar",
            "data": {
                "labels": [str(r["label"]) for r in by_month],
                "datasets": [
                    {
                        "label": _("Amount"),
                        "data": [str(r["amount"]) for r in by_month],  # Chart.js parses numeric strings: exact
                        "backgroundColor": "#adb5bd",
                    },
                    {
                        "label": _("Weighted amount"),
                        "data": [str(r["weighted"]) for r in by_month],
                        "backgroundColor": "#1f6f5c",
                    },
                ],
            },
            "options": {"plugins": {"legend": {"display": True}}},
        },
        "funnel": {
            "type": "bar",
            "data": {
                "labels": [s.name for s, _n in funnel],
                "datasets": [
                    {"label": _("Opportunities"), "data": [n for _s, n in funnel], "backgroundColor": "#4c8bf5"}
                ],
            },
            "options": {"indexAxis": "y", "scales": {"x": {"beginAtZero": True, "ticks": {"precision": 0}}}},
        },
    }
    return render_template(
        "sales/pipeline/forecast.html", pipe=pipe, by_month=by_month, by_rep=by_rep, funnel=funnel, charts=charts
    )


@bp.route("/lost-reasons", methods=["GET", "POST"])
@require("pipeline.manage")
def lost_reasons():
    error = None
    if request.method == "POST":
        try:
            services.add_lost_reason(g.member, request.form.get("name", ""))
        except services.InvalidInput as err:
            db.session.rollback()
            error = err.errors["name"]
        else:
            db.session.commit()
            flash(_("Lost reason added."), "success")
            return redirect(url_for("pipeline.lost_reasons"))
    _default_pipeline()
    return render_template(
        "sales/pipeline/lost_reasons.html", reasons=services.lost_reasons(active_only=False), error=error
    ), (400 if error else 200)


# --- the customer 360° page: this customer's opportunities ----------------------------------


def _customer_section(member: Membership, customer: Customer) -> dict[str, Any] | None:
    if not can(member, "sales.access"):
        return None
    return {"opportunities": services.customer_opportunities(member, customer)}


register(Section(40, "sales/pipeline/_customer_section.html", _customer_section))
