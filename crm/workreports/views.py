"""Office → Work reports: my reports, received, the team's; write (pre-filled), read, comment;
rules and the overview for managers and admins."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from crm.attachments import services as attachment_services
from crm.db import db, utcnow
from crm.markdown import render
from crm.pipeline.models import Opportunity
from crm.pipeline.services import can_read as can_read_opportunity
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from crm.sales.visibility import can_read as can_read_customer
from crm.workreports import periods, services
from crm.workreports.forms import KIND_CHOICES, WEEKDAYS, AttachmentForm, CommentForm, ReportForm, RulesForm
from crm.workreports.models import KINDS, WorkReport, WorkReportComment, WorkReportRecipient
from crm.workreports.prefill import prefill
from roles.checks import PermissionDenied, can, require
from tenants.models import Membership, User
from workers.queue import JobsUnavailable, submit

bp = Blueprint("work_reports", __name__, url_prefix="/w/<slug>/office/reports")

STATE_LABELS = {
    "submitted": _l("Submitted"),
    "late": _l("Late"),
    "missing": _l("Missing"),
    "pending": _l("Not yet due"),
    "not_required": _l("Not required"),
}
STATE_BADGES = {"submitted": "success", "late": "warning", "missing": "danger", "pending": "light",
                "not_required": "light"}  # fmt: skip
STATUS_LABELS = {"draft": _l("Draft"), "submitted": _l("Submitted")}
FORM_CTX = {"kinds": KINDS, "kind_choices": KIND_CHOICES}
BOXES = {"mine": _l("My reports"), "received": _l("Received"), "team": _l("My team")}


def _load(report_id: int) -> WorkReport:
    stmt = (
        select(WorkReport)
        .where(WorkReport.id == report_id)
        .options(
            joinedload(WorkReport.author).joinedload(Membership.user),
            selectinload(WorkReport.recipients).joinedload(WorkReportRecipient.member).joinedload(Membership.user),
            selectinload(WorkReport.comments).joinedload(WorkReportComment.member).joinedload(Membership.user),
            selectinload(WorkReport.links),
        )
    )
    report = db.session.scalars(stmt).unique().one_or_none()
    if report is None or not services.can_read_report(g.member, report):
        abort(404)
    return report


def _own(report_id: int) -> WorkReport:
    report = _load(report_id)
    if not services.can_edit_report(g.member, report):
        abort(403)
    return report


def _members() -> list[Membership]:
    stmt = (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.is_active.is_(True))
        .options(joinedload(Membership.user))
        .order_by(User.name, Membership.id)
    )
    return list(db.session.scalars(stmt))


def _link_options(pairs: list[tuple[str, int]]) -> list[tuple[str, str]]:
    """(value, label) for the links the current member may see, in the given order."""
    cust_ids = [i for k, i in pairs if k == "customer"]
    opp_ids = [i for k, i in pairs if k == "opportunity"]
    labels: dict[tuple[str, int], str] = {}
    if cust_ids:
        stmt = select(Customer).where(Customer.id.in_(cust_ids)).options(selectinload(Customer.collaborators))
        for c in db.session.scalars(stmt):
            if can_read_customer(g.member, c):
                labels[("customer", c.id)] = _("Customer: %(name)s", name=c.name)
    if opp_ids:
        stmt2 = (
            select(Opportunity)
            .where(Opportunity.id.in_(opp_ids))
            .options(joinedload(Opportunity.customer).selectinload(Customer.collaborators))
        )
        for o in db.session.scalars(stmt2).unique():
            if can_read_opportunity(g.member, o):
                labels[("opportunity", o.id)] = _("Opportunity: %(name)s", name=o.title)
    return [(f"{k}:{i}", labels[(k, i)]) for k, i in dict.fromkeys(pairs) if (k, i) in labels]


def _parse_links(values: list[str]) -> list[tuple[str, int]]:
    out = []
    for v in values or []:
        kind, _sep, raw = str(v).partition(":")
        if raw.isdigit():
            out.append((kind, int(raw)))
        else:
            out.append((kind, -1))
    return out


def _form_choices(form: ReportForm, link_pairs: list[tuple[str, int]]) -> None:
    form.recipient_ids.choices = [(m.id, m.user.name) for m in _members() if m.id != g.member.id]
    form.links.choices = _link_options(link_pairs)


def _today() -> date:
    return periods.local_today(g.tenant, utcnow())


@bp.get("")
@require("office.access")
def index():
    box = request.args.get("box", "mine")
    if box not in BOXES or (box == "team" and not can(g.member, "reports.manage")):
        box = "mine"
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else None
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    rows, total = services.list_reports(g.member, services.ReportQuery(box=box, kind=kind, page=page))
    counts = services.comment_counts([r.id for r in rows])
    boxes = {k: v for k, v in BOXES.items() if k != "team" or can(g.member, "reports.manage")}
    return render_template(
        "office/reports/index.html", rows=rows, total=total, box=box, boxes=boxes, kind=kind, page=page,
        pages=max((total + 49) // 50, 1), counts=counts, status_labels=STATUS_LABELS, svc=services,
        kinds=KINDS,
    )  # fmt: skip


@bp.route("/new", methods=["GET", "POST"])
@require("office.access")
def new():
    form = ReportForm()
    if request.method == "GET":
        kind = request.args.get("kind") if request.args.get("kind") in KINDS else "daily"
        try:
            day = date.fromisoformat(request.args.get("day") or "")
        except ValueError:
            day = _today()
        start, end = periods.period_of(kind, day)
        existing = db.session.scalar(
            select(WorkReport.id).where(
                WorkReport.author_id == g.member.id, WorkReport.kind == kind, WorkReport.period_start == start
            )
        )
        if existing is not None:
            flash(_("You already have a report for this period; here it is."), "info")
            return redirect(url_for("work_reports.show", work_report_id=existing))
        draft = prefill(g.member, g.tenant, kind, day)
        form.kind.data, form.day.data = kind, day
        form.done.data, form.planned.data = draft.done, draft.planned
        form.recipient_ids.data = services.default_recipient_ids(g.member)
        _form_choices(form, draft.links)
        form.links.data = [v for v, _label in form.links.choices]
        return render_template("office/reports/form.html", form=form, report=None,
                               period=services.period_label(kind, start, end), **FORM_CTX)  # fmt: skip
    link_pairs = _parse_links(form.links.data or [])
    _form_choices(form, [p for p in link_pairs if p[1] > 0])
    if form.validate_on_submit():
        try:
            report = services.create_report(
                g.member, g.tenant, form.kind.data, form.day.data,
                {"done": form.done.data, "planned": form.planned.data, "problems": form.problems.data},
                recipient_ids=form.recipient_ids.data or [], links=link_pairs,
            )  # fmt: skip
            if request.form.get("action") == "submit":
                services.submit_report(g.member, report)
        except InvalidInput as err:
            db.session.rollback()
            _errors_to_form(form, err)
        else:
            db.session.commit()
            flash(_("Report submitted.") if report.submitted else _("Draft saved."), "success")
            return redirect(url_for("work_reports.show", work_report_id=report.id))
    return render_template(
        "office/reports/form.html", form=form, report=None, period=None, kinds=KINDS, kind_choices=KIND_CHOICES
    ), 400


def _errors_to_form(form: Any, err: InvalidInput) -> None:
    for key, msg in err.errors.items():
        name = {"period_start": "day", "status": "done"}.get(key, key)
        f = getattr(form, name, None)
        if f is not None and hasattr(f, "errors"):
            f.errors = [*list(f.errors or []), msg]
        else:
            flash(msg, "danger")


@bp.get("/<int:work_report_id>")
@require("office.access")
def show(work_report_id: int):
    report = _load(work_report_id)
    if services.mark_read(g.member, report):
        db.session.commit()
    files = services.attachment_map([report.id]).get(report.id, [])
    replies: dict[int | None, list[WorkReportComment]] = {}
    for c in report.comments:
        replies.setdefault(c.parent_id, []).append(c)
    return render_template(
        "office/reports/show.html", r=report, links=services.visible_links(g.member, report), files=files,
        render=render, comment_form=CommentForm(), attachment_form=AttachmentForm(), replies=replies,
        editable=services.can_edit_report(g.member, report), status_labels=STATUS_LABELS, svc=services,
    )  # fmt: skip


@bp.route("/<int:work_report_id>/edit", methods=["GET", "POST"])
@require("office.access")
def edit(work_report_id: int):
    report = _own(work_report_id)
    form = ReportForm(obj=report) if request.method == "GET" else ReportForm()
    del form.kind, form.day  # the period is fixed once the report exists
    if request.method == "GET":
        form.recipient_ids.data = [r.member_id for r in report.recipients]
        _form_choices(form, [(ln.object_type, ln.object_id) for ln in report.links])
        form.links.data = [v for v, _label in form.links.choices]
        return _render_edit(form, report, 200)
    link_pairs = _parse_links(form.links.data or [])
    _form_choices(form, [p for p in link_pairs if p[1] > 0])
    if form.validate_on_submit():
        try:
            services.update_report(
                g.member, report,
                {"done": form.done.data, "planned": form.planned.data, "problems": form.problems.data},
                recipient_ids=form.recipient_ids.data or [], links=link_pairs,
            )  # fmt: skip
            if request.form.get("action") == "submit" and not report.submitted:
                services.submit_report(g.member, report)
        except InvalidInput as err:
            db.session.rollback()
            report = _own(work_report_id)
            _errors_to_form(form, err)
        else:
            db.session.commit()
            flash(_("Report saved."), "success")
            return redirect(url_for("work_reports.show", work_report_id=report.id))
    return _render_edit(form, report, 400)


def _render_edit(form: ReportForm, report: WorkReport, status: int):  # type: ignore[no-untyped-def]
    period = services.period_label(report.kind, report.period_start, report.period_end)
    return render_template(
        "office/reports/form.html", form=form, report=report, period=period, kinds=KINDS, kind_choices=KIND_CHOICES
    ), status


@bp.post("/<int:work_report_id>/submit")
@require("office.access")
def submit_report(work_report_id: int):
    report = _own(work_report_id)
    try:
        services.submit_report(g.member, report)
    except InvalidInput as err:
        db.session.rollback()
        flash(" ".join(err.errors.values()), "danger")
    else:
        db.session.commit()
        flash(_("Report submitted."), "success")
    return redirect(url_for("work_reports.show", work_report_id=work_report_id))


@bp.post("/<int:work_report_id>/delete")
@require("office.access")
def delete(work_report_id: int):
    report = _own(work_report_id)
    try:
        services.delete_report(g.member, report)
    except InvalidInput as err:
        db.session.rollback()
        flash(" ".join(err.errors.values()), "danger")
        return redirect(url_for("work_reports.show", work_report_id=work_report_id))
    db.session.commit()
    flash(_("Draft deleted."), "success")
    return redirect(url_for("work_reports.index"))


@bp.post("/<int:work_report_id>/comments")
@require("office.access")
def comment(work_report_id: int):
    report = _load(work_report_id)
    form = CommentForm()
    if not form.validate_on_submit():
        flash(_("Write a comment."), "danger")
        return redirect(url_for("work_reports.show", work_report_id=work_report_id))
    try:
        services.add_comment(g.member, report, form.body.data, form.parent_id.data or None)
    except InvalidInput as err:
        db.session.rollback()
        flash(" ".join(err.errors.values()), "danger")
    except PermissionDenied:
        abort(403)
    else:
        db.session.commit()
        flash(_("Comment added."), "success")
    return redirect(url_for("work_reports.show", work_report_id=work_report_id) + "#comments")


@bp.post("/<int:work_report_id>/attachments")
@require("office.access")
def upload(work_report_id: int):
    report = _own(work_report_id)
    form = AttachmentForm()
    if not form.validate_on_submit() or not form.file.data:
        flash(_("Choose a file to attach."), "danger")
        return redirect(url_for("work_reports.show", work_report_id=work_report_id))
    data = attachment_services.read_limited(form.file.data.stream)
    try:
        services.add_attachment(g.member, report, form.file.data.filename or "file", data)
    except attachment_services.InvalidFile as err:
        db.session.rollback()
        flash(err.reason, "danger")
    else:
        db.session.commit()
        flash(_("File attached."), "success")
    return redirect(url_for("work_reports.show", work_report_id=work_report_id))


# --- rules and the overview ------------------------------------------------------------------


@bp.route("/rules", methods=["GET", "POST"])
@require("office.access", "reports.manage")
def rules():
    current = services.get_rules(g.tenant)
    form = RulesForm()
    if request.method == "GET":
        for kind in KINDS:
            getattr(form, f"{kind}_roles").data = current[kind]["roles"]
            getattr(form, f"{kind}_time").data = current[kind]["time"]
        form.weekly_weekday.data = current["weekly"]["weekday"]
        form.monthly_day.data = current["monthly"]["day"]
        return render_template("office/reports/rules.html", form=form)
    if form.validate_on_submit():
        raw = {kind: {"roles": getattr(form, f"{kind}_roles").data or [], "time": getattr(form, f"{kind}_time").data}
               for kind in KINDS}  # fmt: skip
        raw["weekly"]["weekday"] = form.weekly_weekday.data
        raw["monthly"]["day"] = form.monthly_day.data
        try:
            services.save_rules(g.member, g.tenant, raw)
        except InvalidInput as err:
            db.session.rollback()
            for key, msg in err.errors.items():
                f = getattr(form, key.replace(".", "_"), None)
                if f is not None:
                    f.errors = [*list(f.errors or []), msg]
        else:
            db.session.commit()
            flash(_("Rules saved."), "success")
            return redirect(url_for("work_reports.rules"))
    return render_template("office/reports/rules.html", form=form), 400


def _overview_args() -> tuple[str, date, date]:
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else "daily"
    today = _today()
    first, last = services.default_range(kind, today)
    try:
        if request.args.get("from"):
            first = date.fromisoformat(request.args["from"])
        if request.args.get("to"):
            last = date.fromisoformat(request.args["to"])
    except ValueError:
        first, last = services.default_range(kind, today)
    return kind, first, last


@bp.get("/overview")
@require("office.access", "reports.manage")
def overview():
    kind, first, last = _overview_args()
    ov = services.overview(g.member, g.tenant, kind, first, last, utcnow())
    labels = [services.period_label(kind, s, e) if kind != "daily" else s.strftime("%m-%d") for s, e in ov.periods]
    missing = [any(row.cells[i].state == "missing" for row in ov.rows) for i in range(len(ov.periods))]
    return render_template(
        "office/reports/overview.html", ov=ov, kind=kind, first=first, last=last,
        columns=list(zip(ov.periods, labels, missing, strict=True)),
        state_labels=STATE_LABELS, state_badges=STATE_BADGES, svc=services, kinds=KINDS,
        weekdays=dict(WEEKDAYS), current=periods.period_of(kind, _today())[0],
    )  # fmt: skip


@bp.post("/overview/remind")
@require("office.access", "reports.manage")
def remind():
    kind = request.form.get("kind") if request.form.get("kind") in KINDS else None
    try:
        start = date.fromisoformat(request.form.get("period_start") or "")
    except ValueError:
        start = None
    if kind is None or start is None:
        flash(_("Choose the period to remind about."), "danger")
        return redirect(url_for("work_reports.overview"))
    n = services.remind(g.member, g.tenant, kind, start, utcnow())
    db.session.commit()
    flash(_("Reminded %(n)s member(s).", n=n) if n else _("Nobody is missing a report for that period."), "success")
    return redirect(url_for("work_reports.overview", kind=kind))


@bp.post("/overview/export")
@require("office.access", "reports.manage")
def export():
    kind = request.form.get("kind") if request.form.get("kind") in KINDS else "daily"
    today = _today()
    first, last = services.default_range(kind, today)
    try:
        first = date.fromisoformat(request.form.get("from") or first.isoformat())
        last = date.fromisoformat(request.form.get("to") or last.isoformat())
    except ValueError:
        flash(_("Enter the dates as YYYY-MM-DD."), "danger")
        return redirect(url_for("work_reports.overview", kind=kind))
    params = {"kind": kind, "from": first.isoformat(), "to": last.isoformat(), "locale": str(get_locale())}
    try:
        job = submit("work_reports_export", g.member, params)
    except JobsUnavailable:
        db.session.rollback()
        flash(_("The job service is unavailable right now, so nothing was started. Please try again shortly."),
              "danger")  # fmt: skip
        return redirect(url_for("work_reports.overview", kind=kind))
    return redirect(url_for("jobs.show", job_id=job.id))
