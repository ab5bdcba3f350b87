"""The ledger and its summaries to files, as the member sees them.

xlsx: a data sheet with every filtered line (streamed in constant memory) and summary sheets
whose figures are real formulas over it — SUMIFS per cell, SUM for the totals, and for growth
IF(earlier=0,"—",(now−earlier)/|earlier|) — each written with its value already computed (so a
viewer that does not recalculate still shows the numbers). The file goes on working as a
spreadsheet: edit a line on the data sheet and the summaries follow. The criteria match on
number columns of the data sheet (month 202603, the week's Monday, a region number, the ids of
rep, product and customer), never on free text, so no name can act as a wildcard or an
operator. The hidden line-id column lets an edited file be matched back to its lines.

PDF: the same tables laid out by crm.finreports.export (header on every page, chunked).
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from flask_babel import gettext as _

from crm.exports.xlsx import excel_number, safe_cell
from crm.finreports.base import Column, Report
from crm.ledger import services
from crm.ledger.services import DIMENSION_LABELS, MEASURE_LABELS, LedgerFilter
from roles.checks import ensure
from tenants.models import Membership

Progress = Callable[[int, int | None], None]
PROGRESS_EVERY = 5000
EXCEL_EPOCH = date(1899, 12, 30)
MAX_FORMULA_CELLS = 20_000  # a bigger pivot is written as values (that many SUMIFS would crawl)

SUMMARY_SHEETS = ("region", "salesperson", "product", "month")  # the ledger export's SUMIF sheets


def sheet_titles() -> dict[str, str]:
    return {"region": _("By region"), "salesperson": _("By sales rep"), "product": _("By product"),
            "month": _("By month")}  # fmt: skip


def check_params(actor: Membership, what: str, params: dict[str, Any]) -> dict[str, str]:
    """The export's parameters, checked as the page checks them; InvalidInput when bad."""
    f = services.parse_filter(params)
    out = dict(f.as_params())
    if what == "summary":
        rows, cols, measure = (
            params.get("rows") or "region",
            params.get("cols") or "",
            params.get("measure") or "amount",
        )
        services.check_dimensions(rows, cols or None, measure)
        out.update({"rows": rows, "cols": cols, "measure": measure})
    elif what == "growth":
        period, by = params.get("period") or "month", params.get("by") or ""
        compare, measure = params.get("compare") or "previous", params.get("measure") or "amount"
        services.growth(actor, f, period, by, compare, measure)  # checks, and cheap enough
        out.update({"period": period, "by": by, "compare": compare, "measure": measure})
    ensure(actor, "sales.access")
    return {k: v for k, v in out.items() if v}


# ---------------------------------------------------------------- the data sheet


@dataclass(frozen=True)
class DataCol:
    label: Any
    width: int
    kind: str  # text | date | money | qty | int | hidden


def data_columns() -> list[DataCol]:
    return [
        DataCol(_("Date"), 11, "date"), DataCol(_("Order number"), 18, "text"), DataCol(_("Customer"), 28, "text"),
        DataCol(_("Region"), 10, "text"), DataCol(_("Sales rep"), 10, "text"), DataCol(_("Product"), 24, "text"),
        DataCol(_("Unit"), 6, "text"), DataCol(_("Quantity"), 10, "qty"), DataCol(_("Unit price"), 12, "money"),
        DataCol(_("Amount excluding tax"), 14, "money"), DataCol(_("Amount including tax"), 14, "money"),
        DataCol(_("Status"), 10, "text"), DataCol(_("Received"), 12, "money"), DataCol(_("Outstanding"), 12, "money"),
        DataCol(_("Month"), 8, "int"), DataCol(_("Week (Monday)"), 11, "date"),
        DataCol(_("Region number"), 6, "hidden"), DataCol(_("Line id"), 8, "hidden"),
        DataCol(_("Customer id"), 8, "hidden"), DataCol(_("Sales rep id"), 8, "hidden"),
        DataCol(_("Product id"), 8, "hidden"),
    ]  # fmt: skip


# Column letters of the data sheet the formulas use.
COL = {"quantity": "H", "amount": "J", "amount_incl": "K", "month": "O", "week": "P", "region": "Q",
       "customer": "S", "salesperson": "T", "product": "U"}  # fmt: skip


def qty(q: Decimal) -> Decimal:
    """A quantity without trailing zeros or an exponent (60.000 → 60, 2.500 → 2.5)."""
    return Decimal(format(q.normalize(), "f"))


def serial(d: date) -> int:
    return (d - EXCEL_EPOCH).days


def month_number(key: str) -> int:
    return int(key[:4]) * 100 + int(key[5:7])


class Keys:
    """Number of a dimension's key as the data sheet holds it."""

    def __init__(self, regions: list[str]) -> None:
        self.regions = {r: i for i, r in enumerate(sorted(set(regions)), start=1)}

    def number(self, dim: str, key: Any) -> int:
        if dim == "region":
            return self.regions.get(key or "", 0) if key else 0
        if dim == "month":
            return month_number(key)
        if dim == "week":
            return serial(date.fromisoformat(key))
        return int(key or 0)


def _sheet_name(text: str, used: set[str]) -> str:
    name = str(text).translate(str.maketrans("[]:*?/\\", "()：＊？／＼"))[:31] or "Sheet"
    base, n = name, 2
    while name in used:
        name = f"{base[:28]} {n}"
        n += 1
    used.add(name)
    return name


def _num(value: Decimal) -> float:
    return excel_number(value) if isinstance(value, Decimal) else float(value)


class Book:
    """An xlsx workbook with the formats the ledger uses."""

    def __init__(self, target: str | Path | IO[bytes]) -> None:
        self.wb = xlsxwriter.Workbook(
            str(target) if isinstance(target, Path) else target,
            {"constant_memory": True, "remove_timezone": True, "tmpdir": tempfile.gettempdir()},
        )
        add = self.wb.add_format
        self.head = add({"bold": True, "bg_color": "#E9ECEF", "border": 1, "text_wrap": True})
        self.title = add({"bold": True, "font_size": 14})
        self.meta = add({"font_color": "#555555"})
        self.money = add({"num_format": "#,##0.00"})
        self.qty = add({"num_format": "#,##0.###"})
        self.date = add({"num_format": "yyyy-mm-dd"})
        self.int = add({"num_format": "0"})
        self.pct = add({"num_format": "0.0%", "align": "right"})
        self.bold_money = add({"num_format": "#,##0.00", "bold": True, "top": 1})
        self.bold_qty = add({"num_format": "#,##0.###", "bold": True, "top": 1})
        self.bold = add({"bold": True, "top": 1})
        self.used: set[str] = set()


def _write_data(book: Book, rows: Iterator[services.LedgerRow], keys: Keys, progress: Progress | None,
                expected: int) -> tuple[str, int]:  # fmt: skip
    ws = book.wb.add_worksheet(_sheet_name(_("Ledger"), book.used))
    cols = data_columns()
    for c, col in enumerate(cols):
        options = {"hidden": True} if col.kind == "hidden" else {}
        ws.set_column(c, c, col.width, None, options)
        ws.write_string(0, c, str(col.label), book.head)
    ws.freeze_panes(1, 0)
    r = 0
    for r, line in enumerate(rows, start=1):
        ws.write_datetime(r, 0, datetime(line.order_date.year, line.order_date.month, line.order_date.day), book.date)
        ws.write_string(r, 1, str(safe_cell(line.number)))
        ws.write_string(r, 2, str(safe_cell(line.customer)))
        if line.region:
            ws.write_string(r, 3, str(safe_cell(line.region)))
        if line.salesperson:
            ws.write_string(r, 4, str(safe_cell(line.salesperson)))
        ws.write_string(r, 5, str(safe_cell(line.product)))
        if line.unit:
            ws.write_string(r, 6, str(safe_cell(line.unit)))
        ws.write_number(r, 7, float(line.quantity), book.qty)
        ws.write_number(r, 8, excel_number(line.unit_price), book.money)
        ws.write_number(r, 9, excel_number(line.amount_excl), book.money)
        ws.write_number(r, 10, excel_number(line.amount_incl), book.money)
        ws.write_string(r, 11, line.status_label)
        ws.write_number(r, 12, excel_number(line.received), book.money)
        ws.write_number(r, 13, excel_number(line.outstanding), book.money)
        ws.write_number(r, 14, month_number(services.bucket_of("month", line.order_date)), book.int)
        monday = date.fromisoformat(services.bucket_of("week", line.order_date))
        ws.write_datetime(r, 15, datetime(monday.year, monday.month, monday.day), book.date)
        ws.write_number(r, 16, keys.number("region", line.region))
        ws.write_number(r, 17, line.line_id)
        ws.write_number(r, 18, line.customer_id)
        ws.write_number(r, 19, line.owner_id or 0)
        ws.write_number(r, 20, line.product_id or 0)
        if progress is not None and r % PROGRESS_EVERY == 0:
            progress(r, expected)
    ws.autofilter(0, 0, max(r, 1), 15)
    name = ws.get_name()
    return name, max(r, 1)


def _rng(sheet: str, col: str, last: int) -> str:
    quoted = "'" + sheet.replace("'", "''") + "'"
    return f"{quoted}!${col}$2:${col}${last + 1}"


def _meta(book: Book, ws: Any, title: str, f: LedgerFilter, extra: str = "") -> int:
    ws.write_string(0, 0, title, book.title)
    ws.write_string(1, 0, describe(f) + (f" · {extra}" if extra else ""), book.meta)
    return 3


def describe(f: LedgerFilter) -> str:
    parts = []
    if f.date_from or f.date_to:
        parts.append(f"{f.date_from or '…'} – {f.date_to or '…'}")
    else:
        parts.append(_("All dates"))
    if f.region:
        parts.append(f"{_('Region')}: {f.region}")
    if f.status == "all":
        parts.append(_("Cancelled orders included"))
    elif f.status:
        parts.append(f"{_('Status')}: {services.DELIVERY_LABELS[f.status]}")
    else:
        parts.append(_("Cancelled orders left out"))
    return " · ".join(str(p) for p in parts)


def _write_pivot(book: Book, pivot: services.Pivot, data: str, last: int, keys: Keys, title: str) -> None:
    ws = book.wb.add_worksheet(_sheet_name(title, book.used))
    r = _meta(book, ws, title, pivot.filters, str(MEASURE_LABELS[pivot.measure]) if pivot.cols_dim else "")
    formulas = len(pivot.row_keys) * max(len(pivot.col_keys), 1) <= MAX_FORMULA_CELLS

    def crit(dim: str, key: Any) -> str:
        return f"{_rng(data, COL[dim], last)},{keys.number(dim, key)}"

    def sumifs(measure: str, *criteria: str) -> str:
        return f"=SUMIFS({_rng(data, COL[measure], last)},{','.join(criteria)})"

    fmt = {"quantity": book.qty, "amount": book.money, "amount_incl": book.money}
    bold = {"quantity": book.bold_qty, "amount": book.bold_money, "amount_incl": book.bold_money}
    ws.set_column(0, 0, 24)
    if pivot.cols_dim is None:
        measures = ["quantity", "amount", "amount_incl"]
        headers = [str(DIMENSION_LABELS[pivot.rows_dim])] + [str(MEASURE_LABELS[m]) for m in measures]
        for c, h in enumerate(headers):
            ws.write_string(r, c, h, book.head)
        ws.set_column(1, 3, 16)
        first = r + 1
        for rk in pivot.row_keys:
            r += 1
            ws.write_string(r, 0, str(safe_cell(pivot.row_labels[rk])))
            fig = pivot.row_totals[rk]
            for c, m in enumerate(measures, start=1):
                value = _num(fig.get(m))
                if formulas:
                    ws.write_formula(r, c, sumifs(m, crit(pivot.rows_dim, rk)), fmt[m], value)
                else:
                    ws.write_number(r, c, value, fmt[m])
        r += 1
        ws.write_string(r, 0, _("Total"), book.bold)
        for c, m in enumerate(measures, start=1):
            letter = chr(ord("A") + c)
            ws.write_formula(r, c, f"=SUM({letter}{first + 1}:{letter}{max(r, first + 1)})", bold[m],
                             _num(pivot.total.get(m)))  # fmt: skip
        ws.freeze_panes(4, 1)
        return
    m = pivot.measure
    headers = [f"{DIMENSION_LABELS[pivot.rows_dim]} \\ {DIMENSION_LABELS[pivot.cols_dim]}"]
    headers += [pivot.col_labels[ck] for ck in pivot.col_keys] + [_("Total")]
    for c, h in enumerate(headers):
        ws.write_string(r, c, str(safe_cell(str(h))), book.head)
    ws.set_column(1, len(headers), 14)
    first = r + 1
    ncols = len(pivot.col_keys)
    for rk in pivot.row_keys:
        r += 1
        ws.write_string(r, 0, str(safe_cell(pivot.row_labels[rk])))
        for c, ck in enumerate(pivot.col_keys, start=1):
            value = _num(pivot.cell(rk, ck).get(m))
            if formulas:
                ws.write_formula(r, c, sumifs(m, crit(pivot.rows_dim, rk), crit(pivot.cols_dim, ck)), fmt[m], value)
            else:
                ws.write_number(r, c, value, fmt[m])
        end = _col_letter(ncols)
        ws.write_formula(r, ncols + 1, f"=SUM(B{r + 1}:{end}{r + 1})", bold[m], _num(pivot.row_totals[rk].get(m)))
    r += 1
    ws.write_string(r, 0, _("Total"), book.bold)
    for c, ck in enumerate([*pivot.col_keys, None], start=1):
        letter = _col_letter(c)
        value = pivot.total.get(m) if ck is None else pivot.col_totals[ck].get(m)
        ws.write_formula(r, c, f"=SUM({letter}{first + 1}:{letter}{max(r, first + 1)})", bold[m], _num(value))
    ws.freeze_panes(4, 1)


def _col_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(ord("A") + rem) + out
    return out


def _write_growth(book: Book, gr: services.Growth, data: str, last: int, keys: Keys) -> None:
    title = services.growth_title(gr.period, gr.compare)
    ws = book.wb.add_worksheet(_sheet_name(_("Growth"), book.used))
    r = _meta(book, ws, title, gr.filters, str(MEASURE_LABELS[gr.measure]))
    bucket_dim = "week" if gr.period == "week" else "month"
    fmt = book.qty if gr.measure == "quantity" else book.money
    first_col = str(DIMENSION_LABELS[gr.by]) if gr.by else ""
    ws.write_string(r, 0, first_col, book.head)
    ws.set_column(0, 0, 24)
    for i, b in enumerate(gr.buckets):
        ws.write_string(r, 1 + 2 * i, gr.bucket_labels[b], book.head)
        ws.write_string(r, 2 + 2 * i, _("Change"), book.head)
    ws.set_column(1, 2 * len(gr.buckets), 12)

    def months_in(key: str) -> list[int]:
        start = services.bucket_start(gr.period, key)
        if gr.period == "week":
            return [serial(start)]
        n = {"month": 1, "quarter": 3, "year": 12}[gr.period]
        return [month_number(services.bucket_of("month", services.shift("month", start, i))) for i in range(n)]

    def total_for(key: Any, b: str) -> str:
        parts = []
        for number in months_in(b):
            criteria = [f"{_rng(data, COL[bucket_dim], last)},{number}"]
            if gr.by:
                criteria.append(f"{_rng(data, COL[gr.by], last)},{keys.number(gr.by, key)}")
            parts.append(f"SUMIFS({_rng(data, COL[gr.measure], last)},{','.join(criteria)})")
        return "+".join(parts)

    row_keys = gr.keys if gr.by else [None]
    for key in row_keys:
        r += 1
        ws.write_string(r, 0, str(safe_cell(gr.labels.get(key, _("Total")))))
        for i, b in enumerate(gr.buckets):
            cell = gr.cells[(key, b)] if gr.by else gr.totals[b]
            ws.write_formula(r, 1 + 2 * i, "=" + total_for(key, b), fmt, _num(cell.value))
            earlier = total_for(key, services.earlier_bucket(gr.period, gr.compare, b))
            here = f"{_col_letter(1 + 2 * i)}{r + 1}"
            pct = "—" if cell.pct is None else float(cell.pct) / 100
            ws.write_formula(r, 2 + 2 * i, f'=IF(({earlier})=0,"—",({here}-({earlier}))/ABS({earlier}))', book.pct,
                             pct)  # fmt: skip
    ws.freeze_panes(4, 1)


# ---------------------------------------------------------------- the whole file


def data_filter(actor: Membership, what: str, params: dict[str, Any]) -> tuple[LedgerFilter, Any]:
    """The filter of the data sheet, and the summary or growth it carries."""
    f = services.parse_filter(params)
    if what == "summary":
        pivot = services.summarize(actor, f, params.get("rows") or "region", params.get("cols") or None,
                                   params.get("measure") or "amount")  # fmt: skip
        return f, pivot
    if what == "growth":
        gr = services.growth(actor, f, params.get("period") or "month", params.get("by") or "",
                             params.get("compare") or "previous", params.get("measure") or "amount")  # fmt: skip
        # The data sheet holds every bucket compared, the earlier ones included.
        first = min(services.bucket_start(gr.period, services.earlier_bucket(gr.period, gr.compare, b))
                    for b in gr.buckets)  # fmt: skip
        wide = dataclasses.replace(f, date_from=first, date_to=f.date_to or date.today())
        return wide, gr
    return f, None


def write_xlsx(actor: Membership, what: str, params: dict[str, Any], target: str | Path | IO[bytes],
               progress: Progress | None = None) -> int:  # fmt: skip
    """Write the export; returns the number of ledger lines on the data sheet."""
    f, shown = data_filter(actor, what, params)
    regions = services.summarize(actor, f, "region")
    keys = Keys([k for k in regions.row_keys if k])
    expected = services.count_lines(actor, f)
    book = Book(target)
    data, last = _write_data(book, services.iter_ledger(actor, f), keys, progress, expected)
    if what == "summary":
        title = str(DIMENSION_LABELS[shown.rows_dim])
        if shown.cols_dim:
            title += f" × {DIMENSION_LABELS[shown.cols_dim]}"
        _write_pivot(book, shown, data, last, keys, title)
    elif what == "growth":
        _write_growth(book, shown, data, last, keys)
    else:
        for dim in SUMMARY_SHEETS:
            pivot = regions if dim == "region" else services.summarize(actor, f, dim)
            _write_pivot(book, pivot, data, last, keys, sheet_titles()[dim])
    book.wb.close()
    if progress is not None:
        progress(expected, expected)
    return expected


# ---------------------------------------------------------------- PDF


def report_for(actor: Membership, what: str, params: dict[str, Any]) -> Report:
    """The export as a crm.finreports Report, for the PDF writer."""
    f, shown = data_filter(actor, what, params)
    if what == "summary":
        return _pivot_report(shown)
    if what == "growth":
        return _growth_report(shown)
    cols = [
        Column("date", _("Date"), "date", 10), Column("number", _("Order number"), "text", 16),
        Column("customer", _("Customer"), "text", 22), Column("region", _("Region"), "text", 8),
        Column("rep", _("Sales rep"), "text", 8), Column("product", _("Product"), "text", 18),
        Column("qty", _("Quantity"), "number", 8), Column("price", _("Unit price"), "money", 10),
        Column("excl", _("Excl. tax"), "money", 11), Column("incl", _("Incl. tax"), "money", 11),
        Column("status", _("Status"), "text", 8), Column("received", _("Received"), "money", 10),
        Column("outstanding", _("Outstanding"), "money", 10),
    ]  # fmt: skip
    page = services.ledger_page(actor, f, 1, 1)

    def rows() -> Iterator[list[Any]]:
        for x in services.iter_ledger(actor, f):
            yield [x.order_date, x.number, x.customer, x.region, x.salesperson, x.product, qty(x.quantity),
                   x.unit_price, x.amount_excl, x.amount_incl, x.status_label, x.received, x.outstanding]  # fmt: skip

    return Report(
        key="sales_ledger", title=_("Sales ledger"), subtitle=describe(f), columns=cols, rows=rows(),
        totals=[[_("Total"), "", "", "", "", "", qty(page.quantity), None, page.amount_excl, page.amount_incl,
                 "", None, None]],
        row_count=page.total,
    )  # fmt: skip


def _pivot_report(p: services.Pivot) -> Report:
    if p.cols_dim is None:
        cols = [Column("key", DIMENSION_LABELS[p.rows_dim], "text", 24)] + [
            Column(m, MEASURE_LABELS[m], "number" if m == "quantity" else "money", 14) for m in
            ("quantity", "amount", "amount_incl")
        ]  # fmt: skip
        rows = [[p.row_labels[k], qty(p.row_totals[k].quantity), p.row_totals[k].amount,
                 p.row_totals[k].amount_incl] for k in p.row_keys]  # fmt: skip
        totals = [[_("Total"), qty(p.total.quantity), p.total.amount, p.total.amount_incl]]
    else:
        kind = "number" if p.measure == "quantity" else "money"
        cols = [Column("key", f"{DIMENSION_LABELS[p.rows_dim]} \\ {DIMENSION_LABELS[p.cols_dim]}", "text", 20)]
        cols += [Column(f"c{i}", p.col_labels[k], kind, 12) for i, k in enumerate(p.col_keys)]
        cols.append(Column("total", _("Total"), kind, 12))
        rows = [[p.row_labels[rk], *[p.cell(rk, ck).get(p.measure) for ck in p.col_keys],
                 p.row_totals[rk].get(p.measure)] for rk in p.row_keys]  # fmt: skip
        totals = [[_("Total"), *[p.col_totals[ck].get(p.measure) for ck in p.col_keys], p.total.get(p.measure)]]
    subtitle = describe(p.filters) + (f" · {MEASURE_LABELS[p.measure]}" if p.cols_dim else "")
    return Report(key="sales_summary", title=_("Sales summary"), subtitle=subtitle, columns=cols, rows=rows,
                  totals=totals, row_count=len(rows))  # fmt: skip


def _growth_report(gr: services.Growth) -> Report:
    kind = "number" if gr.measure == "quantity" else "money"
    cols = [Column("key", DIMENSION_LABELS[gr.by] if gr.by else "", "text", 18)]
    for i, b in enumerate(gr.buckets):
        cols.append(Column(f"v{i}", gr.bucket_labels[b], kind, 12))
        cols.append(Column(f"g{i}", _("Change"), "text", 8))
    keys = gr.keys if gr.by else [None]

    def line(key: Any) -> list[Any]:
        out: list[Any] = [gr.labels.get(key, _("Total"))]
        for b in gr.buckets:
            c = gr.cells[(key, b)] if gr.by else gr.totals[b]
            out += [c.value, "—" if c.pct is None else f"{c.pct:+.1f}%"]
        return out

    rows = [line(k) for k in keys]
    title = services.growth_title(gr.period, gr.compare)
    return Report(key="sales_growth", title=title, subtitle=f"{describe(gr.filters)} · {MEASURE_LABELS[gr.measure]}",
                  columns=cols, rows=rows, row_count=len(rows))  # fmt: skip
