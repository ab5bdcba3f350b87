"""Properties of the books under random sequences of invoices, bills, receipts, payments,
allocations, offsets, write-offs, undos, reversals, manual entries and period closes (Hypothesis).

After every step, whatever succeeded or was refused:
- every posted entry balances, and so does the trial balance;
- the receivable control account equals the open invoices' residuals (and 预收 the unallocated
  receipts; payables and 预付 likewise), by the one as-of definition in crm.settlement.balances;
- no open or unallocated amount is negative or above its document's total;
- a closed month's lines never change;
- a refused operation changes nothing;
- undoing a settlement gives back exactly its amount and nets its entry to zero on every account.

Each example runs in a workspace of its own, so examples never see each other's data.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, func, select, type_coerce

from crm.books import closing
from crm.books import services as books
from crm.books.models import FiscalPeriod, JournalEntry, JournalLine
from crm.db import db
from crm.invoicing import services as invoicing
from crm.invoicing.models import Invoice, Supplier
from crm.sales.services import InvalidInput
from crm.settlement import services as settlement
from crm.settlement.balances import residuals_as_of, unallocated_as_of
from crm.settlement.models import Payment, Settlement
from roles.checks import PermissionDenied
from tenants.context import tenant_context
from tenants.models import Tenant
from tests import factories

START = date(2026, 1, 1)
FAR = date(2030, 12, 31)
RATES = ["0.13", "0.09", "0.06", "0.03", "0.01", "0.00"]
_slugs = itertools.count()

days = st.integers(min_value=0, max_value=119)  # January to April 2026
amounts = st.integers(min_value=1, max_value=500).map(lambda n: Decimal(n) * 10 + Decimal("0.55"))
small = st.integers(min_value=1, max_value=3000).map(lambda n: Decimal(n) / 2)
pick = st.integers(min_value=0, max_value=20)

OPS = st.one_of(
    st.tuples(st.just("invoice"), st.integers(0, 1), amounts, st.sampled_from(RATES), days),
    st.tuples(st.just("bill"), st.integers(0, 1), amounts, st.sampled_from(RATES), days),
    st.tuples(st.just("receipt"), st.integers(0, 1), amounts, days),
    st.tuples(st.just("payment"), st.integers(0, 1), amounts, days),
    st.tuples(st.just("allocate"), pick, pick, small, days),
    st.tuples(st.just("auto_allocate"), pick, days),
    st.tuples(st.just("offset"), pick, pick, small, days),
    st.tuples(st.just("write_off"), pick, small, days),
    st.tuples(st.just("undo"), pick, days),
    st.tuples(st.just("reverse_invoice"), pick, days),
    st.tuples(st.just("entry"), amounts, st.booleans(), days),
    st.tuples(st.just("close"), st.integers(1, 4)),
)


@dataclass
class Books:
    tenant: Tenant
    actor: Any
    customers: list[int]
    suppliers: list[int]
    invoices: list[int] = field(default_factory=list)
    bills: list[int] = field(default_factory=list)
    receipts: list[int] = field(default_factory=list)
    payments: list[int] = field(default_factory=list)
    settlements: list[int] = field(default_factory=list)
    closed: dict[tuple[int, int], Any] = field(default_factory=dict)  # month → its lines' fingerprint


def _workspace() -> Books:
    n = next(_slugs)
    tenant = factories.make_tenant(f"prop-{n}", f"Prop {n}")
    owner = factories.make_member(tenant, factories.make_user(f"owner{n}@prop.example.com", "Owner"), ["owner"])
    with tenant_context(tenant.id):
        books.set_up_books(tenant, owner, "small", start=START)
        customers = [factories.make_customer(owner, f"客户{n}-{i}")[0].id for i in range(2)]
        # Supplier 0 is also customer 0: the party 应收冲应付 works on.
        suppliers = []
        for i in range(2):
            s = Supplier(name=f"供应商{n}-{i}", customer_id=customers[0] if i == 0 else None, payment_terms_days=30)
            db.session.add(s)
            db.session.flush()
            suppliers.append(s.id)
    return Books(tenant, owner, customers, suppliers)


def _day(offset: int) -> date:
    return START + timedelta(days=offset)


def _get(model: Any, ids: list[int], index: int) -> Any:
    return db.session.get(model, ids[index % len(ids)]) if ids else None


def _fen_sum(col: Any) -> Any:
    return func.coalesce(func.sum(type_coerce(col, BigInteger)), 0)


def _month_fingerprint(year: int, month: int) -> list[tuple[int, int, int, int]]:
    first = date(year, month, 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    stmt = (
        select(
            JournalLine.account_id,
            func.count(JournalLine.id),
            _fen_sum(JournalLine.debit),
            _fen_sum(JournalLine.credit),
        )
        .where(JournalLine.posted.is_(True), JournalLine.entry_date >= first, JournalLine.entry_date <= last)
        .group_by(JournalLine.account_id)
        .order_by(JournalLine.account_id)
    )
    return [tuple(r) for r in db.session.execute(stmt)]


def _state() -> tuple[Any, ...]:
    """Everything an operation could change: per-account balances and every document's amounts."""
    balances = tuple(
        db.session.execute(
            select(JournalLine.account_id, _fen_sum(JournalLine.debit) - _fen_sum(JournalLine.credit))
            .where(JournalLine.posted.is_(True))
            .group_by(JournalLine.account_id)
            .order_by(JournalLine.account_id)
        )
    )
    docs = tuple(db.session.execute(select(Invoice.id, Invoice.status, Invoice.open_amount).order_by(Invoice.id)))
    pays = tuple(db.session.execute(select(Payment.id, Payment.status, Payment.unallocated).order_by(Payment.id)))
    sets = tuple(db.session.execute(select(Settlement.id, Settlement.undone_on).order_by(Settlement.id)))
    return balances, docs, pays, sets


def _check_invariants(w: Books) -> None:
    # Every posted entry balances.
    unbalanced = db.session.execute(
        select(JournalLine.entry_id)
        .where(JournalLine.posted.is_(True))
        .group_by(JournalLine.entry_id)
        .having(_fen_sum(JournalLine.debit) != _fen_sum(JournalLine.credit))
    ).all()
    assert unbalanced == []
    # The trial balance balances.
    debit, credit = db.session.execute(
        select(_fen_sum(JournalLine.debit), _fen_sum(JournalLine.credit)).where(JournalLine.posted.is_(True))
    ).one()
    assert debit == credit
    # Sub-ledgers equal their control accounts (as of any date after everything).
    ar = books.account_balance(books.account_for("receivable").id)
    ap = -books.account_balance(books.account_for("payable").id)
    advance = -books.account_balance(books.account_for("customer_advance").id)
    prepaid = books.account_balance(books.account_for("prepayment").id)
    assert ar == sum(residuals_as_of("receivable", FAR).values(), Decimal(0))
    assert ap == sum(residuals_as_of("payable", FAR).values(), Decimal(0))
    assert advance == sum(unallocated_as_of("in", FAR).values(), Decimal(0))
    assert prepaid == sum(unallocated_as_of("out", FAR).values(), Decimal(0))
    # The stored open amounts agree with the as-of definition, and stay within their documents.
    live = {**residuals_as_of("receivable", FAR), **residuals_as_of("payable", FAR)}
    for inv in db.session.scalars(select(Invoice).where(Invoice.entry_id.is_not(None))):
        assert Decimal(0) <= inv.open_amount <= inv.total_incl
        expected = Decimal(0) if inv.status == "reversed" else inv.open_amount
        assert live.get(inv.id, Decimal(0)) == expected
    for p in db.session.scalars(select(Payment).where(Payment.entry_id.is_not(None))):
        assert Decimal(0) <= p.unallocated <= p.amount
    # Closed months never change.
    for (year, month), fingerprint in w.closed.items():
        assert _month_fingerprint(year, month) == fingerprint


REFUSALS = (InvalidInput, PermissionDenied)


def _apply(w: Books, op: tuple[Any, ...]) -> None:
    kind = op[0]
    t, actor = w.tenant, w.actor
    if kind == "invoice" or kind == "bill":
        _, party, amount, rate, day = op
        line = {"description": "货物", "quantity": "1", "unit_price": str(amount), "tax_rate": rate}
        data = invoicing.InvoiceInput(
            direction="receivable" if kind == "invoice" else "payable",
            invoice_date=_day(day),
            customer_id=w.customers[party] if kind == "invoice" else None,
            supplier_id=w.suppliers[party] if kind == "bill" else None,
            lines=[line],
        )
        inv = invoicing.create_invoice(t, actor, data)
        invoicing.post_invoice(t, actor, inv)
        (w.invoices if kind == "invoice" else w.bills).append(inv.id)
    elif kind == "receipt" or kind == "payment":
        _, party, amount, day = op
        data = settlement.PaymentInput(
            direction="in" if kind == "receipt" else "out",
            payment_date=_day(day),
            amount=amount,
            account_id=books.account_for("bank").id,
            customer_id=w.customers[party] if kind == "receipt" else None,
            supplier_id=w.suppliers[party] if kind == "payment" else None,
        )
        p = settlement.create_payment(t, actor, data, post=True)
        (w.receipts if kind == "receipt" else w.payments).append(p.id)
    elif kind == "allocate":
        _, pi, ii, amount, day = op
        receipts_first = pi % 2 == 0
        payment = _get(Payment, w.receipts if receipts_first else w.payments, pi // 2)
        doc = _get(Invoice, w.invoices if receipts_first else w.bills, ii)
        if payment is None or doc is None:
            return
        s = settlement.allocate(t, actor, payment, doc, amount, _day(day))
        w.settlements.append(s.id)
    elif kind == "auto_allocate":
        _, pi, day = op
        payment = _get(Payment, w.receipts, pi)
        if payment is None:
            return
        w.settlements += [s.id for s in settlement.auto_allocate(t, actor, payment, _day(day))]
    elif kind == "offset":
        _, ii, bi, amount, day = op
        inv, bill = _get(Invoice, w.invoices, ii), _get(Invoice, w.bills, bi)
        if inv is None or bill is None:
            return
        w.settlements.append(settlement.offset(t, actor, inv, bill, amount, _day(day)).id)
    elif kind == "write_off":
        _, di, amount, day = op
        doc = _get(Invoice, w.invoices + w.bills, di)
        if doc is None:
            return
        account = books.account_for("non_operating_expense" if doc.is_receivable else "non_operating_income")
        w.settlements.append(settlement.write_off(t, actor, doc, amount, account.id, "尾差", _day(day)).id)
    elif kind == "undo":
        _, si, day = op
        s = _get(Settlement, w.settlements, si)
        if s is None:
            return
        _undo_and_check(w, s, _day(day))
    elif kind == "reverse_invoice":
        _, ii, day = op
        inv = _get(Invoice, w.invoices + w.bills, ii)
        if inv is None:
            return
        invoicing.reverse_invoice(t, actor, inv, _day(day), "开错了")
    elif kind == "entry":
        _, amount, balanced, day = op
        lines = [
            books.LineInput(books.account_for("admin_expense").id, debit=amount),
            books.LineInput(books.account_for("cash").id, credit=amount if balanced else amount + 1),
        ]
        entry = books.create_entry(t, actor, books.EntryInput(_day(day), "报销", lines))
        books.post_entry(t, actor, entry)
    elif kind == "close":
        _, month = op
        closing.close_period(t, actor, 2026, month)
        w.closed[(2026, month)] = _month_fingerprint(2026, month)


def _undo_and_check(w: Books, s: Settlement, on: date) -> None:
    docs = [d for d in (s.invoice, s.bill) if d is not None]
    before_open = {d.id: d.open_amount for d in docs}
    before_unallocated = s.payment.unallocated if s.payment is not None else None
    settlement.undo_settlement(w.tenant, w.actor, s, on, "撤销")
    for d in docs:
        assert d.open_amount == before_open[d.id] + s.amount
    if s.payment is not None:
        assert s.payment.unallocated == before_unallocated + s.amount
    # The settlement's entry and its reversal net to zero on every account.
    net: dict[int, Decimal] = {}
    for entry in (s.entry, s.undo_entry):
        assert entry is not None and entry.is_posted
        for line in entry.lines:
            net[line.account_id] = net.get(line.account_id, Decimal(0)) + line.debit - line.credit
    assert set(net.values()) == {Decimal(0)}


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(ops=st.lists(OPS, min_size=5, max_size=40))
def test_the_books_keep_their_invariants_under_any_sequence_of_operations(app, ops):
    with app.app_context():
        w = _workspace()
        with tenant_context(w.tenant.id):
            db.session.refresh(w.actor)
            for op in ops:
                before = _state()
                try:
                    with db.session.begin_nested():
                        _apply(w, op)
                except REFUSALS:
                    db.session.expire_all()
                    assert _state() == before, f"refused {op!r} changed something"
                _check_invariants(w)
            # Nothing was left half-done: the periods closed are closed.
            closed = set(
                db.session.execute(select(FiscalPeriod.year, FiscalPeriod.month).where(FiscalPeriod.status == "closed"))
            )
            assert closed == set(w.closed)
            # Refused operations left no drafts behind.
            assert db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.status == "draft")) == 0
        db.session.rollback()
