"""Finance reports to files: xlsx streamed in constant memory, PDF built in chunks of pages.

Both writers iterate ``report.rows`` exactly once (it may be a generator streaming a million
journal lines) and never hold the rows:

* ``write_xlsx`` uses xlsxwriter's ``constant_memory`` mode, which flushes each row as the next
  one starts, so rows are written strictly in order: title, company, period, printed by/at,
  the bold frozen header, the data, bold totals with a top border, then the notes.
* ``write_pdf`` paginates by itself: every line of the table (row, section heading, total,
  note) has one fixed height (no wrapping: nowrap and ellipsis), so it knows how many lines a
  page holds and how many pages there are before it lays out anything. The lines are spooled
  to a temporary file on a first pass (counting them), then rendered by WeasyPrint a chunk of
  pages at a time, and the chunks' pages are combined into one PDF. Each page carries its own
  "page x of y" text (set with ``string-set`` from the page itself), so the numbering is right
  across chunks, and each page repeats the table header.

The xlsx writer's cost per cell is most of an export's time, so the row loop does as little as
it can over xlsxwriter's own work: formats are created once, a date becomes its Excel serial
once per distinct date (a number cell with the date format, what ``write_datetime`` stores),
and a report that gives its rows with money as integer fen (``fen_rows``, the general ledger)
has each amount converted once, to ``fen / 100``: below 10**15 fen (15 significant digits) that
double reads back to the same cent, so the Decimal round-trip check (``excel_number``) is only
made above it, where it refuses what would lose a cent.
"""

from __future__ import annotations

import logging
import pickle
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from flask import current_app, render_template
from flask_babel import gettext as _

from crm.exports.pdf import render_pdf, static_only_fetcher
from crm.exports.xlsx import DANGEROUS_PREFIXES, excel_number, safe_cell
from crm.finreports.base import Report

log = logging.getLogger("taizhang.finreports")

# progress(done_rows, total_rows or None): called every PROGRESS_EVERY rows and at the end
RowProgress = Callable[[int, int | None], None]
PROGRESS_EVERY = 5000
PDF_CHUNK_ROWS = 2000


def _is_section(report: Report, row: Sequence[Any]) -> bool:
    return report.section_marker is not None and len(row) > 0 and row[-1] == report.section_marker


# |fen| below this has at most 15 significant digits: fen / 100 (one correctly rounded division)
# is then the double nearest the amount, the same double float(Decimal) gives, and it reads back
# to the cent. Above it the Decimal round-trip check decides (and refuses to lose a cent).
EXACT_FEN = 10**15
EXCEL_EPOCH = date(1899, 12, 31)


def fen_number(amount_fen: int) -> float:
    """An amount in integer fen as the number an Excel cell stores, exactly to the cent."""
    if -EXACT_FEN < amount_fen < EXACT_FEN:
        return amount_fen / 100
    return excel_number(Decimal(amount_fen).scaleb(-2))


def excel_serial(day: date) -> float:
    """A date as Excel's serial number (1900 system, Excel's phantom 1900-02-29 counted), as
    xlsxwriter's write_datetime computes it for a date."""
    days = (day - EXCEL_EPOCH).days
    return float(days + 1 if days > 59 else days)


def _printed_text(printed_at: datetime | str) -> str:
    if isinstance(printed_at, datetime):
        return printed_at.strftime("%Y-%m-%d %H:%M")
    return str(printed_at)


# --------------------------------------------------------------------------- xlsx


def write_xlsx(
    report: Report,
    target: str | Path | IO[bytes],
    *,
    company: str,
    printed_by: str,
    printed_at: datetime | str,
    progress: RowProgress | None = None,
) -> int:
    """Write the report to ``target`` (a path or a binary file); returns the number of rows."""
    wb = xlsxwriter.Workbook(
        str(target) if isinstance(target, Path) else target,
        {"constant_memory": True, "remove_timezone": True, "tmpdir": tempfile.gettempdir()},
    )
    ws = wb.add_worksheet(str(report.title)[:31].translate(str.maketrans("[]:*?/\\", "()：＊？／＼")))
    columns = report.columns
    ncols = max(len(columns), 1)
    f_title = wb.add_format({"bold": True, "font_size": 14})
    f_meta = wb.add_format({"font_color": "#555555"})
    f_head = wb.add_format({"bold": True, "bg_color": "#E9ECEF", "border": 1, "text_wrap": True})
    plain = {"money": {"num_format": "#,##0.00"}, "date": {"num_format": "yyyy-mm-dd"}, "int": {"num_format": "0"}}

    def fmt(kind: str, extra: dict[str, Any]) -> Any:
        spec = {**plain.get(kind, {}), **extra}
        return wb.add_format(spec) if spec else None

    normal = [fmt(c.kind, {}) for c in columns]
    bold = [fmt(c.kind, {"bold": True}) for c in columns]
    total = [fmt(c.kind, {"bold": True, "top": 1}) for c in columns]
    kinds = [c.kind for c in columns]

    for c, col in enumerate(columns):
        ws.set_column(c, c, col.width)
    ws.write_string(0, 0, str(report.title), f_title)
    ws.write_string(1, 0, company, f_meta)
    if report.subtitle:
        ws.write_string(2, 0, str(report.subtitle), f_meta)
    ws.write_string(3, 0, _("Printed by %(name)s at %(when)s", name=printed_by, when=_printed_text(printed_at)), f_meta)
    header = 5
    for c, col in enumerate(columns):
        ws.write_string(header, c, str(col.label), f_head)
    ws.freeze_panes(header + 1, 0)

    write_number, write_string, write_datetime = ws.write_number, ws.write_string, ws.write_datetime
    serials: dict[date, float] = {}

    def put_cell(r: int, c: int, value: Any, f: Any) -> None:
        cls = value.__class__
        if cls is str:
            write_string(r, c, "'" + value if value.startswith(DANGEROUS_PREFIXES) else value, f)
        elif cls is date:
            serial = serials.get(value)
            if serial is None:
                serial = serials[value] = excel_serial(value)
            write_number(r, c, serial, f)
        elif isinstance(value, Decimal):
            try:
                write_number(r, c, excel_number(value), f)
            except ValueError:  # money never loses a cent; a plain number keeps its text
                if c < len(kinds) and kinds[c] == "money":
                    raise
                write_string(r, c, str(value), f)
        elif isinstance(value, bool):
            write_string(r, c, str(value), f)
        elif isinstance(value, int):
            write_number(r, c, value, f)
        elif isinstance(value, datetime):
            write_datetime(r, c, value.replace(tzinfo=None), f)
        elif isinstance(value, date):
            write_datetime(r, c, value, f)
        else:
            write_string(r, c, str(safe_cell(str(value))), f)

    def put(r: int, values: Sequence[Any], formats: list[Any]) -> None:
        for c, value in enumerate(values):
            if value is None or value == "":
                continue
            put_cell(r, c, value, formats[c] if c < len(formats) else None)

    # money columns of rows given in integer fen: one division per amount (see fen_number)
    fen_money = [kind == "money" for kind in kinds]
    width = len(kinds)

    def put_fen(r: int, values: Sequence[Any], formats: list[Any]) -> None:
        """put() for rows in fen, with the common cells (int, str, date) inline: it runs per cell."""
        if len(values) > width:
            put(r, values, formats)  # an odd row: the general path (no money past the columns)
            return
        c = -1
        for value in values:
            c += 1
            if value is None:
                continue
            cls = value.__class__
            if cls is int:
                if fen_money[c]:
                    value = value / 100 if -EXACT_FEN < value < EXACT_FEN else fen_number(value)
                write_number(r, c, value, formats[c])
            elif cls is str:
                if value:
                    write_string(r, c, "'" + value if value.startswith(DANGEROUS_PREFIXES) else value, formats[c])
            elif cls is date:
                serial = serials.get(value)
                if serial is None:
                    serial = serials[value] = excel_serial(value)
                write_number(r, c, serial, formats[c])
            else:
                put_cell(r, c, value, formats[c])

    fen_rows = getattr(report, "fen_rows", None)
    rows, put_row = (fen_rows(), put_fen) if fen_rows is not None else (report.rows, put)
    marker = report.section_marker
    r = header
    done = 0
    expected = report.row_count
    try:
        for row in rows:
            r += 1
            if marker is not None and row and row[-1] == marker:
                put_row(r, row[:-1], bold)
            else:
                put_row(r, row, normal)
            done += 1
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done, expected)
    finally:  # a refused amount stops the export: close the stream (and its cursor) now, not at GC
        close = getattr(rows, "close", None)
        if close is not None:
            close()
    last_data = r
    for values in report.totals:
        r += 1
        put(r, values, total)
    if report.notes:
        r += 1
        for note in report.notes:
            r += 1
            ws.write_string(r, 0, str(safe_cell(str(note))))
    ws.autofilter(header, 0, max(last_data, header + 1), ncols - 1)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(header)
    wb.close()
    if progress is not None:
        progress(done, expected)
    return done


# --------------------------------------------------------------------------- PDF


@dataclass(frozen=True)
class PdfGeometry:
    """Millimetres. A line of the table is LINE_MM high whatever it holds (nowrap + ellipsis)."""

    landscape: bool
    line_mm: float = 6.0
    head_mm: float = 7.0
    title_mm: float = 18.0  # the heading block on the first page
    margin_top: float = 20.0
    margin_bottom: float = 18.0
    margin_side: float = 12.0
    slack_mm: float = 6.0  # borders and rounding: never fill a page to the last tenth of a mm

    @property
    def body_mm(self) -> float:
        height = 210.0 if self.landscape else 297.0
        return height - self.margin_top - self.margin_bottom

    @property
    def lines_per_page(self) -> int:
        return int((self.body_mm - self.head_mm - self.slack_mm) // self.line_mm)

    @property
    def lines_first_page(self) -> int:
        return int((self.body_mm - self.head_mm - self.title_mm - self.slack_mm) // self.line_mm)

    def pages_for(self, lines: int) -> int:
        if lines <= self.lines_first_page:
            return 1
        rest = lines - self.lines_first_page
        return 1 + -(-rest // self.lines_per_page)


def _pdf_cell(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if kind == "money" else f"{value:,}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}" if kind in ("money", "number") else str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _spool_lines(report: Report, spool: IO[bytes], progress: RowProgress | None) -> tuple[int, int]:
    """Pickle every line of the table to ``spool``: (kind, cells). Returns (lines, data rows)."""
    kinds = [c.kind for c in report.columns]

    def dump(line: tuple[str, list[str]]) -> None:
        pickle.dump(line, spool, protocol=pickle.HIGHEST_PROTOCOL)

    lines = done = 0
    for row in report.rows:
        if _is_section(report, row):
            dump(("section", [_pdf_cell(k, v) for k, v in zip(kinds, row[:-1], strict=False)]))
        else:
            dump(("row", [_pdf_cell(k, v) for k, v in zip(kinds, row, strict=False)]))
        lines += 1
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, report.row_count)
    for values in report.totals:
        dump(("total", [_pdf_cell(k, v) for k, v in zip(kinds, values, strict=False)]))
        lines += 1
    for note in report.notes:
        dump(("note", [str(note)]))
        lines += 1
    return lines, done


def _read_lines(spool: IO[bytes], count: int) -> Iterator[tuple[str, list[str]]]:
    spool.seek(0)
    for _i in range(count):
        yield pickle.load(spool)  # noqa: S301 (our own temporary file, written just above)


def write_pdf(
    report: Report,
    *,
    company: str,
    printed_by: str,
    printed_at: datetime | str,
    progress: RowProgress | None = None,
    chunk_rows: int = PDF_CHUNK_ROWS,
    page_progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The report as PDF bytes: A4 (landscape above 6 columns), header on every page.

    ``progress(rows, total)`` while the rows are read; ``page_progress(pages, total)`` after each chunk."""
    from weasyprint import HTML  # noqa: PLC0415 (heavy import, only for PDFs)

    geo = PdfGeometry(landscape=len(report.columns) > 6)
    with tempfile.TemporaryFile(prefix="tz-report-") as spool:
        lines, done = _spool_lines(report, spool, progress)
        total_pages = geo.pages_for(lines)
        total_width = sum(c.width for c in report.columns) or 1
        columns = [
            {"label": str(c.label), "kind": c.kind, "pct": round(100 * c.width / total_width, 3)}
            for c in report.columns
        ]
        common = {
            "report": report,
            "title": str(report.title),
            "subtitle": str(report.subtitle or ""),
            "company": company,
            "columns": columns,
            "geo": geo,
            "total_pages": total_pages,
            "printed": _("Printed by %(name)s at %(when)s", name=printed_by, when=_printed_text(printed_at)),
        }
        pages_per_chunk = max(1, chunk_rows // geo.lines_per_page)
        source = _read_lines(spool, lines)
        documents = []
        page_no = 0
        while page_no < total_pages:
            pages = []
            for _p in range(pages_per_chunk):
                if page_no >= total_pages:
                    break
                page_no += 1
                room = geo.lines_first_page if page_no == 1 else geo.lines_per_page
                page_lines = [line for line, _n in zip(source, range(room), strict=False)]
                label = _("Page %(page)s of %(pages)s", page=page_no, pages=total_pages)
                pages.append({"number": page_no, "label": label, "lines": page_lines})
            html = render_template("finreports/pdf.html", pages=pages, **common)
            if total_pages <= pages_per_chunk:
                if progress is not None:
                    progress(done, report.row_count)
                return render_pdf(html)
            root = Path(current_app.static_folder or "").resolve()
            documents.append(
                HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=static_only_fetcher()).render()
            )
            if page_progress is not None:
                page_progress(page_no, total_pages)
        all_pages = [p for d in documents for p in d.pages]
        if len(all_pages) != total_pages:  # a line taller than planned: the numbering would be off
            log.warning("report %s: planned %s pages, laid out %s", report.key, total_pages, len(all_pages))
        data = documents[0].copy(all_pages).write_pdf()
        if progress is not None:
            progress(done, report.row_count)
        return data
