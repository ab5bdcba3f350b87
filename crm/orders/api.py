"""/api/v1/orders: the same rules as the UI; an order follows its customer's visibility."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.api.errors import fail, object_first
from crm.catalog.api import PricedLineSchema
from crm.contracts.models import Contract
from crm.db import db
from crm.orders import services
from crm.orders.models import DELIVERY_STATUSES, Order
from crm.quotes.models import Quote
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from crm.sales.visibility import can_read
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, require

orders_bp = Blueprint("api_orders", __name__, url_prefix="/orders", description="Orders (订单)")


class OrderLineSchema(PricedLineSchema):
    delivered_quantity = fields.Decimal(as_string=True, dump_only=True)


class OrderSummarySchema(Schema):
    id = fields.Integer(dump_only=True)
    number = fields.String(dump_only=True)
    customer_id = fields.Integer(required=True)
    contract_id = fields.Integer(allow_none=True, metadata={"description": "take the order from this active contract"})
    quote_id = fields.Integer(allow_none=True, metadata={"description": "take the order from this sent/accepted quote"})
    owner_id = fields.Integer(allow_none=True, metadata={"description": "the rep; defaults to the customer's owner"})
    created_by_id = fields.Integer(dump_only=True, allow_none=True)
    order_date = fields.Date(metadata={"description": "defaults to today"})
    province = fields.String(allow_none=True, validate=validate.Length(max=30))
    city = fields.String(allow_none=True, validate=validate.Length(max=30))
    delivery_status = fields.String(dump_only=True, metadata={"description": "pending, partial, delivered, cancelled"})
    prices_include_tax = fields.Boolean(
        allow_none=True, metadata={"description": "defaults to the quote's (contract: true, by hand: false)"}
    )
    total_excl = fields.Decimal(as_string=True, dump_only=True)
    total_tax = fields.Decimal(as_string=True, dump_only=True)
    total_incl = fields.Decimal(as_string=True, dump_only=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    created_at = fields.DateTime(dump_only=True)


class OrderSchema(OrderSummarySchema):
    lines = fields.List(
        fields.Nested(OrderLineSchema), metadata={"description": "required by hand; from a quote or contract, optional"}
    )


class OrderPatchSchema(Schema):
    order_date = fields.Date()
    province = fields.String(allow_none=True, validate=validate.Length(max=30))
    city = fields.String(allow_none=True, validate=validate.Length(max=30))
    owner_id = fields.Integer()
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    prices_include_tax = fields.Boolean()
    lines = fields.List(fields.Nested(OrderLineSchema))


class OrderQueryArgs(Schema):
    delivery_status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    customer_id = fields.Integer()
    owner_id = fields.Integer()
    date_from = fields.Date()
    date_to = fields.Date()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class OrderPageSchema(Schema):
    items = fields.List(fields.Nested(OrderSummarySchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
    total_incl = fields.Decimal(as_string=True, metadata={"description": "sum including tax of the filtered set"})


class OrderDeliveryLineSchema(Schema):
    line_id = fields.Integer(required=True)
    delivered_quantity = fields.Decimal(as_string=True, required=True, metadata={"description": "0 … quantity"})


class OrderDeliverySchema(Schema):
    lines = fields.List(fields.Nested(OrderDeliveryLineSchema), required=True, validate=validate.Length(min=1))


class OrderCancelSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


def _fail(err: Exception) -> NoReturn:
    fail(err, "You may not change this order.")


def _visible(order_id: int) -> Order:
    o = services.load_order(order_id)
    if o is None or not services.can_read_order(g.member, o):
        abort(404, message="No such order.")
    return o


def _lines(raw: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    return None if raw is None else [dict(x) for x in raw]


def _bad(field: str, msg: str) -> None:
    abort(422, message="Invalid input.", errors={"json": {field: [msg]}})


@orders_bp.route("")
class Orders(MethodView):
    @require("sales.access")
    @orders_bp.arguments(OrderQueryArgs, location="query")
    @orders_bp.response(200, OrderPageSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        query = services.OrderQuery(
            delivery_status=args.get("delivery_status"), customer_id=args.get("customer_id"),
            owner_id=args.get("owner_id"), date_from=args.get("date_from"), date_to=args.get("date_to"),
            page=args["page"], page_size=args["page_size"],
        )  # fmt: skip
        result = services.list_orders(g.member, query)
        return {"items": result.rows, "page": query.page, "page_size": query.page_size, "total": result.total,
                "total_incl": result.sum_incl}  # fmt: skip

    @require("sales.access")
    @orders_bp.arguments(OrderSchema)
    @orders_bp.response(201, OrderSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        customer = get_in_tenant(Customer, data["customer_id"])
        if customer is None or customer.archived_at is not None or not can_read(g.member, customer):
            _bad("customer_id", "No such customer.")
        quote = contract = None
        try:
            if data.get("contract_id") is not None:
                contract = services.usable_contract(g.member, get_in_tenant(Contract, data["contract_id"]))
            elif data.get("quote_id") is not None:
                quote = services.usable_quote(g.member, get_in_tenant(Quote, data["quote_id"]))
            sent = {k for k in ("province", "city") if k in data}
            o = services.create_order(
                g.member, g.tenant, customer,
                services.OrderInput(
                    lines=_lines(data.get("lines")), order_date=data.get("order_date"), province=data.get("province"),
                    city=data.get("city"), owner_id=data.get("owner_id"),
                    prices_include_tax=data.get("prices_include_tax"), notes=data.get("notes"), fields_sent=sent,
                ),
                quote=quote, contract=contract,
            )  # fmt: skip
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return o


@orders_bp.route("/<int:order_id>")
class OrderItem(MethodView):
    @require("sales.access")
    @orders_bp.response(200, OrderSchema)
    def get(self, order_id: int):  # type: ignore[no-untyped-def]
        return _visible(order_id)

    @require("sales.access")
    @object_first(_visible)
    @orders_bp.arguments(OrderPatchSchema)
    @orders_bp.response(200, OrderSchema)
    def patch(self, data, order_id: int):  # type: ignore[no-untyped-def]
        o = _visible(order_id)
        if not data:
            return o
        try:
            services.update_order(
                g.member, o,
                services.OrderInput(
                    lines=_lines(data.get("lines")), order_date=data.get("order_date"), province=data.get("province"),
                    city=data.get("city"), owner_id=data.get("owner_id"),
                    prices_include_tax=data.get("prices_include_tax"), notes=data.get("notes"), fields_sent=set(data),
                ),
            )  # fmt: skip
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return o

    @require("sales.access")
    @orders_bp.response(204)
    def delete(self, order_id: int):  # type: ignore[no-untyped-def]
        o = _visible(order_id)
        try:
            services.delete_order(g.member, o)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()


@orders_bp.route("/<int:order_id>/deliveries")
class OrderDeliveries(MethodView):
    @require("sales.access")
    @object_first(_visible)
    @orders_bp.arguments(OrderDeliverySchema)
    @orders_bp.response(200, OrderSchema)
    def post(self, data, order_id: int):  # type: ignore[no-untyped-def]
        """Set the delivered quantity of lines; the delivery status follows."""
        o = _visible(order_id)
        try:
            services.record_delivery(g.member, o, {x["line_id"]: x["delivered_quantity"] for x in data["lines"]})
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return o


@orders_bp.route("/<int:order_id>/cancel")
class OrderCancel(MethodView):
    @require("sales.access")
    @object_first(_visible)
    @orders_bp.arguments(OrderCancelSchema)
    @orders_bp.response(200, OrderSchema)
    def post(self, data, order_id: int):  # type: ignore[no-untyped-def]
        """Cancel (final); the reason goes into the notes and the audit log."""
        o = _visible(order_id)
        try:
            services.cancel_order(g.member, o, data["reason"])
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return o


blueprints = [orders_bp]
