"""The public pool (公海): claiming, releasing, assigning, and the daily rules that send idle
customers back.

Rules live in the workspace's settings (``tenant.settings["pool"]``) over these defaults.
Claims are atomic (``UPDATE … WHERE owner_id IS NULL``), so two reps clicking at once cannot
both get the customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from crm.audit.services import record
from crm.db import db, utcnow
from crm.sales.models import Customer, PoolEvent
from crm.sales.services import InvalidInput
from crm.sales.visibility import can_edit
from roles.catalogue import ROLES
from roles.checks import PermissionDenied, can, ensure
from roles.scopes import visible_member_ids
from tenants.context import current_tenant
from tenants.models import Membership, Tenant

DEFAULT_RULES: dict[str, Any] = {
    "claim_limit": {"sales": 10, "sales_manager": 30},  # claims per member per day
    "max_owned": {"sales": 300, "sales_manager": 1000},  # customers a member may own
    "return_after_idle_days": 30,  # back to the pool after N days without a follow-up
    "warn_days": 3,  # warn the owner K days before
}


def pool_rules(tenant: Tenant | None = None) -> dict[str, Any]:
    tenant = tenant or current_tenant
    saved = (tenant.settings or {}).get("pool", {})
    return {**DEFAULT_RULES, **saved}


def save_rules(actor: Membership, values: dict[str, Any]) -> dict[str, Any]:
    ensure(actor, "settings.manage")
    errors: dict[str, str] = {}
    for key in ("return_after_idle_days", "warn_days"):
        if not isinstance(values.get(key), int) or values[key] < 0:
            errors[key] = _("Enter a whole number of days, 0 or more.")
    if not errors and values["warn_days"] >= values["return_after_idle_days"] > 0:
        errors["warn_days"] = _("The warning must come before the return.")
    for key in ("claim_limit", "max_owned"):
        for role, n in (values.get(key) or {}).items():
            if role not in ROLES or not isinstance(n, int) or n < 0:
                errors[key] = _("Enter a whole number, 0 or more, for each role.")
    if errors:
        raise InvalidInput(errors)
    tenant = current_tenant
    before = pool_rules(tenant)
    new = {k: values.get(k, before[k]) for k in DEFAULT_RULES}
    tenant.settings = {**(tenant.settings or {}), "pool": new}
    record(
        "pool.rules_changed",
        tenant,
        actor=actor,
        object_type="Tenant",
        changes={"pool": {"before": before, "after": new}},
    )
    return new


def _limit(rules: dict[str, Any], key: str, member: Membership) -> int | None:
    values = [rules[key][r] for r in member.roles if r in rules[key]]
    return max(values) if values else None


def _start_of_today(tenant: Tenant) -> datetime:
    tz = ZoneInfo(tenant.timezone or "Asia/Shanghai")
    local = utcnow().astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def claims_today(member: Membership) -> int:
    since = _start_of_today(current_tenant)
    return (
        db.session.scalar(
            select(func.count(PoolEvent.id)).where(
                PoolEvent.member_id == member.id, PoolEvent.action == "claim", PoolEvent.created_at >= since
            )
        )
        or 0
    )


def owned_count(member: Membership) -> int:
    return (
        db.session.scalar(
            select(func.count(Customer.id)).where(Customer.owner_id == member.id, Customer.archived_at.is_(None))
        )
        or 0
    )


def claim(actor: Membership, customer: Customer) -> None:
    ensure(actor, "sales.access")
    rules = pool_rules()
    limit = _limit(rules, "claim_limit", actor)
    if limit is not None and claims_today(actor) >= limit:
        raise InvalidInput({"customer": _("You have reached today's limit of %(n)d claims.", n=limit)})
    cap = _limit(rules, "max_owned", actor)
    if cap is not None and owned_count(actor) >= cap:
        raise InvalidInput({"customer": _("You already own %(n)d customers, the most allowed.", n=cap)})
    now = utcnow()
    result = db.session.execute(
        update(Customer)
        .where(Customer.id == customer.id, Customer.owner_id.is_(None), Customer.archived_at.is_(None))
        .values(owner_id=actor.id, owned_since=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidInput({"customer": _("Someone else claimed this customer first.")})
    db.session.refresh(customer)
    db.session.add(PoolEvent(customer_id=customer.id, actor_id=actor.id, member_id=actor.id, action="claim"))
    record("customer.claimed", customer, actor=actor, summary=customer.name)


def release(actor: Membership, customer: Customer, reason: str | None) -> None:
    if customer.owner_id is None:
        raise InvalidInput({"customer": _("This customer is already in the pool.")})
    if not (customer.owner_id == actor.id or (can(actor, "customers.assign") and can_edit(actor, customer))):
        raise PermissionDenied("customers.assign")
    reason = (reason or "").strip()[:255]
    if not reason:
        raise InvalidInput({"reason": _("Say why the customer goes back to the pool.")})
    previous = customer.owner_id
    customer.owner_id = None
    customer.owned_since = None
    db.session.add(
        PoolEvent(customer_id=customer.id, actor_id=actor.id, member_id=previous, action="release", reason=reason)
    )
    record("customer.released", customer, actor=actor, summary=f"{customer.name}: {reason}")


def assign(actor: Membership, customer: Customer, member_id: int) -> None:
    ensure(actor, "customers.assign")
    if customer.owner_id is not None and not can_edit(actor, customer):
        raise PermissionDenied("customers.assign")
    visible = visible_member_ids(actor)
    target = db.session.scalars(
        select(Membership).where(Membership.id == member_id, Membership.is_active.is_(True))
    ).one_or_none()
    if target is None or not can(target, "sales.access") or (visible is not None and target.id not in visible):
        raise InvalidInput({"member_id": _("Choose a sales member of your team.")})
    before = customer.owner_id
    customer.owner_id = target.id
    customer.owned_since = utcnow()
    db.session.add(PoolEvent(customer_id=customer.id, actor_id=actor.id, member_id=target.id, action="assign"))
    record("customer.assigned", customer, actor=actor, summary=f"{customer.name} → {target.user.name}",
           changes={"owner_id": {"before": before, "after": target.id}})  # fmt: skip


@dataclass
class Due:
    customer: Customer
    returns_on: datetime
    warn: bool  # inside the warning window, not yet due


def due_for_return(now: datetime | None = None, member: Membership | None = None) -> list[Due]:
    """Owned, unlocked customers whose idle clock runs out within the warning window."""
    rules = pool_rules()
    days = rules["return_after_idle_days"]
    if not days:
        return []
    now = now or utcnow()
    clock = func.coalesce(Customer.last_followup_at, Customer.owned_since, Customer.created_at)
    horizon = now - timedelta(days=days) + timedelta(days=rules["warn_days"])
    stmt = select(Customer).where(
        Customer.owner_id.is_not(None), Customer.locked.is_(False), Customer.archived_at.is_(None), clock <= horizon
    )
    if member is not None:
        visible = visible_member_ids(member)
        if visible is not None:
            stmt = stmt.where(Customer.owner_id.in_(visible))
    out = []
    for c in db.session.scalars(stmt.order_by(clock, Customer.id)):
        start = c.last_followup_at or c.owned_since or c.created_at
        returns_on = start + timedelta(days=days)
        out.append(Due(c, returns_on, warn=returns_on > now))
    return out


def apply_rules(now: datetime | None = None) -> dict[str, int]:
    """The daily run for the tenant in context: return the due, warn the soon-due (once a day)."""
    from crm.notifications.services import notify

    now = now or utcnow()
    since = _start_of_today(current_tenant)
    warned_today = set(
        db.session.scalars(
            select(PoolEvent.customer_id).where(PoolEvent.action == "warn", PoolEvent.created_at >= since)
        )
    )
    returned = warned = 0
    for due in due_for_return(now):
        c = due.customer
        owner = c.owner
        if due.warn:
            if c.id in warned_today or owner is None:
                continue
            db.session.add(PoolEvent(customer_id=c.id, member_id=owner.id, action="warn"))
            notify(owner, "pool.warning", _("“%(name)s” goes back to the public pool on %(day)s unless you follow up.",
                                            name=c.name, day=due.returns_on.date().isoformat()))  # fmt: skip
            warned += 1
        else:
            db.session.add(PoolEvent(customer_id=c.id, member_id=c.owner_id, action="return", reason="idle"))
            record("customer.returned", c, summary=c.name, changes={"owner_id": {"before": c.owner_id, "after": None}})
            if owner is not None:
                message = _(
                    "“%(name)s” went back to the public pool: no follow-up for %(n)d days.",
                    name=c.name,
                    n=pool_rules()["return_after_idle_days"],
                )
                notify(owner, "pool.returned", message)
            c.owner_id = None
            c.owned_since = None
            returned += 1
    db.session.flush()
    return {"returned": returned, "warned": warned}


def history(customer: Customer) -> list[PoolEvent]:
    return list(
        db.session.scalars(
            select(PoolEvent).where(PoolEvent.customer_id == customer.id).order_by(PoolEvent.id.desc()).limit(20)
        )
    )
