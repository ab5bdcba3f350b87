"""Office → Announcements: the feed, the announcement page (opening marks it read), writing,
attachments, read receipts and reminders, the unread megaphone, and the acknowledgement stop.

The stop is a before_app_request hook: a signed-in member opening an HTML page of their
workspace while a live announcement that requires acknowledgement waits for them is sent to
it first. It costs one LIMIT 1 statement per page view.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from crm.announcements import services
from crm.announcements.forms import CATEGORY_LABELS, AcknowledgeForm, AnnouncementForm, to_local
from crm.announcements.models import CATEGORIES, Announcement
from crm.attachments import services as attachments
from crm.attachments.services import InvalidFile, read_limited
from crm.db import db, utcnow
from crm.markdown import plain_text, render
from crm.sales.services import InvalidInput
from crm.scoping import get_or_404
from crm.urls import safe_next
from roles.checks import PermissionDenied, can, require

bp = Blueprint("announcements", __name__, url_prefix="/w/<slug>/office/announcements")

MANAGE = services.MANAGE
# Pages the acknowledgement stop lets through: itself, the megaphone, downloads, signing out.
_NOT_STOPPED = {
    "announcements.acknowledge", "announcements.unread", "attachments.download", "accounts.logout", "static",
}  # fmt: skip


@bp.before_app_request
def _acknowledgement_stop():  # type: ignore[no-untyped-def]
    if request.method != "GET" or request.headers.get("HX-Request"):
        return None
    if not request.path.startswith("/w/") or request.endpoint in _NOT_STOPPED or request.endpoint is None:
        return None
    member = g.get("member")
    if member is None or not member.is_active:
        return None
    pending = services.pending_ack_id(member, utcnow())
    if pending is None:
        return None
    here = request.full_path.rstrip("?")
    return redirect(url_for("announcements.acknowledge", announcement_id=pending, next=here))


def _readable(announcement_id: int) -> Announcement:
    ann = get_or_404(Announcement, announcement_id)
    if not services.can_read(g.member, ann, utcnow()):
        abort(404)
    return ann


def _managed(announcement_id: int) -> Announcement:
    ann = get_or_404(Announcement, announcement_id)
    if not can(g.member, MANAGE):
        abort(403)
    return ann


def status_of(ann: Announcement, now) -> str:  # type: ignore[no-untyped-def]
    if ann.is_expired(now):
        return "expired"
    return "published" if ann.is_published(now) else "scheduled"


STATUS_LABELS = {"published": _l("Published"), "scheduled": _l("Scheduled"), "expired": _l("Expired")}


def _ctx() -> dict:
    return {
        "categories": CATEGORY_LABELS,
        "status_of": status_of,
        "now": utcnow(),
        "excerpt": plain_text,
        "can_manage": can(g.member, MANAGE),
        "status_labels": STATUS_LABELS,
    }


@bp.get("")
@require("office.access")
def index():
    category = request.args.get("category") if request.args.get("category") in CATEGORIES else None
    manage_all = bool(request.args.get("all")) and can(g.member, MANAGE)
    items = services.feed(g.member, utcnow(), category=category, manage_all=manage_all)
    return render_template(
        "office/announcements/index.html", items=items, category=category, manage_all=manage_all, **_ctx()
    )


@bp.get("/unread")
@require("office.access")
def unread():
    """The htmx fragment behind the top-bar megaphone: the unread count."""
    return render_template("office/announcements/_unread.html", unread=services.unread_count(g.member, utcnow()))


def _save(form: AnnouncementForm, ann: Announcement | None):  # type: ignore[no-untyped-def]
    if form.validate_on_submit():
        upload = request.files.get(form.attachment.name)
        try:
            now = utcnow()
            if ann is None:
                ann = services.create(g.member, form.service_data(), now)
            else:
                services.update(g.member, ann, form.service_data(), now)
            if upload is not None and upload.filename:
                services.add_attachment(g.member, ann, upload.filename, read_limited(upload.stream))
        except InvalidInput as err:
            db.session.rollback()
            for key, msg in err.errors.items():
                getattr(form, key, form.title).errors = [msg]
        except InvalidFile as err:
            db.session.rollback()
            form.attachment.errors = [err.reason]
        except PermissionDenied:
            db.session.rollback()
            abort(403)
        else:
            db.session.commit()
            flash(_("Announcement “%(title)s” saved.", title=ann.title), "success")
            return redirect(url_for("announcements.show", announcement_id=ann.id))
    status = 400 if request.method == "POST" else 200
    return render_template("office/announcements/form.html", form=form, ann=ann), status


@bp.route("/new", methods=["GET", "POST"])
@require("office.access", MANAGE)
def new():
    return _save(AnnouncementForm(), None)


@bp.route("/<int:announcement_id>/edit", methods=["GET", "POST"])
@require("office.access")
def edit(announcement_id: int):
    ann = _managed(announcement_id)
    form = AnnouncementForm(obj=ann) if request.method == "GET" else AnnouncementForm()
    if request.method == "GET":
        form.publish_at.data = to_local(ann.publish_at)
        form.expires_at.data = to_local(ann.expires_at)
    return _save(form, ann)


@bp.get("/<int:announcement_id>")
@require("office.access")
def show(announcement_id: int):
    ann = _readable(announcement_id)
    mine = services.mark_read(g.member, ann, utcnow())
    db.session.commit()
    files = attachments.for_owners("announcement", [ann.id]).get(ann.id, [])
    return render_template(
        "office/announcements/show.html", ann=ann, body=render(ann.body), files=files, mine=mine,
        ack_form=AcknowledgeForm(), **_ctx(),
    )  # fmt: skip


@bp.post("/<int:announcement_id>/delete")
@require("office.access")
def delete(announcement_id: int):
    ann = _managed(announcement_id)
    title = ann.title
    services.delete(g.member, ann)
    db.session.commit()
    flash(_("Announcement “%(title)s” deleted.", title=title), "success")
    return redirect(url_for("announcements.index", all=1))


@bp.get("/<int:announcement_id>/receipts")
@require("office.access")
def receipts(announcement_id: int):
    ann = _managed(announcement_id)
    return render_template("office/announcements/receipts.html", ann=ann, r=services.receipts(g.member, ann), **_ctx())


@bp.post("/<int:announcement_id>/remind")
@require("office.access")
def remind(announcement_id: int):
    ann = _managed(announcement_id)
    try:
        n = services.remind(g.member, ann, utcnow())
    except InvalidInput as err:
        db.session.rollback()
        flash(" ".join(err.errors.values()), "warning")
        return redirect(url_for("announcements.receipts", announcement_id=ann.id))
    db.session.commit()
    flash(ngettext("Reminded %(num)d member.", "Reminded %(num)d members.", n), "success")
    return redirect(url_for("announcements.receipts", announcement_id=ann.id))


@bp.route("/<int:announcement_id>/acknowledge", methods=["GET", "POST"])
@require("office.access")
def acknowledge(announcement_id: int):
    ann = _readable(announcement_id)
    form = AcknowledgeForm()
    target = safe_next(request.values.get("next"))
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            services.acknowledge(g.member, ann, utcnow())
        except InvalidInput as err:
            db.session.rollback()
            flash(" ".join(err.errors.values()), "warning")
            return redirect(url_for("announcements.show", announcement_id=ann.id))
        db.session.commit()
        flash(_("Thank you — your acknowledgement is recorded."), "success")
        return redirect(target or url_for("announcements.index"))
    if not ann.requires_ack:
        return redirect(url_for("announcements.show", announcement_id=ann.id))
    mine = services.mark_read(g.member, ann, utcnow())
    db.session.commit()
    files = attachments.for_owners("announcement", [ann.id]).get(ann.id, [])
    return render_template(
        "office/announcements/acknowledge.html", ann=ann, body=render(ann.body), files=files, mine=mine,
        form=form, next=target, **_ctx(),
    )  # fmt: skip
