"""/api/v1/expense-claims, /api/v1/advances, /api/v1/expense-categories: the same rules as the
pages. Every member files and reads their own; the manager approves or rejects; members with
expenses.pay review and pay. A refused step answers 422 with ``rule`` (``self_approval``,
``wrong_status``, ``locked`` …); a claim the member may not see is 403; another workspace's 404."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.api.errors import fail, object_first
from crm.attachments.services import read_limited
from crm.db import db
from crm.expenses import services
from crm.expenses.models import ADVANCE_STATUSES, CLAIM_STATUSES, ExpenseAdvance, ExpenseClaim
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, require

claims_bp = Blueprint(
    "api_expense_claims", __name__, url_prefix="/expense-claims", description="Expense claims (费用报销)"
)
advances_bp = Blueprint("api_advances", __name__, url_prefix="/advances", description="Advances to members (借款)")
categories_bp = Blueprint(
    "api_expense_categories", __name__, url_prefix="/expense-categories", description="Expense categories (费用类别)"
)


class ExpenseCategorySchema(Schema):
    id = fields.Integer()
    key = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    account_id = fields.Integer(allow_none=True, metadata={"description": "blank until the first payment"})
    is_active = fields.Boolean()


class ExpenseClaimLineSchema(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "on PATCH: keep this line (and its receipt)"})
    expense_date = fields.Date(data_key="date")
    category_id = fields.Integer()
    amount = fields.Decimal(as_string=True, metadata={"description": "what was paid, VAT included"})
    invoice_number = fields.String(allow_none=True, validate=validate.Length(max=40))
    input_vat = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "deductible input VAT"})
    description = fields.String(validate=validate.Length(max=255))
    attachment_id = fields.Integer(dump_only=True, allow_none=True)


class ExpenseEventSchema(Schema):
    action = fields.String()
    actor_id = fields.Integer(allow_none=True)
    comment = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ExpenseClaimSchema(Schema):
    id = fields.Integer(dump_only=True)
    number = fields.String(dump_only=True)
    status = fields.String(
        dump_only=True, metadata={"description": "draft, submitted, approved, rejected, reviewed, paid (posted)"}
    )
    claimant_id = fields.Integer(dump_only=True)
    approver_id = fields.Integer(dump_only=True, allow_none=True)
    title = fields.String(validate=validate.Length(max=200))
    department_id = fields.Integer(allow_none=True)
    customer_id = fields.Integer(allow_none=True)
    opportunity_id = fields.Integer(allow_none=True)
    advance_id = fields.Integer(allow_none=True, metadata={"description": "one of the claimant's open advances"})
    total = fields.Decimal(as_string=True, dump_only=True)
    total_vat = fields.Decimal(as_string=True, dump_only=True)
    advance_offset = fields.Decimal(as_string=True, dump_only=True)
    comment = fields.String(dump_only=True, allow_none=True, metadata={"description": "the last rejection's reason"})
    entry_id = fields.Integer(dump_only=True, allow_none=True)
    paid_on = fields.Date(dump_only=True, allow_none=True)
    submitted_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    lines = fields.List(fields.Nested(ExpenseClaimLineSchema))


class ExpenseClaimPatchSchema(ExpenseClaimSchema):
    pass


class ExpenseClaimDetailSchema(ExpenseClaimSchema):
    timeline = fields.List(fields.Nested(ExpenseEventSchema), dump_only=True)


class ExpenseClaimQuery(Schema):
    status = fields.String(validate=validate.OneOf(CLAIM_STATUSES))


class ExpenseCommentSchema(Schema):
    comment = fields.String(validate=validate.Length(max=2000))


class ExpensePaySchema(Schema):
    date = fields.Date(metadata={"description": "defaults to today"})
    account_id = fields.Integer(metadata={"description": "a bank or cash account; defaults to the bank"})


class ExpenseRepaySchema(ExpensePaySchema):
    amount = fields.Decimal(as_string=True, metadata={"description": "required; at most the open amount"})


class ExpenseAdvanceSchema(Schema):
    id = fields.Integer(dump_only=True)
    number = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={"description": "requested, approved, rejected, paid, settled"})
    member_id = fields.Integer(dump_only=True)
    amount = fields.Decimal(as_string=True)
    open_amount = fields.Decimal(as_string=True, dump_only=True)
    purpose = fields.String(validate=validate.Length(max=255))
    needed_by = fields.Date(allow_none=True)
    comment = fields.String(dump_only=True, allow_none=True)
    entry_id = fields.Integer(dump_only=True, allow_none=True)
    paid_on = fields.Date(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class ExpenseAdvanceQuery(Schema):
    status = fields.String(validate=validate.OneOf(ADVANCE_STATUSES))


def _fail(err: Exception) -> NoReturn:
    fail(err, "You may not do this.")


def _claim(claim_id: int) -> ExpenseClaim:
    claim = get_in_tenant(ExpenseClaim, claim_id)
    if claim is None:
        abort(404, message="No such expense claim.")
    if not services.can_see_claim(g.member, claim):
        abort(403, message="You may not see this claim.")
    return claim


def _advance(advance_id: int) -> ExpenseAdvance:
    adv = get_in_tenant(ExpenseAdvance, advance_id)
    if adv is None:
        abort(404, message="No such advance.")
    if not services.can_see_advance(g.member, adv):
        abort(403, message="You may not see this advance.")
    return adv


def _detail(claim: ExpenseClaim) -> ExpenseClaim:
    """The claim with its timeline (a plain attribute the detail schema reads)."""
    claim.timeline = services.timeline(claim)  # type: ignore[attr-defined]
    return claim


def _input(data: dict[str, Any], claim: ExpenseClaim | None) -> services.ClaimInput:
    def pick(key: str) -> Any:
        return data[key] if key in data else (getattr(claim, key) if claim is not None else None)

    if "lines" in data:
        lines = [dict(x) for x in data["lines"]]
    elif claim is not None:
        lines = [
            {"id": x.id, "expense_date": x.expense_date, "category_id": x.category_id, "amount": x.amount,
             "input_vat": x.input_vat, "invoice_number": x.invoice_number, "description": x.description}
            for x in claim.lines
        ]  # fmt: skip
    else:
        lines = []
    return services.ClaimInput(
        title=pick("title"), lines=lines, department_id=pick("department_id"), customer_id=pick("customer_id"),
        opportunity_id=pick("opportunity_id"), advance_id=pick("advance_id"),
    )  # fmt: skip


def _run(fn: Any) -> None:
    try:
        fn()
    except (InvalidInput, PermissionDenied) as err:
        db.session.rollback()
        _fail(err)
    db.session.commit()


@categories_bp.route("")
class Categories(MethodView):
    @require("office.access")
    @categories_bp.response(200, ExpenseCategorySchema(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        rows = services.ensure_categories()
        db.session.commit()
        return rows


@claims_bp.route("")
class Claims(MethodView):
    @require("office.access")
    @claims_bp.arguments(ExpenseClaimQuery, location="query")
    @claims_bp.response(200, ExpenseClaimSchema(many=True))
    def get(self, args):  # type: ignore[no-untyped-def]
        """Your own claims, those you approve, and — with expenses.pay — every claim."""
        return services.visible_claims(g.member, args.get("status"))

    @require("office.access")
    @claims_bp.arguments(ExpenseClaimSchema)
    @claims_bp.response(201, ExpenseClaimDetailSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        """A draft claim of yours; submit it with POST …/<id>/submit."""
        try:
            claim = services.create_claim(g.tenant, g.member, _input(data, None))
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return _detail(claim)


@claims_bp.route("/<int:expense_claim_id>")
class Claim(MethodView):
    @require("office.access")
    @claims_bp.response(200, ExpenseClaimDetailSchema)
    def get(self, expense_claim_id: int):  # type: ignore[no-untyped-def]
        return _detail(_claim(expense_claim_id))

    @require("office.access")
    @object_first(_claim)
    @claims_bp.arguments(ExpenseClaimPatchSchema(partial=True))
    @claims_bp.response(200, ExpenseClaimDetailSchema)
    def patch(self, data, expense_claim_id: int):  # type: ignore[no-untyped-def]
        """Change a draft or rejected claim of yours (lines given replace the lines; a line with its id is kept)."""
        claim = _claim(expense_claim_id)
        _run(lambda: services.update_claim(g.tenant, g.member, claim, _input(data, claim)))
        return _detail(claim)

    @require("office.access")
    @claims_bp.response(204)
    def delete(self, expense_claim_id: int):  # type: ignore[no-untyped-def]
        claim = _claim(expense_claim_id)
        _run(lambda: services.delete_claim(g.member, claim))


@claims_bp.route("/<int:expense_claim_id>/lines/<int:expense_line_id>/receipt")
class ClaimLineReceipt(MethodView):
    @require("office.access")
    @claims_bp.response(200, ExpenseClaimDetailSchema)
    @claims_bp.alt_response(422, description="No file, or not an image (JPEG, PNG, WebP) or PDF of at most 10 MB")
    def post(self, expense_claim_id: int, expense_line_id: int):  # type: ignore[no-untyped-def]
        """Attach the receipt of one line of your draft or rejected claim: a multipart/form-data
        body (not JSON) with the file as ``receipt``; it replaces the line's earlier receipt."""
        claim = _claim(expense_claim_id)
        line = next((x for x in claim.lines if x.id == expense_line_id), None)
        if line is None:
            abort(404, message="No such line on this claim.")
        if claim.claimant_id != g.member.id:
            abort(403, message="Only the claimant attaches receipts.")
        upload = request.files.get("receipt")
        if upload is None:
            abort(
                422, message="Invalid input.", errors={"files": {"receipt": ["Attach the receipt (multipart form)."]}}
            )
        data = read_limited(upload.stream)
        _run(lambda: services.attach_receipt(g.tenant, g.member, claim, line, upload.filename or "receipt", data))
        return _detail(claim)


def _step(name: str, doc: str, fn: Any, schema: Schema | None = None) -> None:
    def view(self, *args: Any, **kw: int):  # type: ignore[no-untyped-def]
        data = args[0] if args else {}
        claim = _claim(kw["expense_claim_id"])
        _run(lambda: fn(claim, data))
        return _detail(claim)

    view.__doc__ = doc
    inner = claims_bp.response(200, ExpenseClaimDetailSchema)(view)
    if schema is not None:
        inner = claims_bp.arguments(schema)(inner)
    cls = type(f"Claim{name}", (MethodView,), {"post": require("office.access")(object_first(_claim)(inner))})
    claims_bp.route(f"/<int:expense_claim_id>/{name.lower()}")(cls)


_step("Submit", "Submit a draft or rejected claim of yours to your manager.",
      lambda c, d: services.submit_claim(g.tenant, g.member, c))  # fmt: skip
_step("Approve", "Approve as the claimant's manager (or, when they have none, with expenses.pay).",
      lambda c, d: services.approve_claim(g.tenant, g.member, c))  # fmt: skip
_step("Reject", "Reject a submitted claim (the manager) or an approved one (finance); a comment is required.",
      lambda c, d: services.reject_claim(g.tenant, g.member, c, d.get("comment")), ExpenseCommentSchema())  # fmt: skip
_step("Review", "Finance marks an approved claim reviewed (expenses.pay).",
      lambda c, d: services.review_claim(g.tenant, g.member, c))  # fmt: skip
_step("Pay", "Pay a reviewed claim and post its journal entry (expenses.pay).",
      lambda c, d: services.pay_claims(g.tenant, g.member, [c], d.get("date"), d.get("account_id")),
      ExpensePaySchema())  # fmt: skip


@advances_bp.route("")
class Advances(MethodView):
    @require("office.access")
    @advances_bp.arguments(ExpenseAdvanceQuery, location="query")
    @advances_bp.response(200, ExpenseAdvanceSchema(many=True))
    def get(self, args):  # type: ignore[no-untyped-def]
        """Your advances, your team's, and — with expenses.pay — every advance."""
        return services.visible_advances(g.member, args.get("status"))

    @require("office.access")
    @advances_bp.arguments(ExpenseAdvanceSchema)
    @advances_bp.response(201, ExpenseAdvanceSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        """Ask for an advance; your manager approves it, finance pays it."""
        try:
            adv = services.request_advance(g.tenant, g.member, data)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return adv


@advances_bp.route("/<int:expense_advance_id>")
class Advance(MethodView):
    @require("office.access")
    @advances_bp.response(200, ExpenseAdvanceSchema)
    def get(self, expense_advance_id: int):  # type: ignore[no-untyped-def]
        return _advance(expense_advance_id)


def _adv_step(name: str, doc: str, fn: Any, schema: Schema | None = None) -> None:
    def view(self, *args: Any, **kw: int):  # type: ignore[no-untyped-def]
        data = args[0] if args else {}
        adv = _advance(kw["expense_advance_id"])
        _run(lambda: fn(adv, data))
        return adv

    view.__doc__ = doc
    inner = advances_bp.response(200, ExpenseAdvanceSchema)(view)
    if schema is not None:
        inner = advances_bp.arguments(schema)(inner)
    cls = type(f"Advance{name}", (MethodView,), {"post": require("office.access")(object_first(_advance)(inner))})
    advances_bp.route(f"/<int:expense_advance_id>/{name.lower()}")(cls)


_adv_step("Approve", "Approve as the member's manager (or, when they have none, with expenses.pay).",
          lambda a, d: services.approve_advance(g.tenant, g.member, a))  # fmt: skip
_adv_step("Reject", "Reject with a comment.",
          lambda a, d: services.reject_advance(g.tenant, g.member, a, d.get("comment")),
          ExpenseCommentSchema())  # fmt: skip
_adv_step("Pay", "Pay an approved advance and post it to other receivables (expenses.pay).",
          lambda a, d: services.pay_advance(g.tenant, g.member, a, d.get("date"), d.get("account_id")),
          ExpensePaySchema())  # fmt: skip

_adv_step("Repay", "Record money the member returned from an open advance (expenses.pay).",
          lambda a, d: services.repay_advance(g.tenant, g.member, a, d.get("amount"), d.get("date"),
                                              d.get("account_id")),
          ExpenseRepaySchema())  # fmt: skip

blueprints = [claims_bp, advances_bp, categories_bp]
