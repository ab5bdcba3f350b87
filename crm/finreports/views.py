"""Finance → Reports: one page per report, a parameter form (GET) over the report's table.

Long reports (general ledger, journal) show PAGE_ROWS rows a page; the whole thing is an export.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from flask import Blueprint, abort, g, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.db import db
from crm.finreports import aging
from crm.finreports.base import Report, build
from crm.finreports.common import is_english
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from roles.checks import require

bp = Blueprint("finreports", __name__, url_prefix="/w/<slug>/finance/reports")

PAGE_ROWS = 500
CUSTOMER_OPTIONS = 200

# key, endpoint, title, what it shows, icon
CARDS = (
    ("trial_balance", "finreports.trial_balance", _l("Trial balance"),
     _l("Opening, period and closing balances of every account, balanced."), "table"),
    ("general_ledger", "finreports.general_ledger", _l("General ledger"),
     _l("Each account's lines with a running balance."), "journal-text"),
    ("journal", "finreports.journal", _l("Journal"),
     _l("Every posted line in date order (序时账)."), "list-ol"),
    ("balance_sheet", "finreports.balance_sheet", _l("Balance sheet"),
     _l("Assets, liabilities and equity on a date."), "bank"),
    ("income_statement", "finreports.income_statement", _l("Income statement"),
     _l("Revenue, expenses and profit for a month and the year to date."), "graph-up"),
    ("ar_aging", "finreports.ar_aging", _l("Receivables aging"),
     _l("Open customer invoices by days past due."), "hourglass-split"),
    ("ap_aging", "finreports.ap_aging", _l("Payables aging"),
     _l("Open supplier bills by days past due."), "hourglass-bottom"),
    ("statement", "finreports.statement", _l("Customer statement"),
     _l("A customer's invoices, receipts and balance, to send for confirmation (对账单)."), "envelope-paper"),
)  # fmt: skip
TITLES = {key: title for key, _ep, title, _d, _i in CARDS}
PARAM_KEYS = ("period", "from", "to", "account", "as_of", "detail", "customer")


@bp.get("/")
@require("finance.access")
def index():
    return render_template("finreports/index.html", cards=CARDS)


def _params() -> dict[str, Any]:
    return {k: request.args[k] for k in PARAM_KEYS if request.args.get(k, "").strip() != ""}


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 100_000))
    except ValueError:
        return 1


def _render(key: str, *, paged: bool = False, need: str | None = None, **extra: Any):  # type: ignore[no-untyped-def]
    params = _params()
    report: Report | None = None
    errors: dict[str, str] = {}
    rows: list[Any] = []
    has_next = False
    page = _page_number()
    if need is None or params.get(need):
        try:
            report = build(key, g.tenant, g.member, params)
        except InvalidInput as err:
            errors = dict(err.errors)
    if report is not None:
        if paged:
            start = (page - 1) * PAGE_ROWS
            stream = iter(report.rows)
            rows = list(islice(stream, start, start + PAGE_ROWS + 1))
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # the rest stays in the database: free its cursor now
            has_next = len(rows) > PAGE_ROWS
            rows = rows[:PAGE_ROWS]
        else:
            rows = list(report.rows)
    status = 400 if errors else 200
    return render_template(
        "finreports/report.html",
        key=key,
        title=TITLES[key],
        report=report,
        rows=rows,
        errors=errors,
        values=params,
        page=page,
        has_next=has_next,
        paged=paged,
        report_key=key,
        export_params=(report.params if report is not None else params),
        **extra,
    ), status


@bp.get("/trial-balance")
@require("finance.access")
def trial_balance():
    return _render("trial_balance")


@bp.get("/general-ledger")
@require("finance.access")
def general_ledger():
    from crm.finreports.common import load_accounts  # noqa: PLC0415

    accounts = sorted(load_accounts().values(), key=lambda a: a.code)
    return _render("general_ledger", paged=True, accounts=accounts)


@bp.get("/journal")
@require("finance.access")
def journal():
    return _render("journal", paged=True)


@bp.get("/balance-sheet")
@require("finance.access")
def balance_sheet():
    return _render("balance_sheet")


@bp.get("/income-statement")
@require("finance.access")
def income_statement():
    return _render("income_statement")


@bp.get("/ar-aging")
@require("finance.access")
def ar_aging():
    return _render("ar_aging", chart_of=aging.chart)


@bp.get("/ap-aging")
@require("finance.access")
def ap_aging():
    return _render("ap_aging", chart_of=aging.chart)


@bp.get("/statement")
@require("finance.access")
def statement():
    raw = (request.args.get("customer") or "").strip()
    selected = None
    if raw:
        # Another workspace's (or no) customer: nothing here, as for any foreign id.
        selected = get_in_tenant(Customer, int(raw)) if raw.isdigit() else None
        if selected is None:
            abort(404)
    q = (request.args.get("q") or "").strip()[:100]
    stmt = select(Customer.id, Customer.name).where(Customer.archived_at.is_(None)).order_by(Customer.name)
    if q:
        stmt = stmt.where(Customer.name.contains(q, autoescape=True))
    options = list(db.session.execute(stmt.limit(CUSTOMER_OPTIONS)))
    if selected is not None and all(cid != selected.id for cid, _n in options):
        options.insert(0, (selected.id, selected.name))
    return _render("statement", need="customer", customers=options, q=q, english=is_english())
