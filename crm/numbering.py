"""Document numbers per workspace: one NumberSequence row per (kind, year), taken under a row lock.

``next_number(tenant, "quote")`` formats the workspace's pattern
(``tenant.settings["numbering"]["quote"]``, default ``QT-{year}-{seq:04d}``). The row is read
with SELECT … FOR UPDATE, so on PostgreSQL two transactions asking at once queue on the lock
and never get the same number; SQLite serialises writers anyway (FOR UPDATE is ignored there).
The number is only consumed when the caller's transaction commits; a rollback gives it back.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Model, db
from tenants.models import Tenant, TenantScoped

DEFAULT_PATTERNS = {
    "quote": "QT-{year}-{seq:04d}",
    "contract": "HT-{year}-{seq:04d}",
    "order": "SO-{year}-{seq:04d}",
    "invoice": "AR-{year}-{seq:04d}",
    "bill": "AP-{year}-{seq:04d}",
    "receipt": "SK-{year}-{seq:04d}",
    "payment": "FK-{year}-{seq:04d}",
}


class NumberSequence(TenantScoped, Model):
    __tablename__ = "number_sequences"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    next: Mapped[int] = mapped_column(Integer, default=1, nullable=False)


def pattern_for(tenant: Tenant, kind: str) -> str:
    numbering = (tenant.settings or {}).get("numbering") or {}
    return str(numbering.get(kind) or DEFAULT_PATTERNS.get(kind) or kind.upper() + "-{year}-{seq:04d}")


def format_number(pattern: str, year: int, seq: int) -> str:
    try:
        return pattern.format(year=year, seq=seq, yy=f"{year % 100:02d}")
    except (KeyError, IndexError, ValueError):
        return DEFAULT_PATTERNS.get("quote", "{year}-{seq:04d}").format(year=year, seq=seq)


def _locked_row(kind: str, year: int) -> NumberSequence | None:
    stmt = select(NumberSequence).where(NumberSequence.kind == kind, NumberSequence.year == year).with_for_update()
    return db.session.scalars(stmt).one_or_none()


def next_seq(kind: str, year: int) -> int:
    """The next number of (kind, year), taken under the row lock; consumed at commit."""
    row = _locked_row(kind, year)
    if row is None:
        # First number of the year: insert the row; a concurrent first insert loses on the
        # unique constraint and then takes the lock like everyone else.
        try:
            with db.session.begin_nested():
                db.session.add(NumberSequence(kind=kind, year=year, next=1))
        except IntegrityError:
            pass
        row = _locked_row(kind, year)
        assert row is not None
    seq = row.next
    row.next = seq + 1
    db.session.flush()
    return seq


def next_number(tenant: Tenant, kind: str, today: date | None = None) -> str:
    year = (today or date.today()).year
    return format_number(pattern_for(tenant, kind), year, next_seq(kind, year))
