"""/api/v1/suppliers, /api/v1/invoices, /api/v1/bills: the same rules as the finance pages
(finance.access; another workspace's object is 404)."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.api.errors import fail, object_first
from crm.catalog.api import PricedLineSchema
from crm.contracts.models import Contract, ContractPayment
from crm.db import db
from crm.invoicing import services
from crm.invoicing.models import STATUSES, Invoice, Supplier
from crm.orders.models import Order
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, require

suppliers_bp = Blueprint("api_suppliers", __name__, url_prefix="/suppliers", description="Suppliers (供应商)")
invoices_bp = Blueprint("api_invoices", __name__, url_prefix="/invoices", description="Customer invoices (应收单)")
bills_bp = Blueprint("api_bills", __name__, url_prefix="/bills", description="Supplier bills (应付单)")


class SupplierSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(validate=validate.Length(max=200))
    uscc = fields.String(allow_none=True, validate=validate.Length(max=30))
    uscc_override_reason = fields.String(
        load_only=True, allow_none=True, metadata={"description": "keep a code that fails its check"}
    )
    contact_name = fields.String(allow_none=True, validate=validate.Length(max=60))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    email = fields.String(allow_none=True, validate=validate.Length(max=254))
    address = fields.String(allow_none=True, validate=validate.Length(max=255))
    bank_name = fields.String(allow_none=True, validate=validate.Length(max=120))
    bank_account = fields.String(allow_none=True, validate=validate.Length(max=60))
    payment_terms_days = fields.Integer(allow_none=True, metadata={"description": "0–365, default 30"})
    customer_id = fields.Integer(allow_none=True, metadata={"description": "when the supplier is also a customer"})
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    is_active = fields.Boolean()
    created_at = fields.DateTime(dump_only=True)


class SupplierPatchSchema(SupplierSchema):
    pass


class SupplierQuery(Schema):
    q = fields.String(validate=validate.Length(max=100))
    active = fields.Boolean()


class InvoiceLineSchema(PricedLineSchema):
    account_id = fields.Integer(allow_none=True, metadata={"description": "leaf account; blank: the default"})
    order_line_id = fields.Integer(dump_only=True, allow_none=True)


class InvoiceSchema(Schema):
    id = fields.Integer(dump_only=True)
    number = fields.String(dump_only=True)
    direction = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={"description": "draft, posted (open), paid, reversed"})
    customer_id = fields.Integer(allow_none=True)
    supplier_id = fields.Integer(allow_none=True)
    external_number = fields.String(allow_none=True, validate=validate.Length(max=60))
    invoice_date = fields.Date(data_key="date")
    due_date = fields.Date(allow_none=True, metadata={"description": "blank: date + payment terms"})
    prices_include_tax = fields.Boolean()
    memo = fields.String(allow_none=True, validate=validate.Length(max=5000))
    order_id = fields.Integer(dump_only=True, allow_none=True)
    contract_id = fields.Integer(dump_only=True, allow_none=True)
    department_id = fields.Integer(allow_none=True)
    total_excl = fields.Decimal(as_string=True, dump_only=True)
    total_tax = fields.Decimal(as_string=True, dump_only=True)
    total_incl = fields.Decimal(as_string=True, dump_only=True)
    open_amount = fields.Decimal(as_string=True, dump_only=True)
    entry_id = fields.Integer(dump_only=True, allow_none=True)
    reversal_entry_id = fields.Integer(dump_only=True, allow_none=True)
    reversed_on = fields.Date(dump_only=True, allow_none=True)
    posted_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    lines = fields.List(fields.Nested(InvoiceLineSchema))


class InvoicePatchSchema(InvoiceSchema):
    pass


class InvoiceSummarySchema(InvoiceSchema):
    class Meta:
        exclude = ("lines",)


class InvoiceCreateSchema(InvoiceSchema):
    customer = fields.Integer(load_only=True, metadata={"description": "alias of customer_id"})
    supplier = fields.Integer(load_only=True, metadata={"description": "alias of supplier_id"})
    order = fields.Integer(load_only=True, metadata={"description": "build a draft from this order"})
    contract = fields.Integer(load_only=True, metadata={"description": "build a draft from this contract"})
    instalment = fields.Integer(load_only=True, metadata={"description": "with contract: one plan instalment"})


class InvoiceQuery(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    customer = fields.Integer()
    supplier = fields.Integer()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    overdue = fields.Boolean()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class InvoicePageSchema(Schema):
    items = fields.List(fields.Nested(InvoiceSummarySchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
    total_incl = fields.Decimal(as_string=True)
    total_open = fields.Decimal(as_string=True)


class DocumentReverseSchema(Schema):
    date = fields.Date(metadata={"description": "defaults to today"})
    reason = fields.String(allow_none=True, validate=validate.Length(max=200))


class QueueItemSchema(Schema):
    kind = fields.String()
    id = fields.Integer()
    number = fields.String()
    customer_name = fields.String()
    date = fields.Date(allow_none=True)
    amount = fields.Decimal(as_string=True)
    link = fields.String()


def _fail(err: Exception) -> NoReturn:
    fail(err, "You may not do this.")


def _bad(field: str, msg: str) -> NoReturn:
    abort(422, message="Invalid input.", errors={"json": {field: [msg]}})


# ---------------------------------------------------------------- suppliers


def _supplier(supplier_id: int) -> Supplier:
    s = get_in_tenant(Supplier, supplier_id)
    if s is None:
        abort(404, message="No such supplier.")
    return s


@suppliers_bp.route("")
class Suppliers(MethodView):
    @require("finance.access")
    @suppliers_bp.arguments(SupplierQuery, location="query")
    @suppliers_bp.response(200, SupplierSchema(many=True))
    def get(self, args):  # type: ignore[no-untyped-def]
        return services.list_suppliers(args.get("q"), active=args.get("active"), limit=1000)

    @require("finance.access")
    @suppliers_bp.arguments(SupplierSchema)
    @suppliers_bp.response(201, SupplierSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        try:
            s = services.create_supplier(g.tenant, g.member, data)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return s


@suppliers_bp.route("/<int:supplier_id>")
class SupplierItem(MethodView):
    @require("finance.access")
    @suppliers_bp.response(200, SupplierSchema)
    def get(self, supplier_id: int):  # type: ignore[no-untyped-def]
        return _supplier(supplier_id)

    @require("finance.access")
    @object_first(_supplier)
    @suppliers_bp.arguments(SupplierPatchSchema(partial=True))
    @suppliers_bp.response(200, SupplierSchema)
    def patch(self, data, supplier_id: int):  # type: ignore[no-untyped-def]
        s = _supplier(supplier_id)
        if not data:
            return s
        try:
            services.update_supplier(g.tenant, g.member, s, data)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return s


# ---------------------------------------------------------------- invoices and bills (one implementation)


def _doc(direction: str, doc_id: int) -> Invoice:
    inv = get_in_tenant(Invoice, doc_id)
    if inv is None or inv.direction != direction:
        abort(404, message="No such document.")
    return inv


def _input(direction: str, data: dict[str, Any], inv: Invoice | None) -> services.InvoiceInput:
    def pick(key: str, default: Any = None) -> Any:
        if key in data:
            return data[key]
        return getattr(inv, key) if inv is not None else default

    lines = [dict(x) for x in data["lines"]] if "lines" in data else None
    if lines is None and inv is not None:
        lines = [
            {
                "product_id": x.product_id,
                "description": x.description,
                "specification": x.specification,
                "unit": x.unit,
                "quantity": x.quantity,
                "unit_price": x.unit_price,
                "discount_pct": x.discount_pct,
                "tax_rate": x.tax_rate,
                "account_id": x.account_id,
                "order_line_id": x.order_line_id,
            }  # fmt: skip
            for x in inv.lines
        ]
    return services.InvoiceInput(
        direction=direction, invoice_date=pick("invoice_date"),
        customer_id=data.get("customer_id", data.get("customer", inv.customer_id if inv else None)),
        supplier_id=data.get("supplier_id", data.get("supplier", inv.supplier_id if inv else None)),
        due_date=pick("due_date"),
        lines=lines or [], prices_include_tax=bool(pick("prices_include_tax", False)), memo=pick("memo"),
        external_number=pick("external_number"), order_id=inv.order_id if inv else None,
        contract_id=inv.contract_id if inv else None, department_id=pick("department_id"),
    )  # fmt: skip


def _from_crm(data: dict[str, Any]) -> Invoice | None:
    if data.get("order") is not None:
        order = get_in_tenant(Order, data["order"])
        if order is None:
            _bad("order", "No such order.")
        return services.invoice_from_order(g.tenant, g.member, order)
    if data.get("contract") is not None:
        contract = get_in_tenant(Contract, data["contract"])
        if contract is None:
            _bad("contract", "No such contract.")
        payment = None
        if data.get("instalment") is not None:
            payment = get_in_tenant(ContractPayment, data["instalment"])
            if payment is None:
                _bad("instalment", "No such instalment.")
        return services.invoice_from_contract(g.tenant, g.member, contract, payment)
    return None


def _make_views(bp: Blueprint, direction: str, var: str) -> None:
    def doc(doc_id: int) -> Invoice:
        return _doc(direction, doc_id)

    @bp.route("")
    class Documents(MethodView):
        @require("finance.access")
        @bp.arguments(InvoiceQuery, location="query")
        @bp.response(200, InvoicePageSchema)
        def get(self, args):  # type: ignore[no-untyped-def]
            q = services.InvoiceQuery(
                direction=direction, status=args.get("status"), customer_id=args.get("customer"),
                supplier_id=args.get("supplier"), date_from=args.get("from_"), date_to=args.get("to"),
                overdue=bool(args.get("overdue")), page=args["page"], page_size=args["page_size"],
            )  # fmt: skip
            result = services.list_invoices(g.tenant, q)
            return {"items": result.rows, "page": q.page, "page_size": q.page_size, "total": result.total,
                    "total_incl": result.sum_incl, "total_open": result.sum_open}  # fmt: skip

        @require("finance.access")
        @bp.arguments(InvoiceCreateSchema)
        @bp.response(201, InvoiceSchema)
        def post(self, data):  # type: ignore[no-untyped-def]
            try:
                inv = _from_crm(data) if direction == "receivable" else None
                if inv is None:
                    inv = services.create_invoice(g.tenant, g.member, _input(direction, data, None))
            except (InvalidInput, PermissionDenied) as err:
                db.session.rollback()
                _fail(err)
            db.session.commit()
            return inv

    Documents.__name__ = f"{direction.title()}Documents"

    if direction == "receivable":

        @bp.route("/queue")
        class Queue(MethodView):
            @require("finance.access")
            @bp.response(200, QueueItemSchema(many=True))
            def get(self):  # type: ignore[no-untyped-def]
                """Delivered orders and active contracts not invoiced yet ("To invoice")."""
                return services.revenue_queue(g.tenant, g.member)

    @bp.route(f"/<int:{var}>")
    class Document(MethodView):
        @require("finance.access")
        @bp.response(200, InvoiceSchema)
        def get(self, **kw: int):  # type: ignore[no-untyped-def]
            return _doc(direction, kw[var])

        @require("finance.access")
        @object_first(doc)
        @bp.arguments(InvoicePatchSchema(partial=True))
        @bp.response(200, InvoiceSchema)
        def patch(self, data, **kw: int):  # type: ignore[no-untyped-def]
            inv = _doc(direction, kw[var])
            try:
                if inv.status != "draft" or data:
                    services.update_invoice(g.tenant, g.member, inv, _input(direction, data, inv))
            except (InvalidInput, PermissionDenied) as err:
                db.session.rollback()
                _fail(err)
            db.session.commit()
            return inv

        @require("finance.access")
        @bp.response(204)
        def delete(self, **kw: int):  # type: ignore[no-untyped-def]
            inv = _doc(direction, kw[var])
            try:
                services.delete_invoice(g.member, inv)
            except (InvalidInput, PermissionDenied) as err:
                db.session.rollback()
                _fail(err)
            db.session.commit()

    @bp.route(f"/<int:{var}>/post")
    class Post(MethodView):
        @require("finance.access")
        @bp.response(200, InvoiceSchema)
        def post(self, **kw: int):  # type: ignore[no-untyped-def]
            inv = _doc(direction, kw[var])
            try:
                services.post_invoice(g.tenant, g.member, inv)
            except (InvalidInput, PermissionDenied) as err:
                db.session.rollback()
                _fail(err)
            db.session.commit()
            return inv

    @bp.route(f"/<int:{var}>/reverse")
    class Reverse(MethodView):
        @require("finance.access")
        @object_first(doc)
        @bp.arguments(DocumentReverseSchema)
        @bp.response(200, InvoiceSchema)
        def post(self, data, **kw: int):  # type: ignore[no-untyped-def]
            inv = _doc(direction, kw[var])
            try:
                services.reverse_invoice(g.tenant, g.member, inv, data.get("date"), data.get("reason"))
            except (InvalidInput, PermissionDenied) as err:
                db.session.rollback()
                _fail(err)
            db.session.commit()
            return inv


_make_views(invoices_bp, "receivable", "invoice_id")
_make_views(bills_bp, "payable", "bill_id")

blueprints = [suppliers_bp, invoices_bp, bills_bp]
