"""Trial balance (科目余额表), general ledger (总分类账/明细账) and the journal (序时账).

The trial balance is one grouped statement over journal_lines; the ledger and the journal stream
their lines from the database (tuples, yield_per) so an export of a million lines holds none.

The general ledger works in integer fen from the SQL to the last row: amounts are read as the
stored integers, the running balance is an integer sum, and ``Report.rows`` turns each money value
into Decimal yuan once, as it leaves. The xlsx writer reads ``FenReport.fen_rows`` instead and
converts each amount once, to the double the cell holds (crm.finreports.export).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, literal, select

from crm.books.models import JournalEntry, JournalLine
from crm.db import db
from crm.finreports.base import Column, Report, register
from crm.finreports.common import (
    ZERO,
    AccountInfo,
    descendants,
    direction_labels,
    fen,
    find_account,
    is_english,
    load_accounts,
    parse_range,
    sum_when,
)
from crm.invoicing.models import Supplier
from crm.sales.models import Customer
from tenants.models import Membership, Tenant, User

SECTION = "§section"
STREAM = {"yield_per": 2000, "stream_results": True}


def _stream(stmt: Any) -> Iterator[Any]:
    """Tuples of a statement, fetched 2,000 at a time; the cursor closes when the caller stops
    early (closes the generator) as well as at the end."""
    result = db.session.execute(stmt.execution_options(**STREAM))
    try:
        yield from result
    finally:
        result.close()


@dataclass
class FenReport(Report):
    """A report whose rows can also be read with money as integer fen.

    ``fen_rows()`` gives the same rows as ``rows`` except that every money value is an int (fen)
    or None; read one or the other, once. Writers that know the format (write_xlsx) take it and
    skip the Decimal round trip; everyone else reads ``rows`` as for any report."""

    fen_rows: Callable[[], Iterable[list[Any]]] | None = None


def yuan(amount_fen: int) -> Decimal:
    """Integer fen as Decimal yuan with two places, as the Money column reads it back."""
    return Decimal(amount_fen).scaleb(-2)


def _yuan_rows(rows: Iterable[list[Any]], money: tuple[int, ...]) -> Iterator[list[Any]]:
    for row in rows:
        for i in money:
            v = row[i]
            if v is not None:
                row[i] = yuan(v)
        yield row


def _split(balance: Decimal) -> tuple[Decimal, Decimal]:
    """A net balance (debit − credit) on its side: (debit, credit)."""
    return (balance, ZERO) if balance >= 0 else (ZERO, -balance)


# --- trial balance ---------------------------------------------------------------------------


def accounts_with_sums(
    start: Any, end: Any
) -> tuple[dict[int, AccountInfo], dict[int, tuple[Decimal, Decimal, Decimal, Decimal]]]:
    """Every account of the workspace and, for those with posted lines up to ``end``, (opening Dr,
    opening Cr, period Dr, period Cr): ONE statement, the accounts joined to the grouped sums."""
    from crm.books.models import Account  # noqa: PLC0415

    before = JournalLine.entry_date < start
    sums = (
        select(
            JournalLine.account_id.label("account_id"),
            sum_when(before, JournalLine.debit).label("od"),
            sum_when(before, JournalLine.credit).label("oc"),
            sum_when(~before, JournalLine.debit).label("pd"),
            sum_when(~before, JournalLine.credit).label("pc"),
        )
        .where(JournalLine.posted.is_(True), JournalLine.entry_date <= end)
        .group_by(JournalLine.account_id)
        .subquery("tb")
    )
    name = Account.name_en if is_english() else Account.name_zh
    stmt = select(
        Account.id, Account.code, name, Account.parent_id, Account.type, Account.normal_balance,
        sums.c.account_id, sums.c.od, sums.c.oc, sums.c.pd, sums.c.pc,
    ).outerjoin(sums, sums.c.account_id == Account.id)  # fmt: skip
    accounts: dict[int, AccountInfo] = {}
    out: dict[int, tuple[Decimal, Decimal, Decimal, Decimal]] = {}
    for aid, code, label, parent_id, typ, normal, with_lines, od, oc, pd, pc in db.session.execute(stmt):
        accounts[aid] = AccountInfo(aid, code, label, parent_id, typ, normal)
        if with_lines is not None:
            out[aid] = (od, oc, pd, pc)
    return accounts, out


@register("trial_balance")
def trial_balance(tenant: Tenant, actor: Membership, params: dict[str, Any]) -> Report:
    rng, echo = parse_range(tenant, params)
    accounts, sums = accounts_with_sums(rng.start, rng.end)
    # opening net, period Dr, period Cr per account, rolled up to every ancestor
    agg: dict[int, list[Decimal]] = {}
    for account_id, (od, oc, pd, pc) in sums.items():
        cur: AccountInfo | None = accounts.get(account_id)
        while cur is not None:
            acc = agg.setdefault(cur.id, [ZERO, ZERO, ZERO])
            acc[0] += od - oc
            acc[1] += pd
            acc[2] += pc
            cur = accounts.get(cur.parent_id) if cur.parent_id is not None else None
    children: dict[int | None, list[AccountInfo]] = {}
    for a in accounts.values():
        children.setdefault(a.parent_id if a.parent_id in accounts else None, []).append(a)
    for kids in children.values():
        kids.sort(key=lambda a: a.code)

    rows: list[list[Any]] = []
    totals = [ZERO] * 6

    def walk(a: AccountInfo, depth: int) -> None:
        opening, pd, pc = agg.get(a.id, (ZERO, ZERO, ZERO))
        closing = opening + pd - pc
        if not (opening or pd or pc or closing):
            return
        od_, oc_ = _split(opening)
        cd_, cc_ = _split(closing)
        values = [od_, oc_, pd, pc, cd_, cc_]
        rows.append([a.code, ("\u3000" * depth) + a.name, *values])
        if depth == 0:
            for i, v in enumerate(values):
                totals[i] += v
        for kid in children.get(a.id, []):
            walk(kid, depth + 1)

    for root in children.get(None, []):
        walk(root, 0)
    return Report(
        key="trial_balance",
        title=_l("Trial balance"),
        subtitle=rng.label,
        columns=[
            Column("code", _l("Code"), "text", 10),
            Column("name", _l("Account"), "text", 28),
            Column("opening_debit", _l("Opening debit"), "money"),
            Column("opening_credit", _l("Opening credit"), "money"),
            Column("period_debit", _l("Period debit"), "money"),
            Column("period_credit", _l("Period credit"), "money"),
            Column("closing_debit", _l("Closing debit"), "money"),
            Column("closing_credit", _l("Closing credit"), "money"),
        ],
        rows=rows,
        totals=[["", _("Total"), *totals]],
        params=echo,
        row_count=len(rows),
    )


# --- counterparty names ----------------------------------------------------------------------


def _with_parties(stmt: Any) -> Any:
    return (
        stmt.outerjoin(Customer, and_(JournalLine.party_type == "customer", Customer.id == JournalLine.party_id))
        .outerjoin(Supplier, and_(JournalLine.party_type == "supplier", Supplier.id == JournalLine.party_id))
        .outerjoin(Membership, and_(JournalLine.party_type == "employee", Membership.id == JournalLine.party_id))
        .outerjoin(User, User.id == Membership.user_id)
    )


PARTY_NAME = func.coalesce(Customer.name, Supplier.name, User.name, literal(""))


# --- general ledger --------------------------------------------------------------------------


GL_COLUMNS = [
    Column("date", _l("Date"), "date", 11),
    Column("number", _l("Entry"), "text", 16),
    Column("memo", _l("Memo"), "text", 30),
    Column("party", _l("Counterparty"), "text", 20),
    Column("debit", _l("Debit"), "money"),
    Column("credit", _l("Credit"), "money"),
    Column("direction", _l("Dr/Cr"), "text", 6),
    Column("balance", _l("Balance"), "money"),
]


@register("general_ledger")
def general_ledger(tenant: Tenant, actor: Membership, params: dict[str, Any]) -> Report:
    rng, echo = parse_range(tenant, params, allow_period=True)
    accounts = load_accounts()
    chosen = find_account(accounts, params.get("account"))
    ids: set[int] | None = None
    if chosen is not None:
        ids = descendants(accounts, chosen.id)
        echo["account"] = chosen.code
    in_range = and_(
        JournalLine.posted.is_(True), JournalLine.entry_date >= rng.start, JournalLine.entry_date <= rng.end
    )
    count_stmt = select(func.count(JournalLine.id), func.count(func.distinct(JournalLine.account_id))).where(in_range)
    # opening net (debit − credit) per account in fen: sum() of bigint is numeric, read back as int
    open_stmt = (
        select(JournalLine.account_id, func.sum(fen(JournalLine.debit) - fen(JournalLine.credit)))
        .where(JournalLine.posted.is_(True), JournalLine.entry_date < rng.start)
        .group_by(JournalLine.account_id)
    )
    if ids is not None:
        count_stmt = count_stmt.where(JournalLine.account_id.in_(ids))
        open_stmt = open_stmt.where(JournalLine.account_id.in_(ids))
    n_lines, n_accounts = db.session.execute(count_stmt).one()
    openings = {aid: int(net or 0) for aid, net in db.session.execute(open_stmt)}

    fen_rows: Callable[[], Iterator[list[Any]]]
    if chosen is not None:
        # One section: the chosen account and its sub-accounts together.
        opening = sum(openings.values())
        row_count = n_lines + 3
        chosen_ids = ids or set()

        def fen_rows() -> Iterator[list[Any]]:
            return _gl_one(rng, chosen_ids, opening, in_range)

        subtitle = f"{chosen.label} · {rng.label}"
    else:
        row_count = n_lines + 4 * n_accounts

        def fen_rows() -> Iterator[list[Any]]:
            return _gl_all(rng, accounts, openings, in_range)

        subtitle = rng.label
    return FenReport(
        key="general_ledger",
        title=_l("General ledger"),
        subtitle=subtitle,
        columns=list(GL_COLUMNS),
        rows=_yuan_rows(_lazy(fen_rows), GL_MONEY),
        params=echo,
        row_count=row_count,
        section_marker=SECTION,
        fen_rows=fen_rows,
    )


def _lazy(make: Callable[[], Iterator[list[Any]]]) -> Iterator[list[Any]]:
    """The rows of ``make()``, whose statement runs only when the first row is asked for."""
    yield from make()


GL_MONEY = tuple(i for i, c in enumerate(GL_COLUMNS) if c.kind == "money")


def _gl_lines(in_range: Any, ids: set[int] | None) -> Any:
    """The ledger's lines with debit and credit as the stored integer fen (no Decimal on the way)."""
    stmt = (
        select(
            JournalLine.account_id, JournalLine.entry_date, JournalEntry.number,
            func.coalesce(JournalLine.memo, JournalEntry.memo), PARTY_NAME, fen(JournalLine.debit),
            fen(JournalLine.credit),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
    )  # fmt: skip
    stmt = _with_parties(stmt).where(in_range)
    if ids is not None:
        stmt = stmt.where(JournalLine.account_id.in_(ids))
    return stmt


# Rows in fen: [date, entry, memo, counterparty, debit, credit, Dr/Cr, balance]; money int or None.


def _opening_row(rng: Any, balance: int, direction_of: Callable[[int], str]) -> list[Any]:
    return [rng.start, "", _("Opening balance"), "", None, None, direction_of(balance), abs(balance)]


def _closing_rows(
    rng: Any, debit: int, credit: int, balance: int, direction_of: Callable[[int], str]
) -> list[list[Any]]:
    return [
        [rng.end, "", _("Period total"), "", debit, credit, direction_of(balance), abs(balance)],
        [rng.end, "", _("Closing balance"), "", None, None, direction_of(balance), abs(balance)],
    ]


def _gl_one(rng: Any, ids: set[int], opening: int, in_range: Any) -> Iterator[list[Any]]:
    stmt = _gl_lines(in_range, ids).order_by(JournalLine.entry_date, JournalLine.entry_id, JournalLine.position)
    direction_of = direction_labels()
    balance, td, tc = opening, 0, 0
    yield _opening_row(rng, balance, direction_of)
    for _aid, d, number, memo, party, debit, credit in _stream(stmt):
        balance += debit - credit
        td += debit
        tc += credit
        yield [d, number or "", memo or "", party or "", debit or None, credit or None, direction_of(balance),
               abs(balance)]  # fmt: skip
    yield from _closing_rows(rng, td, tc, balance, direction_of)


def _gl_all(rng: Any, accounts: dict[int, AccountInfo], openings: dict[int, int], in_range: Any) -> Iterator[list[Any]]:
    from crm.books.models import Account  # noqa: PLC0415

    stmt = (
        _gl_lines(in_range, None)
        .join(Account, Account.id == JournalLine.account_id)
        .order_by(Account.code, JournalLine.entry_date, JournalLine.entry_id, JournalLine.position)
    )
    current: int | None = None
    balance = td = tc = 0
    direction_of = direction_labels()
    for aid, d, number, memo, party, debit, credit in _stream(stmt):
        if aid != current:
            if current is not None:
                yield from _closing_rows(rng, td, tc, balance, direction_of)
            current = aid
            a = accounts.get(aid)
            yield [None, a.code if a else "", a.name if a else "", "", None, None, "", None, SECTION]
            balance, td, tc = openings.get(aid, 0), 0, 0
            yield _opening_row(rng, balance, direction_of)
        balance += debit - credit
        td += debit
        tc += credit
        yield [d, number or "", memo or "", party or "", debit or None, credit or None, direction_of(balance),
               abs(balance)]  # fmt: skip
    if current is not None:
        yield from _closing_rows(rng, td, tc, balance, direction_of)


# --- journal (序时账) -------------------------------------------------------------------------


@register("journal")
def journal(tenant: Tenant, actor: Membership, params: dict[str, Any]) -> Report:
    from crm.books.models import Account  # noqa: PLC0415

    rng, echo = parse_range(tenant, params, allow_period=True)
    in_range = and_(
        JournalLine.posted.is_(True), JournalLine.entry_date >= rng.start, JournalLine.entry_date <= rng.end
    )
    n, debit, credit = db.session.execute(
        select(func.count(JournalLine.id), sum_when(literal(True), JournalLine.debit),
               sum_when(literal(True), JournalLine.credit)).where(in_range)
    ).one()  # fmt: skip
    name_col = Account.name_en if is_english() else Account.name_zh
    stmt = (
        select(
            JournalLine.entry_date, JournalEntry.number, func.coalesce(JournalLine.memo, JournalEntry.memo),
            Account.code, name_col, PARTY_NAME, JournalLine.debit, JournalLine.credit,
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(Account, Account.id == JournalLine.account_id)
    )  # fmt: skip
    stmt = (
        _with_parties(stmt)
        .where(in_range)
        .order_by(JournalLine.entry_date, JournalEntry.number, JournalLine.entry_id, JournalLine.position)
    )

    # The API pages the journal: a window in SQL, so a late page does not stream the lines before it.
    window = params.get("_window")
    if window is not None:
        stmt = stmt.offset(int(window[0])).limit(int(window[1]))

    def rows() -> Iterator[list[Any]]:
        for d, number, memo, code, name, party, dr, cr in _stream(stmt):
            yield [d, number or "", memo or "", f"{code} {name}", party or "", dr or None, cr or None]

    return Report(
        key="journal",
        title=_l("Journal"),
        subtitle=rng.label,
        columns=[
            Column("date", _l("Date"), "date", 11),
            Column("number", _l("Entry"), "text", 16),
            Column("memo", _l("Memo"), "text", 30),
            Column("account", _l("Account"), "text", 26),
            Column("party", _l("Counterparty"), "text", 20),
            Column("debit", _l("Debit"), "money"),
            Column("credit", _l("Credit"), "money"),
        ],
        rows=rows(),
        totals=[[None, "", _("Total"), "", "", debit, credit]],
        params=echo,
        row_count=n,
    )
