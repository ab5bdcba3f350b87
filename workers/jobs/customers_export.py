"""Export the customers a member can see to xlsx, with a hidden id column so the file, edited in
Excel and imported back, updates the same records."""

from __future__ import annotations

from io import BytesIO

import xlsxwriter
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.db import db
from crm.exports.xlsx import safe_cell
from crm.imports.mapping import HIDDEN_ID_HEADER, field_map
from crm.sales.models import Customer
from crm.sales.visibility import customer_filter
from tenants.context import current_tenant
from tenants.models import Membership
from workers.files import write_result
from workers.models import JobRecord
from workers.runner import JobFailed, Progress

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_FIELDS = ("name", "short_name", "uscc", "industry", "level", "source", "province", "city", "address", "phone",
                 "email", "website", "notes", "owner")  # fmt: skip


def header_for(key: str, locale: str) -> str:
    """The header the importer maps back: the first Chinese synonym, or the first English one."""
    words = field_map("customers")[key].synonyms
    if locale.startswith("en"):
        return next((w for w in words if w.isascii()), words[0]).capitalize()
    return next((w for w in words if not w.isascii()), words[0])


def build_workbook(customers: list[Customer], locale: str) -> bytes:
    buf = BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet(_("Customers")[:31])
    head = wb.add_format({"bold": True, "bg_color": "#E9ECEF", "border": 1})
    ws.write_string(0, 0, HIDDEN_ID_HEADER, head)
    for c, key in enumerate(EXPORT_FIELDS, start=1):
        ws.write_string(0, c, header_for(key, locale), head)
    for r, cust in enumerate(customers, start=1):
        ws.write_number(r, 0, cust.id)
        for c, key in enumerate(EXPORT_FIELDS, start=1):
            value = cust.owner.user.name if key == "owner" and cust.owner else getattr(cust, key, None)
            if value:
                ws.write_string(r, c, str(safe_cell(str(value))))
    ws.set_column(0, 0, None, None, {"hidden": True})
    ws.set_column(1, len(EXPORT_FIELDS), 18)
    ws.freeze_panes(1, 2)
    wb.close()
    return buf.getvalue()


def customers_export(record: JobRecord, progress: Progress) -> None:
    locale = record.params.get("locale") or "zh_Hans_CN"
    with force_locale(locale):
        actor = db.session.get(Membership, record.requested_by_id) if record.requested_by_id else None
        if actor is None:
            raise JobFailed(_("The member who asked for this export is gone."))
        progress(10, _("Reading customers"))
        stmt = (
            select(Customer)
            .where(Customer.archived_at.is_(None), customer_filter(actor))
            .options(joinedload(Customer.owner).joinedload(Membership.user))
            .order_by(Customer.id)
        )
        customers = list(db.session.scalars(stmt).unique())
        progress(50, _("Writing the file"))
        data = build_workbook(customers, locale)
        name = f"{current_tenant.slug}-customers.xlsx"
        record.result_path = write_result(record.tenant_id, record.id, name, data)
        record.result_name = name
        record.result_mimetype = XLSX
        progress(95, _("Done"))
