"""凭证导入: journal entries from a sheet of vouchers as Chinese accounting software exports them.

One row is one voucher line; rows that share a 凭证号 (and 凭证字, within one month — vouchers
are numbered per month) are one voucher. The dry run checks what the books' posting gate will
check — accounts that exist and take postings, one side per line, balanced vouchers, dates in
the books, in an open month and after the lock date (or the right to post before it) — and
names the rows. The commit goes through crm.books.services (create_entry + post_entry) voucher
by voucher, so the gate has the last word: a month closed between the dry run and the commit
refuses by its rule ("period_closed"), the voucher's rows are reported as rejected, and in
all-or-nothing mode nothing is posted. Undo reverses the posted entries; nothing is deleted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from crm.books import services as books
from crm.books.models import Account, Department, FiscalPeriod, JournalEntry
from crm.db import db
from crm.imports.models import ImportBatch, ImportChange
from crm.imports.values import fold
from crm.sales import rules
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from roles.checks import can
from tenants.models import Membership, Tenant

KIND = "journal_entries"
PERMISSION = "finance.access"
OBJECT_TYPE = "journal_entry"
SOURCE_TYPE = "import"
ZERO = Decimal("0.00")

_SEPARATORS = re.compile(r"\s*[—―\-－_/\\·:：]+\s*")
_CODE_AND_NAME = re.compile(r"^([0-9][0-9.\-]*)\s+(.+)$")
_VOUCHER = re.compile(r"^(\D*)0*(\d+)\D*$")


@dataclass
class Voucher:
    month: str  # YYYY-MM
    word: str  # 记, 收, 付, 转 … or ""
    number: str
    rows: list[int] = field(default_factory=list)  # indexes into Plan.rows

    @property
    def key(self) -> str:
        return f"{self.month}|{self.word}|{self.number}"

    @property
    def label(self) -> str:
        return f"{self.word}-{self.number}" if self.word else self.number


# ---------------------------------------------------------------- reading names and numbers


def _norm_name(text: str) -> str:
    """An account or party name as compared: ASCII widths, no spaces, any separator as "/"."""
    return _SEPARATORS.sub("/", fold(text)).replace(" ", "").lower().strip("/")


def _norm_code(text: str) -> str:
    return re.sub(r"[.\-\s]", "", fold(text))


def voucher_of(word: str | None, raw: str, month: str) -> Voucher:
    """记-5, 记字第5号, 记-0005 and a 凭证字 column 记 with 凭证号 5 are the same voucher."""
    text = fold(raw)
    m = _VOUCHER.match(text)
    if m:
        found_word, number = m.group(1), str(int(m.group(2)))
    else:
        found_word, number = "", text
    found_word = re.sub(r"[\s\-_字第号]", "", found_word)
    chosen = re.sub(r"[\s\-_字第号]", "", fold(word or "")) or found_word
    return Voucher(month=month, word=chosen, number=number)


@dataclass
class _Accounts:
    by_id: dict[int, Account]
    by_code: dict[str, int]
    by_loose_code: dict[str, int]
    by_path: dict[str, int]
    by_leaf: dict[str, list[int]]
    parents: set[int]
    top: dict[int, Account]

    @classmethod
    def load(cls) -> _Accounts:
        by_id = {a.id: a for a in db.session.scalars(select(Account))}
        by_code: dict[str, int] = {}
        by_loose: dict[str, int] = {}
        by_path: dict[str, int] = {}
        by_leaf: dict[str, list[int]] = {}
        top: dict[int, Account] = {}
        parents = {a.parent_id for a in by_id.values() if a.parent_id is not None and a.is_active}
        for a in by_id.values():
            by_code[a.code] = a.id
            by_loose.setdefault(_norm_code(a.code), a.id)
            chain = [a]
            while chain[-1].parent_id is not None and chain[-1].parent_id in by_id and len(chain) < 10:
                chain.append(by_id[chain[-1].parent_id])
            top[a.id] = chain[-1]
            for attr in ("name_zh", "name_en"):
                path = "/".join(_norm_name(getattr(x, attr)) for x in reversed(chain))
                by_path.setdefault(path, a.id)
                by_leaf.setdefault(_norm_name(getattr(a, attr)), []).append(a.id)
        return cls(by_id, by_code, by_loose, by_path, by_leaf, parents, top)

    def find(self, code: str | None, name: str | None) -> tuple[int | None, str | None]:
        """(account id, None) or (None, reason). By code; else by the full name (管理费用—差旅费);
        else by the leaf name when one account has it. "100201 银行存款—工行" carries both."""
        if not code and name:
            m = _CODE_AND_NAME.match(fold(name))
            if m:
                code, name = m.group(1), m.group(2)
        if code:
            aid = self.by_code.get(fold(code)) or self.by_loose_code.get(_norm_code(code))
            if aid is not None:
                return aid, None
            if not name:
                return None, _("No account with code %(code)s in the chart of accounts.", code=code)
        if name:
            key = _norm_name(name)
            aid = self.by_path.get(key)
            if aid is not None:
                return aid, None
            leaf = sorted(set(self.by_leaf.get(key.rsplit("/", 1)[-1], [])))
            if len(leaf) == 1:
                return leaf[0], None
            if len(leaf) > 1:
                codes = "、".join(self.by_id[i].code for i in leaf[:5])
                return None, _("%(name)s names several accounts (%(codes)s): give the code or the full name.",
                               name=name, codes=codes)  # fmt: skip
            if code:
                return None, _("No account with code %(code)s or name %(name)s in the chart of accounts.",
                               code=code, name=name)  # fmt: skip
            return None, _("No account named %(name)s in the chart of accounts.", name=name)
        return None, _("Give the account's code or name.")


def _parties() -> tuple[dict[str, int], dict[str, int]]:
    from crm.invoicing.models import Supplier

    customers: dict[str, int] = {}
    for cid, name, norm in db.session.execute(
        select(Customer.id, Customer.name, Customer.name_normalized).where(Customer.archived_at.is_(None))
    ):
        customers.setdefault(norm or rules.normalise_company_name(name), cid)
    suppliers: dict[str, int] = {}
    for sid, name in db.session.execute(select(Supplier.id, Supplier.name)):
        suppliers.setdefault(rules.normalise_company_name(name), sid)
    return customers, suppliers


# ---------------------------------------------------------------- the dry run


def plan_rows(actor: Membership, p: Any) -> None:
    """Decide row by row (and voucher by voucher) what the commit would post."""
    tenant = db.session.get(Tenant, actor.tenant_id)
    assert tenant is not None
    if not books.is_set_up(tenant):
        raise InvalidInput({"kind": _("Set up the books (Finance → Chart of accounts) before importing vouchers.")})
    accounts = _Accounts.load()
    customers, suppliers = _parties()
    departments = {_norm_name(n): i for i, n in db.session.execute(select(Department.id, Department.name))}
    start = books.books_start(tenant)
    locked = books.lock_date(tenant)
    may_post_locked = can(actor, "books.post_locked")
    closed = {
        f"{y:04d}-{m:02d}"
        for y, m in db.session.execute(
            select(FiscalPeriod.year, FiscalPeriod.month).where(FiscalPeriod.status == "closed")
        )
    }
    problem = _problem_adder(p)
    vouchers: dict[str, Voucher] = {}
    for i, r in enumerate(p.rows):
        v = r.values
        aid, reason = accounts.find(v.get("account_code"), v.get("account_name"))
        if reason:
            problem(r, "account_code" if v.get("account_code") else "account_name", reason)
        elif aid is not None:
            account = accounts.by_id[aid]
            if not account.is_active:
                problem(r, "account_code", _("Account %(label)s is no longer in use.", label=account.label()))
            elif aid in accounts.parents:
                problem(r, "account_code", _("Account %(label)s has sub-accounts; post to one of them.",
                                             label=account.label()))  # fmt: skip
            else:
                v["account_id"] = aid
        debit, credit = v.get("debit") or ZERO, v.get("credit") or ZERO
        if debit < 0 or credit < 0:
            problem(r, "debit" if debit < 0 else "credit",
                    _("Negative amounts (红字) are not imported: enter the amount on the other side."))  # fmt: skip
        elif debit and credit:
            problem(r, "credit", _("A line is either a debit or a credit, not both."))
        elif not debit and not credit:
            problem(r, "debit", _("Enter a debit or a credit."))
        elif max(debit, credit) > books.MAX_AMOUNT:
            problem(r, "debit" if debit else "credit", _("The amount is too large."))
        v["debit"], v["credit"] = debit, credit
        if v.get("party"):
            key = rules.normalise_company_name(v["party"])
            cid, sid = customers.get(key), suppliers.get(key)
            top_role = accounts.top[aid].role if aid is not None else None
            if cid and sid:
                cid, sid = (None, sid) if top_role in ("payable", "prepayment") else (cid, None)
            if cid:
                v["party_type"], v["party_id"] = "customer", cid
            elif sid:
                v["party_type"], v["party_id"] = "supplier", sid
            else:
                problem(r, "party", _("No customer or supplier named %(name)s. Add it first.", name=v["party"]))
        if v.get("department"):
            did = departments.get(_norm_name(v["department"]))
            if did is None:
                problem(r, "department", _("No department named %(name)s. Add it first.", name=v["department"]))
            else:
                v["department_id"] = did
        when: date | None = v.get("date")
        if when is None or not v.get("voucher"):
            continue
        voucher = voucher_of(v.get("voucher_word"), v["voucher"], when.strftime("%Y-%m"))
        vouchers.setdefault(voucher.key, voucher).rows.append(i)
    already = _imported_before([x.key for x in vouchers.values()])
    for voucher in vouchers.values():
        rows = [p.rows[i] for i in voucher.rows]
        first = rows[0]
        label = voucher.label
        if voucher.key in already:
            for r in rows:
                r.action = "duplicate"
                r.problems.append({"row": r.number, "column": p.column_of("voucher"),
                                   "reason": _("Voucher %(voucher)s of %(month)s was imported already (%(number)s).",
                                               voucher=label, month=voucher.month,
                                               number=already[voucher.key])})  # fmt: skip
            continue
        dates = {r.values["date"] for r in rows}
        if len(dates) > 1:
            for r in rows[1:]:
                if r.values["date"] != first.values["date"]:
                    problem(r, "date", _("Voucher %(voucher)s is dated %(date)s on row %(row)d; its lines share one "
                                         "date.", voucher=label, date=first.values["date"].isoformat(),
                                         row=first.number))  # fmt: skip
        if len(rows) < 2:
            problem(first, "voucher", _("Voucher %(voucher)s has one line; a voucher needs at least two.",
                                        voucher=label))  # fmt: skip
        debit = sum((r.values["debit"] for r in rows), ZERO)
        credit = sum((r.values["credit"] for r in rows), ZERO)
        if debit != credit:
            reason = _("Voucher %(voucher)s does not balance: debits %(debit)s, credits %(credit)s, difference "
                       "%(diff)s.", voucher=label, debit=f"{debit:,.2f}", credit=f"{credit:,.2f}",
                       diff=f"{debit - credit:,.2f}")  # fmt: skip
            for r in rows:
                problem(r, "debit", reason, rule="unbalanced")
        when = first.values["date"]
        date_reason, rule = _date_refusal(when, start, closed, locked, may_post_locked)
        if date_reason:
            for r in rows:
                problem(r, "date", date_reason, rule=rule)
        bad = [r for r in rows if r.problems]
        if bad:
            for r in rows:
                if not r.problems:
                    problem(r, "voucher", _("Voucher %(voucher)s is left out: row %(row)d has a problem.",
                                            voucher=label, row=bad[0].number))  # fmt: skip
    p.extra["vouchers"] = list(vouchers.values())


def _date_refusal(
    when: date, start: date | None, closed: set[str], locked: date | None, may_post_locked: bool
) -> tuple[str | None, str | None]:
    """The reason the books would refuse a posting on ``when`` (the same rules as
    crm.books.services.check_postable, read without taking its locks), and the rule's name."""
    month = when.strftime("%Y-%m")
    if start is not None and when < start:
        return _("The books start in %(month)s; nothing can be posted before.", month=start.strftime("%Y-%m")), (
            "before_books_start"
        )
    if month in closed:
        return _("%(month)s is closed; nothing can be posted into it.", month=month), "period_closed"
    if locked is not None and when <= locked and not may_post_locked:
        return _("The books are locked up to %(date)s; only finance managers may post there.",
                 date=locked.isoformat()), "lock_date"  # fmt: skip
    return None, None


def _imported_before(keys: list[str]) -> dict[str, str]:
    """Voucher key → the entry number, for vouchers a committed (not undone) import posted."""
    if not keys:
        return {}
    wanted = set(keys)
    out: dict[str, str] = {}
    rows = db.session.execute(
        select(ImportChange.before, JournalEntry.number)
        .join(ImportBatch, ImportBatch.id == ImportChange.batch_id)
        .join(JournalEntry, JournalEntry.id == ImportChange.object_id)
        .where(
            ImportBatch.kind == KIND,
            ImportBatch.status == "committed",
            ImportChange.object_type == OBJECT_TYPE,
            JournalEntry.reversed_by_id.is_(None),
        )
    )
    for before, number in rows:
        key = (before or {}).get("voucher")
        if key in wanted:
            out[key] = number or ""
    return out


def _problem_adder(p: Any) -> Callable[..., None]:
    def add(r: Any, fkey: str, reason: str, rule: str | None = None) -> None:
        item = {"row": r.number, "column": p.column_of(fkey), "reason": reason}
        if rule:
            item["rule"] = rule
        r.problems.append(item)

    return add


# ---------------------------------------------------------------- the commit


def commit_vouchers(
    tenant: Tenant, actor: Membership, batch: ImportBatch, p: Any, progress: Callable[[int, str], None]
) -> list[dict[str, Any]]:
    """Post each good voucher through the books' services, each in a savepoint. A voucher the
    books refuse marks its rows rejected with the rule's reason; in mode "all" one refusal takes
    back every voucher posted before it (InvalidInput, nothing written)."""
    vouchers = [v for v in p.extra.get("vouchers", []) if all(p.rows[i].action == "new" for i in v.rows)]
    problem = _problem_adder(p)
    changes: list[dict[str, Any]] = []
    refused = 0
    outer = db.session.begin_nested()
    for n, v in enumerate(vouchers, start=1):
        rows = [p.rows[i] for i in v.rows]
        first = rows[0]
        memo = next((r.values["memo"] for r in rows if r.values.get("memo")), "") or _(
            "Imported voucher %(voucher)s", voucher=v.label
        )
        lines = [
            books.LineInput(r.values["account_id"], r.values["debit"], r.values["credit"], r.values.get("party_type"),
                            r.values.get("party_id"), r.values.get("department_id"), r.values.get("memo"))
            for r in rows
        ]  # fmt: skip
        savepoint = db.session.begin_nested()
        try:
            entry = books.create_entry(tenant, actor, books.EntryInput(first.values["date"], memo, lines),
                                       kind="document", source=(SOURCE_TYPE, batch.id))  # fmt: skip
            books.post_entry(tenant, actor, entry)
            savepoint.commit()
        except InvalidInput as err:
            savepoint.rollback()
            refused += 1
            rule = getattr(err, "rule", None)
            reason = "; ".join(str(x) for x in err.errors.values())
            for r in rows:
                problem(r, "date" if rule in ("period_closed", "lock_date", "before_books_start") else "voucher",
                        reason, rule=rule)  # fmt: skip
                r.action = "invalid"
            continue
        changes.append({"tenant_id": tenant.id, "batch_id": batch.id, "row_number": first.number,
                        "object_type": OBJECT_TYPE, "object_id": entry.id, "action": "created",
                        "before": {"voucher": v.key}})  # fmt: skip
        progress(10 + int(80 * n / max(1, len(vouchers))), _("Posting vouchers"))
    if refused and batch.mode == "all":
        outer.rollback()
        raise InvalidInput({"mode": _("The books refused %(n)d vouchers; nothing was imported.", n=refused)})
    outer.commit()
    return changes


# ---------------------------------------------------------------- undo


def undo_entries(tenant: Tenant, actor: Membership, batch: ImportBatch) -> dict[str, int]:
    """Reverse every entry the import posted (dated today, or the entry's date if later). An
    entry reversed meanwhile by hand is left as it is."""
    ids = list(
        db.session.scalars(
            select(ImportChange.object_id).where(
                ImportChange.batch_id == batch.id, ImportChange.object_type == OBJECT_TYPE
            )
        )
    )
    entries = list(db.session.scalars(select(JournalEntry).where(JournalEntry.id.in_(ids)).order_by(JournalEntry.id)))
    today = books.today_in(tenant)
    result = {"reversed": 0, "kept": 0}
    for entry in entries:
        if entry.status != "posted" or entry.reversed_by_id is not None:
            result["kept"] += 1
            continue
        books.reverse_entry(tenant, actor, entry, max(today, entry.entry_date),
                            _("Undo of import %(file)s: reversal of %(number)s", file=batch.filename,
                              number=entry.number))  # fmt: skip
        result["reversed"] += 1
    return result
