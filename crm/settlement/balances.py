"""What is open, as of a date: the one definition used by aging, statements, the period-close
checks and the property tests. A document counts from its date until it is reversed; a
settlement counts from ``settled_on`` until ``undone_on``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, and_, func, or_, select, type_coerce

from crm.db import Money, db
from crm.invoicing.models import Invoice
from crm.settlement.models import Payment, Settlement

ZERO = Decimal("0.00")


def _active_on(as_of: date):  # type: ignore[no-untyped-def]
    return and_(Settlement.settled_on <= as_of, or_(Settlement.undone_on.is_(None), Settlement.undone_on > as_of))


def _fen(col):  # type: ignore[no-untyped-def]
    return type_coerce(col, BigInteger)


def residuals_as_of(
    direction: str, as_of: date, *, party_id: int | None = None, invoice_ids: list[int] | None = None
) -> dict[int, Decimal]:
    """invoice id → open residual as of the date, for posted documents of one direction
    ("receivable" | "payable"); documents with nothing open are left out."""
    settled = (
        select(func.coalesce(func.sum(_fen(Settlement.amount)), 0))
        .where(or_(Settlement.invoice_id == Invoice.id, Settlement.bill_id == Invoice.id), _active_on(as_of))
        .correlate(Invoice)
        .scalar_subquery()
    )
    stmt = select(Invoice.id, type_coerce(_fen(Invoice.total_incl) - settled, Money())).where(
        Invoice.direction == direction,
        Invoice.entry_id.is_not(None),
        Invoice.invoice_date <= as_of,
        or_(Invoice.reversed_on.is_(None), Invoice.reversed_on > as_of),
    )
    if party_id is not None:
        party_col = Invoice.customer_id if direction == "receivable" else Invoice.supplier_id
        stmt = stmt.where(party_col == party_id)
    if invoice_ids is not None:
        stmt = stmt.where(Invoice.id.in_(invoice_ids))
    return {i: amount for i, amount in db.session.execute(stmt) if amount}


def unallocated_as_of(direction: str, as_of: date, *, party_id: int | None = None) -> dict[int, Decimal]:
    """payment id → money not yet allocated as of the date (customer credit 预收 for receipts,
    prepayment 预付 for payments); fully allocated ones are left out."""
    allocated = (
        select(func.coalesce(func.sum(_fen(Settlement.amount)), 0))
        .where(Settlement.payment_id == Payment.id, _active_on(as_of))
        .correlate(Payment)
        .scalar_subquery()
    )
    stmt = select(Payment.id, type_coerce(_fen(Payment.amount) - allocated, Money())).where(
        Payment.direction == direction,
        Payment.entry_id.is_not(None),
        Payment.payment_date <= as_of,
        or_(Payment.reversed_on.is_(None), Payment.reversed_on > as_of),
    )
    if party_id is not None:
        party_col = Payment.customer_id if direction == "in" else Payment.supplier_id
        stmt = stmt.where(party_col == party_id)
    return {i: amount for i, amount in db.session.execute(stmt) if amount}
