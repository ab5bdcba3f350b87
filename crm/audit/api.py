"""/api/v1/audit: the audit log, with the page's filters and permission (audit.view)."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.audit import browse
from crm.audit.models import AuditEntry
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from roles.checks import require

audit_bp = Blueprint("api_audit", __name__, url_prefix="/audit", description="The audit log (read only)")


class AuditQuerySchema(Schema):
    member_id = fields.Integer()
    object_type = fields.String(validate=validate.Length(max=60))
    action = fields.String(validate=validate.Length(max=60))
    date_from = fields.Date(metadata={"description": "a day in the workspace time zone, inclusive"})
    date_to = fields.Date(metadata={"description": "a day in the workspace time zone, inclusive"})
    before = fields.Integer(metadata={"description": "next_before of the previous page"})
    page_size = fields.Integer(load_default=browse.PAGE_SIZE, validate=validate.Range(min=1, max=browse.MAX_PAGE_SIZE))


class ChangeSchema(Schema):
    field = fields.String()
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


class AuditEntrySchema(Schema):
    id = fields.Integer()
    created_at = fields.DateTime()
    member_id = fields.Integer(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    user_name = fields.String(allow_none=True)
    action = fields.String()
    object_type = fields.String()
    object_id = fields.Integer(allow_none=True)
    summary = fields.String(allow_none=True)
    changes = fields.List(fields.Nested(ChangeSchema))
    ip = fields.String(allow_none=True)


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema))
    next_before = fields.Integer(allow_none=True, metadata={"description": "pass as before for the next page"})


def _entry(e: AuditEntry) -> dict[str, object]:
    return {
        "id": e.id,
        "created_at": e.created_at,
        "member_id": e.member_id,
        "user_id": e.user_id,
        "user_name": e.user.name if e.user else None,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "summary": e.summary,
        "changes": browse.change_rows(e),
        "ip": e.ip,
    }


@audit_bp.route("")
class AuditLogResource(MethodView):
    @require("audit.view")
    @audit_bp.arguments(AuditQuerySchema, location="query")
    @audit_bp.response(200, AuditPageSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        try:
            filters = browse.parse_filters(args)
        except InvalidInput as err:
            abort(422, message="Invalid input.", errors={"query": {k: [v] for k, v in err.errors.items()}})
        rows, next_before = browse.page(g.tenant, filters, before_id=args.get("before"), size=args["page_size"])
        return {"items": [_entry(e) for e in rows], "next_before": next_before}


@audit_bp.route("/<int:entry_id>")
class AuditEntryResource(MethodView):
    @require("audit.view")
    @audit_bp.response(200, AuditEntrySchema)
    def get(self, entry_id: int):  # type: ignore[no-untyped-def]
        e = get_in_tenant(AuditEntry, entry_id)
        if e is None:
            abort(404, message="No such entry.")
        return _entry(e)


blueprints = [audit_bp]
