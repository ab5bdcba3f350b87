"""Office → Knowledge base: categories, articles (Markdown), history with diffs, restore, files, links.

Everyone with office.access reads the published articles of the categories their roles open;
kb.manage writes, sees drafts and every category. Editing is a compare-and-swap on the
article's version: a save that lost the race answers 409 with both changes and the text kept.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.attachments import services as attachments
from crm.choices import choices
from crm.db import db
from crm.kb import search as _search  # noqa: F401 — registers the global-search provider
from crm.kb import services
from crm.kb.forms import ArticleForm, CategoryForm, LinkForm, UploadForm
from crm.kb.models import STATUSES, KbArticle, KbCategory, KbLink
from crm.markdown import render
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant, get_or_404
from roles.catalogue import ROLES
from roles.checks import PermissionDenied, require
from tenants.models import Membership

bp = Blueprint("kb", __name__, url_prefix="/w/<slug>/office/kb")

STATUS_LABELS = {"draft": _l("Draft"), "published": _l("Published")}
STATUS_BADGES = {"draft": "secondary", "published": "success"}
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}


def _visible_article(article_id: int) -> KbArticle:
    a = db.session.scalars(
        select(KbArticle)
        .where(KbArticle.id == article_id)
        .options(
            joinedload(KbArticle.category),
            joinedload(KbArticle.author).joinedload(Membership.user),
            joinedload(KbArticle.last_editor).joinedload(Membership.user),
        )
    ).one_or_none()
    if a is None:
        abort(404)
    if not services.can_read_article(g.member, a):
        abort(404)
    return a


def _managed_category(category_id: int) -> KbCategory:
    c = get_or_404(KbCategory, category_id)
    if not services.can_manage(g.member):
        abort(403)
    return c


def _category_choices(tree: list[tuple[KbCategory, int]], visible: set[int], empty: bool) -> list[Any]:
    pairs: list[tuple[object, object]] = [(None, "—")] if empty else []
    pairs += [(c.id, "\u2003" * depth + c.name) for c, depth in tree if c.id in visible]
    return choices(pairs)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _common() -> dict[str, Any]:
    return {"status_labels": STATUS_LABELS, "badges": STATUS_BADGES, "manage": services.can_manage(g.member)}


@bp.get("")
@require("office.access")
def index():
    a = request.args
    cats = services.all_categories()
    visible = services.visible_category_ids(g.member, cats)
    tree = [(c, d) for c, d in services.category_tree(cats) if c.id in visible]
    category_id = a.get("category_id", type=int)
    status = a.get("status") if a.get("status") in STATUSES and services.can_manage(g.member) else None
    page = max(a.get("page", 1, type=int) or 1, 1)
    q = (a.get("q") or "").strip()[:100]
    tag = (a.get("tag") or "").strip()[:40]
    rows, total = services.list_articles(
        g.member,
        services.ArticleQuery(q=q or None, category_id=category_id, tag=tag or None, status=status, page=page),
        visible,
    )
    return render_template(
        "office/kb/index.html", rows=rows, total=total, tree=tree, names={c.id: c.name for c in cats},
        category_id=category_id, q=q, tag=tag, status=status, page=page, pages=max((total + 49) // 50, 1),
        **_common(),
    )  # fmt: skip


# ---------------------------------------------------------------- categories


def _role_choices() -> list[Any]:
    return choices([(r.name, r.label) for r in ROLES.values()])


def _category_form(form: CategoryForm, category: KbCategory | None):  # type: ignore[no-untyped-def]
    cats = services.all_categories()
    tree = services.category_tree(cats)
    form.roles.choices = _role_choices()
    form.parent_id.choices = _category_choices(
        [(c, d) for c, d in tree if category is None or c.id != category.id], {c.id for c in cats}, True
    )
    if form.validate_on_submit():
        try:
            saved = services.save_category(
                g.member,
                {"name": form.name.data, "parent_id": form.parent_id.data, "roles": form.roles.data or [],
                 "position": form.position.data or 0},
                category,
            )  # fmt: skip
        except InvalidInput as err:
            db.session.rollback()
            for key, msg in err.errors.items():
                if hasattr(form, key):
                    getattr(form, key).errors = [msg]
        else:
            db.session.commit()
            flash(_("Category “%(name)s” saved.", name=saved.name), "success")
            return redirect(url_for("kb.categories"))
    status = 400 if request.method == "POST" else 200
    role_labels = {r.name: r.label for r in ROLES.values()}
    return render_template(
        "office/kb/categories.html", form=form, category=category, tree=tree, role_labels=role_labels, **_common()
    ), status


@bp.route("/categories", methods=["GET", "POST"])
@require("kb.manage")
def categories():
    return _category_form(CategoryForm(), None)


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@require("office.access")
def edit_category(category_id: int):
    c = _managed_category(category_id)
    form = CategoryForm(obj=c) if request.method == "GET" else CategoryForm()
    return _category_form(form, c)


@bp.post("/categories/<int:category_id>/delete")
@require("office.access")
def delete_category(category_id: int):
    c = _managed_category(category_id)
    try:
        services.delete_category(g.member, c)
    except InvalidInput as err:
        db.session.rollback()
        flash(" ".join(err.errors.values()), "danger")
        return redirect(url_for("kb.categories")), 303
    db.session.commit()
    flash(_("Category deleted."), "success")
    return redirect(url_for("kb.categories"))


# ---------------------------------------------------------------- articles


def _prepare(form: ArticleForm) -> None:
    cats = services.all_categories()
    visible = services.visible_category_ids(g.member, cats)
    form.category_id.choices = _category_choices(services.category_tree(cats), visible, True)


def _render_form(form: ArticleForm, article: KbArticle | None, status: int, conflict: Any = None):  # type: ignore[no-untyped-def]
    files = attachments.for_owners("kb_article", [article.id]).get(article.id, []) if article is not None else []
    return render_template(
        "office/kb/form.html", form=form, article=article, conflict=conflict, files=files, image_types=IMAGE_TYPES,
        upload_form=UploadForm(), **_common(),
    ), status  # fmt: skip


def _input(form: ArticleForm) -> services.ArticleInput:
    return services.ArticleInput(
        title=form.title.data, body=form.body.data or "", category_id=form.category_id.data, status=form.status.data,
        tags=form.tags.data or "", note=form.note.data,
    )  # fmt: skip


def _errors_to_form(form: ArticleForm, err: InvalidInput) -> None:
    for key, msg in err.errors.items():
        if hasattr(form, key):
            getattr(form, key).errors = [msg]
        else:
            flash(msg, "danger")


@bp.route("/articles/new", methods=["GET", "POST"])
@require("kb.manage")
def new_article():
    form = ArticleForm()
    if request.method == "GET":
        form.category_id.data = request.args.get("category_id", type=int)
    _prepare(form)
    if form.validate_on_submit():
        try:
            a = services.create_article(g.member, _input(form))
        except InvalidInput as err:
            db.session.rollback()
            _errors_to_form(form, err)
        else:
            db.session.commit()
            flash(_("Article saved."), "success")
            return redirect(url_for("kb.show", article_id=a.id))
    return _render_form(form, None, 400 if request.method == "POST" else 200)


@bp.get("/articles/<int:article_id>")
@require("office.access")
def show(article_id: int):
    a = _visible_article(article_id)
    files = attachments.for_owners("kb_article", [a.id]).get(a.id, [])
    return render_template(
        "office/kb/show.html", a=a, html=render(a.body), files=files, image_types=IMAGE_TYPES, **_common()
    )


@bp.route("/articles/<int:article_id>/edit", methods=["GET", "POST"])
@require("office.access")
def edit(article_id: int):
    a = _visible_article(article_id)
    if not services.can_manage(g.member):
        abort(403)
    form = ArticleForm(obj=a) if request.method == "GET" else ArticleForm()
    if request.method == "GET":
        form.tags.data = ", ".join(a.tag_list)
        form.base_version.data = str(a.version)
        form.note.data = ""
    _prepare(form)
    if form.validate_on_submit():
        base = _int(form.base_version.data)
        if base is None:
            base = a.version
        try:
            services.update_article(g.member, a, _input(form), base)
        except services.EditConflict as conflict:
            view = {
                "theirs": conflict.theirs, "yours": conflict.yours, "version": conflict.article.version,
                "editor": conflict.article.last_editor.user.name if conflict.article.last_editor else "",
                "base_version": base,
            }  # fmt: skip
            db.session.rollback()
            # The user's text stays in the form; saving again goes on top of the current version.
            form.base_version.data = str(view["version"])
            return _render_form(form, a, 409, conflict=view)
        except InvalidInput as err:
            db.session.rollback()
            _errors_to_form(form, err)
        else:
            db.session.commit()
            flash(_("Article saved as version %(n)d.", n=a.version), "success")
            return redirect(url_for("kb.show", article_id=a.id))
    return _render_form(form, a, 400 if request.method == "POST" else 200)


@bp.post("/articles/<int:article_id>/delete")
@require("office.access")
def delete(article_id: int):
    a = _visible_article(article_id)
    try:
        services.delete_article(g.member, a)
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    db.session.commit()
    flash(_("Article deleted."), "success")
    return redirect(url_for("kb.index"))


@bp.get("/articles/<int:article_id>/history")
@require("office.access")
def history(article_id: int):
    a = _visible_article(article_id)
    versions = services.versions_of(a)
    numbers = [v.version for v in versions]
    frm = request.args.get("from", type=int)
    to = request.args.get("to", type=int)
    if frm is None and to is None and len(numbers) >= 2:
        frm, to = numbers[1], numbers[0]
    diff, status = None, 200
    if frm is not None and to is not None:
        if frm in numbers and to in numbers:
            diff = services.diff_versions(a, frm, to)
        else:
            flash(_("No such version."), "danger")
            status = 400
    return render_template(
        "office/kb/history.html", a=a, versions=versions, diff=diff, frm=frm, to=to, **_common()
    ), status


@bp.post("/articles/<int:article_id>/restore")
@require("office.access")
def restore(article_id: int):
    a = _visible_article(article_id)
    if not services.can_manage(g.member):
        abort(403)
    version = request.form.get("version", type=int)
    try:
        if version is None:
            raise InvalidInput({"version": _("No such version.")})
        services.restore_version(g.member, a, version)
    except (InvalidInput, services.EditConflict) as err:
        db.session.rollback()
        msg = " ".join(err.errors.values()) if isinstance(err, InvalidInput) else _("Someone saved meanwhile.")
        flash(msg, "danger")
        return redirect(url_for("kb.history", article_id=a.id)), 303
    db.session.commit()
    flash(_("Version %(old)d restored as version %(n)d.", old=version, n=a.version), "success")
    return redirect(url_for("kb.show", article_id=a.id))


@bp.post("/articles/<int:article_id>/files")
@require("office.access")
def upload(article_id: int):
    a = _visible_article(article_id)
    if not services.can_manage(g.member):
        abort(403)
    form = UploadForm()
    upload = request.files.get("file")
    if not form.validate_on_submit() or upload is None or not upload.filename:
        flash(_("Choose a file to upload."), "danger")
        return redirect(url_for("kb.edit", article_id=a.id)), 303
    try:
        attachments.add(g.member, "kb_article", a.id, upload.filename, attachments.read_limited(upload.stream))
    except attachments.InvalidFile as err:
        db.session.rollback()
        flash(err.reason, "danger")
        return redirect(url_for("kb.edit", article_id=a.id)), 303
    db.session.commit()
    flash(_("File uploaded. Use “Insert” to put it into the article."), "success")
    return redirect(url_for("kb.edit", article_id=a.id))


# ---------------------------------------------------------------- links


def _back(object_type: str, object_id: int) -> str:
    if object_type == "opportunity":
        return url_for("pipeline.show", opportunity_id=object_id)
    return url_for("customers.show", customer_id=object_id)


@bp.post("/links")
@require("office.access")
def link():
    form = LinkForm()
    object_type = form.object_type.data or ""
    object_id = _int(form.object_id.data)
    if not form.validate_on_submit() or object_id is None or object_type not in ("customer", "opportunity"):
        abort(400)
    article = get_in_tenant(KbArticle, form.article_id.data) if form.article_id.data else None
    try:
        if article is None or not services.can_read_article(g.member, article):
            raise InvalidInput({"article_id": _("No such article.")})
        services.add_link(g.member, article, object_type, object_id)
    except InvalidInput as err:
        db.session.rollback()
        if "object_id" in err.errors:
            abort(404)
        flash(" ".join(err.errors.values()), "danger")
        return redirect(_back(object_type, object_id)), 303
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    db.session.commit()
    flash(_("Article linked."), "success")
    return redirect(_back(object_type, object_id))


@bp.post("/links/<int:link_id>/delete")
@require("office.access")
def unlink(link_id: int):
    lk = get_or_404(KbLink, link_id)
    if not services.can_read_article(g.member, lk.article):
        abort(404)
    back = _back(lk.object_type, lk.object_id)
    try:
        services.remove_link(g.member, lk)
    except InvalidInput:
        db.session.rollback()
        abort(404)
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    db.session.commit()
    flash(_("Link removed."), "success")
    return redirect(back)


# ---------------------------------------------------------------- customer 360° and opportunity pages


def _linked_context(member: Any, object_type: str, object_id: int, editable: bool) -> dict[str, Any] | None:
    from roles.checks import can

    if not can(member, "office.access"):
        return None
    visible = services.visible_category_ids(member)
    pairs = services.linked_articles(member, object_type, object_id, visible)
    options = services.link_options(member, {a.id for _lk, a in pairs}, visible) if editable else []
    return {"pairs": pairs, "options": options, "can_link": editable, "object_type": object_type,
            "object_id": object_id, "form": LinkForm()}  # fmt: skip


def customer_articles(member: Any, customer: Any) -> dict[str, Any] | None:
    from crm.sales.visibility import can_edit

    return _linked_context(member, "customer", customer.id, can_edit(member, customer))


def opportunity_articles(member: Any, opportunity: Any) -> dict[str, Any] | None:
    """For the opportunity page: ``{% with kb=opportunity_articles(member, opp) %}{% include
    'office/kb/_linked_articles.html' %}{% endwith %}`` (None: render nothing)."""
    from crm.sales.visibility import can_edit

    return _linked_context(member, "opportunity", opportunity.id, can_edit(member, opportunity.customer))


@bp.app_template_global("kb_for_opportunity")
def kb_for_opportunity(opportunity: Any) -> dict[str, Any] | None:
    """In the opportunity page: ``{% with kb=kb_for_opportunity(opp) %}{% include
    'office/kb/_linked_articles.html' %}{% endwith %}``."""
    member = g.get("member")
    return opportunity_articles(member, opportunity) if member is not None else None


def _register_sections() -> None:
    from crm.sales.sections import Section, register

    register(Section(70, "office/kb/_customer_section.html", customer_articles, column="side"))


_register_sections()
