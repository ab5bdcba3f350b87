"""Receivables and payables: suppliers, customer invoices (应收单) and supplier bills (应付单).

A document is a draft (edited freely, deleted to cancel it) until it is posted; posting writes
one journal entry through crm.books.services.post_lines (so the period and lock rules apply):

- invoice: Dr 应收账款 (party: the customer) incl. tax; Cr each line's revenue account (default
  主营业务收入, grouped per account) excl. tax; Cr 应交增值税(销项税额) the tax.
- bill:    Dr each line's expense/cost/asset account (default 管理费用) excl. tax; Dr
  应交增值税(进项税额) the tax; Cr 应付账款 (party: the supplier) incl. tax.

A posted document is never edited: it is corrected by reversing it (only while nothing is
settled). Line amounts come from crm.catalog.pricing, so totals are the sums of the lines.

Services take (tenant, actor, …), validate first, flush and audit; the caller commits.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import selectinload

from crm.audit.services import record
from crm.books import services as books
from crm.books.errors import RuleViolation
from crm.books.models import Account, Department
from crm.catalog.pricing import check_total, parse_lines
from crm.contracts.models import Contract, ContractPayment
from crm.db import db, utcnow
from crm.invoicing.models import Invoice, InvoiceLine, Supplier
from crm.numbering import next_number
from crm.orders.models import Order
from crm.sales import rules
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from tenants.models import Membership, Tenant

ZERO = Decimal("0.00")
CONTRACT_VAT = Decimal("0.13")
DEFAULT_TERMS = 30
LINE_ACCOUNT_TYPES = {"receivable": ("revenue",), "payable": ("expense", "cost", "asset")}
SUPPLIER_FIELDS = (
    "name", "uscc", "contact_name", "phone", "email", "address", "bank_name", "bank_account",
    "payment_terms_days", "customer_id", "notes", "is_active",
)  # fmt: skip
SUPPLIER_LIMITS = {
    "name": 200, "uscc": 18, "contact_name": 60, "phone": 40, "email": 254, "address": 255, "bank_name": 120,
    "bank_account": 60, "notes": 5000,
}  # fmt: skip
OPEN_STATUSES = ("draft", "posted", "paid")  # a document that counts as "invoiced" for the queue


@dataclass
class InvoiceInput:
    direction: str  # "receivable" | "payable"
    invoice_date: date | None
    customer_id: int | None = None
    supplier_id: int | None = None
    due_date: date | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)
    prices_include_tax: bool = False
    memo: str | None = None
    external_number: str | None = None
    order_id: int | None = None
    contract_id: int | None = None
    department_id: int | None = None


@dataclass
class QueueItem:
    kind: str  # "order" | "contract"
    id: int
    number: str
    customer_name: str
    date: date | None
    amount: Decimal
    link: str


# ---------------------------------------------------------------- helpers


def kind_of(direction: str) -> str:
    return "invoice" if direction == "receivable" else "bill"


def label_zh(direction: str) -> str:
    return "应收单" if direction == "receivable" else "应付单"


def customer_terms(tenant: Tenant) -> int:
    raw = books.books_settings(tenant).get("payment_terms_days", DEFAULT_TERMS)
    try:
        return int(raw)
    except (TypeError, ValueError):
        return DEFAULT_TERMS


def _clean(text: Any, limit: int) -> str | None:
    return (str(text) if text is not None else "").strip()[:limit] or None


def line_accounts(direction: str) -> list[Account]:
    """Leaf, active accounts a line of this direction may name (one query for the accounts,
    one for the parents)."""
    types = LINE_ACCOUNT_TYPES[direction]
    rows = list(
        db.session.scalars(
            select(Account).where(Account.type.in_(types), Account.is_active.is_(True)).order_by(Account.code)
        )
    )
    parents = books.has_children(a.id for a in rows)
    return [a for a in rows if a.id not in parents]


def _check_line_accounts(direction: str, raw: list[dict[str, Any]], errors: dict[str, str]) -> list[int | None]:
    ids: list[int | None] = []
    wanted = set()
    for x in raw:
        try:
            v = int(x["account_id"]) if x.get("account_id") not in (None, "", "None") else None
        except (TypeError, ValueError):
            v = -1
        ids.append(v)
        if v:
            wanted.add(v)
    found = {a.id: a for a in db.session.scalars(select(Account).where(Account.id.in_(wanted)))} if wanted else {}
    parents = books.has_children(found)
    for i, v in enumerate(ids):
        if v is None:
            continue
        a = found.get(v)
        key = f"lines.{i}.account_id"
        if a is None:
            errors[key] = _("Choose an account of this workspace.")
        elif not a.is_active:
            errors[key] = _("This account is no longer in use.")
        elif a.id in parents:
            errors[key] = _("This account has sub-accounts; choose one of them.")
        elif a.type not in LINE_ACCOUNT_TYPES[direction]:
            errors[key] = (
                _("Choose a revenue account.")
                if direction == "receivable"
                else _("Choose an expense, cost or asset account.")
            )
    return ids


def _validate(tenant: Tenant, data: InvoiceInput, inv: Invoice | None) -> tuple[list[InvoiceLine], Any, date | None]:
    errors: dict[str, str] = {}
    if data.direction not in ("receivable", "payable"):
        raise InvalidInput({"direction": _("Unknown document type.")})
    if data.invoice_date is None:
        errors["invoice_date"] = _("Enter the document's date.")
    terms: int | None = None
    if data.direction == "receivable":
        customer = db.session.get(Customer, data.customer_id) if data.customer_id else None
        customer = customer if customer is not None and _in_tenant(Customer, customer.id) else None
        if customer is None or customer.archived_at is not None:
            errors["customer_id"] = _("Choose a customer of this workspace.")
        terms = customer_terms(tenant)
    else:
        supplier = db.session.scalars(select(Supplier).where(Supplier.id == (data.supplier_id or 0))).one_or_none()
        if supplier is None:
            errors["supplier_id"] = _("Choose a supplier of this workspace.")
        elif not supplier.is_active and (inv is None or inv.supplier_id != supplier.id):
            errors["supplier_id"] = _("This supplier is deactivated.")
        else:
            terms = supplier.payment_terms_days
    if data.invoice_date and data.due_date and data.due_date < data.invoice_date:
        errors["due_date"] = _("The due date cannot be before the document's date.")
    if data.department_id and not _in_tenant(Department, data.department_id):
        errors["department_id"] = _("Choose a department of this workspace.")
    if data.order_id and not _in_tenant(Order, data.order_id):
        errors["order_id"] = _("No such order.")
    if data.contract_id and not _in_tenant(Contract, data.contract_id):
        errors["contract_id"] = _("No such contract.")
    account_ids = _check_line_accounts(data.direction, data.lines, errors)
    priced: list[Any] = []
    try:
        priced = parse_lines(data.lines, includes_tax=data.prices_include_tax)
    except InvalidInput as err:
        errors.update(err.errors)
    if priced:
        try:
            totals = check_total([x.amounts for x in priced])
        except InvalidInput as err:
            errors.update(err.errors)
    if errors:
        raise InvalidInput(errors)
    lines = [
        InvoiceLine(
            position=i,
            product_id=x.product_id,
            description=x.description,
            specification=x.specification,
            unit=x.unit,
            quantity=x.quantity,
            unit_price=x.unit_price,
            discount_pct=x.discount_pct,
            tax_rate=x.tax_rate,
            amount_excl=x.amounts.excl,
            tax=x.amounts.tax,
            amount_incl=x.amounts.incl,
            account_id=account_ids[i],
            order_line_id=_int(data.lines[i].get("order_line_id")),
        )  # fmt: skip
        for i, x in enumerate(priced)
    ]
    due = data.due_date
    if due is None and data.invoice_date is not None and terms is not None:
        due = data.invoice_date + timedelta(days=terms)
    return lines, totals, due


def _int(v: Any) -> int | None:
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _in_tenant(model: Any, obj_id: int) -> bool:
    return db.session.scalar(select(model.id).where(model.id == obj_id)) is not None


def _apply(inv: Invoice, data: InvoiceInput, lines: list[InvoiceLine], totals: Any, due: date | None) -> None:
    inv.invoice_date = data.invoice_date  # type: ignore[assignment]
    inv.due_date = due
    if data.direction == "receivable":
        inv.customer_id, inv.supplier_id = data.customer_id, None
    else:
        inv.supplier_id, inv.customer_id = data.supplier_id, None
    inv.prices_include_tax = bool(data.prices_include_tax)
    inv.memo = _clean(data.memo, 5000)
    inv.external_number = _clean(data.external_number, 60) if data.direction == "payable" else None
    inv.order_id, inv.contract_id, inv.department_id = data.order_id, data.contract_id, data.department_id
    inv.lines.clear()
    db.session.flush()
    for line in lines:
        inv.lines.append(line)
    inv.total_excl, inv.total_tax, inv.total_incl = totals.excl, totals.tax, totals.incl
    inv.open_amount = totals.incl


def _final(inv: Invoice, verb: str = "edited") -> None:
    if inv.status != "draft":
        msg = (
            _("A posted document is never edited; reverse it instead.")
            if verb == "edited"
            else _("A posted document cannot be deleted; reverse it instead.")
        )
        raise RuleViolation("posted_is_final", {"status": msg})


# ---------------------------------------------------------------- documents


def create_invoice(tenant: Tenant, actor: Membership | None, data: InvoiceInput) -> Invoice:
    lines, totals, due = _validate(tenant, data, None)
    inv = Invoice(
        direction=data.direction, status="draft", created_by_id=actor.id if actor else None,
        number=next_number(tenant, kind_of(data.direction), data.invoice_date),
    )  # fmt: skip
    db.session.add(inv)
    _apply(inv, data, lines, totals, due)
    db.session.flush()
    record(f"{kind_of(inv.direction)}.create", inv, actor=actor, summary=f"{inv.number} {inv.total_incl}")
    return inv


def update_invoice(tenant: Tenant, actor: Membership | None, inv: Invoice, data: InvoiceInput) -> Invoice:
    _final(inv)
    data.direction = inv.direction
    lines, totals, due = _validate(tenant, data, inv)
    before = str(inv.total_incl)
    _apply(inv, data, lines, totals, due)
    db.session.flush()
    record(
        f"{kind_of(inv.direction)}.update", inv, actor=actor, summary=inv.number,
        changes={"total_incl": [before, str(inv.total_incl)]},
    )  # fmt: skip
    return inv


def delete_invoice(actor: Membership | None, inv: Invoice) -> None:
    _final(inv, "deleted")
    record(f"{kind_of(inv.direction)}.delete", inv, actor=actor, summary=inv.number)
    db.session.delete(inv)
    db.session.flush()


# Where a line with no account of its own posts: the first-level account while it is a leaf;
# once expense claims, payroll or a person has given it sub-accounts it no longer takes lines,
# so documents get a sub-account of their own beside those.
DEFAULT_ACCOUNTS = {
    True: ("revenue", "sales_revenue", "销售收入", "Sales"),
    False: ("admin_expense", "purchases_expense", "采购及其他费用", "Purchases and other expenses"),
}


def default_account(tenant: Tenant, actor: Membership | None, inv: Invoice) -> Account:
    parent_role, role, name_zh, name_en = DEFAULT_ACCOUNTS[inv.is_receivable]
    parent = books.account_for(parent_role)
    if not books.has_children([parent.id]):
        return parent
    return books.ensure_sub_account(tenant, actor, parent_role, role, name_zh, name_en)


def posting_lines(inv: Invoice, default: Account) -> list[books.LineInput]:
    """The entry a document posts (see the module docstring)."""
    grouped: OrderedDict[int, Decimal] = OrderedDict()
    for x in inv.lines:
        acc = x.account_id or default.id
        grouped[acc] = grouped.get(acc, ZERO) + x.amount_excl
    dept = inv.department_id
    if inv.is_receivable:
        party = ("customer", inv.customer_id)
        out = [books.LineInput(books.account_for("receivable").id, debit=inv.total_incl, party_type=party[0],
                               party_id=party[1])]  # fmt: skip
        out += [books.LineInput(acc, credit=amount, department_id=dept) for acc, amount in grouped.items()]
        out.append(books.LineInput(books.account_for("vat_output").id, credit=inv.total_tax))
        return out
    out = [books.LineInput(acc, debit=amount, department_id=dept) for acc, amount in grouped.items()]
    out.append(books.LineInput(books.account_for("vat_input").id, debit=inv.total_tax))
    out.append(books.LineInput(books.account_for("payable").id, credit=inv.total_incl, party_type="supplier",
                               party_id=inv.supplier_id))  # fmt: skip
    return out


def post_invoice(tenant: Tenant, actor: Membership | None, inv: Invoice) -> Invoice:
    if inv.status != "draft":
        raise RuleViolation("already_posted", {"status": _("This document is already posted.")})
    if not inv.lines or inv.total_incl <= ZERO:
        raise RuleViolation("empty_document", {"lines": _("A document must have lines with an amount to post.")})
    books.ensure_books(tenant, actor)
    memo = f"{label_zh(inv.direction)} {inv.number} {inv.party_name}".strip()
    lines = posting_lines(inv, default_account(tenant, actor, inv))
    entry = books.post_lines(
        tenant, actor, inv.invoice_date, memo, lines, source=(kind_of(inv.direction), inv.id), kind="document"
    )
    inv.entry_id = entry.id
    inv.status = "posted"
    inv.posted_at = utcnow()
    inv.open_amount = inv.total_incl
    db.session.flush()
    record(f"{kind_of(inv.direction)}.post", inv, actor=actor, summary=f"{inv.number} → {entry.number}")
    return inv


def reverse_invoice(
    tenant: Tenant, actor: Membership | None, inv: Invoice, on: date | None = None, reason: str | None = None
) -> Invoice:
    if inv.status not in ("posted", "paid") or inv.entry is None:
        raise RuleViolation("not_posted", {"status": _("Only a posted document can be reversed; delete a draft.")})
    if inv.open_amount != inv.total_incl or inv.status == "paid":
        raise RuleViolation(
            "settled", {"status": _("Part of this document is settled; undo the settlements before reversing it.")}
        )
    when = on or books.today_in(tenant)
    if when < inv.invoice_date:
        raise InvalidInput({"date": _("A reversal cannot be dated before the document.")})
    text = (reason or "").strip()[:200]
    memo = books.memo(_l("Reversal of %(number)s", number=inv.number)) + (f": {text}" if text else "")
    rev = books.reverse_entry(tenant, actor, inv.entry, when, memo[:255])
    inv.status = "reversed"
    inv.reversed_on = rev.entry_date
    inv.reversal_entry_id = rev.id
    inv.open_amount = ZERO
    db.session.flush()
    record(
        f"{kind_of(inv.direction)}.reverse", inv, actor=actor, summary=f"{inv.number}: {text}" if text else inv.number,
        changes={"reason": [None, text or None], "reversed_on": [None, when.isoformat()]},
    )  # fmt: skip
    return inv


# ---------------------------------------------------------------- from CRM data


def _already_invoiced(col: Any, obj_id: int) -> bool:
    stmt = select(Invoice.id).where(col == obj_id, Invoice.status.in_(OPEN_STATUSES), Invoice.direction == "receivable")
    return db.session.scalar(stmt.limit(1)) is not None


def _qty(q: Decimal) -> str:
    return format(q.normalize(), "f")


def invoice_from_order(tenant: Tenant, actor: Membership | None, order: Order) -> Invoice:
    if order.delivery_status == "cancelled":
        raise RuleViolation("order_cancelled", {"order_id": _("A cancelled order cannot be invoiced.")})
    if _already_invoiced(Invoice.order_id, order.id):
        raise RuleViolation("already_invoiced", {"order_id": _("This order already has an invoice.")})
    lines = [
        {
            "product_id": x.product_id,
            "description": x.description,
            "specification": x.specification,
            "unit": x.unit,
            "quantity": _qty(x.quantity),
            "unit_price": f"{x.unit_price:.2f}",
            "discount_pct": _qty(x.discount_pct),
            "tax_rate": f"{x.tax_rate:.2f}",
            "order_line_id": x.id,
        }  # fmt: skip
        for x in order.lines
    ]
    data = InvoiceInput(
        direction="receivable", invoice_date=books.today_in(tenant), customer_id=order.customer_id, lines=lines,
        prices_include_tax=order.prices_include_tax, order_id=order.id, contract_id=order.contract_id,
    )  # fmt: skip
    return create_invoice(tenant, actor, data)


def invoice_from_contract(
    tenant: Tenant, actor: Membership | None, contract: Contract, payment: ContractPayment | None = None
) -> Invoice:
    if contract.status not in ("active", "expired"):
        raise RuleViolation(
            "contract_not_active", {"contract_id": _("Only an active or expired contract is invoiced.")}
        )
    if payment is not None:
        if payment.contract_id != contract.id:
            raise InvalidInput({"instalment": _("This instalment belongs to another contract.")})
        n = next((i for i, p in enumerate(contract.payments, 1) if p.id == payment.id), payment.position + 1)
        description, amount = f"合同 {contract.number} 第{n}期", payment.amount
    else:
        if _already_invoiced(Invoice.contract_id, contract.id):
            raise RuleViolation("already_invoiced", {"contract_id": _("This contract already has an invoice.")})
        description, amount = f"合同 {contract.number}", contract.amount
    line = {"description": description, "quantity": "1", "unit_price": f"{amount:.2f}",
            "tax_rate": f"{CONTRACT_VAT:.2f}", "discount_pct": "0"}  # fmt: skip
    data = InvoiceInput(
        direction="receivable", invoice_date=books.today_in(tenant), customer_id=contract.customer_id, lines=[line],
        prices_include_tax=True, contract_id=contract.id, memo=contract.title,
    )  # fmt: skip
    return create_invoice(tenant, actor, data)


def _link(endpoint: str, **kw: Any) -> str:
    try:
        return url_for(endpoint, **kw)
    except Exception:  # outside a request (a job): no link
        return ""


def revenue_queue(tenant: Tenant, actor: Membership | None) -> list[QueueItem]:
    """Delivered (or partly delivered) orders and active contracts that no live invoice names yet.
    A contract that has orders is invoiced through its orders, so it is left out. Two queries."""
    live = and_(Invoice.status.in_(OPEN_STATUSES), Invoice.direction == "receivable")
    orders = db.session.execute(
        select(Order.id, Order.number, Customer.name, Order.order_date, Order.total_incl)
        .join(Customer, Customer.id == Order.customer_id)
        .where(
            Order.delivery_status.in_(("delivered", "partial")),
            ~exists().where(Invoice.order_id == Order.id, live),
        )
        .order_by(Order.order_date, Order.id)
    ).all()
    contracts = db.session.execute(
        select(
            Contract.id,
            Contract.number,
            Customer.name,
            func.coalesce(Contract.signed_on, Contract.starts_on),
            Contract.amount,
        )  # fmt: skip
        .join(Customer, Customer.id == Contract.customer_id)
        .where(
            Contract.status == "active",
            ~exists().where(Invoice.contract_id == Contract.id, live),
            ~exists().where(Order.contract_id == Contract.id, Order.delivery_status != "cancelled"),
        )
        .order_by(Contract.id)
    ).all()
    items = [QueueItem("order", i, n, c, d, a, _link("orders.show", order_id=i)) for i, n, c, d, a in orders]
    items += [
        QueueItem("contract", i, n, c, d, a, _link("contracts.show", contract_id=i)) for i, n, c, d, a in contracts
    ]
    return items


# ---------------------------------------------------------------- lists


@dataclass
class InvoiceQuery:
    direction: str = "receivable"
    status: str | None = None
    customer_id: int | None = None
    supplier_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    overdue: bool = False
    q: str | None = None
    page: int = 1
    page_size: int = 50


@dataclass
class InvoicePage:
    rows: list[Invoice]
    total: int
    sum_incl: Decimal
    sum_open: Decimal


def _fen_sum(col: Any) -> Any:
    from sqlalchemy import BigInteger, type_coerce  # noqa: PLC0415

    from crm.db import Money  # noqa: PLC0415

    return type_coerce(func.coalesce(func.sum(type_coerce(col, BigInteger)), 0), Money())


def list_invoices(tenant: Tenant, query: InvoiceQuery) -> InvoicePage:
    """One page, with the count and the totals (incl. and open) of the whole filtered set in one
    statement; parties loaded with the page (constant query count)."""
    conds: list[Any] = [Invoice.direction == query.direction]
    if query.status:
        conds.append(Invoice.status == query.status)
    if query.customer_id:
        conds.append(Invoice.customer_id == query.customer_id)
    if query.supplier_id:
        conds.append(Invoice.supplier_id == query.supplier_id)
    if query.date_from:
        conds.append(Invoice.invoice_date >= query.date_from)
    if query.date_to:
        conds.append(Invoice.invoice_date <= query.date_to)
    if query.overdue:
        conds += [Invoice.status == "posted", Invoice.due_date < books.today_in(tenant)]
    if query.q:
        term = "%" + query.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append(func.lower(Invoice.number).like(term, escape="\\"))
    total, sum_incl, sum_open = db.session.execute(
        select(func.count(Invoice.id), _fen_sum(Invoice.total_incl), _fen_sum(Invoice.open_amount)).where(*conds)
    ).one()
    rows = list(
        db.session.scalars(
            select(Invoice)
            .where(*conds)
            .options(selectinload(Invoice.customer), selectinload(Invoice.supplier))
            .order_by(Invoice.invoice_date.desc(), Invoice.id.desc())
            .limit(query.page_size)
            .offset((query.page - 1) * query.page_size)
        )
    )
    return InvoicePage(rows, int(total or 0), sum_incl or ZERO, sum_open or ZERO)


def is_overdue(tenant: Tenant, inv: Invoice, today: date | None = None) -> bool:
    today = today or books.today_in(tenant)
    return inv.status == "posted" and inv.due_date is not None and inv.due_date < today and inv.open_amount > ZERO


# ---------------------------------------------------------------- suppliers


def _supplier_values(tenant: Tenant, data: dict[str, Any], current: Supplier | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for k in SUPPLIER_FIELDS:
        if k not in data and current is not None:
            continue
        v = data.get(k)
        if k in SUPPLIER_LIMITS:
            values[k] = _clean(v, SUPPLIER_LIMITS[k])
        else:
            values[k] = v
    name = values.get("name") if "name" in values else (current.name if current else None)
    if not name:
        errors["name"] = _("A supplier needs a name.")
    elif "name" in values:
        clash = select(Supplier.id).where(func.lower(Supplier.name) == name.lower())
        if current is not None:
            clash = clash.where(Supplier.id != current.id)
        if db.session.scalar(clash.limit(1)) is not None:
            errors["name"] = _("A supplier with this name already exists.")
    if values.get("uscc"):
        code = rules.normalise_uscc(values["uscc"])
        values["uscc"] = code
        override = (data.get("uscc_override_reason") or "").strip()
        if not rules.uscc_is_valid(code) and not override:
            errors["uscc"] = _(
                "This unified social credit code fails its check character. Correct it, or save anyway with a reason."
            )
        clash = select(Supplier.id).where(Supplier.uscc == code)
        if current is not None:
            clash = clash.where(Supplier.id != current.id)
        if "uscc" not in errors and db.session.scalar(clash.limit(1)) is not None:
            errors["uscc"] = _("Another supplier has this unified social credit code.")
        if override and not rules.uscc_is_valid(code):
            note = _("USCC check overridden: %(reason)s", reason=override[:200])
            base = values.get("notes") if "notes" in values else (current.notes if current else None)
            values["notes"] = ((base + "\n") if base else "") + note
    if "payment_terms_days" in values:
        raw = values["payment_terms_days"]
        if raw in (None, ""):
            values["payment_terms_days"] = DEFAULT_TERMS
        else:
            try:
                days = int(str(raw).strip())
            except (TypeError, ValueError):
                days = -1
            if not 0 <= days <= 365:
                errors["payment_terms_days"] = _("Payment terms are 0 to 365 days.")
            values["payment_terms_days"] = days
    if values.get("email") and "@" not in values["email"]:
        errors["email"] = _("Not an e-mail address.")
    if "customer_id" in values:
        cid = _int(values["customer_id"])
        values["customer_id"] = cid
        if cid and not _in_tenant(Customer, cid):
            errors["customer_id"] = _("Choose a customer of this workspace.")
    if "is_active" in values:
        values["is_active"] = True if values["is_active"] is None else bool(values["is_active"])
    if errors:
        raise InvalidInput(errors)
    return values


def create_supplier(tenant: Tenant, actor: Membership | None, data: dict[str, Any]) -> Supplier:
    values = _supplier_values(tenant, data, None)
    values.setdefault("payment_terms_days", DEFAULT_TERMS)
    if values.get("payment_terms_days") is None:
        values["payment_terms_days"] = DEFAULT_TERMS
    s = Supplier(**values)
    db.session.add(s)
    db.session.flush()
    record("supplier.create", s, actor=actor, summary=s.name)
    return s


def update_supplier(tenant: Tenant, actor: Membership | None, s: Supplier, data: dict[str, Any]) -> Supplier:
    values = _supplier_values(tenant, data, s)
    changes = {k: [str(getattr(s, k)), str(v)] for k, v in values.items() if getattr(s, k) != v}
    for k, v in values.items():
        setattr(s, k, v)
    db.session.flush()
    record("supplier.update", s, actor=actor, summary=s.name, changes=changes)
    return s


def supplier_open_amount(supplier_id: int) -> Decimal:
    stmt = select(_fen_sum(Invoice.open_amount)).where(
        Invoice.supplier_id == supplier_id, Invoice.direction == "payable", Invoice.status == "posted"
    )
    return db.session.scalar(stmt) or ZERO


def list_suppliers(q: str | None = None, *, active: bool | None = None, limit: int = 200) -> list[Supplier]:
    stmt = select(Supplier)
    if q:
        term = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(func.lower(Supplier.name).like(term, escape="\\") | Supplier.uscc.like(term, escape="\\"))
    if active is not None:
        stmt = stmt.where(Supplier.is_active.is_(active))
    return list(db.session.scalars(stmt.order_by(Supplier.name).limit(limit)))


def customer_choices(selected_id: int | None = None, limit: int = 500) -> list[tuple[int, str]]:
    """(id, name) of the workspace's live customers, for finance (who has no sales scope)."""
    rows = db.session.execute(
        select(Customer.id, Customer.name).where(Customer.archived_at.is_(None)).order_by(Customer.name).limit(limit)
    ).all()
    pairs = [(i, n) for i, n in rows]
    if selected_id and all(i != selected_id for i, _n in pairs):
        extra = db.session.execute(select(Customer.id, Customer.name).where(Customer.id == selected_id)).first()
        if extra is not None:
            pairs.insert(0, (extra[0], extra[1]))
    return pairs


def supplier_choices(selected_id: int | None = None) -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(Supplier.id, Supplier.name, Supplier.is_active).order_by(Supplier.name).limit(500)
    ).all()
    return [(i, n) for i, n, active in rows if active or i == selected_id]
