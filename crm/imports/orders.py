"""Historical orders: the hand-made sales ledger (销售台账) into orders, through crm.orders.services.

Rows sharing a 订单号 are one order (its lines); a row without one is an order of its own. The
key that makes a re-import update instead of duplicate: the 订单号 (the order keeps it as its
number), else a stable hash of date + normalised customer name + product + amount, kept in the
import's change log (so it matches orders an earlier import of the ledger created and that were
not undone). Customers are matched by credit code, else by normalised name, and created when
missing (owned by the row's salesperson); products by code, else by name — an unknown product is
a listed problem (import the products first: a made-up product would pollute the catalogue).
Salespeople are matched to members; unknown names are listed and their rows refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.catalog.models import VAT_RATES, Product
from crm.catalog.pricing import line_amounts
from crm.db import db
from crm.imports.models import ImportBatch, ImportChange
from crm.imports.values import fold
from crm.orders import services as orders
from crm.orders.models import Order
from crm.sales import rules
from crm.sales.models import Customer
from crm.sales.services import CustomerInput, InvalidInput, create_customer
from crm.sales.visibility import can_edit
from roles.checks import PermissionDenied
from roles.scopes import visible_member_ids
from tenants.models import Membership, Tenant

KIND = "orders"
OBJECT_TYPE = "order"
DEFAULT_RATE = Decimal("0.13")
CENT = Decimal("0.01")
STATUS_WORDS = {
    "delivered": ("已发货", "已交付", "已完成", "完成", "已签收", "已送达", "发货", "delivered", "done", "completed"),
    "pending": ("未发货", "待发货", "进行中", "已下单", "新建", "待交付", "pending", "open", "new"),
    "cancelled": ("已取消", "取消", "作废", "已作废", "cancelled", "canceled"),
}


@dataclass
class OrderGroup:
    key: str  # "n:<订单号>" or "h:<hash>"
    number: str | None
    rows: list[int] = field(default_factory=list)
    customer_id: int | None = None
    customer_key: str = ""  # normalised name (a customer to create)
    customer_name: str = ""
    customer_uscc: str | None = None
    includes_tax: bool = False
    status: str = "pending"
    target_id: int | None = None


def _fold_key(text: str) -> str:
    return fold(text).replace(" ", "").lower()


def _status(text: str | None) -> tuple[str | None, str | None]:
    if not text:
        return "pending", None
    t = _fold_key(text)
    for key, words in STATUS_WORDS.items():
        if t in {_fold_key(w) for w in words}:
            return key, None
    return None, _("Unknown status %(value)s: use 已发货, 未发货 or 已取消.", value=text)


def row_hash(when: date, customer_key: str, product_key: str, amount: Decimal | None) -> str:
    raw = f"{when.isoformat()}|{customer_key}|{product_key}|{amount if amount is not None else ''}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def _nearest_rate(excl: Decimal, incl: Decimal) -> Decimal | None:
    if excl <= 0:
        return None
    for rate in VAT_RATES:
        if abs((excl * (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP) - incl) <= CENT:
            return rate
    return None


def _price_line(p: Any, r: Any, product: Product | None, problem: Callable[..., None]) -> None:
    """The line's quantity, unit price, VAT rate and tax basis from what the row gives: a unit
    price, an amount excluding tax, an amount including tax, a rate — checked against each other."""
    v = r.values
    qty: Decimal = v.get("quantity") or Decimal("1")
    if qty <= 0:
        problem(r, "quantity", _("Enter a quantity above zero."))
        return
    excl, incl, price, rate = v.get("amount"), v.get("amount_incl"), v.get("unit_price"), v.get("tax_rate")
    if rate is None and excl is not None and incl is not None:
        rate = _nearest_rate(excl, incl)
        if rate is None:
            problem(r, "amount_incl", _("The amount including VAT does not match any VAT rate on the amount."))
            return
    if rate is None:
        rate = product.vat_rate if product is not None else DEFAULT_RATE
    includes_tax = price is None and excl is None and incl is not None
    if price is None:
        base = incl if includes_tax else excl
        price = (base / qty).quantize(CENT, rounding=ROUND_HALF_UP)  # type: ignore[operator]
    if price < 0:
        problem(
            r, "unit_price" if v.get("unit_price") is not None else "amount", _("Negative amounts are not imported.")
        )
        return
    a = line_amounts(qty, price, rate, includes_tax=includes_tax)
    if excl is not None and abs(a.excl - excl) > CENT:
        problem(r, "amount", _("The amount %(amount)s does not match quantity × unit price (%(computed)s).",
                               amount=f"{excl:,.2f}", computed=f"{a.excl:,.2f}"))  # fmt: skip
        return
    if incl is not None and abs(a.incl - incl) > CENT:
        problem(r, "amount_incl", _("The amount including VAT %(amount)s does not match the line (%(computed)s).",
                                    amount=f"{incl:,.2f}", computed=f"{a.incl:,.2f}"))  # fmt: skip
        return
    v["line"] = {"product_id": product.id if product else None, "quantity": str(qty), "unit_price": str(price),
                 "tax_rate": str(rate)}  # fmt: skip
    v["includes_tax"] = includes_tax
    v["amount_key"] = excl if excl is not None else incl if incl is not None else a.excl


def plan_rows(actor: Membership, p: Any) -> None:
    from crm.imports.services import _member_names

    problem = _adder(p)
    by_uscc: dict[str, int] = {}
    by_name: dict[str, int] = {}
    for cid, uscc, norm in db.session.execute(
        select(Customer.id, Customer.uscc, Customer.name_normalized).where(Customer.archived_at.is_(None))
    ):
        if uscc:
            by_uscc[uscc] = cid
        if norm:
            by_name.setdefault(norm, cid)
    products = {x.id: x for x in db.session.scalars(select(Product))}
    p_code = {x.code.lower(): x.id for x in products.values() if x.code}
    p_name: dict[str, int] = {}
    for x in products.values():
        p_name.setdefault(_fold_key(x.name), x.id)
    exact, loose, _names = _member_names()
    visible = visible_member_ids(actor)
    unknown: dict[str, None] = {}
    groups: dict[str, OrderGroup] = {}
    for i, r in enumerate(p.rows):
        v = r.values
        owner = v.pop("owner", None)
        if owner:
            mid = exact.get(owner) or loose.get(rules.fold_width(owner).replace(" ", "").lower())
            if mid is None:
                unknown.setdefault(owner)
                problem(r, "owner", _("Unknown salesperson %(name)s: no active member has this name.", name=owner))
            elif visible is not None and mid not in visible:
                problem(r, "owner", _("You can only assign orders within your team."))
            else:
                v["owner_id"] = mid
        status, reason = _status(v.get("status"))
        if reason:
            problem(r, "status", reason)
        v["status_key"] = status
        product = None
        code, pname = v.get("product_code"), v.get("product")
        pid = p_code.get(code.lower()) if code else None
        if pid is None and pname:  # by name, or a code typed in the product column
            pid = p_name.get(_fold_key(pname)) or p_code.get(fold(pname).lower())
        if pid is None:
            reason = _("No product %(name)s in the catalogue: import the products first.", name=pname or code)
            problem(r, "product_code" if code and not pname else "product", reason)
        else:
            product = products[pid]
        if product is not None:
            _price_line(p, r, product, problem)
        name, uscc = v.get("customer"), v.get("customer_uscc")
        if not name or v.get("date") is None:
            continue
        ckey = rules.normalise_company_name(name)
        cid = by_uscc.get(uscc) if uscc else None
        cid = cid or by_name.get(ckey)
        number = (v.get("order_no") or "").strip() or None
        if number:
            gkey = f"n:{number}"
        else:
            gkey = "h:" + row_hash(v["date"], ckey, _fold_key(code or pname or ""), v.get("amount_key"))
        g = groups.get(gkey)
        if g is None:
            g = groups[gkey] = OrderGroup(
                key=gkey, number=number, customer_id=cid, customer_key=ckey, customer_name=name,
                customer_uscc=uscc, includes_tax=bool(v.get("includes_tax")), status=status or "pending",
            )  # fmt: skip
        elif not number:
            r.action = "duplicate"
            r.problems.append({"row": r.number, "column": p.column_of("customer"),
                               "reason": _("Same sale as row %(row)d.", row=p.rows[g.rows[0]].number)})  # fmt: skip
            continue
        g.rows.append(i)
    _check_groups(actor, p, groups, problem)
    p.unknown_owners = list(unknown)
    p.extra["orders"] = list(groups.values())


def _check_groups(actor: Membership, p: Any, groups: dict[str, OrderGroup], problem: Callable[..., None]) -> None:
    numbers = [g.number for g in groups.values() if g.number]
    by_number = {}
    for i in range(0, len(numbers), 1000):
        for o in db.session.scalars(
            select(Order).where(Order.number.in_(numbers[i : i + 1000])).options(selectinload(Order.lines))
        ):
            by_number[o.number] = o
    by_hash = _imported_before([g.key for g in groups.values() if not g.number])
    customers = {c.id: c for c in db.session.scalars(select(Customer).where(
        Customer.id.in_({g.customer_id for g in groups.values() if g.customer_id})))}  # fmt: skip
    for g in groups.values():
        rows = [p.rows[i] for i in g.rows]
        first = rows[0]
        label = g.number or _("row %(row)d", row=first.number)
        for r in rows[1:]:
            if r.values.get("date") != first.values.get("date") or (
                rules.normalise_company_name(r.values.get("customer") or "") != g.customer_key
            ):
                problem(r, "order_no", _("Order %(number)s has another date or customer on row %(row)d.",
                                         number=label, row=first.number))  # fmt: skip
            if bool(r.values.get("includes_tax")) != g.includes_tax:
                problem(r, "amount_incl", _("The lines of order %(number)s mix amounts with and without VAT.",
                                            number=label))  # fmt: skip
            if r.values.get("status_key") != g.status:
                problem(r, "status", _("The lines of order %(number)s have different statuses.", number=label))
        if g.customer_id is not None:
            c = customers.get(g.customer_id)
            if c is None or not can_edit(actor, c):
                problem(first, "customer", _("You may not add orders for %(name)s.", name=g.customer_name))
        existing = by_number.get(g.number) if g.number else by_hash.get(g.key)
        if existing is not None:
            g.target_id = existing.id
            p.existing[existing.id] = existing
            if existing.customer_id != g.customer_id:
                problem(first, "customer", _("Order %(number)s belongs to another customer.", number=label))
        bad = [r for r in rows if r.problems]
        if bad:
            for r in rows:
                if not r.problems:
                    problem(r, "order_no", _("Order %(number)s is left out: row %(row)d has a problem.",
                                             number=label, row=bad[0].number))  # fmt: skip
            continue
        if existing is None:
            continue
        changed = _changes(existing, g, rows)
        if changed and existing.delivery_status == "cancelled":
            problem(first, "status", _("Order %(number)s is cancelled and cannot change.", number=label))
            continue
        if "lines" in changed and not orders.lines_editable(existing):
            problem(first, "quantity", _("Order %(number)s has deliveries; its lines cannot change.", number=label))
            continue
        if "status" in changed and g.status == "cancelled":
            problem(first, "status", _("Cancel order %(number)s on its page, with a reason.", number=label))
            continue
        for r in rows:
            r.action = "updated" if changed else "unchanged"
            r.target_id = existing.id
            if changed:
                r.changes = {k: (b, a) for k, (b, a) in changed.items()} if r is first else {}


def _line_tuple(x: Any) -> tuple[Any, ...]:
    return (x["product_id"], Decimal(x["quantity"]), Decimal(x["unit_price"]), Decimal(x["tax_rate"]))


def _changes(o: Order, g: OrderGroup, rows: list[Any]) -> dict[str, tuple[Any, Any]]:
    first = rows[0].values
    out: dict[str, tuple[Any, Any]] = {}
    new_lines = [_line_tuple(r.values["line"]) for r in rows]
    old_lines = [(x.product_id, x.quantity, x.unit_price, x.tax_rate) for x in o.lines]
    if new_lines != old_lines or o.prices_include_tax != g.includes_tax:
        out["lines"] = (len(old_lines), len(new_lines))
    if first["date"] != o.order_date:
        out["order_date"] = (o.order_date.isoformat(), first["date"].isoformat())
    if first.get("owner_id") and first["owner_id"] != o.owner_id:
        out["owner_id"] = (o.owner_id, first["owner_id"])
    if first.get("region") and first["region"] != o.province:
        out["province"] = (o.province, first["region"])
    status = "delivered" if g.status == "delivered" else g.status
    current = o.delivery_status if o.delivery_status != "partial" else "pending"
    if status != current:
        out["status"] = (o.delivery_status, status)
    return out


def _imported_before(keys: list[str]) -> dict[str, Order]:
    if not keys:
        return {}
    wanted = set(keys)
    ids: dict[int, str] = {}
    for before, oid in db.session.execute(
        select(ImportChange.before, ImportChange.object_id)
        .join(ImportBatch, ImportBatch.id == ImportChange.batch_id)
        .where(ImportBatch.kind == KIND, ImportBatch.status == "committed", ImportChange.object_type == OBJECT_TYPE)
    ):
        key = (before or {}).get("key")
        if key in wanted:
            ids[oid] = key
    out: dict[str, Order] = {}
    if ids:
        for o in db.session.scalars(select(Order).where(Order.id.in_(ids)).options(selectinload(Order.lines))):
            out[ids[o.id]] = o
    return out


def _adder(p: Any) -> Callable[..., None]:
    def add(r: Any, fkey: str, reason: str) -> None:
        r.problems.append({"row": r.number, "column": p.column_of(fkey), "reason": reason})

    return add


# ---------------------------------------------------------------- commit


def commit_orders(
    tenant: Tenant, actor: Membership, batch: ImportBatch, p: Any, progress: Callable[[int, str], None]
) -> list[dict[str, Any]]:
    """Create or update each good order through crm.orders.services; customers missing are
    created through crm.sales.services. Returns the change log rows (orders and customers)."""
    groups = [g for g in p.extra.get("orders", []) if all(p.rows[i].action in ("new", "updated") for i in g.rows)]
    changes: list[dict[str, Any]] = []
    created_customers: dict[str, Customer] = {}
    problem = _adder(p)
    refused = 0
    outer = db.session.begin_nested()
    for n, g in enumerate(groups, start=1):
        rows = [p.rows[i] for i in g.rows]
        mine: list[dict[str, Any]] = []
        known = set(created_customers)

        def log(row: int, otype: str, oid: int, action: str, before: dict[str, Any] | None,
                mine: list[dict[str, Any]] = mine) -> None:  # fmt: skip
            mine.append({"tenant_id": tenant.id, "batch_id": batch.id, "row_number": row, "object_type": otype,
                         "object_id": oid, "action": action, "before": before})  # fmt: skip

        savepoint = db.session.begin_nested()
        try:
            _write(tenant, actor, batch, p, g, rows, created_customers, log)
            savepoint.commit()
        except (InvalidInput, PermissionDenied) as err:
            savepoint.rollback()
            for k in set(created_customers) - known:
                del created_customers[k]
            refused += 1
            errors = getattr(err, "errors", None) or {"": _("You may not change this order.")}
            reason = "; ".join(str(x) for x in errors.values())
            for r in rows:
                problem(r, "order_no", reason)
                r.action = "invalid"
            continue
        changes.extend(mine)
        if n % 100 == 0:
            progress(10 + int(80 * n / len(groups)), _("Adding orders"))
    if refused and batch.mode == "all":
        outer.rollback()
        raise InvalidInput({"mode": _("%(n)d orders were refused; nothing was imported.", n=refused)})
    outer.commit()
    return changes


def _write(tenant: Tenant, actor: Membership, batch: ImportBatch, p: Any, g: OrderGroup, rows: list[Any],
           created_customers: dict[str, Customer], log: Callable[..., None]) -> None:  # fmt: skip
    first = rows[0]
    v = first.values
    data = orders.OrderInput(
        lines=[dict(r.values["line"]) for r in rows],
        order_date=v["date"],
        province=v.get("region"),
        city=v.get("city"),
        owner_id=v.get("owner_id"),
        prices_include_tax=g.includes_tax,
        notes=v.get("notes"),
    )
    if g.target_id is not None:
        o = p.existing[g.target_id]
        before = _snapshot(o)
        sent = {"lines", "prices_include_tax", "order_date"}
        sent |= {k for k, f in (("province", "region"), ("city", "city"), ("owner_id", "owner_id")) if v.get(f)}
        data.fields_sent = sent
        orders.update_order(actor, o, data)
        if g.status == "delivered" and o.delivery_status != "delivered":
            orders.record_delivery(actor, o, {x.id: x.quantity for x in o.lines})
        log(first.number, OBJECT_TYPE, o.id, "updated", before)
        return
    customer = _customer(actor, g, v, created_customers, log, first.number)
    data.fields_sent = {k for k, f in (("province", "region"), ("city", "city")) if v.get(f)}
    o = orders.create_order(actor, tenant, customer, data)
    if g.number:
        o.number = g.number
        db.session.flush()
    if g.status == "delivered":
        orders.record_delivery(actor, o, {x.id: x.quantity for x in o.lines})
    elif g.status == "cancelled":
        orders.cancel_order(actor, o, _("Imported as cancelled from %(file)s", file=batch.filename))
    log(first.number, OBJECT_TYPE, o.id, "created", {"key": g.key})


def _customer(actor: Membership, g: OrderGroup, v: dict[str, Any], created: dict[str, Customer],
              log: Callable[..., None], row: int) -> Customer:  # fmt: skip
    if g.customer_id is not None:
        c = db.session.get(Customer, g.customer_id)
        assert c is not None
        return c
    if g.customer_key in created:
        return created[g.customer_key]
    values: dict[str, Any] = {"name": g.customer_name}
    if g.customer_uscc:
        values["uscc"] = g.customer_uscc
    if v.get("region"):
        values["province"] = v["region"]
    if v.get("city"):
        values["city"] = v["city"]
    if v.get("owner_id"):
        values["owner_id"] = v["owner_id"]
    try:
        c = create_customer(actor, CustomerInput(values=values, confirm_duplicates=True))
    except InvalidInput as err:
        raise InvalidInput(
            {"customer": f"{g.customer_name}: " + "; ".join(str(x) for x in err.errors.values())}
        ) from err
    created[g.customer_key] = c
    log(row, "customer", c.id, "created", None)
    return c


def _snapshot(o: Order) -> dict[str, Any]:
    return {
        "order_date": o.order_date.isoformat(), "province": o.province, "city": o.city, "owner_id": o.owner_id,
        "prices_include_tax": o.prices_include_tax, "delivered": o.delivery_status == "delivered",
        "lines": [{"product_id": x.product_id, "description": x.description, "quantity": str(x.quantity),
                   "unit_price": str(x.unit_price), "tax_rate": str(x.tax_rate),
                   "discount_pct": str(x.discount_pct)} for x in o.lines],
    }  # fmt: skip


# ---------------------------------------------------------------- undo


def undo_orders(tenant: Tenant, actor: Membership, batch: ImportBatch) -> dict[str, int]:
    """Orders the import created are deleted (kept, and reported, when an invoice or another
    record refers to them since), customers it created likewise; orders it updated get their
    header, lines and delivery back."""
    from crm.imports.services import _referenced

    changes = list(db.session.scalars(select(ImportChange).where(ImportChange.batch_id == batch.id)))
    result = {"deleted": 0, "kept": 0, "restored": 0}
    made = [c.object_id for c in changes if c.object_type == OBJECT_TYPE and c.action == "created"]
    kept = _referenced("orders", made, ignore=("order_lines",))
    order_ids = {c.object_id for c in changes if c.object_type == OBJECT_TYPE}
    loaded = {o.id: o for o in db.session.scalars(select(Order).where(Order.id.in_(order_ids)))}
    for ch in changes:
        if ch.object_type != OBJECT_TYPE or (o := loaded.get(ch.object_id)) is None:
            continue
        if ch.action == "created":
            if ch.object_id in kept:
                result["kept"] += 1
            else:
                db.session.delete(o)
                result["deleted"] += 1
            continue
        before = ch.before or {}
        if o.delivery_status == "delivered" and not before.get("delivered"):
            orders.record_delivery(actor, o, {x.id: Decimal("0") for x in o.lines})
        orders.update_order(actor, o, orders.OrderInput(
            lines=before.get("lines"), order_date=date.fromisoformat(before["order_date"]),
            province=before.get("province"), city=before.get("city"), owner_id=before.get("owner_id"),
            prices_include_tax=before.get("prices_include_tax"),
            fields_sent={"lines", "prices_include_tax", "order_date", "province", "city", "owner_id"}))  # fmt: skip
        result["restored"] += 1
    db.session.flush()
    made_customers = [c.object_id for c in changes if c.object_type == "customer" and c.action == "created"]
    still_used = _referenced("customers", made_customers)
    for c in db.session.scalars(select(Customer).where(Customer.id.in_(made_customers))):
        if c.id in still_used:
            result["kept"] += 1
        else:
            db.session.delete(c)
            result["deleted"] += 1
    return result
