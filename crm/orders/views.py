"""Sales → Orders: list with totals, new (by hand, from a quote or a contract), the order page,
edit, delivery, cancel, delete; and the Orders section of the customer 360° page."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from crm.catalog.services import product_choices
from crm.choices import choices
from crm.contracts.models import Contract
from crm.db import db
from crm.money_words import to_capital
from crm.orders import services
from crm.orders.forms import BLANK_LINES, CancelForm, DeliveryForm, OrderForm
from crm.orders.models import DELIVERY_BADGES as STATUS_BADGES
from crm.orders.models import DELIVERY_LABELS as STATUS_LABELS
from crm.orders.models import DELIVERY_STATUSES, Order
from crm.quotes.forms import LineForm
from crm.quotes.models import Quote
from crm.sales.models import Customer
from crm.sales.picker import customer_options
from crm.sales.sections import Section, register
from crm.sales.services import InvalidInput
from crm.sales.visibility import can_edit, readable_customer
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, can, require
from tenants.models import Membership

bp = Blueprint("orders", __name__, url_prefix="/w/<slug>/sales/orders")

PAGE_SIZE = 50
LINE_FIELDS = ("product_id", "description", "specification", "unit", "quantity", "unit_price", "discount_pct",
               "tax_rate")  # fmt: skip


def _visible_order(order_id: int) -> Order:
    o = services.load_order(order_id)
    if o is None or not services.can_read_order(g.member, o):
        abort(404)
    return o


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


# ---------------------------------------------------------------- list


@bp.get("")
@require("sales.access")
def index():
    a = request.args
    status = a.get("status") if a.get("status") in DELIVERY_STATUSES else None
    page = max(a.get("page", 1, type=int) or 1, 1)
    filters = {
        "status": status, "q": (a.get("q") or "").strip()[:100] or None, "owner_id": a.get("owner_id", type=int),
        "date_from": _date_arg("date_from"), "date_to": _date_arg("date_to"),
    }  # fmt: skip
    result = services.list_orders(
        g.member,
        services.OrderQuery(
            delivery_status=status, q=filters["q"], owner_id=filters["owner_id"], date_from=filters["date_from"],
            date_to=filters["date_to"], page=page, page_size=PAGE_SIZE,
        ),
    )  # fmt: skip
    link_args = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in filters.items() if v is not None}
    return render_template(
        "orders/index.html", result=result, filters=filters, link_args=link_args, page=page,
        pages=max((result.total + PAGE_SIZE - 1) // PAGE_SIZE, 1), reps=services.rep_choices(g.member),
        status_labels=STATUS_LABELS, badges=STATUS_BADGES,
        filtered=any(v is not None for v in filters.values()),
    )  # fmt: skip


# ---------------------------------------------------------------- the form


def _prepare(form: OrderForm, customer: Customer | None, order: Order | None = None) -> LineForm:
    """Choices for every select, one blank row, and the template row "Add line" copies."""
    form.customer_id.choices = choices([(None, "—")] + customer_options(g.member, None, customer))
    reps = services.rep_choices(g.member)
    current = order.owner if order is not None else (customer.owner if customer is not None else None)
    if current is not None and all(mid != current.id for mid, _n in reps):
        reps.append((current.id, current.user.name))
    form.owner_id.choices = choices([(None, _("The customer's owner"))] + reps)
    while len([e for e in form.lines.entries if not e.form.is_blank()]) + BLANK_LINES > len(form.lines.entries):
        form.lines.append_entry()
    products = product_choices()
    for entry in form.lines.entries:
        entry.form.product_id.choices = products
    template = LineForm(prefix="lines-__i__-")
    template.product_id.choices = product_choices
    return template


def _line_data(form: OrderForm) -> list[dict[str, Any]]:
    return [{k: e.form[k].data for k in LINE_FIELDS} for e in form.lines.entries if not e.form.is_blank()]


def _apply_errors(form: OrderForm, errors: dict[str, str]) -> list[str]:
    """Put lines.<n>.<field> errors on the line's field (n counts non-blank lines)."""
    filled = [e.form for e in form.lines.entries if not e.form.is_blank()]
    general = []
    for key, msg in errors.items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(filled):
            filled[int(parts[1])][parts[2]].errors = [msg]
        elif key in form._fields and key not in ("lines", "quote_id", "contract_id"):
            form[key].errors = [msg]
        else:
            general.append(msg)
    return general


def _fill_lines(form: OrderForm, lines: list[dict[str, Any]]) -> None:
    form.lines.entries = []
    form.lines.last_index = -1
    for line in lines:
        form.lines.append_entry({k: line.get(k) for k in LINE_FIELDS})


def _input(form: OrderForm, *, with_lines: bool) -> services.OrderInput:
    sent = {"order_date", "owner_id", "notes"}
    if (form.province.data or "").strip() or (form.city.data or "").strip():
        sent |= {"province", "city"}  # both blank: the customer's region
    if with_lines:
        sent |= {"lines", "prices_include_tax"}
    return services.OrderInput(
        lines=_line_data(form) if with_lines else None, order_date=form.order_date.data,
        province=form.province.data, city=form.city.data, owner_id=form.owner_id.data,
        prices_include_tax=form.prices_include_tax.data if with_lines else None, notes=form.notes.data,
        fields_sent=sent,
    )  # fmt: skip


def _render_form(form, order, customer, source, template, general, lines_editable=True, status=200):  # type: ignore[no-untyped-def]
    return render_template(
        "orders/form.html", form=form, order=order, customer=customer, source=source, line_template=template,
        general=general, lines_editable=lines_editable, blank_lines=BLANK_LINES,
    ), status  # fmt: skip


def _source(form: OrderForm) -> tuple[Quote | None, Contract | None]:
    """The quote or contract the order is taken from (?quote_id= / ?contract_id= or the hidden fields)."""
    quote_id = request.args.get("quote_id", type=int) or _int(form.quote_id.data)
    contract_id = request.args.get("contract_id", type=int) or _int(form.contract_id.data)
    contract = services.usable_contract(g.member, get_in_tenant(Contract, contract_id)) if contract_id else None
    quote = None
    if contract is None and quote_id:
        quote = services.usable_quote(g.member, get_in_tenant(Quote, quote_id))
    return quote, contract


def _int(v: Any) -> int | None:
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


@bp.route("/new", methods=["GET", "POST"])
@require("sales.access")
def new():
    form = OrderForm()
    try:
        quote, contract = _source(form)
    except InvalidInput as err:
        flash(" ".join(err.errors.values()), "danger")
        return redirect(url_for("orders.index"))
    source = contract or quote
    asked = request.args.get("customer_id", type=int)
    customer = source.customer if source is not None else readable_customer(g.member, asked)
    if source is not None:
        form.customer_id.data = customer.id if customer else None
    if request.method == "GET":
        form.quote_id.data = str(quote.id) if quote else ""
        form.contract_id.data = str(contract.id) if contract else ""
        form.order_date.data = date.today()
        if customer is not None:
            form.customer_id.data = customer.id
            form.province.data, form.city.data = customer.province, customer.city
        if source is not None:
            lines, form.prices_include_tax.data = services.source_lines(quote, contract)
            _fill_lines(form, lines)
    template = _prepare(form, customer)
    general: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        target = customer if source is not None else readable_customer(g.member, form.customer_id.data)
        try:
            if target is None:
                raise InvalidInput({"customer_id": _("Choose one of your customers.")})
            o = services.create_order(
                g.member, g.tenant, target, _input(form, with_lines=True), quote=quote, contract=contract
            )
        except InvalidInput as err:
            db.session.rollback()
            general = _apply_errors(form, err.errors)
        except PermissionDenied:
            db.session.rollback()
            abort(403)
        else:
            db.session.commit()
            flash(_("Order %(number)s saved.", number=o.number), "success")
            return redirect(url_for("orders.show", order_id=o.id))
    status = 400 if request.method == "POST" else 200
    return _render_form(form, None, customer, source, template, general, status=status)


@bp.route("/<int:order_id>/edit", methods=["GET", "POST"])
@require("sales.access")
def edit(order_id: int):
    o = _visible_order(order_id)
    if not can_edit(g.member, o.customer):
        abort(403)
    if o.delivery_status == "cancelled":
        flash(_("A cancelled order cannot be changed."), "warning")
        return redirect(url_for("orders.show", order_id=o.id))
    editable = services.lines_editable(o)
    form = OrderForm(obj=o) if request.method == "GET" else OrderForm()
    if request.method == "GET":
        _fill_lines(form, services.line_inputs(o))
    form.customer_id.data = o.customer_id  # the customer of an order does not change
    template = _prepare(form, o.customer, o)
    general: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.update_order(g.member, o, _input(form, with_lines=editable))
        except InvalidInput as err:
            db.session.rollback()
            general = _apply_errors(form, err.errors)
        except PermissionDenied:
            db.session.rollback()
            abort(403)
        else:
            db.session.commit()
            flash(_("Order %(number)s saved.", number=o.number), "success")
            return redirect(url_for("orders.show", order_id=o.id))
    status = 400 if request.method == "POST" else 200
    return _render_form(form, o, o.customer, None, template, general, lines_editable=editable, status=status)


# ---------------------------------------------------------------- the order page and its actions


@bp.get("/<int:order_id>")
@require("sales.access")
def show(order_id: int):
    o = _visible_order(order_id)
    contract_url = url_for("contracts.show", contract_id=o.contract.id) if o.contract is not None else None
    return render_template(
        "orders/show.html", o=o, capital=to_capital(o.total_incl), editable=services.can_edit_order(g.member, o),
        contract_url=contract_url,
        lines_editable=services.lines_editable(o), status_labels=STATUS_LABELS, badges=STATUS_BADGES,
    )  # fmt: skip


@bp.route("/<int:order_id>/delivery", methods=["GET", "POST"])
@require("sales.access")
def delivery(order_id: int):
    o = _visible_order(order_id)
    if not services.can_edit_order(g.member, o):
        abort(403)
    if o.delivery_status == "cancelled":
        flash(_("A cancelled order cannot be delivered."), "warning")
        return redirect(url_for("orders.show", order_id=o.id))
    form = DeliveryForm()
    errors: dict[str, str] = {}
    values = {x.id: services.plain_qty(x.delivered_quantity) for x in o.lines}
    if request.method == "POST" and form.validate_on_submit():
        sent = {x.id: request.form.get(f"delivered-{x.id}", "") for x in o.lines}
        values.update(sent)
        try:
            services.record_delivery(g.member, o, sent)
        except InvalidInput as err:
            db.session.rollback()
            errors = err.errors
        else:
            db.session.commit()
            flash(_("Delivery of %(number)s recorded.", number=o.number), "success")
            return redirect(url_for("orders.show", order_id=o.id))
    status = 400 if request.method == "POST" else 200
    line_errors = {x.id: errors.get(f"lines.{i}.delivered_quantity") for i, x in enumerate(o.lines)}
    return render_template(
        "orders/delivery.html", o=o, form=form, values=values, line_errors=line_errors,
        general=[v for k, v in errors.items() if not k.startswith("lines.")], status_labels=STATUS_LABELS,
        badges=STATUS_BADGES,
    ), status  # fmt: skip


@bp.route("/<int:order_id>/cancel", methods=["GET", "POST"])
@require("sales.access")
def cancel(order_id: int):
    o = _visible_order(order_id)
    if not services.can_edit_order(g.member, o):
        abort(403)
    form = CancelForm()
    general: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.cancel_order(g.member, o, form.reason.data)
        except InvalidInput as err:
            db.session.rollback()
            general = list(err.errors.values())
        else:
            db.session.commit()
            flash(_("Order %(number)s cancelled.", number=o.number), "success")
            return redirect(url_for("orders.show", order_id=o.id))
    status = 400 if request.method == "POST" else 200
    return render_template("orders/cancel.html", o=o, form=form, general=general), status


@bp.post("/<int:order_id>/delete")
@require("sales.access")
def delete(order_id: int):
    o = _visible_order(order_id)
    number = o.number
    try:
        services.delete_order(g.member, o)
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    except InvalidInput as err:
        db.session.rollback()
        flash(" ".join(err.errors.values()), "danger")
        return redirect(url_for("orders.show", order_id=o.id))
    db.session.commit()
    flash(_("Order %(number)s deleted.", number=number), "success")
    return redirect(url_for("orders.index"))


# ---------------------------------------------------------------- the customer 360° page


def _customer_orders(member: Membership, customer: Customer) -> dict[str, Any] | None:
    """The customer's latest orders (one query; the customer is already visible)."""
    if not can(member, "sales.access"):
        return None
    rows = list(
        db.session.scalars(
            select(Order).where(Order.customer_id == customer.id).order_by(Order.order_date.desc(), Order.id.desc())
            .limit(20)
        )
    )  # fmt: skip
    return {"orders": rows, "status_labels": STATUS_LABELS, "badges": STATUS_BADGES,
            "can_order": can_edit(member, customer)}  # fmt: skip


register(Section(50, "orders/_customer_section.html", _customer_orders))
