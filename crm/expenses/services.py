"""Expense claims (费用报销) and advances (借款): the rules, callable without a request.

Who does what
- Any member (office.access) files claims and asks for advances; only the claimant edits,
  submits or deletes their claim, and only while it is a draft or was rejected.
- The claimant's manager (Membership.reports_to, when active) approves or rejects. A member who
  reports to nobody has their claims approved by any member holding ``expenses.pay`` (finance,
  the owner, admins): someone must, and finance already sees every claim.
- Finance (``expenses.pay``) reviews approved claims (or sends them back, rejected, with a
  comment), pays reviewed ones (one or a batch), and pays approved advances.
- Nobody approves, rejects, reviews or pays their own claim or advance (rule "self_approval").

Posting (through crm.books.services.post_lines, so period, lock and balance rules apply):
- a claim, when paid: Dr each category's expense sub-account (amount − deductible VAT, per
  line, with the claim's department), Dr 应交税费—应交增值税(进项税额) the deductible VAT;
  Cr 其他应收款 (party: the claimant) the part set off against their advance, Cr the chosen bank
  or cash account the rest. One entry per claim.
- an advance, when paid: Dr 其他应收款 (party: the member) / Cr bank or cash.

Services take (tenant, actor, …), validate first, flush, audit and notify; the caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from crm.attachments import services as attachments
from crm.attachments.models import Attachment
from crm.audit.services import record
from crm.books import services as books
from crm.books.errors import RuleViolation
from crm.books.models import Account, Department
from crm.db import db, utcnow
from crm.expenses.models import (
    DEFAULT_CATEGORIES,
    EDITABLE,
    ZERO,
    ExpenseAdvance,
    ExpenseCategory,
    ExpenseClaim,
    ExpenseClaimLine,
    ExpenseEvent,
)
from crm.numbering import format_number, next_seq
from crm.pipeline.models import Opportunity
from crm.pipeline.services import opportunity_filter
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from crm.sales.visibility import customer_filter
from roles.checks import PermissionDenied, can
from tenants.models import Membership, Tenant

PAY = "expenses.pay"
OWNER_TYPE = "expense_claim"
MAX_LINES = 50
RECEIPT_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")


@dataclass
class ClaimInput:
    title: str | None
    lines: list[dict[str, Any]] = field(default_factory=list)
    department_id: int | None = None
    customer_id: int | None = None
    opportunity_id: int | None = None
    advance_id: int | None = None


# 报销 (BX) and 借款 (JK); a workspace may set its own pattern under settings["numbering"].
NUMBER_PATTERNS = {"expense_claim": "BX-{year}-{seq:04d}", "expense_advance": "JK-{year}-{seq:04d}"}


def _number(tenant: Tenant, kind: str) -> str:
    year = books.today_in(tenant).year
    pattern = ((tenant.settings or {}).get("numbering") or {}).get(kind) or NUMBER_PATTERNS[kind]
    return format_number(str(pattern), year, next_seq(kind, year))


# ---------------------------------------------------------------- categories


def _locale() -> str:
    try:
        return str(get_locale() or "zh")
    except Exception:  # outside a request (a job): Chinese, the product's default
        return "zh"


def category_label(cat: ExpenseCategory) -> str:
    return cat.label(_locale())


def ensure_categories() -> list[ExpenseCategory]:
    """The workspace's categories, the default seven made the first time (one query after)."""
    rows = list(db.session.scalars(select(ExpenseCategory).order_by(ExpenseCategory.position, ExpenseCategory.id)))
    if rows:
        return rows
    for i, (key, zh, en, parent) in enumerate(DEFAULT_CATEGORIES):
        db.session.add(ExpenseCategory(key=key, name_zh=zh, name_en=en, parent_role=parent, position=i))
    db.session.flush()
    return list(db.session.scalars(select(ExpenseCategory).order_by(ExpenseCategory.position, ExpenseCategory.id)))


def active_categories() -> list[ExpenseCategory]:
    return [c for c in ensure_categories() if c.is_active]


def category_account(tenant: Tenant, actor: Membership | None, cat: ExpenseCategory) -> Account:
    """The leaf expense account of a category: the one finance mapped, else its own sub-account
    under 管理费用 / 销售费用, made on first use."""
    if cat.account_id is not None:
        mapped = db.session.get(Account, cat.account_id)
        if mapped is not None:
            return mapped
    account = books.ensure_sub_account(tenant, actor, cat.parent_role, f"expense_{cat.key}", cat.name_zh, cat.name_en)
    cat.account_id = account.id
    db.session.flush()
    return account


def expense_accounts() -> list[Account]:
    """Active expense sub-accounts without sub-accounts of their own: what a category may be
    mapped to (never a first-level account such as 管理费用 itself)."""
    rows = list(
        db.session.scalars(
            select(Account).where(Account.type == "expense", Account.is_active.is_(True)).order_by(Account.code)
        )
    )
    parents = books.has_children(a.id for a in rows)
    return [a for a in rows if a.id not in parents and a.parent_id is not None]


def map_category(tenant: Tenant, actor: Membership, cat: ExpenseCategory, account_id: int | None) -> ExpenseCategory:
    """Finance points a category at another leaf expense account (never a first-level one)."""
    if not can(actor, PAY):
        raise PermissionDenied(PAY)
    books.ensure_books(tenant, actor)
    leaves = {a.id: a for a in expense_accounts()}
    account = leaves.get(account_id or 0)
    if account is None:
        raise InvalidInput({"account_id": _("Choose an expense sub-account (one with no sub-accounts of its own).")})
    before = cat.account.code if cat.account is not None else None
    cat.account = account
    db.session.flush()
    record("expense_category.map", cat, actor=actor, object_type="ExpenseCategory",
           summary=f"{cat.name_zh} → {account.code}", changes={"account": [before, account.code]})  # fmt: skip
    return cat


# ---------------------------------------------------------------- who may do what


def manager_of(member: Membership) -> Membership | None:
    boss = member.reports_to
    if boss is None or not boss.is_active or boss.id == member.id:
        return None
    return boss


def is_approver(member: Membership | None, claimant_id: int, approver_id: int | None) -> bool:
    """The claimant's manager, or — when the claimant has none — anyone with expenses.pay."""
    if member is None or not member.is_active:
        return False
    if approver_id is not None:
        return member.id == approver_id
    return can(member, PAY)


def can_see_claim(member: Membership | None, claim: ExpenseClaim) -> bool:
    if member is None or not member.is_active:
        return False
    if member.id == claim.claimant_id or can(member, PAY):
        return True
    boss = claim.claimant.reports_to_id
    return member.id in {claim.approver_id, boss}


def can_see_advance(member: Membership | None, adv: ExpenseAdvance) -> bool:
    if member is None or not member.is_active:
        return False
    if member.id == adv.member_id or can(member, PAY):
        return True
    return member.id == adv.member.reports_to_id


def _not_self(actor: Membership, owner_id: int, what: str) -> None:
    if actor.id == owner_id:
        raise RuleViolation("self_approval", {"status": what})


def _claim_reader(member: Membership, claim_id: int) -> bool:
    claim = db.session.scalar(select(ExpenseClaim).where(ExpenseClaim.id == claim_id))
    return claim is not None and can_see_claim(member, claim)


attachments.register_owner(OWNER_TYPE, _claim_reader)


def _event(actor: Membership | None, action: str, *, claim: ExpenseClaim | None = None,
           advance: ExpenseAdvance | None = None, comment: str | None = None) -> None:  # fmt: skip
    db.session.add(
        ExpenseEvent(
            claim_id=claim.id if claim else None,
            advance_id=advance.id if advance else None,
            action=action,
            actor_id=actor.id if actor else None,
            comment=comment,
            created_at=utcnow(),
        )  # fmt: skip
    )


def _claim_link(tenant: Tenant, claim: ExpenseClaim) -> str:
    return f"/w/{tenant.slug}/office/expenses/claims/{claim.id}"


def _advance_link(tenant: Tenant, adv: ExpenseAdvance) -> str:
    return f"/w/{tenant.slug}/office/expenses/advances/{adv.id}"


def _notify(recipient: Membership | None, kind: str, title: Any, link: str) -> None:
    from crm.notifications.services import notify  # noqa: PLC0415 — notifications sit beside, not below

    if recipient is not None and recipient.is_active:
        notify(recipient, kind, title, link=link)


def _payers(exclude: int) -> list[Membership]:
    rows = db.session.scalars(select(Membership).where(Membership.is_active.is_(True)).order_by(Membership.id))
    return [m for m in rows if m.id != exclude and can(m, PAY)]


def _tell_approvers(tenant: Tenant, claimant: Membership, approver_id: int | None, title: Any, link: str) -> None:
    if approver_id is not None:
        _notify(db.session.get(Membership, approver_id), "expense.submitted", title, link)
        return
    for m in _payers(claimant.id):
        _notify(m, "expense.submitted", title, link)


# ---------------------------------------------------------------- claims: drafting


def _clean_text(raw: Any, limit: int) -> str:
    return ("" if raw is None else str(raw)).strip()[:limit]


def _parse_date(raw: Any) -> date | None:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw or ""))
    except ValueError:
        return None


def _int_or_none(raw: Any) -> int | None:
    if raw in (None, "", "None"):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return -1


def _validate(tenant: Tenant, actor: Membership, data: ClaimInput, claim: ExpenseClaim | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    title = _clean_text(data.title, 200)
    if not title:
        errors["title"] = _("Give the claim a short title (what the expenses were for).")
    department_id = _int_or_none(data.department_id)
    if (
        department_id is not None
        and db.session.scalar(select(Department.id).where(Department.id == department_id)) is None
    ):
        errors["department_id"] = _("Choose a department of this workspace.")
    claimant = claim.claimant if claim is not None else actor
    customer_id = _int_or_none(data.customer_id)
    if (
        customer_id is not None
        and db.session.scalar(select(Customer.id).where(Customer.id == customer_id, customer_filter(claimant))) is None
    ):
        errors["customer_id"] = _("Choose one of your customers.")
    opportunity_id = _int_or_none(data.opportunity_id)
    if opportunity_id is not None:
        opp = db.session.scalar(
            select(Opportunity).where(Opportunity.id == opportunity_id, opportunity_filter(claimant))
        )
        if opp is None:
            errors["opportunity_id"] = _("Choose one of your opportunities.")
        elif customer_id is None:
            customer_id = opp.customer_id
        elif opp.customer_id != customer_id:
            errors["opportunity_id"] = _("The opportunity belongs to another customer.")
    advance_id = _int_or_none(data.advance_id)
    if advance_id is not None:
        adv = db.session.scalar(select(ExpenseAdvance).where(ExpenseAdvance.id == advance_id))
        owner = claim.claimant_id if claim is not None else actor.id
        if adv is None or adv.member_id != owner or adv.status != "paid" or adv.open_amount <= ZERO:
            errors["advance_id"] = _("Choose one of your own paid advances that is still open.")
    categories = {c.id: c for c in ensure_categories()}
    existing = {x.id: x for x in claim.lines} if claim is not None else {}
    own_files = (
        set(db.session.scalars(select(Attachment.id).where(Attachment.owner_type == OWNER_TYPE,
                                                           Attachment.owner_id == claim.id)))
        if claim is not None else set()
    )  # fmt: skip
    lines: list[dict[str, Any]] = []
    raw_lines = [x for x in (data.lines or []) if isinstance(x, dict)]
    if not raw_lines:
        errors["lines"] = _("Add at least one expense line.")
    if len(raw_lines) > MAX_LINES:
        errors["lines"] = _("A claim has at most %(n)d lines.", n=MAX_LINES)
    for i, x in enumerate(raw_lines[:MAX_LINES]):
        key = f"lines.{i}"
        when = _parse_date(x.get("expense_date"))
        if when is None:
            errors[f"{key}.expense_date"] = _("Enter the date of the expense.")
        elif when > books.today_in(tenant):
            errors[f"{key}.expense_date"] = _("The expense cannot be in the future.")
        cat = categories.get(_int_or_none(x.get("category_id")) or 0)
        if cat is None or (not cat.is_active and not any(e.category_id == cat.id for e in existing.values())):
            errors[f"{key}.category_id"] = _("Choose a category.")
        amount = books.parse_amount(x.get("amount"))
        if amount is None:
            errors[f"{key}.amount"] = _("Enter an amount greater than zero with at most two decimals.")
        vat = books.parse_amount(x.get("input_vat"), zero_ok=True)
        invoice_number = _clean_text(x.get("invoice_number"), 40) or None
        if vat is None:
            errors[f"{key}.input_vat"] = _("Enter the deductible VAT with at most two decimals, or leave it blank.")
        elif vat > ZERO:
            if amount is not None and vat >= amount:
                errors[f"{key}.input_vat"] = _("The deductible VAT must be less than the amount.")
            if not invoice_number:
                errors[f"{key}.invoice_number"] = _("Deductible VAT needs the VAT invoice's number.")
        if invoice_number and not invoice_number.isalnum():
            errors[f"{key}.invoice_number"] = _("An invoice number is letters and digits only.")
        description = _clean_text(x.get("description"), 255)
        if not description:
            errors[f"{key}.description"] = _("Say what the expense was.")
        line_id = _int_or_none(x.get("id"))
        if line_id is not None and line_id not in existing:
            errors[f"{key}.id"] = _("No such line on this claim.")
        attachment_id = _int_or_none(x.get("attachment_id"))
        if attachment_id is not None and attachment_id not in own_files:
            errors[f"{key}.attachment_id"] = _("No such receipt on this claim.")
        lines.append({
            "id": line_id, "expense_date": when, "category_id": cat.id if cat else None, "amount": amount,
            "input_vat": vat or ZERO, "invoice_number": invoice_number, "description": description,
            "attachment_id": attachment_id,
        })  # fmt: skip
    if errors:
        raise InvalidInput(errors)
    return {
        "title": title, "department_id": department_id, "customer_id": customer_id,
        "opportunity_id": opportunity_id, "advance_id": advance_id, "lines": lines,
    }  # fmt: skip


def _apply(claim: ExpenseClaim, values: dict[str, Any]) -> None:
    for k in ("title", "department_id", "customer_id", "opportunity_id", "advance_id"):
        setattr(claim, k, values[k])
    existing = {x.id: x for x in claim.lines}
    keep: list[ExpenseClaimLine] = []
    for i, v in enumerate(values["lines"]):
        line = existing.get(v["id"]) if v["id"] else None
        if line is None:
            line = ExpenseClaimLine(attachment_id=v["attachment_id"])
        elif v["attachment_id"] is not None:
            line.attachment_id = v["attachment_id"]
        line.position = i
        for k in ("expense_date", "category_id", "amount", "input_vat", "invoice_number", "description"):
            setattr(line, k, v[k])
        keep.append(line)
    claim.lines[:] = keep
    claim.total = sum((x.amount for x in keep), ZERO)
    claim.total_vat = sum((x.input_vat for x in keep), ZERO)


def create_claim(tenant: Tenant, actor: Membership, data: ClaimInput) -> ExpenseClaim:
    if not can(actor, "office.access"):
        raise PermissionDenied("office.access")
    values = _validate(tenant, actor, data, None)
    claim = ExpenseClaim(
        number=_number(tenant, "expense_claim"), claimant_id=actor.id, status="draft",
        title=values["title"],
    )  # fmt: skip
    db.session.add(claim)
    _apply(claim, values)
    db.session.flush()
    _event(actor, "created", claim=claim)
    record("expense_claim.create", claim, actor=actor, summary=f"{claim.number} {claim.title}")
    return claim


def _check_owner_edit(actor: Membership, claim: ExpenseClaim) -> None:
    if actor.id != claim.claimant_id:
        raise PermissionDenied("office.access")
    if claim.status not in EDITABLE:
        raise RuleViolation(
            "locked", {"status": _("Only a draft or a rejected claim can be changed; this one is “%(status)s”.",
                                   status=_status_label(claim.status))},
        )  # fmt: skip


def _status_label(status: str) -> str:
    from crm.expenses.models import CLAIM_STATUS_LABELS  # noqa: PLC0415

    return str(CLAIM_STATUS_LABELS.get(status, status))


def update_claim(tenant: Tenant, actor: Membership, claim: ExpenseClaim, data: ClaimInput) -> ExpenseClaim:
    _check_owner_edit(actor, claim)
    values = _validate(tenant, actor, data, claim)
    _apply(claim, values)
    db.session.flush()
    record("expense_claim.update", claim, actor=actor, summary=f"{claim.number} {claim.title}")
    return claim


def delete_claim(actor: Membership, claim: ExpenseClaim) -> None:
    if actor.id != claim.claimant_id:
        raise PermissionDenied("office.access")
    if claim.status != "draft":
        raise RuleViolation("locked", {"status": _("Only a draft is deleted; a submitted claim stays on record.")})
    attachments.delete_for(actor, OWNER_TYPE, claim.id)
    record("expense_claim.delete", claim, actor=actor, summary=claim.number)
    db.session.delete(claim)
    db.session.flush()


def attach_receipt(
    tenant: Tenant, actor: Membership, claim: ExpenseClaim, line: ExpenseClaimLine, filename: str, data: bytes
) -> Attachment:
    """A receipt (image or PDF) for one line; replaces the line's earlier one."""
    _check_owner_edit(actor, claim)
    if line.claim_id != claim.id:
        raise InvalidInput({"line": _("No such line on this claim.")})
    try:
        kind = attachments.check(filename, data)
    except attachments.InvalidFile as bad:
        raise InvalidInput({"receipt": bad.reason}) from None
    if kind not in RECEIPT_TYPES:
        raise InvalidInput({"receipt": _("A receipt is an image (JPEG, PNG, WebP) or a PDF.")})
    att = attachments.add(actor, OWNER_TYPE, claim.id, filename, data)
    old = db.session.get(Attachment, line.attachment_id) if line.attachment_id else None
    line.attachment_id = att.id
    if old is not None:
        db.session.delete(old)
        attachments.path_of(old).unlink(missing_ok=True)
    db.session.flush()
    return att


# ---------------------------------------------------------------- claims: the flow


def _lock(obj: Any) -> None:
    """Take the row lock (PostgreSQL: SELECT … FOR UPDATE) and reload the row, so two people
    paying the same claim, or two claims setting off the same advance, queue instead of both
    acting on what they read before. SQLite lets one writer in at a time anyway."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    model = type(obj)
    db.session.execute(
        select(model).where(model.id == obj.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def _expect(claim: ExpenseClaim, *statuses: str) -> None:
    _lock(claim)
    if claim.status not in statuses:
        raise RuleViolation(
            "wrong_status",
            {"status": _("This claim is “%(status)s”; that step is not possible now.",
                         status=_status_label(claim.status))},
        )  # fmt: skip


def submit_claim(tenant: Tenant, actor: Membership, claim: ExpenseClaim) -> ExpenseClaim:
    if actor.id != claim.claimant_id:
        raise PermissionDenied("office.access")
    _expect(claim, *EDITABLE)
    if not claim.lines:
        raise InvalidInput({"lines": _("Add at least one expense line.")})
    again = claim.status == "rejected"
    boss = manager_of(actor)
    claim.approver_id = boss.id if boss else None
    claim.status = "submitted"
    claim.submitted_at = utcnow()
    claim.comment = None
    db.session.flush()
    _event(actor, "resubmitted" if again else "submitted", claim=claim)
    record("expense_claim.submit", claim, actor=actor, summary=claim.number)
    _tell_approvers(
        tenant, actor, claim.approver_id,
        _l("%(who)s asks you to approve expense claim %(number)s (¥%(amount)s).", who=actor.user.name,
           number=claim.number, amount=f"{claim.total:,.2f}"),
        _claim_link(tenant, claim),
    )  # fmt: skip
    return claim


def approve_claim(tenant: Tenant, actor: Membership, claim: ExpenseClaim) -> ExpenseClaim:
    _not_self(actor, claim.claimant_id, _("Nobody approves their own claim."))
    _expect(claim, "submitted")
    if not is_approver(actor, claim.claimant_id, claim.approver_id):
        raise PermissionDenied(PAY)
    claim.status = "approved"
    claim.approved_by_id, claim.approved_at = actor.id, utcnow()
    db.session.flush()
    _event(actor, "approved", claim=claim)
    record("expense_claim.approve", claim, actor=actor, summary=claim.number)
    link = _claim_link(tenant, claim)
    _notify(
        claim.claimant,
        "expense.approved",
        _l("Your expense claim %(number)s was approved; finance reviews it next.", number=claim.number),
        link,
    )
    for m in _payers(claim.claimant_id):
        if m.id != actor.id:
            _notify(m, "expense.to_review", _l("Expense claim %(number)s is approved and awaits your review.",
                                               number=claim.number), link)  # fmt: skip
    return claim


def reject_claim(tenant: Tenant, actor: Membership, claim: ExpenseClaim, comment: str | None) -> ExpenseClaim:
    """The approver rejects a submitted claim, or finance sends an approved one back."""
    _not_self(actor, claim.claimant_id, _("Nobody rejects their own claim; withdraw it by editing it instead."))
    _expect(claim, "submitted", "approved")
    if claim.status == "approved":
        if not can(actor, PAY):
            raise PermissionDenied(PAY)
    elif not is_approver(actor, claim.claimant_id, claim.approver_id):
        raise PermissionDenied(PAY)
    text = _clean_text(comment, 2000)
    if not text:
        raise InvalidInput({"comment": _("Say why, so the claimant can correct it.")})
    claim.status = "rejected"
    claim.comment = text
    claim.approved_by_id = claim.approved_at = None
    db.session.flush()
    _event(actor, "rejected", claim=claim, comment=text)
    record("expense_claim.reject", claim, actor=actor, summary=f"{claim.number}: {text[:100]}")
    _notify(claim.claimant, "expense.rejected",
            _l("Your expense claim %(number)s was rejected: %(reason)s", number=claim.number, reason=text[:120]),
            _claim_link(tenant, claim))  # fmt: skip
    return claim


def review_claim(tenant: Tenant, actor: Membership, claim: ExpenseClaim) -> ExpenseClaim:
    if not can(actor, PAY):
        raise PermissionDenied(PAY)
    _not_self(actor, claim.claimant_id, _("Nobody reviews their own claim."))
    _expect(claim, "approved")
    claim.status = "reviewed"
    claim.reviewed_by_id, claim.reviewed_at = actor.id, utcnow()
    db.session.flush()
    _event(actor, "reviewed", claim=claim)
    record("expense_claim.review", claim, actor=actor, summary=claim.number)
    return claim


def _pay_account(account_id: int | None) -> Account:
    from crm.settlement.services import cash_accounts  # noqa: PLC0415 — the same list receipts/payments use

    allowed = {a.id: a for a in cash_accounts()}
    if account_id is None:
        bank = books.account_for("bank")
        if bank.id in allowed:
            return bank
        raise InvalidInput({"account_id": _("Choose the bank or cash account the money is paid from.")})
    account = allowed.get(account_id)
    if account is None:
        raise InvalidInput({"account_id": _("Choose the bank or cash account the money is paid from.")})
    return account


def _post_claim(tenant: Tenant, actor: Membership, claim: ExpenseClaim, on: date, pay_account: Account) -> None:
    lines: list[books.LineInput] = []
    by_account: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for x in claim.lines:
        account = category_account(tenant, actor, x.category)
        by_account[account.id] += x.net_amount
    for account_id, amount in by_account.items():
        lines.append(books.LineInput(account_id, debit=amount, department_id=claim.department_id,
                                     memo=f"{claim.number} {claim.title}"))  # fmt: skip
    if claim.total_vat > ZERO:
        lines.append(books.LineInput(books.account_for("vat_input").id, debit=claim.total_vat, memo=claim.number))
    offset = ZERO
    adv = claim.advance
    if adv is not None:
        _lock(adv)
        if adv.status != "paid" or adv.member_id != claim.claimant_id:
            raise RuleViolation("advance_closed", {"advance_id": _("The advance is no longer open.")})
        offset = min(adv.open_amount, claim.total)
    employee = ("employee", claim.claimant_id)
    if offset > ZERO:
        lines.append(books.LineInput(books.account_for("other_receivable").id, credit=offset, party_type=employee[0],
                                     party_id=employee[1], memo=f"{claim.number} {adv.number}"))  # fmt: skip
    rest = claim.total - offset
    if rest > ZERO:
        lines.append(books.LineInput(pay_account.id, credit=rest, party_type=employee[0], party_id=employee[1],
                                     memo=claim.number))  # fmt: skip
    who, title = claim.claimant.user.name, claim.title
    memo = books.memo(_l("Expense claim %(number)s, %(who)s: %(title)s", number=claim.number, who=who, title=title))
    entry = books.post_lines(tenant, actor, on, memo[:255], lines, source=("expense_claim", claim.id))
    claim.entry_id = entry.id
    claim.advance_offset = offset
    if adv is not None and offset > ZERO:
        adv.open_amount -= offset
        if adv.open_amount == ZERO:
            adv.status = "settled"
        _event(actor, "set_off", advance=adv, comment=f"{claim.number} ¥{offset:,.2f}")
    _event(actor, "posted", claim=claim, comment=entry.number)


def pay_claims(
    tenant: Tenant, actor: Membership, claims: list[ExpenseClaim], on: date | None = None,
    account_id: int | None = None,
) -> list[ExpenseClaim]:  # fmt: skip
    """Pay reviewed claims (one or a batch) and post one entry for each. All or nothing: one
    refusal and none is paid."""
    if not can(actor, PAY):
        raise PermissionDenied(PAY)
    if not claims:
        raise InvalidInput({"claims": _("Choose at least one claim to pay.")})
    for claim in sorted(claims, key=lambda c: c.id):
        _lock(claim)
    for claim in claims:
        _not_self(actor, claim.claimant_id, _("Nobody pays their own claim (%(number)s).", number=claim.number))
        if claim.status != "reviewed":
            raise RuleViolation(
                "wrong_status", {"claims": _("%(number)s is “%(status)s”; only reviewed claims are paid.",
                                             number=claim.number, status=_status_label(claim.status))},
            )  # fmt: skip
    when = on or books.today_in(tenant)
    pay_account = _pay_account(account_id)
    for claim in claims:
        _event(actor, "paid", claim=claim, comment=f"{pay_account.code} {pay_account.name_zh}")
        _post_claim(tenant, actor, claim, when, pay_account)
        claim.status = "paid"
        claim.paid_by_id, claim.paid_at, claim.paid_on, claim.pay_account_id = actor.id, utcnow(), when, pay_account.id
        record("expense_claim.pay", claim, actor=actor, summary=f"{claim.number} ¥{claim.total:,.2f}")
        _notify(claim.claimant, "expense.paid", _l("Your expense claim %(number)s was paid (¥%(amount)s).",
                                                   number=claim.number, amount=f"{claim.cash_part:,.2f}"),
                _claim_link(tenant, claim))  # fmt: skip
    db.session.flush()
    return claims


# ---------------------------------------------------------------- advances


def request_advance(tenant: Tenant, actor: Membership, data: dict[str, Any]) -> ExpenseAdvance:
    if not can(actor, "office.access"):
        raise PermissionDenied("office.access")
    errors: dict[str, str] = {}
    amount = books.parse_amount(data.get("amount"))
    if amount is None:
        errors["amount"] = _("Enter an amount greater than zero with at most two decimals.")
    purpose = _clean_text(data.get("purpose"), 255)
    if not purpose:
        errors["purpose"] = _("Say what the advance is for.")
    needed_by = data.get("needed_by")
    if needed_by not in (None, "") and _parse_date(needed_by) is None:
        errors["needed_by"] = _("Enter a date as YYYY-MM-DD.")
    if errors:
        raise InvalidInput(errors)
    assert amount is not None
    adv = ExpenseAdvance(
        number=_number(tenant, "expense_advance"), member_id=actor.id, amount=amount,
        open_amount=ZERO, purpose=purpose, needed_by=_parse_date(needed_by) if needed_by else None, status="requested",
    )  # fmt: skip
    db.session.add(adv)
    db.session.flush()
    _event(actor, "requested", advance=adv)
    record("expense_advance.request", adv, actor=actor, summary=f"{adv.number} ¥{amount:,.2f}")
    boss = manager_of(actor)
    title = _l("%(who)s asks you to approve advance %(number)s (¥%(amount)s).", who=actor.user.name,
               number=adv.number, amount=f"{amount:,.2f}")  # fmt: skip
    link = _advance_link(tenant, adv)
    if boss is not None:
        _notify(boss, "expense.submitted", title, link)
    else:
        for m in _payers(actor.id):
            _notify(m, "expense.submitted", title, link)
    return adv


def _expect_adv(adv: ExpenseAdvance, *statuses: str) -> None:
    _lock(adv)
    if adv.status not in statuses:
        from crm.expenses.models import ADVANCE_STATUS_LABELS  # noqa: PLC0415

        raise RuleViolation(
            "wrong_status", {"status": _("This advance is “%(status)s”; that step is not possible now.",
                                         status=str(ADVANCE_STATUS_LABELS.get(adv.status, adv.status)))},
        )  # fmt: skip


def _advance_approver_id(adv: ExpenseAdvance) -> int | None:
    boss = manager_of(adv.member)
    return boss.id if boss else None


def approve_advance(tenant: Tenant, actor: Membership, adv: ExpenseAdvance) -> ExpenseAdvance:
    _not_self(actor, adv.member_id, _("Nobody approves their own advance."))
    _expect_adv(adv, "requested")
    if not is_approver(actor, adv.member_id, _advance_approver_id(adv)):
        raise PermissionDenied(PAY)
    adv.status = "approved"
    adv.approved_by_id, adv.approved_at = actor.id, utcnow()
    db.session.flush()
    _event(actor, "approved", advance=adv)
    record("expense_advance.approve", adv, actor=actor, summary=adv.number)
    _notify(adv.member, "expense.approved",
            _l("Your advance %(number)s was approved; finance pays it next.", number=adv.number),
            _advance_link(tenant, adv))  # fmt: skip
    return adv


def reject_advance(tenant: Tenant, actor: Membership, adv: ExpenseAdvance, comment: str | None) -> ExpenseAdvance:
    _not_self(actor, adv.member_id, _("Nobody rejects their own advance."))
    _expect_adv(adv, "requested", "approved")
    if adv.status == "approved":
        if not can(actor, PAY):
            raise PermissionDenied(PAY)
    elif not is_approver(actor, adv.member_id, _advance_approver_id(adv)):
        raise PermissionDenied(PAY)
    text = _clean_text(comment, 2000)
    if not text:
        raise InvalidInput({"comment": _("Say why, so the member knows.")})
    adv.status, adv.comment = "rejected", text
    db.session.flush()
    _event(actor, "rejected", advance=adv, comment=text)
    record("expense_advance.reject", adv, actor=actor, summary=f"{adv.number}: {text[:100]}")
    _notify(adv.member, "expense.rejected",
            _l("Your advance %(number)s was rejected: %(reason)s", number=adv.number, reason=text[:120]),
            _advance_link(tenant, adv))  # fmt: skip
    return adv


def pay_advance(
    tenant: Tenant, actor: Membership, adv: ExpenseAdvance, on: date | None = None, account_id: int | None = None
) -> ExpenseAdvance:
    if not can(actor, PAY):
        raise PermissionDenied(PAY)
    _not_self(actor, adv.member_id, _("Nobody pays their own advance."))
    _lock(adv)
    _expect_adv(adv, "approved")
    when = on or books.today_in(tenant)
    pay_account = _pay_account(account_id)
    receivable = books.account_for("other_receivable")
    memo = books.memo(_l("Advance %(number)s to %(who)s: %(purpose)s", number=adv.number, who=adv.member.user.name,
             purpose=adv.purpose))  # fmt: skip
    entry = books.post_lines(
        tenant, actor, when, memo[:255],
        [books.LineInput(receivable.id, debit=adv.amount, party_type="employee", party_id=adv.member_id,
                         memo=adv.number),
         books.LineInput(pay_account.id, credit=adv.amount, party_type="employee", party_id=adv.member_id,
                         memo=adv.number)],
        source=("expense_advance", adv.id),
    )  # fmt: skip
    adv.status, adv.open_amount, adv.entry_id = "paid", adv.amount, entry.id
    adv.paid_by_id, adv.paid_at, adv.paid_on, adv.pay_account_id = actor.id, utcnow(), when, pay_account.id
    db.session.flush()
    _event(actor, "paid", advance=adv, comment=entry.number)
    record("expense_advance.pay", adv, actor=actor, summary=f"{adv.number} {entry.number}")
    _notify(adv.member, "expense.paid",
            _l("Your advance %(number)s was paid (¥%(amount)s).", number=adv.number, amount=f"{adv.amount:,.2f}"),
            _advance_link(tenant, adv))  # fmt: skip
    return adv


def repay_advance(
    tenant: Tenant, actor: Membership, adv: ExpenseAdvance, amount: Any, on: date | None = None,
    account_id: int | None = None,
) -> ExpenseAdvance:  # fmt: skip
    """The member returns money of an open advance they did not spend: Dr bank or cash /
    Cr 其他应收款 (party: the member). An advance repaid in full is settled."""
    if not can(actor, PAY):
        raise PermissionDenied(PAY)
    _not_self(actor, adv.member_id, _("Nobody records the repayment of their own advance."))
    _lock(adv)
    _expect_adv(adv, "paid")
    value = books.parse_amount(amount)
    if value is None:
        raise InvalidInput({"amount": _("Enter an amount greater than zero with at most two decimals.")})
    if value > adv.open_amount:
        raise InvalidInput(
            {"amount": _("At most the open %(amount)s can be repaid.", amount=f"{adv.open_amount:,.2f}")}
        )
    when = on or books.today_in(tenant)
    account = _pay_account(account_id)
    receivable = books.account_for("other_receivable")
    memo = books.memo(_l("Repayment of advance %(number)s by %(who)s", number=adv.number, who=adv.member.user.name))
    entry = books.post_lines(
        tenant, actor, when, memo[:255],
        [books.LineInput(account.id, debit=value, party_type="employee", party_id=adv.member_id, memo=adv.number),
         books.LineInput(receivable.id, credit=value, party_type="employee", party_id=adv.member_id,
                         memo=adv.number)],
        source=("expense_advance", adv.id),
    )  # fmt: skip
    adv.open_amount -= value
    if adv.open_amount == ZERO:
        adv.status = "settled"
    db.session.flush()
    _event(actor, "repaid", advance=adv, comment=f"¥{value:,.2f} {entry.number}")
    record("expense_advance.repay", adv, actor=actor, summary=f"{adv.number} ¥{value:,.2f} {entry.number}")
    return adv


def open_advances(member_id: int) -> list[ExpenseAdvance]:
    stmt = (
        select(ExpenseAdvance)
        .where(ExpenseAdvance.member_id == member_id, ExpenseAdvance.status == "paid", ExpenseAdvance.open_amount > 0)
        .order_by(ExpenseAdvance.id)
    )
    return list(db.session.scalars(stmt))


# ---------------------------------------------------------------- lists (a fixed number of statements)


def _claim_options() -> list[Any]:
    return [
        selectinload(ExpenseClaim.claimant),
        selectinload(ExpenseClaim.department),
        selectinload(ExpenseClaim.customer),
        selectinload(ExpenseClaim.advance),
    ]


def my_claims(member: Membership, limit: int = 200) -> list[ExpenseClaim]:
    stmt = (
        select(ExpenseClaim).where(ExpenseClaim.claimant_id == member.id)
        .options(*_claim_options()).order_by(ExpenseClaim.id.desc()).limit(limit)
    )  # fmt: skip
    return list(db.session.scalars(stmt))


def claims_to_approve(member: Membership) -> list[ExpenseClaim]:
    """Submitted claims waiting for this member: as the manager, or (for claimants without one)
    as a holder of expenses.pay."""
    cond = ExpenseClaim.approver_id == member.id
    if can(member, PAY):
        cond = cond | ExpenseClaim.approver_id.is_(None)
    stmt = (
        select(ExpenseClaim)
        .where(ExpenseClaim.status == "submitted", cond, ExpenseClaim.claimant_id != member.id)
        .options(*_claim_options()).order_by(ExpenseClaim.submitted_at, ExpenseClaim.id)
    )  # fmt: skip
    return list(db.session.scalars(stmt))


def my_advances(member: Membership, limit: int = 200) -> list[ExpenseAdvance]:
    stmt = (
        select(ExpenseAdvance).where(ExpenseAdvance.member_id == member.id)
        .order_by(ExpenseAdvance.id.desc()).limit(limit)
    )  # fmt: skip
    return list(db.session.scalars(stmt))


def advances_to_approve(member: Membership) -> list[ExpenseAdvance]:
    rows = db.session.scalars(
        select(ExpenseAdvance)
        .where(ExpenseAdvance.status == "requested", ExpenseAdvance.member_id != member.id)
        .options(selectinload(ExpenseAdvance.member).selectinload(Membership.reports_to))
        .order_by(ExpenseAdvance.id)
    )
    return [a for a in rows if is_approver(member, a.member_id, _advance_approver_id(a))]


def finance_claims(statuses: tuple[str, ...], limit: int = 500) -> list[ExpenseClaim]:
    stmt = (
        select(ExpenseClaim).where(ExpenseClaim.status.in_(statuses))
        .options(*_claim_options()).order_by(ExpenseClaim.id.desc()).limit(limit)
    )  # fmt: skip
    return list(db.session.scalars(stmt))


def finance_advances(statuses: tuple[str, ...], limit: int = 500) -> list[ExpenseAdvance]:
    stmt = (
        select(ExpenseAdvance).where(ExpenseAdvance.status.in_(statuses))
        .options(selectinload(ExpenseAdvance.member)).order_by(ExpenseAdvance.id.desc()).limit(limit)
    )  # fmt: skip
    return list(db.session.scalars(stmt))


def visible_claims(member: Membership, status: str | None = None, limit: int = 500) -> list[ExpenseClaim]:
    """For the API list: everything with expenses.pay; else one's own, and those one approves."""
    stmt = select(ExpenseClaim).options(*_claim_options(), selectinload(ExpenseClaim.lines))
    if not can(member, PAY):
        team = select(Membership.id).where(Membership.reports_to_id == member.id)
        stmt = stmt.where(
            (ExpenseClaim.claimant_id == member.id) | (ExpenseClaim.approver_id == member.id)
            | ExpenseClaim.claimant_id.in_(team)
        )  # fmt: skip
    if status:
        stmt = stmt.where(ExpenseClaim.status == status)
    return list(db.session.scalars(stmt.order_by(ExpenseClaim.id.desc()).limit(limit)))


def visible_advances(member: Membership, status: str | None = None, limit: int = 500) -> list[ExpenseAdvance]:
    stmt = select(ExpenseAdvance).options(selectinload(ExpenseAdvance.member))
    if not can(member, PAY):
        team = select(Membership.id).where(Membership.reports_to_id == member.id)
        stmt = stmt.where((ExpenseAdvance.member_id == member.id) | ExpenseAdvance.member_id.in_(team))
    if status:
        stmt = stmt.where(ExpenseAdvance.status == status)
    return list(db.session.scalars(stmt.order_by(ExpenseAdvance.id.desc()).limit(limit)))


def timeline(claim: ExpenseClaim | None = None, advance: ExpenseAdvance | None = None) -> list[ExpenseEvent]:
    stmt = select(ExpenseEvent).options(selectinload(ExpenseEvent.actor))
    stmt = stmt.where(ExpenseEvent.claim_id == claim.id) if claim else stmt.where(ExpenseEvent.advance_id == advance.id)  # type: ignore[union-attr]
    return list(db.session.scalars(stmt.order_by(ExpenseEvent.created_at, ExpenseEvent.id)))


def receipts_of(claim: ExpenseClaim) -> dict[int, Attachment]:
    return {a.id: a for a in attachments.for_owners(OWNER_TYPE, [claim.id]).get(claim.id, [])}


# ---------------------------------------------------------------- reports


REPORT_DIMENSIONS = ("category", "department", "member", "month")


@dataclass
class ReportRow:
    key: str
    label: str
    claims: int
    amount: Decimal
    vat: Decimal
    net: Decimal


def report(by: str, date_from: date | None = None, date_to: date | None = None) -> list[ReportRow]:
    """Paid (posted) claims summed by category, department, member or month of payment —
    one statement. Amounts are the lines' (VAT included), their deductible VAT and the rest."""
    if by not in REPORT_DIMENSIONS:
        raise InvalidInput({"by": _("Choose category, department, member or month.")})
    dialect = db.session.get_bind().dialect.name
    month = (
        func.to_char(ExpenseClaim.paid_on, "YYYY-MM") if dialect == "postgresql"
        else func.strftime("%Y-%m", ExpenseClaim.paid_on)
    )  # fmt: skip
    keys = {
        "category": (ExpenseClaimLine.category_id,),
        "department": (ExpenseClaim.department_id,),
        "member": (ExpenseClaim.claimant_id,),
        "month": (month,),
    }[by]
    from sqlalchemy import BigInteger, type_coerce  # noqa: PLC0415

    fen = lambda col: func.coalesce(func.sum(type_coerce(col, BigInteger)), 0)  # noqa: E731
    stmt = (
        select(keys[0].label("k"), func.count(func.distinct(ExpenseClaim.id)), fen(ExpenseClaimLine.amount),
               fen(ExpenseClaimLine.input_vat))
        .join(ExpenseClaim, ExpenseClaim.id == ExpenseClaimLine.claim_id)
        .where(ExpenseClaim.status == "paid")
        .group_by(keys[0]).order_by(keys[0])
    )  # fmt: skip
    if date_from:
        stmt = stmt.where(ExpenseClaim.paid_on >= date_from)
    if date_to:
        stmt = stmt.where(ExpenseClaim.paid_on <= date_to)
    raw = list(db.session.execute(stmt))
    labels = _labels(by, [r[0] for r in raw])
    out = []
    for k, n, amount_fen, vat_fen in raw:
        amount, vat = Decimal(amount_fen) / 100, Decimal(vat_fen) / 100
        amount, vat = amount.quantize(Decimal("0.01")), vat.quantize(Decimal("0.01"))
        out.append(
            ReportRow(str(k or ""), labels.get(k, str(k) if k else _("(none)")), int(n), amount, vat, amount - vat)
        )
    return out


def _labels(by: str, keys: list[Any]) -> dict[Any, str]:
    ids = [k for k in keys if k is not None]
    if by == "category":
        return {c.id: category_label(c) for c in ensure_categories()}
    if by == "department" and ids:
        return {d.id: d.name for d in db.session.scalars(select(Department).where(Department.id.in_(ids)))}
    if by == "member" and ids:
        return {m.id: m.user.name for m in db.session.scalars(select(Membership).where(Membership.id.in_(ids)))}
    if by == "month":
        return {k: k for k in ids}
    return {}


def department_choices() -> list[Department]:
    return list(db.session.scalars(select(Department).where(Department.is_active.is_(True)).order_by(Department.name)))


def customer_choices(member: Membership, selected: int | None = None, limit: int = 300) -> list[tuple[int, str]]:
    """The customers a claim of this member may name (those they can read in Sales)."""
    stmt = select(Customer.id, Customer.name).where(Customer.archived_at.is_(None), customer_filter(member))
    pairs = [(i, n) for i, n in db.session.execute(stmt.order_by(Customer.name).limit(limit))]
    if selected and all(i != selected for i, _n in pairs):
        pairs += [
            (i, n) for i, n in db.session.execute(select(Customer.id, Customer.name).where(Customer.id == selected))
        ]
    return pairs


def opportunity_choices(member: Membership, limit: int = 300) -> list[tuple[int, str]]:
    stmt = select(Opportunity.id, Opportunity.title).where(opportunity_filter(member))
    return [(i, n) for i, n in db.session.execute(stmt.order_by(Opportunity.id.desc()).limit(limit))]


def default_department(member: Membership) -> int | None:
    """For a new claim: the department of the member's last claim that named one, else the
    department of their employee record in payroll."""
    last = db.session.scalar(
        select(ExpenseClaim.department_id)
        .where(ExpenseClaim.claimant_id == member.id, ExpenseClaim.department_id.is_not(None))
        .order_by(ExpenseClaim.id.desc()).limit(1)
    )  # fmt: skip
    if last is not None:
        return int(last)
    from crm.payroll.models import Employee  # noqa: PLC0415 — payroll knows who works where

    found = db.session.scalar(select(Employee.department_id).where(Employee.member_id == member.id).limit(1))
    return int(found) if found is not None else None
