"""Platform API resources: /me, /members, /exports, /jobs."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import g, send_file, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import func, select

from crm.db import db
from crm.jobs.access import can_see_job
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from roles.catalogue import ROLE_NAMES, permissions_of, scope_of
from roles.checks import can, require
from tenants.models import Membership, User
from workers import files
from workers.models import JobRecord
from workers.queue import JobsUnavailable, submit


class WorkspaceSchema(Schema):
    slug = fields.String()
    name = fields.String()
    currency = fields.String()
    timezone = fields.String()


class MeSchema(Schema):
    member_id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String()
    email = fields.String()
    locale = fields.String(allow_none=True)
    timezone = fields.String()
    roles = fields.List(fields.String())
    permissions = fields.List(fields.String())
    scope = fields.String()
    workspace = fields.Nested(WorkspaceSchema)


class MemberSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    roles = fields.List(fields.String())
    title = fields.String(allow_none=True)
    reports_to_id = fields.Integer(allow_none=True)
    is_active = fields.Boolean()
    created_at = fields.DateTime()


class MemberQuerySchema(Schema):
    role = fields.String(validate=validate.OneOf(ROLE_NAMES))
    active = fields.Boolean()
    q = fields.String(validate=validate.Length(max=100))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class MemberPageSchema(Schema):
    items = fields.List(fields.Nested(MemberSchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


class ExportRequestSchema(Schema):
    kind = fields.String(
        validate=validate.OneOf(["members"]),
        metadata={"description": "members: the member list. Give either kind or report."},
    )
    report = fields.String(
        validate=validate.Length(min=1, max=40),
        metadata={
            "description": "A finance report (needs finance.access): trial_balance, general_ledger, journal, "
            "balance_sheet, income_statement, ar_aging, ap_aging, statement"
        },
    )
    params = fields.Dict(
        keys=fields.String(validate=validate.Length(max=40)),
        load_default=dict,
        metadata={"description": "The report's parameters, as its page takes them (period, from, to, account …)"},
    )
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["xlsx", "pdf"]))
    locale = fields.String(load_default="zh_Hans_CN", validate=validate.OneOf(["zh_Hans_CN", "en"]))

    @validates_schema
    def one_of_kind_or_report(self, data: dict[str, object], **_kwargs: object) -> None:
        if not data.get("kind") and not data.get("report"):
            raise ValidationError("Give the kind of export, or a report.", field_name="kind")
        if data.get("kind") and data.get("report"):
            raise ValidationError("Give either kind or report, not both.", field_name="report")


class JobSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String(metadata={"description": "queued, running, finished or failed"})
    progress = fields.Integer()
    message = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    result_name = fields.String(allow_none=True)
    result_url = fields.String(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


me_bp = Blueprint("api_me", __name__, url_prefix="/me", description="The member the token belongs to")
members_bp = Blueprint("api_members", __name__, url_prefix="/members", description="Members of the workspace")
exports_bp = Blueprint("api_exports", __name__, url_prefix="/exports", description="Start export jobs")
jobs_bp = Blueprint("api_jobs", __name__, url_prefix="/jobs", description="Job progress and results")


@me_bp.route("")
class MeResource(MethodView):
    @me_bp.response(200, MeSchema)
    def get(self):  # type: ignore[no-untyped-def]
        m: Membership = g.member
        scope = scope_of(m.roles)
        return {
            "member_id": m.id,
            "user_id": m.user_id,
            "name": m.user.name,
            "email": m.user.email,
            "locale": m.user.locale,
            "timezone": m.user.timezone,
            "roles": m.roles,
            "permissions": sorted(permissions_of(m.roles)),
            "scope": scope.name.lower() if scope else "none",
            "workspace": g.tenant,
        }


def _member_dict(m: Membership) -> dict[str, object]:
    return {
        "id": m.id,
        "name": m.user.name,
        "email": m.user.email,
        "roles": m.roles,
        "title": m.title,
        "reports_to_id": m.reports_to_id,
        "is_active": m.is_active,
        "created_at": m.created_at,
    }


@members_bp.route("")
class MembersResource(MethodView):
    @require("members.view")
    @members_bp.arguments(MemberQuerySchema, location="query")
    @members_bp.response(200, MemberPageSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        stmt = select(Membership).join(User, User.id == Membership.user_id)
        if "active" in args:
            stmt = stmt.where(Membership.is_active.is_(args["active"]))
        if args.get("q"):
            # Wildcards in the query match literally (as in the search box).
            term = args["q"].lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            like = f"%{term}%"
            stmt = stmt.where(
                func.lower(User.name).like(like, escape="\\") | func.lower(User.email).like(like, escape="\\")
            )
        rows = list(db.session.scalars(stmt.order_by(Membership.id)))
        if args.get("role"):
            rows = [m for m in rows if args["role"] in m.roles]
        page, size = args["page"], args["page_size"]
        return {
            "items": [_member_dict(m) for m in rows[(page - 1) * size : page * size]],
            "page": page,
            "page_size": size,
            "total": len(rows),
        }


def _job_dict(job: JobRecord) -> dict[str, object]:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "error": job.error,
        "result_name": job.result_name,
        "result_url": url_for("api_jobs.JobResult", job_id=job.id) if job.status == JobRecord.FINISHED else None,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


def _require_any(*permissions: str):  # type: ignore[no-untyped-def]
    """403 before the body is read unless the member holds one of the permissions."""

    def decorator(view):  # type: ignore[no-untyped-def]
        @wraps(view)
        def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
            member = g.get("member")
            if member is None:
                abort(404)
            if not any(can(member, p) for p in permissions):
                abort(403, message="You may not do this.")
            return view(*args, **kwargs)

        wrapped.required_permissions = permissions  # type: ignore[attr-defined]
        return wrapped

    return decorator


def _report_export_params(args: dict[str, Any]) -> dict[str, Any]:
    """The job's params for a finance report: 403 without finance.access, 422 for bad params."""
    from crm.finreports.export_views import check_report, job_params  # noqa: PLC0415

    if not can(g.member, "finance.access"):
        abort(403, message="Exporting finance reports needs finance access.")
    raw = {str(k): "" if v is None else str(v) for k, v in args["params"].items()}
    try:
        return job_params(args["report"], args["format"], check_report(args["report"], raw), args["locale"])
    except InvalidInput as err:
        db.session.rollback()
        errors = {k if k in ("report", "format") else f"params.{k}": [v] for k, v in err.errors.items()}
        abort(422, message="Invalid input.", errors={"json": errors})


@exports_bp.route("")
class ExportsResource(MethodView):
    @_require_any("members.export", "finance.access")
    @exports_bp.arguments(ExportRequestSchema)
    @exports_bp.response(202, JobSchema)
    @exports_bp.alt_response(503, description="The job service (Redis) is unreachable; nothing was started.")
    def post(self, args):  # type: ignore[no-untyped-def]
        """Start an export job: the member list ({"kind": "members"}) or a finance report
        ({"report": "general_ledger", "params": {"period": "2026-03"}, "format": "pdf"})."""
        if args.get("report"):
            kind, params = "report_export", _report_export_params(args)
        else:
            if not can(g.member, "members.export"):
                abort(403, message="You may not export the member list.")
            kind, params = "members_export", {"format": args["format"], "locale": args["locale"]}
        try:
            job = submit(kind, g.member, params)
        except JobsUnavailable:
            db.session.rollback()
            abort(503, message="The job service is unavailable; nothing was started. Try again shortly.")
        return _job_dict(job)


def _visible_job(job_id: int) -> JobRecord:
    job = get_in_tenant(JobRecord, job_id)
    if job is None:
        abort(404, message="No such job.")
    if not can_see_job(g.member, job):
        abort(403, message="You may not see this job.")
    return job


@jobs_bp.route("/<int:job_id>")
class JobResource(MethodView):
    @jobs_bp.response(200, JobSchema)
    def get(self, job_id: int):  # type: ignore[no-untyped-def]
        return _job_dict(_visible_job(job_id))


@jobs_bp.route("/<int:job_id>/result")
class JobResult(MethodView):
    @jobs_bp.response(200, description="The result file")
    @jobs_bp.alt_response(409, description="The job has not finished")
    def get(self, job_id: int):  # type: ignore[no-untyped-def]
        job = _visible_job(job_id)
        if job.status != JobRecord.FINISHED or not job.result_path:
            abort(409, message="The job has not finished yet.")
        path = files.resolve(job.tenant_id, job.result_path)
        if path is None:
            abort(404, message="The result file is gone.")
        return send_file(path, mimetype=job.result_mimetype, as_attachment=True, download_name=job.result_name)


def _all_blueprints() -> list[Blueprint]:
    # Each context keeps its own API module; the platform lists them here, in one place.
    from crm.activities.api import blueprints as activities_blueprints
    from crm.announcements.api import blueprints as announcements_blueprints
    from crm.audit.api import blueprints as audit_blueprints
    from crm.books.api import blueprints as books_blueprints
    from crm.catalog.api import blueprints as catalog_blueprints
    from crm.contracts.api import blueprints as contracts_blueprints
    from crm.expenses.api import blueprints as expenses_blueprints
    from crm.finreports.api import blueprints as finreports_blueprints
    from crm.imports.api import blueprints as imports_blueprints
    from crm.invoicing.api import blueprints as invoicing_blueprints
    from crm.kb.api import blueprints as kb_blueprints
    from crm.ledger.api import blueprints as ledger_blueprints
    from crm.orders.api import blueprints as orders_blueprints
    from crm.payroll.api import blueprints as payroll_blueprints
    from crm.pipeline.api import blueprints as pipeline_blueprints
    from crm.quotes.api import blueprints as quotes_blueprints
    from crm.registry.api import blueprints as registry_blueprints
    from crm.sales.api import blueprints as sales_blueprints
    from crm.settlement.api import blueprints as settlement_blueprints
    from crm.workreports.api import blueprints as work_reports_blueprints
    from crm.workspace_settings.api import blueprints as settings_blueprints

    return [
        me_bp, members_bp, exports_bp, jobs_bp,
        *sales_blueprints, *pipeline_blueprints, *catalog_blueprints, *quotes_blueprints, *contracts_blueprints,
        *activities_blueprints, *announcements_blueprints, *registry_blueprints, *orders_blueprints,
        *settings_blueprints, *audit_blueprints, *kb_blueprints, *work_reports_blueprints,
        *imports_blueprints,
        *books_blueprints,
        *settlement_blueprints,
        *invoicing_blueprints,
        *finreports_blueprints,
        *expenses_blueprints,
        *payroll_blueprints,
        *ledger_blueprints,
    ]  # fmt: skip


blueprints = _all_blueprints()
