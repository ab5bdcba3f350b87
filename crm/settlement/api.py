"""/api/v1/receipts, /payments, /allocations, /offsets, /write-offs: the same rules as the UI.
Refusals name the rule (``"rule": "over_allocation"`` …); undoing a settlement is a DELETE that
posts a reversal and keeps the row."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from crm.api.errors import fail, object_first
from crm.db import db
from crm.invoicing.models import Invoice
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from crm.settlement import services
from crm.settlement.models import PAYMENT_STATUSES, Payment, Settlement
from roles.checks import PermissionDenied, require


class CashPaymentSchema(Schema):
    id = fields.Integer(dump_only=True)
    number = fields.String(dump_only=True)
    direction = fields.String(dump_only=True, metadata={"description": "in = receipt, out = payment"})
    customer_id = fields.Integer(dump_only=True, allow_none=True)
    supplier_id = fields.Integer(dump_only=True, allow_none=True)
    account_id = fields.Integer(dump_only=True)
    payment_date = fields.Date(dump_only=True)
    amount = fields.Decimal(as_string=True, dump_only=True)
    unallocated = fields.Decimal(
        as_string=True, dump_only=True, metadata={"description": "customer credit / prepayment"}
    )
    reference = fields.String(dump_only=True, allow_none=True)
    memo = fields.String(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, metadata={"description": "draft, posted, reversed"})
    entry_id = fields.Integer(dump_only=True, allow_none=True)
    reversed_on = fields.Date(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class CashPaymentInSchema(Schema):
    customer = fields.Integer(metadata={"description": "receipts: the customer's id"})
    supplier = fields.Integer(metadata={"description": "payments: the supplier's id"})
    date = fields.Date(metadata={"description": "defaults to today"})
    amount = fields.String(required=True, metadata={"description": "> 0, at most two decimals"})
    account = fields.Integer(metadata={"description": "a bank/cash account; defaults to the bank account"})
    reference = fields.String(allow_none=True, validate=validate.Length(max=100))
    memo = fields.String(allow_none=True, validate=validate.Length(max=5000))
    post = fields.Boolean(load_default=False, metadata={"description": "post at once (else a draft)"})


class CashPaymentPatchSchema(Schema):
    customer = fields.Integer()
    supplier = fields.Integer()
    date = fields.Date()
    amount = fields.String()
    account = fields.Integer()
    reference = fields.String(allow_none=True, validate=validate.Length(max=100))
    memo = fields.String(allow_none=True, validate=validate.Length(max=5000))


class CashPaymentQuery(Schema):
    party = fields.Integer(metadata={"description": "customer (receipts) or supplier (payments) id"})
    status = fields.String(validate=validate.OneOf(PAYMENT_STATUSES))
    date_from = fields.Date()
    date_to = fields.Date()
    unallocated = fields.Boolean(metadata={"description": "only posted ones with money not yet allocated"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class CashPaymentPageSchema(Schema):
    items = fields.List(fields.Nested(CashPaymentSchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


class CashPaymentReverseSchema(Schema):
    date = fields.Date()
    reason = fields.String(allow_none=True, validate=validate.Length(max=200))


class SettlementSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "allocation, offset, write_off"})
    payment_id = fields.Integer(allow_none=True)
    invoice_id = fields.Integer(allow_none=True)
    bill_id = fields.Integer(allow_none=True)
    account_id = fields.Integer(allow_none=True)
    amount = fields.Decimal(as_string=True)
    settled_on = fields.Date()
    reason = fields.String(allow_none=True)
    entry_id = fields.Integer(allow_none=True)
    undone_on = fields.Date(allow_none=True)
    undo_entry_id = fields.Integer(allow_none=True)
    undo_reason = fields.String(allow_none=True)


class SettlementListSchema(Schema):
    items = fields.List(fields.Nested(SettlementSchema))


class SettlementAllocationQuery(Schema):
    payment = fields.Integer()
    invoice = fields.Integer()


class AllocationInSchema(Schema):
    payment = fields.Integer(required=True)
    invoice = fields.Integer(metadata={"description": "the invoice (receipt) or bill (payment); not with auto"})
    amount = fields.String()
    date = fields.Date()
    auto = fields.Boolean(load_default=False, metadata={"description": "oldest first over the party's open documents"})


class SettlementOffsetQuery(Schema):
    invoice = fields.Integer()
    bill = fields.Integer()


class OffsetInSchema(Schema):
    invoice = fields.Integer(required=True)
    bill = fields.Integer(required=True)
    amount = fields.String(required=True)
    date = fields.Date()


class SettlementWriteOffQuery(Schema):
    document = fields.Integer()


class WriteOffInSchema(Schema):
    document = fields.Integer(required=True, metadata={"description": "an invoice or a bill"})
    amount = fields.String(required=True)
    account = fields.Integer(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))
    date = fields.Date()


class SettlementUndoSchema(Schema):
    reason = fields.String(allow_none=True, validate=validate.Length(max=255))
    date = fields.Date()


def _fail(err: Exception) -> NoReturn:
    db.session.rollback()
    fail(err, "You may not do this.")


def _bad(field: str, msg: str) -> NoReturn:
    abort(422, message="Invalid input.", errors={"json": {field: [msg]}})


def _payment(payment_id: int, direction: str) -> Payment:
    p = get_in_tenant(Payment, payment_id)
    if p is None or p.direction != direction:
        abort(404, message="No such receipt or payment.")
    return p


def _settlement(settlement_id: int, kind: str) -> Settlement:
    s = get_in_tenant(Settlement, settlement_id)
    if s is None or s.kind != kind:
        abort(404, message="No such settlement.")
    return s


def _input(direction: str, data: dict[str, Any], base: Payment | None = None) -> services.PaymentInput:
    def pick(key: str, attr: str) -> Any:
        return data[key] if key in data else (getattr(base, attr) if base is not None else None)

    return services.PaymentInput(
        direction=direction, payment_date=pick("date", "payment_date"), amount=pick("amount", "amount"),
        account_id=pick("account", "account_id"), customer_id=pick("customer", "customer_id"),
        supplier_id=pick("supplier", "supplier_id"), reference=pick("reference", "reference"),
        memo=pick("memo", "memo"),
    )  # fmt: skip


def _payment_resources(bp: Blueprint, direction: str) -> None:
    party_col = Payment.customer_id if direction == "in" else Payment.supplier_id

    def payment(payment_id: int) -> Payment:
        return _payment(payment_id, direction)

    @bp.route("")
    class Collection(MethodView):
        @require("finance.access")
        @bp.arguments(CashPaymentQuery, location="query")
        @bp.response(200, CashPaymentPageSchema)
        def get(self, args):  # type: ignore[no-untyped-def]
            where = [Payment.direction == direction]
            if args.get("party"):
                where.append(party_col == args["party"])
            if args.get("status"):
                where.append(Payment.status == args["status"])
            if args.get("date_from"):
                where.append(Payment.payment_date >= args["date_from"])
            if args.get("date_to"):
                where.append(Payment.payment_date <= args["date_to"])
            if args.get("unallocated"):
                where += [Payment.status == "posted", Payment.unallocated > 0]
            page, size = args["page"], args["page_size"]
            total = db.session.scalar(select(func.count(Payment.id)).where(*where)) or 0
            rows = db.session.scalars(
                select(Payment).where(*where).order_by(Payment.payment_date.desc(), Payment.id.desc())
                .limit(size).offset((page - 1) * size)
            ).all()  # fmt: skip
            return {"items": rows, "page": page, "page_size": size, "total": total}

        @require("finance.access")
        @bp.arguments(CashPaymentInSchema)
        @bp.response(201, CashPaymentSchema)
        def post(self, data):  # type: ignore[no-untyped-def]
            try:
                inp = _input(direction, data)
                inp.payment_date = inp.payment_date or services.books.today_in(g.tenant)
                p = services.create_payment(g.tenant, g.member, inp, post=data["post"])
            except (InvalidInput, PermissionDenied) as err:
                _fail(err)
            db.session.commit()
            return p

    @bp.route("/<int:payment_id>")
    class Item(MethodView):
        @require("finance.access")
        @bp.response(200, CashPaymentSchema)
        def get(self, payment_id: int):  # type: ignore[no-untyped-def]
            return _payment(payment_id, direction)

        @require("finance.access")
        @object_first(payment)
        @bp.arguments(CashPaymentPatchSchema)
        @bp.response(200, CashPaymentSchema)
        def patch(self, data, payment_id: int):  # type: ignore[no-untyped-def]
            p = _payment(payment_id, direction)
            if not data:
                return p
            try:
                services.update_payment(g.tenant, g.member, p, _input(direction, data, p))
            except (InvalidInput, PermissionDenied) as err:
                _fail(err)
            db.session.commit()
            return p

        @require("finance.access")
        @bp.response(204)
        def delete(self, payment_id: int):  # type: ignore[no-untyped-def]
            p = _payment(payment_id, direction)
            try:
                services.delete_payment(g.member, p)
            except (InvalidInput, PermissionDenied) as err:
                _fail(err)
            db.session.commit()

    @bp.route("/<int:payment_id>/post")
    class Post(MethodView):
        @require("finance.access")
        @bp.response(200, CashPaymentSchema)
        def post(self, payment_id: int):  # type: ignore[no-untyped-def]
            p = _payment(payment_id, direction)
            try:
                p = services.post_payment(g.tenant, g.member, p)
            except (InvalidInput, PermissionDenied) as err:
                _fail(err)
            db.session.commit()
            return p

    @bp.route("/<int:payment_id>/reverse")
    class Reverse(MethodView):
        @require("finance.access")
        @object_first(payment)
        @bp.arguments(CashPaymentReverseSchema)
        @bp.response(200, CashPaymentSchema)
        def post(self, data, payment_id: int):  # type: ignore[no-untyped-def]
            """Only with nothing allocated (undo the allocations first)."""
            p = _payment(payment_id, direction)
            try:
                p = services.reverse_payment(g.tenant, g.member, p, data.get("date"), data.get("reason"))
            except (InvalidInput, PermissionDenied) as err:
                _fail(err)
            db.session.commit()
            return p


receipts_bp = Blueprint("api_receipts", __name__, url_prefix="/receipts", description="Receipts (收款)")
payments_bp = Blueprint("api_payments", __name__, url_prefix="/payments", description="Payments (付款)")
_payment_resources(receipts_bp, "in")
_payment_resources(payments_bp, "out")

allocations_bp = Blueprint(
    "api_allocations", __name__, url_prefix="/allocations", description="Allocations of receipts/payments"
)
offsets_bp = Blueprint("api_offsets", __name__, url_prefix="/offsets", description="Offsets (应收冲应付)")
write_offs_bp = Blueprint("api_write_offs", __name__, url_prefix="/write-offs", description="Write-offs (核销)")


def _settlements(kind: str, where: list[Any]) -> dict[str, Any]:
    stmt = select(Settlement).where(Settlement.kind == kind, *where).order_by(Settlement.settled_on, Settlement.id)
    return {"items": db.session.scalars(stmt.limit(500)).all()}


def _document(doc_id: int | None, field: str) -> Invoice:
    doc = get_in_tenant(Invoice, doc_id) if doc_id else None
    if doc is None:
        _bad(field, "No such document.")
    return doc


def _undo(settlement_id: int, kind: str, data: dict[str, Any]) -> None:
    s = _settlement(settlement_id, kind)
    reason = data.get("reason") or request.args.get("reason")
    try:
        services.undo_settlement(g.tenant, g.member, s, data.get("date"), reason)
    except (InvalidInput, PermissionDenied) as err:
        _fail(err)
    db.session.commit()


@allocations_bp.route("")
class Allocations(MethodView):
    @require("finance.access")
    @allocations_bp.arguments(SettlementAllocationQuery, location="query")
    @allocations_bp.response(200, SettlementListSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        where = []
        if args.get("payment"):
            where.append(Settlement.payment_id == args["payment"])
        if args.get("invoice"):
            where.append(Settlement.invoice_id == args["invoice"])
        return _settlements("allocation", where)

    @require("finance.access")
    @allocations_bp.arguments(AllocationInSchema)
    @allocations_bp.response(201, SettlementListSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        """{payment, invoice, amount, date} or {payment, auto: true}; answers the allocations made."""
        p = get_in_tenant(Payment, data["payment"])
        if p is None:
            _bad("payment", "No such receipt or payment.")
        try:
            if data["auto"]:
                made = services.auto_allocate(g.tenant, g.member, p, data.get("date"))
            else:
                doc = _document(data.get("invoice"), "invoice")
                if not data.get("amount"):
                    _bad("amount", "Enter the amount to allocate.")
                made = [services.allocate(g.tenant, g.member, p, doc, data["amount"], data.get("date"))]
        except (InvalidInput, PermissionDenied) as err:
            _fail(err)
        db.session.commit()
        return {"items": made}


@allocations_bp.route("/<int:settlement_id>")
class AllocationItem(MethodView):
    @require("finance.access")
    @object_first(lambda settlement_id: _settlement(settlement_id, "allocation"))
    @allocations_bp.arguments(SettlementUndoSchema, required=False)
    @allocations_bp.response(204)
    def delete(self, data, settlement_id: int):  # type: ignore[no-untyped-def]
        """Undo by reversal (the row stays, with undone_on); reason in the body or ?reason=."""
        _undo(settlement_id, "allocation", data or {})


@offsets_bp.route("")
class Offsets(MethodView):
    @require("finance.access")
    @offsets_bp.arguments(SettlementOffsetQuery, location="query")
    @offsets_bp.response(200, SettlementListSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        where = []
        if args.get("invoice"):
            where.append(Settlement.invoice_id == args["invoice"])
        if args.get("bill"):
            where.append(Settlement.bill_id == args["bill"])
        return _settlements("offset", where)

    @require("finance.access")
    @offsets_bp.arguments(OffsetInSchema)
    @offsets_bp.response(201, SettlementSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        inv, bill = _document(data["invoice"], "invoice"), _document(data["bill"], "bill")
        try:
            s = services.offset(g.tenant, g.member, inv, bill, data["amount"], data.get("date"))
        except (InvalidInput, PermissionDenied) as err:
            _fail(err)
        db.session.commit()
        return s


@offsets_bp.route("/<int:settlement_id>")
class OffsetItem(MethodView):
    @require("finance.access")
    @object_first(lambda settlement_id: _settlement(settlement_id, "offset"))
    @offsets_bp.arguments(SettlementUndoSchema, required=False)
    @offsets_bp.response(204)
    def delete(self, data, settlement_id: int):  # type: ignore[no-untyped-def]
        _undo(settlement_id, "offset", data or {})


@write_offs_bp.route("")
class WriteOffs(MethodView):
    @require("finance.access")
    @write_offs_bp.arguments(SettlementWriteOffQuery, location="query")
    @write_offs_bp.response(200, SettlementListSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        where = [Settlement.invoice_id == args["document"]] if args.get("document") else []
        return _settlements("write_off", where)

    @require("finance.access", "books.write_off")
    @write_offs_bp.arguments(WriteOffInSchema)
    @write_offs_bp.response(201, SettlementSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        doc = _document(data["document"], "document")
        try:
            s = services.write_off(
                g.tenant, g.member, doc, data["amount"], data["account"], data["reason"], data.get("date")
            )
        except (InvalidInput, PermissionDenied) as err:
            _fail(err)
        db.session.commit()
        return s


@write_offs_bp.route("/<int:settlement_id>")
class WriteOffItem(MethodView):
    @require("finance.access", "books.write_off")
    @object_first(lambda settlement_id: _settlement(settlement_id, "write_off"))
    @write_offs_bp.arguments(SettlementUndoSchema, required=False)
    @write_offs_bp.response(204)
    def delete(self, data, settlement_id: int):  # type: ignore[no-untyped-def]
        _undo(settlement_id, "write_off", data or {})


blueprints = [receipts_bp, payments_bp, allocations_bp, offsets_bp, write_offs_bp]
