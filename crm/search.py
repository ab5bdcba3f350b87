"""Global search: each context registers a provider; the top-bar box asks them all.

A provider is ``fn(member, q, limit) -> list[SearchHit]`` and must apply the member's
permissions and data scope itself. Later issues (customers, knowledge base) register theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from crm.db import db
from roles.checks import can
from tenants.models import Membership, User


@dataclass(frozen=True)
class SearchHit:
    kind: object
    title: str
    subtitle: str
    url: str


Provider = Callable[[Membership, str, int], list[SearchHit]]
PROVIDERS: list[Provider] = []


def provider(fn: Provider) -> Provider:
    PROVIDERS.append(fn)
    return fn


def search_all(member: Membership, q: str, limit: int = 8) -> list[SearchHit]:
    hits: list[SearchHit] = []
    for fn in PROVIDERS:
        hits.extend(fn(member, q, limit))
    return hits


def _escape_like(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@provider
def members_provider(member: Membership, q: str, limit: int) -> list[SearchHit]:
    if not can(member, "members.view"):
        return []
    like = f"%{_escape_like(q.lower())}%"
    rows = db.session.scalars(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(or_(func.lower(User.name).like(like, escape="\\"), func.lower(User.email).like(like, escape="\\")))
        .order_by(User.name)
        .limit(limit)
    )
    target = "members.edit" if can(member, "members.manage") else None
    return [
        SearchHit(
            _l("Member"),
            m.user.name,
            m.user.email,
            url_for(target, member_id=m.id) if target else url_for("shell.search", q=m.user.email),
        )
        for m in rows
    ]
