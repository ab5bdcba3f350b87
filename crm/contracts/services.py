"""Contracts (合同): create and edit drafts, the payment plan, submit → approve / reject,
terminate, delete drafts, and the daily expiry run.

A contract follows its customer's visibility (crm.sales.visibility): whoever can read the
customer can read its contracts; whoever can edit the customer can draft, submit, terminate and
delete them. Approving and rejecting need ``contracts.approve`` and a customer in the
reviewer's scope; nobody but an owner or admin approves a contract they submitted themselves
(four eyes).

The payment plan (回款计划) must add up to the contract amount to the fen — no rounding
slack, because the ledger will later expect exactly these receivables.

Services take (actor, …), check, flush and audit; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from crm.audit.services import record
from crm.catalog.services import parse_money
from crm.contracts.models import STATUSES, Contract, ContractPayment, ContractReview
from crm.db import db, to_money, utcnow
from crm.numbering import next_number
from crm.quotes.models import Quote
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from crm.sales.visibility import can_edit, can_read, customer_filter
from roles.checks import PermissionDenied, can, ensure
from tenants.models import Membership, Tenant

ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("999999999999.99")
MAX_PAYMENTS = 120
DEFAULT_REMINDER_DAYS = 30


class SelfApproval(PermissionDenied):
    """The reviewer submitted this contract; another reviewer (or an owner / admin) approves."""

    def __init__(self) -> None:
        super().__init__("contracts.approve")


@dataclass
class ContractInput:
    title: str | None = None
    signed_on: date | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    amount: Any = None
    terms: str | None = None
    payments: list[dict[str, Any]] | None = None
    quote_id: int | None = None
    # For update: the fields the caller sent (API PATCH); empty means all of them.
    fields_sent: set[str] = field(default_factory=set)


ALL_FIELDS = {"title", "signed_on", "starts_on", "ends_on", "amount", "terms", "payments"}


def _summary(c: Contract) -> str:
    return f"{c.number} · {c.customer.name} · {c.amount}"


def _parse_date(v: Any) -> date | None:
    if isinstance(v, date):
        return v
    if v in (None, ""):
        return None
    try:
        return date.fromisoformat(str(v).strip())
    except ValueError:
        return None


def _amount(raw: Any) -> Decimal | None:
    d = parse_money(raw)
    if d is None or d <= 0 or d > MAX_AMOUNT or d != d.quantize(Decimal("0.01")):
        return None
    return to_money(d)


def _build_payments(raw: list[dict[str, Any]] | None, amount: Decimal | None, errors: dict[str, str]) -> list:
    """Validate the plan; errors are keyed payments.<n>.<field> and "payments" (for the sum)."""
    rows: list[ContractPayment] = []
    if not raw:
        errors["payments"] = _("Add at least one payment to the plan.")
        return rows
    if len(raw) > MAX_PAYMENTS:
        errors["payments"] = _("A payment plan has at most %(n)d payments.", n=MAX_PAYMENTS)
        return rows
    total = ZERO
    bad = False
    for i, data in enumerate(raw):
        key = f"payments.{i}."
        due = _parse_date(data.get("due_on"))
        if due is None:
            errors[key + "due_on"] = _("Enter the due date.")
            bad = True
        value = _amount(data.get("amount"))
        if value is None:
            errors[key + "amount"] = _("Enter an amount above zero, e.g. 5000.00.")
            bad = True
        note = (data.get("note") or "").strip()
        if len(note) > 200:
            errors[key + "note"] = _("At most 200 characters.")
            bad = True
        if due is not None and value is not None:
            total += value
            rows.append(ContractPayment(position=i, due_on=due, amount=value, note=note or None))
    if not bad and amount is not None and total != amount:
        # Formatted first: pybabel skips a gettext call whose arguments hold f-strings.
        figures = {"sum": f"{total:,.2f}", "amount": f"{amount:,.2f}", "diff": f"{amount - total:,.2f}"}
        errors["payments"] = _(
            "The payments add up to %(sum)s, but the contract amount is %(amount)s (difference %(diff)s).", **figures
        )
    return rows


@dataclass
class _Clean:
    title: str
    signed_on: date | None
    starts_on: date
    ends_on: date
    amount: Decimal
    terms: str | None
    payments: list[ContractPayment]


def _validate(data: ContractInput) -> _Clean:
    """Every field at once, so the form shows all its errors together. Nothing is written."""
    errors: dict[str, str] = {}
    title = (data.title or "").strip()
    if not title:
        errors["title"] = _("Give the contract a title.")
    elif len(title) > 200:
        errors["title"] = _("At most 200 characters.")
    amount = _amount(data.amount)
    if amount is None:
        errors["amount"] = _("Enter the contract amount including tax, above zero, e.g. 120000.00.")
    if data.starts_on is None:
        errors["starts_on"] = _("Enter the start date.")
    if data.ends_on is None:
        errors["ends_on"] = _("Enter the end date.")
    elif data.starts_on is not None and data.ends_on < data.starts_on:
        errors["ends_on"] = _("The contract cannot end before it starts.")
    terms = (data.terms or "").strip() or None
    if terms and len(terms) > 20000:
        errors["terms"] = _("At most 20000 characters.")
    payments = _build_payments(data.payments, amount, errors)
    if errors:
        raise InvalidInput(errors)
    assert amount is not None and data.starts_on is not None and data.ends_on is not None
    return _Clean(title, data.signed_on, data.starts_on, data.ends_on, amount, terms, payments)


def _linked_quote(actor: Membership, customer: Customer, quote_id: int | None) -> Quote | None:
    if quote_id is None:
        return None
    q = db.session.scalars(select(Quote).where(Quote.id == quote_id)).one_or_none()
    if q is None or not can_read(actor, q.customer):
        raise InvalidInput({"quote_id": _("No such quote.")})
    if q.customer_id != customer.id:
        raise InvalidInput({"quote_id": _("The quote is for another customer.")})
    if q.status != "accepted":
        raise InvalidInput({"quote_id": _("Only an accepted quote becomes a contract.")})
    return q


def prefill_from_quote(quote: Quote) -> ContractInput:
    """What a contract made from this quote starts with: its amount, a title, and a plan of one
    payment of the whole amount (the user splits it as agreed)."""
    today = date.today()
    return ContractInput(
        title=_("Contract for quote %(number)s", number=quote.display_number),
        signed_on=today, starts_on=today, ends_on=today + timedelta(days=364),
        amount=quote.total_incl, terms=quote.terms, quote_id=quote.id,
        payments=[{"due_on": today + timedelta(days=30), "amount": quote.total_incl, "note": ""}],
    )  # fmt: skip


def create_contract(actor: Membership, tenant: Tenant, customer: Customer, data: ContractInput) -> Contract:
    ensure(actor, "sales.access")
    if not can_edit(actor, customer) or customer.archived_at is not None:
        raise PermissionDenied("sales.access")
    quote = _linked_quote(actor, customer, data.quote_id)
    clean = _validate(data)
    c = Contract(
        number=next_number(tenant, "contract", clean.signed_on or date.today()),
        title=clean.title,
        customer=customer,
        customer_id=customer.id,
        quote_id=quote.id if quote else None,
        opportunity_id=quote.opportunity_id if quote else None,
        owner_id=actor.id,
        created_by_id=actor.id,
        status="draft",
        signed_on=clean.signed_on,
        starts_on=clean.starts_on,
        ends_on=clean.ends_on,
        amount=clean.amount,
        terms=clean.terms,
    )
    c.payments = clean.payments
    db.session.add(c)
    db.session.flush()
    record("contract.created", c, actor=actor, summary=_summary(c))
    return c


def input_of(c: Contract) -> ContractInput:
    return ContractInput(
        title=c.title, signed_on=c.signed_on, starts_on=c.starts_on, ends_on=c.ends_on, amount=c.amount,
        terms=c.terms, payments=[{"due_on": p.due_on, "amount": p.amount, "note": p.note} for p in c.payments],
    )  # fmt: skip


def update_contract(actor: Membership, c: Contract, data: ContractInput) -> Contract:
    if not can_edit(actor, c.customer):
        raise PermissionDenied("sales.access")
    if not c.editable:
        raise InvalidInput({"status": _("Only drafts can be changed.")})
    sent = data.fields_sent or ALL_FIELDS
    merged = input_of(c)
    for name in ALL_FIELDS & sent:
        setattr(merged, name, getattr(data, name))
    clean = _validate(merged)
    before = {k: str(getattr(c, k)) for k in ("title", "signed_on", "starts_on", "ends_on", "amount", "terms")}
    old_plan = [(p.due_on, p.amount, p.note) for p in c.payments]
    if clean.ends_on != c.ends_on:
        c.expiry_reminded_at = None
    c.title, c.signed_on, c.starts_on, c.ends_on = clean.title, clean.signed_on, clean.starts_on, clean.ends_on
    c.amount, c.terms = clean.amount, clean.terms
    new_plan = [(p.due_on, p.amount, p.note) for p in clean.payments]
    if new_plan != old_plan:
        c.payments = clean.payments
    db.session.flush()
    after = {k: str(getattr(c, k)) for k in before}
    changes: dict[str, Any] = {k: {"before": before[k], "after": after[k]} for k in before if before[k] != after[k]}
    if new_plan != old_plan:
        changes["payments"] = {"before": len(old_plan), "after": len(new_plan)}
    if changes:
        record("contract.updated", c, actor=actor, summary=_summary(c), changes=changes)
    return c


def _status(actor: Membership | None, c: Contract, new: str, action: str, **extra: Any) -> None:
    old = c.status
    c.status = new
    db.session.flush()
    record(action, c, actor=actor, summary=_summary(c), changes={"status": {"before": old, "after": new}, **extra})


def _link(c: Contract, tenant_slug: str) -> str:
    return f"/w/{tenant_slug}/sales/contracts/{c.id}"


def approvers_for(c: Contract, exclude: Membership | None = None) -> list[Membership]:
    """Active members holding contracts.approve whose scope covers the contract's customer."""
    members = db.session.scalars(select(Membership).where(Membership.is_active.is_(True)).order_by(Membership.id))
    return [
        m
        for m in members
        if (exclude is None or m.id != exclude.id) and can(m, "contracts.approve") and can_read(m, c.customer)
    ]


def submit_contract(actor: Membership, tenant: Tenant, c: Contract) -> Contract:
    from crm.notifications.services import notify

    if not can_edit(actor, c.customer):
        raise PermissionDenied("sales.access")
    if c.status != "draft":
        raise InvalidInput({"status": _("Only a draft can be submitted for approval.")})
    c.submitted_at = utcnow()
    c.approved_by_id = None
    c.approved_at = None
    c.reviews.append(ContractReview(member_id=actor.id, decision="submitted"))
    _status(actor, c, "pending", "contract.submitted")
    for m in approvers_for(c, exclude=actor):
        notify(
            m, "contract.submitted",
            _l("%(who)s asks you to approve contract %(number)s (%(customer)s).", who=actor.user.name,
              number=c.number, customer=c.customer.name),
            link=_link(c, tenant.slug),
        )  # fmt: skip
    return c


def submitter_of(c: Contract) -> int | None:
    for r in reversed(c.reviews):
        if r.decision == "submitted":
            return r.member_id
    return None


def _check_reviewer(actor: Membership, c: Contract) -> None:
    ensure(actor, "contracts.approve")
    if not can_read(actor, c.customer):
        raise PermissionDenied("contracts.approve")
    if c.status != "pending":
        raise InvalidInput({"status": _("Only a contract waiting for approval can be approved or rejected.")})


def can_review(member: Membership, c: Contract) -> bool:
    return c.status == "pending" and can(member, "contracts.approve") and can_read(member, c.customer)


def may_approve_own(member: Membership) -> bool:
    return member.has_role("owner") or member.has_role("admin")


def approve_contract(actor: Membership, tenant: Tenant, c: Contract, comment: str | None = None) -> Contract:
    from crm.notifications.services import notify

    _check_reviewer(actor, c)
    submitter = submitter_of(c)
    if submitter == actor.id and not may_approve_own(actor):
        raise SelfApproval()
    c.approved_by_id = actor.id
    c.approved_at = utcnow()
    c.reviews.append(ContractReview(member_id=actor.id, decision="approved", comment=(comment or "").strip() or None))
    _status(actor, c, "active", "contract.approved")
    _notify_member(
        submitter, actor, notify, "contract.approved",
        _l("Contract %(number)s was approved by %(who)s.", number=c.number, who=actor.user.name), _link(c, tenant.slug),
    )  # fmt: skip
    return c


def _notify_member(member_id: int | None, actor: Membership, notify: Any, kind: str, title: str, link: str,
                   body: str | None = None) -> None:  # fmt: skip
    if member_id is None or member_id == actor.id:
        return
    m = db.session.get(Membership, member_id)
    if m is not None and m.is_active:
        notify(m, kind, title, body, link=link)


def reject_contract(actor: Membership, tenant: Tenant, c: Contract, comment: str | None) -> Contract:
    from crm.notifications.services import notify

    _check_reviewer(actor, c)
    text = (comment or "").strip()
    if not text:
        raise InvalidInput({"comment": _("Say why the contract is rejected, so it can be fixed.")})
    if len(text) > 2000:
        raise InvalidInput({"comment": _("At most 2000 characters.")})
    c.reviews.append(ContractReview(member_id=actor.id, decision="rejected", comment=text))
    c.submitted_at = None
    _status(actor, c, "draft", "contract.rejected", comment=text)
    _notify_member(
        submitter_of(c), actor, notify, "contract.rejected",
        _l("Contract %(number)s was rejected by %(who)s.", number=c.number, who=actor.user.name),
        _link(c, tenant.slug), body=text,
    )  # fmt: skip
    return c


def terminate_contract(actor: Membership, c: Contract, reason: str | None) -> Contract:
    if not can_edit(actor, c.customer):
        raise PermissionDenied("sales.access")
    if c.status != "active":
        raise InvalidInput({"status": _("Only an active contract can be terminated.")})
    text = (reason or "").strip()
    if not text:
        raise InvalidInput({"reason": _("Give the reason for the termination.")})
    if len(text) > 255:
        raise InvalidInput({"reason": _("At most 255 characters.")})
    c.terminated_at = utcnow()
    c.termination_reason = text
    _status(actor, c, "terminated", "contract.terminated", reason=text)
    return c


def change_end_date(actor: Membership, c: Contract, ends_on: date | None) -> Contract:
    """Re-date an active (or lapsed) contract's end, e.g. an agreed extension. A manager's
    decision, like the approval; the expiry reminder is due again for the new date."""
    ensure(actor, "contracts.approve")
    if not can_read(actor, c.customer):
        raise PermissionDenied("contracts.approve")
    if c.status not in ("active", "expired"):
        raise InvalidInput({"status": _("Only an active or expired contract can be re-dated.")})
    if ends_on is None:
        raise InvalidInput({"ends_on": _("Enter the end date.")})
    if c.starts_on is not None and ends_on < c.starts_on:
        raise InvalidInput({"ends_on": _("The contract cannot end before it starts.")})
    if ends_on == c.ends_on:
        return c
    old = c.ends_on
    c.ends_on = ends_on
    c.expiry_reminded_at = None
    changes: dict[str, Any] = {"ends_on": {"before": str(old), "after": str(ends_on)}}
    if c.status == "expired" and ends_on >= date.today():
        c.status = "active"
        changes["status"] = {"before": "expired", "after": "active"}
    db.session.flush()
    record("contract.redated", c, actor=actor, summary=_summary(c), changes=changes)
    return c


def delete_contract(actor: Membership, c: Contract) -> None:
    if not can_edit(actor, c.customer):
        raise PermissionDenied("sales.access")
    if c.status != "draft":
        raise InvalidInput({"status": _("Only a draft can be deleted.")})
    record("contract.deleted", c, actor=actor, summary=_summary(c))
    db.session.delete(c)
    db.session.flush()


def reminder_days(tenant: Tenant) -> int:
    try:
        days = int(((tenant.settings or {}).get("contracts") or {}).get("expiry_reminder_days", DEFAULT_REMINDER_DAYS))
    except (TypeError, ValueError):
        return DEFAULT_REMINDER_DAYS
    return max(days, 0)


def expire_and_remind(today: date) -> dict[str, int]:
    """The daily run for the tenant in context: active contracts past their end become expired;
    those ending within the reminder window tell their owner, once per end date."""
    from crm.notifications.services import notify
    from tenants.context import current_tenant

    tenant = current_tenant
    expired = reminded = 0
    for c in db.session.scalars(
        select(Contract).where(Contract.status == "active", Contract.ends_on < today).order_by(Contract.id)
    ):
        _status(None, c, "expired", "contract.expired")
        expired += 1
    horizon = today + timedelta(days=reminder_days(tenant))
    due = db.session.scalars(
        select(Contract)
        .options(joinedload(Contract.owner), joinedload(Contract.customer))
        .where(
            Contract.status == "active",
            Contract.ends_on >= today,
            Contract.ends_on <= horizon,
            Contract.expiry_reminded_at.is_(None),
        )
        .order_by(Contract.id)
    )
    for c in due:
        assert c.ends_on is not None
        owner = c.owner
        c.expiry_reminded_at = utcnow()
        if owner is None or not owner.is_active:
            continue
        notify(
            owner, "contract.expiring",
            _l("Contract %(number)s (%(customer)s) ends on %(day)s, in %(n)d days.", number=c.number,
              customer=c.customer.name, day=c.ends_on.isoformat(), n=(c.ends_on - today).days),
            link=_link(c, tenant.slug),
        )  # fmt: skip
        reminded += 1
    db.session.flush()
    return {"expired": expired, "reminded": reminded}


def can_read_contract(member: Membership, c: Contract) -> bool:
    return can_read(member, c.customer) and c.customer.archived_at is None


@dataclass
class ContractQuery:
    status: str | None = None
    customer_id: int | None = None
    q: str | None = None  # customer name search
    owner_id: int | None = None
    expiring_within_days: int | None = None
    today: date | None = None
    page: int = 1
    page_size: int = 50


def list_contracts(actor: Membership, query: ContractQuery) -> tuple[list[Contract], int]:
    ensure(actor, "sales.access")
    stmt = (
        select(Contract)
        .join(Customer, Customer.id == Contract.customer_id)
        .where(customer_filter(actor), Customer.archived_at.is_(None))
    )
    if query.status:
        if query.status not in STATUSES:
            raise InvalidInput({"status": _("Unknown status.")})
        stmt = stmt.where(Contract.status == query.status)
    if query.customer_id is not None:
        stmt = stmt.where(Contract.customer_id == query.customer_id)
    if query.owner_id is not None:
        stmt = stmt.where(Contract.owner_id == query.owner_id)
    if query.q:
        term = query.q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{term}%"
        stmt = stmt.where(
            or_(func.lower(Customer.name).like(like, escape="\\"), func.lower(Contract.number).like(like, escape="\\"))
        )
    if query.expiring_within_days is not None:
        today = query.today or date.today()
        stmt = stmt.where(
            Contract.status == "active",
            Contract.ends_on >= today,
            Contract.ends_on <= today + timedelta(days=query.expiring_within_days),
        )
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(
        stmt.options(joinedload(Contract.customer), joinedload(Contract.owner))
        .order_by(Contract.id.desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    )
    return list(rows.unique()), total
