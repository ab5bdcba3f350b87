"""/api/v1/pipelines, /api/v1/opportunities and /api/v1/forecast: the UI's rules, through the same services."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.db import db
from crm.pipeline import services
from crm.pipeline.models import Opportunity, Pipeline, Stage
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, require

pipelines_bp = Blueprint("api_pipelines", __name__, url_prefix="/pipelines", description="Pipelines and stages")
opportunities_bp = Blueprint(
    "api_opportunities", __name__, url_prefix="/opportunities", description="Opportunities (商机)"
)
forecast_bp = Blueprint("api_forecast", __name__, url_prefix="/forecast", description="Weighted forecast")


class StageSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    position = fields.Integer()
    probability = fields.Integer(metadata={"description": "win probability, percent"})
    rot_days = fields.Integer(allow_none=True)
    kind = fields.String(metadata={"description": "open | won | lost"})


class PipelineSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    is_default = fields.Boolean()
    stages = fields.List(fields.Nested(StageSchema))


class LineSchema(Schema):
    product_id = fields.Integer(allow_none=True)
    description = fields.String(
        load_default="", validate=validate.Length(max=200), metadata={"description": "empty: the product's name"}
    )
    quantity = fields.Decimal(as_string=True, load_default="1")
    unit_price = fields.Decimal(
        as_string=True, allow_none=True, load_default=None, metadata={"description": "empty: the product's list price"}
    )
    amount = fields.Decimal(as_string=True, dump_only=True, metadata={"description": "quantity × unit price"})


class PipelineInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class PipelinePatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    is_default = fields.Boolean(metadata={"description": "true: new opportunities go to this pipeline"})


class StageInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    probability = fields.Integer(
        allow_none=True, metadata={"description": "percent; won stages are 100, lost stages 0 (the default for them)"}
    )
    rot_days = fields.Integer(allow_none=True, metadata={"description": "days idle before a deal rots; null: never"})
    kind = fields.String(load_default="open", validate=validate.OneOf(["open", "won", "lost"]))


class StagePatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=60))
    probability = fields.Integer(allow_none=True)
    rot_days = fields.Integer(allow_none=True)
    kind = fields.String(validate=validate.OneOf(["open", "won", "lost"]))
    position = fields.Integer(validate=validate.Range(min=0), metadata={"description": "0-based place in the pipeline"})


class StageDeleteArgs(Schema):
    move_to = fields.Integer(metadata={"description": "the stage (same pipeline, same kind) its opportunities move to"})


class OpportunitySchema(Schema):
    id = fields.Integer(dump_only=True)
    customer_id = fields.Integer(required=True)
    pipeline_id = fields.Integer(dump_only=True)
    stage_id = fields.Integer(metadata={"description": "defaults to the default pipeline's first stage"})
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    amount = fields.Decimal(
        as_string=True,
        places=2,
        metadata={"description": "yuan, exact; with lines it is their sum (a different amount beside them is refused)"},
    )
    expected_close = fields.Date(allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    next_step = fields.String(allow_none=True, validate=validate.Length(max=255))
    source = fields.String(allow_none=True, validate=validate.Length(max=60))
    probability = fields.Integer(dump_only=True)
    weighted_amount = fields.Decimal(as_string=True, dump_only=True)
    lost_reason_id = fields.Integer(allow_none=True, metadata={"description": "required when moving to a lost stage"})
    competitor = fields.String(allow_none=True, validate=validate.Length(max=100))
    stage_entered_at = fields.DateTime(dump_only=True)
    closed_at = fields.DateTime(dump_only=True)
    lines = fields.List(fields.Nested(LineSchema))
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class OpportunityPatchSchema(OpportunitySchema):
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class MoveSchema(Schema):
    stage_id = fields.Integer(required=True)
    lost_reason_id = fields.Integer(allow_none=True)
    competitor = fields.String(allow_none=True, validate=validate.Length(max=100))


class OpportunityQueryArgs(Schema):
    pipeline_id = fields.Integer()
    stage_id = fields.Integer()
    owner_id = fields.Integer()
    customer_id = fields.Integer()
    close_from = fields.Date(metadata={"description": "expected close on or after"})
    close_to = fields.Date(metadata={"description": "expected close on or before"})
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class ForecastArgs(Schema):
    by = fields.String(load_default="month", validate=validate.OneOf(["month", "rep"]))


class ForecastRowSchema(Schema):
    key = fields.String(allow_none=True)
    label = fields.String()
    count = fields.Integer()
    amount = fields.Decimal(as_string=True)
    weighted = fields.Decimal(as_string=True)


def _fail(err: Exception) -> None:
    if isinstance(err, services.InvalidInput):
        abort(422, message="Invalid input.", errors={"json": {k: [v] for k, v in err.errors.items()}})
    if isinstance(err, PermissionDenied):
        abort(403, message="You may not change this opportunity.")
    raise err


def _visible(opportunity_id: int) -> Opportunity:
    opp = get_in_tenant(Opportunity, opportunity_id)
    if opp is None or not services.can_read(g.member, opp):
        abort(404, message="No such opportunity.")
    return opp


def _input(data: dict[str, Any]) -> services.OpportunityInput:
    data = dict(data)
    lines = data.pop("lines", None)
    return services.OpportunityInput(
        values=data,
        stage_id=data.pop("stage_id", None),
        lost_reason_id=data.pop("lost_reason_id", None),
        lines=[services.LineInput(**ln) for ln in lines] if lines is not None else None,
    )


@pipelines_bp.route("")
class Pipelines(MethodView):
    @require("sales.access")
    @pipelines_bp.response(200, PipelineSchema(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        services.ensure_default_pipeline(g.member)
        db.session.commit()
        return services.pipelines()

    @require("pipeline.manage")
    @pipelines_bp.arguments(PipelineInSchema)
    @pipelines_bp.response(201, PipelineSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        """A new pipeline, with an open, a won and a lost stage to edit."""
        services.ensure_default_pipeline(g.member)
        try:
            pipe = services.create_pipeline(g.member, data["name"])
        except (services.InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return pipe


def _pipeline(pipeline_id: int) -> Pipeline:
    pipe = get_in_tenant(Pipeline, pipeline_id)
    if pipe is None:
        abort(404, message="No such pipeline.")
    return pipe


def _stage(pipe: Pipeline, stage_id: int) -> Stage:
    stage = get_in_tenant(Stage, stage_id)
    if stage is None or stage.pipeline_id != pipe.id:
        abort(404, message="No such stage.")
    return stage


@pipelines_bp.route("/<int:pipeline_id>")
class PipelineItem(MethodView):
    @require("sales.access")
    @pipelines_bp.response(200, PipelineSchema)
    def get(self, pipeline_id: int):  # type: ignore[no-untyped-def]
        return _pipeline(pipeline_id)

    @require("pipeline.manage")
    @pipelines_bp.arguments(PipelinePatchSchema)
    @pipelines_bp.response(200, PipelineSchema)
    def patch(self, data, pipeline_id: int):  # type: ignore[no-untyped-def]
        """Rename; `is_default: true` makes it the pipeline new opportunities go to."""
        pipe = _pipeline(pipeline_id)
        try:
            if "name" in data:
                services.rename_pipeline(g.member, pipe, data["name"])
            if data.get("is_default") is True:
                services.set_default_pipeline(g.member, pipe)
            elif data.get("is_default") is False and pipe.is_default:
                raise services.InvalidInput({"is_default": "Make another pipeline the default instead."})
        except (services.InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return pipe

    @require("pipeline.manage")
    @pipelines_bp.response(204)
    def delete(self, pipeline_id: int):  # type: ignore[no-untyped-def]
        """Only a pipeline without opportunities, and never the last one."""
        pipe = _pipeline(pipeline_id)
        try:
            services.delete_pipeline(g.member, pipe)
        except (services.InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()


@pipelines_bp.route("/<int:pipeline_id>/stages")
class PipelineStages(MethodView):
    @require("pipeline.manage")
    @pipelines_bp.arguments(StageInSchema)
    @pipelines_bp.response(201, StageSchema)
    def post(self, data, pipeline_id: int):  # type: ignore[no-untyped-def]
        """Add a stage: an open one goes after the last open stage, a lost one at the end."""
        pipe = _pipeline(pipeline_id)
        try:
            stage = services.add_stage(g.member, pipe, data)
        except (services.InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return stage


@pipelines_bp.route("/<int:pipeline_id>/stages/<int:stage_id>")
class PipelineStage(MethodView):
    @require("pipeline.manage")
    @pipelines_bp.arguments(StagePatchSchema)
    @pipelines_bp.response(200, StageSchema)
    def patch(self, data, pipeline_id: int, stage_id: int):  # type: ignore[no-untyped-def]
        """Rename, re-weigh, set rot days or kind; `position` (0-based) moves the stage."""
        pipe = _pipeline(pipeline_id)
        stage = _stage(pipe, stage_id)
        data = dict(data)
        position = data.pop("position", None)
        try:
            if data:
                services.update_stage(g.member, stage, data)
            if position is not None:
                ids = [s.id for s in sorted(pipe.stages, key=lambda s: s.position) if s.id != stage.id]
                ids.insert(min(position, len(ids)), stage.id)
                services.reorder_stages(g.member, pipe, ids)
        except (services.InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return stage

    @require("pipeline.manage")
    @pipelines_bp.arguments(StageDeleteArgs, location="query")
    @pipelines_bp.response(204)
    def delete(self, args, pipeline_id: int, stage_id: int):  # type: ignore[no-untyped-def]
        """An empty stage goes; one holding opportunities needs `move_to`, another stage of the same kind."""
        pipe = _pipeline(pipeline_id)
        stage = _stage(pipe, stage_id)
        try:
            services.delete_stage(g.member, stage, args.get("move_to"))
        except (services.InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()


@opportunities_bp.route("")
class Opportunities(MethodView):
    @require("sales.access")
    @opportunities_bp.arguments(OpportunityQueryArgs, location="query")
    @opportunities_bp.response(200, OpportunitySchema(many=True))
    def get(self, args):  # type: ignore[no-untyped-def]
        return services.list_opportunities(g.member, services.OpportunityQuery(**args))

    @require("sales.access")
    @opportunities_bp.arguments(OpportunitySchema)
    @opportunities_bp.response(201, OpportunitySchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        try:
            opp = services.create_opportunity(g.member, _input(data))
        except (services.InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return opp


@opportunities_bp.route("/<int:opportunity_id>")
class OpportunityItem(MethodView):
    @require("sales.access")
    @opportunities_bp.response(200, OpportunitySchema)
    def get(self, opportunity_id: int):  # type: ignore[no-untyped-def]
        return _visible(opportunity_id)

    @require("sales.access")
    @opportunities_bp.arguments(OpportunityPatchSchema)
    @opportunities_bp.response(200, OpportunitySchema)
    def patch(self, data, opportunity_id: int):  # type: ignore[no-untyped-def]
        opp = _visible(opportunity_id)
        try:
            services.update_opportunity(g.member, opp, _input(data))
        except (services.InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return opp

    @require("sales.access")
    @opportunities_bp.response(204)
    def delete(self, opportunity_id: int):  # type: ignore[no-untyped-def]
        opp = _visible(opportunity_id)
        try:
            services.delete_opportunity(g.member, opp)
        except PermissionDenied as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()


@opportunities_bp.route("/<int:opportunity_id>/move")
class OpportunityMove(MethodView):
    @require("sales.access")
    @opportunities_bp.arguments(MoveSchema)
    @opportunities_bp.response(200, OpportunitySchema)
    def post(self, data, opportunity_id: int):  # type: ignore[no-untyped-def]
        """Move to another stage of its pipeline (a lost stage needs lost_reason_id)."""
        opp = _visible(opportunity_id)
        try:
            services.change_stage(g.member, opp, data["stage_id"], data.get("lost_reason_id"), data.get("competitor"))
        except (services.InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return opp


@forecast_bp.route("")
class Forecast(MethodView):
    @require("sales.access")
    @forecast_bp.arguments(ForecastArgs, location="query")
    @forecast_bp.response(200, ForecastRowSchema(many=True))
    def get(self, args):  # type: ignore[no-untyped-def]
        """Open opportunities' amount and weighted amount by month of expected close or by rep."""
        rows = services.forecast(g.member, args["by"])
        return [{**r, "key": None if r["key"] is None else str(r["key"]), "label": str(r["label"])} for r in rows]


blueprints = [pipelines_bp, opportunities_bp, forecast_bp]
