"""Sales → business registration: admins import the registry table; the customer form looks up
a company by name or credit code and back-fills the fields the user ticks."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request
from flask_babel import gettext as _

from crm.db import db
from crm.registry import providers, services
from roles.checks import require

bp = Blueprint("registry", __name__, url_prefix="/w/<slug>/sales/registry")

# Form field ids on the customer form that a registry record fills.
FILLS = {"name": "name", "uscc": "uscc", "address": "address"}


@bp.route("/import", methods=["GET", "POST"])
@require("settings.manage")
def import_file():
    report, error = None, None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error = _("Choose a file to upload.")
        else:
            data = upload.read(services.MAX_BYTES + 1)
            try:
                report = services.import_registry(g.member, upload.filename, data, request.form.get("keep_good") == "y")
            except services.ImportRefused as err:
                db.session.rollback()
                error = str(err)
            else:
                if report.committed:
                    db.session.commit()
                else:
                    db.session.rollback()
    status = 400 if error or (report and not report.committed) else 200
    return render_template("sales/registry/import.html", report=report, error=error), status


@bp.get("/lookup")
@require("sales.access")
def lookup():
    q = (request.args.get("registry_q") or request.args.get("q") or "").strip()[:100]
    results, error = [], None
    if q:
        try:
            results = providers.provider().lookup(q)
        except providers.RegistryUnavailable:
            error = _("The registration service did not answer. Try again, or fill the fields by hand.")
    return render_template("sales/registry/_results.html", q=q, results=results, error=error, fills=FILLS)
