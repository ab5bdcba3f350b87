"""Settlement rules, callable without a request: receipts (收款) and payments (付款), allocations
to invoices/bills, automatic oldest-first allocation, offsets (应收冲应付), write-offs (冲销/核销),
undo by reversal, and the contract payment plan against the money received.

Every amount that two requests could change at once (a payment's ``unallocated``, a document's
``open_amount``) is read under ``SELECT … FOR UPDATE`` in a fixed order — the payment first, then
the documents by id — before it is checked, so concurrent settlements serialise and the second
sees what the first left. Services flush and audit; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, func, select, type_coerce

from crm.audit.services import record
from crm.books import services as books
from crm.books.errors import RuleViolation
from crm.books.models import Account
from crm.contracts.models import Contract, ContractPayment
from crm.db import Money, db, to_money, utcnow
from crm.invoicing.models import Invoice, Supplier
from crm.numbering import next_number
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from crm.settlement.models import PAYMENT_DIRECTIONS, Payment, Settlement
from roles.checks import PermissionDenied, can
from tenants.models import Membership, Tenant

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
T = TypeVar("T")
# Accounts offered for a write-off, by the document's direction.
WRITE_OFF_ROLES = {
    "receivable": ("non_operating_expense", "admin_expense", "financial_expense"),
    "payable": ("non_operating_income",),
}
OPEN_STATUSES = ("posted",)


@dataclass
class PaymentInput:
    direction: str  # "in" (receipt) | "out" (payment)
    payment_date: date | None
    amount: Decimal | str | None
    account_id: int | None  # a cash/bank account (Account.is_cash) — default account_for("bank")
    customer_id: int | None = None  # receipts
    supplier_id: int | None = None  # payments
    reference: str | None = None
    memo: str | None = None


@dataclass
class PlanRow:
    instalment: ContractPayment
    due_on: date
    planned: Decimal
    received: Decimal
    outstanding: Decimal


# --- helpers ---------------------------------------------------------------------------------


def parse_amount(raw: Any) -> Decimal | None:
    """A positive amount of at most two decimals, or None (the books' one parser)."""
    return books.parse_amount(raw)


def _amount_or_fail(raw: Any) -> Decimal:
    value = parse_amount(raw)
    if value is None:
        raise InvalidInput({"amount": _("Enter an amount greater than zero with at most two decimals.")})
    return value


def _lock(model: type[T], obj_id: int) -> T:
    """Re-read a row under SELECT … FOR UPDATE, refreshing the loaded object."""
    stmt = select(model).where(model.id == obj_id).with_for_update().execution_options(populate_existing=True)  # type: ignore[attr-defined]
    return db.session.execute(stmt).scalar_one()


def _lock_documents(ids: list[int]) -> dict[int, Invoice]:
    if not ids:
        return {}
    stmt = (
        select(Invoice).where(Invoice.id.in_(sorted(set(ids)))).order_by(Invoice.id).with_for_update()
        .execution_options(populate_existing=True)
    )  # fmt: skip
    return {x.id: x for x in db.session.scalars(stmt)}


def _not_allocatable() -> str:
    return _("Only a posted receipt or payment that is not reversed can be allocated.")


def _not_settleable() -> str:
    return _("Only a posted invoice or bill that is not reversed can be settled.")


def _money_text(value: Decimal) -> str:
    return f"{value:,.2f}"


def _is_open_document(doc: Invoice) -> bool:
    return doc.entry_id is not None and doc.reversed_on is None and doc.status in ("posted", "paid")


def _party_of(doc: Invoice) -> tuple[str, int | None]:
    return ("customer", doc.customer_id) if doc.is_receivable else ("supplier", doc.supplier_id)


def _reduce(doc: Invoice, amount: Decimal) -> None:
    doc.open_amount = to_money(doc.open_amount - amount)
    if doc.open_amount == ZERO:
        doc.status = "paid"


def _restore(doc: Invoice, amount: Decimal) -> None:
    doc.open_amount = to_money(doc.open_amount + amount)
    if doc.status == "paid" and doc.open_amount > ZERO:
        doc.status = "posted"


def _check_date(on: date, *docs_dates: date) -> None:
    for d in docs_dates:
        if on < d:
            raise InvalidInput(
                {"date": _("The settlement cannot be dated before %(date)s, the date of a document it settles.",
                           date=d.isoformat())}
            )  # fmt: skip


def _new_settlement(actor: Membership | None, **values: Any) -> Settlement:
    s = Settlement(created_by_id=actor.id if actor else None, created_at=utcnow(), **values)
    db.session.add(s)
    db.session.flush()
    return s


def cash_accounts() -> list[Account]:
    stmt = select(Account).where(Account.is_cash.is_(True), Account.is_active.is_(True)).order_by(Account.code)
    rows = list(db.session.scalars(stmt))
    parents = books.has_children(a.id for a in rows)
    # Sub-accounts of a cash account (one per bank) are cash accounts too.
    subs = list(db.session.scalars(select(Account).where(Account.parent_id.in_(parents), Account.is_active.is_(True))))
    return sorted([a for a in rows if a.id not in parents] + subs, key=lambda a: a.code)


def write_off_accounts(direction: str) -> list[Account]:
    """Leaf active accounts, the suggested ones first."""
    rows = list(db.session.scalars(select(Account).where(Account.is_active.is_(True)).order_by(Account.code)))
    parents = books.has_children(a.id for a in rows)
    leaves = [a for a in rows if a.id not in parents]
    roles = WRITE_OFF_ROLES.get(direction, ())
    suggested = [a for r in roles for a in leaves if a.role == r]
    return suggested + [a for a in leaves if a not in suggested]


# --- receipts and payments -------------------------------------------------------------------


def _clean_payment(data: PaymentInput) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if data.direction not in PAYMENT_DIRECTIONS:
        errors["direction"] = _("Choose a receipt or a payment.")
    if data.payment_date is None:
        errors["payment_date"] = _("Enter the date the money moved.")
    amount = parse_amount(data.amount)
    if amount is None:
        errors["amount"] = _("Enter an amount greater than zero with at most two decimals.")
    account: Account | None
    if data.account_id:
        account = db.session.scalar(select(Account).where(Account.id == data.account_id))
    else:
        account = books.account_for("bank")
    if account is None or not account.is_active or account.id not in {a.id for a in cash_accounts()}:
        errors["account_id"] = _("Choose a bank or cash account.")
    customer_id = supplier_id = None
    if data.direction == "in":
        customer = db.session.scalar(select(Customer).where(Customer.id == (data.customer_id or 0)))
        if customer is None:
            errors["customer_id"] = _("Choose a customer of this workspace.")
        else:
            customer_id = customer.id
    elif data.direction == "out":
        supplier = db.session.scalar(select(Supplier).where(Supplier.id == (data.supplier_id or 0)))
        if supplier is None:
            errors["supplier_id"] = _("Choose a supplier of this workspace.")
        else:
            supplier_id = supplier.id
    reference = (data.reference or "").strip() or None
    if reference and len(reference) > 100:
        errors["reference"] = _("At most 100 characters.")
    memo = (data.memo or "").strip() or None
    if memo and len(memo) > 5000:
        errors["memo"] = _("At most 5000 characters.")
    if errors:
        raise InvalidInput(errors)
    assert account is not None and amount is not None
    return {"payment_date": data.payment_date, "amount": amount, "account_id": account.id,
            "customer_id": customer_id, "supplier_id": supplier_id, "reference": reference, "memo": memo}  # fmt: skip


def create_payment(tenant: Tenant, actor: Membership | None, data: PaymentInput, *, post: bool = False) -> Payment:
    books.ensure_books(tenant, actor)
    values = _clean_payment(data)
    kind = "receipt" if data.direction == "in" else "payment"
    p = Payment(
        direction=data.direction, number=next_number(tenant, kind, values["payment_date"]), status="draft",
        unallocated=values["amount"], created_by_id=actor.id if actor else None, **values,
    )  # fmt: skip
    db.session.add(p)
    db.session.flush()
    record(f"{kind}.create", p, actor=actor, summary=f"{p.number} {_money_text(p.amount)}")
    if post:
        post_payment(tenant, actor, p)
    return p


def update_payment(tenant: Tenant, actor: Membership | None, p: Payment, data: PaymentInput) -> Payment:
    if p.status != "draft":
        raise RuleViolation(
            "posted_is_final", {"payment": _("A posted receipt or payment is never edited; reverse it.")}
        )
    data.direction = p.direction
    values = _clean_payment(data)
    changes: dict[str, Any] = {}
    for k, v in values.items():
        before = getattr(p, k)
        if before != v:
            changes[k] = [str(before) if before is not None else None, str(v) if v is not None else None]
            setattr(p, k, v)
    p.unallocated = p.amount
    db.session.flush()
    kind = "receipt" if p.is_receipt else "payment"
    record(f"{kind}.update", p, actor=actor, summary=p.number, changes=changes)
    return p


def delete_payment(actor: Membership | None, p: Payment) -> None:
    if p.status != "draft":
        raise RuleViolation(
            "posted_is_final", {"payment": _("A posted receipt or payment is never deleted; reverse it.")}
        )
    kind = "receipt" if p.is_receipt else "payment"
    record(f"{kind}.delete", p, actor=actor, summary=p.number)
    db.session.delete(p)
    db.session.flush()


def post_payment(tenant: Tenant, actor: Membership | None, p: Payment) -> Payment:
    p = _lock(Payment, p.id)
    if p.status != "draft":
        raise RuleViolation("already_posted", {"payment": _("This is already posted.")})
    kind = "receipt" if p.is_receipt else "payment"
    if p.is_receipt:
        advance = books.account_for("customer_advance")
        lines = [
            books.LineInput(p.account_id, debit=p.amount, memo=p.number),
            books.LineInput(advance.id, credit=p.amount, party_type="customer", party_id=p.customer_id, memo=p.number),
        ]
        memo = books.memo(_l("Receipt %(number)s from %(party)s", number=p.number, party=p.party_name))
    else:
        prepayment = books.account_for("prepayment")
        lines = [
            books.LineInput(prepayment.id, debit=p.amount, party_type="supplier", party_id=p.supplier_id,
                            memo=p.number),
            books.LineInput(p.account_id, credit=p.amount, memo=p.number),
        ]  # fmt: skip
        memo = books.memo(_l("Payment %(number)s to %(party)s", number=p.number, party=p.party_name))
    entry = books.post_lines(tenant, actor, p.payment_date, memo, lines, source=(kind, p.id), kind="document")
    p.entry_id = entry.id
    p.status = "posted"
    p.unallocated = p.amount
    db.session.flush()
    record(f"{kind}.post", p, actor=actor, summary=f"{p.number} → {entry.number}")
    return p


def active_allocations(p: Payment) -> list[Settlement]:
    stmt = select(Settlement).where(Settlement.payment_id == p.id, Settlement.undone_on.is_(None))
    return list(db.session.scalars(stmt.order_by(Settlement.id)))


def reverse_payment(
    tenant: Tenant, actor: Membership | None, p: Payment, on: date | None = None, reason: str | None = None
) -> Payment:
    p = _lock(Payment, p.id)
    if p.status != "posted" or p.entry is None:
        raise RuleViolation("not_posted", {"payment": _("Only a posted receipt or payment can be reversed.")})
    if active_allocations(p):
        raise RuleViolation(
            "has_allocations", {"payment": _("Undo its allocations first; only money not allocated can be reversed.")}
        )
    when = on or books.today_in(tenant)
    text = (reason or "").strip()[:200]
    memo = books.memo(_l("Reversal of %(number)s", number=p.number)) + (f": {text}" if text else "")
    rev = books.reverse_entry(tenant, actor, p.entry, when, memo)
    p.reversal_entry_id = rev.id
    p.reversed_on = when
    p.status = "reversed"
    db.session.flush()
    kind = "receipt" if p.is_receipt else "payment"
    record(f"{kind}.reverse", p, actor=actor, summary=f"{p.number} {text}".strip())
    return p


# --- allocations -----------------------------------------------------------------------------


def _matches(payment: Payment, doc: Invoice) -> bool:
    if payment.is_receipt:
        return doc.direction == "receivable" and doc.customer_id == payment.customer_id
    return doc.direction == "payable" and doc.supplier_id == payment.supplier_id


def allocate(
    tenant: Tenant, actor: Membership | None, payment: Payment, invoice: Invoice, amount: Decimal | str,
    on: date | None = None,
) -> Settlement:  # fmt: skip
    value = _amount_or_fail(amount)
    # Locks first, in a fixed order (payment, then document), then every check on fresh values.
    payment = _lock(Payment, payment.id)
    invoice = _lock(Invoice, invoice.id)
    if payment.status != "posted":
        raise RuleViolation("not_posted", {"payment": _not_allocatable()})
    if not _is_open_document(invoice):
        raise RuleViolation("not_posted", {"invoice": _not_settleable()})
    wanted = "receivable" if payment.is_receipt else "payable"
    if invoice.direction != wanted:
        raise RuleViolation(
            "wrong_direction", {"invoice": _("A receipt settles customer invoices; a payment settles supplier bills.")}
        )
    if not _matches(payment, invoice):
        raise RuleViolation("not_same_party", {"invoice": _("The invoice belongs to another party.")})
    limit = min(payment.unallocated, invoice.open_amount)
    if value > limit:
        raise RuleViolation(
            "over_allocation",
            {"amount": _("You can allocate at most %(max)s (unallocated %(free)s, open %(open)s).",
                         max=_money_text(limit), free=_money_text(payment.unallocated),
                         open=_money_text(invoice.open_amount))},
        )  # fmt: skip
    when = on or books.today_in(tenant)
    _check_date(when, payment.payment_date, invoice.invoice_date)
    s = _new_settlement(actor, kind="allocation", payment_id=payment.id, invoice_id=invoice.id, amount=value,
                        settled_on=when)  # fmt: skip
    if payment.is_receipt:
        advance, receivable = books.account_for("customer_advance"), books.account_for("receivable")
        party = ("customer", payment.customer_id)
        lines = [
            books.LineInput(advance.id, debit=value, party_type=party[0], party_id=party[1], memo=invoice.number),
            books.LineInput(receivable.id, credit=value, party_type=party[0], party_id=party[1], memo=invoice.number),
        ]
    else:
        payable, prepayment = books.account_for("payable"), books.account_for("prepayment")
        party = ("supplier", payment.supplier_id)
        lines = [
            books.LineInput(payable.id, debit=value, party_type=party[0], party_id=party[1], memo=invoice.number),
            books.LineInput(prepayment.id, credit=value, party_type=party[0], party_id=party[1], memo=invoice.number),
        ]
    memo = books.memo(_l("%(payment)s allocated to %(invoice)s", payment=payment.number, invoice=invoice.number))
    entry = books.post_lines(tenant, actor, when, memo, lines, source=("settlement", s.id), kind="settlement")
    s.entry_id = entry.id
    payment.unallocated = to_money(payment.unallocated - value)
    _reduce(invoice, value)
    db.session.flush()
    record("settlement.allocate", s, actor=actor, summary=f"{payment.number} → {invoice.number} {_money_text(value)}")
    return s


def open_documents_for(payment: Payment) -> list[Invoice]:
    """The party's open documents of the payment's direction, oldest first."""
    if payment.is_receipt:
        where = [Invoice.direction == "receivable", Invoice.customer_id == payment.customer_id]
    else:
        where = [Invoice.direction == "payable", Invoice.supplier_id == payment.supplier_id]
    stmt = (
        select(Invoice)
        .where(*where, Invoice.status.in_(OPEN_STATUSES), Invoice.entry_id.is_not(None),
               Invoice.reversed_on.is_(None), Invoice.open_amount > 0)
        .order_by(func.coalesce(Invoice.due_date, Invoice.invoice_date), Invoice.invoice_date, Invoice.id)
    )  # fmt: skip
    return list(db.session.scalars(stmt))


def allocation_preview(payment: Payment, amount: Decimal | None = None) -> list[tuple[Invoice, Decimal]]:
    """Oldest first (due date, then invoice date, then id), up to ``amount`` (default: the
    payment's unallocated money)."""
    left = to_money(payment.unallocated if amount is None else min(amount, payment.unallocated))
    out: list[tuple[Invoice, Decimal]] = []
    for doc in open_documents_for(payment):
        if left <= ZERO:
            break
        take = min(left, doc.open_amount)
        out.append((doc, take))
        left = to_money(left - take)
    return out


def auto_allocate(
    tenant: Tenant, actor: Membership | None, payment: Payment, on: date | None = None
) -> list[Settlement]:
    payment = _lock(Payment, payment.id)
    if payment.status != "posted":
        raise RuleViolation("not_posted", {"payment": _not_allocatable()})
    _lock_documents([d.id for d in open_documents_for(payment)])
    plan = allocation_preview(payment)
    if not plan:
        raise RuleViolation("nothing_to_allocate", {"payment": _("There is no unallocated money or no open document.")})
    return [allocate(tenant, actor, payment, doc, amount, on) for doc, amount in plan]


# --- offsets and write-offs ------------------------------------------------------------------


def offset(
    tenant: Tenant, actor: Membership | None, invoice: Invoice, bill: Invoice, amount: Decimal | str,
    on: date | None = None,
) -> Settlement:  # fmt: skip
    value = _amount_or_fail(amount)
    locked = _lock_documents([invoice.id, bill.id])
    invoice, bill = locked[invoice.id], locked[bill.id]
    if invoice.direction != "receivable" or bill.direction != "payable":
        raise RuleViolation("wrong_direction", {"invoice": _("Offset a customer invoice against a supplier bill.")})
    if not _is_open_document(invoice) or not _is_open_document(bill):
        raise RuleViolation("not_posted", {"invoice": _("Both documents must be posted and not reversed.")})
    supplier = bill.supplier
    if supplier is None or supplier.customer_id is None or supplier.customer_id != invoice.customer_id:
        raise RuleViolation(
            "not_same_party", {"bill": _("The bill's supplier is not the invoice's customer; nothing can be offset.")}
        )
    limit = min(invoice.open_amount, bill.open_amount)
    if value > limit:
        raise RuleViolation(
            "over_allocation",
            {"amount": _("You can offset at most %(max)s (invoice open %(a)s, bill open %(b)s).",
                         max=_money_text(limit), a=_money_text(invoice.open_amount), b=_money_text(bill.open_amount))},
        )  # fmt: skip
    when = on or books.today_in(tenant)
    _check_date(when, invoice.invoice_date, bill.invoice_date)
    s = _new_settlement(actor, kind="offset", invoice_id=invoice.id, bill_id=bill.id, amount=value, settled_on=when)
    lines = [
        books.LineInput(books.account_for("payable").id, debit=value, party_type="supplier", party_id=bill.supplier_id,
                        memo=bill.number),
        books.LineInput(books.account_for("receivable").id, credit=value, party_type="customer",
                        party_id=invoice.customer_id, memo=invoice.number),
    ]  # fmt: skip
    memo = books.memo(_l("Offset of %(invoice)s against %(bill)s", invoice=invoice.number, bill=bill.number))
    entry = books.post_lines(tenant, actor, when, memo, lines, source=("settlement", s.id), kind="settlement")
    s.entry_id = entry.id
    _reduce(invoice, value)
    _reduce(bill, value)
    db.session.flush()
    record("settlement.offset", s, actor=actor, summary=f"{invoice.number} ↔ {bill.number} {_money_text(value)}")
    return s


def write_off(
    tenant: Tenant, actor: Membership | None, document: Invoice, amount: Decimal | str, account_id: int,
    reason: str, on: date | None = None,
) -> Settlement:  # fmt: skip
    if not can(actor, "books.write_off"):
        raise PermissionDenied("books.write_off")
    errors: dict[str, str] = {}
    value = parse_amount(amount)
    if value is None:
        errors["amount"] = _("Enter an amount greater than zero with at most two decimals.")
    text = (reason or "").strip()
    if not text:
        errors["reason"] = _("Say why this is written off.")
    elif len(text) > 255:
        errors["reason"] = _("At most 255 characters.")
    account = db.session.scalar(select(Account).where(Account.id == (account_id or 0)))
    if account is None or not account.is_active:
        errors["account_id"] = _("Choose an account.")
    elif books.has_children([account.id]):
        errors["account_id"] = _("This account has sub-accounts; choose one of them.")
    if errors:
        raise InvalidInput(errors)
    assert value is not None and account is not None
    document = _lock(Invoice, document.id)
    if not _is_open_document(document):
        raise RuleViolation("not_posted", {"document": _not_settleable()})
    if value > document.open_amount:
        raise RuleViolation(
            "over_allocation",
            {"amount": _("You can write off at most %(max)s, the open amount.", max=_money_text(document.open_amount))},
        )
    when = on or books.today_in(tenant)
    _check_date(when, document.invoice_date)
    s = _new_settlement(actor, kind="write_off", invoice_id=document.id, account_id=account.id, amount=value,
                        settled_on=when, reason=text)  # fmt: skip
    party_type, party_id = _party_of(document)
    if document.is_receivable:
        lines = [
            books.LineInput(account.id, debit=value, memo=document.number),
            books.LineInput(books.account_for("receivable").id, credit=value, party_type=party_type,
                            party_id=party_id, memo=document.number),
        ]  # fmt: skip
    else:
        lines = [
            books.LineInput(books.account_for("payable").id, debit=value, party_type=party_type, party_id=party_id,
                            memo=document.number),
            books.LineInput(account.id, credit=value, memo=document.number),
        ]  # fmt: skip
    memo = books.memo(_l("Write-off of %(number)s: %(reason)s", number=document.number, reason=text))
    entry = books.post_lines(tenant, actor, when, memo, lines, source=("settlement", s.id), kind="settlement")
    s.entry_id = entry.id
    _reduce(document, value)
    db.session.flush()
    record("settlement.write_off", s, actor=actor, summary=f"{document.number} {_money_text(value)} {text}")
    return s


# --- undo ------------------------------------------------------------------------------------


def undo_settlement(
    tenant: Tenant, actor: Membership | None, s: Settlement, on: date | None = None, reason: str | None = None
) -> Settlement:
    if s.kind == "write_off" and not can(actor, "books.write_off"):
        raise PermissionDenied("books.write_off")
    payment = _lock(Payment, s.payment_id) if s.payment_id else None
    docs = _lock_documents([i for i in (s.invoice_id, s.bill_id) if i])
    s = _lock(Settlement, s.id)
    if s.undone_on is not None:
        raise RuleViolation("already_undone", {"settlement": _("This settlement is already undone.")})
    if s.entry is None:
        raise RuleViolation("not_posted", {"settlement": _("This settlement has no entry to reverse.")})
    text = (reason or "").strip()[:255] or None
    when = on or books.today_in(tenant)
    memo = books.memo(_l("Undo of settlement %(id)s", id=s.id)) + (f": {text}" if text else "")
    rev = books.reverse_entry(tenant, actor, s.entry, when, memo[:255])
    s.undo_entry_id = rev.id
    s.undone_on = when
    s.undone_by_id = actor.id if actor else None
    s.undo_reason = text
    if payment is not None:
        payment.unallocated = to_money(payment.unallocated + s.amount)
    for doc in docs.values():
        _restore(doc, s.amount)
    db.session.flush()
    record("settlement.undo", s, actor=actor, summary=f"{s.kind} {_money_text(s.amount)} {text or ''}".strip())
    return s


# --- reading ---------------------------------------------------------------------------------


def settlements_of_document(doc: Invoice) -> list[Settlement]:
    stmt = select(Settlement).where((Settlement.invoice_id == doc.id) | (Settlement.bill_id == doc.id))
    return list(db.session.scalars(stmt.order_by(Settlement.settled_on, Settlement.id)))


def allocated_of(p: Payment) -> Decimal:
    return to_money(p.amount - p.unallocated) if p.status == "posted" else ZERO


def _received_by_contract(contract_id: int) -> Decimal:
    fen = func.coalesce(func.sum(type_coerce(Settlement.amount, BigInteger)), 0)
    stmt = (
        select(type_coerce(fen, Money()))
        .join(Invoice, Invoice.id == Settlement.invoice_id)
        .where(Invoice.contract_id == contract_id, Invoice.direction == "receivable",
               Settlement.kind == "allocation", Settlement.undone_on.is_(None))
    )  # fmt: skip
    return db.session.scalar(stmt) or ZERO


def plan_progress(contract: Contract) -> list[PlanRow]:
    """The payment plan (回款计划) in due-date order, the money received (active allocations to
    invoices of this contract) filled into the instalments in that order."""
    stmt = (
        select(ContractPayment).where(ContractPayment.contract_id == contract.id)
        .order_by(ContractPayment.due_on, ContractPayment.position, ContractPayment.id)
    )  # fmt: skip
    plan = list(db.session.scalars(stmt))
    left = _received_by_contract(contract.id)
    rows: list[PlanRow] = []
    for inst in plan:
        got = min(left, inst.amount)
        left = to_money(left - got)
        rows.append(PlanRow(inst, inst.due_on, inst.amount, got, to_money(inst.amount - got)))
    return rows
