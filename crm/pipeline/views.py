"""Sales → Pipeline: the kanban board per pipeline, the opportunity form and page, the forecast."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import format_decimal, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from crm.audit.models import AuditEntry
from crm.catalog.models import Product
from crm.choices import choices
from crm.contracts.models import Contract
from crm.db import db
from crm.orders.models import Order
from crm.pipeline import services
from crm.pipeline.forms import (
    BLANK_LINES,
    DeleteStageForm,
    LineForm,
    MoveForm,
    OpportunityForm,
    PipelineForm,
    StageForm,
)
from crm.pipeline.models import Opportunity, Pipeline, Stage
from crm.quotes.models import Quote
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


def _card_context(cards: list[Opportunity]) -> dict[str, Any]:
    now = services.utcnow()
    return {
        "rotting": {o.id for o in cards if services.is_rotting(o, now)},
        "days": {o.id: services.days_in_stage(o, now) for o in cards},
        "cursor": services.board_cursor,
    }


def _board_context(pipe: Pipeline) -> dict[str, Any]:
    columns = services.board(g.member, pipe)
    return {
        "pipe": pipe,
        "columns": columns,
        **_card_context([o for c in columns for o in c.cards]),
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


@bp.get("/<int:pipeline_id>/stages/<int:stage_id>/cards")
@require("sales.access")
def more_cards(pipeline_id: int, stage_id: int):
    """ "Load more" of a board column: the next cards after the keyset (close, after), and the next button."""
    pipe = get_or_404(Pipeline, pipeline_id)
    stage = get_or_404(Stage, stage_id)
    if stage.pipeline_id != pipe.id:
        abort(404)
    raw_close = request.args.get("close", "")
    try:
        close = date.fromisoformat(raw_close) if raw_close else None
    except ValueError:
        abort(400)
    after = request.args.get("after", type=int)  # none: the column from its first card
    cards, has_more = services.more_cards(g.member, stage, close, after)
    return render_template(
        "sales/pipeline/_cards.html", pipe=pipe, stage=stage, cards=cards, has_more=has_more, **_card_context(cards)
    )


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


def _products(form: OpportunityForm) -> list[Product]:
    """Active products to pick from, plus any a line already names (it may have been deactivated since)."""
    named = {e.form.product_id.data for e in form.lines.entries if e.form.product_id.data}
    cond = Product.active.is_(True) if not named else or_(Product.active.is_(True), Product.id.in_(named))
    return list(db.session.scalars(select(Product).where(cond).order_by(Product.code).limit(500)))


def _form(opp: Opportunity | None, pipe: Pipeline) -> OpportunityForm:
    form = OpportunityForm(obj=opp)
    form.customer_id.choices = choices(_customer_choices(opp.customer if opp else None))
    form.stage_id.choices = choices([(s.id, f"{s.name} · {s.probability}%") for s in pipe.stages])
    form.lost_reason_id.choices = choices([(None, "—")] + [(r.id, r.name) for r in services.lost_reasons()])
    form.owner_id.choices = choices(_owner_choices(opp.owner if opp else None))
    return form


def _filled(form: OpportunityForm) -> list[LineForm]:
    return [e.form for e in form.lines.entries if not e.form.is_blank()]


def _line_inputs(form: OpportunityForm) -> list[services.LineInput]:
    return [
        services.LineInput(
            product_id=f.product_id.data,
            description=f.description.data or "",
            quantity=f.quantity.data,
            unit_price=f.unit_price.data,
        )  # fmt: skip
        for f in _filled(form)
    ]


def _apply_errors(form: OpportunityForm, errors: dict[str, str]) -> None:
    """Errors beside their fields; lines.<n>.<field> counts the filled rows."""
    filled = _filled(form)
    for key, msg in errors.items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(filled):
            filled[int(parts[1])][parts[2]].errors = [msg]
        elif hasattr(form, key) and key != "lines":
            getattr(form, key).errors = [msg]
        else:
            form.form_errors.append(msg)


def _save(form: OpportunityForm, opp: Opportunity | None, pipe: Pipeline):
    if form.validate_on_submit():
        values = {k: getattr(form, k).data for k in services.OPPORTUNITY_FIELDS if hasattr(form, k)}
        values["competitor"] = form.competitor.data
        # The form marks that it carries the lines (it may carry none: every row removed); a post
        # without the mark leaves the lines as they are.
        lines = _line_inputs(form) if request.form.get("lines_sent") else None
        if lines:
            values.pop("amount")  # the lines' sum, computed by the service; the field is read-only
        data = services.OpportunityInput(
            values=values, stage_id=form.stage_id.data, lost_reason_id=form.lost_reason_id.data, lines=lines
        )
        try:
            if opp is None:
                opp = services.create_opportunity(g.member, data)
            else:
                services.update_opportunity(g.member, opp, data)
        except services.InvalidInput as err:
            db.session.rollback()
            _apply_errors(form, err.errors)
        except PermissionDenied:
            db.session.rollback()
            abort(403)
        else:
            db.session.commit()
            flash(_("Opportunity “%(title)s” saved.", title=opp.title), "success")
            return redirect(url_for("pipeline.show", opportunity_id=opp.id))
    status = 400 if request.method == "POST" else 200
    has_lines = bool(_filled(form))
    while len(form.lines.entries) - len(_filled(form)) < BLANK_LINES:
        form.lines.append_entry()
    return render_template(
        "sales/pipeline/form.html", form=form, opp=opp, pipe=pipe, products=_products(form), has_lines=has_lines
    ), status


@bp.route("/opportunities/new", methods=["GET", "POST"])
@require("sales.access")
def new():
    default = _default_pipeline()
    wanted = request.args.get("pipeline_id", type=int)
    pipe = (get_or_404(Pipeline, wanted) if wanted else None) or default
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


QUOTE_STATUSES = {
    "draft": _l("Draft"), "sent": _l("Sent"), "accepted": _l("Accepted"), "rejected": _l("Rejected"),
    "expired": _l("Expired"), "superseded": _l("Superseded"),
}  # fmt: skip
CONTRACT_STATUSES = {
    "draft": _l("Draft"), "pending": _l("Pending approval"), "active": _l("Active"), "expired": _l("Expired"),
    "terminated": _l("Terminated"),
}  # fmt: skip
DELIVERY_STATUSES = {
    "pending": _l("Pending"), "partial": _l("Partly delivered"), "delivered": _l("Delivered"),
    "cancelled": _l("Cancelled"),
}  # fmt: skip


def _linked(opp: Opportunity) -> dict[str, list[Any]]:
    """The quotes, contracts and orders that came from this deal: three statements, whatever their number."""
    quote_ids = select(Quote.id).where(Quote.opportunity_id == opp.id).scalar_subquery()
    quotes = list(
        db.session.scalars(select(Quote).where(Quote.opportunity_id == opp.id).order_by(Quote.id.desc()).limit(50))
    )
    contracts = list(
        db.session.scalars(
            select(Contract)
            .where(or_(Contract.opportunity_id == opp.id, Contract.quote_id.in_(quote_ids)))
            .order_by(Contract.id.desc())
            .limit(50)
        )
    )
    contract_ids = (
        select(Contract.id)
        .where(or_(Contract.opportunity_id == opp.id, Contract.quote_id.in_(quote_ids)))
        .scalar_subquery()
    )
    orders = list(
        db.session.scalars(
            select(Order)
            .where(or_(Order.contract_id.in_(contract_ids), Order.quote_id.in_(quote_ids)))
            .order_by(Order.id.desc())
            .limit(50)
        )
    )
    return {"quotes": quotes, "contracts": contracts, "orders": orders}


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
        linked=_linked(opp),
        quote_statuses=QUOTE_STATUSES,
        contract_statuses=CONTRACT_STATUSES,
        delivery_statuses=DELIVERY_STATUSES,
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


# --- settings: pipelines and their stages (pipeline.manage) --------------------------------


def _settings_page(form: PipelineForm | None = None, error: str | None = None, status: int = 200):
    _default_pipeline()
    return render_template(
        "sales/pipeline/settings.html",
        pipes=services.pipelines(),
        counts=services.pipeline_counts(),
        form=form or PipelineForm(formdata=None),
        error=error,
    ), status


@bp.route("/settings", methods=["GET", "POST"])
@require("pipeline.manage")
def settings():
    form = PipelineForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                pipe = services.create_pipeline(g.member, form.name.data)
            except services.InvalidInput as err:
                db.session.rollback()
                form.name.errors = [err.errors.get("name", "")]
            else:
                db.session.commit()
                flash(_("Pipeline “%(name)s” created: now set up its stages.", name=pipe.name), "success")
                return redirect(url_for("pipeline.pipeline_settings", pipeline_id=pipe.id))
        return _settings_page(form, status=400)
    return _settings_page()


def _stage_of(pipe: Pipeline, stage_id: int) -> Stage:
    stage = get_or_404(Stage, stage_id)
    if stage.pipeline_id != pipe.id:
        abort(404)
    return stage


def _pipeline_page(
    pipe: Pipeline,
    status: int = 200,
    *,
    name_form: PipelineForm | None = None,
    add_form: StageForm | None = None,
    failed: tuple[int, dict[str, str], dict[str, Any]] | None = None,
    delete_error: tuple[int, str] | None = None,
    general: list[str] | None = None,
):
    """The stages editor. `failed` = (stage id, errors, the values posted) for the stage form that was refused."""
    stages = sorted(pipe.stages, key=lambda s: s.position)
    if name_form is None:
        name_form = PipelineForm(formdata=None, obj=pipe)
    if add_form is None:
        add_form = StageForm(formdata=None, kind="open")
    ctx = {
        "pipe": pipe,
        "stages": stages,
        "counts": services.stage_counts(pipe),
        "name_form": name_form,
        "add_form": add_form,
        "failed": failed,
        "delete_error": delete_error,
        "general": general or [],
        "kind_labels": {"open": pgettext("stage kind", "Open"), "won": _("Won (final)"), "lost": _("Lost (final)")},
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "stages":
        # htmx swaps only a 2xx answer: a refused drag answers the list as saved, with the reason on top
        return render_template("sales/pipeline/_stages.html", **ctx), 200
    return render_template("sales/pipeline/pipeline_settings.html", **ctx), status


def _back(pipe: Pipeline, message: str):
    db.session.commit()
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "stages":
        return _pipeline_page(pipe)  # the list itself shows the change
    flash(message, "success")
    return redirect(url_for("pipeline.pipeline_settings", pipeline_id=pipe.id))


@bp.route("/settings/<int:pipeline_id>", methods=["GET", "POST"])
@require("pipeline.manage")
def pipeline_settings(pipeline_id: int):
    """The stages of one pipeline; POST renames the pipeline."""
    pipe = get_or_404(Pipeline, pipeline_id)
    if request.method == "GET":
        return _pipeline_page(pipe)
    form = PipelineForm()
    if form.validate_on_submit():
        try:
            services.rename_pipeline(g.member, pipe, form.name.data)
        except services.InvalidInput as err:
            db.session.rollback()
            form.name.errors = [err.errors.get("name", "")]
        else:
            return _back(pipe, _("Pipeline renamed."))
    return _pipeline_page(pipe, 400, name_form=form)


@bp.post("/settings/<int:pipeline_id>/default")
@require("pipeline.manage")
def pipeline_default(pipeline_id: int):
    pipe = get_or_404(Pipeline, pipeline_id)
    services.set_default_pipeline(g.member, pipe)
    db.session.commit()
    flash(_("New opportunities now go to “%(name)s”.", name=pipe.name), "success")
    return redirect(url_for("pipeline.settings"))


@bp.post("/settings/<int:pipeline_id>/delete")
@require("pipeline.manage")
def pipeline_delete(pipeline_id: int):
    pipe = get_or_404(Pipeline, pipeline_id)
    name = pipe.name
    try:
        services.delete_pipeline(g.member, pipe)
    except services.InvalidInput as err:
        db.session.rollback()
        return _settings_page(error=" ".join(err.errors.values()), status=400)
    db.session.commit()
    flash(_("Pipeline “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("pipeline.settings"))


def _stage_values(form: StageForm) -> dict[str, Any]:
    values: dict[str, Any] = {"name": form.name.data, "rot_days": form.rot_days.data, "kind": form.kind.data}
    if form.kind.data == "open" and form.probability.data is not None:
        values["probability"] = form.probability.data  # won and lost stages carry a fixed probability
    return values


def _form_errors(form: StageForm) -> dict[str, str]:
    return {name: str(errs[0]) for name, errs in form.errors.items() if errs and name != "csrf_token"}


@bp.post("/settings/<int:pipeline_id>/stages")
@require("pipeline.manage")
def stage_add(pipeline_id: int):
    pipe = get_or_404(Pipeline, pipeline_id)
    form = StageForm()
    if form.validate_on_submit():
        try:
            stage = services.add_stage(g.member, pipe, _stage_values(form))
        except services.InvalidInput as err:
            db.session.rollback()
            pipe = get_or_404(Pipeline, pipeline_id)
            for fld, msg in err.errors.items():
                if hasattr(form, fld):
                    getattr(form, fld).errors = [msg]
                else:
                    form.kind.errors = [msg]
        else:
            return _back(pipe, _("Stage “%(name)s” added.", name=stage.name))
    return _pipeline_page(pipe, 400, add_form=form)


@bp.post("/settings/<int:pipeline_id>/stages/order")
@require("pipeline.manage")
def stage_order(pipeline_id: int):
    """The drag and drop of the stages editor: stage_ids, comma-separated, in their new order."""
    pipe = get_or_404(Pipeline, pipeline_id)
    raw = request.form.get("stage_ids", "")
    try:
        ids = [int(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        ids = []
    try:
        services.reorder_stages(g.member, pipe, ids)
    except services.InvalidInput as err:
        db.session.rollback()
        pipe = get_or_404(Pipeline, pipeline_id)
        return _pipeline_page(pipe, 400, general=list(err.errors.values()))
    return _back(pipe, _("Stages reordered."))


@bp.post("/settings/<int:pipeline_id>/stages/<int:stage_id>")
@require("pipeline.manage")
def stage_update(pipeline_id: int, stage_id: int):
    pipe = get_or_404(Pipeline, pipeline_id)
    stage = _stage_of(pipe, stage_id)
    form = StageForm()
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        try:
            services.update_stage(g.member, stage, _stage_values(form))
        except services.InvalidInput as err:
            errors = dict(err.errors)
        else:
            return _back(pipe, _("Stage “%(name)s” saved.", name=stage.name))
    else:
        errors = _form_errors(form) or {"name": _("Your form expired. Please reload the page and try again.")}
    db.session.rollback()
    pipe = get_or_404(Pipeline, pipeline_id)
    posted = {k: request.form.get(k, "") for k in ("name", "probability", "rot_days", "kind")}
    return _pipeline_page(pipe, 400, failed=(stage_id, errors, posted))


@bp.post("/settings/<int:pipeline_id>/stages/<int:stage_id>/move")
@require("pipeline.manage")
def stage_move(pipeline_id: int, stage_id: int):
    """Up or down one place: the stages editor without JavaScript."""
    pipe = get_or_404(Pipeline, pipeline_id)
    stage = _stage_of(pipe, stage_id)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""), 0)
    try:
        if not step:
            raise services.InvalidInput({"order": _("Move a stage up or down.")})
        services.move_stage(g.member, stage, step)
    except services.InvalidInput as err:
        db.session.rollback()
        pipe = get_or_404(Pipeline, pipeline_id)
        return _pipeline_page(pipe, 400, general=list(err.errors.values()))
    return _back(pipe, _("Stages reordered."))


@bp.post("/settings/<int:pipeline_id>/stages/<int:stage_id>/delete")
@require("pipeline.manage")
def stage_delete(pipeline_id: int, stage_id: int):
    """An empty stage goes; one holding opportunities asks where to move them first."""
    pipe = get_or_404(Pipeline, pipeline_id)
    stage = _stage_of(pipe, stage_id)
    form = DeleteStageForm()
    if not form.validate_on_submit():
        return _pipeline_page(
            pipe, 400, delete_error=(stage_id, _("Your form expired. Please reload the page and try again."))
        )
    name = stage.name
    try:
        services.delete_stage(g.member, stage, form.move_to.data)
    except services.InvalidInput as err:
        db.session.rollback()
        pipe = get_or_404(Pipeline, pipeline_id)
        return _pipeline_page(pipe, 400, delete_error=(stage_id, " ".join(err.errors.values())))
    return _back(pipe, _("Stage “%(name)s” deleted.", name=name))


# --- the customer 360° page: this customer's opportunities ----------------------------------


def _customer_section(member: Membership, customer: Customer) -> dict[str, Any] | None:
    if not can(member, "sales.access"):
        return None
    return {"opportunities": services.customer_opportunities(member, customer)}


register(Section(40, "sales/pipeline/_customer_section.html", _customer_section))
