"""The workspace shell: the home dashboard, one dashboard per workspace, global search."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from crm.audit.models import AuditEntry
from crm.db import db, utcnow
from crm.search import search_all
from roles.catalogue import scope_of
from roles.checks import can, require
from roles.scopes import visible_member_ids
from tenants.models import Invitation, Membership
from workers.models import JobRecord

bp = Blueprint("shell", __name__, url_prefix="/w/<slug>")


@bp.get("/")
@require("workspace.view")
def home():
    members = list(db.session.scalars(select(Membership)))
    counts = {True: sum(m.is_active for m in members), False: sum(not m.is_active for m in members)}
    by_role: dict[str, int] = {}
    for m in members:
        if m.is_active:
            for r in m.roles:
                by_role[r] = by_role.get(r, 0) + 1
    pending = db.session.scalar(
        select(func.count(Invitation.id)).where(
            Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow()
        )
    )
    recent_jobs = list(
        db.session.scalars(
            select(JobRecord).where(JobRecord.requested_by_id == g.member.id).order_by(JobRecord.id.desc()).limit(5)
        )
    )
    activity = (
        []
        if not can(g.member, "audit.view")
        else list(
            db.session.scalars(
                select(AuditEntry).options(joinedload(AuditEntry.user)).order_by(AuditEntry.id.desc()).limit(8)
            )
        )
    )
    return render_template(
        "shell/home.html",
        active_members=counts.get(True, 0),
        inactive_members=counts.get(False, 0),
        pending_invitations=pending or 0,
        recent_jobs=recent_jobs,
        activity=activity,
        by_role=by_role,
    )


def _people_in_scope() -> list[Membership]:
    """The members whose records this member sees (own / team / all), for the dashboards."""
    visible = visible_member_ids(g.member)
    stmt = select(Membership).where(Membership.is_active.is_(True)).order_by(Membership.id)
    if visible is not None:
        stmt = stmt.where(Membership.id.in_(visible))
    return list(db.session.scalars(stmt))


def _workspace(key: str):
    scope = scope_of(g.member.roles)
    return render_template("shell/workspace.html", workspace=key, people=_people_in_scope(), scope=scope)


@bp.get("/sales/")
@require("sales.access")
def sales():
    from crm.shell import sales_dashboard

    d = sales_dashboard.build(g.member, request.args.get("scope"))
    return render_template("shell/sales.html", d=d, charts=sales_dashboard.charts(d), scope=scope_of(g.member.roles))


@bp.get("/office/")
@require("office.access")
def office():
    """The Office dashboard: announcements (unread marked), recent articles, reports to read and mine."""
    from crm.announcements import services as announcements
    from crm.kb.services import ArticleQuery, list_articles
    from crm.workreports import services as reports
    from crm.workreports.services import ReportQuery, list_reports

    items = announcements.feed(g.member, utcnow(), limit=8)
    articles, _n = list_articles(g.member, ArticleQuery(status="published", page_size=6))
    received, _n = list_reports(g.member, ReportQuery(box="received", page_size=6))
    mine, _n = list_reports(g.member, ReportQuery(box="mine", page_size=4))
    return render_template(
        "shell/office.html",
        pinned=[i for i in items if i.announcement.pinned],
        latest=[i for i in items if not i.announcement.pinned][:5],
        unread=sum(i.unread for i in items),
        articles=articles,
        received=received,
        mine=mine,
        reader_id=g.member.id,
        reports=reports,
    )


@bp.get("/finance/")
@require("finance.access")
def finance():
    """The Finance dashboard: open receivables and payables, cash, revenue, aging; a fixed number of queries."""
    from flask import current_app
    from flask_babel import lazy_gettext as _l

    from crm.finreports import dashboard

    d = dashboard.build(g.tenant)
    candidates = (
        (_l("Invoices"), "invoicing.invoices", "receipt"),
        (_l("Bills"), "invoicing.bills", "file-earmark-text"),
        (_l("Receipts"), "settlement.receipts", "cash-coin"),
        (_l("Journal"), "books.entries", "journal-text"),
        (_l("Reports"), "finreports.index", "bar-chart"),
    )
    shortcuts = [c for c in candidates if c[1] in current_app.view_functions]
    setup = "books.setup" if "books.setup" in current_app.view_functions else None
    charts = dashboard.charts(d) if d.set_up else {}
    return render_template("shell/finance.html", d=d, charts=charts, shortcuts=shortcuts, setup_endpoint=setup)


@bp.get("/search")
@require("workspace.view")
def search():
    q = (request.args.get("q") or "").strip()[:100]
    results = search_all(g.member, q) if q else []
    template = "shell/_search_results.html" if request.headers.get("HX-Request") else "shell/search.html"
    return render_template(template, q=q, results=results)
