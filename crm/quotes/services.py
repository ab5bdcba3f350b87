"""Quotes: VAT arithmetic, create, edit (drafts only), send, status, re-issue as a new version.

Rounding order (reference/README.md, half-up at 0.01 at every step):

1. line amount = round(quantity × unit price × (1 − discount % ÷ 100)) — in the quote's
   entry basis: excluding tax by default, including tax when ``prices_include_tax``;
2. entered excluding tax:  excl = line amount;  tax = round(excl × rate);  incl = excl + tax;
   entered including tax:  incl = line amount;  excl = round(incl ÷ (1 + rate));  tax = incl − excl
   (so 1,000.00 including 13 % is 884.96 + 115.04 and the including amount stays exact);
3. totals are the sums of the lines' excl, tax and incl — never recomputed from the totals,
   so the document's total always equals what its lines show, and incl = excl + tax.

Services take (actor, …), check permission and the customer's visibility, flush and audit;
the caller commits. A quote follows its customer's visibility (crm.sales.visibility).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from crm.audit.services import record
from crm.catalog.pricing import MAX_AMOUNT, MAX_QTY, ZERO, LineAmounts, line_amounts, parse_lines, totals  # noqa: F401
from crm.db import db, utcnow
from crm.numbering import next_number
from crm.pipeline.models import Opportunity
from crm.quotes.models import STATUSES, Quote, QuoteLine
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from crm.sales.visibility import can_edit, can_read, customer_filter
from roles.checks import PermissionDenied, ensure
from tenants.models import Membership, Tenant

DEFAULT_RATE = Decimal("0.13")  # an opportunity line without a product: the standard VAT rate


@dataclass
class QuoteInput:
    lines: list[dict[str, Any]] | None = None
    prices_include_tax: bool | None = None
    valid_until: date | None = None
    terms: str | None = None
    issue_date: date | None = None
    fields_sent: set[str] = field(default_factory=set)
    opportunity_id: int | None = None  # create only: the opportunity this quote prices


def _build_lines(raw: list[dict[str, Any]]) -> list[QuoteLine]:
    """Validate every line (crm.catalog.pricing.parse_lines); errors name lines.<n>.<field>."""
    if not raw:
        raise InvalidInput({"lines": _("A quote needs at least one line.")})
    return [
        QuoteLine(
            position=i,
            product_id=x.product_id,
            description=x.description,
            specification=x.specification,
            unit=x.unit,
            quantity=x.quantity,
            unit_price=x.unit_price,
            discount_pct=x.discount_pct,
            tax_rate=x.tax_rate,
            amount_excl=ZERO,
            tax=ZERO,
            amount_incl=ZERO,
        )
        for i, x in enumerate(parse_lines(raw))
    ]


def _recompute(q: Quote) -> None:
    amounts = []
    for line in q.lines:
        a = line_amounts(
            line.quantity, line.unit_price, line.tax_rate, line.discount_pct, includes_tax=q.prices_include_tax
        )
        line.amount_excl, line.tax, line.amount_incl = a.excl, a.tax, a.incl
        amounts.append(a)
    t = totals(amounts)
    q.total_excl, q.total_tax, q.total_incl = t.excl, t.tax, t.incl
    if t.incl > MAX_AMOUNT:
        raise InvalidInput({"lines": _("The total is too large.")})


def _check_dates(issue: date, valid_until: date | None) -> None:
    if valid_until is not None and valid_until < issue:
        raise InvalidInput({"valid_until": _("The quote cannot expire before it is issued.")})


def _opportunity_for(actor: Membership, customer: Customer, opportunity_id: int | None) -> Opportunity | None:
    """The opportunity a new quote prices: in this workspace, visible to the actor, same customer."""
    if opportunity_id is None:
        return None
    opp = db.session.scalars(select(Opportunity).where(Opportunity.id == opportunity_id)).one_or_none()
    if opp is None or opp.customer_id != customer.id or not can_read(actor, opp.customer):
        raise InvalidInput({"opportunity_id": _("No such opportunity for this customer.")})
    return opp


def _summary(q: Quote) -> str:
    return f"{q.display_number} · {q.customer.name} · {q.total_incl}"


def create_quote(actor: Membership, tenant: Tenant, customer: Customer, data: QuoteInput) -> Quote:
    ensure(actor, "sales.access")
    if not can_edit(actor, customer):
        raise PermissionDenied("sales.access")
    opportunity = _opportunity_for(actor, customer, data.opportunity_id)
    lines = _build_lines(data.lines or [])
    issue = data.issue_date or date.today()
    valid_until = data.valid_until if data.valid_until is not None else issue + timedelta(days=30)
    _check_dates(issue, valid_until)
    q = Quote(
        number="",
        version=1,
        customer=customer,
        customer_id=customer.id,
        created_by_id=actor.id,
        status="draft",
        prices_include_tax=bool(data.prices_include_tax),
        issue_date=issue,
        valid_until=valid_until,
        terms=(data.terms or "").strip() or None,
        opportunity_id=opportunity.id if opportunity is not None else None,
    )
    q.lines = lines
    _recompute(q)
    q.number = next_number(tenant, "quote", issue)
    db.session.add(q)
    db.session.flush()
    record("quote.created", q, actor=actor, summary=_summary(q))
    return q


def update_quote(actor: Membership, q: Quote, data: QuoteInput) -> Quote:
    if not can_edit(actor, q.customer):
        raise PermissionDenied("sales.access")
    if not q.editable:
        raise InvalidInput({"status": _("Only drafts can be changed; re-issue the quote instead.")})
    sent = data.fields_sent or {"lines", "prices_include_tax", "valid_until", "terms"}
    new_lines = _build_lines(data.lines or []) if "lines" in sent else None
    before = {"total_incl": str(q.total_incl), "valid_until": str(q.valid_until), "terms": q.terms}
    if "prices_include_tax" in sent and data.prices_include_tax is not None:
        q.prices_include_tax = bool(data.prices_include_tax)
    if "valid_until" in sent:
        _check_dates(q.issue_date, data.valid_until)
        q.valid_until = data.valid_until
    if "terms" in sent:
        q.terms = (data.terms or "").strip() or None
    if new_lines is not None:
        q.lines = new_lines
    _recompute(q)
    db.session.flush()
    after = {"total_incl": str(q.total_incl), "valid_until": str(q.valid_until), "terms": q.terms}
    changes = {k: {"before": before[k], "after": after[k]} for k in before if before[k] != after[k]}
    if changes or new_lines is not None:
        record("quote.updated", q, actor=actor, summary=_summary(q), changes=changes)
    return q


def send_quote(actor: Membership, q: Quote) -> Quote:
    if not can_edit(actor, q.customer):
        raise PermissionDenied("sales.access")
    if q.status != "draft":
        raise InvalidInput({"status": _("Only a draft can be sent.")})
    q.status = "sent"
    q.sent_at = utcnow()
    db.session.flush()
    record("quote.sent", q, actor=actor, summary=_summary(q), changes={"status": {"before": "draft", "after": "sent"}})
    return q


CLOSING = ("accepted", "rejected", "expired")


def set_outcome(actor: Membership, q: Quote, status: str) -> Quote:
    """A sent quote was accepted, rejected or has expired."""
    if not can_edit(actor, q.customer):
        raise PermissionDenied("sales.access")
    if status not in CLOSING:
        raise InvalidInput({"status": _("Unknown status.")})
    if q.status != "sent":
        raise InvalidInput({"status": _("Only a sent quote can be accepted, rejected or expired.")})
    q.status = status
    db.session.flush()
    record(
        "quote." + status, q, actor=actor, summary=_summary(q), changes={"status": {"before": "sent", "after": status}}
    )
    return q


def reissue_quote(actor: Membership, q: Quote) -> Quote:
    """Copy a sent (or rejected / expired) quote into a new draft version; the old one is kept,
    marked superseded, and stays readable."""
    if not can_edit(actor, q.customer):
        raise PermissionDenied("sales.access")
    if q.status not in ("sent", "rejected", "expired"):
        raise InvalidInput({"status": _("Only a sent, rejected or expired quote can be re-issued.")})
    new = Quote(
        number=q.number,
        version=q.version + 1,
        customer=q.customer,
        customer_id=q.customer_id,
        created_by_id=actor.id,
        status="draft",
        prices_include_tax=q.prices_include_tax,
        issue_date=date.today(),
        valid_until=max(q.valid_until, date.today()) if q.valid_until else None,
        terms=q.terms,
        previous_id=q.id,
        opportunity_id=q.opportunity_id,
    )
    new.lines = [
        QuoteLine(
            position=x.position,
            product_id=x.product_id,
            description=x.description,
            specification=x.specification,
            unit=x.unit,
            quantity=x.quantity,
            unit_price=x.unit_price,
            discount_pct=x.discount_pct,
            tax_rate=x.tax_rate,
            amount_excl=x.amount_excl,
            tax=x.tax,
            amount_incl=x.amount_incl,
        )  # fmt: skip
        for x in q.lines
    ]
    _recompute(new)
    old_status = q.status
    q.status = "superseded"
    db.session.add(new)
    db.session.flush()
    record(
        "quote.superseded", q, actor=actor, summary=_summary(q),
        changes={"status": {"before": old_status, "after": "superseded"}},
    )  # fmt: skip
    record("quote.reissued", new, actor=actor, summary=_summary(new))
    return new


def can_read_quote(member: Membership, q: Quote) -> bool:
    return can_read(member, q.customer) and q.customer.archived_at is None


@dataclass
class QuoteQuery:
    customer_id: int | None = None
    status: str | None = None
    page: int = 1
    page_size: int = 50


def list_quotes(actor: Membership, query: QuoteQuery) -> tuple[list[Quote], int]:
    from sqlalchemy import func

    ensure(actor, "sales.access")
    stmt = (
        select(Quote)
        .join(Customer, Customer.id == Quote.customer_id)
        .where(customer_filter(actor), Customer.archived_at.is_(None))
    )
    if query.customer_id is not None:
        stmt = stmt.where(Quote.customer_id == query.customer_id)
    if query.status:
        if query.status not in STATUSES:
            raise InvalidInput({"status": _("Unknown status.")})
        stmt = stmt.where(Quote.status == query.status)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(
        stmt.options(contains_eager(Quote.customer))  # the list shows each quote's customer: no N+1
        .order_by(Quote.id.desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    )
    return list(rows), total


def versions_of(q: Quote) -> list[Quote]:
    return list(db.session.scalars(select(Quote).where(Quote.number == q.number).order_by(Quote.version)))


def expire_quotes(today: date) -> int:
    """The daily run for the tenant in context: sent quotes past their validity become expired.

    Recorded without a member (like the public pool's returns): the system did it."""
    due = list(
        db.session.scalars(
            select(Quote).where(Quote.status == "sent", Quote.valid_until.is_not(None), Quote.valid_until < today)
        )
    )
    for q in due:
        q.status = "expired"
        record(
            "quote.expired", q, summary=_summary(q),
            changes={"status": {"before": "sent", "after": "expired"}, "valid_until": str(q.valid_until)},
        )  # fmt: skip
    db.session.flush()
    return len(due)


@dataclass(frozen=True)
class Preview:
    """What the form would save: each line's amounts (None where the line has an error) and the totals
    of the valid lines, by the same arithmetic as create_quote."""

    lines: list[LineAmounts | None]
    total: LineAmounts
    invalid: int


def preview_totals(raw: list[dict[str, Any]], includes_tax: bool) -> Preview:
    """Price each line on its own, so one bad line does not hide the others' amounts. Writes nothing."""
    out: list[LineAmounts | None] = []
    for data in raw:
        try:
            out.append(parse_lines([data], includes_tax=includes_tax)[0].amounts)
        except InvalidInput:
            out.append(None)
    valid = [x for x in out if x is not None]
    return Preview(out, totals(valid), len(out) - len(valid))


def lines_from_opportunity(opp: Opportunity) -> list[dict[str, Any]]:
    """The opportunity's lines as quote form rows: the product's specification, unit and VAT rate
    where the line names a product of this workspace, else 13 %."""
    from crm.catalog.models import Product

    ids = {x.product_id for x in opp.lines if x.product_id}
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids)))} if ids else {}
    rows = []
    for x in opp.lines:
        p = products.get(x.product_id) if x.product_id else None
        rows.append(
            {
                "product_id": p.id if p else None, "description": x.description,
                "specification": p.specification if p else None, "unit": p.unit if p else None,
                "quantity": format(x.quantity.normalize(), "f"),
                "unit_price": f"{x.unit_price:.2f}", "discount_pct": "0",
                "tax_rate": f"{(p.vat_rate if p else DEFAULT_RATE):.2f}",
            }
        )  # fmt: skip
    return rows
