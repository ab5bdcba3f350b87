"""/api/v1/ledger (the lines, summary, growth, ranking, saved views) and /api/v1/sales-targets:
the same rules as the ledger pages (sales.access; the member's data scope; targets.manage to
set targets; another workspace's object is 404)."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.api.errors import fail, object_first
from crm.db import db
from crm.ledger import services
from crm.ledger.models import LedgerView, SalesTarget
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, require

ledger_bp = Blueprint("api_ledger", __name__, url_prefix="/ledger", description="The sales ledger (销售台账)")
targets_bp = Blueprint("api_sales_targets", __name__, url_prefix="/sales-targets",
                       description="Sales reps' targets (业绩目标)")  # fmt: skip


class LedgerFilterQuery(Schema):
    from_ = fields.Date(data_key="from", metadata={"description": "first order date, YYYY-MM-DD"})
    to = fields.Date(metadata={"description": "last order date, YYYY-MM-DD"})
    region = fields.String(validate=validate.Length(max=30), metadata={"description": "province as on the order"})
    rep = fields.Integer(metadata={"description": "the sales rep's member id"})
    product = fields.Integer()
    customer = fields.Integer()
    status = fields.String(
        validate=validate.OneOf(services.STATUS_CHOICES),
        metadata={"description": "blank: all but cancelled; all: cancelled included; or one delivery status"},
    )


class LedgerQuery(LedgerFilterQuery):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=services.MAX_PAGE_SIZE))


class LedgerSummaryQuery(LedgerFilterQuery):
    rows = fields.String(load_default="region", validate=validate.OneOf(services.DIMENSIONS))
    cols = fields.String(validate=validate.OneOf(services.DIMENSIONS))
    measure = fields.String(load_default="amount", validate=validate.OneOf(services.MEASURES))


class LedgerGrowthQuery(LedgerFilterQuery):
    by = fields.String(load_default="", validate=validate.OneOf(services.GROWTH_BY))
    period = fields.String(load_default="month", validate=validate.OneOf(services.PERIODS))
    compare = fields.String(
        load_default="previous", validate=validate.OneOf(services.COMPARES),
        metadata={"description": "previous: the bucket before (环比); year: the same bucket a year earlier (同比)"},
    )  # fmt: skip
    measure = fields.String(load_default="amount", validate=validate.OneOf(services.MEASURES))


class LedgerRankingQuery(Schema):
    period = fields.String(required=True, metadata={"description": "2026-03 or 2026-Q1"})


class LedgerLineSchema(Schema):
    line_id = fields.Integer()
    order_id = fields.Integer()
    date = fields.Date(attribute="order_date")
    number = fields.String()
    customer_id = fields.Integer()
    customer = fields.String()
    region = fields.String()
    salesperson_id = fields.Integer(attribute="owner_id", allow_none=True)
    salesperson = fields.String()
    product_id = fields.Integer(allow_none=True)
    product = fields.String()
    unit = fields.String()
    quantity = fields.Decimal(as_string=True)
    unit_price = fields.Decimal(as_string=True)
    amount_excl = fields.Decimal(as_string=True)
    amount_incl = fields.Decimal(as_string=True)
    status = fields.String()
    received = fields.Decimal(as_string=True)
    outstanding = fields.Decimal(as_string=True)


class LedgerPageSchema(Schema):
    items = fields.List(fields.Nested(LedgerLineSchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
    quantity = fields.Decimal(as_string=True)
    amount_excl = fields.Decimal(as_string=True)
    amount_incl = fields.Decimal(as_string=True)


class LedgerFiguresSchema(Schema):
    quantity = fields.Decimal(as_string=True)
    amount = fields.Decimal(as_string=True)
    amount_incl = fields.Decimal(as_string=True)


class LedgerCellSchema(LedgerFiguresSchema):
    key = fields.Raw(allow_none=True)
    label = fields.String()


class LedgerPivotRowSchema(Schema):
    key = fields.Raw(allow_none=True)
    label = fields.String()
    cells = fields.List(fields.Nested(LedgerCellSchema))
    total = fields.Nested(LedgerFiguresSchema)


class LedgerPivotSchema(Schema):
    rows_dim = fields.String()
    cols_dim = fields.String(allow_none=True)
    measure = fields.String()
    columns = fields.List(fields.Nested(LedgerCellSchema))
    rows = fields.List(fields.Nested(LedgerPivotRowSchema))
    total = fields.Nested(LedgerFiguresSchema)


class LedgerGrowthCellSchema(Schema):
    bucket = fields.String()
    value = fields.Decimal(as_string=True)
    earlier = fields.Decimal(as_string=True)
    growth_pct = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "null when earlier is 0"})


class LedgerGrowthRowSchema(Schema):
    key = fields.Raw(allow_none=True)
    label = fields.String()
    cells = fields.List(fields.Nested(LedgerGrowthCellSchema))


class LedgerGrowthSchema(Schema):
    by = fields.String()
    period = fields.String()
    compare = fields.String()
    measure = fields.String()
    buckets = fields.List(fields.String())
    rows = fields.List(fields.Nested(LedgerGrowthRowSchema))
    total = fields.Nested(LedgerGrowthRowSchema)


class LedgerRankRowSchema(Schema):
    rank = fields.Integer()
    member_id = fields.Integer()
    name = fields.String()
    target = fields.Decimal(as_string=True, allow_none=True)
    actual = fields.Decimal(as_string=True)
    completion_pct = fields.Decimal(as_string=True, allow_none=True, attribute="completion")
    orders = fields.Integer()


class LedgerRankingSchema(Schema):
    period = fields.String()
    start = fields.Date()
    end = fields.Date()
    rows = fields.List(fields.Nested(LedgerRankRowSchema))


class SalesTargetSchema(Schema):
    id = fields.Integer(dump_only=True)
    member_id = fields.Integer(required=True)
    period = fields.String(required=True, metadata={"description": "2026-03 or 2026-Q1"})
    amount = fields.Decimal(as_string=True, required=True, metadata={"description": "excluding tax"})
    set_by_id = fields.Integer(dump_only=True, allow_none=True)
    updated_at = fields.DateTime(dump_only=True)


class SalesTargetPatchSchema(Schema):
    amount = fields.String(required=True)


class SalesTargetQuery(Schema):
    period = fields.String()


class LedgerViewSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    shared = fields.Boolean(load_default=False)
    params = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    owner_id = fields.Integer(dump_only=True)


class LedgerExportSchema(Schema):
    what = fields.String(load_default="ledger", validate=validate.OneOf(("ledger", "summary", "growth")))
    format = fields.String(load_default="xlsx", validate=validate.OneOf(("xlsx", "pdf")))
    locale = fields.String(load_default="zh_Hans_CN", validate=validate.OneOf(["zh_Hans_CN", "en"]))
    params = fields.Dict(
        keys=fields.String(validate=validate.Length(max=40)), values=fields.String(), load_default=dict,
        metadata={"description": "the filters, and rows/cols/measure or period/by/compare/measure, as on the page"},
    )  # fmt: skip


def _bad(err: InvalidInput) -> NoReturn:
    abort(422, message="Invalid input.", errors={"query": {k: [v] for k, v in err.errors.items()}})


def _filter() -> services.LedgerFilter:
    try:
        return services.parse_filter(request.args)
    except InvalidInput as err:
        _bad(err)


@ledger_bp.route("")
class Ledger(MethodView):
    @require("sales.access")
    @ledger_bp.arguments(LedgerQuery, location="query")
    @ledger_bp.response(200, LedgerPageSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        """Order lines, newest first, with the count and sums of everything the filter finds."""
        page = services.ledger_page(g.member, _filter(), args["page"], args["page_size"])
        return {
            "items": page.rows, "page": page.page, "page_size": page.page_size, "total": page.total,
            "quantity": page.quantity, "amount_excl": page.amount_excl, "amount_incl": page.amount_incl,
        }  # fmt: skip


def _figures(f: services.Figures) -> dict[str, Any]:
    return {"quantity": f.quantity, "amount": f.amount, "amount_incl": f.amount_incl}


@ledger_bp.route("/summary")
class Summary(MethodView):
    @require("sales.access")
    @ledger_bp.arguments(LedgerSummaryQuery, location="query")
    @ledger_bp.response(200, LedgerPivotSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        """A pivot by one or two of region, salesperson, product, customer, month, week."""
        try:
            p = services.summarize(g.member, _filter(), args["rows"], args.get("cols"), args["measure"])
        except InvalidInput as err:
            _bad(err)
        cols = p.col_keys if p.cols_dim else [None]
        return {
            "rows_dim": p.rows_dim, "cols_dim": p.cols_dim, "measure": p.measure,
            "columns": [{"key": ck, "label": p.col_labels.get(ck, ""),
                         **_figures(p.col_totals.get(ck, services.Figures()))} for ck in cols],
            "rows": [{"key": rk, "label": p.row_labels[rk], "total": _figures(p.row_totals[rk]),
                      "cells": [{"key": ck, "label": p.col_labels.get(ck, ""), **_figures(p.cell(rk, ck))}
                                for ck in cols]} for rk in p.row_keys],
            "total": _figures(p.total),
        }  # fmt: skip


@ledger_bp.route("/growth")
class GrowthResource(MethodView):
    @require("sales.access")
    @ledger_bp.arguments(LedgerGrowthQuery, location="query")
    @ledger_bp.response(200, LedgerGrowthSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        """Each week / month / quarter / year against the one before (or a year earlier), with
        growth_pct null ("—") when the earlier figure is 0."""
        try:
            gr = services.growth(g.member, _filter(), args["period"], args["by"], args["compare"], args["measure"])
        except InvalidInput as err:
            _bad(err)

        def cells(get: Any) -> list[dict[str, Any]]:
            return [{"bucket": b, "value": get(b).value, "earlier": get(b).earlier, "growth_pct": get(b).pct}
                    for b in gr.buckets]  # fmt: skip

        return {
            "by": gr.by, "period": gr.period, "compare": gr.compare, "measure": gr.measure, "buckets": gr.buckets,
            "rows": [{"key": k, "label": gr.labels[k], "cells": cells(lambda b, k=k: gr.cells[(k, b)])}
                     for k in gr.keys] if gr.by else [],
            "total": {"key": None, "label": "total", "cells": cells(lambda b: gr.totals[b])},
        }  # fmt: skip


@ledger_bp.route("/ranking")
class RankingResource(MethodView):
    @require("sales.access")
    @ledger_bp.arguments(LedgerRankingQuery, location="query")
    @ledger_bp.response(200, LedgerRankingSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        """Reps in your scope by sales excluding tax in the month or quarter, against their targets."""
        try:
            return services.ranking(g.member, args["period"])
        except InvalidInput as err:
            _bad(err)


@ledger_bp.route("/export")
class Export(MethodView):
    @require("sales.access")
    @ledger_bp.arguments(LedgerExportSchema)
    @ledger_bp.response(202)
    @ledger_bp.alt_response(503, description="The job service (Redis) is unreachable; nothing was started.")
    def post(self, data):  # type: ignore[no-untyped-def]
        """Start an export job of the ledger, a summary or growth (xlsx with live SUMIFS formulas,
        or PDF); follow it at /api/v1/jobs/<id>."""
        from crm.api.resources import JobSchema, _job_dict  # noqa: PLC0415 — resources imports this module
        from crm.ledger.export import check_params  # noqa: PLC0415
        from workers.queue import JobsUnavailable, submit  # noqa: PLC0415

        try:
            checked = check_params(g.member, data["what"], dict(data["params"]))
        except InvalidInput as err:
            db.session.rollback()
            abort(422, message="Invalid input.", errors={"json": {f"params.{k}": [v] for k, v in err.errors.items()}})
        try:
            job = submit("ledger_export", g.member, {"what": data["what"], "format": data["format"],
                                                     "params": checked, "locale": data["locale"]})  # fmt: skip
        except JobsUnavailable:
            db.session.rollback()
            abort(503, message="The job service is unavailable; nothing was started. Try again shortly.")
        return JobSchema().dump(_job_dict(job))


@ledger_bp.route("/views")
class Views(MethodView):
    @require("sales.access")
    @ledger_bp.response(200, LedgerViewSchema(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        """Your saved views and the shared ones."""
        return services.visible_views(g.member)

    @require("sales.access")
    @ledger_bp.arguments(LedgerViewSchema)
    @ledger_bp.response(201, LedgerViewSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        """Save a view (by name: saving the same name again replaces it)."""
        try:
            view = services.save_view(g.tenant, g.member, data["name"], data["params"], data["shared"])
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            fail(err)
        db.session.commit()
        return view


@ledger_bp.route("/views/<int:ledger_view_id>")
class ViewItem(MethodView):
    @require("sales.access")
    @ledger_bp.response(200, LedgerViewSchema)
    def get(self, ledger_view_id: int):  # type: ignore[no-untyped-def]
        return _view(ledger_view_id)

    @require("sales.access")
    @ledger_bp.response(204)
    def delete(self, ledger_view_id: int):  # type: ignore[no-untyped-def]
        view = _view(ledger_view_id)
        try:
            services.delete_view(g.member, view)
        except PermissionDenied as err:
            fail(err, "Only its owner, or a manager for a shared view, deletes a view.")
        db.session.commit()


def _view(ledger_view_id: int) -> LedgerView:
    view = get_in_tenant(LedgerView, ledger_view_id)
    if view is None or not services.can_use_view(g.member, view):
        abort(404, message="No such view.")
    return view


# ---------------------------------------------------------------- targets


def _target(sales_target_id: int) -> SalesTarget:
    target = get_in_tenant(SalesTarget, sales_target_id)
    if target is None or not services.visible_target(g.member, target):
        abort(404, message="No such target.")
    return target


@targets_bp.route("")
class Targets(MethodView):
    @require("sales.access")
    @targets_bp.arguments(SalesTargetQuery, location="query")
    @targets_bp.response(200, SalesTargetSchema(many=True))
    def get(self, args):  # type: ignore[no-untyped-def]
        """Targets of the reps in your scope, newest period first."""
        try:
            return services.list_targets(g.member, args.get("period"))
        except InvalidInput as err:
            _bad(err)

    @require("sales.access", "targets.manage")
    @targets_bp.arguments(SalesTargetSchema)
    @targets_bp.response(201, SalesTargetSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        """Set a rep's target for a month or quarter (replacing the one set before)."""
        try:
            target = services.set_target(g.tenant, g.member, data["member_id"], data["period"], data["amount"])
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            fail(err)
        db.session.commit()
        return target


@targets_bp.route("/<int:sales_target_id>")
class TargetItem(MethodView):
    @require("sales.access")
    @targets_bp.response(200, SalesTargetSchema)
    def get(self, sales_target_id: int):  # type: ignore[no-untyped-def]
        return _target(sales_target_id)

    @require("sales.access", "targets.manage")
    @object_first(_target)
    @targets_bp.arguments(SalesTargetPatchSchema)
    @targets_bp.response(200, SalesTargetSchema)
    def patch(self, data, sales_target_id: int):  # type: ignore[no-untyped-def]
        target = _target(sales_target_id)
        try:
            target = services.set_target(g.tenant, g.member, target.member_id, target.period, data["amount"])
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            fail(err)
        db.session.commit()
        return target

    @require("sales.access", "targets.manage")
    @targets_bp.response(204)
    def delete(self, sales_target_id: int):  # type: ignore[no-untyped-def]
        target = _target(sales_target_id)
        try:
            services.delete_target(g.member, target)
        except PermissionDenied as err:
            fail(err)
        db.session.commit()


blueprints = [ledger_bp, targets_bp]
