from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from crm.db import db
from crm.notifications import services
from crm.urls import safe_next
from roles.checks import require

bp = Blueprint("notifications", __name__, url_prefix="/w/<slug>/notifications")


@bp.get("")
@require("workspace.view")
def index():
    items = services.recent(g.member, limit=100)
    return render_template("notifications/index.html", items=items)


@bp.get("/bell")
@require("workspace.view")
def bell():
    """The htmx fragment behind the top-bar bell."""
    return render_template(
        "notifications/_bell.html", items=services.recent(g.member, limit=8), unread=services.unread_count(g.member)
    )


@bp.post("/read")
@require("workspace.view")
def mark_all_read():
    services.mark_read(g.member)
    db.session.commit()
    if request.headers.get("HX-Request"):
        return bell()
    return redirect(url_for("notifications.index"))


@bp.post("/<int:note_id>/open")
@require("workspace.view")
def open_note(note_id: int):
    from crm.notifications.models import Notification
    from crm.scoping import get_or_404

    note = get_or_404(Notification, note_id)
    if note.recipient_id != g.member.id:
        from flask import abort

        abort(404)
    services.mark_read(g.member, note.id)
    db.session.commit()
    return redirect(safe_next(note.link) or url_for("notifications.index"))
