"""The workspace shell: the home dashboard, one dashboard per workspace, global search."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.db import db
from crm.search import search_all
from roles.checks import require
from tenants.models import Invitation, Membership
from workers.models import JobRecord

bp = Blueprint("shell", __name__, url_prefix="/w/<slug>")


@bp.get("/")
@require("workspace.view")
def home():
    counts = dict(
        db.session.execute(select(Membership.is_active, func.count(Membership.id)).group_by(Membership.is_active)).all()
    )
    pending = db.session.scalar(
        select(func.count(Invitation.id)).where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
    )
    recent_jobs = list(
        db.session.scalars(
            select(JobRecord).where(JobRecord.requested_by_id == g.member.id).order_by(JobRecord.id.desc()).limit(5)
        )
    )
    activity = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(8)))
    return render_template(
        "shell/home.html",
        active_members=counts.get(True, 0),
        inactive_members=counts.get(False, 0),
        pending_invitations=pending or 0,
        recent_jobs=recent_jobs,
        activity=activity,
    )


@bp.get("/sales/")
@require("sales.access")
def sales():
    return render_template("shell/workspace.html", workspace="sales")


@bp.get("/office/")
@require("office.access")
def office():
    return render_template("shell/workspace.html", workspace="office")


@bp.get("/finance/")
@require("finance.access")
def finance():
    return render_template("shell/workspace.html", workspace="finance")


@bp.get("/search")
@require("workspace.view")
def search():
    q = (request.args.get("q") or "").strip()[:100]
    results = search_all(g.member, q) if q else []
    template = "shell/_search_results.html" if request.headers.get("HX-Request") else "shell/search.html"
    return render_template(template, q=q, results=results)
