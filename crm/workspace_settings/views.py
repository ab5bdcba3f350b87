"""Settings → Workspace, and the settings area's landing page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crm.db import db
from crm.sales.services import InvalidInput
from crm.workspace_settings import services
from crm.workspace_settings.forms import WorkspaceSettingsForm
from roles.checks import PermissionDenied, can, require

bp = Blueprint("workspace_settings", __name__, url_prefix="/w/<slug>/settings")

# The first of these the member may open is where "Settings" leads.
LANDING = (
    ("members.manage", "members.index"),
    ("settings.manage", "workspace_settings.workspace"),
    ("audit.view", "audit.index"),
)


@bp.get("")
@require("workspace.view")
def home():
    for permission, endpoint in LANDING:
        if can(g.member, permission):
            return redirect(url_for(endpoint))
    abort(403)


def _form_data(current: dict) -> dict:
    data = {k: current[k] for k in ("name", "timezone", "currency")}
    data["fiscal_year_start"] = str(current["fiscal_year_start"])
    for kind, pattern in current["numbering"].items():
        data[f"numbering_{kind}"] = pattern
    return data


def _previews(form: WorkspaceSettingsForm) -> dict[str, tuple[str | None, str | None]]:
    return {
        kind: services.preview(kind, (form[f"numbering_{kind}"].data or "").strip()) for kind in services.NUMBERED_KINDS
    }


@bp.route("/workspace", methods=["GET", "POST"])
@require("settings.manage")
def workspace():
    current = services.settings_of(g.tenant)
    form = WorkspaceSettingsForm(data=_form_data(current)) if request.method == "GET" else WorkspaceSettingsForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                changes = services.save_settings(g.member, g.tenant, form.values())
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
                flash(_("Workspace settings saved.") if changes else _("Nothing changed."), "success")
                return redirect(url_for("workspace_settings.workspace"))
    return render_template(
        "settings/workspace.html", form=form, current=current, previews=_previews(form), kinds=services.NUMBERED_KINDS
    ), status


@bp.get("/workspace/preview")
@require("settings.manage")
def preview():
    """The htmx fragment under a numbering field: the next number under the typed pattern."""
    kind = request.args.get("kind") or "quote"
    if kind not in services.NUMBERED_KINDS:
        abort(404)
    pattern = (request.args.get(f"numbering_{kind}") or request.args.get("pattern") or "").strip()
    number, error = services.preview(kind, pattern)
    return render_template("settings/_preview.html", kind=kind, number=number, error=error)
