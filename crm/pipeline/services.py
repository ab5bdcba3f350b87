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
from flask_babel import pgettext
from sqlalchemy import BigInteger, case, false, func, or_, select, true, type_coerce
from sqlalchemy.orm import joinedload, selectinload

from crm.audit.services import changes_of, record
from crm.catalog.models import Product
from crm.db import db, to_money, utcnow
from crm.pipeline.models import STAGE_KINDS, LostReason, Opportunity, OpportunityLine, Pipeline, Stage, StageChange
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
    # A correlated EXISTS, not "customer_id IN (SELECT id FROM customers WHERE …)": the IN form
    # makes PostgreSQL hash every readable customer of the workspace (100k rows: a cost estimate
    # that also switches JIT on) even to list one customer's two deals. EXISTS probes the
    # customer's primary key per opportunity, or hashes when that is cheaper (the board).
    readable_customer = (
        select(Customer.id)
        .where(Customer.id == Opportunity.customer_id, customer_filter(member))
        .correlate(Opportunity)
        .exists()
    )
    return or_(Opportunity.owner_id.in_(visible), readable_customer)


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


# --- pipeline settings: pipelines and their stages -------------------------------------------
#
# The shape every pipeline keeps: at least one open stage, exactly one won stage, at least one
# lost stage, and the final (won, lost) stages after every open one. A change that would break
# the shape is refused with the reason and changes nothing.

FIXED_PROBABILITY = {"won": 100, "lost": 0}


def stage_counts(pipe: Pipeline) -> dict[int, int]:
    """How many opportunities (all of them, not only the visible ones) sit in each stage: one statement."""
    rows = db.session.execute(
        select(Opportunity.stage_id, func.count(Opportunity.id))
        .where(Opportunity.pipeline_id == pipe.id)
        .group_by(Opportunity.stage_id)
    ).all()
    return {sid: n for sid, n in rows}


def pipeline_counts() -> dict[int, int]:
    rows = db.session.execute(
        select(Opportunity.pipeline_id, func.count(Opportunity.id)).group_by(Opportunity.pipeline_id)
    ).all()
    return {pid: n for pid, n in rows}


def _pipeline_name(name: Any, current: Pipeline | None) -> str:
    name = (name or "").strip()[:100] if isinstance(name, str) or name is None else ""
    if not name:
        raise InvalidInput({"name": _("A pipeline needs a name.")})
    clash = db.session.scalars(select(Pipeline.id).where(Pipeline.name == name)).first()
    if clash is not None and (current is None or clash != current.id):
        raise InvalidInput({"name": _("Another pipeline already has this name.")})
    return name


def create_pipeline(actor: Membership, name: Any) -> Pipeline:
    """A new pipeline starts with one open stage, a won and a lost stage, to be edited."""
    ensure(actor, "pipeline.manage")
    name = _pipeline_name(name, None)
    pos = db.session.scalar(select(func.coalesce(func.max(Pipeline.position), 0))) or 0
    has_default = db.session.scalars(select(Pipeline.id).where(Pipeline.is_default.is_(True))).first() is not None
    pipe = Pipeline(name=name, position=pos + 1, is_default=not has_default)
    pipe.stages = [
        Stage(name=_("Qualification"), probability=10, rot_days=None, kind="open", position=0),
        Stage(name=pgettext("pipeline stage", "Won"), probability=100, rot_days=None, kind="won", position=1),
        Stage(name=pgettext("pipeline stage", "Lost"), probability=0, rot_days=None, kind="lost", position=2),
    ]
    db.session.add(pipe)
    db.session.flush()
    record("pipeline.created", pipe, actor=actor, summary=pipe.name)
    return pipe


def rename_pipeline(actor: Membership, pipe: Pipeline, name: Any) -> Pipeline:
    ensure(actor, "pipeline.manage")
    pipe.name = _pipeline_name(name, pipe)
    changes = changes_of(pipe, ["name"])
    db.session.flush()
    if changes:
        record("pipeline.updated", pipe, actor=actor, summary=pipe.name, changes=changes)
    return pipe


def set_default_pipeline(actor: Membership, pipe: Pipeline) -> Pipeline:
    """New opportunities go to the default pipeline; there is exactly one."""
    ensure(actor, "pipeline.manage")
    if pipe.is_default:
        return pipe
    before = db.session.scalars(select(Pipeline).where(Pipeline.is_default.is_(True))).first()
    for other in db.session.scalars(select(Pipeline).where(Pipeline.is_default.is_(True), Pipeline.id != pipe.id)):
        other.is_default = False
    pipe.is_default = True
    db.session.flush()
    record("pipeline.default_set", pipe, actor=actor, summary=pipe.name,
           changes={"default": {"before": before.name if before else None, "after": pipe.name}})  # fmt: skip
    return pipe


def delete_pipeline(actor: Membership, pipe: Pipeline) -> None:
    """Only an empty pipeline goes, and never the last one; a deleted default hands over to the next."""
    ensure(actor, "pipeline.manage")
    held = db.session.scalar(select(func.count(Opportunity.id)).where(Opportunity.pipeline_id == pipe.id)) or 0
    if held:
        raise InvalidInput(
            {"pipeline": _("This pipeline still holds %(n)s opportunities: move or delete them first.", n=held)}
        )
    others = list(
        db.session.scalars(select(Pipeline).where(Pipeline.id != pipe.id).order_by(Pipeline.position, Pipeline.id))
    )
    if not others:
        raise InvalidInput({"pipeline": _("A workspace keeps at least one pipeline.")})
    if pipe.is_default:
        others[0].is_default = True
    record("pipeline.deleted", pipe, actor=actor, summary=pipe.name,
           changes={"name": {"before": pipe.name, "after": None}})  # fmt: skip
    db.session.delete(pipe)
    db.session.flush()


def _check_shape(stages: list[Stage] | list[tuple[str, str]]) -> None:
    """stages in their order, as Stage rows or (name, kind) pairs."""
    kinds = [s.kind if isinstance(s, Stage) else s[1] for s in stages]
    if kinds.count("won") != 1:
        raise InvalidInput({"kind": _("A pipeline has exactly one won stage.")})
    if kinds.count("lost") < 1:
        raise InvalidInput({"kind": _("A pipeline needs at least one lost stage.")})
    if kinds.count("open") < 1:
        raise InvalidInput({"kind": _("A pipeline needs at least one open stage.")})
    first_final = next(i for i, k in enumerate(kinds) if k != "open")
    if any(k == "open" for k in kinds[first_final:]):
        raise InvalidInput({"order": _("The won and lost stages come after every open stage.")})


def _renumber(stages: list[Stage]) -> None:
    for i, s in enumerate(stages):
        s.position = i


def _ordered(pipe: Pipeline) -> list[Stage]:
    return sorted(pipe.stages, key=lambda s: (s.position, s.id or 0))


def _placed(stages: list[Stage], stage: Stage) -> list[Stage]:
    """The list with `stage` where its kind belongs: an open stage just before the first final one, a final one last."""
    rest = [s for s in stages if s is not stage]
    if stage.kind == "open":
        at = next((i for i, s in enumerate(rest) if s.kind != "open"), len(rest))
        return rest[:at] + [stage] + rest[at:]
    return rest + [stage]


def _stage_values(values: dict[str, Any], stage: Stage | None, kind: str) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if "name" in values or stage is None:
        name = values.get("name")
        name = name.strip()[:60] if isinstance(name, str) else ""
        if not name:
            errors["name"] = _("A stage needs a name.")
        out["name"] = name
    if "probability" in values and values["probability"] is not None:
        p = values["probability"]
        if isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= 100:
            errors["probability"] = _("A probability is a whole percent from 0 to 100.")
        elif kind in FIXED_PROBABILITY and p != FIXED_PROBABILITY[kind]:
            errors["probability"] = _("A won stage must be at 100%, a lost stage at 0%.")
        out["probability"] = p
    elif kind in FIXED_PROBABILITY:
        out["probability"] = FIXED_PROBABILITY[kind]
    elif stage is None:
        out["probability"] = 0
    if "rot_days" in values:
        rot = values["rot_days"]
        if rot is not None and (isinstance(rot, bool) or not isinstance(rot, int) or not 1 <= rot <= 3650):
            errors["rot_days"] = _("Days to rot must be from 1 to 3650, or empty.")
        out["rot_days"] = rot
    return out, errors


def _names_clash(pipe: Pipeline, name: str, stage: Stage | None) -> bool:
    return any(s.name == name and s is not stage for s in pipe.stages)


def add_stage(actor: Membership, pipe: Pipeline, values: dict[str, Any]) -> Stage:
    """A new stage: an open one goes after the last open stage, a lost one at the end."""
    ensure(actor, "pipeline.manage")
    kind = values.get("kind") or "open"
    if kind not in STAGE_KINDS:
        raise InvalidInput({"kind": _("Choose open, won or lost.")})
    out, errors = _stage_values(values, None, kind)
    if "name" not in errors and _names_clash(pipe, out["name"], None):
        errors["name"] = _("This pipeline already has a stage with this name.")
    if kind == "won" and any(s.kind == "won" for s in pipe.stages):
        errors["kind"] = _("A pipeline has exactly one won stage.")
    if errors:
        raise InvalidInput(errors)
    stage = Stage(kind=kind, **out)
    ordered = _placed(_ordered(pipe), stage)
    _check_shape(ordered)
    pipe.stages.append(stage)
    _renumber(ordered)
    db.session.flush()
    changes = {"name": {"before": None, "after": stage.name}, "kind": {"before": None, "after": kind}}
    record("pipeline.stage_created", stage, actor=actor, summary=f"{pipe.name}: {stage.name}", changes=changes)
    return stage


def update_stage(actor: Membership, stage: Stage, values: dict[str, Any]) -> Stage:
    """Rename a stage, change its probability, rot days or kind (won and lost stages have a fixed probability).

    A stage that holds opportunities keeps its kind: move them first. A stage whose kind changes
    moves to where its kind belongs (an open stage before the final ones, a final one last).
    """
    ensure(actor, "pipeline.manage")
    pipe = stage.pipeline
    kind = values.get("kind") or stage.kind
    if kind not in STAGE_KINDS:
        raise InvalidInput({"kind": _("Choose open, won or lost.")})
    out, errors = _stage_values(values, stage, kind)
    if "name" in out and "name" not in errors and _names_clash(pipe, out["name"], stage):
        errors["name"] = _("This pipeline already has a stage with this name.")
    if kind != stage.kind:
        held = stage_counts(pipe).get(stage.id, 0)
        if held:
            errors["kind"] = _("This stage holds %(n)s opportunities: move them before changing its kind.", n=held)
    if errors:
        raise InvalidInput(errors)
    ordered = _ordered(pipe)
    old_kind = stage.kind
    if kind != old_kind:
        probe = Stage(kind=kind)
        trial = _placed([probe if s is stage else s for s in ordered], probe)
        _check_shape(trial)
        stage.kind = kind
        ordered = [stage if s is probe else s for s in trial]
        _renumber(ordered)
    for k, v in out.items():
        setattr(stage, k, v)
    changes = changes_of(stage, ["name", "probability", "rot_days"])
    if kind != old_kind:
        changes["kind"] = {"before": old_kind, "after": kind}
    db.session.flush()
    if changes:
        record("pipeline.stage_updated", stage, actor=actor, summary=stage.name, changes=changes)
    return stage


def reorder_stages(actor: Membership, pipe: Pipeline, stage_ids: list[int]) -> list[Stage]:
    """Put the pipeline's stages in this order (every stage, once)."""
    ensure(actor, "pipeline.manage")
    ordered = _ordered(pipe)
    by_id = {s.id: s for s in ordered}
    if sorted(stage_ids) != sorted(by_id) or len(set(stage_ids)) != len(stage_ids):
        raise InvalidInput({"order": _("List every stage of this pipeline once.")})
    new = [by_id[i] for i in stage_ids]
    _check_shape(new)
    before = [s.name for s in ordered]
    if [s.id for s in ordered] == stage_ids:
        return new
    _renumber(new)
    db.session.flush()
    record("pipeline.stages_reordered", pipe, actor=actor, summary=pipe.name,
           changes={"order": {"before": before, "after": [s.name for s in new]}})  # fmt: skip
    return new


def move_stage(actor: Membership, stage: Stage, step: int) -> list[Stage]:
    """One place up (step -1) or down (+1): the buttons for pages without JavaScript."""
    ordered = _ordered(stage.pipeline)
    i = ordered.index(stage)
    j = i + step
    if step not in (-1, 1) or not 0 <= j < len(ordered):
        raise InvalidInput({"order": _("This stage cannot move further.")})
    ids = [s.id for s in ordered]
    ids[i], ids[j] = ids[j], ids[i]
    return reorder_stages(actor, stage.pipeline, ids)


def delete_stage(actor: Membership, stage: Stage, move_to_id: Any = None) -> None:
    """An empty stage goes at once; a stage holding opportunities goes only once they move to
    another stage of the same pipeline and kind (`move_to_id`), each move on its record."""
    ensure(actor, "pipeline.manage")
    pipe = stage.pipeline
    ordered = _ordered(pipe)
    rest = [s for s in ordered if s is not stage]
    _check_shape(rest)
    held = list(
        db.session.scalars(select(Opportunity).where(Opportunity.stage_id == stage.id).order_by(Opportunity.id))
    )
    target: Stage | None = None
    if held:
        target = next((s for s in rest if s.id == move_to_id), None) if isinstance(move_to_id, int) else None
        if target is None or target.kind != stage.kind:
            raise InvalidInput(
                {
                    "move_to": _(
                        "This stage holds %(n)s opportunities: choose another %(kind)s stage to move them to.",
                        n=len(held),
                        kind=stage_kind_label(stage.kind),
                    )
                }  # fmt: skip
            )
    now = utcnow()
    for opp in held:
        assert target is not None
        db.session.add(
            StageChange(opportunity_id=opp.id, from_stage_id=None, to_stage_id=target.id, member_id=actor.id)
        )
        opp.stage_id = target.id
        opp.stage = target
        opp.probability = target.probability
        opp.stage_entered_at = now
        record("opportunity.stage_changed", opp, actor=actor, summary=f"{opp.title}: {stage.name} → {target.name}",
               changes={"stage": {"before": stage.name, "after": target.name},
                        "probability": {"before": stage.probability, "after": target.probability}})  # fmt: skip
    db.session.flush()
    record("pipeline.stage_deleted", stage, actor=actor, summary=f"{pipe.name}: {stage.name}",
           changes={"name": {"before": stage.name, "after": None},
                    "moved_to": {"before": None, "after": target.name if target else None},
                    "opportunities": {"before": len(held), "after": 0}})  # fmt: skip
    pipe.stages.remove(stage)
    db.session.delete(stage)
    _renumber(rest)
    db.session.flush()


def stage_kind_label(kind: str) -> str:
    return {"open": _("open"), "won": _("won"), "lost": _("lost")}.get(kind, kind)


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


MAX_QUANTITY = Decimal("10000000000")  # Numeric(12, 2)


def lines_total(lines: list[OpportunityLine]) -> Decimal:
    """The opportunity's amount when it has lines: the sum of quantity × unit price, each exact at the fen."""
    return sum((ln.amount for ln in lines), ZERO)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _lines(data: list[LineInput]) -> list[OpportunityLine]:
    """Lines as typed; a product (of this workspace) fills an empty description and unit price."""
    errors: dict[str, str] = {}
    out = []
    ids = {ln.product_id for ln in data if ln.product_id is not None}
    products: dict[int, Product] = {}
    if ids and all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids)))}
    for i, line in enumerate(data):
        product = products.get(line.product_id) if line.product_id is not None else None  # type: ignore[arg-type]
        if line.product_id is not None and product is None:
            errors[f"lines.{i}.product_id"] = _("Choose a product of this workspace.")
        desc = (line.description or "").strip()[:200] if isinstance(line.description, str) else ""
        if not desc and product is not None:
            desc = product.name[:200]
        if not desc:
            errors[f"lines.{i}.description"] = _("A line needs a description.")
        qty = Decimal(1)
        if not _blank(line.quantity):
            try:
                qty = Decimal(str(line.quantity).strip())
                if not qty.is_finite() or qty <= 0 or qty >= MAX_QUANTITY or qty != qty.quantize(Decimal("0.01")):
                    raise ValueError
                qty = qty.quantize(Decimal("0.01"))
            except (InvalidOperation, ValueError):
                errors[f"lines.{i}.quantity"] = _("The quantity must be a positive number with at most 2 decimals.")
                qty = Decimal(1)
        raw_price = product.list_price if _blank(line.unit_price) and product is not None else line.unit_price
        price = _money(raw_price, f"lines.{i}.unit_price", errors)
        out.append(
            OpportunityLine(
                description=desc,
                quantity=qty,
                unit_price=price or ZERO,
                product_id=product.id if product is not None else None,
            )
        )
    if errors:
        raise InvalidInput(errors)
    if lines_total(out) >= Decimal("10000000000000"):
        raise InvalidInput({"amount": _("This amount is too large.")})
    return out


def _amount_from_lines(raw: dict[str, Any], values: dict[str, Any], lines: list[OpportunityLine]) -> None:
    """With lines, the amount is their sum: an amount typed beside them must agree."""
    total = lines_total(lines)
    if not _blank(raw.get("amount")) and values.get("amount") is not None and values["amount"] != total:
        shown = f"¥{total:,.2f}"  # formatted first: pybabel skips gettext calls holding f-strings
        raise InvalidInput({"amount": _("With product lines the amount is their sum, %(total)s.", total=shown)})
    values["amount"] = total


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
    if lines:
        _amount_from_lines(data.values, values, lines)
    opp = Opportunity(**values)
    if lines:
        opp.lines = lines
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
    kept = lines if lines is not None else list(opp.lines)
    if kept:
        _amount_from_lines(raw, values, kept)
    for k, v in values.items():
        setattr(opp, k, v)
    changes = changes_of(opp, list(OPPORTUNITY_FIELDS))
    if lines is not None:
        before = [(ln.product_id, ln.description, str(ln.quantity), str(ln.unit_price)) for ln in opp.lines]
        after = [(ln.product_id, ln.description, str(ln.quantity), str(ln.unit_price)) for ln in lines]
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

    @property
    def has_more(self) -> bool:
        return self.count > len(self.cards)


# Cards per column on the board; "Load more" fetches the next ones. A column's count and sums
# are always over all its visible opportunities, computed in SQL.
BOARD_PAGE = 50


def _card_order() -> tuple[Any, ...]:
    """Nearest expected close first, undated last, then id: the key of the keyset."""
    return (Opportunity.expected_close.asc().nulls_last(), Opportunity.id.asc())


def _card_options() -> tuple[Any, ...]:
    return (
        joinedload(Opportunity.customer),
        joinedload(Opportunity.stage),
        joinedload(Opportunity.owner).joinedload(Membership.user),
        joinedload(Opportunity.lost_reason),
    )


def _weighted_fen() -> Any:
    """One opportunity's weighted amount in fen, rounded half-up per row like Opportunity.weighted_amount.

    amount is stored as integer fen, so this is integer arithmetic on every backend (no float,
    no numeric-scale surprises): the column's weighted sum is the sum of the cards' rounded values.
    """
    fen = type_coerce(Opportunity.amount, BigInteger)
    prob = Opportunity.probability
    return case(
        (fen >= 0, (fen * prob + 50) // 100),
        else_=-((-fen * prob + 50) // 100),
    )


def _board_scoped(stmt: Any, actor: Membership) -> Any:
    """``stmt`` over opportunities, limited to what ``actor`` reads: opportunity_filter, as a join.

    For a limited scope the customer is joined (it always exists: customer_id is a non-null
    foreign key) and customer_filter applies to it directly, so PostgreSQL reads each
    opportunity's customer once by primary key instead of running a subplan per row.
    """
    if not can(actor, "sales.access"):
        return stmt.where(false())
    visible = visible_member_ids(actor)
    if visible is None:
        return stmt
    return stmt.join(Customer, Customer.id == Opportunity.customer_id).where(
        or_(Opportunity.owner_id.in_(visible), customer_filter(actor))
    )


def board(actor: Membership, pipe: Pipeline, per_column: int = BOARD_PAGE) -> list[Column]:
    """One column per stage with its first cards and its true count, sum and weighted sum.

    Four statements whatever the data size: the stages, the totals (one grouped statement),
    the ids of the first ``per_column`` cards of every column (one windowed statement) and
    those cards with their customer, owner and lost reason.
    """
    stages = list(db.session.scalars(select(Stage).where(Stage.pipeline_id == pipe.id).order_by(Stage.position)))
    cols = OrderedDict((s.id, Column(s, [])) for s in stages)
    totals = db.session.execute(
        _board_scoped(
            select(
                Opportunity.stage_id,
                func.count(Opportunity.id),
                func.coalesce(func.sum(type_coerce(Opportunity.amount, BigInteger)), 0),
                func.coalesce(func.sum(_weighted_fen()), 0),
            ),
            actor,
        )
        .where(Opportunity.pipeline_id == pipe.id)
        .group_by(Opportunity.stage_id)
    ).all()
    for stage_id, count, total_fen, weighted_fen in totals:
        col = cols.get(stage_id)
        if col is not None:
            col.count = int(count)
            col.total = (Decimal(int(total_fen)) / 100).quantize(ZERO)
            col.weighted = (Decimal(int(weighted_fen)) / 100).quantize(ZERO)
    if not any(c.count for c in cols.values()):
        return list(cols.values())
    ranked = (
        _board_scoped(
            select(
                Opportunity.id.label("id"),
                func.row_number().over(partition_by=Opportunity.stage_id, order_by=_card_order()).label("rn"),
            ),
            actor,
        )
        .where(Opportunity.pipeline_id == pipe.id)
        .subquery()
    )
    # The ids first: joined to the window directly, PostgreSQL cannot tell that only a few
    # hundred rows survive rn <= N and hashes the whole customers table for them.
    ids = list(db.session.scalars(select(ranked.c.id).where(ranked.c.rn <= per_column)))
    cards = db.session.scalars(
        select(Opportunity).where(Opportunity.id.in_(ids)).order_by(*_card_order()).options(*_card_options())
    ).unique()
    for opp in cards:
        col = cols.get(opp.stage_id)
        if col is not None:
            col.cards.append(opp)
    return list(cols.values())


def board_cursor(opp: Opportunity) -> dict[str, Any]:
    """The keyset of the card after which "Load more" continues."""
    return {"close": opp.expected_close.isoformat() if opp.expected_close else "", "after": opp.id}


def more_cards(
    actor: Membership, stage: Stage, close: date | None, after_id: int | None, limit: int = BOARD_PAGE
) -> tuple[list[Opportunity], bool]:
    """The stage's visible cards after (close, after_id) in board order: up to ``limit``, and whether more follow."""
    if after_id is None:  # from the first card
        after: Any = true()
    elif close is None:  # the cursor is among the undated cards, which come last
        after = (Opportunity.expected_close.is_(None)) & (Opportunity.id > after_id)
    else:
        after = or_(
            Opportunity.expected_close > close,
            (Opportunity.expected_close == close) & (Opportunity.id > after_id),
            Opportunity.expected_close.is_(None),
        )
    rows = list(
        db.session.scalars(
            _board_scoped(select(Opportunity), actor)
            .where(Opportunity.pipeline_id == stage.pipeline_id, Opportunity.stage_id == stage.id, after)
            .order_by(*_card_order())
            .limit(limit + 1)
            .options(*_card_options())
        ).unique()
    )
    return rows[:limit], len(rows) > limit


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
