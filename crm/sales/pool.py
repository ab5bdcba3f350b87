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
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update

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
    "return_after_no_win_days": 0,  # back to the pool after M days without a won deal (0 = off)
    "warn_days": 3,  # warn the owner K days before
}
RETURN_RULES = ("return_after_idle_days", "return_after_no_win_days")


def pool_rules(tenant: Tenant | None = None) -> dict[str, Any]:
    tenant = tenant or current_tenant
    saved = (tenant.settings or {}).get("pool", {})
    return {**DEFAULT_RULES, **saved}


def save_rules(actor: Membership, values: dict[str, Any]) -> dict[str, Any]:
    ensure(actor, "settings.manage")
    errors: dict[str, str] = {}
    current = pool_rules()
    values = {**values}
    values.setdefault("return_after_no_win_days", current["return_after_no_win_days"])
    for key in (*RETURN_RULES, "warn_days"):
        v = values.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > 3650:
            errors[key] = _("Enter a whole number of days, from 0 to 3650.")
    if not errors and any(values["warn_days"] >= values[key] > 0 for key in RETURN_RULES):
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
    rule: str = "idle"  # which clock runs out first: "idle" (no follow-up) or "no_win" (no won deal)

    @property
    def rule_label(self) -> str:
        return RULE_LABELS[self.rule]()


RULE_LABELS = {
    "idle": lambda: _("No follow-up"),
    "no_win": lambda: _("No won deal"),
}


def _latest_wins() -> Any:
    """Per customer, when its latest won opportunity closed (a subquery to outer-join)."""
    from crm.pipeline.models import Opportunity, Stage

    return (
        select(Opportunity.customer_id.label("customer_id"), func.max(Opportunity.closed_at).label("won_at"))
        .join(Stage, Stage.id == Opportunity.stage_id)
        .where(Stage.kind == "won", Opportunity.closed_at.is_not(None))
        .group_by(Opportunity.customer_id)
        .subquery("latest_wins")
    )


def due_for_return(now: datetime | None = None, member: Membership | None = None) -> list[Due]:
    """Owned, unlocked customers whose idle clock or no-win clock runs out within the warning window.

    The idle clock starts at the latest follow-up (else since owned, else created); the no-win
    clock at the later of since owned (else created) and the customer's latest won deal. Each
    customer is listed once, under the clock that runs out first.
    """
    rules = pool_rules()
    idle_days = rules["return_after_idle_days"]
    no_win_days = rules.get("return_after_no_win_days") or 0
    if not idle_days and not no_win_days:
        return []
    now = now or utcnow()
    warn = timedelta(days=rules["warn_days"])
    idle_clock = func.coalesce(Customer.last_followup_at, Customer.owned_since, Customer.created_at)
    owned_clock = func.coalesce(Customer.owned_since, Customer.created_at)
    wins = _latest_wins()
    conditions = []
    if idle_days:
        conditions.append(idle_clock <= now - timedelta(days=idle_days) + warn)
    if no_win_days:
        horizon = now - timedelta(days=no_win_days) + warn
        conditions.append(and_(owned_clock <= horizon, or_(wins.c.won_at.is_(None), wins.c.won_at <= horizon)))
    stmt = (
        select(Customer, wins.c.won_at)
        .outerjoin(wins, wins.c.customer_id == Customer.id)
        .where(
            Customer.owner_id.is_not(None),
            Customer.locked.is_(False),
            Customer.archived_at.is_(None),
            or_(*conditions),
        )
        .order_by(Customer.id)
    )
    if member is not None:
        visible = visible_member_ids(member)
        if visible is not None:
            stmt = stmt.where(Customer.owner_id.in_(visible))
    out = []
    for c, won_at in db.session.execute(stmt).all():
        candidates = []
        if idle_days:
            idle_start = c.last_followup_at or c.owned_since or c.created_at
            candidates.append((idle_start + timedelta(days=idle_days), "idle"))
        if no_win_days:
            start = c.owned_since or c.created_at
            if won_at is not None and won_at > start:
                start = won_at
            candidates.append((start + timedelta(days=no_win_days), "no_win"))
        returns_on, rule = min(candidates, key=lambda x: x[0])
        if returns_on - warn > now:
            continue  # not inside the warning window by this clock (the other one matched in SQL)
        out.append(Due(c, returns_on, warn=returns_on > now, rule=rule))
    out.sort(key=lambda d: (d.returns_on, d.customer.id))
    return out


def apply_rules(now: datetime | None = None) -> dict[str, int]:
    """The daily run for the tenant in context: return the due, warn the soon-due (once a day)."""
    from crm.notifications.services import notify

    now = now or utcnow()
    rules = pool_rules()
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
            db.session.add(PoolEvent(customer_id=c.id, member_id=owner.id, action="warn", reason=due.rule))
            day = due.returns_on.date().isoformat()
            if due.rule == "no_win":
                text = _l("“%(name)s” goes back to the public pool on %(day)s unless you win a deal with it "
                         "(rule: %(n)d days without a won deal).", name=c.name, day=day,
                         n=rules["return_after_no_win_days"])  # fmt: skip
            else:
                text = _l("“%(name)s” goes back to the public pool on %(day)s unless you follow up "
                         "(rule: %(n)d days without a follow-up).", name=c.name, day=day,
                         n=rules["return_after_idle_days"])  # fmt: skip
            notify(owner, "pool.warning", text)
            warned += 1
        else:
            db.session.add(PoolEvent(customer_id=c.id, member_id=c.owner_id, action="return", reason=due.rule))
            record("customer.returned", c, summary=f"{c.name}: {due.rule}",
                   changes={"owner_id": {"before": c.owner_id, "after": None}})  # fmt: skip
            if owner is not None:
                if due.rule == "no_win":
                    message = _l("“%(name)s” went back to the public pool: no won deal for %(n)d days.",
                                name=c.name, n=rules["return_after_no_win_days"])  # fmt: skip
                else:
                    message = _l("“%(name)s” went back to the public pool: no follow-up for %(n)d days.",
                                name=c.name, n=rules["return_after_idle_days"])  # fmt: skip
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
