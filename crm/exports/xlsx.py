"""Writing xlsx files people open in Excel, safely.

Text beginning with = + - @ (or a tab/CR) would run as a formula in Excel (CSV/formula
injection); such cells are written as literal strings with a leading apostrophe.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

import xlsxwriter

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def excel_number(value: Decimal) -> float:
    """An Excel cell holds an IEEE double, so money must cross into one here — and only here.

    Amounts up to 15 significant digits survive the trip exactly at 0.01; anything that would
    not is refused rather than silently rounded.
    """
    number = float(value)
    if Decimal(repr(number)).quantize(Decimal("0.01")) != value.quantize(Decimal("0.01")):
        raise ValueError(f"{value} cannot be written to Excel without losing a cent")
    return number


def write_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet: a bold frozen header row, autofilter, sensible column widths."""
    buf = BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "remove_timezone": True})
    ws = wb.add_worksheet(title[:31])
    head = wb.add_format({"bold": True, "bg_color": "#E9ECEF", "border": 1})
    dt_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    d_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    money = wb.add_format({"num_format": "#,##0.00"})
    widths = [max(8, len(str(h)) * 2) for h in headers]
    for c, h in enumerate(headers):
        ws.write_string(0, c, str(h), head)
    r = 0
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, datetime):
                ws.write_datetime(r, c, value.replace(tzinfo=None), dt_fmt)
            elif isinstance(value, date):
                ws.write_datetime(r, c, datetime(value.year, value.month, value.day), d_fmt)
            elif isinstance(value, Decimal):
                ws.write_number(r, c, excel_number(value), money)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, int | float):
                ws.write_number(r, c, value)
            else:
                text = str(safe_cell(value))
                ws.write_string(r, c, text)
                widths[c] = min(60, max(widths[c], sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) + 2))
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(r, 1), max(len(headers) - 1, 0))
    wb.close()
    return buf.getvalue()
