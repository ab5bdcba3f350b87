"""/api/v1/reports: every finance report as JSON, with the same parameters and rules as the pages.

A report answers {report, title, subtitle, params, columns: [{key, label, kind}], rows: [{key: value}],
totals, notes}; money is a string with two decimals, dates are ISO. The general ledger and the
journal are paged with ?limit (default 1000, at most 10000) and ?offset over their rows.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import islice
from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from crm.api.errors import fail
from crm.finreports.base import Report, build
from crm.sales.services import InvalidInput
from roles.checks import require

reports_bp = Blueprint(
    "api_reports", __name__, url_prefix="/reports", description="Finance reports (财务报表); finance.access"
)

DEFAULT_LIMIT, MAX_LIMIT = 1000, 10000


class ColumnSchema(Schema):
    key = fields.String()
    label = fields.String()
    kind = fields.String(metadata={"description": "text, money, number, date or int"})


class ReportSchema(Schema):
    report = fields.String()
    title = fields.String()
    subtitle = fields.String()
    params = fields.Dict(metadata={"description": "the validated parameters, echoed back"})
    columns = fields.List(fields.Nested(ColumnSchema))
    rows = fields.List(
        fields.Dict(),
        metadata={"description": "one object per row keyed by column; money as strings with two decimals; "
                  "a section heading (general ledger) or subtotal line has \"section\": true"},
    )  # fmt: skip
    totals = fields.List(fields.Dict())
    notes = fields.List(fields.String())
    row_count = fields.Integer(allow_none=True)


class PagedReportSchema(ReportSchema):
    limit = fields.Integer()
    offset = fields.Integer()
    has_more = fields.Boolean(metadata={"description": "more rows after this page: ask again with offset + limit"})


class _Args(Schema):
    class Meta:
        unknown = EXCLUDE


class RangeArgs(_Args):
    period = fields.String(metadata={"description": "YYYY-MM; or give from and to"})
    from_ = fields.String(data_key="from", metadata={"description": "YYYY-MM-DD (default: first of this month)"})
    to = fields.String(metadata={"description": "YYYY-MM-DD"})


class PagedArgs(RangeArgs):
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"rows per page, default {DEFAULT_LIMIT}, at most {MAX_LIMIT}"},
    )  # fmt: skip
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0), metadata={"description": "rows to skip"})


class LedgerArgs(PagedArgs):
    account = fields.String(metadata={"description": "account id or code; every account with movements when left out"})


class AsOfArgs(_Args):
    as_of = fields.String(metadata={"description": "YYYY-MM-DD (default: today)"})


class AgingArgs(AsOfArgs):
    detail = fields.Boolean(load_default=False, metadata={"description": "one row per open document"})


class PeriodArgs(_Args):
    period = fields.String(metadata={"description": "YYYY-MM (default: this month)"})


class StatementArgs(RangeArgs):
    customer = fields.String(metadata={"description": "customer id (required)"})


def _value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value:.2f}" if kind == "money" else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value if isinstance(value, (int, bool)) else str(value)


def _row(report: Report, row: Any) -> dict[str, Any]:
    out = {c.key: _value(row[i] if i < len(row) else None, c.kind) for i, c in enumerate(report.columns)}
    if report.section_marker is not None and len(row) > len(report.columns) and row[-1] == report.section_marker:
        out["section"] = True
    return out


def _answer(key: str, args: dict[str, Any], *, paged: bool = False) -> dict[str, Any]:
    params = {k: v for k, v in args.items() if k not in ("limit", "offset") and v not in (None, "")}
    if "from_" in params:
        params["from"] = params.pop("from_")
    windowed = paged and key == "journal"  # the journal's rows are its lines: page it in SQL
    if windowed:
        params["_window"] = (args["offset"], args["limit"] + 1)
    try:
        report = build(key, g.tenant, g.member, params)
    except InvalidInput as err:
        fail(err)
    rows = iter(report.rows)
    out: dict[str, Any] = {
        "report": report.key, "title": str(report.title), "subtitle": report.subtitle,
        "params": {k: _value(v, "text") for k, v in report.params.items()},
        "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind} for c in report.columns],
        "totals": [_row(report, r) for r in report.totals], "notes": [str(n) for n in report.notes],
        "row_count": report.row_count,
    }  # fmt: skip
    if paged:
        limit, offset = args["limit"], args["offset"]
        page = list(islice(rows, 0 if windowed else offset, (0 if windowed else offset) + limit + 1))
        close = getattr(rows, "close", None)
        if close is not None:
            close()
        out.update(limit=limit, offset=offset, has_more=len(page) > limit)
        out["rows"] = [_row(report, r) for r in page[:limit]]
    else:
        out["rows"] = [_row(report, r) for r in rows]
    return out


@reports_bp.route("/trial-balance")
class TrialBalance(MethodView):
    @require("finance.access")
    @reports_bp.arguments(RangeArgs, location="query")
    @reports_bp.response(200, ReportSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        """Trial balance (科目余额表) for a month or a date range"""
        return _answer("trial_balance", args)


@reports_bp.route("/general-ledger")
class GeneralLedger(MethodView):
    @require("finance.access")
    @reports_bp.arguments(LedgerArgs, location="query")
    @reports_bp.response(200, PagedReportSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        """General ledger, paged with limit and offset over its rows"""
        return _answer("general_ledger", args, paged=True)


@reports_bp.route("/journal")
class Journal(MethodView):
    @require("finance.access")
    @reports_bp.arguments(PagedArgs, location="query")
    @reports_bp.response(200, PagedReportSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        """Journal (序时账), paged with limit and offset over its rows"""
        return _answer("journal", args, paged=True)


@reports_bp.route("/balance-sheet")
class BalanceSheet(MethodView):
    @require("finance.access")
    @reports_bp.arguments(AsOfArgs, location="query")
    @reports_bp.response(200, ReportSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        """Balance sheet (资产负债表) on a date, in the workspace's standard's layout"""
        return _answer("balance_sheet", args)


@reports_bp.route("/income-statement")
class IncomeStatement(MethodView):
    @require("finance.access")
    @reports_bp.arguments(PeriodArgs, location="query")
    @reports_bp.response(200, ReportSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        """Income statement (利润表): a month and the year to date"""
        return _answer("income_statement", args)


@reports_bp.route("/ar-aging")
class ArAging(MethodView):
    @require("finance.access")
    @reports_bp.arguments(AgingArgs, location="query")
    @reports_bp.response(200, ReportSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        """Receivables aging by customer (or by invoice with detail=true)"""
        return _answer("ar_aging", args)


@reports_bp.route("/ap-aging")
class ApAging(MethodView):
    @require("finance.access")
    @reports_bp.arguments(AgingArgs, location="query")
    @reports_bp.response(200, ReportSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        """Payables aging by supplier (or by bill with detail=true)"""
        return _answer("ap_aging", args)


@reports_bp.route("/statement")
class Statement(MethodView):
    @require("finance.access")
    @reports_bp.arguments(StatementArgs, location="query")
    @reports_bp.response(200, ReportSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        """Customer statement (对账单) for a date range"""
        return _answer("statement", args)


blueprints = [reports_bp]
