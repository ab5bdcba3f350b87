"""Settings → Letterhead: edit the company details and logo the quote and contract PDFs print."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crm.db import db
from crm.letterhead import services
from crm.letterhead.forms import LetterheadForm
from crm.sales.services import InvalidInput
from roles.checks import PermissionDenied, require

bp = Blueprint("letterhead", __name__, url_prefix="/w/<slug>/settings/letterhead")


def _upload() -> bytes | None:
    """The uploaded logo's bytes (one byte past the limit at most), or None when no file was chosen."""
    f = request.files.get("logo")
    if f is None or not f.filename:
        return None
    return f.stream.read(services.LOGO_MAX_BYTES + 1)


@bp.route("", methods=["GET", "POST"])
@require("settings.manage")
def index():
    current = services.letterhead_of(g.tenant)
    form = LetterheadForm(data=current) if request.method == "GET" else LetterheadForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            values = {name: form[name].data for name in services.TEXT_FIELDS}
            try:
                services.save_letterhead(g.member, g.tenant, values, _upload())
            except InvalidInput as err:
                db.session.rollback()
                for key, msg in err.errors.items():
                    if key in form:
                        form[key].errors = [msg]
            except PermissionDenied:
                db.session.rollback()
                abort(403)
            else:
                db.session.commit()
                flash(_("Letterhead saved."), "success")
                return redirect(url_for("letterhead.index"))
    return render_template("letterhead/edit.html", form=form, current=current), status


@bp.post("/logo/remove")
@require("settings.manage")
def remove_logo():
    try:
        removed = services.remove_logo(g.member, g.tenant)
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    db.session.commit()
    if removed:
        flash(_("Logo removed."), "success")
    return redirect(url_for("letterhead.index"))
