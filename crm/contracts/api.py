"""/api/v1/contracts: the same rules as the UI; a contract follows its customer's visibility."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.api.errors import fail, object_first
from crm.contracts import services
from crm.contracts.models import STATUSES, Contract
from crm.contracts.pdf import contract_pdf_response
from crm.db import db
from crm.quotes.models import Quote
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from crm.sales.visibility import can_read
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, require

contracts_bp = Blueprint("api_contracts", __name__, url_prefix="/contracts", description="Contracts (合同)")


class PaymentSchema(Schema):
    id = fields.Integer(dump_only=True)
    due_on = fields.Date(required=True)
    amount = fields.Decimal(as_string=True, required=True, metadata={"description": "yuan, two decimals"})
    note = fields.String(allow_none=True, validate=validate.Length(max=200))


class ReviewSchema(Schema):
    id = fields.Integer(dump_only=True)
    member_id = fields.Integer(dump_only=True, allow_none=True)
    decision = fields.String(dump_only=True, metadata={"description": "submitted, approved or rejected"})
    comment = fields.String(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class ContractSummarySchema(Schema):
    id = fields.Integer(dump_only=True)
    number = fields.String(dump_only=True)
    title = fields.String(validate=validate.Length(max=200))
    customer_id = fields.Integer(metadata={"description": "required unless quote_id is given"})
    quote_id = fields.Integer(allow_none=True, metadata={"description": "an accepted quote of the customer"})
    opportunity_id = fields.Integer(dump_only=True, allow_none=True)
    owner_id = fields.Integer(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, metadata={"description": ", ".join(STATUSES)})
    signed_on = fields.Date(allow_none=True)
    starts_on = fields.Date()
    ends_on = fields.Date()
    amount = fields.Decimal(as_string=True, metadata={"description": "including tax; defaults to the quote's total"})
    terms = fields.String(allow_none=True)
    submitted_at = fields.DateTime(dump_only=True, allow_none=True)
    approved_by_id = fields.Integer(dump_only=True, allow_none=True)
    approved_at = fields.DateTime(dump_only=True, allow_none=True)
    terminated_at = fields.DateTime(dump_only=True, allow_none=True)
    termination_reason = fields.String(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class ContractSchema(ContractSummarySchema):
    payments = fields.List(fields.Nested(PaymentSchema), metadata={"description": "must add up to the amount"})
    reviews = fields.List(fields.Nested(ReviewSchema), dump_only=True)


class ContractPatchSchema(Schema):
    title = fields.String(validate=validate.Length(max=200))
    signed_on = fields.Date(allow_none=True)
    starts_on = fields.Date()
    ends_on = fields.Date()
    amount = fields.Decimal(as_string=True)
    terms = fields.String(allow_none=True)
    payments = fields.List(fields.Nested(PaymentSchema))


class ContractQueryArgs(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    customer_id = fields.Integer()
    owner_id = fields.Integer()
    expiring_within_days = fields.Integer(
        validate=validate.Range(min=0, max=3660), metadata={"description": "active contracts ending in 0…N days"}
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ContractPageSchema(Schema):
    items = fields.List(fields.Nested(ContractSummarySchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


class CommentSchema(Schema):
    comment = fields.String(allow_none=True, validate=validate.Length(max=2000))


class ReasonSchema(Schema):
    reason = fields.String(allow_none=True, validate=validate.Length(max=255))


class RedateSchema(Schema):
    ends_on = fields.Date(required=True)


def _fail(err: Exception) -> NoReturn:
    if isinstance(err, services.SelfApproval):
        abort(403, message="You submitted this contract yourself; another manager has to approve it.")
    fail(err, "You may not do this with this contract.")


def _visible(contract_id: int) -> Contract:
    c = get_in_tenant(Contract, contract_id)
    if c is None or not services.can_read_contract(g.member, c):
        abort(404, message="No such contract.")
    return c


def _payments(raw: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    return None if raw is None else [dict(x) for x in raw]


def _run(fn, *args):  # type: ignore[no-untyped-def]
    try:
        result = fn(*args)
    except (InvalidInput, PermissionDenied) as err:
        db.session.rollback()
        _fail(err)
    db.session.commit()
    return result


@contracts_bp.route("")
class Contracts(MethodView):
    @require("sales.access")
    @contracts_bp.arguments(ContractQueryArgs, location="query")
    @contracts_bp.response(200, ContractPageSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        query = services.ContractQuery(
            status=args.get("status"), customer_id=args.get("customer_id"), owner_id=args.get("owner_id"),
            expiring_within_days=args.get("expiring_within_days"), page=args["page"], page_size=args["page_size"],
        )  # fmt: skip
        rows, total = services.list_contracts(g.member, query)
        return {"items": rows, "page": query.page, "page_size": query.page_size, "total": total}

    @require("sales.access")
    @contracts_bp.arguments(ContractSchema)
    @contracts_bp.response(201, ContractSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        quote = None
        if data.get("quote_id") is not None:
            quote = get_in_tenant(Quote, data["quote_id"])
            if quote is None or not can_read(g.member, quote.customer):
                abort(422, message="Invalid input.", errors={"json": {"quote_id": ["No such quote."]}})
        customer_id = data.get("customer_id") or (quote.customer_id if quote else None)
        customer = get_in_tenant(Customer, customer_id) if customer_id else None
        if customer is None or customer.archived_at is not None or not can_read(g.member, customer):
            abort(422, message="Invalid input.", errors={"json": {"customer_id": ["No such customer."]}})
        base = services.prefill_from_quote(quote) if quote else services.ContractInput()
        given = services.ContractInput(
            title=data.get("title", base.title), signed_on=data.get("signed_on", base.signed_on),
            starts_on=data.get("starts_on", base.starts_on), ends_on=data.get("ends_on", base.ends_on),
            amount=data.get("amount", base.amount), terms=data.get("terms", base.terms),
            payments=_payments(data.get("payments")) if "payments" in data else base.payments,
            quote_id=quote.id if quote else None,
        )  # fmt: skip
        return _run(services.create_contract, g.member, g.tenant, customer, given)


@contracts_bp.route("/<int:contract_id>")
class ContractItem(MethodView):
    @require("sales.access")
    @contracts_bp.response(200, ContractSchema)
    def get(self, contract_id: int):  # type: ignore[no-untyped-def]
        return _visible(contract_id)

    @require("sales.access")
    @object_first(_visible)
    @contracts_bp.arguments(ContractPatchSchema)
    @contracts_bp.response(200, ContractSchema)
    def patch(self, data, contract_id: int):  # type: ignore[no-untyped-def]
        c = _visible(contract_id)
        given = services.ContractInput(
            title=data.get("title"), signed_on=data.get("signed_on"), starts_on=data.get("starts_on"),
            ends_on=data.get("ends_on"), amount=data.get("amount"), terms=data.get("terms"),
            payments=_payments(data.get("payments")), fields_sent=set(data) or {"none"},
        )  # fmt: skip
        return _run(services.update_contract, g.member, c, given)

    @require("sales.access")
    @contracts_bp.response(204)
    def delete(self, contract_id: int):  # type: ignore[no-untyped-def]
        _run(services.delete_contract, g.member, _visible(contract_id))


@contracts_bp.route("/<int:contract_id>/submit")
class ContractSubmit(MethodView):
    @require("sales.access")
    @contracts_bp.response(200, ContractSchema)
    def post(self, contract_id: int):  # type: ignore[no-untyped-def]
        return _run(services.submit_contract, g.member, g.tenant, _visible(contract_id))


@contracts_bp.route("/<int:contract_id>/approve")
class ContractApprove(MethodView):
    @require("sales.access", "contracts.approve")
    @object_first(_visible)
    @contracts_bp.arguments(CommentSchema)
    @contracts_bp.response(200, ContractSchema)
    def post(self, data, contract_id: int):  # type: ignore[no-untyped-def]
        return _run(services.approve_contract, g.member, g.tenant, _visible(contract_id), data.get("comment"))


@contracts_bp.route("/<int:contract_id>/reject")
class ContractReject(MethodView):
    @require("sales.access", "contracts.approve")
    @object_first(_visible)
    @contracts_bp.arguments(CommentSchema)
    @contracts_bp.response(200, ContractSchema)
    def post(self, data, contract_id: int):  # type: ignore[no-untyped-def]
        return _run(services.reject_contract, g.member, g.tenant, _visible(contract_id), data.get("comment"))


@contracts_bp.route("/<int:contract_id>/terminate")
class ContractTerminate(MethodView):
    @require("sales.access")
    @object_first(_visible)
    @contracts_bp.arguments(ReasonSchema)
    @contracts_bp.response(200, ContractSchema)
    def post(self, data, contract_id: int):  # type: ignore[no-untyped-def]
        return _run(services.terminate_contract, g.member, _visible(contract_id), data.get("reason"))


@contracts_bp.route("/<int:contract_id>/redate")
class ContractRedate(MethodView):
    @require("sales.access", "contracts.approve")
    @object_first(_visible)
    @contracts_bp.arguments(RedateSchema)
    @contracts_bp.response(200, ContractSchema)
    def post(self, data, contract_id: int):  # type: ignore[no-untyped-def]
        return _run(services.change_end_date, g.member, _visible(contract_id), data["ends_on"])


@contracts_bp.route("/<int:contract_id>/pdf")
class ContractPdf(MethodView):
    @require("sales.access")
    @contracts_bp.response(200, description="The contract as a PDF (application/pdf)")
    def get(self, contract_id: int):  # type: ignore[no-untyped-def]
        return contract_pdf_response(_visible(contract_id))


blueprints = [contracts_bp]
