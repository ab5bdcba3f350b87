"""A new report's first draft, from what the author recorded in the period — so a rep edits
rather than types. Pure: callable without a request (a job, the API, a test)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased

from crm.activities.models import FollowUp, Task
from crm.pipeline.models import Opportunity, Stage, StageChange
from crm.sales.models import Customer
from crm.workreports.periods import next_period, period_of, utc_bounds
from tenants.models import Membership, Tenant


@dataclass
class Prefill:
    done: str = ""
    planned: str = ""
    # (object_type, object_id) of the customers and opportunities touched, in first-seen order
    links: list[tuple[str, int]] = field(default_factory=list)


def _one_line(text: str | None, limit: int = 120) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _add_link(links: list[tuple[str, int]], kind: str, obj_id: int | None) -> None:
    if obj_id is not None and (kind, obj_id) not in links:
        links.append((kind, obj_id))


def prefill(author: Membership, tenant: Tenant, kind: str, day: date) -> Prefill:
    """Follow-ups logged, tasks completed and stage moves made by the author in the period
    (done); open tasks and planned follow-ups due in the next period (planned)."""
    start, end = period_of(kind, day)
    lo, hi = utc_bounds(tenant, start, end)
    nstart, nend = next_period(kind, start)
    out = Prefill()
    done: list[str] = []
    planned: list[str] = []

    followups = db_rows(
        select(FollowUp.customer_id, Customer.name, FollowUp.summary, FollowUp.opportunity_id)
        .join(Customer, Customer.id == FollowUp.customer_id)
        .where(FollowUp.author_id == author.id, FollowUp.occurred_at >= lo, FollowUp.occurred_at < hi)
        .order_by(FollowUp.occurred_at, FollowUp.id)
    )
    if followups:
        done.append("**" + _("Follow-ups") + "**")
        for customer_id, name, summary, _opp in followups:
            done.append(f"- {name}: {_one_line(summary)}")
            _add_link(out.links, "customer", customer_id)

    tasks_done = db_rows(
        select(Task.title, Task.customer_id, Customer.name)
        .outerjoin(Customer, Customer.id == Task.customer_id)
        .where(Task.assignee_id == author.id, Task.done_at >= lo, Task.done_at < hi)
        .order_by(Task.done_at, Task.id)
    )
    if tasks_done:
        done.append("")
        done.append("**" + _("Tasks completed") + "**")
        for title, customer_id, name in tasks_done:
            done.append(f"- {_one_line(title)}" + (f" ({name})" if name else ""))
            _add_link(out.links, "customer", customer_id)

    before, after = aliased(Stage), aliased(Stage)
    moves = db_rows(
        select(Opportunity.id, Opportunity.title, Opportunity.customer_id, before.name, after.name)
        .select_from(StageChange)
        .join(Opportunity, Opportunity.id == StageChange.opportunity_id)
        .outerjoin(before, before.id == StageChange.from_stage_id)
        .join(after, after.id == StageChange.to_stage_id)
        .where(StageChange.member_id == author.id, StageChange.created_at >= lo, StageChange.created_at < hi)
        .order_by(StageChange.created_at, StageChange.id)
    )
    if moves:
        done.append("")
        done.append("**" + _("Opportunity moves") + "**")
        for opp_id, title, customer_id, from_name, to_name in moves:
            done.append(f"- {_one_line(title)}: {from_name or _('new')} → {to_name}")
            _add_link(out.links, "opportunity", opp_id)
            _add_link(out.links, "customer", customer_id)

    open_tasks = db_rows(
        select(Task.title, Task.due_on, Customer.name)
        .outerjoin(Customer, Customer.id == Task.customer_id)
        .where(Task.assignee_id == author.id, Task.done_at.is_(None), Task.due_on >= nstart, Task.due_on <= nend)
        .order_by(Task.due_on, Task.id)
    )
    for title, due_on, name in open_tasks:
        planned.append(f"- {due_on.isoformat()} {_one_line(title)}" + (f" ({name})" if name else ""))
    next_followups = db_rows(
        select(FollowUp.next_followup_on, Customer.name)
        .join(Customer, Customer.id == FollowUp.customer_id)
        .where(FollowUp.author_id == author.id, FollowUp.next_followup_on >= nstart, FollowUp.next_followup_on <= nend)
        .order_by(FollowUp.next_followup_on, FollowUp.id)
    )
    for due_on, name in next_followups:
        planned.append("- " + _("%(date)s follow up with %(customer)s", date=due_on.isoformat(), customer=name))

    out.done = "\n".join(done).strip()
    out.planned = "\n".join(planned).strip()
    return out


def db_rows(stmt):  # type: ignore[no-untyped-def]
    from crm.db import db

    return db.session.execute(stmt).all()
