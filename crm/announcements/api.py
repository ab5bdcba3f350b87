"""/api/v1/announcements: the member's feed, reading and acknowledging; writing, receipts and
reminders for holders of announcements.manage. The same rules as the pages."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.announcements import services
from crm.announcements.models import CATEGORIES, Announcement
from crm.api.errors import fail, object_first
from crm.attachments import services as attachments
from crm.db import db, utcnow
from crm.markdown import render
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from roles.catalogue import ROLE_NAMES
from roles.checks import PermissionDenied, can, require

announcements_bp = Blueprint(
    "api_announcements", __name__, url_prefix="/announcements", description="Announcements (公告)"
)


class AnnouncementFileSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    mimetype = fields.String()
    size = fields.Integer()
    url = fields.String(metadata={"description": "download path (in the workspace, signed-in session)"})


class AnnouncementSchema(Schema):
    id = fields.Integer(dump_only=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category = fields.String(load_default="general", validate=validate.OneOf(CATEGORIES))
    body = fields.String(load_default="", metadata={"description": "Markdown"})
    html = fields.String(dump_only=True, metadata={"description": "the body rendered and sanitised"})
    audience_roles = fields.List(
        fields.String(validate=validate.OneOf(ROLE_NAMES)), load_default=list,
        metadata={"description": "role names; empty: everyone"},
    )  # fmt: skip
    pinned = fields.Boolean(load_default=False)
    requires_ack = fields.Boolean(load_default=False)
    publish_at = fields.AwareDateTime(allow_none=True, load_default=None, metadata={"description": "null: now"})
    expires_at = fields.AwareDateTime(allow_none=True, load_default=None)
    author_id = fields.Integer(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, metadata={"description": "scheduled, published or expired"})
    read_at = fields.DateTime(dump_only=True, allow_none=True, metadata={"description": "when you read it"})
    acknowledged_at = fields.DateTime(dump_only=True, allow_none=True)
    attachments = fields.List(fields.Nested(AnnouncementFileSchema), dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class AnnouncementPatchSchema(Schema):
    title = fields.String(validate=validate.Length(min=1, max=200))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    body = fields.String()
    audience_roles = fields.List(fields.String(validate=validate.OneOf(ROLE_NAMES)))
    pinned = fields.Boolean()
    requires_ack = fields.Boolean()
    publish_at = fields.AwareDateTime(allow_none=True)
    expires_at = fields.AwareDateTime(allow_none=True)


class FeedArgs(Schema):
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    all = fields.Boolean(load_default=False, metadata={"description": "managers: every announcement"})


class FeedSchema(Schema):
    items = fields.List(fields.Nested(AnnouncementSchema))
    unread = fields.Integer()


class ReceiptSchema(Schema):
    member_id = fields.Integer()
    name = fields.String()
    read_at = fields.DateTime(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    reminded_at = fields.DateTime(allow_none=True)


class ReceiptsSchema(Schema):
    read = fields.List(fields.Nested(ReceiptSchema))
    unread = fields.List(fields.Nested(ReceiptSchema))


class RemindedSchema(Schema):
    reminded = fields.Integer()


def _status(a: Announcement) -> str:
    now = utcnow()
    return "expired" if a.is_expired(now) else ("published" if a.is_published(now) else "scheduled")


def _files(ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    from flask import url_for

    return {
        owner: [{"id": f.id, "filename": f.filename, "mimetype": f.mimetype, "size": f.size,
                 "url": url_for("attachments.download", slug=g.tenant.slug, attachment_id=f.id)} for f in files]
        for owner, files in attachments.for_owners("announcement", ids).items()
    }  # fmt: skip


def _dump(a: Announcement, read_at: Any, ack_at: Any, files: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": a.id, "title": a.title, "category": a.category, "body": a.body, "html": str(render(a.body)),
        "audience_roles": a.audience_roles, "pinned": a.pinned, "requires_ack": a.requires_ack,
        "publish_at": a.publish_at, "expires_at": a.expires_at, "author_id": a.author_id, "status": _status(a),
        "read_at": read_at, "acknowledged_at": ack_at, "attachments": files, "created_at": a.created_at,
    }  # fmt: skip


def _one(a: Announcement) -> dict[str, Any]:
    from sqlalchemy import select

    from crm.announcements.models import AnnouncementRead

    row = db.session.scalars(
        select(AnnouncementRead).where(
            AnnouncementRead.announcement_id == a.id, AnnouncementRead.member_id == g.member.id
        )
    ).one_or_none()
    return _dump(a, row.read_at if row else None, row.acknowledged_at if row else None, _files([a.id]).get(a.id, []))


def _fail(err: Exception) -> NoReturn:
    fail(err, "You may not manage announcements.")


def _readable(announcement_id: int) -> Announcement:
    a = get_in_tenant(Announcement, announcement_id)
    if a is None or not services.can_read(g.member, a, utcnow()):
        abort(404, message="No such announcement.")
    return a


def _managed(announcement_id: int) -> Announcement:
    a = get_in_tenant(Announcement, announcement_id)
    if a is None:
        abort(404, message="No such announcement.")
    if not can(g.member, services.MANAGE):
        abort(403, message="You may not manage announcements.")
    return a


@announcements_bp.route("")
class Announcements(MethodView):
    @require("office.access")
    @announcements_bp.arguments(FeedArgs, location="query")
    @announcements_bp.response(200, FeedSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        now = utcnow()
        items = services.feed(g.member, now, category=args.get("category"), manage_all=args["all"])
        files = _files([i.announcement.id for i in items])
        return {
            "items": [_dump(i.announcement, i.read_at, i.acknowledged_at, files.get(i.announcement.id, []))
                      for i in items],
            "unread": services.unread_count(g.member, now),
        }  # fmt: skip

    @require("office.access", services.MANAGE)
    @announcements_bp.arguments(AnnouncementSchema)
    @announcements_bp.response(201, AnnouncementSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        try:
            a = services.create(g.member, data, utcnow())
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return _one(a)


@announcements_bp.route("/<int:announcement_id>")
class AnnouncementItem(MethodView):
    @require("office.access")
    @announcements_bp.response(200, AnnouncementSchema)
    def get(self, announcement_id: int):  # type: ignore[no-untyped-def]
        return _one(_readable(announcement_id))

    @require("office.access")
    @object_first(_managed)
    @announcements_bp.arguments(AnnouncementPatchSchema)
    @announcements_bp.response(200, AnnouncementSchema)
    def patch(self, data, announcement_id: int):  # type: ignore[no-untyped-def]
        a = _managed(announcement_id)
        try:
            services.update(g.member, a, data, utcnow())
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return _one(a)

    @require("office.access")
    @announcements_bp.response(204)
    def delete(self, announcement_id: int):  # type: ignore[no-untyped-def]
        a = _managed(announcement_id)
        services.delete(g.member, a)
        db.session.commit()


@announcements_bp.route("/<int:announcement_id>/read")
class AnnouncementMarkRead(MethodView):
    @require("office.access")
    @announcements_bp.response(200, AnnouncementSchema)
    def post(self, announcement_id: int):  # type: ignore[no-untyped-def]
        a = _readable(announcement_id)
        services.mark_read(g.member, a, utcnow())
        db.session.commit()
        return _one(a)


@announcements_bp.route("/<int:announcement_id>/acknowledge")
class AnnouncementAcknowledge(MethodView):
    @require("office.access")
    @announcements_bp.response(200, AnnouncementSchema)
    def post(self, announcement_id: int):  # type: ignore[no-untyped-def]
        a = _readable(announcement_id)
        try:
            services.acknowledge(g.member, a, utcnow())
        except InvalidInput as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return _one(a)


def _receipt(m: Any, row: Any) -> dict[str, Any]:
    return {
        "member_id": m.id, "name": m.name, "read_at": row.read_at if row else None,
        "acknowledged_at": row.acknowledged_at if row else None, "reminded_at": row.reminded_at if row else None,
    }  # fmt: skip


@announcements_bp.route("/<int:announcement_id>/receipts")
class AnnouncementReceipts(MethodView):
    @require("office.access")
    @announcements_bp.response(200, ReceiptsSchema)
    def get(self, announcement_id: int):  # type: ignore[no-untyped-def]
        a = _managed(announcement_id)
        r = services.receipts(g.member, a)
        return {"read": [_receipt(m, row) for m, row in r.read], "unread": [_receipt(m, row) for m, row in r.unread]}


@announcements_bp.route("/<int:announcement_id>/remind")
class AnnouncementRemind(MethodView):
    @require("office.access")
    @announcements_bp.response(200, RemindedSchema)
    def post(self, announcement_id: int):  # type: ignore[no-untyped-def]
        a = _managed(announcement_id)
        try:
            n = services.remind(g.member, a, utcnow())
        except InvalidInput as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return {"reminded": n}


blueprints = [announcements_bp]
