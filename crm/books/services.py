"""The books' rules, callable without a request: the chart of accounts, the posting gate every
path goes through, posting and reversing journal entries.

Every posting — a typed entry, an invoice, a receipt, a settlement, a job, an import — ends in
``post_entry``, which checks, in this order: the entry is a draft; each line is valid; debits
equal credits to the fen; the date is in the books (not before their start); its month is not
closed; it is not on or before the lock date unless the actor may post there. So "nothing posts
into a closed period" holds by construction, whatever the path.

Services take (tenant, actor, …), flush and audit; the caller commits.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import BigInteger, func, select, text, type_coerce

from crm.audit.services import record
from crm.books.errors import RuleViolation
from crm.books.models import PARTY_TYPES, Account, Department, FiscalPeriod, JournalEntry, JournalLine
from crm.db import Money, db, to_money, utcnow
from crm.numbering import next_seq
from crm.sales.services import InvalidInput
from roles.checks import can
from tenants.models import Membership, Tenant

ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("999999999999.99")
REFERENCE_CHART = Path(__file__).with_name("chart_of_accounts_cn.csv")

# Sub-accounts every workspace gets, under the first-level code of its standard, and the role
# by which the services find the accounts they post to. (parent role, suffix, zh, en, role)
ROLE_CODES = {  # role → (CAS code, small-enterprise code) of a first-level account
    "cash": ("1001", "1001"),
    "bank": ("1002", "1002"),
    "receivable": ("1122", "1122"),
    "prepayment": ("1123", "1123"),
    "other_receivable": ("1221", "1221"),
    "payable": ("2202", "2202"),
    "customer_advance": ("2203", "2203"),
    "payroll_payable": ("2211", "2211"),
    "taxes_payable": ("2221", "2221"),
    "other_payable": ("2241", "2241"),
    "current_profit": ("4103", "3103"),
    "profit_distribution": ("4104", "3104"),
    "revenue": ("6001", "5001"),
    "non_operating_income": ("6301", "5301"),
    "selling_expense": ("6601", "5601"),
    "admin_expense": ("6602", "5602"),
    "financial_expense": ("6603", "5603"),
    "non_operating_expense": ("6711", "5711"),
}
SUB_ACCOUNTS = (
    ("taxes_payable", "01", "应交增值税(销项税额)", "VAT payable (output tax)", "vat_output"),
    ("taxes_payable", "02", "应交增值税(进项税额)", "VAT payable (input tax)", "vat_input"),
    ("taxes_payable", "03", "未交增值税", "Unpaid VAT", "vat_unpaid"),
    ("taxes_payable", "04", "应交个人所得税", "Individual income tax payable", "iit_payable"),
    ("payroll_payable", "01", "工资", "Wages", "wages_payable"),
    ("payroll_payable", "02", "社会保险费", "Social insurance", "social_insurance_payable"),
    ("payroll_payable", "03", "住房公积金", "Housing fund", "housing_fund_payable"),
    ("profit_distribution", "01", "未分配利润", "Undistributed profit", "undistributed_profit"),
)
CASH_ROLES = ("cash", "bank")


# --- the chart -------------------------------------------------------------------------------


def books_settings(tenant: Tenant) -> dict[str, Any]:
    return dict((tenant.settings or {}).get("books") or {})


def standard_of(tenant: Tenant) -> str:
    return str(books_settings(tenant).get("standard") or "small")


def is_set_up(tenant: Tenant) -> bool:
    return db.session.scalar(select(Account.id).limit(1)) is not None


def _reference_rows() -> list[dict[str, str]]:
    with REFERENCE_CHART.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _first_level_name(row: dict[str, str], standard: str) -> str:
    # "应付股利 / 应付利润 (small enterprise)": the CAS name, then the small-enterprise one.
    name = row["name_zh"]
    if " / " in name:
        cas, small = name.split(" / ", 1)
        return small.replace("(small enterprise)", "").strip() if standard == "small" else cas.strip()
    return name


def _first_level_name_en(row: dict[str, str], standard: str) -> str:
    # "Dividends / profits payable" → "Dividends payable" (CAS) or "Profits payable" (small).
    name = row["name_en"]
    if " / " not in name:
        return name
    first, second = (part.strip() for part in name.split(" / ", 1))
    if standard == "small":
        return second[:1].upper() + second[1:]
    tail = second.split(" ", 1)[1] if " " in second else ""
    return f"{first} {tail}".strip()


def set_up_books(tenant: Tenant, actor: Membership | None, standard: str = "small", start: date | None = None) -> None:
    """Seed the chart from the chosen standard (once) and record the books' start month."""
    if standard not in ("small", "cas"):
        raise InvalidInput({"standard": _("Choose one of the two accounting standards.")})
    if is_set_up(tenant):
        raise RuleViolation(
            "already_set_up", {"standard": _("The books are already set up; the standard cannot change.")}
        )
    by_role: dict[str, Account] = {}
    code_col = "small_enterprise_code" if standard == "small" else "cas_code"
    role_of_code = {codes[0 if standard == "cas" else 1]: role for role, codes in ROLE_CODES.items()}
    for row in _reference_rows():
        code = (row.get(code_col) or "").strip()
        if not code:
            continue
        role = role_of_code.get(code)
        account = Account(
            code=code, name_zh=_first_level_name(row, standard), name_en=_first_level_name_en(row, standard),
            type=row["type"], normal_balance=row["normal_balance"], role=role, is_cash=role in CASH_ROLES,
        )  # fmt: skip
        db.session.add(account)
        if role:
            by_role[role] = account
    db.session.flush()
    for parent_role, suffix, zh, en, role in SUB_ACCOUNTS:
        parent = by_role[parent_role]
        db.session.add(
            Account(
                code=parent.code + suffix,
                name_zh=zh,
                name_en=en,
                type=parent.type,
                normal_balance=parent.normal_balance,
                parent_id=parent.id,
                role=role,
            )  # fmt: skip
        )
    settings = dict(tenant.settings or {})
    books = dict(settings.get("books") or {})
    books["standard"] = standard
    books["start"] = (start or today_in(tenant)).replace(day=1).isoformat()
    settings["books"] = books
    tenant.settings = settings
    db.session.flush()
    record(
        "books.set_up", tenant, actor=actor, object_type="Tenant", summary=standard,
        changes={"standard": [None, standard]},
    )  # fmt: skip


def ensure_books(tenant: Tenant, actor: Membership | None = None) -> None:
    """Services that post call this: a workspace that never chose gets the default standard."""
    if not is_set_up(tenant):
        set_up_books(tenant, actor, standard_of(tenant))


BOOKS_LOCALE = "zh_Hans_CN"


def memo(text: Any) -> str:
    """A memo the system writes into the books, in Chinese whoever posts it: 会计记录的文字应当使用
    中文 (Accounting Law art. 22), and a ledger whose receipts read "Receipt SK-…" and invoices
    "应收单 AR-…" by who happened to click is not one an auditor reads. Pass a lazy string."""
    with force_locale(BOOKS_LOCALE):
        return str(text)


def account_for(role: str) -> Account:
    account = db.session.scalars(select(Account).where(Account.role == role)).one_or_none()
    if account is None:
        raise RuleViolation("missing_account", {"account": _("The books have no account for “%(role)s”.", role=role)})
    return account


def has_children(account_ids: Iterable[int]) -> set[int]:
    ids = list(set(account_ids))
    if not ids:
        return set()
    stmt = select(Account.parent_id).where(Account.parent_id.in_(ids), Account.is_active.is_(True)).distinct()
    return {pid for pid in db.session.scalars(stmt) if pid is not None}


# --- dates, periods, the lock ----------------------------------------------------------------


def today_in(tenant: Tenant) -> date:
    try:
        tz = ZoneInfo(tenant.timezone or "Asia/Shanghai")
    except Exception:  # an unknown zone name in old data: fall back to China's
        tz = ZoneInfo("Asia/Shanghai")
    return datetime.now(tz).date()


def books_start(tenant: Tenant) -> date | None:
    raw = books_settings(tenant).get("start")
    return date.fromisoformat(raw) if raw else None


def lock_date(tenant: Tenant) -> date | None:
    raw = books_settings(tenant).get("lock_date")
    return date.fromisoformat(raw) if raw else None


def period_row(year: int, month: int, *, for_update: bool = False) -> FiscalPeriod | None:
    stmt = select(FiscalPeriod).where(FiscalPeriod.year == year, FiscalPeriod.month == month)
    if for_update:
        stmt = stmt.with_for_update()
    return db.session.scalars(stmt).one_or_none()


def period_lock(tenant: Tenant, year: int, month: int, *, exclusive: bool = False) -> None:
    """A transaction-scoped advisory lock on (workspace, month): postings share it, the period
    close holds it alone. A no-op on SQLite, which lets one writer in at a time anyway."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    db.session.execute(text(f"SELECT {fn}(:t, :m)"), {"t": tenant.id, "m": year * 100 + month})


def is_closed(d: date) -> bool:
    row = period_row(d.year, d.month)
    return row is not None and row.status == "closed"


def check_postable(tenant: Tenant, actor: Membership | None, d: date) -> None:
    """Refuse a posting dated d: before the books, into a closed month, or on/before the lock
    date for someone without ``books.post_locked``. Every posting path calls this."""
    start = books_start(tenant)
    if start is not None and d < start:
        raise RuleViolation(
            "before_books_start",
            {"date": _("The books start in %(month)s; nothing can be posted before.", month=start.strftime("%Y-%m"))},
        )
    # A shared lock on the month (PostgreSQL): a close of the month, which takes it exclusively,
    # waits for this posting to commit, or this posting waits for the close and then sees the
    # month closed. FOR UPDATE on the period row as well, for a row that exists already.
    period_lock(tenant, d.year, d.month)
    row = period_row(d.year, d.month, for_update=True)
    if row is not None and row.status == "closed":
        raise RuleViolation(
            "period_closed", {"date": _("%(month)s is closed; nothing can be posted into it.", month=row.key)}
        )
    locked = lock_date(tenant)
    if locked is not None and d <= locked and not can(actor, "books.post_locked"):
        raise RuleViolation(
            "lock_date",
            {"date": _("The books are locked up to %(date)s; only finance managers may post there.",
                       date=locked.isoformat())},
        )  # fmt: skip


# --- entries ---------------------------------------------------------------------------------


@dataclass
class LineInput:
    account_id: int | None
    debit: Decimal | str | int | None = None
    credit: Decimal | str | int | None = None
    party_type: str | None = None
    party_id: int | None = None
    department_id: int | None = None
    memo: str | None = None


@dataclass
class EntryInput:
    entry_date: date | None
    memo: str = ""
    lines: list[LineInput] = field(default_factory=list)


def parse_amount(raw: Any, *, zero_ok: bool = False) -> Decimal | None:
    """An amount of at most two decimals up to MAX_AMOUNT — positive, or also zero (and blank as
    zero) when ``zero_ok`` — as money; None when it is not one. Thousands separators are allowed."""
    if raw is None or raw == "":
        return ZERO if zero_ok else None
    if isinstance(raw, float):
        raw = repr(raw)
    try:
        value = Decimal(str(raw).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT or value != value.quantize(Decimal("0.01")):
        return None
    if value == 0 and not zero_ok:
        return None
    return to_money(value)


def _amount(raw: Any) -> Decimal | None:
    return parse_amount(raw, zero_ok=True)


def _party_exists(party_type: str, party_id: int) -> bool:
    from crm.sales.models import Customer  # noqa: PLC0415 — parties live in contexts above the books

    if party_type == "customer":
        return _in_tenant(Customer, party_id)
    if party_type == "supplier":
        from crm.invoicing.models import Supplier  # noqa: PLC0415

        return _in_tenant(Supplier, party_id)
    # Employees: a member of this workspace until payroll brings its own employee records.
    return _in_tenant(Membership, party_id)


def _in_tenant(model: Any, obj_id: int) -> bool:
    return db.session.scalar(select(model.id).where(model.id == obj_id)) is not None


def _clean_lines(raw: Sequence[LineInput]) -> list[JournalLine]:
    errors: dict[str, str] = {}
    ids = {x.account_id for x in raw if x.account_id}
    accounts = {a.id: a for a in db.session.scalars(select(Account).where(Account.id.in_(ids)))} if ids else {}
    parents = has_children(accounts)
    dept_ids = {x.department_id for x in raw if x.department_id}
    depts = set(db.session.scalars(select(Department.id).where(Department.id.in_(dept_ids)))) if dept_ids else set()
    lines: list[JournalLine] = []
    for i, x in enumerate(raw):
        key = f"lines.{i}"
        account = accounts.get(x.account_id or 0)
        if account is None:
            errors[f"{key}.account"] = _("Choose an account.")
        elif not account.is_active:
            errors[f"{key}.account"] = _("This account is no longer in use.")
        elif account.id in parents:
            errors[f"{key}.account"] = _("This account has sub-accounts; post to one of them.")
        debit, credit = _amount(x.debit), _amount(x.credit)
        if debit is None:
            errors[f"{key}.debit"] = _("Enter an amount of at most two decimals, zero or more.")
        if credit is None:
            errors[f"{key}.credit"] = _("Enter an amount of at most two decimals, zero or more.")
        if debit is not None and credit is not None:
            if debit and credit:
                errors[f"{key}.credit"] = _("A line is either a debit or a credit, not both.")
            elif not debit and not credit:
                errors[f"{key}.debit"] = _("Enter a debit or a credit.")
        if (x.party_type or x.party_id) and (
            x.party_type not in PARTY_TYPES or not x.party_id or not _party_exists(x.party_type, x.party_id)
        ):
            errors[f"{key}.party"] = _("Choose a customer, supplier or employee of this workspace.")
        if x.department_id and x.department_id not in depts:
            errors[f"{key}.department"] = _("Choose a department of this workspace.")
        memo = (x.memo or "").strip()[:255] or None
        lines.append(
            JournalLine(
                position=i,
                account_id=x.account_id,
                debit=debit or ZERO,
                credit=credit or ZERO,
                party_type=x.party_type or None,
                party_id=x.party_id or None,
                department_id=x.department_id or None,
                memo=memo,
            )  # fmt: skip
        )
    if len(raw) < 2:
        errors["lines"] = _("An entry needs at least two lines.")
    if errors:
        raise InvalidInput(errors)
    return lines


def _check_balanced(lines: Sequence[JournalLine]) -> Decimal:
    debit = sum((x.debit for x in lines), ZERO)
    credit = sum((x.credit for x in lines), ZERO)
    if debit != credit:
        raise RuleViolation(
            "unbalanced",
            {"lines": _("Debits (%(debit)s) and credits (%(credit)s) differ by %(diff)s.",
                        debit=f"{debit:,.2f}", credit=f"{credit:,.2f}", diff=f"{abs(debit - credit):,.2f}")},
        )  # fmt: skip
    if debit == ZERO:
        raise RuleViolation("unbalanced", {"lines": _("An entry must move some money.")})
    return debit


def _set_lines(entry: JournalEntry, lines: list[JournalLine]) -> None:
    entry.lines.clear()
    db.session.flush()
    for line in lines:
        line.entry_date = entry.entry_date
        line.posted = False
        entry.lines.append(line)
    entry.total = sum((x.debit for x in lines), ZERO)


def create_entry(
    tenant: Tenant,
    actor: Membership | None,
    data: EntryInput,
    *,
    kind: str = "manual",
    source: tuple[str, int] | None = None,
) -> JournalEntry:
    """A draft entry. Drafts may be unbalanced (period close refuses while any is)."""
    ensure_books(tenant, actor)
    if data.entry_date is None:
        raise InvalidInput({"entry_date": _("Enter the entry's date.")})
    lines = _clean_lines(data.lines)
    entry = JournalEntry(
        entry_date=data.entry_date, memo=(data.memo or "").strip()[:255], kind=kind, status="draft",
        created_by_id=actor.id if actor else None,
        source_type=source[0] if source else None, source_id=source[1] if source else None,
    )  # fmt: skip
    db.session.add(entry)
    _set_lines(entry, lines)
    db.session.flush()
    if kind == "manual":
        record("journal_entry.create", entry, actor=actor, summary=entry.memo)
    return entry


def update_draft(tenant: Tenant, actor: Membership | None, entry: JournalEntry, data: EntryInput) -> JournalEntry:
    if entry.status != "draft":
        raise RuleViolation("posted_is_final", {"entry": _("A posted entry is never edited; reverse it instead.")})
    if data.entry_date is None:
        raise InvalidInput({"entry_date": _("Enter the entry's date.")})
    lines = _clean_lines(data.lines)
    entry.entry_date = data.entry_date
    entry.memo = (data.memo or "").strip()[:255]
    _set_lines(entry, lines)
    db.session.flush()
    record("journal_entry.update", entry, actor=actor, summary=entry.memo)
    return entry


def delete_draft(actor: Membership | None, entry: JournalEntry) -> None:
    if entry.status != "draft":
        raise RuleViolation("posted_is_final", {"entry": _("A posted entry is never deleted; reverse it instead.")})
    record("journal_entry.delete", entry, actor=actor, summary=entry.memo)
    db.session.delete(entry)
    db.session.flush()


def _number(entry: JournalEntry) -> str:
    # 记-2026-03-0001: one sequence per month (NumberSequence kind "je-03", year 2026).
    d = entry.entry_date
    seq = next_seq(f"je-{d.month:02d}", d.year)
    return f"记-{d.year:04d}-{d.month:02d}-{seq:04d}"


def post_entry(tenant: Tenant, actor: Membership | None, entry: JournalEntry) -> JournalEntry:
    if entry.status != "draft":
        raise RuleViolation("already_posted", {"entry": _("This entry is already posted.")})
    if not entry.lines:
        raise RuleViolation("unbalanced", {"lines": _("An entry needs at least two lines.")})
    # Re-check the lines as they are now: an account may have been deactivated or split since.
    _clean_lines([LineInput(x.account_id, x.debit, x.credit, x.party_type, x.party_id, x.department_id, x.memo)
                  for x in entry.lines])  # fmt: skip
    entry.total = _check_balanced(entry.lines)
    check_postable(tenant, actor, entry.entry_date)
    entry.number = _number(entry)
    entry.status = "posted"
    entry.posted_at = utcnow()
    entry.posted_by_id = actor.id if actor else None
    for line in entry.lines:
        line.entry_date = entry.entry_date
        line.posted = True
    db.session.flush()
    record("journal_entry.post", entry, actor=actor, summary=f"{entry.number} {entry.memo}")
    return entry


def post_lines(
    tenant: Tenant,
    actor: Membership | None,
    entry_date: date,
    memo: str,
    lines: list[LineInput],
    *,
    source: tuple[str, int] | None = None,
    kind: str = "document",
) -> JournalEntry:
    """Create and post in one step: what documents and settlements use. Lines with a zero
    amount are dropped (a 0 % VAT line has no tax line)."""
    kept = [x for x in lines if (_amount(x.debit) or ZERO) or (_amount(x.credit) or ZERO)]
    entry = create_entry(tenant, actor, EntryInput(entry_date, memo, kept), kind=kind, source=source)
    return post_entry(tenant, actor, entry)


def reverse_entry(
    tenant: Tenant,
    actor: Membership | None,
    entry: JournalEntry,
    reversal_date: date | None = None,
    memo: str | None = None,
) -> JournalEntry:
    """Post the mirror image of a posted entry and link the two. The original stays."""
    if entry.status != "posted":
        raise RuleViolation("not_posted", {"entry": _("Only a posted entry can be reversed; delete a draft instead.")})
    if entry.reversed_by_id is not None or entry.reverses_id is not None:
        raise RuleViolation("already_reversed", {"entry": _("This entry is already reversed or is itself a reversal.")})
    when = reversal_date or today_in(tenant)
    if when < entry.entry_date:
        raise InvalidInput({"date": _("A reversal cannot be dated before the entry it reverses.")})
    mirror = [
        LineInput(x.account_id, x.credit, x.debit, x.party_type, x.party_id, x.department_id, x.memo)
        for x in entry.lines
    ]
    text = memo or _("Reversal of %(number)s", number=entry.number)
    source = (entry.source_type, entry.source_id) if entry.source_type and entry.source_id else None
    rev = create_entry(tenant, actor, EntryInput(when, text, mirror), kind="reversal", source=source)
    rev.reverses_id = entry.id
    post_entry(tenant, actor, rev)
    entry.reversed_by_id = rev.id
    db.session.flush()
    record("journal_entry.reverse", entry, actor=actor, summary=f"{entry.number} → {rev.number}")
    return rev


def set_lock_date(tenant: Tenant, actor: Membership, value: date | None) -> None:
    if not can(actor, "books.post_locked"):
        from roles.checks import PermissionDenied  # noqa: PLC0415

        raise PermissionDenied("books.post_locked")
    settings = dict(tenant.settings or {})
    books = dict(settings.get("books") or {})
    before = books.get("lock_date")
    books["lock_date"] = value.isoformat() if value else None
    settings["books"] = books
    tenant.settings = settings
    db.session.flush()
    changes = {"lock_date": [before, books["lock_date"]]}
    record("books.lock_date", tenant, actor=actor, object_type="Tenant", changes=changes)


def account_balance(account_id: int, until: date | None = None, party: tuple[str, int] | None = None) -> Decimal:
    """Debit − credit of posted lines on an account (optionally one party's), up to a date."""
    fen = func.coalesce(func.sum(type_coerce(JournalLine.debit, BigInteger)), 0) - func.coalesce(
        func.sum(type_coerce(JournalLine.credit, BigInteger)), 0
    )
    stmt = select(type_coerce(fen, Money())).where(JournalLine.account_id == account_id, JournalLine.posted.is_(True))
    if until is not None:
        stmt = stmt.where(JournalLine.entry_date <= until)
    if party is not None:
        stmt = stmt.where(JournalLine.party_type == party[0], JournalLine.party_id == party[1])
    return db.session.scalar(stmt) or ZERO


# --- keeping the chart and the departments (the pages and the API call these) ------------------


def add_sub_account(
    tenant: Tenant, actor: Membership | None, parent: Account, code: str, name_zh: str, name_en: str = ""
) -> Account:
    """A sub-account under any account: its code extends the parent's, it inherits type and
    normal balance. A parent getting its first child must have no posted lines of its own."""
    ensure_books(tenant, actor)
    code, name_zh, name_en = (code or "").strip(), (name_zh or "").strip(), (name_en or "").strip()
    errors: dict[str, str] = {}
    if not code or not code.isdigit() or len(code) > 20:
        errors["code"] = _("Enter a code of digits only, at most 20.")
    elif not code.startswith(parent.code) or code == parent.code:
        errors["code"] = _("A sub-account's code starts with its parent's code (%(code)s) and is longer.",
                           code=parent.code)  # fmt: skip
    elif db.session.scalar(select(Account.id).where(Account.code == code)) is not None:
        errors["code"] = _("Another account already has this code.")
    if not name_zh or len(name_zh) > 100:
        errors["name_zh"] = _("Enter a name of at most 100 characters.")
    if len(name_en) > 100:
        errors["name_en"] = _("Enter a name of at most 100 characters.")
    if not parent.is_active:
        errors["parent"] = _("This account is no longer in use.")
    if errors:
        raise InvalidInput(errors)
    has_kids = db.session.scalar(select(Account.id).where(Account.parent_id == parent.id).limit(1)) is not None
    if not has_kids:
        posted = db.session.scalar(select(JournalLine.id).where(JournalLine.account_id == parent.id).limit(1))
        if posted is not None:
            raise RuleViolation(
                "parent_has_lines",
                {"parent": _("%(account)s already has journal lines of its own; it cannot get sub-accounts.",
                             account=parent.code)},
            )  # fmt: skip
    account = Account(
        code=code, name_zh=name_zh, name_en=name_en or name_zh, type=parent.type,
        normal_balance=parent.normal_balance, parent_id=parent.id, is_cash=parent.is_cash,
    )  # fmt: skip
    db.session.add(account)
    db.session.flush()
    record("account.create", account, actor=actor, object_type="Account", summary=f"{code} {name_zh}")
    return account


def ensure_sub_account(
    tenant: Tenant, actor: Membership | None, parent_role: str, role: str, name_zh: str, name_en: str
) -> Account:
    """The leaf account a feature posts to under a first-level account (expense claims under
    管理费用, payroll under 应付职工薪酬 …), found by its role and made on first use with the
    next free two-digit code. Features never post to the first-level account itself, so other
    features can still add their sub-accounts beside theirs. A parent that already has journal
    lines of its own (posted by hand before any sub-account existed) is used as it is."""
    ensure_books(tenant, actor)
    found = db.session.scalars(select(Account).where(Account.role == role)).one_or_none()
    if found is not None:
        return found
    parent = account_for(parent_role)
    codes = set(db.session.scalars(select(Account.code).where(Account.parent_id == parent.id)))
    suffix = next(f"{n:02d}" for n in range(1, 100) if parent.code + f"{n:02d}" not in codes)
    try:
        account = add_sub_account(tenant, actor, parent, parent.code + suffix, name_zh, name_en)
    except RuleViolation as refused:
        if refused.rule != "parent_has_lines":
            raise
        return parent
    account.role = role
    db.session.flush()
    return account


def rename_account(actor: Membership | None, account: Account, name_zh: str, name_en: str) -> Account:
    name_zh, name_en = (name_zh or "").strip(), (name_en or "").strip()
    errors = {}
    if not name_zh or len(name_zh) > 100:
        errors["name_zh"] = _("Enter a name of at most 100 characters.")
    if not name_en or len(name_en) > 100:
        errors["name_en"] = _("Enter a name of at most 100 characters.")
    if errors:
        raise InvalidInput(errors)
    changes = {"name_zh": [account.name_zh, name_zh], "name_en": [account.name_en, name_en]}
    account.name_zh, account.name_en = name_zh, name_en
    db.session.flush()
    record("account.rename", account, actor=actor, object_type="Account", summary=account.code, changes=changes)
    return account


def set_account_active(actor: Membership | None, account: Account, active: bool) -> Account:
    """Deactivate (refused while it has a balance or active sub-accounts) or re-activate."""
    if account.is_active == active:
        return account
    if not active:
        if account_balance(account.id) != ZERO:
            raise RuleViolation("has_balance", {"account": _("The account still has a balance; it stays in use.")})
        if has_children([account.id]):
            raise RuleViolation("has_children", {"account": _("Deactivate its sub-accounts first.")})
    elif account.parent is not None and not account.parent.is_active:
        raise RuleViolation("parent_inactive", {"account": _("Re-activate its parent account first.")})
    account.is_active = active
    db.session.flush()
    record("account.activate" if active else "account.deactivate", account, actor=actor, object_type="Account",
           summary=account.code)  # fmt: skip
    return account


def save_department(
    actor: Membership | None, name: str, department: Department | None = None, active: bool | None = None
) -> Department:
    name = (name or "").strip() if name is not None else (department.name if department else "")
    if not name or len(name) > 60:
        raise InvalidInput({"name": _("Enter a name of at most 60 characters.")})
    clash = db.session.scalar(select(Department.id).where(Department.name == name))
    if clash is not None and (department is None or clash != department.id):
        raise InvalidInput({"name": _("Another department already has this name.")})
    if department is None:
        department = Department(name=name)
        db.session.add(department)
        action = "department.create"
    else:
        department.name = name
        action = "department.update"
    if active is not None:
        department.is_active = active
    db.session.flush()
    record(action, department, actor=actor, object_type="Department", summary=name)
    return department
