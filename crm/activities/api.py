"""/api/v1/followups, /api/v1/tasks and /api/v1/attachments/<id>: the UI's rules, through the same services."""

from __future__ import annotations

from typing import NoReturn

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.activities import services
from crm.activities.models import FOLLOWUP_KINDS, FollowUp, Task
from crm.api.errors import fail, object_first
from crm.attachments.views import readable_attachment, send
from crm.db import db
from crm.sales.models import Customer
from crm.sales.visibility import can_read
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, require

followups_bp = Blueprint("api_followups", __name__, url_prefix="/followups", description="Follow-ups (跟进记录)")
tasks_bp = Blueprint("api_tasks", __name__, url_prefix="/tasks", description="Tasks")
attachments_bp = Blueprint("api_attachments", __name__, url_prefix="/attachments", description="Attachments")


class AttachmentSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    mimetype = fields.String()
    size = fields.Integer()
    sha256 = fields.String()


class FollowUpSchema(Schema):
    id = fields.Integer(dump_only=True)
    customer_id = fields.Integer(required=True)
    contact_id = fields.Integer(allow_none=True)
    opportunity_id = fields.Integer(allow_none=True)
    author_id = fields.Integer(dump_only=True)
    occurred_at = fields.AwareDateTime(allow_none=True, default_timezone=None)
    kind = fields.String(required=True, validate=validate.OneOf(FOLLOWUP_KINDS))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    next_followup_on = fields.Date(allow_none=True, metadata={"description": "creates a task for the author"})
    created_at = fields.DateTime(dump_only=True)


class FollowUpPatchSchema(FollowUpSchema):
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class FollowUpQueryArgs(Schema):
    customer_id = fields.Integer(required=True)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class FollowUpPageSchema(Schema):
    items = fields.List(fields.Nested(FollowUpSchema))
    next_offset = fields.Integer(allow_none=True)


class TaskSchema(Schema):
    id = fields.Integer(dump_only=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    due_on = fields.Date(allow_none=True)
    assignee_id = fields.Integer(allow_none=True, metadata={"description": "defaults to you"})
    customer_id = fields.Integer(allow_none=True)
    followup_id = fields.Integer(dump_only=True)
    done = fields.Boolean(load_default=None, allow_none=True)
    done_at = fields.DateTime(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class TaskPatchSchema(TaskSchema):
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class TaskQueryArgs(Schema):
    customer_id = fields.Integer(metadata={"description": "the customer's tasks instead of yours"})
    include_done = fields.Boolean(load_default=False)


def _fail(err: Exception) -> NoReturn:
    fail(err, "You may not change this record.")


def _customer(customer_id: int) -> Customer:
    c = get_in_tenant(Customer, customer_id)
    if c is None or c.archived_at is not None or not can_read(g.member, c):
        abort(404, message="No such customer.")
    return c


def _followup(followup_id: int) -> FollowUp:
    f = get_in_tenant(FollowUp, followup_id)
    if f is None or not services.can_read_followup(g.member, f):
        abort(404, message="No such follow-up.")
    return f


def _task(task_id: int) -> Task:
    t = get_in_tenant(Task, task_id)
    if t is None or not services.can_read_task(g.member, t):
        abort(404, message="No such task.")
    return t


@followups_bp.route("")
class FollowUps(MethodView):
    @require("sales.access")
    @followups_bp.arguments(FollowUpQueryArgs, location="query")
    @followups_bp.response(200, FollowUpPageSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        """A customer's follow-ups, newest first."""
        c = _customer(args["customer_id"])
        rows = services.list_followups(g.member, c, args["limit"], args["offset"])
        nxt = args["offset"] + len(rows) if len(rows) == args["limit"] else None
        return {"items": rows, "next_offset": nxt}

    @require("sales.access")
    @followups_bp.arguments(FollowUpSchema)
    @followups_bp.response(201, FollowUpSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        c = _customer(data.pop("customer_id"))
        try:
            f = services.log_followup(g.member, c, data)
        except (services.InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return f


@followups_bp.route("/<int:followup_id>")
class FollowUpItem(MethodView):
    @require("sales.access")
    @followups_bp.response(200, FollowUpSchema)
    def get(self, followup_id: int):  # type: ignore[no-untyped-def]
        return _followup(followup_id)

    @require("sales.access")
    @object_first(_followup)
    @followups_bp.arguments(FollowUpPatchSchema)
    @followups_bp.response(200, FollowUpSchema)
    def patch(self, data, followup_id: int):  # type: ignore[no-untyped-def]
        f = _followup(followup_id)
        data.pop("customer_id", None)  # a follow-up stays with its customer
        try:
            services.update_followup(g.member, f, data)
        except (services.InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return f

    @require("sales.access")
    @followups_bp.response(204)
    def delete(self, followup_id: int):  # type: ignore[no-untyped-def]
        f = _followup(followup_id)
        try:
            services.delete_followup(g.member, f)
        except PermissionDenied as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()


@followups_bp.route("/<int:followup_id>/attachments")
class FollowUpAttachments(MethodView):
    @require("sales.access")
    @followups_bp.response(200, AttachmentSchema(many=True))
    def get(self, followup_id: int):  # type: ignore[no-untyped-def]
        f = _followup(followup_id)
        from crm.attachments.services import for_owners

        return for_owners("followup", [f.id]).get(f.id, [])


@tasks_bp.route("")
class Tasks(MethodView):
    @require("sales.access")
    @tasks_bp.arguments(TaskQueryArgs, location="query")
    @tasks_bp.response(200, TaskSchema(many=True))
    def get(self, args):  # type: ignore[no-untyped-def]
        """Your tasks, overdue first; or, given customer_id, that customer's tasks."""
        if args.get("customer_id") is not None:
            rows = services.tasks_of_customer(g.member, _customer(args["customer_id"]))
            return rows if args["include_done"] else [t for t in rows if not t.done]
        return services.my_tasks(g.member, include_done=args["include_done"])

    @require("sales.access")
    @tasks_bp.arguments(TaskSchema)
    @tasks_bp.response(201, TaskSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        done = data.pop("done", None)
        try:
            t = services.create_task(g.member, data)
            if done:
                services.set_done(g.member, t)
        except (services.InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return t


@tasks_bp.route("/<int:task_id>")
class TaskItem(MethodView):
    @require("sales.access")
    @tasks_bp.response(200, TaskSchema)
    def get(self, task_id: int):  # type: ignore[no-untyped-def]
        return _task(task_id)

    @require("sales.access")
    @object_first(_task)
    @tasks_bp.arguments(TaskPatchSchema)
    @tasks_bp.response(200, TaskSchema)
    def patch(self, data, task_id: int):  # type: ignore[no-untyped-def]
        t = _task(task_id)
        try:
            services.update_task(g.member, t, data)
        except (services.InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return t

    @require("sales.access")
    @tasks_bp.response(204)
    def delete(self, task_id: int):  # type: ignore[no-untyped-def]
        t = _task(task_id)
        try:
            services.delete_task(g.member, t)
        except PermissionDenied as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()


@attachments_bp.route("/<int:attachment_id>")
class AttachmentItem(MethodView):
    @require("sales.access")
    @attachments_bp.response(200, description="The file itself")
    def get(self, attachment_id: int):  # type: ignore[no-untyped-def]
        """Download; only when you may read the record the file is attached to."""
        att = readable_attachment(attachment_id)
        if att is None:
            abort(404, message="No such attachment.")
        return send(att)


blueprints = [followups_bp, tasks_bp, attachments_bp]
