"""Reading an uploaded sheet: type check by magic bytes, xlsx/xls through python-calamine, csv with
encoding detection (utf-8, then GB18030), and finding the header row under title rows."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from crm.imports import mapping
from crm.imports.values import is_blank

MAX_BYTES = 20 * 1024 * 1024
HEADER_SCAN_ROWS = 20
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class UnreadableFile(ValueError):
    """The upload is not a sheet we can read; the message says why, in words."""


@dataclass
class Sheet:
    """Rows as read, each with its 1-based row number as Excel shows it."""

    rows: list[tuple[int, list[Any]]]
    sheet_names: list[str] = field(default_factory=list)
    sheet: str | None = None


def file_type(data: bytes, filename: str) -> str:
    """xlsx | xls | csv, from the content (the name's extension only breaks a tie)."""
    if data.startswith(ZIP_MAGIC):
        return "xlsx"
    if data.startswith(OLE_MAGIC):
        return "xls"
    head = data[:4096]
    if b"\x00" in head.replace(b"\x00\x00", b"") or not head.strip():
        raise UnreadableFile(_("This file is not a spreadsheet. Upload an xlsx, xls or csv file."))
    if filename.lower().endswith((".xlsx", ".xls")):
        raise UnreadableFile(_("This file's name says Excel but its content is not an Excel workbook."))
    return "csv"


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(_("The text file is neither UTF-8 nor GBK encoded. Save it as CSV UTF-8 and try again."))


def read(data: bytes, filename: str, sheet: str | None = None) -> Sheet:
    if len(data) > MAX_BYTES:
        raise UnreadableFile(_("The file is larger than %(mb)d MB. Split it into smaller files.", mb=MAX_BYTES >> 20))
    if not data:
        raise UnreadableFile(_("The file is empty."))
    kind = file_type(data, filename)
    if kind == "csv":
        text = decode_text(data)
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel  # type: ignore[assignment]
        rows = [(i, list(r)) for i, r in enumerate(csv.reader(io.StringIO(text), dialect), start=1)]
        return Sheet(rows=rows)
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(wb.sheet_names)
        ws = wb.get_sheet_by_name(sheet) if sheet and sheet in names else wb.get_sheet_by_index(0)
        values = ws.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises several error types for broken workbooks
        raise UnreadableFile(_("The workbook could not be read: it may be damaged or password-protected.")) from exc
    return Sheet(rows=[(i, list(r)) for i, r in enumerate(values, start=1)], sheet_names=names, sheet=ws.name)


def find_header(kind: str, sheet: Sheet, saved: dict[str, str] | None = None) -> int | None:
    """Index into sheet.rows of the header: the first row (of the first 20) with two or more cells
    that name known fields (or that the workspace mapped before). Title rows, merged title cells
    and blank rows above it are skipped."""
    saved = saved or {}
    for idx, (_n, cells) in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        hits = 0
        for c in cells:
            if is_blank(c):
                continue
            key = mapping.norm_header(c)
            if (key in saved and saved[key]) or mapping.match_header(kind, c):
                hits += 1
        if hits >= 2:
            return idx
    return None


def merge_subheader(kind: str, sheet: Sheet, idx: int) -> tuple[list[Any], int]:
    """A two-row header with merged cells (金额 over 不含税 | 含税; 日期 merged down two rows): when
    the row under the header holds only words, under a merged parent cell or blank, it is read as
    part of the header — each sub-heading joined to the heading above it, or to the nearest one
    to its left when the cell above is the empty part of a merged cell. Returns the headers and
    the index of the last header row."""
    _n, headers = sheet.rows[idx]
    if idx + 1 >= len(sheet.rows):
        return list(headers), idx
    _m, sub = sheet.rows[idx + 1]
    words = [(i, c) for i, c in enumerate(sub) if not is_blank(c)]
    if not words or any(not isinstance(c, str) or any(ch.isdigit() for ch in c) for _i, c in words):
        return list(headers), idx
    if not any(i >= len(headers) or is_blank(headers[i]) for i, _c in words):
        return list(headers), idx
    out = list(headers) + [None] * max(0, len(sub) - len(headers))
    parent = ""
    joined = list(out)
    for i, head in enumerate(out):
        if not is_blank(head):
            parent = str(head).strip()
        word = sub[i] if i < len(sub) and not is_blank(sub[i]) else None
        if word is not None:
            candidate = f"{parent}({str(word).strip()})" if parent else str(word).strip()
            joined[i] = candidate if mapping.match_header(kind, candidate) or not mapping.match_header(
                kind, word) else str(word).strip()  # fmt: skip
    return joined, idx + 1
