"""Importing the workspace's registry table (xlsx, xls or csv) — all rows or none, unless the
admin chooses to keep only the good ones — and applying a looked-up record to a customer form."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from crm.audit.services import record
from crm.db import db
from crm.registry.models import RegistryEntry
from crm.sales import rules
from roles.checks import ensure
from tenants.models import Membership

MAX_BYTES = 10 * 1024 * 1024
HEADERS = {
    "name": ("企业名称", "公司名称", "名称", "name", "company"),
    "uscc": ("统一社会信用代码", "信用代码", "社会信用代码", "uscc", "credit code"),
    "legal_representative": ("法定代表人", "法人", "法人代表", "legal representative"),
    "registered_capital": ("注册资本", "registered capital"),
    "established_on": ("成立日期", "成立时间", "established", "date established"),
    "address": ("注册地址", "地址", "住所", "address"),
    "status": ("登记状态", "经营状态", "状态", "status"),
}


class ImportRefused(ValueError):
    pass


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row number, column, reason)
    committed: bool = False


def _rows(filename: str, data: bytes) -> list[list[Any]]:
    name = filename.lower()
    if len(data) > MAX_BYTES:
        raise ImportRefused(_("The file is larger than 10 MB."))
    if name.endswith((".xlsx", ".xls")):
        if not (data[:2] == b"PK" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            raise ImportRefused(_("This is not an Excel file."))
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return [list(r) for r in book.get_sheet_by_index(0).to_python()]
    if name.endswith(".csv"):
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportRefused(_("The CSV file is neither UTF-8 nor GBK text."))
        return [list(r) for r in csv.reader(io.StringIO(text))]
    raise ImportRefused(_("Upload an .xlsx, .xls or .csv file."))


def _header_map(rows: list[list[Any]]) -> tuple[int, dict[str, int]]:
    """The first row (of the first ten) naming at least the company and its code."""
    for i, row in enumerate(rows[:10]):
        cells = [str(c).strip().lower() if c is not None else "" for c in row]
        found = {}
        for fld, names in HEADERS.items():
            for j, cell in enumerate(cells):
                if cell in {n.lower() for n in names}:
                    found[fld] = j
                    break
        if "name" in found and "uscc" in found:
            return i, found
    raise ImportRefused(_("No header row with a company name and a credit code column was found."))


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = rules.fold_width(str(value)).strip().replace("年", "-").replace("月", "-").replace("日", "")
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def import_registry(actor: Membership, filename: str, data: bytes, keep_good_rows: bool = False) -> ImportReport:
    """Validate every row first; write only if all are good, or if told to keep the good ones."""
    ensure(actor, "settings.manage")
    rows = _rows(filename, data)
    start, cols = _header_map(rows)
    report = ImportReport()
    good: dict[str, dict[str, Any]] = {}
    for n, row in enumerate(rows[start + 1 :], start=start + 2):

        def cell(fld: str, row: list[Any] = row) -> Any:
            j = cols.get(fld)
            v = row[j] if j is not None and j < len(row) else None
            return v.strip() if isinstance(v, str) else v

        if not any(str(c).strip() for c in row if c is not None):
            continue
        name, code = cell("name"), rules.normalise_uscc(str(cell("uscc") or ""))
        if not name:
            report.errors.append((n, _("Company name"), _("missing")))
            continue
        if not rules.uscc_is_valid(code):
            report.errors.append((n, _("Credit code"), _("fails its check character")))
            continue
        try:
            est = _date(cell("established_on"))
        except ValueError:
            report.errors.append((n, _("Date established"), _("not a date")))
            continue
        good[code] = {  # type: ignore[index]
            "name": str(name)[:200],
            "uscc": code,
            "legal_representative": (str(cell("legal_representative") or "")[:60] or None),
            "registered_capital": (str(cell("registered_capital") or "")[:60] or None),
            "established_on": est,
            "address": (str(cell("address") or "")[:255] or None),
            "status": (str(cell("status") or "")[:30] or None),
        }
    if report.errors and not keep_good_rows:
        return report
    existing = {e.uscc: e for e in db.session.scalars(select(RegistryEntry).where(RegistryEntry.uscc.in_(list(good))))}
    for code, values in good.items():
        entry = existing.get(code)
        if entry is None:
            db.session.add(RegistryEntry(**values))
            report.created += 1
        else:
            for k, v in values.items():
                setattr(entry, k, v)
            report.updated += 1
    db.session.flush()
    report.committed = True
    record(
        "registry.imported",
        None,
        actor=actor,
        object_type="RegistryEntry",
        summary=filename[:200],
        changes={
            "created": {"before": None, "after": report.created},
            "updated": {"before": None, "after": report.updated},
            "skipped_rows": {"before": None, "after": len(report.errors)},
        },
    )
    return report
