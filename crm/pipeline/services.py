"""Pipelines, opportunities and their moves between stages; the board and the forecast.

Services take (actor, data), check permission and scope, flush and audit; the caller commits.
The kanban drag, the form and the API all change a stage through ``change_stage``, so the
stage's probability, the lost reason and the audit entry apply the same way to each.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import false, func, or_, select, true
from sqlalchemy.orm import joinedload, selectinload

from crm.audit.services import changes_of, record
from crm.db import db, to_money, utcnow
from crm.pipeline.models import LostReason, Opportunity, OpportunityLine, Pipeline, Stage, StageChange
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from crm.sales.visibility import can_edit as can_edit_customer
from crm.sales.visibility import can_read as can_read_customer
from crm.sales.visibility import customer_filter
from roles.checks import PermissionDenied, can, ensure
from roles.scopes import visible_member_ids
from tenants.models import Membership

__all__ = ["InvalidInput", "PermissionDenied"]

ZERO = Decimal("0.00")

# The default pipeline of a Chinese SME: (name, probability, rot days, kind).
DEFAULT_STAGES = (
    ("初步接洽", 10, 14, "open"),
    ("需求确认", 30, 21, "open"),
    ("方案报价", 50, 21, "open"),
    ("商务谈判", 70, 30, "open"),
    ("赢单", 100, None, "won"),
    ("输单", 0, None, "lost"),
)
DEFAULT_LOST_REASONS = ("价格过高", "选择了竞争对手", "需求取消", "预算不足", "其他")

OPPORTUNITY_FIELDS = (
    "customer_id", "title", "amount", "expected_close", "owner_id", "next_step", "source",
)  # fmt: skip


# --- visibility ---------------------------------------------------------------------------


def opportunity_filter(member: Membership) -> Any:
    """Readable: its customer is readable, or its owner is in the member's scope."""
    if not can(member, "sales.access"):
        return false()
    visible = visible_member_ids(member)
    if visible is None:
        return true()
    return or_(
        Opportunity.owner_id.in_(visible),
        Opportunity.customer_id.in_(select(Customer.id).where(customer_filter(member))),
    )


def can_read(member: Membership, opp: Opportunity) -> bool:
    if not can(member, "sales.access"):
        return False
    visible = visible_member_ids(member)
    if visible is None or (opp.owner_id is not None and opp.owner_id in visible):
        return True
    return can_read_customer(member, opp.customer)


def can_edit(member: Membership, opp: Opportunity) -> bool:
    if not can(member, "sales.access"):
        return False
    visible = visible_member_ids(member)
    if visible is None or (opp.owner_id is not None and opp.owner_id in visible):
        return True
    return can_edit_customer(member, opp.customer)


# --- pipelines ------------------------------------------------------------------------------


def ensure_default_pipeline(actor: Membership | None) -> Pipeline:
    """The workspace's default pipeline (and lost reasons), created on first use."""
    pipe = db.session.scalars(
        select(Pipeline).order_by(Pipeline.is_default.desc(), Pipeline.position, Pipeline.id).limit(1)
    ).first()
    if pipe is not None:
        return pipe
    pipe = Pipeline(name=_("Sales pipeline"), is_default=True, position=0)
    pipe.stages = [
        Stage(name=n, probability=p, rot_days=r, kind=k, position=i) for i, (n, p, r, k) in enumerate(DEFAULT_STAGES)
    ]
    db.session.add(pipe)
    if db.session.scalar(select(func.count(LostReason.id))) == 0:
        db.session.add_all(LostReason(name=n, position=i) for i, n in enumerate(DEFAULT_LOST_REASONS))
    db.session.flush()
    record("pipeline.created", pipe, actor=actor, summary=pipe.name)
    return pipe


def pipelines() -> list[Pipeline]:
    return list(
        db.session.scalars(
            select(Pipeline).order_by(Pipeline.position, Pipeline.id).options(selectinload(Pipeline.stages))
        )
    )


def lost_reasons(active_only: bool = True) -> list[LostReason]:
    stmt = select(LostReason).order_by(LostReason.position, LostReason.id)
    if active_only:
        stmt = stmt.where(LostReason.active.is_(True))
    return list(db.session.scalars(stmt))


def add_lost_reason(actor: Membership, name: str) -> LostReason:
    ensure(actor, "pipeline.manage")
    name = (name or "").strip()[:100]
    if not name:
        raise InvalidInput({"name": _("A lost reason needs a name.")})
    if db.session.scalars(select(LostReason).where(LostReason.name == name)).first():
        raise InvalidInput({"name": _("This lost reason already exists.")})
    pos = db.session.scalar(select(func.coalesce(func.max(LostReason.position), 0))) or 0
    reason = LostReason(name=name, position=pos + 1)
    db.session.add(reason)
    db.session.flush()
    record("lost_reason.created", reason, actor=actor, summary=name)
    return reason


def update_stage(actor: Membership, stage: Stage, values: dict[str, Any]) -> Stage:
    """Rename a stage, change its probability or rot days (open stages only change probability)."""
    ensure(actor, "pipeline.manage")
    errors: dict[str, str] = {}
    if "name" in values:
        name = (values["name"] or "").strip()[:60]
        if not name:
            errors["name"] = _("A stage needs a name.")
        values["name"] = name
    if "probability" in values:
        p = values["probability"]
        if not isinstance(p, int) or not 0 <= p <= 100:
            errors["probability"] = _("A probability is a whole percent from 0 to 100.")
        elif stage.kind != "open" and p != (100 if stage.kind == "won" else 0):
            errors["probability"] = _("A won stage must be at 100%, a lost stage at 0%.")
    rot = values.get("rot_days")
    if rot is not None and (not isinstance(rot, int) or rot < 1):
        errors["rot_days"] = _("Days to rot must be at least 1, or empty.")
    if errors:
        raise InvalidInput(errors)
    for k in ("name", "probability", "rot_days"):
        if k in values:
            setattr(stage, k, values[k])
    changes = changes_of(stage, ["name", "probability", "rot_days"])
    db.session.flush()
    if changes:
        record("pipeline.stage_updated", stage, actor=actor, summary=stage.name, changes=changes)
    return stage


# --- opportunities --------------------------------------------------------------------------


@dataclass
class LineInput:
    description: str
    quantity: Any = 1
    unit_price: Any = 0
    product_id: int | None = None


@dataclass
class OpportunityInput:
    values: dict[str, Any]
    stage_id: int | None = None
    lost_reason_id: int | None = None
    lines: list[LineInput] | None = field(default=None)


def _money(value: Any, fld: str, errors: dict[str, str]) -> Decimal | None:
    if value is None or value == "":
        return ZERO
    try:
        if isinstance(value, float):
            value = repr(value)
        amount = to_money(value)
    except (InvalidOperation, TypeError, ValueError):
        errors[fld] = _("Not an amount.")
        return None
    if amount < 0:
        errors[fld] = _("An amount cannot be negative.")
        return None
    if amount >= Decimal("10000000000000"):
        errors[fld] = _("This amount is too large.")
        return None
    return amount


def _clean(actor: Membership, values: dict[str, Any], current: Opportunity | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key in OPPORTUNITY_FIELDS:
        if key not in values:
            continue
        v = values[key]
        if isinstance(v, str):
            v = v.strip() or None
        out[key] = v
    if not out.get("title", current.title if current else None):
        errors["title"] = _("An opportunity needs a title.")
    if "amount" in out:
        out["amount"] = _money(out["amount"], "amount", errors)
    if "customer_id" in out and (current is None or out["customer_id"] != current.customer_id):
        cust = db.session.get(Customer, out["customer_id"]) if out["customer_id"] else None
        if cust is None or cust.archived_at is not None or not can_read_customer(actor, cust):
            errors["customer_id"] = _("Choose a customer you can see.")
    if current is None and not out.get("customer_id"):
        errors["customer_id"] = _("Choose a customer you can see.")
    owner_changes = current is None or out.get("owner_id") != current.owner_id
    if out.get("owner_id") is not None and owner_changes:
        owner = db.session.get(Membership, out["owner_id"])
        visible = visible_member_ids(actor)
        if owner is None or not owner.is_active:
            errors["owner_id"] = _("The owner must be an active member of this workspace.")
        elif visible is not None and owner.id not in visible:
            errors["owner_id"] = _("You can only assign opportunities within your team.")
    if errors:
        raise InvalidInput(errors)
    return out


def _lines(data: list[LineInput]) -> list[OpportunityLine]:
    errors: dict[str, str] = {}
    out = []
    for i, line in enumerate(data):
        desc = (line.description or "").strip()[:200]
        if not desc:
            errors[f"lines.{i}.description"] = _("A line needs a description.")
        try:
            qty = Decimal(str(line.quantity)).quantize(Decimal("0.01"))
            if qty <= 0:
                raise ValueError
        except (InvalidOperation, ValueError):
            errors[f"lines.{i}.quantity"] = _("The quantity must be a positive number.")
            qty = Decimal(1)
        price = _money(line.unit_price, f"lines.{i}.unit_price", errors)
        out.append(
            OpportunityLine(description=desc, quantity=qty, unit_price=price or ZERO, product_id=line.product_id)
        )
    if errors:
        raise InvalidInput(errors)
    return out


def _stage_in(pipeline_id: int | None, stage_id: Any) -> Stage:
    stage = db.session.get(Stage, stage_id) if isinstance(stage_id, int) else None
    if stage is None or (pipeline_id is not None and stage.pipeline_id != pipeline_id):
        raise InvalidInput({"stage_id": _("Choose a stage of this pipeline.")})
    return stage


def _check_lost(stage: Stage, lost_reason_id: Any) -> LostReason | None:
    if stage.kind != "lost":
        return None
    reason = db.session.get(LostReason, lost_reason_id) if isinstance(lost_reason_id, int) else None
    if reason is None:
        raise InvalidInput({"lost_reason_id": _("Say why this opportunity was lost.")})
    return reason


def create_opportunity(actor: Membership, data: OpportunityInput) -> Opportunity:
    ensure(actor, "sales.access")
    values = _clean(actor, dict(data.values), None)
    values.setdefault("owner_id", actor.id)
    pipe = ensure_default_pipeline(actor)
    stage = _stage_in(None, data.stage_id) if data.stage_id is not None else pipe.stages[0]
    reason = _check_lost(stage, data.lost_reason_id)
    lines = _lines(data.lines) if data.lines else []
    opp = Opportunity(**values)
    if lines:
        opp.lines = lines
    if "amount" not in values or (lines and not values.get("amount")):
        opp.amount = to_money(sum((ln.unit_price * ln.quantity for ln in lines), ZERO))
    opp.stage_id = stage.id
    opp.pipeline_id = stage.pipeline_id
    opp.probability = stage.probability
    opp.lost_reason_id = reason.id if reason else None
    opp.stage_entered_at = utcnow()
    opp.closed_at = utcnow() if stage.is_final else None
    db.session.add(opp)
    db.session.flush()
    db.session.add(StageChange(opportunity_id=opp.id, from_stage_id=None, to_stage_id=stage.id, member_id=actor.id))
    record(
        "opportunity.created",
        opp,
        actor=actor,
        summary=opp.title,
        changes={"title": {"before": None, "after": opp.title}, "stage": {"before": None, "after": stage.name}},
    )
    return opp


def change_stage(
    actor: Membership, opp: Opportunity, stage_id: Any, lost_reason_id: Any = None, competitor: str | None = None
) -> Opportunity:
    """Move to another stage of the same pipeline: the one path for the drag, the form and the API."""
    if not can_edit(actor, opp):
        raise PermissionDenied("sales.access")
    stage = _stage_in(opp.pipeline_id, stage_id)
    reason = _check_lost(stage, lost_reason_id)
    if stage.id == opp.stage_id and (stage.kind != "lost" or reason is None or reason.id == opp.lost_reason_id):
        return opp
    before = opp.stage
    before_prob = opp.probability
    _move(actor, opp, stage, reason, (competitor or "").strip()[:100] or None)
    changes: dict[str, Any] = {
        "stage": {"before": before.name, "after": stage.name},
        "probability": {"before": before_prob, "after": stage.probability},
    }
    if reason is not None:
        changes["lost_reason"] = {"before": None, "after": reason.name}
        if opp.competitor:
            changes["competitor"] = {"before": None, "after": opp.competitor}
    db.session.flush()
    record("opportunity.stage_changed", opp, actor=actor, summary=f"{opp.title}: {before.name} → {stage.name}",
           changes=changes)  # fmt: skip
    return opp


def _move(actor: Membership, opp: Opportunity, stage: Stage, reason: LostReason | None, competitor: str | None) -> None:
    previous = opp.stage_id
    now = utcnow()
    opp.stage = stage
    opp.stage_id = stage.id
    opp.probability = stage.probability
    opp.stage_entered_at = now
    opp.lost_reason_id = reason.id if reason else None
    opp.competitor = competitor if stage.kind == "lost" else None
    opp.closed_at = now if stage.is_final else None
    db.session.add(StageChange(opportunity_id=opp.id, from_stage_id=previous, to_stage_id=stage.id, member_id=actor.id))


def update_opportunity(actor: Membership, opp: Opportunity, data: OpportunityInput) -> Opportunity:
    if not can_edit(actor, opp):
        raise PermissionDenied("sales.access")
    raw = dict(data.values)
    competitor = raw.pop("competitor", None)
    values = _clean(actor, raw, opp)
    reassigning = "owner_id" in values and values["owner_id"] != opp.owner_id and opp.owner_id != actor.id
    if reassigning and not can(actor, "customers.assign"):
        raise InvalidInput({"owner_id": _("Only a sales manager or an administrator can reassign opportunities.")})
    # Validate the move before changing anything: a refused move changes nothing at all.
    moving = data.stage_id is not None and data.stage_id != opp.stage_id
    if moving:
        _check_lost(_stage_in(opp.pipeline_id, data.stage_id), data.lost_reason_id)
    lines = _lines(data.lines) if data.lines is not None else None
    for k, v in values.items():
        setattr(opp, k, v)
    changes = changes_of(opp, list(OPPORTUNITY_FIELDS))
    if lines is not None:
        before = [(ln.description, str(ln.quantity), str(ln.unit_price)) for ln in opp.lines]
        after = [(ln.description, str(ln.quantity), str(ln.unit_price)) for ln in lines]
        if before != after:
            opp.lines = lines
            changes["lines"] = {"before": before, "after": after}
    db.session.flush()
    if changes:
        record("opportunity.updated", opp, actor=actor, summary=opp.title, changes=changes)
    if moving:
        change_stage(actor, opp, data.stage_id, data.lost_reason_id, competitor)
    return opp


def delete_opportunity(actor: Membership, opp: Opportunity) -> None:
    if not can_edit(actor, opp):
        raise PermissionDenied("sales.access")
    record("opportunity.deleted", opp, actor=actor, summary=opp.title,
           changes={"amount": {"before": str(opp.amount), "after": None}})  # fmt: skip
    db.session.delete(opp)
    db.session.flush()


# --- listing, board, forecast --------------------------------------------------------------


@dataclass
class OpportunityQuery:
    pipeline_id: int | None = None
    stage_id: int | None = None
    owner_id: int | None = None
    customer_id: int | None = None
    close_from: date | None = None
    close_to: date | None = None
    open_only: bool = False
    limit: int = 500


def list_opportunities(actor: Membership, query: OpportunityQuery) -> list[Opportunity]:
    stmt = select(Opportunity).where(opportunity_filter(actor))
    for attr in ("pipeline_id", "stage_id", "owner_id", "customer_id"):
        value = getattr(query, attr)
        if value:
            stmt = stmt.where(getattr(Opportunity, attr) == value)
    if query.close_from:
        stmt = stmt.where(Opportunity.expected_close >= query.close_from)
    if query.close_to:
        stmt = stmt.where(Opportunity.expected_close <= query.close_to)
    if query.open_only:
        stmt = stmt.where(Opportunity.closed_at.is_(None))
    stmt = stmt.order_by(Opportunity.expected_close.is_(None), Opportunity.expected_close, Opportunity.id)
    stmt = stmt.options(
        joinedload(Opportunity.customer),
        joinedload(Opportunity.stage),
        joinedload(Opportunity.owner).joinedload(Membership.user),
        joinedload(Opportunity.lost_reason),
    ).limit(query.limit)
    return list(db.session.scalars(stmt).unique())


def days_in_stage(opp: Opportunity, now: datetime | None = None) -> int:
    return ((now or utcnow()) - opp.stage_entered_at).days


def is_rotting(opp: Opportunity, now: datetime | None = None) -> bool:
    stage = opp.stage
    return stage.kind == "open" and stage.rot_days is not None and days_in_stage(opp, now) > stage.rot_days


@dataclass
class Column:
    stage: Stage
    cards: list[Opportunity]
    count: int = 0
    total: Decimal = ZERO
    weighted: Decimal = ZERO


def board(actor: Membership, pipe: Pipeline) -> list[Column]:
    """One column per stage with its cards, count, sum and weighted sum: two statements."""
    stages = list(db.session.scalars(select(Stage).where(Stage.pipeline_id == pipe.id).order_by(Stage.position)))
    cols = OrderedDict((s.id, Column(s, [])) for s in stages)
    for opp in list_opportunities(actor, OpportunityQuery(pipeline_id=pipe.id, limit=5000)):
        col = cols.get(opp.stage_id)
        if col is None:
            continue
        col.cards.append(opp)
        col.count += 1
        col.total += opp.amount
        col.weighted += opp.weighted_amount
    return list(cols.values())


def forecast(actor: Membership, by: str = "month") -> list[dict[str, Any]]:
    """Open opportunities' amount and weighted amount, by month of expected close or by rep."""
    rows: dict[Any, dict[str, Any]] = {}
    for opp in list_opportunities(actor, OpportunityQuery(open_only=True, limit=100000)):
        if by == "rep":
            key: Any = opp.owner_id
            label = opp.owner.user.name if opp.owner else _("Unassigned")
        else:
            key = opp.expected_close.strftime("%Y-%m") if opp.expected_close else ""
            label = key or _("No close date")
        row = rows.setdefault(key, {"key": key, "label": label, "count": 0, "amount": ZERO, "weighted": ZERO})
        row["count"] += 1
        row["amount"] += opp.amount
        row["weighted"] += opp.weighted_amount
    if by == "rep":
        return sorted(rows.values(), key=lambda r: (-r["weighted"], str(r["label"])))
    return sorted(rows.values(), key=lambda r: (r["key"] == "", r["key"]))


def funnel(actor: Membership, pipe: Pipeline) -> list[tuple[Stage, int]]:
    """How many visible opportunities reached each stage (from the stage history; one statement).

    Reaching a later stage counts as having passed the earlier ones, since a deal may skip a column.
    """
    stages = [s for s in pipe.stages if s.kind != "lost"]
    furthest = db.session.execute(
        select(StageChange.opportunity_id, func.max(Stage.position))
        .join(Stage, Stage.id == StageChange.to_stage_id)
        .join(Opportunity, Opportunity.id == StageChange.opportunity_id)
        .where(Opportunity.pipeline_id == pipe.id, Stage.kind != "lost", opportunity_filter(actor))
        .group_by(StageChange.opportunity_id)
    ).all()
    return [(s, sum(1 for _id, pos in furthest if pos >= s.position)) for s in stages]


def customer_opportunities(actor: Membership, customer: Customer) -> list[Opportunity]:
    return list_opportunities(actor, OpportunityQuery(customer_id=customer.id, limit=50))
