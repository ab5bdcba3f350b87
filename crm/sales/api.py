"""/api/v1/customers and /api/v1/contacts: the same rules as the UI, through the same services."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.db import db
from crm.sales import services
from crm.sales.models import LEVELS, STATUSES, Contact, Customer
from crm.sales.visibility import can_read
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, require

customers_bp = Blueprint("api_customers", __name__, url_prefix="/customers", description="Customers (客户)")
contacts_bp = Blueprint("api_contacts", __name__, url_prefix="/contacts", description="Contacts of customers")


class ContactSchema(Schema):
    id = fields.Integer(dump_only=True)
    customer_id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    title = fields.String(allow_none=True, validate=validate.Length(max=100))
    department = fields.String(allow_none=True, validate=validate.Length(max=100))
    reports_to_id = fields.Integer(allow_none=True)
    mobile = fields.String(allow_none=True, validate=validate.Length(max=40))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    email = fields.Email(allow_none=True)
    wechat = fields.String(allow_none=True, validate=validate.Length(max=60))
    birthday = fields.Date(allow_none=True)
    is_primary = fields.Boolean(load_default=False)
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))


class CustomerSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    short_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    uscc = fields.String(
        allow_none=True, validate=validate.Length(max=30), metadata={"description": "统一社会信用代码"}
    )
    uscc_override_reason = fields.String(
        allow_none=True, load_only=False, metadata={"description": "Required to keep a code that fails its check"}
    )
    industry = fields.String(allow_none=True)
    level = fields.String(allow_none=True, validate=validate.OneOf(LEVELS))
    source = fields.String(allow_none=True)
    province = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.Email(allow_none=True)
    website = fields.String(allow_none=True)
    owner_id = fields.Integer(allow_none=True, metadata={"description": "null puts the customer in the public pool"})
    status = fields.String(validate=validate.OneOf(STATUSES), load_default="potential")
    notes = fields.String(allow_none=True)
    locked = fields.Boolean(load_default=False)
    tags = fields.List(fields.String(validate=validate.Length(max=40)), attribute="tag_names")
    last_followup_at = fields.DateTime(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    confirm_duplicates = fields.Boolean(load_only=True, load_default=False)


class _Partial:
    """PATCH: every field optional, and a field not sent is left alone — marshmallow skips
    load_default for missing fields only when loading with partial=True (a Meta option of
    that name does not exist, so status/locked/is_primary were reset to their defaults)."""

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class CustomerPatchSchema(_Partial, CustomerSchema):
    pass


class ContactPatchSchema(_Partial, ContactSchema):
    pass


class CustomerQueryArgs(Schema):
    q = fields.String(validate=validate.Length(max=100))
    owner_id = fields.Integer()
    pool = fields.Boolean(load_default=False)
    level = fields.String(validate=validate.OneOf(LEVELS))
    province = fields.String()
    city = fields.String()
    status = fields.String(validate=validate.OneOf(STATUSES))
    tag = fields.String()
    idle_days = fields.Integer(validate=validate.Range(min=1), metadata={"description": "no follow-up for N days"})
    sort = fields.String(validate=validate.OneOf(["created", "name", "last_followup"]), load_default="created")
    cursor = fields.String(metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class CustomerPageSchema(Schema):
    items = fields.List(fields.Nested(CustomerSchema))
    next_cursor = fields.String(allow_none=True)


class DuplicateSchema(Schema):
    reason = fields.String()
    owner_name = fields.String(allow_none=True)
    customer_id = fields.Integer(allow_none=True)


def _cursor_in(token: str | None, sort: str) -> tuple[Any, int] | None:
    try:
        return services.decode_cursor(token, sort)
    except services.InvalidCursor:
        abort(422, errors={"query": {"cursor": ["Not a cursor from this API."]}})


def _fail(err: Exception) -> None:
    if isinstance(err, services.InvalidInput):
        abort(422, message="Invalid input.", errors={"json": {k: [v] for k, v in err.errors.items()}})
    if isinstance(err, services.DuplicatesFound):
        abort(
            409,
            message="This customer may already exist; send confirm_duplicates=true to create it anyway "
            "(not possible for the same credit code).",
            errors={"duplicates": DuplicateSchema(many=True).dump(err.duplicates)},
        )
    if isinstance(err, PermissionDenied):
        abort(403, message="You may not change this customer.")
    raise err


def _visible(customer_id: int) -> Customer:
    c = get_in_tenant(Customer, customer_id)
    if c is None or not can_read(g.member, c) or c.archived_at is not None:
        abort(404, message="No such customer.")
    return c


def _input(data: dict[str, Any]) -> services.CustomerInput:
    data = dict(data)
    tags = data.pop("tag_names", None)
    return services.CustomerInput(
        values=data,
        tags=tags,
        uscc_override_reason=data.pop("uscc_override_reason", None),
        confirm_duplicates=bool(data.pop("confirm_duplicates", False)),
    )


@customers_bp.route("")
class Customers(MethodView):
    @require("sales.access")
    @customers_bp.arguments(CustomerQueryArgs, location="query")
    @customers_bp.response(200, CustomerPageSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        sort = args["sort"]
        query = services.CustomerQuery(
            q=args.get("q"),
            owner_id=args.get("owner_id"),
            pool=args["pool"],
            level=args.get("level"),
            province=args.get("province"),
            city=args.get("city"),
            status=args.get("status"),
            tag=args.get("tag"),
            idle_days=args.get("idle_days"),
            sort=sort,
            after=_cursor_in(args.get("cursor"), sort),
            limit=args["limit"],
        )
        rows = services.list_customers(g.member, query)
        nxt = services.encode_cursor(rows[-1], sort) if len(rows) == query.limit else None
        return {"items": rows, "next_cursor": nxt}

    @require("sales.access")
    @customers_bp.arguments(CustomerSchema)
    @customers_bp.response(201, CustomerSchema)
    @customers_bp.alt_response(409, description="Possible duplicates; see errors.duplicates")
    def post(self, data):  # type: ignore[no-untyped-def]
        try:
            c = services.create_customer(g.member, _input(data))
        except (services.InvalidInput, services.DuplicatesFound, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return c


@customers_bp.route("/<int:customer_id>")
class CustomerItem(MethodView):
    @require("sales.access")
    @customers_bp.response(200, CustomerSchema)
    def get(self, customer_id: int):  # type: ignore[no-untyped-def]
        return _visible(customer_id)

    @require("sales.access")
    @customers_bp.arguments(CustomerPatchSchema)
    @customers_bp.response(200, CustomerSchema)
    def patch(self, data, customer_id: int):  # type: ignore[no-untyped-def]
        c = _visible(customer_id)
        try:
            services.update_customer(g.member, c, _input(data))
        except (services.InvalidInput, services.DuplicatesFound, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return c

    @require("sales.access")
    @customers_bp.response(204)
    def delete(self, customer_id: int):  # type: ignore[no-untyped-def]
        """Archive the customer (its history stays)."""
        c = _visible(customer_id)
        try:
            services.archive_customer(g.member, c)
        except PermissionDenied as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()


@customers_bp.route("/<int:customer_id>/contacts")
class CustomerContacts(MethodView):
    @require("sales.access")
    @customers_bp.response(200, ContactSchema(many=True))
    def get(self, customer_id: int):  # type: ignore[no-untyped-def]
        return _visible(customer_id).contacts

    @require("sales.access")
    @customers_bp.arguments(ContactSchema)
    @customers_bp.response(201, ContactSchema)
    def post(self, data, customer_id: int):  # type: ignore[no-untyped-def]
        c = _visible(customer_id)
        try:
            contact = services.save_contact(g.member, c, data)
        except (services.InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return contact


def _visible_contact(contact_id: int) -> tuple[Customer, Contact]:
    contact = get_in_tenant(Contact, contact_id)
    if contact is None:
        abort(404, message="No such contact.")
    return _visible(contact.customer_id), contact


@contacts_bp.route("/<int:contact_id>")
class ContactItem(MethodView):
    @require("sales.access")
    @contacts_bp.response(200, ContactSchema)
    def get(self, contact_id: int):  # type: ignore[no-untyped-def]
        return _visible_contact(contact_id)[1]

    @require("sales.access")
    @contacts_bp.arguments(ContactPatchSchema)
    @contacts_bp.response(200, ContactSchema)
    def patch(self, data, contact_id: int):  # type: ignore[no-untyped-def]
        c, contact = _visible_contact(contact_id)
        try:
            services.save_contact(g.member, c, data, contact)
        except (services.InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return contact

    @require("sales.access")
    @contacts_bp.response(204)
    def delete(self, contact_id: int):  # type: ignore[no-untyped-def]
        c, contact = _visible_contact(contact_id)
        try:
            services.delete_contact(g.member, c, contact)
        except PermissionDenied as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()


blueprints = [customers_bp, contacts_bp]


class ReleaseSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))


class AssignSchema(Schema):
    member_id = fields.Integer(required=True)


class DueSchema(Schema):
    customer_id = fields.Integer()
    name = fields.String()
    owner_id = fields.Integer(allow_none=True)
    returns_on = fields.DateTime()
    warn = fields.Boolean(metadata={"description": "true: inside the warning window; false: due at the next run"})


def _pool_call(fn, *args):  # type: ignore[no-untyped-def]
    try:
        fn(*args)
    except (services.InvalidInput, PermissionDenied) as err:
        db.session.rollback()
        _fail(err)
    db.session.commit()


@customers_bp.route("/<int:customer_id>/claim")
class CustomerClaim(MethodView):
    @require("sales.access")
    @customers_bp.response(200, CustomerSchema)
    def post(self, customer_id: int):  # type: ignore[no-untyped-def]
        """Claim a customer from the public pool (daily limit and ownership cap apply)."""
        from crm.sales import pool

        c = _visible(customer_id)
        _pool_call(pool.claim, g.member, c)
        return c


@customers_bp.route("/<int:customer_id>/release")
class CustomerRelease(MethodView):
    @require("sales.access")
    @customers_bp.arguments(ReleaseSchema)
    @customers_bp.response(200, CustomerSchema)
    def post(self, data, customer_id: int):  # type: ignore[no-untyped-def]
        """Send a customer back to the public pool, with a reason."""
        from crm.sales import pool

        c = _visible(customer_id)
        _pool_call(pool.release, g.member, c, data["reason"])
        return c


@customers_bp.route("/<int:customer_id>/assign")
class CustomerAssign(MethodView):
    @require("customers.assign")
    @customers_bp.arguments(AssignSchema)
    @customers_bp.response(200, CustomerSchema)
    def post(self, data, customer_id: int):  # type: ignore[no-untyped-def]
        """Give a customer to a member of your team."""
        from crm.sales import pool

        c = _visible(customer_id)
        _pool_call(pool.assign, g.member, c, data["member_id"])
        return c


@customers_bp.route("/pool-due")
class PoolDue(MethodView):
    @require("customers.assign")
    @customers_bp.response(200, DueSchema(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        """Preview: customers in your scope that the pool rules will send back, and when."""
        from crm.sales import pool

        return [
            {"customer_id": d.customer.id, "name": d.customer.name, "owner_id": d.customer.owner_id,
             "returns_on": d.returns_on, "warn": d.warn}
            for d in pool.due_for_return(member=g.member)
        ]  # fmt: skip
