"""/api/v1/kb: categories, articles (with rendered HTML), versions, diffs, restore and links.

The same rules as the UI: readers see the published articles of the categories their roles
open; kb.manage writes. PATCH takes ``base_version`` and answers 409 with both diffs when
someone saved since.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import g, jsonify, make_response
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.api.errors import fail, object_first
from crm.db import db
from crm.kb import services
from crm.kb.models import LINK_TYPES, STATUSES, KbArticle, KbCategory, KbLink
from crm.markdown import render
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from roles.catalogue import ROLE_NAMES
from roles.checks import PermissionDenied, require

kb_bp = Blueprint("api_kb", __name__, url_prefix="/kb", description="Knowledge base (知识库)")


class KbCategorySchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(validate=validate.Length(min=1, max=100))
    parent_id = fields.Integer(allow_none=True)
    position = fields.Integer()
    roles = fields.List(
        fields.String(validate=validate.OneOf(ROLE_NAMES)), metadata={"description": "empty: visible to everyone"}
    )


class KbCategoryPatchSchema(KbCategorySchema):
    """Any subset of a category's fields."""


class KbArticleSummarySchema(Schema):
    id = fields.Integer(dump_only=True)
    category_id = fields.Integer()
    title = fields.String(validate=validate.Length(max=200))
    status = fields.String(validate=validate.OneOf(STATUSES))
    tags = fields.List(fields.String(validate=validate.Length(max=40)), attribute="tag_list")
    author_id = fields.Integer(dump_only=True, allow_none=True)
    last_editor_id = fields.Integer(dump_only=True, allow_none=True)
    version = fields.Integer(dump_only=True)
    published_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class KbArticleSchema(KbArticleSummarySchema):
    body = fields.String(metadata={"description": "Markdown"})
    html = fields.Method("_html", dump_only=True, metadata={"description": "the body rendered and sanitised"})
    note = fields.String(load_only=True, validate=validate.Length(max=200))

    def _html(self, a: KbArticle) -> str:
        return str(render(a.body))


class KbArticlePatchSchema(KbArticleSchema):
    base_version = fields.Integer(
        load_only=True, metadata={"description": "the version this edit started from; 409 when it is no longer current"}
    )


class KbArticleQueryArgs(Schema):
    q = fields.String(validate=validate.Length(max=100))
    category_id = fields.Integer()
    tag = fields.String(validate=validate.Length(max=40))
    status = fields.String(validate=validate.OneOf(STATUSES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class KbArticlePageSchema(Schema):
    items = fields.List(fields.Nested(KbArticleSummarySchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


class KbVersionSchema(Schema):
    version = fields.Integer()
    title = fields.String()
    body = fields.String()
    editor_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    note = fields.String(allow_none=True)


class KbDiffArgs(Schema):
    from_ = fields.Integer(data_key="from", required=True)
    to = fields.Integer(required=True)


class KbDiffSchema(Schema):
    from_ = fields.Integer(data_key="from")
    to = fields.Integer()
    diff = fields.String(metadata={"description": "unified diff of title and body"})


class KbRestoreSchema(Schema):
    version = fields.Integer(required=True)


class KbLinkSchema(Schema):
    id = fields.Integer(dump_only=True)
    article_id = fields.Integer(dump_only=True)
    object_type = fields.String(required=True, validate=validate.OneOf(LINK_TYPES))
    object_id = fields.Integer(required=True)
    created_at = fields.DateTime(dump_only=True)


def _fail(err: Exception) -> NoReturn:
    fail(err, "You may not do this.")


def _visible(article_id: int) -> KbArticle:
    a = get_in_tenant(KbArticle, article_id)
    if a is None or not services.can_read_article(g.member, a):
        abort(404, message="No such article.")
    return a


def _category(category_id: int) -> KbCategory:
    c = get_in_tenant(KbCategory, category_id)
    if c is None or c.id not in services.visible_category_ids(g.member):
        abort(404, message="No such category.")
    return c


def _manage() -> None:
    if not services.can_manage(g.member):
        abort(403, message="Writing needs the kb.manage permission.")


def _managed_article(article_id: int) -> KbArticle:
    """404 for an article outside the tenant or the member's view, then 403 without kb.manage."""
    a = _visible(article_id)
    _manage()
    return a


def _managed_category(category_id: int) -> KbCategory:
    """404 for a category outside the tenant or the member's view, then 403 without kb.manage."""
    c = _category(category_id)
    _manage()
    return c


@kb_bp.route("/categories")
class Categories(MethodView):
    @require("office.access")
    @kb_bp.response(200, KbCategorySchema(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        cats = services.all_categories()
        visible = services.visible_category_ids(g.member, cats)
        return [c for c, _d in services.category_tree(cats) if c.id in visible]

    @require("kb.manage")
    @kb_bp.arguments(KbCategorySchema)
    @kb_bp.response(201, KbCategorySchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        try:
            c = services.save_category(g.member, {"name": "", **data})
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return c


@kb_bp.route("/categories/<int:category_id>")
class CategoryItem(MethodView):
    @require("office.access")
    @kb_bp.response(200, KbCategorySchema)
    def get(self, category_id: int):  # type: ignore[no-untyped-def]
        return _category(category_id)

    @require("office.access")
    @object_first(_managed_category)
    @kb_bp.arguments(KbCategoryPatchSchema(partial=True))
    @kb_bp.response(200, KbCategorySchema)
    def patch(self, data, category_id: int):  # type: ignore[no-untyped-def]
        _manage()
        c = _category(category_id)
        try:
            services.save_category(g.member, data, c)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return c

    @require("office.access")
    @kb_bp.response(204)
    def delete(self, category_id: int):  # type: ignore[no-untyped-def]
        c = _category(category_id)
        _manage()
        try:
            services.delete_category(g.member, c)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()


def _article_input(data: dict[str, Any]) -> services.ArticleInput:
    sent = {k for k in ("title", "body", "category_id", "status") if k in data}
    if "tag_list" in data:
        sent.add("tags")
    return services.ArticleInput(
        title=data.get("title"), body=data.get("body"), category_id=data.get("category_id"), status=data.get("status"),
        tags=data.get("tag_list"), note=data.get("note"), fields_sent=sent or {"none"},
    )  # fmt: skip


@kb_bp.route("/articles")
class Articles(MethodView):
    @require("office.access")
    @kb_bp.arguments(KbArticleQueryArgs, location="query")
    @kb_bp.response(200, KbArticlePageSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        status = args.get("status") if services.can_manage(g.member) else None
        query = services.ArticleQuery(
            q=args.get("q"), category_id=args.get("category_id"), tag=args.get("tag"), status=status,
            page=args["page"], page_size=args["page_size"],
        )  # fmt: skip
        rows, total = services.list_articles(g.member, query)
        return {"items": rows, "page": query.page, "page_size": query.page_size, "total": total}

    @require("kb.manage")
    @kb_bp.arguments(KbArticleSchema)
    @kb_bp.response(201, KbArticleSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        inp = _article_input(data)
        inp.fields_sent = {"title", "body", "category_id", "status", "tags"}
        try:
            a = services.create_article(g.member, inp)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return a


@kb_bp.route("/articles/<int:article_id>")
class ArticleItem(MethodView):
    @require("office.access")
    @kb_bp.response(200, KbArticleSchema)
    def get(self, article_id: int):  # type: ignore[no-untyped-def]
        return _visible(article_id)

    @require("office.access")
    @object_first(_managed_article)
    @kb_bp.arguments(KbArticlePatchSchema(partial=True))
    @kb_bp.response(200, KbArticleSchema)
    @kb_bp.alt_response(409, description="Someone saved since base_version: both diffs, nothing written")
    def patch(self, data, article_id: int):  # type: ignore[no-untyped-def]
        _manage()
        a = _visible(article_id)
        try:
            services.update_article(g.member, a, _article_input(data), data.get("base_version"))
        except services.EditConflict as c:
            body = {
                "code": 409, "status": "Conflict",
                "message": "The article was changed since base_version; nothing was saved.",
                "current_version": c.article.version, "base_version": data.get("base_version"),
                "their_change": services.diff_text(c.theirs), "your_change": services.diff_text(c.yours),
                "current": {"title": c.article.title, "body": c.article.body},
            }  # fmt: skip
            db.session.rollback()
            return make_response(jsonify(body), 409)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return a

    @require("office.access")
    @kb_bp.response(204)
    def delete(self, article_id: int):  # type: ignore[no-untyped-def]
        a = _visible(article_id)
        _manage()
        services.delete_article(g.member, a)
        db.session.commit()


@kb_bp.route("/articles/<int:article_id>/versions")
class ArticleVersions(MethodView):
    @require("office.access")
    @kb_bp.response(200, KbVersionSchema(many=True))
    def get(self, article_id: int):  # type: ignore[no-untyped-def]
        return services.versions_of(_visible(article_id))


@kb_bp.route("/articles/<int:article_id>/versions/diff")
class ArticleDiff(MethodView):
    @require("office.access")
    @object_first(_visible)
    @kb_bp.arguments(KbDiffArgs, location="query")
    @kb_bp.response(200, KbDiffSchema)
    def get(self, args, article_id: int):  # type: ignore[no-untyped-def]
        a = _visible(article_id)
        try:
            lines = services.diff_versions(a, args["from_"], args["to"])
        except InvalidInput as err:
            _fail(err)
        return {"from_": args["from_"], "to": args["to"], "diff": services.diff_text(lines)}


@kb_bp.route("/articles/<int:article_id>/restore")
class ArticleRestore(MethodView):
    @require("office.access")
    @object_first(_managed_article)
    @kb_bp.arguments(KbRestoreSchema)
    @kb_bp.response(200, KbArticleSchema)
    def post(self, data, article_id: int):  # type: ignore[no-untyped-def]
        _manage()
        a = _visible(article_id)
        try:
            services.restore_version(g.member, a, data["version"])
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return a


@kb_bp.route("/articles/<int:article_id>/links")
class ArticleLinks(MethodView):
    @require("office.access")
    @kb_bp.response(200, KbLinkSchema(many=True))
    def get(self, article_id: int):  # type: ignore[no-untyped-def]
        from sqlalchemy import select

        a = _visible(article_id)
        links = db.session.scalars(select(KbLink).where(KbLink.article_id == a.id).order_by(KbLink.id))
        return [lk for lk in links if services.can_link_read(g.member, lk)]

    @require("office.access")
    @object_first(_visible)
    @kb_bp.arguments(KbLinkSchema)
    @kb_bp.response(201, KbLinkSchema)
    def post(self, data, article_id: int):  # type: ignore[no-untyped-def]
        a = _visible(article_id)
        try:
            lk = services.add_link(g.member, a, data["object_type"], data["object_id"])
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return lk


@kb_bp.route("/articles/<int:article_id>/links/<int:link_id>")
class ArticleLinkItem(MethodView):
    @require("office.access")
    @kb_bp.response(204)
    def delete(self, article_id: int, link_id: int):  # type: ignore[no-untyped-def]
        a = _visible(article_id)
        lk = get_in_tenant(KbLink, link_id)
        if lk is None or lk.article_id != a.id:
            abort(404, message="No such link.")
        try:
            services.remove_link(g.member, lk)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()


blueprints = [kb_bp]
