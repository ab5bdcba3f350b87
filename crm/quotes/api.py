"""/api/v1/quotes: the same rules as the UI; a quote follows its customer's visibility."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.api.errors import fail, object_first
from crm.catalog.api import PricedLineSchema
from crm.db import db
from crm.quotes import services
from crm.quotes.models import STATUSES, Quote
from crm.quotes.pdf import quote_pdf_response
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from crm.sales.visibility import can_read
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, require

quotes_bp = Blueprint("api_quotes", __name__, url_prefix="/quotes", description="Quotes (报价单)")


class QuoteSummarySchema(Schema):
    id = fields.Integer(dump_only=True)
    number = fields.String(dump_only=True)
    version = fields.Integer(dump_only=True)
    display_number = fields.String(dump_only=True)
    customer_id = fields.Integer(required=True)
    status = fields.String(dump_only=True)
    prices_include_tax = fields.Boolean(load_default=False)
    issue_date = fields.Date(dump_only=True)
    valid_until = fields.Date(allow_none=True)
    terms = fields.String(allow_none=True)
    total_excl = fields.Decimal(as_string=True, dump_only=True)
    total_tax = fields.Decimal(as_string=True, dump_only=True)
    total_incl = fields.Decimal(as_string=True, dump_only=True)
    previous_id = fields.Integer(dump_only=True, allow_none=True)
    opportunity_id = fields.Integer(
        allow_none=True, load_default=None,
        metadata={"description": "the opportunity this quote prices (same customer); kept on re-issue"},
    )  # fmt: skip
    sent_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class QuoteSchema(QuoteSummarySchema):
    lines = fields.List(fields.Nested(PricedLineSchema), required=True)


class QuotePatchSchema(Schema):
    prices_include_tax = fields.Boolean()
    valid_until = fields.Date(allow_none=True)
    terms = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(PricedLineSchema))


class QuoteQueryArgs(Schema):
    customer_id = fields.Integer()
    status = fields.String(validate=validate.OneOf(STATUSES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class QuotePageSchema(Schema):
    items = fields.List(fields.Nested(QuoteSummarySchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


def _fail(err: Exception) -> NoReturn:
    fail(err, "You may not change this quote.")


def _visible(quote_id: int) -> Quote:
    q = get_in_tenant(Quote, quote_id)
    if q is None or not services.can_read_quote(g.member, q):
        abort(404, message="No such quote.")
    return q


def _lines(raw: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    return None if raw is None else [dict(x) for x in raw]


@quotes_bp.route("")
class Quotes(MethodView):
    @require("sales.access")
    @quotes_bp.arguments(QuoteQueryArgs, location="query")
    @quotes_bp.response(200, QuotePageSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        query = services.QuoteQuery(
            customer_id=args.get("customer_id"), status=args.get("status"), page=args["page"],
            page_size=args["page_size"],
        )  # fmt: skip
        rows, total = services.list_quotes(g.member, query)
        return {"items": rows, "page": query.page, "page_size": query.page_size, "total": total}

    @require("sales.access")
    @quotes_bp.arguments(QuoteSchema)
    @quotes_bp.response(201, QuoteSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        customer = get_in_tenant(Customer, data["customer_id"])
        if customer is None or customer.archived_at is not None or not can_read(g.member, customer):
            abort(422, message="Invalid input.", errors={"json": {"customer_id": ["No such customer."]}})
        try:
            q = services.create_quote(
                g.member, g.tenant, customer,
                services.QuoteInput(
                    lines=_lines(data["lines"]), prices_include_tax=data["prices_include_tax"],
                    valid_until=data.get("valid_until"), terms=data.get("terms"),
                    opportunity_id=data.get("opportunity_id"),
                ),
            )  # fmt: skip
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return q


@quotes_bp.route("/<int:quote_id>")
class QuoteItem(MethodView):
    @require("sales.access")
    @quotes_bp.response(200, QuoteSchema)
    def get(self, quote_id: int):  # type: ignore[no-untyped-def]
        return _visible(quote_id)

    @require("sales.access")
    @object_first(_visible)
    @quotes_bp.arguments(QuotePatchSchema)
    @quotes_bp.response(200, QuoteSchema)
    def patch(self, data, quote_id: int):  # type: ignore[no-untyped-def]
        q = _visible(quote_id)
        try:
            services.update_quote(
                g.member, q,
                services.QuoteInput(
                    lines=_lines(data.get("lines")), prices_include_tax=data.get("prices_include_tax"),
                    valid_until=data.get("valid_until"), terms=data.get("terms"), fields_sent=set(data) or {"none"},
                ),
            )  # fmt: skip
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return q


@quotes_bp.route("/<int:quote_id>/send")
class QuoteSend(MethodView):
    @require("sales.access")
    @quotes_bp.response(200, QuoteSchema)
    def post(self, quote_id: int):  # type: ignore[no-untyped-def]
        q = _visible(quote_id)
        try:
            services.send_quote(g.member, q)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return q


@quotes_bp.route("/<int:quote_id>/reissue")
class QuoteReissue(MethodView):
    @require("sales.access")
    @quotes_bp.response(201, QuoteSchema)
    def post(self, quote_id: int):  # type: ignore[no-untyped-def]
        q = _visible(quote_id)
        try:
            new = services.reissue_quote(g.member, q)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return new


@quotes_bp.route("/<int:quote_id>/pdf")
class QuotePdf(MethodView):
    @require("sales.access")
    @quotes_bp.response(200, description="The quote as a PDF (application/pdf)")
    def get(self, quote_id: int):  # type: ignore[no-untyped-def]
        return quote_pdf_response(_visible(quote_id))


blueprints = [quotes_bp]
