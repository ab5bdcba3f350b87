"""The sales ledger (销售台账): order lines as a filtered, paged list; the SUMIF sheets as pivots;
week-over-week, month-over-month and year-over-year growth; reps against their targets.

Every reader takes the member (their data scope applies: a rep sees the lines of their own
orders, a manager their team's, owners and admins everyone's) and a LedgerFilter, and issues a
fixed number of SQL statements whatever the data size. Aggregates are summed in SQL over the
integer fen (and thousandths of a unit for quantities) and read back as exact Decimals.

Cancelled orders are not sales: unless the status filter asks for them ("cancelled" or "all"),
they are left out of the ledger, its totals, the summaries, the growth and the ranking alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, and_, func, literal, or_, select, true, type_coerce
from sqlalchemy.orm import aliased

from crm.audit.services import record
from crm.catalog.models import Product, Scaled
from crm.db import Money, db
from crm.invoicing.models import Invoice
from crm.ledger.models import LedgerView, SalesTarget
from crm.orders.models import DELIVERY_LABELS, DELIVERY_STATUSES, Order, OrderLine
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from roles.checks import PermissionDenied, can, ensure
from roles.scopes import visible_member_ids
from tenants.context import require_tenant_id
from tenants.models import Membership, Tenant, User

ZERO = Decimal("0.00")
QTY_ZERO = Decimal("0.000")
CENT = Decimal("0.01")

# "" = every status but cancelled (the default); "all" includes cancelled orders.
STATUS_CHOICES = ("", "all", *DELIVERY_STATUSES)
DIMENSIONS = ("region", "salesperson", "product", "customer", "month", "week")
TIME_DIMENSIONS = ("month", "week", "quarter", "year")
DIMENSION_LABELS = {
    "region": _l("Region"),
    "salesperson": _l("Sales rep"),
    "product": _l("Product"),
    "customer": _l("Customer"),
    "month": _l("Month"),
    "week": _l("Week"),
}
MEASURES = ("amount", "amount_incl", "quantity")
MEASURE_LABELS = {
    "amount": _l("Amount excluding tax"),
    "amount_incl": _l("Amount including tax"),
    "quantity": _l("Quantity"),
}
PERIODS = ("week", "month", "quarter", "year")
PERIOD_LABELS = {
    "week": _l("Weeks (starting on Monday)"),
    "month": _l("Months"),
    "quarter": _l("Quarters"),
    "year": _l("Years"),
}
COMPARES = ("previous", "year")
GROWTH_BY = ("", "region", "salesperson", "product", "customer")


def growth_title(period: str, compare: str) -> str:
    if compare == "year":
        return _("Year over year")
    return {
        "week": _("Week over week"), "month": _("Month over month"), "quarter": _("Quarter over quarter"),
        "year": _("Year over year"),
    }[period]  # fmt: skip


MAX_RANGE_DAYS = 3700  # about ten years: enough for any ledger, and bounds the buckets
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class LedgerFilter:
    date_from: date | None = None
    date_to: date | None = None
    region: str | None = None
    owner_id: int | None = None
    product_id: int | None = None
    customer_id: int | None = None
    status: str = ""

    def as_params(self) -> dict[str, str]:
        """The filter as query-string parameters (what links, saved views and jobs carry)."""
        out = {
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "region": self.region or "",
            "rep": str(self.owner_id or ""),
            "product": str(self.product_id or ""),
            "customer": str(self.customer_id or ""),
            "status": self.status,
        }
        return {k: v for k, v in out.items() if v}

    @property
    def is_filtered(self) -> bool:
        return bool(self.as_params())


def _int_param(params: Any, key: str, errors: dict[str, str]) -> int | None:
    raw = str(params.get(key) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        errors[key] = _("Choose one from the list.")
        return None
    return int(raw)


def _date_param(params: Any, key: str, errors: dict[str, str]) -> date | None:
    raw = str(params.get(key) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[key] = _("Enter a date as YYYY-MM-DD.")
        return None


def parse_filter(params: Any) -> LedgerFilter:
    """A LedgerFilter from query parameters (from, to, region, rep, product, customer, status);
    InvalidInput naming each bad parameter."""
    errors: dict[str, str] = {}
    date_from = _date_param(params, "from", errors)
    date_to = _date_param(params, "to", errors)
    if date_from and date_to and date_from > date_to:
        errors["to"] = _("The end date is before the start date.")
    status = str(params.get("status") or "").strip()
    if status not in STATUS_CHOICES:
        errors["status"] = _("Unknown status.")
    region = str(params.get("region") or "").strip()
    if len(region) > 30:
        errors["region"] = _("At most %(n)d characters.", n=30)
    out = LedgerFilter(
        date_from=date_from, date_to=date_to, region=region or None,
        owner_id=_int_param(params, "rep", errors), product_id=_int_param(params, "product", errors),
        customer_id=_int_param(params, "customer", errors), status=status if status in STATUS_CHOICES else "",
    )  # fmt: skip
    if errors:
        raise InvalidInput(errors)
    return out


def _conditions(actor: Membership, f: LedgerFilter, *, dates: bool = True) -> list[Any]:
    """WHERE clauses for the order lines this member may see under this filter (lines joined to
    their order)."""
    ensure(actor, "sales.access")
    tid = require_tenant_id()
    conds: list[Any] = [OrderLine.tenant_id == tid, Order.tenant_id == tid]
    visible = visible_member_ids(actor)
    if visible is not None:
        conds.append(Order.owner_id.in_(sorted(visible)))
    if f.status == "":
        conds.append(Order.delivery_status != "cancelled")
    elif f.status != "all":
        conds.append(Order.delivery_status == f.status)
    if dates and f.date_from is not None:
        conds.append(Order.order_date >= f.date_from)
    if dates and f.date_to is not None:
        conds.append(Order.order_date <= f.date_to)
    if f.region:
        conds.append(Order.province == f.region)
    if f.owner_id is not None:
        conds.append(Order.owner_id == f.owner_id)
    if f.product_id is not None:
        conds.append(OrderLine.product_id == f.product_id)
    if f.customer_id is not None:
        conds.append(Order.customer_id == f.customer_id)
    return conds


def _fen(col: Any) -> Any:
    return type_coerce(col, BigInteger)


def _sum(col: Any, kind: Any) -> Any:
    return type_coerce(func.coalesce(func.sum(_fen(col)), 0), kind)


def _measures() -> list[Any]:
    return [
        _sum(OrderLine.quantity, Scaled(3)),
        _sum(OrderLine.amount_excl, Money()),
        _sum(OrderLine.amount_incl, Money()),
    ]


# ---------------------------------------------------------------- the ledger


@dataclass
class LedgerRow:
    line_id: int
    order_id: int
    order_date: date
    number: str
    customer_id: int
    customer: str
    region: str
    owner_id: int | None
    salesperson: str
    product_id: int | None
    product: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    amount_excl: Decimal
    amount_incl: Decimal
    status: str
    received: Decimal = ZERO
    outstanding: Decimal = ZERO
    position: int = 0

    @property
    def status_label(self) -> str:
        return str(DELIVERY_LABELS.get(self.status, self.status))


@dataclass
class LedgerPage:
    rows: list[LedgerRow]
    total: int
    quantity: Decimal
    amount_excl: Decimal
    amount_incl: Decimal
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max((self.total + self.page_size - 1) // self.page_size, 1)


def _row_statement(conds: list[Any]) -> Any:
    owner_user = aliased(User)
    owner = aliased(Membership)
    # The order's lines up to and including this one (whatever the filter leaves out): received
    # and outstanding are spread over the lines by this cumulative share, so that the parts of
    # an order's lines add up to exactly the order's figures.
    earlier = aliased(OrderLine)
    running = (
        select(func.sum(_fen(earlier.amount_incl)))
        .where(
            earlier.tenant_id == OrderLine.tenant_id, earlier.order_id == OrderLine.order_id,
            or_(earlier.position < OrderLine.position,
                and_(earlier.position == OrderLine.position, earlier.id <= OrderLine.id)),
        )
        .correlate(OrderLine)
        .scalar_subquery()
    )  # fmt: skip
    return (
        select(
            OrderLine.id, Order.id, Order.order_date, Order.number, Order.customer_id, Customer.name,
            Order.province, Order.owner_id, owner_user.name, OrderLine.product_id,
            func.coalesce(Product.name, OrderLine.description), OrderLine.unit, OrderLine.quantity,
            OrderLine.unit_price, OrderLine.amount_excl, OrderLine.amount_incl, Order.delivery_status,
            _fen(Order.total_incl), running, OrderLine.position,
        )
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .outerjoin(owner, owner.id == Order.owner_id)
        .outerjoin(owner_user, owner_user.id == owner.user_id)
        .outerjoin(Product, Product.id == OrderLine.product_id)
        .where(*conds)
    )  # fmt: skip


ORDERING = (Order.order_date.desc(), Order.id.desc(), OrderLine.position, OrderLine.id)


def _received_by_order(order_ids: list[int]) -> dict[int, Decimal]:
    """order id → money received on the order's posted (not reversed) customer invoices."""
    if not order_ids:
        return {}
    stmt = (
        select(Invoice.order_id, _sum(Invoice.total_incl, Money()), _sum(Invoice.open_amount, Money()))
        .where(
            Invoice.order_id.in_(order_ids), Invoice.direction == "receivable",
            Invoice.status.in_(("posted", "paid")), Invoice.tenant_id == require_tenant_id(),
        )
        .group_by(Invoice.order_id)
    )  # fmt: skip
    return {oid: total - open_ for oid, total, open_ in db.session.execute(stmt)}


def _share(amount: Decimal, upto_fen: int, total_fen: int) -> Decimal:
    if total_fen == 0:
        return ZERO
    return (amount * upto_fen / total_fen).quantize(CENT, rounding=ROUND_HALF_UP)


def _rows(result: Any, with_money: bool = True) -> list[LedgerRow]:
    raw = list(result)
    received = _received_by_order(sorted({r[1] for r in raw})) if with_money else {}
    rows = []
    for (line_id, order_id, d, number, cid, cname, province, owner_id, owner_name, pid, pname, unit, qty,
         price, excl, incl, status, total_fen, running, position) in raw:  # fmt: skip
        row = LedgerRow(
            line_id=line_id, order_id=order_id, order_date=d, number=number, customer_id=cid, customer=cname,
            region=province or "", owner_id=owner_id, salesperson=owner_name or "", product_id=pid,
            product=pname or "", unit=unit or "", quantity=qty, unit_price=price, amount_excl=excl,
            amount_incl=incl, status=status, position=position,
        )  # fmt: skip
        if status != "cancelled":
            got = received.get(order_id, ZERO)
            before = int(running) - int(_fen_of(incl))
            row.received = _share(got, int(running), int(total_fen)) - _share(got, before, int(total_fen))
            row.outstanding = incl - row.received
        rows.append(row)
    return rows


def _fen_of(amount: Decimal) -> int:
    return int(amount * 100)


def ledger_page(actor: Membership, f: LedgerFilter, page: int = 1, page_size: int = PAGE_SIZE) -> LedgerPage:
    """One page of the ledger, newest first, with the count and sums of the whole filtered set:
    three statements (sums, the page, the page's receipts) plus the scope look-up."""
    page = max(page, 1)
    page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
    conds = _conditions(actor, f)
    count, qty, excl, incl = db.session.execute(
        select(func.count(OrderLine.id), *_measures())
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .where(*conds)
    ).one()
    result = db.session.execute(
        _row_statement(conds).order_by(*ORDERING).offset((page - 1) * page_size).limit(page_size)
    )
    return LedgerPage(_rows(result), int(count or 0), qty, excl, incl, page, page_size)


def iter_ledger(actor: Membership, f: LedgerFilter, chunk: int = 5000) -> Iterator[LedgerRow]:
    """Every line of the filtered ledger, in page order, read in chunks by keyset (each chunk
    starts after the last line of the one before, so a million lines cost no more per chunk at
    the end than at the start): memory stays bounded whatever the size."""
    conds = _conditions(actor, f)
    after: list[Any] = []
    while True:
        stmt = _row_statement(conds + after).order_by(*ORDERING).limit(chunk)
        batch = _rows(db.session.execute(stmt))
        yield from batch
        if len(batch) < chunk:
            return
        last = batch[-1]
        d, oid, pos, lid = last.order_date, last.order_id, last.position, last.line_id
        after = [
            or_(
                Order.order_date < d,
                and_(Order.order_date == d, Order.id < oid),
                and_(Order.order_date == d, Order.id == oid,
                     or_(OrderLine.position > pos, and_(OrderLine.position == pos, OrderLine.id > lid))),
            )
        ]  # fmt: skip


def count_lines(actor: Membership, f: LedgerFilter) -> int:
    conds = _conditions(actor, f)
    return int(
        db.session.scalar(
            select(func.count(OrderLine.id)).select_from(OrderLine).join(Order, Order.id == OrderLine.order_id)
            .where(*conds)
        ) or 0
    )  # fmt: skip


# ---------------------------------------------------------------- time buckets


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def bucket_expr(kind: str) -> Any:
    """SQL for the bucket of Order.order_date: month "2026-03", week "2026-03-02" (its Monday),
    quarter "2026-Q1", year "2026"."""
    d = Order.order_date
    if _dialect() == "postgresql":
        if kind == "week":
            return func.to_char(func.date_trunc("week", d), "YYYY-MM-DD")
        fmt = {"month": "YYYY-MM", "quarter": 'YYYY-"Q"Q', "year": "YYYY"}[kind]
        return func.to_char(d, fmt)
    if kind == "week":
        return func.date(d, "weekday 0", "-6 days")
    if kind == "quarter":
        month = type_coerce(func.cast(func.strftime("%m", d), BigInteger), BigInteger)
        return func.strftime("%Y", d) + literal("-Q") + func.cast((month + 2) / 3, db.String)
    return func.strftime({"month": "%Y-%m", "year": "%Y"}[kind], d)


def bucket_of(kind: str, d: date) -> str:
    if kind == "week":
        return (d - timedelta(days=d.weekday())).isoformat()
    if kind == "month":
        return f"{d.year:04d}-{d.month:02d}"
    if kind == "quarter":
        return f"{d.year:04d}-Q{(d.month + 2) // 3}"
    return f"{d.year:04d}"


def bucket_start(kind: str, key: str) -> date:
    if kind == "week":
        return date.fromisoformat(key)
    if kind == "month":
        return date(int(key[:4]), int(key[5:7]), 1)
    if kind == "quarter":
        return date(int(key[:4]), (int(key[-1]) - 1) * 3 + 1, 1)
    return date(int(key), 1, 1)


def shift(kind: str, start: date, n: int) -> date:
    """The start of the bucket n buckets after the one starting at ``start``."""
    if kind == "week":
        return start + timedelta(weeks=n)
    months = {"month": 1, "quarter": 3, "year": 12}[kind] * n
    m = start.year * 12 + start.month - 1 + months
    return date(m // 12, m % 12 + 1, 1)


def buckets_between(kind: str, first: date, last: date) -> list[str]:
    out = []
    start = bucket_start(kind, bucket_of(kind, first))
    while start <= last:
        out.append(bucket_of(kind, start))
        start = shift(kind, start, 1)
    return out


def bucket_label(kind: str, key: str) -> str:
    if kind == "week":
        return _("Week of %(date)s", date=key)
    return key


# ---------------------------------------------------------------- labels of dimension keys


def _dimension_expr(dim: str) -> Any:
    if dim == "region":
        return func.coalesce(Order.province, "")
    if dim == "salesperson":
        return Order.owner_id
    if dim == "product":
        return OrderLine.product_id
    if dim == "customer":
        return Order.customer_id
    return bucket_expr(dim)


def _labels(dim: str, keys: set[Any]) -> dict[Any, str]:
    """Labels for the keys of one dimension: one statement for reps, products and customers."""
    if dim == "region":
        return {k: k or _("(no region)") for k in keys}
    if dim in TIME_DIMENSIONS:
        return {k: bucket_label(dim, k) for k in keys}
    ids = sorted(k for k in keys if k is not None)
    out: dict[Any, str] = {}
    if ids:
        if dim == "salesperson":
            stmt: Any = select(Membership.id, User.name).join(User, User.id == Membership.user_id)
            stmt = stmt.where(Membership.id.in_(ids))
        elif dim == "product":
            stmt = select(Product.id, Product.name).where(Product.id.in_(ids))
        else:
            stmt = select(Customer.id, Customer.name).where(Customer.id.in_(ids))
        out.update({i: n for i, n in db.session.execute(stmt)})
    if None in keys:
        out[None] = _("(no product)") if dim == "product" else _("(nobody)")
    return out


# ---------------------------------------------------------------- summaries (pivots)


@dataclass
class Figures:
    quantity: Decimal = QTY_ZERO
    amount: Decimal = ZERO
    amount_incl: Decimal = ZERO

    def add(self, other: Figures) -> None:
        self.quantity += other.quantity
        self.amount += other.amount
        self.amount_incl += other.amount_incl

    def get(self, measure: str) -> Decimal:
        return getattr(self, measure)  # type: ignore[no-any-return]


@dataclass
class Pivot:
    rows_dim: str
    cols_dim: str | None
    measure: str
    row_keys: list[Any]
    col_keys: list[Any]
    row_labels: dict[Any, str]
    col_labels: dict[Any, str]
    cells: dict[tuple[Any, Any], Figures]
    row_totals: dict[Any, Figures]
    col_totals: dict[Any, Figures]
    total: Figures
    filters: LedgerFilter = field(default_factory=LedgerFilter)

    def cell(self, rk: Any, ck: Any = None) -> Figures:
        return self.cells.get((rk, ck)) or Figures()

    @property
    def is_empty(self) -> bool:
        return not self.row_keys


def _order_keys(dim: str, figures: dict[Any, Figures], labels: dict[Any, str]) -> list[Any]:
    if dim in TIME_DIMENSIONS:
        return sorted(figures, key=lambda k: (k is None, k or ""))
    return sorted(figures, key=lambda k: (-figures[k].amount, labels.get(k, "")))


def check_dimensions(rows: str, cols: str | None, measure: str) -> None:
    errors = {}
    if rows not in DIMENSIONS:
        errors["rows"] = _("Choose one of: %(list)s.", list=", ".join(DIMENSIONS))
    if cols and (cols not in DIMENSIONS or cols == rows):
        errors["cols"] = _("Choose a second dimension other than the first, or none.")
    if measure not in MEASURES:
        errors["measure"] = _("Choose one of: %(list)s.", list=", ".join(MEASURES))
    if errors:
        raise InvalidInput(errors)


def summarize(actor: Membership, f: LedgerFilter, rows: str, cols: str | None = None, measure: str = "amount") -> Pivot:
    """The SUMIF sheet: quantity and amounts per value of one or two dimensions, with row and
    column totals. One aggregate statement, plus one per named dimension for the labels."""
    check_dimensions(rows, cols, measure)
    conds = _conditions(actor, f)
    rk_expr = _dimension_expr(rows).label("rk")
    keys: list[Any] = [rk_expr]
    if cols:
        keys.append(_dimension_expr(cols).label("ck"))
    stmt = (
        select(*keys, *_measures())
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .where(*conds)
        .group_by(*(k.name for k in keys))
    )
    cells: dict[tuple[Any, Any], Figures] = {}
    row_totals: dict[Any, Figures] = {}
    col_totals: dict[Any, Figures] = {}
    total = Figures()
    for r in db.session.execute(stmt):
        rk, ck = r[0], (r[1] if cols else None)
        fig = Figures(*r[-3:])
        cells[(rk, ck)] = fig
        row_totals.setdefault(rk, Figures()).add(fig)
        col_totals.setdefault(ck, Figures()).add(fig)
        total.add(fig)
    row_labels = _labels(rows, set(row_totals))
    col_labels = _labels(cols, set(col_totals)) if cols else {}
    return Pivot(
        rows_dim=rows, cols_dim=cols, measure=measure,
        row_keys=_order_keys(rows, row_totals, row_labels),
        col_keys=_order_keys(cols, col_totals, col_labels) if cols else [],
        row_labels=row_labels, col_labels=col_labels, cells=cells, row_totals=row_totals,
        col_totals=col_totals, total=total, filters=f,
    )  # fmt: skip


# ---------------------------------------------------------------- growth


def growth_pct(current: Decimal, earlier: Decimal) -> Decimal | None:
    """(current − earlier) / |earlier| in per cent, to 0.1; None ("—") when earlier is 0."""
    if not earlier:
        return None
    return ((current - earlier) / abs(earlier) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class GrowthCell:
    value: Decimal
    earlier: Decimal
    pct: Decimal | None


@dataclass
class Growth:
    by: str
    period: str
    compare: str
    measure: str
    buckets: list[str]
    bucket_labels: dict[str, str]
    keys: list[Any]
    labels: dict[Any, str]
    cells: dict[tuple[Any, str], GrowthCell]
    totals: dict[str, GrowthCell]
    filters: LedgerFilter = field(default_factory=LedgerFilter)

    @property
    def is_empty(self) -> bool:
        return not any(c.value or c.earlier for c in self.totals.values())


def earlier_bucket(period: str, compare: str, key: str) -> str:
    start = bucket_start(period, key)
    if compare == "year":
        if period == "week":
            return bucket_of("week", start - timedelta(weeks=52))
        return bucket_of(period, shift("month", start, -12))
    return bucket_of(period, shift(period, start, -1))


def growth(
    actor: Membership,
    f: LedgerFilter,
    period: str = "month",
    by: str = "",
    compare: str = "previous",
    measure: str = "amount",
    today: date | None = None,
) -> Growth:
    """Each bucket of the period between the filter's dates (default: the last 12 buckets to
    today) against the bucket before it (compare="previous": 周环比 / 环比) or the same bucket a
    year earlier (compare="year": 同比), per value of ``by`` (or in total). One aggregate
    statement over the range and the earlier buckets, plus one for the labels."""
    errors = {}
    if period not in PERIODS:
        errors["period"] = _("Choose one of: %(list)s.", list=", ".join(PERIODS))
    if by not in GROWTH_BY:
        errors["by"] = _("Choose one of: %(list)s.", list=", ".join(x for x in GROWTH_BY if x))
    if compare not in COMPARES:
        errors["compare"] = _("Choose one of: %(list)s.", list=", ".join(COMPARES))
    if measure not in MEASURES:
        errors["measure"] = _("Choose one of: %(list)s.", list=", ".join(MEASURES))
    if errors:
        raise InvalidInput(errors)
    last = f.date_to or today or date.today()
    first = f.date_from or shift(period, bucket_start(period, bucket_of(period, last)), -11)
    if (last - first).days > MAX_RANGE_DAYS:
        raise InvalidInput({"from": _("Choose at most ten years.")})
    buckets = buckets_between(period, first, last)
    earlier = {b: earlier_bucket(period, compare, b) for b in buckets}
    fetch_from = min(bucket_start(period, e) for e in earlier.values())
    conds = _conditions(actor, f, dates=False)
    conds += [Order.order_date >= fetch_from, Order.order_date <= last]
    bucket = bucket_expr(period).label("b")
    keys: list[Any] = [bucket]
    if by:
        keys.append(_dimension_expr(by).label("k"))
    stmt = (
        select(*keys, *_measures())
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .where(*conds)
        .group_by(*(k.name for k in keys))
    )
    values: dict[tuple[Any, str], Decimal] = {}
    totals: dict[str, Decimal] = {}
    pick = {"quantity": -3, "amount": -2, "amount_incl": -1}[measure]
    for r in db.session.execute(stmt):
        b, k = r[0], (r[1] if by else None)
        # A bucket starting before `first` still counts whole inside the range's first bucket.
        values[(k, b)] = values.get((k, b), QTY_ZERO if measure == "quantity" else ZERO) + r[pick]
        totals[b] = totals.get(b, QTY_ZERO if measure == "quantity" else ZERO) + r[pick]
    zero = QTY_ZERO if measure == "quantity" else ZERO
    key_set = {k for k, b in values if b in buckets} if by else {None}

    cells = {}
    for k in key_set:
        for b in buckets:
            cur, was = values.get((k, b), zero), values.get((k, earlier[b]), zero)
            cells[(k, b)] = GrowthCell(cur, was, growth_pct(cur, was))
    total_cells = {}
    for b in buckets:
        cur, was = totals.get(b, zero), totals.get(earlier[b], zero)
        total_cells[b] = GrowthCell(cur, was, growth_pct(cur, was))
    labels = _labels(by, key_set) if by else {None: _("Total")}
    sums = {k: sum((cells[(k, b)].value for b in buckets), zero) for k in key_set}
    ordered = sorted(key_set, key=lambda k: (-sums[k], labels.get(k, "")))
    return Growth(
        by=by, period=period, compare=compare, measure=measure, buckets=buckets,
        bucket_labels={b: bucket_label(period, b) for b in buckets}, keys=ordered, labels=labels, cells=cells,
        totals=total_cells, filters=f,
    )  # fmt: skip


# ---------------------------------------------------------------- targets and ranking


def parse_period(raw: Any) -> tuple[str, date, date]:
    """("2026-03" | "2026-Q1") → (period, first day, last day); InvalidInput otherwise."""
    text = str(raw or "").strip().upper()
    m = MONTH_RE.match(text)
    if m:
        start = date(int(m.group(1)), int(m.group(2)), 1)
        return text, start, shift("month", start, 1) - timedelta(days=1)
    q = QUARTER_RE.match(text)
    if q:
        start = date(int(q.group(1)), (int(q.group(2)) - 1) * 3 + 1, 1)
        return text, start, shift("quarter", start, 1) - timedelta(days=1)
    raise InvalidInput({"period": _("Enter a month as YYYY-MM or a quarter as YYYY-Q1 … YYYY-Q4.")})


def months_of(period: str) -> list[str]:
    if QUARTER_RE.match(period):
        first = (int(period[-1]) - 1) * 3 + 1
        return [f"{period[:4]}-{m:02d}" for m in range(first, first + 3)]
    return []


def sales_reps(actor: Membership) -> list[Membership]:
    """Active members with sales access in the actor's scope (one statement plus the scope)."""
    visible = visible_member_ids(actor)
    stmt = select(Membership).join(User, User.id == Membership.user_id).where(Membership.is_active.is_(True))
    if visible is not None:
        stmt = stmt.where(Membership.id.in_(sorted(visible)))
    from sqlalchemy.orm import joinedload  # noqa: PLC0415

    members = db.session.scalars(stmt.options(joinedload(Membership.user)).order_by(User.name, Membership.id))
    return [m for m in members if can(m, "sales.access")]


@dataclass
class RankRow:
    rank: int
    member_id: int
    name: str
    target: Decimal | None
    actual: Decimal
    quantity: Decimal
    orders: int

    @property
    def completion(self) -> Decimal | None:
        if not self.target:
            return None
        return (self.actual / self.target * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def gap(self) -> Decimal | None:
        return None if self.target is None else max(self.target - self.actual, ZERO)


@dataclass
class Ranking:
    period: str
    start: date
    end: date
    rows: list[RankRow]

    @property
    def total_target(self) -> Decimal:
        return sum((r.target or ZERO for r in self.rows), ZERO)

    @property
    def total_actual(self) -> Decimal:
        return sum((r.actual for r in self.rows), ZERO)


def targets_for(period: str, member_ids: list[int]) -> dict[int, Decimal]:
    """member id → target: the period's own, or for a quarter without one the sum of its months'."""
    wanted = [period, *months_of(period)]
    stmt = select(SalesTarget.member_id, SalesTarget.period, SalesTarget.amount).where(
        SalesTarget.period.in_(wanted), SalesTarget.member_id.in_(member_ids)
    )
    own: dict[int, Decimal] = {}
    monthly: dict[int, Decimal] = {}
    for mid, p, amount in db.session.execute(stmt):
        if p == period:
            own[mid] = amount
        else:
            monthly[mid] = monthly.get(mid, ZERO) + amount
    return {**monthly, **own}


def ranking(actor: Membership, period: str) -> Ranking:
    """Reps in the actor's scope by sales excluding tax in the month or quarter, against their
    targets: the reps, their sales, and their targets — three statements plus the scope."""
    period, start, end = parse_period(period)
    reps = sales_reps(actor)
    ids = [m.id for m in reps]
    conds = _conditions(actor, LedgerFilter(date_from=start, date_to=end))
    stmt = (
        select(Order.owner_id, *_measures(), func.count(func.distinct(Order.id)))
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .where(*conds, Order.owner_id.in_(ids) if ids else literal(False))
        .group_by(Order.owner_id)
    )
    sales = {r[0]: r for r in db.session.execute(stmt)} if ids else {}
    targets = targets_for(period, ids) if ids else {}
    rows = []
    for m in reps:
        s = sales.get(m.id)
        rows.append(RankRow(0, m.id, m.user.name, targets.get(m.id), s[2] if s else ZERO,
                            s[1] if s else QTY_ZERO, int(s[4]) if s else 0))  # fmt: skip
    rows.sort(key=lambda r: (-r.actual, -(r.completion or Decimal(-1)), r.name))
    for i, r in enumerate(rows, start=1):
        r.rank = i
    return Ranking(period, start, end, rows)


def _target_member(actor: Membership, member_id: Any) -> Membership:
    try:
        mid = int(member_id)
    except (TypeError, ValueError):
        raise InvalidInput({"member_id": _("Choose a sales rep.")}) from None
    member = db.session.get(Membership, mid)
    if member is None or member.tenant_id != require_tenant_id():
        raise InvalidInput({"member_id": _("Choose a sales rep.")})
    visible = visible_member_ids(actor)
    if (visible is not None and member.id not in visible) or not can(member, "sales.access"):
        raise InvalidInput({"member_id": _("Choose a sales rep in your team.")})
    return member


def parse_amount(raw: Any) -> Decimal:
    text = str(raw if raw is not None else "").strip().replace(",", "").replace("，", "")
    try:
        amount = Decimal(text)
    except ArithmeticError:
        raise InvalidInput({"amount": _("Enter an amount, such as 50000.00.")}) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e13"):
        raise InvalidInput({"amount": _("Enter an amount from 0 to 9,999,999,999,999.99.")})
    if amount != amount.quantize(CENT):
        raise InvalidInput({"amount": _("At most two decimal places.")})
    return amount.quantize(CENT)


def set_target(tenant: Tenant, actor: Membership, member_id: Any, period: Any, amount: Any) -> SalesTarget:
    """Create or change a rep's target for a month or quarter (targets.manage, rep in scope)."""
    ensure(actor, "targets.manage")
    errors: dict[str, str] = {}
    member = period_text = value = None
    for fn in (lambda: _target_member(actor, member_id), lambda: parse_period(period)[0],
               lambda: parse_amount(amount)):  # fmt: skip
        try:
            result = fn()
        except InvalidInput as err:
            errors.update(err.errors)
            continue
        if isinstance(result, Membership):
            member = result
        elif isinstance(result, str):
            period_text = result
        else:
            value = result
    if errors:
        raise InvalidInput(errors)
    assert member is not None and period_text is not None and value is not None
    target = db.session.scalars(
        select(SalesTarget).where(SalesTarget.member_id == member.id, SalesTarget.period == period_text)
    ).one_or_none()
    before = None if target is None else f"{target.amount:.2f}"
    if target is None:
        target = SalesTarget(member_id=member.id, period=period_text, amount=value, set_by_id=actor.id)
        db.session.add(target)
    else:
        target.amount, target.set_by_id = value, actor.id
    db.session.flush()
    record("sales_target.set", target, actor=actor, summary=f"{member.user.name} {period_text}: {value:.2f}",
           changes={"amount": [before, f"{value:.2f}"]})  # fmt: skip
    return target


def can_manage_target(actor: Membership, target: SalesTarget) -> bool:
    if not can(actor, "targets.manage"):
        return False
    visible = visible_member_ids(actor)
    return visible is None or target.member_id in visible


def visible_target(actor: Membership, target: SalesTarget) -> bool:
    visible = visible_member_ids(actor)
    return visible is None or target.member_id in visible


def delete_target(actor: Membership, target: SalesTarget) -> None:
    if not can_manage_target(actor, target):
        raise PermissionDenied("targets.manage")
    record("sales_target.deleted", target, actor=actor, summary=f"{target.member.user.name} {target.period}")
    db.session.delete(target)
    db.session.flush()


def list_targets(actor: Membership, period: str | None = None) -> list[SalesTarget]:
    ensure(actor, "sales.access")
    from sqlalchemy.orm import joinedload  # noqa: PLC0415

    stmt = select(SalesTarget).options(joinedload(SalesTarget.member).joinedload(Membership.user))
    visible = visible_member_ids(actor)
    if visible is not None:
        stmt = stmt.where(SalesTarget.member_id.in_(sorted(visible)))
    if period:
        stmt = stmt.where(SalesTarget.period == parse_period(period)[0])
    return list(db.session.scalars(stmt.order_by(SalesTarget.period.desc(), SalesTarget.member_id)))


# ---------------------------------------------------------------- saved views

VIEW_KEYS = ("from", "to", "region", "rep", "product", "customer", "status", "rows", "cols", "measure", "period",
             "by", "compare")  # fmt: skip


def clean_view_params(params: Any) -> dict[str, str]:
    """Only the ledger's own parameters, checked: a saved view can never hold anything else."""
    out = {k: str(params.get(k) or "").strip()[:40] for k in VIEW_KEYS}
    out = {k: v for k, v in out.items() if v}
    parse_filter(out)
    return out


def visible_views(actor: Membership) -> list[LedgerView]:
    """The member's own views and every shared one (one statement)."""
    ensure(actor, "sales.access")
    from sqlalchemy.orm import joinedload  # noqa: PLC0415

    stmt = (
        select(LedgerView)
        .options(joinedload(LedgerView.owner).joinedload(Membership.user))
        .where(or_(LedgerView.owner_id == actor.id, LedgerView.shared.is_(True)))
        .order_by(LedgerView.shared, LedgerView.name, LedgerView.id)
    )
    return list(db.session.scalars(stmt))


def can_use_view(actor: Membership, view: LedgerView) -> bool:
    return can(actor, "sales.access") and (view.owner_id == actor.id or view.shared)


def save_view(tenant: Tenant, actor: Membership, name: Any, params: Any, shared: bool = False) -> LedgerView:
    """Save (or overwrite, by name) one of the member's views; only managers (targets.manage)
    share a view with the team."""
    ensure(actor, "sales.access")
    errors = {}
    text = str(name or "").strip()
    if not text:
        errors["name"] = _("Give the view a name.")
    elif len(text) > 80:
        errors["name"] = _("At most %(n)d characters.", n=80)
    if shared and not can(actor, "targets.manage"):
        errors["shared"] = _("Only sales managers share views with the team.")
    try:
        clean = clean_view_params(params)
    except InvalidInput as err:
        errors.update(err.errors)
        clean = {}
    if errors:
        raise InvalidInput(errors)
    view = db.session.scalars(
        select(LedgerView).where(LedgerView.owner_id == actor.id, LedgerView.name == text)
    ).one_or_none()
    if view is None:
        view = LedgerView(owner_id=actor.id, name=text)
        db.session.add(view)
    view.params, view.shared = clean, bool(shared)
    db.session.flush()
    record("ledger_view.saved", view, actor=actor, summary=text)
    return view


def delete_view(actor: Membership, view: LedgerView) -> None:
    """A member deletes their own views; a manager also a shared one."""
    if view.owner_id != actor.id and not (view.shared and can(actor, "targets.manage")):
        raise PermissionDenied("targets.manage")
    record("ledger_view.deleted", view, actor=actor, summary=view.name)
    db.session.delete(view)
    db.session.flush()


# ---------------------------------------------------------------- choices for the filter form


def filter_choices(actor: Membership) -> dict[str, list[tuple[Any, str]]]:
    """Regions, reps, products and customers found on the orders the member sees (four
    statements plus the scope). Customers are those with orders, so the list stays short."""
    tid = require_tenant_id()
    visible = visible_member_ids(actor)
    scope = Order.owner_id.in_(sorted(visible)) if visible is not None else true()
    regions = db.session.scalars(
        select(Order.province).where(Order.tenant_id == tid, scope, Order.province.is_not(None))
        .distinct().order_by(Order.province)
    )  # fmt: skip
    reps = sales_reps(actor)
    products = db.session.execute(
        select(Product.id, Product.name).where(Product.tenant_id == tid).order_by(Product.name).limit(500)
    )
    customers = db.session.execute(
        select(Customer.id, Customer.name)
        .where(Customer.tenant_id == tid,
               Customer.id.in_(select(Order.customer_id).where(Order.tenant_id == tid, scope)))
        .order_by(Customer.name)
        .limit(500)
    )  # fmt: skip
    return {
        "regions": [(r, r) for r in regions if r],
        "reps": [(m.id, m.user.name) for m in reps],
        "products": [(i, n) for i, n in products],
        "customers": [(i, n) for i, n in customers],
        "statuses": [("", _("All but cancelled")), ("all", _("All, cancelled included"))]
        + [(k, str(v)) for k, v in DELIVERY_LABELS.items()],
    }
