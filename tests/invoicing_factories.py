"""Helpers for the invoicing tests: arrange through the real services, read back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select

from crm.books import services as books
from crm.books.models import JournalEntry
from crm.db import db
from crm.invoicing import services as inv_services
from crm.invoicing.models import Invoice
from tenants.context import tenant_context
from tenants.models import Membership, Tenant
from tests.factories import MemberInfo, member_row
from tests.helpers import in_tenant

D = Decimal
START = date(2026, 1, 1)
DAY = date(2026, 3, 10)
LINES = [{"description": "实施服务", "quantity": "1", "unit_price": "1000.00", "tax_rate": "0.13"}]
VALID_USCC = "91110000600037341L"


def make_supplier(actor: Membership, name: str = "供应商有限公司", **data: Any) -> Any:
    with tenant_context(actor.tenant_id, user_id=actor.user_id):
        tenant = db.session.get(Tenant, actor.tenant_id)
        s = inv_services.create_supplier(tenant, actor, {"name": name, **data})
        db.session.flush()
    return s


def make_document(
    actor: Membership,
    direction: str,
    party_id: int,
    lines: list[dict[str, Any]] | None = None,
    *,
    on: date | None = None,
    **kw: Any,
) -> Invoice:
    """A draft invoice (receivable) or bill (payable); flushes, the caller commits."""
    with tenant_context(actor.tenant_id, user_id=actor.user_id):
        tenant = db.session.get(Tenant, actor.tenant_id)
        party = {"customer_id": party_id} if direction == "receivable" else {"supplier_id": party_id}
        data = inv_services.InvoiceInput(
            direction=direction, invoice_date=on or books.today_in(tenant), lines=lines or LINES, **party, **kw
        )
        inv = inv_services.create_invoice(tenant, actor, data)
        db.session.flush()
    return inv


def add_invoicing(w: Any, key: str, rows: dict[str, Membership], customer_id: int) -> None:
    """The World's finance objects: a supplier, a draft invoice for the rep's customer, a draft bill."""
    fin = rows["finance"]
    s = make_supplier(fin, f"{key} 供应商有限公司")
    w.supplier_id[key] = s.id
    w.invoice_id[key] = make_document(fin, "receivable", customer_id).id
    w.bill_id[key] = make_document(fin, "payable", s.id).id


# ---------------------------------------------------------------- app-level helpers (commit)


def setup_books(app: Flask, tenant_id: int, start: date = START) -> None:
    with in_tenant(app, tenant_id):
        tenant = db.session.get(Tenant, tenant_id)
        if not books.is_set_up(tenant):
            books.set_up_books(tenant, None, "small", start=start)
        db.session.commit()


def supplier(app: Flask, fin: MemberInfo, name: str = "供应商有限公司", **data: Any) -> int:
    with app.app_context():
        with tenant_context(fin.tenant_id):
            row = member_row(fin)
        sid = make_supplier(row, name, **data).id
        db.session.commit()
        return sid


def document(
    app: Flask, fin: MemberInfo, direction: str, party_id: int, lines: list[dict[str, Any]] | None = None, **kw: Any
) -> int:
    with app.app_context():
        with tenant_context(fin.tenant_id):
            row = member_row(fin)
        did = make_document(row, direction, party_id, lines, **kw).id
        db.session.commit()
        return did


def post(app: Flask, fin: MemberInfo, doc_id: int) -> None:
    with in_tenant(app, fin.tenant_id, user_id=fin.user_id):
        row = member_row(fin)
        tenant = db.session.get(Tenant, fin.tenant_id)
        inv_services.post_invoice(tenant, row, db.session.get(Invoice, doc_id))
        db.session.commit()


def read(app: Flask, tenant_id: int, doc_id: int) -> dict[str, Any] | None:
    with in_tenant(app, tenant_id):
        inv = db.session.get(Invoice, doc_id)
        if inv is None:
            return None
        return {
            "number": inv.number, "status": inv.status, "direction": inv.direction, "customer_id": inv.customer_id,
            "supplier_id": inv.supplier_id, "invoice_date": inv.invoice_date, "due_date": inv.due_date,
            "order_id": inv.order_id, "contract_id": inv.contract_id, "prices_include_tax": inv.prices_include_tax,
            "total_excl": inv.total_excl, "total_tax": inv.total_tax, "total_incl": inv.total_incl,
            "open_amount": inv.open_amount, "entry_id": inv.entry_id, "reversal_entry_id": inv.reversal_entry_id,
            "reversed_on": inv.reversed_on, "external_number": inv.external_number,
            "lines": [(x.description, x.quantity, x.unit_price, x.tax_rate, x.amount_excl, x.tax, x.amount_incl,
                       x.account_id, x.order_line_id) for x in inv.lines],
        }  # fmt: skip


def entry_lines(app: Flask, tenant_id: int, entry_id: int) -> list[tuple[str | None, str, str, str, str | None, Any]]:
    """(account role, account code, debit, credit, party type, party id) of a journal entry's lines."""
    with in_tenant(app, tenant_id):
        e = db.session.get(JournalEntry, entry_id)
        return [
            (x.account.role, x.account.code, f"{x.debit:.2f}", f"{x.credit:.2f}", x.party_type, x.party_id)
            for x in e.lines
        ]


def entry_row(app: Flask, tenant_id: int, entry_id: int) -> dict[str, Any]:
    with in_tenant(app, tenant_id):
        e = db.session.get(JournalEntry, entry_id)
        return {"status": e.status, "memo": e.memo, "kind": e.kind, "source": (e.source_type, e.source_id),
                "date": e.entry_date, "reversed_by_id": e.reversed_by_id}  # fmt: skip


def document_ids(app: Flask, tenant_id: int) -> list[int]:
    with in_tenant(app, tenant_id):
        return list(db.session.scalars(select(Invoice.id).order_by(Invoice.id)))
