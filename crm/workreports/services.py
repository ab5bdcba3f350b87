"""Work-report rules: who may read, write, comment; rules per workspace; the overview; reminders.

Services take (actor, ...), check, change, flush and audit; the caller commits. Visibility:
the author; the recipients (once submitted); and members with reports.manage whose scope
covers the author (once submitted). Drafts are the author's alone. Anyone else: not found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from crm.attachments import services as attachments
from crm.audit.services import changes_of, record
from crm.db import db, utcnow
from crm.markdown import plain_text
from crm.notifications.services import notify
from crm.pipeline.models import Opportunity
from crm.pipeline.services import can_read as can_read_opportunity
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from crm.sales.visibility import can_read as can_read_customer
from crm.scoping import get_in_tenant
from crm.workreports import periods
from crm.workreports.models import (
    KINDS,
    LINK_TYPES,
    WorkReport,
    WorkReportComment,
    WorkReportLink,
    WorkReportRecipient,
    WorkReportReminder,
)
from crm.workreports.prefill import prefill
from roles.catalogue import ROLES
from roles.checks import PermissionDenied, can
from roles.scopes import visible_member_ids
from tenants.models import Membership, Tenant, User

TEXT_FIELDS = ("done", "planned", "problems")
MAX_TEXT = 20000
MAX_COMMENT = 5000
SETTINGS_KEY = "work_reports"


# --- reading ---------------------------------------------------------------------------------


def manages(member: Membership, author_id: int) -> bool:
    if not can(member, "reports.manage"):
        return False
    visible = visible_member_ids(member)
    return visible is None or author_id in visible


def can_read_report(member: Membership | None, report: WorkReport) -> bool:
    if member is None or not member.is_active or not can(member, "office.access"):
        return False
    if report.tenant_id != member.tenant_id:
        return False
    if report.author_id == member.id:
        return True
    if not report.submitted:
        return False
    if any(r.member_id == member.id for r in report.recipients):
        return True
    return manages(member, report.author_id)


def can_edit_report(member: Membership, report: WorkReport) -> bool:
    return report.author_id == member.id and member.is_active


def _report_reader(member: Membership, report_id: int) -> bool:
    report = get_in_tenant(WorkReport, report_id)
    return report is not None and can_read_report(member, report)


attachments.register_owner("work_report", _report_reader)


def link_of(report: WorkReport, slug: str) -> str:
    return f"/w/{slug}/office/reports/{report.id}"


def kind_label(kind: str) -> str:
    return {"daily": _("Daily report"), "weekly": _("Weekly report"), "monthly": _("Monthly report")}.get(kind, kind)


def period_label(kind: str, start: date, end: date) -> str:
    if kind == "daily":
        return start.isoformat()
    if kind == "weekly":
        iso = start.isocalendar()
        return _("Week %(week)s, %(year)s (%(start)s – %(end)s)", week=iso[1], year=iso[0],
                 start=start.strftime("%m-%d"), end=end.strftime("%m-%d"))  # fmt: skip
    return start.strftime("%Y-%m")


def plain_period(kind: str, start: date, end: date) -> str:
    """The period in digits, the same in every language (for notification titles)."""
    if kind == "daily":
        return start.isoformat()
    if kind == "monthly":
        return start.strftime("%Y-%m")
    return f"{start.isoformat()} – {end.isoformat()}"


@dataclass
class ReportQuery:
    box: str = "mine"  # mine | received | team
    kind: str | None = None
    author_id: int | None = None
    page: int = 1
    page_size: int = 50


def list_reports(member: Membership, query: ReportQuery) -> tuple[list[WorkReport], int]:
    """The member's own reports (mine), those sent to them (received), or their team's (team)."""
    stmt = select(WorkReport)
    if query.box == "received":
        stmt = stmt.where(
            WorkReport.status == "submitted",
            WorkReport.id.in_(select(WorkReportRecipient.report_id).where(WorkReportRecipient.member_id == member.id)),
        )
    elif query.box == "team":
        if not can(member, "reports.manage"):
            raise PermissionDenied("reports.manage")
        visible = visible_member_ids(member)
        stmt = stmt.where(WorkReport.status == "submitted", WorkReport.author_id != member.id)
        if visible is not None:
            stmt = stmt.where(WorkReport.author_id.in_(visible))
    else:
        stmt = stmt.where(WorkReport.author_id == member.id)
    if query.kind in KINDS:
        stmt = stmt.where(WorkReport.kind == query.kind)
    if query.author_id is not None:
        stmt = stmt.where(WorkReport.author_id == query.author_id)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        db.session.scalars(
            stmt.options(
                joinedload(WorkReport.author).joinedload(Membership.user),
                selectinload(WorkReport.recipients),
            )
            .order_by(WorkReport.period_start.desc(), WorkReport.id.desc())
            .limit(query.page_size)
            .offset((query.page - 1) * query.page_size)
        ).unique()
    )
    return rows, total


def comment_counts(report_ids: list[int]) -> dict[int, int]:
    if not report_ids:
        return {}
    stmt = (
        select(WorkReportComment.report_id, func.count(WorkReportComment.id))
        .where(WorkReportComment.report_id.in_(report_ids))
        .group_by(WorkReportComment.report_id)
    )
    return {rid: n for rid, n in db.session.execute(stmt)}


@dataclass
class LinkView:
    object_type: str
    object_id: int
    name: str


def visible_links(reader: Membership, report: WorkReport) -> list[LinkView]:
    """The report's links the reader may see, with names (two statements at most)."""
    ids: dict[str, list[int]] = {t: [] for t in LINK_TYPES}
    for ln in report.links:
        ids.setdefault(ln.object_type, []).append(ln.object_id)
    names: dict[tuple[str, int], str] = {}
    if ids["customer"]:
        stmt = select(Customer).where(Customer.id.in_(ids["customer"])).options(selectinload(Customer.collaborators))
        for c in db.session.scalars(stmt):
            if c.archived_at is None and can_read_customer(reader, c):
                names[("customer", c.id)] = c.name
    if ids["opportunity"]:
        stmt2 = (
            select(Opportunity)
            .where(Opportunity.id.in_(ids["opportunity"]))
            .options(joinedload(Opportunity.customer).selectinload(Customer.collaborators))
        )
        for o in db.session.scalars(stmt2).unique():
            if can_read_opportunity(reader, o):
                names[("opportunity", o.id)] = o.title
    return [
        LinkView(ln.object_type, ln.object_id, names[(ln.object_type, ln.object_id)])
        for ln in report.links
        if (ln.object_type, ln.object_id) in names
    ]


def mark_read(member: Membership, report: WorkReport, now: datetime | None = None) -> bool:
    """A recipient opening a submitted report marks it read (once)."""
    if not report.submitted:
        return False
    for r in report.recipients:
        if r.member_id == member.id and r.read_at is None:
            r.read_at = now or utcnow()
            db.session.flush()
            return True
    return False


# --- writing ---------------------------------------------------------------------------------


def _texts(values: dict[str, Any], errors: dict[str, str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for f in TEXT_FIELDS:
        if f not in values:
            continue
        v = values[f]
        if v is not None and not isinstance(v, str):
            errors[f] = _("Must be text.")
            continue
        v = (v or "").strip()
        if len(v) > MAX_TEXT:
            errors[f] = _("At most %(n)s characters.", n=MAX_TEXT)
            continue
        out[f] = v or None
    return out


def _recipient_members(author: Membership, ids: Any, errors: dict[str, str]) -> list[Membership]:
    if ids is None:
        return []
    try:
        wanted = list(dict.fromkeys(int(i) for i in ids))
    except (TypeError, ValueError):
        errors["recipient_ids"] = _("Choose members of this workspace.")
        return []
    wanted = [i for i in wanted if i != author.id]
    if not wanted:
        return []
    found = {
        m.id: m
        for m in db.session.scalars(select(Membership).where(Membership.id.in_(wanted), Membership.is_active.is_(True)))
    }
    if len(found) != len(wanted):
        errors["recipient_ids"] = _("Choose active members of this workspace.")
        return []
    return [found[i] for i in wanted]


def _links(author: Membership, raw: Any, errors: dict[str, str]) -> list[tuple[str, int]]:
    if raw is None:
        return []
    out: list[tuple[str, int]] = []
    try:
        pairs = [(str(x[0]), int(x[1])) if not isinstance(x, dict) else (str(x["object_type"]), int(x["object_id"]))
                 for x in raw]  # fmt: skip
    except (TypeError, ValueError, KeyError, IndexError):
        errors["links"] = _("Links must name a customer or an opportunity.")
        return []
    for kind, obj_id in pairs:
        if kind == "customer":
            c = get_in_tenant(Customer, obj_id)
            ok = c is not None and can_read_customer(author, c)
        elif kind == "opportunity":
            o = get_in_tenant(Opportunity, obj_id)
            ok = o is not None and can_read_opportunity(author, o)
        else:
            ok = False
        if not ok:
            errors["links"] = _("Links must name a customer or an opportunity you can see.")
            return []
        if (kind, obj_id) not in out:
            out.append((kind, obj_id))
    return out


def default_recipient_ids(author: Membership) -> list[int]:
    boss = author.reports_to
    return [boss.id] if boss is not None and boss.is_active and boss.id != author.id else []


def _period(kind: Any, day: Any, errors: dict[str, str]) -> tuple[date, date] | None:
    if kind not in KINDS:
        errors["kind"] = _("Choose daily, weekly or monthly.")
        return None
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day)
        except ValueError:
            day = None
    if not isinstance(day, date):
        errors["period_start"] = _("Enter a date.")
        return None
    return periods.period_of(kind, day)


def create_report(
    actor: Membership,
    tenant: Tenant,
    kind: Any,
    day: Any,
    values: dict[str, Any] | None = None,
    *,
    recipient_ids: Any = None,
    links: Any = None,
    use_prefill: bool = False,
) -> WorkReport:
    """A draft report of the period containing `day`; recipients default to the author's manager."""
    if not can(actor, "office.access"):
        raise PermissionDenied("office.access")
    values = dict(values or {})
    errors: dict[str, str] = {}
    span = _period(kind, day, errors)
    texts = _texts(values, errors)
    recipients = _recipient_members(actor, recipient_ids, errors) if recipient_ids is not None else None
    link_pairs = _links(actor, links, errors) if links is not None else None
    if span is not None and not errors:
        exists = db.session.scalar(
            select(WorkReport.id).where(
                WorkReport.author_id == actor.id, WorkReport.kind == kind, WorkReport.period_start == span[0]
            )
        )
        if exists is not None:
            errors["period_start"] = _("You already have a report for this period.")
    if errors or span is None:
        raise InvalidInput(errors)
    if use_prefill:
        draft = prefill(actor, tenant, kind, span[0])
        texts.setdefault("done", draft.done or None)
        texts.setdefault("planned", draft.planned or None)
        if link_pairs is None:
            link_pairs = draft.links
    if recipients is None:
        ids = default_recipient_ids(actor)
        recipients = [actor.reports_to] if ids and actor.reports_to is not None else []
    report = WorkReport(author_id=actor.id, kind=kind, period_start=span[0], period_end=span[1], status="draft")
    for k, v in texts.items():
        setattr(report, k, v)
    report.recipients = [WorkReportRecipient(member_id=m.id) for m in recipients]
    report.links = [WorkReportLink(object_type=t, object_id=i) for t, i in (link_pairs or [])]
    db.session.add(report)
    db.session.flush()
    record("work_report.created", report, actor=actor, summary=f"{kind} {span[0].isoformat()}")
    return report


def update_report(
    actor: Membership, report: WorkReport, values: dict[str, Any], *, recipient_ids: Any = None, links: Any = None
) -> WorkReport:
    """The author changes the text, the recipients or the links (draft or submitted)."""
    if not can_edit_report(actor, report):
        raise PermissionDenied("office.access")
    errors: dict[str, str] = {}
    texts = _texts(values, errors)
    recipients = _recipient_members(actor, recipient_ids, errors) if recipient_ids is not None else None
    link_pairs = _links(actor, links, errors) if links is not None else None
    if errors:
        raise InvalidInput(errors)
    if report.submitted and texts and not any((texts[f] if f in texts else getattr(report, f)) for f in TEXT_FIELDS):
        raise InvalidInput({"done": _("A submitted report cannot be emptied.")})
    for k, v in texts.items():
        setattr(report, k, v)
    changes = changes_of(report, list(TEXT_FIELDS))
    if recipients is not None:
        before = sorted(r.member_id for r in report.recipients)
        after = sorted(m.id for m in recipients)
        if before != after:
            kept = {r.member_id: r for r in report.recipients}
            report.recipients = [kept.get(m.id) or WorkReportRecipient(member_id=m.id) for m in recipients]
            changes["recipients"] = {"before": before, "after": after}
            if report.submitted:
                _notify_new_recipients(actor, report, set(after) - set(before))
    if link_pairs is not None:
        before_links = [(ln.object_type, ln.object_id) for ln in report.links]
        if before_links != link_pairs:
            kept_links = {(ln.object_type, ln.object_id): ln for ln in report.links}
            report.links = [kept_links.get(p) or WorkReportLink(object_type=p[0], object_id=p[1]) for p in link_pairs]
            changes["links"] = {"before": before_links, "after": link_pairs}
    db.session.flush()
    if changes:
        record("work_report.updated", report, actor=actor, changes=changes)
    return report


def _notify_new_recipients(actor: Membership, report: WorkReport, member_ids: set[int]) -> None:
    if not member_ids:
        return
    tenant = db.session.get(Tenant, report.tenant_id)
    assert tenant is not None
    for m in db.session.scalars(select(Membership).where(Membership.id.in_(member_ids))):
        notify(m, "report.submitted",
               _l("%(who)s submitted a work report: %(period)s", who=actor.user.name,
                  period=plain_period(report.kind, report.period_start, report.period_end)),
               plain_text(report.done, 200) or None, link=link_of(report, tenant.slug))  # fmt: skip


def submit_report(actor: Membership, report: WorkReport, now: datetime | None = None) -> WorkReport:
    if not can_edit_report(actor, report):
        raise PermissionDenied("office.access")
    if report.submitted:
        raise InvalidInput({"status": _("This report has already been submitted.")})
    if not any((getattr(report, f) or "").strip() for f in TEXT_FIELDS):
        raise InvalidInput({"done": _("Write what you did before submitting.")})
    report.status = "submitted"
    report.submitted_at = now or utcnow()
    db.session.flush()
    _notify_new_recipients(actor, report, {r.member_id for r in report.recipients})
    record("work_report.submitted", report, actor=actor,
           summary=f"{report.kind} {report.period_start.isoformat()}")  # fmt: skip
    return report


def delete_report(actor: Membership, report: WorkReport) -> None:
    if not can_edit_report(actor, report):
        raise PermissionDenied("office.access")
    if report.submitted:
        raise InvalidInput({"status": _("Only a draft can be deleted.")})
    attachments.delete_for(actor, "work_report", report.id)
    record("work_report.deleted", report, actor=actor, summary=f"{report.kind} {report.period_start.isoformat()}")
    db.session.delete(report)
    db.session.flush()


def add_comment(actor: Membership, report: WorkReport, body: Any, parent_id: Any = None) -> WorkReportComment:
    """Readers comment on a submitted report; the author's comments are replies. A comment
    notifies the author; a reply notifies the commenter replied to (or every commenter)."""
    if not can_read_report(actor, report):
        raise PermissionDenied("office.access")
    errors: dict[str, str] = {}
    text = (body if isinstance(body, str) else "").strip()
    if not text:
        errors["body"] = _("Write a comment.")
    elif len(text) > MAX_COMMENT:
        errors["body"] = _("At most %(n)s characters.", n=MAX_COMMENT)
    if not report.submitted:
        errors["body"] = _("Comments open once the report is submitted.")
    parent: WorkReportComment | None = None
    if parent_id not in (None, ""):
        try:
            pid = int(parent_id)
        except (TypeError, ValueError):
            pid = -1
        parent = next((c for c in report.comments if c.id == pid), None)
        if parent is None:
            errors["parent_id"] = _("Reply to a comment on this report.")
    if errors:
        raise InvalidInput(errors)
    comment = WorkReportComment(report_id=report.id, member_id=actor.id, parent_id=parent.id if parent else None,
                                body=text)  # fmt: skip
    report.comments.append(comment)
    db.session.flush()
    tenant = db.session.get(Tenant, report.tenant_id)
    assert tenant is not None
    link = link_of(report, tenant.slug)
    period = plain_period(report.kind, report.period_start, report.period_end)
    if actor.id != report.author_id:
        author = report.author
        if author is not None and author.is_active:
            notify(author, "report.comment",
                   _l("%(who)s commented on your report %(period)s", who=actor.user.name, period=period),
                   plain_text(text, 200), link=link)  # fmt: skip
    else:
        targets = {parent.member_id} if parent is not None else {c.member_id for c in report.comments}
        targets -= {actor.id, None}
        for m in db.session.scalars(select(Membership).where(Membership.id.in_(targets), Membership.is_active)):
            notify(m, "report.comment",
                   _l("%(who)s replied on the report %(period)s", who=actor.user.name, period=period),
                   plain_text(text, 200), link=link)  # fmt: skip
    record("work_report.commented", report, actor=actor, summary=plain_text(text, 100))
    return comment


def add_attachment(actor: Membership, report: WorkReport, filename: str, data: bytes):  # type: ignore[no-untyped-def]
    if not can_edit_report(actor, report):
        raise PermissionDenied("office.access")
    return attachments.add(actor, "work_report", report.id, filename, data)


# --- rules -----------------------------------------------------------------------------------

DEFAULT_RULE: dict[str, dict[str, Any]] = {
    "daily": {"roles": [], "time": "18:00"},
    "weekly": {"roles": [], "weekday": 5, "time": "18:00"},
    "monthly": {"roles": [], "day": 0, "time": "18:00"},
}


def get_rules(tenant: Tenant) -> dict[str, dict[str, Any]]:
    stored = (tenant.settings or {}).get(SETTINGS_KEY) or {}
    out: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        rule = dict(DEFAULT_RULE[kind])
        if isinstance(stored.get(kind), dict):
            rule.update(stored[kind])
        out[kind] = rule
    return out


def save_rules(actor: Membership, tenant: Tenant, raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per kind: which roles must submit, and by when. Bad input changes nothing."""
    if not can(actor, "reports.manage"):
        raise PermissionDenied("reports.manage")
    errors: dict[str, str] = {}
    current = get_rules(tenant)
    new: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        given = raw.get(kind)
        if given is None:
            new[kind] = current[kind]
            continue
        if not isinstance(given, dict):
            errors[kind] = _("Give the roles and the deadline.")
            continue
        rule = dict(current[kind])
        roles = given.get("roles", rule["roles"])
        if not isinstance(roles, list) or any(r not in ROLES for r in roles):
            errors[f"{kind}.roles"] = _("Choose roles of the catalogue.")
        else:
            rule["roles"] = [r for r in ROLES if r in roles]
        at = given.get("time", rule["time"])
        if not isinstance(at, str) or not _valid_hhmm(at):
            errors[f"{kind}.time"] = _("Enter a time as HH:MM.")
        else:
            rule["time"] = at
        if kind == "weekly":
            wd = _int(given.get("weekday", rule["weekday"]))
            if wd is None or not 1 <= wd <= 7:
                errors["weekly.weekday"] = _("Choose a weekday.")
            else:
                rule["weekday"] = wd
        if kind == "monthly":
            dom = _int(given.get("day", rule["day"]))
            if dom is None or not 0 <= dom <= 28:
                errors["monthly.day"] = _("Choose a day from 1 to 28, or the last day.")
            else:
                rule["day"] = dom
        new[kind] = rule
    if errors:
        raise InvalidInput(errors)
    before = current
    settings = dict(tenant.settings or {})
    settings[SETTINGS_KEY] = new
    tenant.settings = settings
    db.session.flush()
    if before != new:
        record("work_report.rules_changed", tenant, actor=actor, object_type="Tenant",
               changes={"rules": {"before": before, "after": new}})  # fmt: skip
    return new


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _valid_hhmm(v: str) -> bool:
    parts = v.split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return False
    return 0 <= int(parts[0]) <= 23 and 0 <= int(parts[1]) <= 59


def required(member: Membership, rule: dict[str, Any]) -> bool:
    return any(r in (rule.get("roles") or []) for r in (member.roles or []))


# --- overview and reminders -----------------------------------------------------------------

CELL_STATES = ("submitted", "late", "missing", "pending", "not_required")


@dataclass
class Cell:
    state: str
    report_id: int | None = None
    submitted_at: datetime | None = None


@dataclass
class OverviewRow:
    member: Membership
    cells: list[Cell]


@dataclass
class Overview:
    kind: str
    periods: list[tuple[date, date]]
    rows: list[OverviewRow]
    rule: dict[str, Any]
    totals: dict[str, int] = field(default_factory=dict)


def default_range(kind: str, today: date) -> tuple[date, date]:
    spans = {"daily": 6, "weekly": 3, "monthly": 2}
    start = today
    for _n in range(spans[kind]):
        start = periods.previous_period(kind, start)[0]
    return periods.period_of(kind, start)[0], today


def _members_in_scope(actor: Membership) -> list[Membership]:
    stmt = (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.is_active.is_(True))
        .options(joinedload(Membership.user))
        .order_by(User.name, Membership.id)
    )
    visible = visible_member_ids(actor)
    if visible is not None:
        stmt = stmt.where(Membership.id.in_(visible))
    return list(db.session.scalars(stmt))


def overview(actor: Membership, tenant: Tenant, kind: str, first: date, last: date, now: datetime) -> Overview:
    """Members in the actor's scope × periods: submitted, late, missing, pending (3 statements)."""
    if not can(actor, "reports.manage"):
        raise PermissionDenied("reports.manage")
    if kind not in KINDS:
        raise InvalidInput({"kind": _("Choose daily, weekly or monthly.")})
    if last < first:
        first, last = last, first
    spans = periods.periods_between(kind, first, last)
    rule = get_rules(tenant)[kind]
    members = _members_in_scope(actor)
    if rule.get("roles"):
        members = [m for m in members if required(m, rule)]
    else:
        members = [m for m in members if can(m, "office.access")]
    got: dict[tuple[int, date], tuple[int, datetime | None]] = {}
    if members and spans:
        stmt = select(WorkReport.author_id, WorkReport.period_start, WorkReport.id, WorkReport.submitted_at).where(
            WorkReport.kind == kind,
            WorkReport.status == "submitted",
            WorkReport.period_start >= spans[0][0],
            WorkReport.period_start <= spans[-1][0],
            WorkReport.author_id.in_([m.id for m in members]),
        )
        for author_id, start, rid, at in db.session.execute(stmt):
            got[(author_id, start)] = (rid, at)
    deadlines = [_due(tenant, kind, s, e, rule) for s, e in spans]
    totals = dict.fromkeys(CELL_STATES, 0)
    rows = []
    for m in members:
        cells = []
        for (start, _end), due in zip(spans, deadlines, strict=True):
            hit = got.get((m.id, start))
            if hit is not None:
                state = "late" if rule.get("roles") and hit[1] is not None and hit[1] > due else "submitted"
                cell = Cell(state, hit[0], hit[1])
            else:
                cell = Cell("missing" if now > due else "pending")
            totals[cell.state] += 1
            cells.append(cell)
        rows.append(OverviewRow(m, cells))
    return Overview(kind, spans, rows, rule, totals)


def _due(tenant: Tenant, kind: str, start: date, end: date, rule: dict[str, Any]) -> datetime:
    """The rule's deadline; without a rule, the end of the period."""
    if rule.get("roles"):
        return periods.deadline(tenant, kind, start, rule)
    return periods.utc_bounds(tenant, start, end)[1]


def _remind(member: Membership, tenant: Tenant, kind: str, start: date, end: date) -> None:
    period = plain_period(kind, start, end)
    if kind == "daily":
        title = _l("Reminder: your daily report for %(period)s is missing", period=period)
    elif kind == "weekly":
        title = _l("Reminder: your weekly report for %(period)s is missing", period=period)
    else:
        title = _l("Reminder: your monthly report for %(period)s is missing", period=period)
    notify(member, "report.reminder", title,
           link=f"/w/{tenant.slug}/office/reports/new?kind={kind}&day={start.isoformat()}")  # fmt: skip
    seen = db.session.scalar(
        select(WorkReportReminder.id).where(
            WorkReportReminder.member_id == member.id,
            WorkReportReminder.kind == kind,
            WorkReportReminder.period_start == start,
        )
    )
    if seen is None:
        db.session.add(WorkReportReminder(member_id=member.id, kind=kind, period_start=start))


def remind(actor: Membership, tenant: Tenant, kind: str, start: Any, now: datetime) -> int:
    """'Remind those missing': notify each member in the actor's scope whose report of the
    period is missing. Returns how many were reminded."""
    errors: dict[str, str] = {}
    span = _period(kind, start, errors)
    if span is None:
        raise InvalidInput(errors)
    ov = overview(actor, tenant, kind, span[0], span[0], now)
    missing = [row.member for row in ov.rows if row.cells and row.cells[0].state == "missing"]
    for m in missing:
        _remind(m, tenant, kind, span[0], span[1])
    db.session.flush()
    record("work_report.reminded", tenant, actor=actor, object_type="Tenant",
           summary=f"{kind} {span[0].isoformat()}", changes={"reminded": len(missing)})  # fmt: skip
    return len(missing)


def remind_missing(now: datetime) -> int:
    """Scheduled (current tenant): remind every member whose rule's deadline has passed for
    the current or the previous period without a submitted report — once per period."""
    from tenants.context import current_tenant

    tenant = db.session.get(Tenant, current_tenant.id)
    assert tenant is not None
    rules = get_rules(tenant)
    today = periods.local_today(tenant, now)
    members = list(
        db.session.scalars(
            select(Membership).where(Membership.is_active.is_(True)).options(joinedload(Membership.user))
        )
    )
    sent = 0
    for kind in KINDS:
        rule = rules[kind]
        if not rule.get("roles"):
            continue
        due_members = [m for m in members if required(m, rule)]
        if not due_members:
            continue
        current = periods.period_of(kind, today)
        for start, end in (periods.previous_period(kind, current[0]), current):
            if now <= periods.deadline(tenant, kind, start, rule):
                continue
            ids = [m.id for m in due_members]
            submitted = set(
                db.session.scalars(
                    select(WorkReport.author_id).where(
                        WorkReport.kind == kind,
                        WorkReport.period_start == start,
                        WorkReport.status == "submitted",
                        WorkReport.author_id.in_(ids),
                    )  # fmt: skip
                )
            )
            reminded = set(
                db.session.scalars(
                    select(WorkReportReminder.member_id).where(
                        WorkReportReminder.kind == kind,
                        WorkReportReminder.period_start == start,
                        WorkReportReminder.member_id.in_(ids),
                    )  # fmt: skip
                )
            )
            # A member who joined after the period ended is not asked for it.
            for m in due_members:
                if m.id in submitted or m.id in reminded or m.created_at.date() > end:
                    continue
                _remind(m, tenant, kind, start, end)
                sent += 1
    db.session.flush()
    if sent:
        record("work_report.reminded", tenant, object_type="Tenant", summary="scheduled", changes={"reminded": sent})
    return sent


def attachment_map(report_ids: list[int]) -> dict[int, list[Any]]:
    return attachments.for_owners("work_report", report_ids)
