"""/api/v1/products: read with sales.access, write with products.manage; DELETE deactivates."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.api.errors import fail
from crm.catalog import services
from crm.catalog.models import Product
from crm.db import db
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, require

products_bp = Blueprint("api_products", __name__, url_prefix="/products", description="Products (产品)")


class PricedLineSchema(Schema):
    """A priced line (quote, order): what a client sends and what the line amounts to."""

    id = fields.Integer(dump_only=True)
    product_id = fields.Integer(allow_none=True)
    description = fields.String(
        validate=validate.Length(max=200), metadata={"description": "defaults to the product name"}
    )
    specification = fields.String(allow_none=True, validate=validate.Length(max=200))
    unit = fields.String(allow_none=True, validate=validate.Length(max=20))
    quantity = fields.Decimal(as_string=True, load_default="1")
    unit_price = fields.Decimal(as_string=True, metadata={"description": "defaults to the product's list price"})
    discount_pct = fields.Decimal(as_string=True, load_default="0", metadata={"description": "percent, 0–100"})
    tax_rate = fields.Decimal(as_string=True, metadata={"description": "0.13 … 0.00; defaults to the product's"})
    amount_excl = fields.Decimal(as_string=True, dump_only=True)
    tax = fields.Decimal(as_string=True, dump_only=True)
    amount_incl = fields.Decimal(as_string=True, dump_only=True)


class ProductSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    specification = fields.String(allow_none=True, validate=validate.Length(max=200))
    unit = fields.String(allow_none=True, validate=validate.Length(max=20))
    list_price = fields.Decimal(
        as_string=True, required=True, metadata={"description": 'excluding tax, CNY, e.g. "1280.00"'}
    )
    vat_rate = fields.Decimal(
        as_string=True, load_default="0.13", metadata={"description": "0.13, 0.09, 0.06, 0.03, 0.01 or 0.00"}
    )
    category = fields.String(allow_none=True, validate=validate.Length(max=60))
    description = fields.String(allow_none=True)
    active = fields.Boolean(load_default=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class ProductPatchSchema(ProductSchema):
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class ProductQueryArgs(Schema):
    q = fields.String(validate=validate.Length(max=100))
    category = fields.String()
    active = fields.Boolean(load_default=True)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ProductPageSchema(Schema):
    items = fields.List(fields.Nested(ProductSchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


def _fail(err: Exception) -> NoReturn:
    fail(err, "You may not manage products.")


def _get(product_id: int) -> Product:
    p = get_in_tenant(Product, product_id)
    if p is None:
        abort(404, message="No such product.")
    return p


@products_bp.route("")
class Products(MethodView):
    @require("sales.access")
    @products_bp.arguments(ProductQueryArgs, location="query")
    @products_bp.response(200, ProductPageSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        query = services.ProductQuery(
            q=args.get("q"), category=args.get("category"), active=args["active"],
            page=args["page"], page_size=args["page_size"],
        )  # fmt: skip
        rows, total = services.list_products(g.member, query)
        return {"items": rows, "page": query.page, "page_size": query.page_size, "total": total}

    @require("products.manage")
    @products_bp.arguments(ProductSchema)
    @products_bp.response(201, ProductSchema)
    def post(self, data: dict[str, Any]):  # type: ignore[no-untyped-def]
        try:
            p = services.create_product(g.member, data)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return p


@products_bp.route("/<int:product_id>")
class ProductItem(MethodView):
    @require("sales.access")
    @products_bp.response(200, ProductSchema)
    def get(self, product_id: int):  # type: ignore[no-untyped-def]
        return _get(product_id)

    @require("sales.access")
    @products_bp.arguments(ProductPatchSchema)
    @products_bp.response(200, ProductSchema)
    def patch(self, data, product_id: int):  # type: ignore[no-untyped-def]
        p = _get(product_id)
        try:
            services.update_product(g.member, p, data)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return p

    @require("sales.access")
    @products_bp.response(204)
    def delete(self, product_id: int):  # type: ignore[no-untyped-def]
        """Deactivate the product (quotes keep their lines)."""
        p = _get(product_id)
        try:
            services.deactivate_product(g.member, p)
        except PermissionDenied as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()


blueprints = [products_bp]
