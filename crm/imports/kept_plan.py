"""The dry run's decisions, kept beside the uploaded file so the commit job can act on them
without reading and evaluating the file a second time.

The commit must do what the data says when the job runs, not when the dry run ran. So the kept
plan carries a fingerprint of everything the planner read — per table the row count and a digest
of every row's id and ``updated_at`` (every ORM and Core update sets it), plus the mapping, the
sheet and who plans — and is used only while that fingerprint is unchanged; otherwise, or when the file
is missing or unreadable, the commit plans again. Only the rows a commit writes (new, updated)
are kept, as JSON with tagged decimals and dates: nothing in the file can run code when read.

Bulk kinds only: vouchers and orders go through their own services, which re-check every row.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from hashlib import blake2b
from pathlib import Path
from typing import Any

from sqlalchemy import select

from crm.catalog.models import Product
from crm.db import db
from crm.sales.models import Contact, Customer, CustomerCollaborator
from tenants.models import Membership, User

FORMAT = 1
# What each kind's planner reads (crm.imports.services._plan_*), besides the file.
READS: dict[str, tuple[Any, ...]] = {
    "customers": (Customer, Membership, User),
    "contacts": (Customer, Contact, CustomerCollaborator, Membership, User),
    "products": (Product,),
}


def _path(directory: Path, stored: str) -> Path:
    return directory / f"{stored}.plan.json"


def fingerprint(kind: str, tenant_id: int) -> list[Any]:
    """The state of the tables the planner reads: per table the row count and a digest of every
    row's (id, updated_at) — order-free, so any insert, delete or update changes it, whatever the
    clocks or the order in which transactions commit (a maximum of updated_at would miss a long
    transaction's earlier timestamp committed late). The planner reads these rows anyway; this
    costs a fraction of that. Read it before planning: a change committed after that read makes
    the commit plan again, never the other way round."""
    parts: list[Any] = []
    for model in READS[kind]:
        cols = [model.id, model.updated_at] if hasattr(model, "updated_at") else [model.id]
        if model is User:  # platform-wide: the users who are members here
            stmt = select(*cols).join(Membership, Membership.user_id == User.id)
            stmt = stmt.where(Membership.tenant_id == tenant_id)
        else:
            stmt = select(*cols).where(model.tenant_id == tenant_id)
        count = digest = 0
        for row in db.session.execute(stmt):
            text = ":".join(str(v.isoformat() if isinstance(v, datetime) else v) for v in row)
            digest = (digest + int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "big")) % _MOD
            count += 1
        parts.append([count, digest])
    return parts


_MOD = 2**64


def key(kind: str, actor_id: int, sheet: str | None, mapping: dict[str, str], state: list[Any]) -> list[Any]:
    """What a plan depends on: the tables' state, how the file is read, and who plans (scope)."""
    return [FORMAT, kind, actor_id, sheet or "", sorted(mapping.items()), state]


def _tag(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, date):
        return {"$D": value.isoformat()}
    return value


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$d" in obj:
            return Decimal(obj["$d"])
        if "$t" in obj:
            return datetime.fromisoformat(obj["$t"])
        if "$D" in obj:
            return date.fromisoformat(obj["$D"])
    return obj


def save(directory: Path, stored: str, state: list[Any], rows: list[Any], bad: int) -> None:
    """``rows``: the RowPlans whose action is new or updated."""
    kept = [
        [
            r.number,
            r.action,
            {k: _tag(v) for k, v in r.values.items()},
            r.target_id,
            {k: [_tag(b), _tag(a)] for k, (b, a) in r.changes.items()},
        ]
        for r in rows
    ]
    _path(directory, stored).write_text(json.dumps({"state": state, "bad": bad, "rows": kept}, ensure_ascii=False))


def load(directory: Path, stored: str, state: list[Any]) -> tuple[list[tuple[Any, ...]], int] | None:
    """The kept rows (number, action, values, target id, changes) and the count of bad rows, or
    None when there is no kept plan for this state."""
    path = _path(directory, stored)
    try:
        kept = json.loads(path.read_text(), object_hook=_untag)
    except (OSError, ValueError):
        return None
    # The state goes through the same JSON round trip before it is compared.
    if not isinstance(kept, dict) or kept.get("state") != json.loads(json.dumps(state), object_hook=_untag):
        return None
    try:
        rows = [
            (int(n), action, dict(values), target, {k: (b, a) for k, (b, a) in changes.items()})
            for n, action, values, target, changes in kept["rows"]
            if action in ("new", "updated")
        ]
        return rows, int(kept["bad"])
    except (KeyError, TypeError, ValueError):
        return None


def discard(directory: Path, stored: str | None) -> None:
    if stored:
        _path(directory, stored).unlink(missing_ok=True)
