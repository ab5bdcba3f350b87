"""Orders (订单): taken by hand, from a quote or from a contract; delivery; cancel; delete.

Lines are priced by crm.catalog.pricing (the same arithmetic as quotes). The delivery status is
derived from the lines' delivered quantities: nothing delivered → pending, some → partial,
every line in full → delivered; cancelled is final. Lines (and the tax basis) change only while
nothing is delivered and the order is not cancelled; the header (date, region, rep, notes) while
it is not cancelled. Only a pending order with nothing delivered may be deleted — otherwise it
is cancelled, so the sales ledger keeps its history.

Services take (actor, …), check permission and the customer's visibility (an order follows its
customer, collaborators included), flush and audit; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, type_coerce
from sqlalchemy.orm import joinedload, selectinload

from crm.audit.services import record
from crm.catalog.pricing import ZERO, check_total, line_amounts, parse_lines
from crm.contracts.models import Contract
from crm.db import Money, db
from crm.numbering import next_number
from crm.orders.models import DELIVERY_STATUSES, Order, OrderLine
from crm.quotes.models import Quote
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from crm.sales.visibility import can_edit, can_read, customer_filter
from roles.checks import PermissionDenied, can, ensure
from roles.scopes import visible_member_ids
from tenants.context import require_tenant_id
from tenants.models import Membership, Tenant, User

QUOTE_SOURCES = ("sent", "accepted")  # a quote an order may be taken from
CONTRACT_VAT = Decimal("0.13")  # the single line of an order taken from a contract without a quote
QTY_STEP = Decimal("0.001")


@dataclass
class OrderInput:
    lines: list[dict[str, Any]] | None = None
    order_date: date | None = None
    province: str | None = None
    city: str | None = None
    owner_id: int | None = None
    prices_include_tax: bool | None = None
    notes: str | None = None
    fields_sent: set[str] = field(default_factory=set)


# ---------------------------------------------------------------- reading


def can_read_order(member: Membership, o: Order) -> bool:
    return can_read(member, o.customer) and o.customer.archived_at is None


def can_edit_order(member: Membership, o: Order) -> bool:
    return can_read_order(member, o) and can_edit(member, o.customer)


def _dec(v: Any) -> str:
    return f"{v:.2f}" if isinstance(v, Decimal) else str(v)


def plain_qty(q: Decimal) -> str:
    return format(q.normalize(), "f")


def _summary(o: Order) -> str:
    return f"{o.number} · {o.customer.name} · {o.total_incl}"


# ---------------------------------------------------------------- sources (quote, contract)


def usable_quote(actor: Membership, quote: Quote | None) -> Quote:
    if quote is None or not can_read(actor, quote.customer) or quote.customer.archived_at is not None:
        raise InvalidInput({"quote_id": _("No such quote.")})
    if quote.status not in QUOTE_SOURCES:
        raise InvalidInput({"quote_id": _("Only a sent or accepted quote can become an order.")})
    return quote


def usable_contract(actor: Membership, contract: Contract | None) -> Contract:
    if contract is None or not can_read(actor, contract.customer) or contract.customer.archived_at is not None:
        raise InvalidInput({"contract_id": _("No such contract.")})
    if contract.status != "active":
        raise InvalidInput({"contract_id": _("Only an active contract can become an order.")})
    return contract


def line_inputs(q: Quote | Order) -> list[dict[str, Any]]:
    """A document's lines as raw line input (to prefill a form or copy into an order)."""
    return [
        {
            "product_id": x.product_id,
            "description": x.description,
            "specification": x.specification,
            "unit": x.unit,
            "quantity": plain_qty(x.quantity),
            "unit_price": f"{x.unit_price:.2f}",
            "discount_pct": plain_qty(x.discount_pct),
            "tax_rate": f"{x.tax_rate:.2f}",
        }  # fmt: skip
        for x in q.lines
    ]


def source_lines(quote: Quote | None, contract: Contract | None) -> tuple[list[dict[str, Any]], bool]:
    """The lines (as raw input) and tax basis an order taken from this quote or contract starts with."""
    if contract is not None:
        if contract.quote is not None:
            return line_inputs(contract.quote), contract.quote.prices_include_tax
        line = {"description": contract.title, "quantity": "1", "unit_price": f"{contract.amount:.2f}",
                "tax_rate": f"{CONTRACT_VAT:.2f}", "discount_pct": "0"}  # fmt: skip
        return [line], True
    if quote is not None:
        return line_inputs(quote), quote.prices_include_tax
    return [], False


# ---------------------------------------------------------------- writing


def _check_owner(actor: Membership, customer: Customer, owner_id: int) -> Membership:
    visible = visible_member_ids(actor)
    m = db.session.scalars(
        select(Membership).where(Membership.id == owner_id).options(joinedload(Membership.user))
    ).one_or_none()
    allowed = visible is None or owner_id in visible or owner_id == customer.owner_id
    if m is None or not m.is_active or not can(m, "sales.access") or not allowed:
        raise InvalidInput({"owner_id": _("Choose a sales rep you work with.")})
    return m


def _clean(text: str | None, limit: int) -> str | None:
    return (text or "").strip()[:limit] or None


def _build_lines(raw: list[dict[str, Any]], includes_tax: bool) -> list[OrderLine]:
    return [
        OrderLine(
            position=i,
            product_id=x.product_id,
            description=x.description,
            specification=x.specification,
            unit=x.unit,
            quantity=x.quantity,
            delivered_quantity=Decimal("0"),
            unit_price=x.unit_price,
            discount_pct=x.discount_pct,
            tax_rate=x.tax_rate,
            amount_excl=x.amounts.excl,
            tax=x.amounts.tax,
            amount_incl=x.amounts.incl,
        )  # fmt: skip
        for i, x in enumerate(parse_lines(raw, includes_tax=includes_tax))
    ]


def _recompute(o: Order) -> None:
    amounts = []
    for line in o.lines:
        a = line_amounts(
            line.quantity, line.unit_price, line.tax_rate, line.discount_pct, includes_tax=o.prices_include_tax
        )
        line.amount_excl, line.tax, line.amount_incl = a.excl, a.tax, a.incl
        amounts.append(a)
    t = check_total(amounts)
    o.total_excl, o.total_tax, o.total_incl = t.excl, t.tax, t.incl


def create_order(
    actor: Membership,
    tenant: Tenant,
    customer: Customer,
    data: OrderInput,
    *,
    quote: Quote | None = None,
    contract: Contract | None = None,
) -> Order:
    """By hand, or from a (sent or accepted) quote or an active contract of the same customer.
    Lines left out are taken from the source; lines sent (edited in the form) win."""
    ensure(actor, "sales.access")
    if customer.archived_at is not None or not can_read(actor, customer):
        raise InvalidInput({"customer_id": _("Choose one of your customers.")})
    if not can_edit(actor, customer):
        raise PermissionDenied("sales.access")
    if contract is not None:
        usable_contract(actor, contract)
        if contract.customer_id != customer.id:
            raise InvalidInput({"contract_id": _("The contract belongs to another customer.")})
        quote = contract.quote
    elif quote is not None:
        usable_quote(actor, quote)
    if quote is not None and quote.customer_id != customer.id:
        raise InvalidInput({"quote_id": _("The quote belongs to another customer.")})
    src_lines, src_incl = source_lines(quote, contract)
    includes_tax = src_incl if data.prices_include_tax is None else bool(data.prices_include_tax)
    raw = data.lines if data.lines else src_lines
    if not raw:
        raise InvalidInput({"lines": _("An order needs at least one line.")})
    errors: dict[str, str] = {}
    try:
        lines = _build_lines(raw, includes_tax)
    except InvalidInput as err:
        errors.update(err.errors)
        lines = []
    owner_id = data.owner_id or customer.owner_id or actor.id
    try:
        _check_owner(actor, customer, owner_id)
    except InvalidInput as err:
        if data.owner_id is not None:
            errors.update(err.errors)
        owner_id = actor.id  # the customer's owner left or is no rep: the order is the actor's
    if errors:
        raise InvalidInput(errors)
    order_date = data.order_date or date.today()
    o = Order(
        number="",
        customer=customer,
        customer_id=customer.id,
        contract_id=contract.id if contract else None,
        quote_id=quote.id if quote else None,
        owner_id=owner_id,
        created_by_id=actor.id,
        order_date=order_date,
        province=_clean(data.province, 30) if "province" in data.fields_sent else customer.province,
        city=_clean(data.city, 30) if "city" in data.fields_sent else customer.city,
        delivery_status="pending",
        prices_include_tax=includes_tax,
        notes=_clean(data.notes, 5000),
    )
    o.lines = lines
    _recompute(o)
    o.number = next_number(tenant, "order", order_date)
    db.session.add(o)
    db.session.flush()
    source = {"quote_id": o.quote_id, "contract_id": o.contract_id}
    record("order.created", o, actor=actor, summary=_summary(o), changes={k: v for k, v in source.items() if v})
    return o


def lines_editable(o: Order) -> bool:
    return o.delivery_status == "pending" and all(x.delivered_quantity == 0 for x in o.lines)


HEADER = ("order_date", "province", "city", "owner_id", "notes")


def update_order(actor: Membership, o: Order, data: OrderInput) -> Order:
    if not can_edit_order(actor, o):
        raise PermissionDenied("sales.access")
    if o.delivery_status == "cancelled":
        raise InvalidInput({"delivery_status": _("A cancelled order cannot be changed.")})
    sent = data.fields_sent or {"lines", "prices_include_tax", *HEADER}
    touches_lines = ("lines" in sent and data.lines is not None) or (
        "prices_include_tax" in sent
        and data.prices_include_tax is not None
        and bool(data.prices_include_tax) != o.prices_include_tax
    )
    if touches_lines and not lines_editable(o):
        raise InvalidInput({"lines": _("Lines cannot change once something has been delivered.")})
    errors: dict[str, str] = {}
    new_lines = None
    includes_tax = o.prices_include_tax
    if "prices_include_tax" in sent and data.prices_include_tax is not None:
        includes_tax = bool(data.prices_include_tax)
    if "lines" in sent and data.lines is not None:
        try:
            if not data.lines:
                raise InvalidInput({"lines": _("An order needs at least one line.")})
            new_lines = _build_lines(data.lines, includes_tax)
        except InvalidInput as err:
            errors.update(err.errors)
    if "owner_id" in sent and data.owner_id is not None and data.owner_id != o.owner_id:
        try:
            _check_owner(actor, o.customer, data.owner_id)
        except InvalidInput as err:
            errors.update(err.errors)
    if "order_date" in sent and data.order_date is None:
        errors["order_date"] = _("Enter the order date.")
    if errors:
        raise InvalidInput(errors)
    before = _snapshot(o)
    if "order_date" in sent and data.order_date is not None:
        o.order_date = data.order_date
    if "province" in sent:
        o.province = _clean(data.province, 30)
    if "city" in sent:
        o.city = _clean(data.city, 30)
    if "owner_id" in sent and data.owner_id is not None:
        o.owner_id = data.owner_id
    if "notes" in sent:
        o.notes = _clean(data.notes, 5000)
    o.prices_include_tax = includes_tax
    if new_lines is not None:
        o.lines = new_lines
    _recompute(o)
    db.session.flush()
    after = _snapshot(o)
    changes = {k: {"before": before[k], "after": after[k]} for k in before if before[k] != after[k]}
    if changes or new_lines is not None:
        record("order.updated", o, actor=actor, summary=_summary(o), changes=changes)
    return o


def _snapshot(o: Order) -> dict[str, Any]:
    return {
        "order_date": str(o.order_date), "province": o.province, "city": o.city, "owner_id": o.owner_id,
        "notes": o.notes, "prices_include_tax": o.prices_include_tax, "total_incl": _dec(o.total_incl),
    }  # fmt: skip


def derive_status(lines: list[OrderLine]) -> str:
    if all(x.delivered_quantity >= x.quantity for x in lines):
        return "delivered"
    if any(x.delivered_quantity > 0 for x in lines):
        return "partial"
    return "pending"


def record_delivery(actor: Membership, o: Order, delivered: dict[int, Any]) -> Order:
    """Set the delivered quantity of lines (line id → quantity, 0 … ordered); the status follows."""
    if not can_edit_order(actor, o):
        raise PermissionDenied("sales.access")
    if o.delivery_status == "cancelled":
        raise InvalidInput({"delivery_status": _("A cancelled order cannot be delivered.")})
    by_id = {x.id: (i, x) for i, x in enumerate(o.lines)}
    errors: dict[str, str] = {}
    parsed: dict[int, Decimal] = {}
    for line_id, raw in delivered.items():
        if line_id not in by_id:
            errors["lines"] = _("No such line on this order.")
            continue
        i, line = by_id[line_id]
        try:
            qty = Decimal(str(raw).strip().replace(",", "")) if raw not in (None, "") else Decimal("0")
        except InvalidOperation:
            qty = None
        if qty is None or not qty.is_finite() or qty < 0 or qty > line.quantity or qty != qty.quantize(QTY_STEP):
            errors[f"lines.{i}.delivered_quantity"] = _(
                "Enter a delivered quantity from 0 to %(max)s.", max=plain_qty(line.quantity)
            )
            continue
        parsed[line_id] = qty
    if errors:
        raise InvalidInput(errors)
    changes: dict[str, Any] = {}
    for line_id, qty in parsed.items():
        i, line = by_id[line_id]
        if qty != line.delivered_quantity:
            changes[f"lines.{i}.delivered_quantity"] = {
                "before": plain_qty(line.delivered_quantity), "after": plain_qty(qty),
            }  # fmt: skip
            line.delivered_quantity = qty
    old = o.delivery_status
    o.delivery_status = derive_status(o.lines)
    if old != o.delivery_status:
        changes["delivery_status"] = {"before": old, "after": o.delivery_status}
    db.session.flush()
    if changes:
        record("order.delivered", o, actor=actor, summary=_summary(o), changes=changes)
    return o


def cancel_order(actor: Membership, o: Order, reason: str | None) -> Order:
    if not can_edit_order(actor, o):
        raise PermissionDenied("sales.access")
    if o.delivery_status == "cancelled":
        raise InvalidInput({"delivery_status": _("The order is already cancelled.")})
    if o.delivery_status == "delivered":
        raise InvalidInput({"delivery_status": _("A fully delivered order cannot be cancelled.")})
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput({"reason": _("Say why the order is cancelled.")})
    reason = reason[:500]
    old = o.delivery_status
    o.delivery_status = "cancelled"
    note = _("Cancelled on %(date)s: %(reason)s", date=date.today().isoformat(), reason=reason)
    o.notes = f"{o.notes}\n{note}" if o.notes else note
    db.session.flush()
    record(
        "order.cancelled", o, actor=actor, summary=_summary(o),
        changes={"delivery_status": {"before": old, "after": "cancelled"}, "reason": reason},
    )  # fmt: skip
    return o


def delete_order(actor: Membership, o: Order) -> None:
    if not can_edit_order(actor, o):
        raise PermissionDenied("sales.access")
    if not lines_editable(o):
        raise InvalidInput(
            {"delivery_status": _("Only a pending order with nothing delivered can be deleted; cancel it instead.")}
        )
    record("order.deleted", o, actor=actor, summary=_summary(o))
    db.session.delete(o)
    db.session.flush()


# ---------------------------------------------------------------- listing


@dataclass
class OrderQuery:
    delivery_status: str | None = None
    customer_id: int | None = None
    q: str | None = None  # customer name
    owner_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    page_size: int = 50


@dataclass
class OrderPage:
    rows: list[Order]
    total: int
    sum_incl: Decimal


def _like(term: str) -> str:
    return "%" + term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_orders(actor: Membership, query: OrderQuery) -> OrderPage:
    """The orders of the customers the actor can see, newest first; the count and the sum
    including tax of the whole filtered set come from one SQL statement."""
    ensure(actor, "sales.access")
    conds: list[Any] = [customer_filter(actor), Customer.archived_at.is_(None)]
    if query.delivery_status:
        if query.delivery_status not in DELIVERY_STATUSES:
            raise InvalidInput({"delivery_status": _("Unknown delivery status.")})
        conds.append(Order.delivery_status == query.delivery_status)
    if query.customer_id is not None:
        conds.append(Order.customer_id == query.customer_id)
    if query.q:
        like = _like(query.q.strip())
        conds.append(
            or_(func.lower(Customer.name).like(like, escape="\\"), func.lower(Order.number).like(like, escape="\\"))
        )
    if query.owner_id is not None:
        conds.append(Order.owner_id == query.owner_id)
    if query.date_from is not None:
        conds.append(Order.order_date >= query.date_from)
    if query.date_to is not None:
        conds.append(Order.order_date <= query.date_to)
    base = select(Order).join(Customer, Customer.id == Order.customer_id).where(*conds)
    agg = (
        select(func.count(Order.id), type_coerce(func.coalesce(func.sum(Order.total_incl), 0), Money()))
        .select_from(Order)
        .join(Customer, Customer.id == Order.customer_id)
        .where(*conds)
    )
    total, sum_incl = db.session.execute(agg).one()
    rows = db.session.scalars(
        base.options(joinedload(Order.customer), joinedload(Order.owner).joinedload(Membership.user))
        .order_by(Order.order_date.desc(), Order.id.desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    ).unique()
    return OrderPage(list(rows), int(total or 0), sum_incl if sum_incl is not None else ZERO)


def load_order(order_id: int) -> Order | None:
    """One order of the current tenant with its lines, customer, rep, quote and contract."""
    return (
        db.session.scalars(
            select(Order)
            .where(Order.id == order_id, Order.tenant_id == require_tenant_id())
            .options(
                selectinload(Order.lines),
                joinedload(Order.customer),
                joinedload(Order.owner).joinedload(Membership.user),
                joinedload(Order.quote),
                joinedload(Order.contract),
            )
        )
        .unique()
        .one_or_none()
    )


def rep_choices(actor: Membership) -> list[tuple[int, str]]:
    """Active sales reps in the actor's scope (for the rep select and filter)."""
    visible = visible_member_ids(actor)
    stmt = (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.is_active.is_(True))
        .options(joinedload(Membership.user))
        .order_by(Membership.id)
    )
    if visible is not None:
        stmt = stmt.where(Membership.id.in_(visible))
    return [(m.id, m.user.name) for m in db.session.scalars(stmt) if can(m, "sales.access")]
