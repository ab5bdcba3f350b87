"""/api/v1/work-reports: the same rules as the UI. A report nobody may read is 404; a reader
who may not change it gets 403."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.api.errors import fail, object_first
from crm.db import db, utcnow
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from crm.workreports import periods, services
from crm.workreports.models import KINDS, LINK_TYPES, WorkReport
from roles.checks import PermissionDenied, can, require

reports_bp = Blueprint("api_work_reports", __name__, url_prefix="/work-reports", description="Work reports (工作汇报)")


class WorkReportRecipientSchema(Schema):
    member_id = fields.Integer()
    name = fields.String()
    read_at = fields.DateTime(allow_none=True)


class WorkReportLinkSchema(Schema):
    object_type = fields.String(required=True, validate=validate.OneOf(LINK_TYPES))
    object_id = fields.Integer(required=True)
    name = fields.String(dump_only=True)


class WorkReportSummarySchema(Schema):
    id = fields.Integer(dump_only=True)
    author_id = fields.Integer(dump_only=True)
    author_name = fields.Function(lambda r: r.author.user.name, dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    period_start = fields.Date(required=True, metadata={"description": "the period's first day"})
    period_end = fields.Date(dump_only=True)
    status = fields.String(dump_only=True)
    submitted_at = fields.DateTime(dump_only=True, allow_none=True)
    read_count = fields.Function(lambda r: sum(1 for x in r.recipients if x.read_at), dump_only=True)
    recipient_count = fields.Function(lambda r: len(r.recipients), dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class WorkReportSchema(WorkReportSummarySchema):
    done = fields.String(allow_none=True)
    planned = fields.String(allow_none=True)
    problems = fields.String(allow_none=True)
    recipients = fields.Method("_recipients", dump_only=True)
    links = fields.Method("_links", dump_only=True)

    def _recipients(self, r: WorkReport) -> list[dict[str, Any]]:
        return [{"member_id": x.member_id, "name": x.member.user.name, "read_at": x.read_at} for x in r.recipients]

    def _links(self, r: WorkReport) -> list[dict[str, Any]]:
        return [
            {"object_type": ln.object_type, "object_id": ln.object_id, "name": ln.name}
            for ln in services.visible_links(g.member, r)
        ]


class WorkReportCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    period_start = fields.Date(required=True, metadata={"description": "any day in the period"})
    done = fields.String(allow_none=True)
    planned = fields.String(allow_none=True)
    problems = fields.String(allow_none=True)
    recipient_ids = fields.List(fields.Integer(), metadata={"description": "defaults to the author's manager"})
    links = fields.List(fields.Nested(WorkReportLinkSchema))
    prefill = fields.Boolean(
        load_default=False,
        metadata={"description": "draft done/planned/links from the period's follow-ups, tasks and stage moves"},
    )


class WorkReportPatchSchema(Schema):
    done = fields.String(allow_none=True)
    planned = fields.String(allow_none=True)
    problems = fields.String(allow_none=True)
    recipient_ids = fields.List(fields.Integer())
    links = fields.List(fields.Nested(WorkReportLinkSchema))


class WorkReportQueryArgs(Schema):
    box = fields.String(validate=validate.OneOf(("mine", "received", "team")))
    author_id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(KINDS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class WorkReportPageSchema(Schema):
    items = fields.List(fields.Nested(WorkReportSummarySchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


class WorkReportCommentSchema(Schema):
    id = fields.Integer(dump_only=True)
    member_id = fields.Integer(dump_only=True, allow_none=True)
    member_name = fields.Function(lambda c: c.member.user.name if c.member else None, dump_only=True)
    parent_id = fields.Integer(allow_none=True, load_default=None)
    body = fields.String(required=True)
    created_at = fields.DateTime(dump_only=True)


class WorkReportOverviewArgs(Schema):
    kind = fields.String(load_default="daily", validate=validate.OneOf(KINDS))
    from_ = fields.Date(data_key="from")
    to = fields.Date()


class WorkReportCellSchema(Schema):
    period_start = fields.Date()
    state = fields.String()
    report_id = fields.Integer(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)


class WorkReportOverviewRowSchema(Schema):
    member_id = fields.Integer()
    name = fields.String()
    cells = fields.List(fields.Nested(WorkReportCellSchema))


class WorkReportOverviewSchema(Schema):
    kind = fields.String()
    periods = fields.List(fields.Date())
    rows = fields.List(fields.Nested(WorkReportOverviewRowSchema))
    totals = fields.Dict(keys=fields.String(), values=fields.Integer())


class WorkReportRuleSchema(Schema):
    roles = fields.List(fields.String())
    time = fields.String(metadata={"description": "HH:MM, workspace time"})
    weekday = fields.Integer(metadata={"description": "weekly: 1 = Monday … 7 = Sunday"})
    day = fields.Integer(metadata={"description": "monthly: 1–28, or 0 for the last day"})


class WorkReportRulesSchema(Schema):
    daily = fields.Nested(WorkReportRuleSchema)
    weekly = fields.Nested(WorkReportRuleSchema)
    monthly = fields.Nested(WorkReportRuleSchema)


def _fail(err: Exception) -> NoReturn:
    fail(err, "You may not do this with this report.")


def _visible(report_id: int) -> WorkReport:
    r = get_in_tenant(WorkReport, report_id)
    if r is None or not services.can_read_report(g.member, r):
        abort(404, message="No such report.")
    return r


def _links(raw: list[dict[str, Any]] | None) -> list[tuple[str, int]] | None:
    return None if raw is None else [(x["object_type"], x["object_id"]) for x in raw]


@reports_bp.route("")
class Reports(MethodView):
    @require("office.access")
    @reports_bp.arguments(WorkReportQueryArgs, location="query")
    @reports_bp.response(200, WorkReportPageSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        box = args.get("box")
        if box is None:
            box = "mine" if args.get("author_id") in (None, g.member.id) else (
                "team" if can(g.member, "reports.manage") else "received")  # fmt: skip
        if box == "mine" and args.get("author_id") not in (None, g.member.id):
            abort(422, message="Invalid input.", errors={"query": {"author_id": ["Use box=received or box=team."]}})
        query = services.ReportQuery(box=box, kind=args.get("kind"), author_id=args.get("author_id"),
                                     page=args["page"], page_size=args["page_size"])  # fmt: skip
        try:
            rows, total = services.list_reports(g.member, query)
        except PermissionDenied as err:
            _fail(err)
        return {"items": rows, "page": query.page, "page_size": query.page_size, "total": total}

    @require("office.access")
    @reports_bp.arguments(WorkReportCreateSchema)
    @reports_bp.response(201, WorkReportSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        values = {k: data[k] for k in ("done", "planned", "problems") if k in data}
        try:
            r = services.create_report(
                g.member, g.tenant, data["kind"], data["period_start"], values,
                recipient_ids=data.get("recipient_ids"), links=_links(data.get("links")), use_prefill=data["prefill"],
            )  # fmt: skip
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return r


@reports_bp.route("/<int:work_report_id>")
class ReportItem(MethodView):
    @require("office.access")
    @reports_bp.response(200, WorkReportSchema)
    def get(self, work_report_id: int):  # type: ignore[no-untyped-def]
        r = _visible(work_report_id)
        if services.mark_read(g.member, r):
            db.session.commit()
        return r

    @require("office.access")
    @object_first(_visible)
    @reports_bp.arguments(WorkReportPatchSchema)
    @reports_bp.response(200, WorkReportSchema)
    def patch(self, data, work_report_id: int):  # type: ignore[no-untyped-def]
        r = _visible(work_report_id)
        values = {k: data[k] for k in ("done", "planned", "problems") if k in data}
        try:
            services.update_report(g.member, r, values, recipient_ids=data.get("recipient_ids"),
                                   links=_links(data.get("links")))  # fmt: skip
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return r

    @require("office.access")
    @reports_bp.response(204)
    def delete(self, work_report_id: int):  # type: ignore[no-untyped-def]
        r = _visible(work_report_id)
        try:
            services.delete_report(g.member, r)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()


@reports_bp.route("/<int:work_report_id>/submit")
class ReportSubmit(MethodView):
    @require("office.access")
    @reports_bp.response(200, WorkReportSchema)
    def post(self, work_report_id: int):  # type: ignore[no-untyped-def]
        r = _visible(work_report_id)
        try:
            services.submit_report(g.member, r)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return r


@reports_bp.route("/<int:work_report_id>/comments")
class ReportComments(MethodView):
    @require("office.access")
    @reports_bp.response(200, WorkReportCommentSchema(many=True))
    def get(self, work_report_id: int):  # type: ignore[no-untyped-def]
        return _visible(work_report_id).comments

    @require("office.access")
    @object_first(_visible)
    @reports_bp.arguments(WorkReportCommentSchema)
    @reports_bp.response(201, WorkReportCommentSchema)
    def post(self, data, work_report_id: int):  # type: ignore[no-untyped-def]
        r = _visible(work_report_id)
        try:
            c = services.add_comment(g.member, r, data["body"], data.get("parent_id"))
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return c


@reports_bp.route("/<int:work_report_id>/receipts")
class ReportReceipts(MethodView):
    @require("office.access")
    @reports_bp.response(200, WorkReportRecipientSchema(many=True))
    def get(self, work_report_id: int):  # type: ignore[no-untyped-def]
        r = _visible(work_report_id)
        return [{"member_id": x.member_id, "name": x.member.user.name, "read_at": x.read_at} for x in r.recipients]


@reports_bp.route("/overview")
class ReportOverview(MethodView):
    @require("office.access", "reports.manage")
    @reports_bp.arguments(WorkReportOverviewArgs, location="query")
    @reports_bp.response(200, WorkReportOverviewSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        kind = args["kind"]
        first, last = services.default_range(kind, periods.local_today(g.tenant, utcnow()))
        first = args.get("from_") or first
        last = args.get("to") or last
        ov = services.overview(g.member, g.tenant, kind, first, last, utcnow())
        return {
            "kind": kind,
            "periods": [s for s, _e in ov.periods],
            "rows": [
                {"member_id": row.member.id, "name": row.member.user.name,
                 "cells": [{"period_start": s, "state": c.state, "report_id": c.report_id,
                            "submitted_at": c.submitted_at} for (s, _e), c in zip(ov.periods, row.cells, strict=True)]}
                for row in ov.rows
            ],
            "totals": ov.totals,
        }  # fmt: skip


@reports_bp.route("/rules")
class ReportRules(MethodView):
    @require("office.access", "reports.manage")
    @reports_bp.response(200, WorkReportRulesSchema)
    def get(self):  # type: ignore[no-untyped-def]
        return services.get_rules(g.tenant)

    @require("office.access", "reports.manage")
    @reports_bp.arguments(WorkReportRulesSchema)
    @reports_bp.response(200, WorkReportRulesSchema)
    def put(self, data):  # type: ignore[no-untyped-def]
        try:
            rules = services.save_rules(g.member, g.tenant, data)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return rules


blueprints = [reports_bp]
