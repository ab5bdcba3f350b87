"""Helpers for the settlement tests: books set up, suppliers and POSTED invoices/bills made
directly (Invoice row + its entry through books.post_lines), receipts/payments through the
real services. Call inside tenant_context; they flush, the caller commits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select

from crm.books import services as books
from crm.books.models import Account
from crm.db import db, to_money
from crm.invoicing.models import Invoice, Supplier
from crm.numbering import next_number
from crm.settlement import services as st
from crm.settlement.models import Payment
from tenants.context import tenant_context
from tenants.models import Membership, Tenant

START = date(2026, 1, 1)


def setup_books(tenant: Tenant, actor: Membership | None) -> None:
    if not books.is_set_up(tenant):
        books.set_up_books(tenant, actor, "small", start=START)


def make_supplier(name: str, customer_id: int | None = None) -> Supplier:
    s = Supplier(name=name, customer_id=customer_id)
    db.session.add(s)
    db.session.flush()
    return s


def make_document(
    tenant: Tenant,
    actor: Membership | None,
    direction: str,
    party_id: int,
    total: str | Decimal,
    invoice_date: date = date(2026, 3, 1),
    due_date: date | None = None,
    contract_id: int | None = None,
) -> Invoice:
    """A posted invoice (receivable, party = customer) or bill (payable, party = supplier)."""
    setup_books(tenant, actor)
    incl = to_money(Decimal(str(total)))
    tax = to_money(incl * Decimal("13") / Decimal("113"))
    excl = to_money(incl - tax)
    receivable = direction == "receivable"
    doc = Invoice(
        direction=direction, number=next_number(tenant, "invoice" if receivable else "bill", invoice_date),
        customer_id=party_id if receivable else None, supplier_id=None if receivable else party_id,
        contract_id=contract_id, invoice_date=invoice_date, due_date=due_date, status="posted",
        total_excl=excl, total_tax=tax, total_incl=incl, open_amount=incl,
        created_by_id=actor.id if actor else None,
    )  # fmt: skip
    db.session.add(doc)
    db.session.flush()
    a = books.account_for
    if receivable:
        lines = [
            books.LineInput(a("receivable").id, debit=incl, party_type="customer", party_id=party_id),
            books.LineInput(a("revenue").id, credit=excl),
            books.LineInput(a("vat_output").id, credit=tax),
        ]
    else:
        lines = [
            books.LineInput(a("admin_expense").id, debit=excl),
            books.LineInput(a("vat_input").id, debit=tax),
            books.LineInput(a("payable").id, credit=incl, party_type="supplier", party_id=party_id),
        ]
    entry = books.post_lines(tenant, actor, invoice_date, doc.number, lines, source=("invoice", doc.id))
    doc.entry_id = entry.id
    db.session.flush()
    return doc


def make_payment(
    tenant: Tenant,
    actor: Membership | None,
    direction: str,
    party_id: int,
    amount: str,
    on: date = date(2026, 3, 5),
    post: bool = True,
    **kw: Any,
) -> Payment:
    setup_books(tenant, actor)
    data = st.PaymentInput(
        direction=direction, payment_date=on, amount=amount, account_id=None,
        customer_id=party_id if direction == "in" else None, supplier_id=party_id if direction == "out" else None,
        **kw,
    )  # fmt: skip
    return st.create_payment(tenant, actor, data, post=post)


def balance(role: str, party: tuple[str, int] | None = None) -> Decimal:
    """Debit − credit of the role's account (optionally one party's)."""
    return books.account_balance(books.account_for(role).id, party=party)


def account_id(role: str) -> int:
    return db.session.scalars(select(Account.id).where(Account.role == role)).one()


def add_settlement_objects(app: Flask, world: Any) -> None:
    """Per workspace: books, a supplier that is also the rep's customer, a posted invoice and
    bill, a posted receipt partly allocated to the invoice (the allocation), a posted payment
    to the supplier, a write-off on the bill and an offset of the invoice against the bill."""
    world.settle_supplier_id, world.invoice_doc_id, world.settle_bill_id = {}, {}, {}
    world.receipt_id, world.supplier_payment_id, world.settlement_id, world.write_off_id = {}, {}, {}, {}
    world.offset_id = {}
    with app.app_context():
        for key, t in world.tenants.items():
            with tenant_context(t.id):
                tenant = db.session.get(Tenant, t.id)
                actor = db.session.get(Membership, t["owner"].id)
                cust = world.customer_id[key]
                setup_books(tenant, actor)
                sup = make_supplier(f"{t.slug} 供应商", customer_id=cust)
                inv = make_document(tenant, actor, "receivable", cust, "1130.00", due_date=date(2026, 3, 31))
                bill = make_document(tenant, actor, "payable", sup.id, "565.00", due_date=date(2026, 3, 31))
                rec = make_payment(tenant, actor, "in", cust, "500.00")
                pay = make_payment(tenant, actor, "out", sup.id, "100.00")
                s = st.allocate(tenant, actor, rec, inv, "200.00", date(2026, 3, 6))
                w = st.write_off(
                    tenant, actor, bill, "5.00", account_id("non_operating_income"), "尾差", date(2026, 3, 7)
                )
                world.offset_id[key] = st.offset(tenant, actor, inv, bill, "50.00", date(2026, 3, 8)).id
                world.settle_supplier_id[key], world.settle_bill_id[key] = sup.id, bill.id
                world.invoice_doc_id[key] = inv.id
                world.receipt_id[key], world.supplier_payment_id[key] = rec.id, pay.id
                world.settlement_id[key], world.write_off_id[key] = s.id, w.id
                db.session.commit()
