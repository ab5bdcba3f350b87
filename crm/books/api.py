"""/api/v1 for the books: the set-up and lock date, accounts, departments, journal entries and
periods. The same rules as the pages; refusals name their rule (``"rule"`` in the 422 body)."""

from __future__ import annotations

from datetime import date
from typing import Any, NoReturn

from flask import g
from flask.views import MethodView
from flask_babel import get_locale
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from crm.api.errors import fail, object_first
from crm.books import closing
from crm.books import services as books
from crm.books.models import ACCOUNT_TYPES, ENTRY_STATUSES, PARTY_TYPES, Account, Department, JournalEntry
from crm.books.views import entry_query
from crm.db import db
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, require

books_bp = Blueprint("api_books", __name__, url_prefix="/books", description="The books: standard, start, lock date")
accounts_bp = Blueprint("api_accounts", __name__, url_prefix="/accounts", description="Chart of accounts (会计科目)")
departments_bp = Blueprint("api_departments", __name__, url_prefix="/departments", description="Departments")
entries_bp = Blueprint(
    "api_journal_entries", __name__, url_prefix="/journal-entries", description="Journal entries (记账凭证)"
)
periods_bp = Blueprint("api_periods", __name__, url_prefix="/periods", description="Periods: close (结账) and re-open")


def _fail(err: Exception) -> NoReturn:
    db.session.rollback()
    fail(err)


# ---------------------------------------------------------------- books


class BooksStateSchema(Schema):
    set_up = fields.Boolean(dump_only=True)
    standard = fields.String(dump_only=True, metadata={"description": "small (小企业会计准则) or cas (企业会计准则)"})
    start = fields.Date(dump_only=True, allow_none=True, metadata={"description": "first day of the first month"})
    lock_date = fields.Date(allow_none=True)


class BooksPatchSchema(Schema):
    lock_date = fields.Date(allow_none=True, metadata={"description": "null clears the lock"})


class BooksSetupSchema(Schema):
    standard = fields.String(load_default="small", validate=validate.OneOf(["small", "cas"]))
    start = fields.String(
        required=True, validate=validate.Regexp(r"^\d{4}-\d{2}(-\d{2})?$"), metadata={"description": "YYYY-MM"}
    )


def _books_dict() -> dict[str, Any]:
    t = g.tenant
    ready = books.is_set_up(t)
    return {"set_up": ready, "standard": books.standard_of(t) if ready else None,
            "start": books.books_start(t), "lock_date": books.lock_date(t)}  # fmt: skip


@books_bp.route("")
class BooksResource(MethodView):
    @require("finance.access")
    @books_bp.response(200, BooksStateSchema)
    def get(self):  # type: ignore[no-untyped-def]
        return _books_dict()

    @require("finance.access")
    @books_bp.arguments(BooksPatchSchema)
    @books_bp.response(200, BooksStateSchema)
    def patch(self, data):  # type: ignore[no-untyped-def]
        """Set or clear the lock date (books.post_locked)."""
        if "lock_date" in data:
            try:
                books.ensure_books(g.tenant, g.member)
                books.set_lock_date(g.tenant, g.member, data["lock_date"])
            except (InvalidInput, PermissionDenied) as err:
                _fail(err)
            db.session.commit()
        return _books_dict()


@books_bp.route("/setup")
class BooksSetup(MethodView):
    @require("finance.access")
    @books_bp.arguments(BooksSetupSchema)
    @books_bp.response(200, BooksStateSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        raw = data["start"] if len(data["start"]) == 10 else data["start"] + "-01"
        try:
            start = date.fromisoformat(raw)
        except ValueError:
            abort(422, message="Invalid input.", errors={"json": {"start": ["Not a valid month."]}})
        try:
            books.set_up_books(g.tenant, g.member, data["standard"], start)
        except (InvalidInput, PermissionDenied) as err:
            _fail(err)
        db.session.commit()
        return _books_dict()


# ---------------------------------------------------------------- accounts


class AccountSchema(Schema):
    id = fields.Integer(dump_only=True)
    parent_id = fields.Integer(required=True, metadata={"description": "the account to add a sub-account under"})
    code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    name_zh = fields.String(required=True, validate=validate.Length(min=1, max=100))
    name_en = fields.String(load_default="", validate=validate.Length(max=100))
    type = fields.String(dump_only=True)
    normal_balance = fields.String(dump_only=True)
    role = fields.String(dump_only=True, allow_none=True)
    is_cash = fields.Boolean(dump_only=True)
    is_active = fields.Boolean(dump_only=True)


class AccountPatchSchema(Schema):
    name_zh = fields.String(validate=validate.Length(min=1, max=100))
    name_en = fields.String(validate=validate.Length(min=1, max=100))
    is_active = fields.Boolean()


class AccountQueryArgs(Schema):
    type = fields.String(validate=validate.OneOf(ACCOUNT_TYPES))
    active = fields.Boolean()


def _account(account_id: int) -> Account:
    a = get_in_tenant(Account, account_id)
    if a is None:
        abort(404, message="No such account.")
    return a


@accounts_bp.route("")
class Accounts(MethodView):
    @require("finance.access")
    @accounts_bp.arguments(AccountQueryArgs, location="query")
    @accounts_bp.response(200, AccountSchema(many=True))
    def get(self, args):  # type: ignore[no-untyped-def]
        try:
            books.ensure_books(g.tenant, g.member)
        except InvalidInput as err:
            _fail(err)
        db.session.commit()
        stmt = select(Account).order_by(Account.code)
        if args.get("type"):
            stmt = stmt.where(Account.type == args["type"])
        if "active" in args:
            stmt = stmt.where(Account.is_active.is_(args["active"]))
        return list(db.session.scalars(stmt))

    @require("finance.access")
    @accounts_bp.arguments(AccountSchema)
    @accounts_bp.response(201, AccountSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        """Add a sub-account: it inherits the parent's type and normal balance."""
        parent = get_in_tenant(Account, data["parent_id"])
        if parent is None:
            abort(422, message="Invalid input.", errors={"json": {"parent_id": ["No such account."]}})
        try:
            account = books.add_sub_account(g.tenant, g.member, parent, data["code"], data["name_zh"], data["name_en"])
        except (InvalidInput, PermissionDenied) as err:
            _fail(err)
        db.session.commit()
        return account


@accounts_bp.route("/<int:account_id>")
class AccountItem(MethodView):
    @require("finance.access")
    @accounts_bp.response(200, AccountSchema)
    def get(self, account_id: int):  # type: ignore[no-untyped-def]
        return _account(account_id)

    @require("finance.access")
    @object_first(_account)
    @accounts_bp.arguments(AccountPatchSchema)
    @accounts_bp.response(200, AccountSchema)
    def patch(self, data, account_id: int):  # type: ignore[no-untyped-def]
        """Rename (both languages) and/or deactivate / re-activate."""
        a = _account(account_id)
        try:
            if "name_zh" in data or "name_en" in data:
                books.rename_account(g.member, a, data.get("name_zh", a.name_zh), data.get("name_en", a.name_en))
            if "is_active" in data:
                books.set_account_active(g.member, a, data["is_active"])
        except (InvalidInput, PermissionDenied) as err:
            _fail(err)
        db.session.commit()
        return a


# ---------------------------------------------------------------- departments


class DepartmentSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    is_active = fields.Boolean(load_default=True)


class DepartmentPatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=60))
    is_active = fields.Boolean()


def _department(department_id: int) -> Department:
    d = get_in_tenant(Department, department_id)
    if d is None:
        abort(404, message="No such department.")
    return d


@departments_bp.route("")
class Departments(MethodView):
    @require("finance.access")
    @departments_bp.response(200, DepartmentSchema(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        return list(db.session.scalars(select(Department).order_by(Department.name)))

    @require("finance.access")
    @departments_bp.arguments(DepartmentSchema)
    @departments_bp.response(201, DepartmentSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        try:
            d = books.save_department(g.member, data["name"], active=data["is_active"])
        except (InvalidInput, PermissionDenied) as err:
            _fail(err)
        db.session.commit()
        return d


@departments_bp.route("/<int:department_id>")
class DepartmentItem(MethodView):
    @require("finance.access")
    @object_first(_department)
    @departments_bp.arguments(DepartmentPatchSchema)
    @departments_bp.response(200, DepartmentSchema)
    def patch(self, data, department_id: int):  # type: ignore[no-untyped-def]
        d = _department(department_id)
        if not data:
            return d
        try:
            books.save_department(g.member, data.get("name", d.name), d, active=data.get("is_active"))
        except (InvalidInput, PermissionDenied) as err:
            _fail(err)
        db.session.commit()
        return d


# ---------------------------------------------------------------- journal entries


class JournalLineSchema(Schema):
    account = fields.Integer(required=True, metadata={"description": "account id (a leaf account)"})
    debit = fields.Decimal(as_string=True, load_default=None, allow_none=True)
    credit = fields.Decimal(as_string=True, load_default=None, allow_none=True)
    party_type = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(PARTY_TYPES))
    party_id = fields.Integer(load_default=None, allow_none=True)
    department = fields.Integer(load_default=None, allow_none=True)
    memo = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))


class JournalEntrySchema(Schema):
    id = fields.Integer(dump_only=True)
    number = fields.String(dump_only=True, allow_none=True)
    date = fields.Date(required=True, attribute="entry_date", data_key="date")
    memo = fields.String(load_default="", validate=validate.Length(max=255))
    status = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    total = fields.Decimal(as_string=True, dump_only=True)
    source_type = fields.String(dump_only=True, allow_none=True)
    source_id = fields.Integer(dump_only=True, allow_none=True)
    reverses_id = fields.Integer(dump_only=True, allow_none=True)
    reversed_by_id = fields.Integer(dump_only=True, allow_none=True)
    posted_at = fields.DateTime(dump_only=True, allow_none=True)
    lines = fields.Method("_lines", deserialize="_load_lines", required=True)
    post = fields.Boolean(load_only=True, load_default=False, metadata={"description": "post at once"})

    def _lines(self, entry: JournalEntry) -> list[dict[str, Any]]:
        return [
            {"account": x.account_id, "debit": f"{x.debit:.2f}", "credit": f"{x.credit:.2f}",
             "party_type": x.party_type, "party_id": x.party_id, "department": x.department_id, "memo": x.memo}
            for x in entry.lines
        ]  # fmt: skip

    def _load_lines(self, value: Any) -> list[dict[str, Any]]:
        return JournalLineSchema(many=True).load(value)  # type: ignore[no-any-return]


class JournalEntryPatchSchema(Schema):
    date = fields.Date(attribute="entry_date", data_key="date")
    memo = fields.String(validate=validate.Length(max=255))
    lines = fields.List(fields.Nested(JournalLineSchema))


class JournalEntryQuery(Schema):
    status = fields.String(validate=validate.OneOf(ENTRY_STATUSES))
    account = fields.Integer()
    date_from = fields.Date()
    date_to = fields.Date()
    q = fields.String(validate=validate.Length(max=100))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class JournalEntryPageSchema(Schema):
    items = fields.List(fields.Nested(JournalEntrySchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


class JournalReverseSchema(Schema):
    date = fields.Date(load_default=None, metadata={"description": "defaults to today"})
    memo = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))


def _line_inputs(raw: list[dict[str, Any]]) -> list[books.LineInput]:
    return [
        books.LineInput(x["account"], x.get("debit"), x.get("credit"), x.get("party_type"), x.get("party_id"),
                        x.get("department"), x.get("memo"))
        for x in raw
    ]  # fmt: skip


def _entry(journal_entry_id: int) -> JournalEntry:
    e = get_in_tenant(JournalEntry, journal_entry_id)
    if e is None:
        abort(404, message="No such journal entry.")
    return e


@entries_bp.route("")
class Entries(MethodView):
    @require("finance.access")
    @entries_bp.arguments(JournalEntryQuery, location="query")
    @entries_bp.response(200, JournalEntryPageSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        stmt = entry_query(args.get("status"), args.get("q"), args.get("account"), args.get("date_from"),
                           args.get("date_to"))  # fmt: skip
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        from sqlalchemy.orm import selectinload  # noqa: PLC0415

        rows = db.session.scalars(
            stmt.options(selectinload(JournalEntry.lines))
            .order_by(JournalEntry.entry_date.desc(), JournalEntry.id.desc())
            .limit(args["page_size"])
            .offset((args["page"] - 1) * args["page_size"])
        ).all()
        return {"items": rows, "page": args["page"], "page_size": args["page_size"], "total": total}

    @require("finance.access")
    @entries_bp.arguments(JournalEntrySchema)
    @entries_bp.response(201, JournalEntrySchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        """Create a draft, or post it at once with ``"post": true``."""
        try:
            data_in = books.EntryInput(data["entry_date"], data.get("memo", ""), _line_inputs(data["lines"]))
            entry = books.create_entry(g.tenant, g.member, data_in)
            if data.get("post"):
                books.post_entry(g.tenant, g.member, entry)
        except (InvalidInput, PermissionDenied) as err:
            _fail(err)
        db.session.commit()
        return entry


@entries_bp.route("/<int:journal_entry_id>")
class EntryItem(MethodView):
    @require("finance.access")
    @entries_bp.response(200, JournalEntrySchema)
    def get(self, journal_entry_id: int):  # type: ignore[no-untyped-def]
        return _entry(journal_entry_id)

    @require("finance.access")
    @object_first(_entry)
    @entries_bp.arguments(JournalEntryPatchSchema)
    @entries_bp.response(200, JournalEntrySchema)
    def patch(self, data, journal_entry_id: int):  # type: ignore[no-untyped-def]
        """Change a draft (a posted entry answers 422, rule posted_is_final)."""
        e = _entry(journal_entry_id)
        current = [books.LineInput(x.account_id, x.debit, x.credit, x.party_type, x.party_id, x.department_id,
                                   x.memo) for x in e.lines]  # fmt: skip
        try:
            books.update_draft(
                g.tenant, g.member, e,
                books.EntryInput(data.get("entry_date", e.entry_date), data.get("memo", e.memo),
                                 _line_inputs(data["lines"]) if "lines" in data else current),
            )  # fmt: skip
        except (InvalidInput, PermissionDenied) as err:
            _fail(err)
        db.session.commit()
        return e

    @require("finance.access")
    @entries_bp.response(204)
    def delete(self, journal_entry_id: int):  # type: ignore[no-untyped-def]
        e = _entry(journal_entry_id)
        try:
            books.delete_draft(g.member, e)
        except (InvalidInput, PermissionDenied) as err:
            _fail(err)
        db.session.commit()


@entries_bp.route("/<int:journal_entry_id>/post")
class EntryPost(MethodView):
    @require("finance.access")
    @entries_bp.response(200, JournalEntrySchema)
    def post(self, journal_entry_id: int):  # type: ignore[no-untyped-def]
        e = _entry(journal_entry_id)
        try:
            books.post_entry(g.tenant, g.member, e)
        except (InvalidInput, PermissionDenied) as err:
            _fail(err)
        db.session.commit()
        return e


@entries_bp.route("/<int:journal_entry_id>/reverse")
class EntryReverse(MethodView):
    @require("finance.access")
    @object_first(_entry)
    @entries_bp.arguments(JournalReverseSchema)
    @entries_bp.response(201, JournalEntrySchema)
    def post(self, data, journal_entry_id: int):  # type: ignore[no-untyped-def]
        """Post the mirror image; answers the reversal (linked both ways)."""
        e = _entry(journal_entry_id)
        try:
            rev = books.reverse_entry(g.tenant, g.member, e, data.get("date"), data.get("memo"))
        except (InvalidInput, PermissionDenied) as err:
            _fail(err)
        db.session.commit()
        return rev


# ---------------------------------------------------------------- periods


class PeriodSchema(Schema):
    period = fields.String(metadata={"description": "YYYY-MM"})
    status = fields.String(metadata={"description": "open or closed"})
    closed_at = fields.DateTime(allow_none=True)
    closed_by_id = fields.Integer(allow_none=True)
    closing_entry_id = fields.Integer(allow_none=True)
    reopen_reason = fields.String(allow_none=True)


class PeriodReopenSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=255))


def _period_or_404(period: str) -> tuple[int, int]:
    parsed = closing.parse_key(period)
    if parsed is None:
        abort(404, message="No such period: use YYYY-MM.")
    return parsed


@periods_bp.route("")
class Periods(MethodView):
    @require("finance.access")
    @periods_bp.response(200, PeriodSchema(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        """The months from the books' start to now, newest first."""
        out = []
        for r in closing.months(g.tenant):
            p = r.period
            closed = r.status == "closed"
            out.append({"period": r.key, "status": r.status, "closed_at": p.closed_at if p and closed else None,
                        "closed_by_id": p.closed_by_id if p and closed else None,
                        "closing_entry_id": p.closing_entry_id if p else None,
                        "reopen_reason": p.reopen_reason if p else None})  # fmt: skip
        return out


@periods_bp.route("/<period>/close")
class PeriodClose(MethodView):
    @require("periods.close")
    @periods_bp.response(202)
    @periods_bp.alt_response(422, description="A check failed (rule close_checklist) or the month cannot close.")
    def post(self, period: str):  # type: ignore[no-untyped-def]
        """Check, then start the closing job; follow it at /api/v1/jobs/<id>. A bad YYYY-MM is 404."""
        from crm.api.resources import JobSchema, _job_dict  # noqa: PLC0415 — resources imports this module
        from workers.queue import JobsUnavailable, submit  # noqa: PLC0415

        year, month = _period_or_404(period)
        try:
            books.ensure_books(g.tenant, g.member)
            closing.precheck_close(g.tenant, g.member, year, month)
        except (InvalidInput, PermissionDenied) as err:
            _fail(err)
        try:
            job = submit(
                "period_close", g.member, {"year": year, "month": month, "locale": str(get_locale() or "zh_Hans_CN")}
            )
        except JobsUnavailable:
            db.session.rollback()
            abort(503, message="The job service is unavailable; nothing was started. Try again shortly.")
        return JobSchema().dump(_job_dict(job))


@periods_bp.route("/<period>/reopen")
class PeriodReopen(MethodView):
    @require("finance.access")
    @periods_bp.arguments(PeriodReopenSchema)
    @periods_bp.response(200, PeriodSchema)
    def post(self, data, period: str):  # type: ignore[no-untyped-def]
        """Re-open the latest closed month (periods.reopen); a reason is required."""
        year, month = _period_or_404(period)
        try:
            row = closing.reopen_period(g.tenant, g.member, year, month, data["reason"])
        except (InvalidInput, PermissionDenied) as err:
            _fail(err)
        db.session.commit()
        return {"period": row.key, "status": row.status, "closed_at": None, "closed_by_id": None,
                "closing_entry_id": row.closing_entry_id, "reopen_reason": row.reopen_reason}  # fmt: skip


blueprints = [books_bp, accounts_bp, departments_bp, entries_bp, periods_bp]
