"""Follow-ups and tasks. Services take (actor, ...), check, flush and audit; the caller commits.

A follow-up belongs to a customer and follows its visibility (crm.sales.visibility): whoever
may read the customer may read and log its follow-ups. Logging one moves the customer's
last_followup_at; a next follow-up date creates a task for the author.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from crm.activities.models import FOLLOWUP_KINDS, FollowUp, Task
from crm.attachments import services as attachments
from crm.audit.services import changes_of, record
from crm.db import db, utcnow
from crm.sales.models import Contact, Customer
from crm.sales.services import InvalidInput
from crm.sales.visibility import can_edit, can_read, customer_filter
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, can, ensure
from roles.scopes import visible_member_ids
from tenants.models import Membership

__all__ = ["InvalidInput", "PermissionDenied"]

FOLLOWUP_FIELDS = ("occurred_at", "kind", "summary", "contact_id", "opportunity_id", "next_followup_on")
TASK_FIELDS = ("title", "due_on", "assignee_id", "customer_id")


def today() -> date:
    return utcnow().date()


# ---------------------------------------------------------------- visibility


def can_read_followup(member: Membership, f: FollowUp) -> bool:
    return f.customer.archived_at is None and can_read(member, f.customer)


def can_change_followup(member: Membership, f: FollowUp) -> bool:
    """The author while they still see the customer, or whoever may edit the customer."""
    if not can_read_followup(member, f):
        return False
    return f.author_id == member.id or can_edit(member, f.customer)


def can_read_task(member: Membership, t: Task) -> bool:
    if not can(member, "sales.access"):
        return False
    if t.customer is not None:
        return t.customer.archived_at is None and can_read(member, t.customer)
    visible = visible_member_ids(member)
    return visible is None or t.assignee_id in visible or t.created_by_id == member.id


def can_change_task(member: Membership, t: Task) -> bool:
    if not can_read_task(member, t):
        return False
    if member.id in (t.assignee_id, t.created_by_id):
        return True
    visible = visible_member_ids(member)
    return visible is None or t.assignee_id in visible


def _followup_reader(member: Membership, followup_id: int) -> bool:
    f = get_in_tenant(FollowUp, followup_id)
    return f is not None and can_read_followup(member, f)


attachments.register_owner("followup", _followup_reader)


# ---------------------------------------------------------------- follow-ups


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def _validate_followup(customer: Customer, values: dict[str, Any], current: FollowUp | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out = {k: values[k] for k in FOLLOWUP_FIELDS if k in values}
    if "summary" in out or current is None:
        out["summary"] = (out.get("summary") or "").strip()
        if not out["summary"]:
            errors["summary"] = _("Write what was discussed.")
        elif len(out["summary"]) > 5000:
            errors["summary"] = _("At most 5000 characters.")
    if ("kind" in out or current is None) and out.get("kind") not in FOLLOWUP_KINDS:
        errors["kind"] = _("Choose call, visit, WeChat, e-mail or meeting.")
    if "occurred_at" in out or current is None:
        when = _as_utc(out.get("occurred_at")) if out.get("occurred_at") is not None else utcnow()
        if when is None:
            errors["occurred_at"] = _("Not a date and time.")
        elif when > utcnow() + timedelta(days=1):
            errors["occurred_at"] = _("A follow-up cannot be logged in the future.")
        out["occurred_at"] = when
    if out.get("contact_id") is not None:
        contact = get_in_tenant(Contact, out["contact_id"])
        if contact is None or contact.customer_id != customer.id:
            errors["contact_id"] = _("Choose a contact of this customer.")
    nxt = out.get("next_followup_on")
    if nxt is not None:
        occurred = out.get("occurred_at") or (current.occurred_at if current else utcnow())
        if not isinstance(nxt, date) or nxt < occurred.date():
            errors["next_followup_on"] = _("The next follow-up must come after this one.")
    if errors:
        raise InvalidInput(errors)
    return out


def _refresh_last_followup(customer: Customer) -> None:
    db.session.flush()
    customer.last_followup_at = db.session.scalar(
        select(func.max(FollowUp.occurred_at)).where(FollowUp.customer_id == customer.id)
    )


def _next_task(actor: Membership, f: FollowUp) -> Task:
    task = Task(
        title=_("Follow up with %(name)s", name=f.customer.name)[:200],
        due_on=f.next_followup_on,
        assignee_id=actor.id,
        created_by_id=actor.id,
        customer_id=f.customer_id,
        followup_id=f.id,
    )
    db.session.add(task)
    db.session.flush()
    record("task.created", task, actor=actor, summary=task.title)
    return task


def log_followup(
    actor: Membership, customer: Customer, values: dict[str, Any], files: list[tuple[str, bytes]] | None = None
) -> FollowUp:
    """Log a follow-up on a customer the actor can see; files are (filename, content)."""
    ensure(actor, "sales.access")
    if customer.archived_at is not None or not can_read(actor, customer):
        raise PermissionDenied("sales.access")
    clean = _validate_followup(customer, values, None)
    checked = []
    for name, data in files or []:
        try:
            attachments.check(name, data)
        except attachments.InvalidFile as err:
            raise InvalidInput({"attachment": err.reason}) from err
        checked.append((name, data))
    f = FollowUp(customer=customer, author_id=actor.id, **clean)
    db.session.add(f)
    db.session.flush()
    if customer.last_followup_at is None or f.occurred_at > customer.last_followup_at:
        customer.last_followup_at = f.occurred_at
    record("followup.created", f, actor=actor, summary=f"{customer.name}: {f.summary}"[:255])
    if f.next_followup_on is not None:
        _next_task(actor, f)
    for name, data in checked:
        attachments.add(actor, "followup", f.id, name, data)
    return f


def update_followup(actor: Membership, f: FollowUp, values: dict[str, Any]) -> FollowUp:
    if not can_change_followup(actor, f):
        raise PermissionDenied("sales.access")
    clean = _validate_followup(f.customer, values, f)
    had_next = f.next_followup_on
    for k, v in clean.items():
        setattr(f, k, v)
    changes = changes_of(f, list(FOLLOWUP_FIELDS))
    if "occurred_at" in changes:
        _refresh_last_followup(f.customer)
    if changes:
        record("followup.updated", f, actor=actor, summary=f.customer.name, changes=changes)
    if f.next_followup_on is not None and f.next_followup_on != had_next:
        _next_task(actor, f)
    return f


def delete_followup(actor: Membership, f: FollowUp) -> None:
    if not can_change_followup(actor, f):
        raise PermissionDenied("sales.access")
    customer = f.customer
    attachments.delete_for(actor, "followup", f.id)
    record("followup.deleted", f, actor=actor, summary=f"{customer.name}: {f.summary}"[:255])
    db.session.delete(f)
    _refresh_last_followup(customer)


def list_followups(member: Membership, customer: Customer, limit: int = 50, offset: int = 0) -> list[FollowUp]:
    stmt = (
        select(FollowUp)
        .where(FollowUp.customer_id == customer.id)
        .options(joinedload(FollowUp.author).joinedload(Membership.user), joinedload(FollowUp.contact))
        .order_by(FollowUp.occurred_at.desc(), FollowUp.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(db.session.scalars(stmt))


@dataclass
class TimelineItem:
    kind: str  # followup | task
    at: datetime
    obj: Any
    files: list[Any]


def timeline(member: Membership, customer: Customer, limit: int = 50) -> list[TimelineItem]:
    """Follow-ups and tasks of a customer, newest first, in three statements whatever their number."""
    followups = list_followups(member, customer, limit)
    tasks = list(
        db.session.scalars(
            select(Task)
            .where(Task.customer_id == customer.id)
            .options(joinedload(Task.assignee).joinedload(Membership.user))
            .order_by(Task.created_at.desc(), Task.id.desc())
            .limit(limit)
        )
    )
    files = attachments.for_owners("followup", [f.id for f in followups])
    items = [TimelineItem("followup", f.occurred_at, f, files.get(f.id, [])) for f in followups]
    items += [TimelineItem("task", t.created_at, t, []) for t in tasks]
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


# ---------------------------------------------------------------- tasks


def _validate_task(actor: Membership, values: dict[str, Any], current: Task | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out = {k: values[k] for k in TASK_FIELDS if k in values}
    if "title" in out or current is None:
        out["title"] = (out.get("title") or "").strip()
        if not out["title"]:
            errors["title"] = _("A task needs a title.")
        elif len(out["title"]) > 200:
            errors["title"] = _("At most 200 characters.")
    if current is None and out.get("assignee_id") is None:
        out["assignee_id"] = actor.id
    if "assignee_id" in out and out["assignee_id"] != (current.assignee_id if current else None):
        assignee = db.session.scalars(
            select(Membership).where(Membership.id == out["assignee_id"], Membership.is_active.is_(True))
        ).one_or_none()
        visible = visible_member_ids(actor)
        if assignee is None or not can(assignee, "sales.access"):
            errors["assignee_id"] = _("The assignee must be an active sales member of this workspace.")
        elif visible is not None and assignee.id not in visible:
            errors["assignee_id"] = _("You can only assign tasks within your team.")
    if out.get("customer_id") is not None:
        customer = get_in_tenant(Customer, out["customer_id"])
        if customer is None or customer.archived_at is not None or not can_read(actor, customer):
            errors["customer_id"] = _("No such customer.")
    if errors:
        raise InvalidInput(errors)
    return out


def create_task(actor: Membership, values: dict[str, Any]) -> Task:
    ensure(actor, "sales.access")
    clean = _validate_task(actor, values, None)
    task = Task(created_by_id=actor.id, **clean)
    db.session.add(task)
    db.session.flush()
    record("task.created", task, actor=actor, summary=task.title)
    return task


def update_task(actor: Membership, task: Task, values: dict[str, Any]) -> Task:
    if not can_change_task(actor, task):
        raise PermissionDenied("sales.access")
    clean = _validate_task(actor, values, task)
    for k, v in clean.items():
        setattr(task, k, v)
    if "done" in values and values["done"] is not None:
        if values["done"] and task.done_at is None:
            task.done_at = utcnow()
        elif not values["done"]:
            task.done_at = None
    changes = changes_of(task, [*TASK_FIELDS, "done_at"])
    if changes:
        action = "task.done" if list(changes) == ["done_at"] and task.done_at else "task.updated"
        record(action, task, actor=actor, summary=task.title, changes=changes)
    return task


def set_done(actor: Membership, task: Task, done: bool = True) -> Task:
    return update_task(actor, task, {"done": done})


def delete_task(actor: Membership, task: Task) -> None:
    if not can_change_task(actor, task):
        raise PermissionDenied("sales.access")
    record("task.deleted", task, actor=actor, summary=task.title)
    db.session.delete(task)


def _overdue_first(on: date) -> Any:
    return case((Task.due_on < on, 0), (Task.due_on.is_(None), 2), else_=1)


def _readable_tasks_of(member: Membership) -> Any:
    """The member's own tasks that can_read_task allows, filtered in SQL: a task on a customer
    needs that customer live and readable (crm.sales.visibility.customer_filter, the SQL twin of
    can_read); a task without one is readable by its assignee. One statement however many tasks,
    where checking each row in Python lazy-loaded its customer's collaborators (and, for a
    manager, the team) once per task."""
    if not can(member, "sales.access"):
        return select(Task).where(false())
    readable_customer = and_(Customer.archived_at.is_(None), customer_filter(member))
    return (
        select(Task)
        .outerjoin(Customer, Task.customer_id == Customer.id)
        .where(Task.assignee_id == member.id, or_(Task.customer_id.is_(None), readable_customer))
        .options(contains_eager(Task.customer))
    )


def my_tasks(member: Membership, *, include_done: bool = False, on: date | None = None, limit: int = 200) -> list[Task]:
    """The member's tasks: overdue first (oldest first), then by due date, undated last."""
    on = on or today()
    stmt = (
        _readable_tasks_of(member)
        .order_by(Task.done_at.is_not(None), _overdue_first(on), Task.due_on, Task.id)
        .limit(limit)
    )
    if not include_done:
        stmt = stmt.where(Task.done_at.is_(None))
    return list(db.session.scalars(stmt))


def my_day(member: Membership, on: date | None = None) -> list[Task]:
    """Open tasks due today or overdue, overdue first."""
    on = on or today()
    stmt = (
        _readable_tasks_of(member)
        .where(Task.done_at.is_(None), Task.due_on <= on)
        .order_by(Task.due_on, Task.id)
        .limit(50)
    )
    return list(db.session.scalars(stmt))


def tasks_of_customer(member: Membership, customer: Customer) -> list[Task]:
    if not can_read(member, customer):
        return []
    stmt = select(Task).where(Task.customer_id == customer.id).order_by(Task.done_at.is_not(None), Task.due_on, Task.id)
    return list(db.session.scalars(stmt))
