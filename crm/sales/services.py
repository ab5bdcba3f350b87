"""Customers and contacts: create, update, duplicates, tags, collaborators, merge, search.

Services take (actor, data), check permission and scope, flush and audit; the caller commits.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select, union
from sqlalchemy.orm import joinedload, load_only, selectinload

from crm.audit.services import record
from crm.db import db, utcnow
from crm.sales import rules
from crm.sales.models import LEVELS, STATUSES, Contact, Customer, CustomerCollaborator, CustomerTag
from crm.sales.visibility import can_edit, can_read, customer_filter
from roles.checks import PermissionDenied, can, ensure
from roles.scopes import visible_member_ids
from tenants.models import Membership, User
from tenants.search_sql import array_contains, icontains, istartswith

CUSTOMER_FIELDS = (
    "name", "short_name", "uscc", "industry", "level", "source", "province", "city",
    "address", "phone", "email", "website", "status", "notes", "owner_id", "locked",
)  # fmt: skip


class InvalidInput(ValueError):
    """Bad input: ``errors`` maps each field to its reason. Nothing was changed."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class Duplicate:
    reason: str  # uscc | name | phone | email
    owner_name: str | None  # shown even when the customer itself is not visible
    customer_id: int | None  # only when the actor may see it


class DuplicatesFound(Exception):
    def __init__(self, duplicates: list[Duplicate]) -> None:
        super().__init__(", ".join(d.reason for d in duplicates))
        self.duplicates = duplicates


@dataclass
class CustomerInput:
    values: dict[str, Any]
    tags: list[str] | None = None
    uscc_override_reason: str | None = None
    confirm_duplicates: bool = False
    collaborators: list[tuple[int, bool]] | None = field(default=None)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in CUSTOMER_FIELDS:
        if key not in values:
            continue
        v = values[key]
        if isinstance(v, str):
            v = v.strip() or None
        out[key] = v
    return out


def _validate(actor: Membership, values: dict[str, Any], override: str | None, current: Customer | None) -> None:
    errors: dict[str, str] = {}
    name = values.get("name", current.name if current else None)
    if not name:
        errors["name"] = _("A customer needs a name.")
    if values.get("level") and values["level"] not in LEVELS:
        errors["level"] = _("Level must be A, B or C.")
    if values.get("status") and values["status"] not in STATUSES:
        errors["status"] = _("Unknown status.")
    if "uscc" in values and values["uscc"]:
        code = rules.normalise_uscc(values["uscc"])
        values["uscc"] = code
        if not rules.uscc_is_valid(code) and not (override and override.strip()):
            errors["uscc"] = _(
                "This unified social credit code fails its check character. Correct it, or save anyway with a reason."
            )
    if values.get("email") and "@" not in values["email"]:
        errors["email"] = _("Not an e-mail address.")
    # The owner is checked when it is set or changed; an unchanged owner stays valid even when
    # outside the actor's scope (a collaborator with edit access saves the other rep's customer).
    owner_changes = current is None or values.get("owner_id") != current.owner_id
    if "owner_id" in values and values["owner_id"] is not None and owner_changes:
        owner = db.session.scalars(
            select(Membership).where(Membership.id == values["owner_id"], Membership.is_active.is_(True))
        ).one_or_none()
        visible = visible_member_ids(actor)
        if owner is None:
            errors["owner_id"] = _("The owner must be an active member of this workspace.")
        elif visible is not None and owner.id not in visible:
            errors["owner_id"] = _("You can only assign customers within your team.")
    if errors:
        raise InvalidInput(errors)


def find_duplicates(actor: Membership, values: dict[str, Any], exclude_id: int | None = None) -> list[Duplicate]:
    """Same USCC, same normalised name, same phone or e-mail — anywhere in the workspace."""
    conds = []
    uscc = rules.normalise_uscc(values.get("uscc"))
    name_norm = rules.normalise_company_name(values["name"]) if values.get("name") else None
    phone = rules.normalise_phone(values.get("phone"))
    email = rules.normalise_email(values.get("email"))
    if uscc:
        # Archived customers too: the credit code is unique per workspace whatever the state,
        # so missing one here would end in an IntegrityError instead of a clear refusal.
        conds.append(Customer.uscc == uscc)
    if name_norm:
        conds.append(Customer.name_normalized == name_norm)
    if phone:
        conds.append(Customer.phone_normalized == phone)
    if email:
        conds.append(Customer.email == email)
    if not conds:
        return []
    live = Customer.archived_at.is_(None)
    stmt = select(Customer).where(or_(*conds), or_(live, Customer.uscc == uscc) if uscc else live)
    if exclude_id is not None:
        stmt = stmt.where(Customer.id != exclude_id)
    found: list[Duplicate] = []
    for c in db.session.scalars(stmt.limit(10)):
        reason = (
            "uscc" if uscc and c.uscc == uscc
            else "name" if name_norm and c.name_normalized == name_norm
            else "phone" if phone and c.phone_normalized == phone
            else "email"
        )  # fmt: skip
        found.append(Duplicate(reason, c.owner.user.name if c.owner else None, c.id if can_read(actor, c) else None))
    return found


def _refresh_search_keys(c: Customer) -> None:
    for k, v in rules.customer_search_keys(c.name, c.short_name, c.phone, c.email).items():
        setattr(c, k, v)


def _set_tags(c: Customer, tags: list[str]) -> None:
    wanted = []
    for t in tags:
        t = rules.fold_width(t).strip()[:40]
        if t and t not in wanted:
            wanted.append(t)
    keep = [t for t in c.tags if t.tag in wanted]
    have = {t.tag for t in keep}
    c.tags = keep + [CustomerTag(tag=t) for t in wanted if t not in have]


def create_customer(actor: Membership, data: CustomerInput) -> Customer:
    ensure(actor, "sales.access")
    values = _clean(data.values)
    if "owner_id" not in values and can(actor, "sales.access"):
        values["owner_id"] = actor.id
    _validate(actor, values, data.uscc_override_reason, None)
    dups = find_duplicates(actor, values)
    if any(d.reason == "uscc" for d in dups):
        raise DuplicatesFound([d for d in dups if d.reason == "uscc"])
    if dups and not data.confirm_duplicates:
        raise DuplicatesFound(dups)
    c = Customer(**values)
    c.owned_since = utcnow() if c.owner_id else None
    if c.uscc and not rules.uscc_is_valid(c.uscc):
        c.uscc_override_reason = (data.uscc_override_reason or "").strip()[:255]
    _refresh_search_keys(c)
    if data.tags is not None:
        _set_tags(c, data.tags)
    db.session.add(c)
    db.session.flush()
    record("customer.created", c, actor=actor, summary=c.name, changes={"name": {"before": None, "after": c.name}})
    return c


def update_customer(actor: Membership, c: Customer, data: CustomerInput) -> Customer:
    if not can_edit(actor, c):
        raise PermissionDenied("sales.access")
    values = _clean(data.values)
    if "owner_id" in values and values["owner_id"] != c.owner_id and not can(actor, "customers.assign"):
        raise InvalidInput({"owner_id": _("Only a sales manager or an administrator can reassign customers.")})
    _validate(actor, values, data.uscc_override_reason, c)
    merged = {**{k: getattr(c, k) for k in ("name", "uscc", "phone", "email")}, **values}
    dups = find_duplicates(actor, merged, exclude_id=c.id)
    if any(d.reason == "uscc" for d in dups):
        raise DuplicatesFound([d for d in dups if d.reason == "uscc"])
    if dups and not data.confirm_duplicates:
        raise DuplicatesFound(dups)
    if "owner_id" in values and values["owner_id"] != c.owner_id:
        c.owned_since = utcnow() if values["owner_id"] else None
    for k, v in values.items():
        setattr(c, k, v)
    if "uscc" in values:
        c.uscc_override_reason = (
            (data.uscc_override_reason or "").strip()[:255] if c.uscc and not rules.uscc_is_valid(c.uscc) else None
        )
    _refresh_search_keys(c)
    from crm.audit.services import changes_of

    changes = changes_of(c, list(CUSTOMER_FIELDS) + ["uscc_override_reason"])
    if data.tags is not None:
        before = c.tag_names
        _set_tags(c, data.tags)
        if sorted(before) != sorted(t.tag for t in c.tags):
            changes["tags"] = {"before": before, "after": [t.tag for t in c.tags]}
    db.session.flush()
    if changes:
        record("customer.updated", c, actor=actor, summary=c.name, changes=changes)
    return c


def set_collaborators(actor: Membership, c: Customer, collaborators: list[tuple[int, bool]]) -> None:
    if not can_edit(actor, c):
        raise PermissionDenied("sales.access")
    members = {
        m.id for m in db.session.scalars(select(Membership).where(Membership.id.in_([m for m, _ in collaborators])))
    }
    before = sorted((x.member_id, x.can_edit) for x in c.collaborators)
    wanted = {mid: edit for mid, edit in dict(collaborators).items() if mid in members and mid != c.owner_id}
    # In place: replacing the list would INSERT the re-saved rows before DELETEing the old ones
    # (the unit of work's order) and trip the (tenant, customer, member) unique constraint.
    kept = []
    for x in c.collaborators:
        if x.member_id in wanted:
            x.can_edit = wanted.pop(x.member_id)
            kept.append(x)
    c.collaborators = kept + [CustomerCollaborator(member_id=mid, can_edit=edit) for mid, edit in wanted.items()]
    after = sorted((x.member_id, x.can_edit) for x in c.collaborators)
    if before != after:
        db.session.flush()
        record(
            "customer.collaborators",
            c,
            actor=actor,
            summary=c.name,
            changes={"collaborators": {"before": before, "after": after}},
        )


def archive_customer(actor: Membership, c: Customer) -> None:
    if not can_edit(actor, c):
        raise PermissionDenied("sales.access")
    c.archived_at = utcnow()
    record("customer.archived", c, actor=actor, summary=c.name)


def merge_customers(actor: Membership, keep: Customer, drop: Customer) -> Customer:
    """Fold ``drop`` into ``keep``: children re-pointed, both histories kept, ``drop`` archived."""
    ensure(actor, "customers.merge")
    if keep.id == drop.id:
        raise InvalidInput({"drop_id": _("Choose two different customers.")})
    moved_contacts = 0
    for contact in list(drop.contacts):
        contact.customer_id = keep.id
        moved_contacts += 1
    _set_tags(keep, keep.tag_names + drop.tag_names)
    have = {x.member_id for x in keep.collaborators}
    for x in drop.collaborators:
        if x.member_id not in have and x.member_id != keep.owner_id:
            keep.collaborators.append(CustomerCollaborator(member_id=x.member_id, can_edit=x.can_edit))
    for fld in (
        "short_name",
        "uscc",
        "industry",
        "level",
        "source",
        "province",
        "city",
        "address",
        "phone",
        "email",
        "website",
    ):
        if getattr(keep, fld) is None and getattr(drop, fld) is not None:
            if fld == "uscc":
                continue  # unique per workspace: stays on the archived record
            setattr(keep, fld, getattr(drop, fld))
    if drop.last_followup_at and (not keep.last_followup_at or drop.last_followup_at > keep.last_followup_at):
        keep.last_followup_at = drop.last_followup_at
    drop.merged_into_id = keep.id
    drop.archived_at = utcnow()
    _refresh_search_keys(keep)
    db.session.flush()
    db.session.expire(drop, ["contacts"])
    summary = f"{drop.name} → {keep.name}"
    record(
        "customer.merged",
        keep,
        actor=actor,
        summary=summary,
        changes={
            "merged_from": {"before": None, "after": drop.id},
            "contacts_moved": {"before": 0, "after": moved_contacts},
        },
    )
    record(
        "customer.merged_away",
        drop,
        actor=actor,
        summary=summary,
        changes={"merged_into": {"before": None, "after": keep.id}},
    )
    return keep


# --- listing and search -----------------------------------------------------------------


@dataclass
class CustomerQuery:
    q: str | None = None
    owner_id: int | None = None
    pool: bool = False
    level: str | None = None
    province: str | None = None
    city: str | None = None
    status: str | None = None
    tag: str | None = None
    idle_days: int | None = None
    sort: str = "created"  # created | name | last_followup
    after: tuple[Any, int] | None = None  # keyset cursor: (sort value, id)
    limit: int = 50


def search_condition(q: str, dialect: str) -> Any:
    """Name, short name, pinyin (full and initials), phone, e-mail, USCC and contact name.

    Built as a UNION of id sets, each branch answerable from one index (all operators are
    the leakproof ones from tenants.search_sql, so they stay indexed under RLS), instead of
    one OR with an EXISTS, which would scan the tenant's customers.
    """
    q = rules.fold_width(q).strip()
    arms = []
    contact_match = icontains(Contact.name, q)
    if rules.has_cjk(q):
        grams = [g for g in rules.bigrams(q) if len(g) == 2]
        text_match = or_(icontains(Customer.name, q), icontains(func.coalesce(Customer.short_name, ""), q))
        if dialect == "postgresql" and grams:
            # Every bigram present (GIN-indexed, works for two characters); then adjacency.
            arms.append(and_(array_contains(Customer.search_bigrams, grams), text_match))
            # Contact names likewise: a 2-character term has no trigram for ix_contacts_name_trgm.
            contact_match = and_(array_contains(Contact.name_bigrams, grams), contact_match)
        else:
            arms.append(text_match)
    else:
        low = q.lower().replace(" ", "")
        if low.isascii() and low.isalpha():
            arms.append(istartswith(Customer.pinyin_initials, low))
            arms.append(icontains(Customer.pinyin_full, low))
        arms.append(icontains(Customer.name, q))
        digits = rules.normalise_phone(q)
        if digits and len(digits) >= 4:
            arms.append(icontains(Customer.phone_normalized, digits))
        if "@" in q:
            arms.append(Customer.email == rules.normalise_email(q))
        code = rules.normalise_uscc(q)
        if code and len(code) == 18:
            arms.append(Customer.uscc == code)
    ids = union(
        *[select(Customer.id).where(arm) for arm in arms],
        select(Contact.customer_id).where(contact_match),
    )
    return Customer.id.in_(select(ids.subquery().c[0]))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def sort_column(sort: str) -> Any:
    if sort == "name":
        return Customer.name_normalized
    if sort == "last_followup":
        # Never followed up sorts last; coalesce keeps the keyset comparison free of NULLs.
        return func.coalesce(Customer.last_followup_at, EPOCH)
    return Customer.created_at


def sort_value(c: Customer | CustomerRow, sort: str) -> Any:
    if sort == "name":
        return c.name_normalized
    if sort == "last_followup":
        return c.last_followup_at or EPOCH
    return c.created_at


class InvalidCursor(ValueError):
    """A page cursor this app did not make (or made for another sort)."""


def encode_cursor(c: Customer | CustomerRow, sort: str) -> str:
    """The keyset position after ``c``, opaque to clients (the list page and the API share it)."""
    value = sort_value(c, sort)
    raw = value.isoformat() if isinstance(value, datetime) else value
    return base64.urlsafe_b64encode(json.dumps([raw, c.id]).encode()).decode()


def decode_cursor(token: str | None, sort: str) -> tuple[Any, int] | None:
    if not token:
        return None
    try:
        raw, cid = json.loads(base64.urlsafe_b64decode(token.encode()))
        return (raw if sort == "name" else datetime.fromisoformat(raw)), int(cid)
    except (ValueError, TypeError) as exc:
        raise InvalidCursor(token) from exc


# What the customer list, the global search box, the picker and the merge form read of a row
# (and the keyset cursor: created_at, name_normalized, last_followup_at). The search keys
# (pinyin, bigram arrays), notes and addresses stay in the database: building 50 full Customer
# objects per page cost more Python time than the page's SQL (bench/sales.py).
LIST_COLUMNS = (
    Customer.id, Customer.tenant_id, Customer.name, Customer.short_name, Customer.level, Customer.province,
    Customer.city, Customer.owner_id, Customer.status, Customer.last_followup_at, Customer.created_at,
    Customer.name_normalized, Customer.archived_at,
)  # fmt: skip


def list_customers(actor: Membership, query: CustomerQuery, *, only: tuple[Any, ...] | None = None) -> list[Customer]:
    """One page, newest first (or by name A→Z / latest follow-up first), with keyset pagination.

    ``only``: load just these columns (e.g. LIST_COLUMNS) for pages that show a few of them;
    any other attribute is then loaded on first access, one statement per row.
    """
    stmt = _page_statement(actor, query)
    # What every list shows (owner's name, tags), loaded with the page: constant statements.
    stmt = stmt.options(joinedload(Customer.owner), selectinload(Customer.tags))
    if only is not None:
        # ...and of the owner, just the name shown (joined on every row of the page).
        owner = joinedload(Customer.owner).load_only(Membership.id, Membership.tenant_id, Membership.user_id)
        stmt = stmt.options(load_only(*only), owner.joinedload(Membership.user).load_only(User.id, User.name))
    return list(db.session.scalars(stmt))


@dataclass(slots=True)
class CustomerRow:
    """A customer as the list page and the search box show it: plain values, no ORM object."""

    id: int
    name: str
    short_name: str | None
    level: str | None
    province: str | None
    city: str | None
    owner_id: int | None
    status: str
    last_followup_at: datetime | None
    created_at: datetime
    name_normalized: str
    owner_name: str | None
    tags: list[str] = field(default_factory=list)


ROW_COLUMNS = (
    Customer.id, Customer.name, Customer.short_name, Customer.level, Customer.province, Customer.city,
    Customer.owner_id, Customer.status, Customer.last_followup_at, Customer.created_at, Customer.name_normalized,
)  # fmt: skip


def list_rows(actor: Membership, query: CustomerQuery) -> list[CustomerRow]:
    """list_customers for read-only pages, as CustomerRow: the same page (same filters, order and
    cursor) in two statements — the rows with the owner's name, then their tags — without
    building ORM objects, which cost more Python time than the SQL itself (bench/sales.py)."""
    stmt = (
        _page_statement(actor, query)
        .with_only_columns(*ROW_COLUMNS, User.name)
        .outerjoin(Membership, Membership.id == Customer.owner_id)
        .outerjoin(User, User.id == Membership.user_id)
    )
    rows = [CustomerRow(*r) for r in db.session.execute(stmt)]
    if rows:
        by_id = {r.id: r for r in rows}
        tags = select(CustomerTag.customer_id, CustomerTag.tag).where(CustomerTag.customer_id.in_(list(by_id)))
        for cid, tag in db.session.execute(tags.order_by(CustomerTag.customer_id, CustomerTag.tag)):
            by_id[cid].tags.append(tag)
    return rows


def _page_statement(actor: Membership, query: CustomerQuery) -> Any:
    stmt = select(Customer).where(Customer.archived_at.is_(None), customer_filter(actor))
    if query.q:
        stmt = stmt.where(search_condition(query.q, db.session.get_bind().dialect.name))
    if query.pool:
        stmt = stmt.where(Customer.owner_id.is_(None))
    elif query.owner_id:
        stmt = stmt.where(Customer.owner_id == query.owner_id)
    for attr in ("level", "province", "city", "status"):
        value = getattr(query, attr)
        if value:
            stmt = stmt.where(getattr(Customer, attr) == value)
    if query.tag:
        stmt = stmt.where(
            exists(select(CustomerTag.id).where(CustomerTag.customer_id == Customer.id, CustomerTag.tag == query.tag))
        )
    if query.idle_days:
        cutoff = utcnow() - timedelta(days=query.idle_days)
        stmt = stmt.where(or_(Customer.last_followup_at.is_(None), Customer.last_followup_at < cutoff))
    col = sort_column(query.sort)
    # Names read A→Z; dates newest first. The keyset cursor follows the same direction.
    ascending = query.sort == "name"
    if query.after is not None:
        value, last_id = query.after
        if ascending:
            stmt = stmt.where(or_(col > value, and_(col == value, Customer.id > last_id)))
        else:
            stmt = stmt.where(or_(col < value, and_(col == value, Customer.id < last_id)))
    order = (col.asc(), Customer.id.asc()) if ascending else (col.desc(), Customer.id.desc())
    return stmt.order_by(*order).limit(query.limit)


# --- contacts ---------------------------------------------------------------------------

CONTACT_FIELDS = (
    "name", "title", "department", "reports_to_id", "mobile", "phone", "email", "wechat", "birthday",
    "is_primary", "notes",
)  # fmt: skip


def _check_contact_boss(c: Customer, contact: Contact | None, boss_id: int | None) -> int | None:
    if not boss_id:
        return None
    boss = db.session.scalars(select(Contact).where(Contact.id == boss_id, Contact.customer_id == c.id)).one_or_none()
    if boss is None:
        raise InvalidInput({"reports_to_id": _("Choose a contact of the same customer.")})
    node: Contact | None = boss
    seen: set[int] = set()
    while node is not None and contact is not None and node.id not in seen:
        if node.id == contact.id:
            raise InvalidInput({"reports_to_id": _("That would make a reporting loop.")})
        seen.add(node.id)
        node = node.reports_to
    return boss.id


def save_contact(actor: Membership, c: Customer, values: dict[str, Any], contact: Contact | None = None) -> Contact:
    if not can_edit(actor, c):
        raise PermissionDenied("sales.access")
    clean = {k: (v.strip() or None if isinstance(v, str) else v) for k, v in values.items() if k in CONTACT_FIELDS}
    if not clean.get("name", contact.name if contact else None):
        raise InvalidInput({"name": _("A contact needs a name.")})
    if "reports_to_id" in clean:  # a partial update (API PATCH) without it keeps the boss
        clean["reports_to_id"] = _check_contact_boss(c, contact, clean["reports_to_id"])
    creating = contact is None
    if contact is None:
        contact = Contact(customer_id=c.id)
        db.session.add(contact)
    for k, v in clean.items():
        setattr(contact, k, v)
    if contact.is_primary:
        for other in c.contacts:
            if other is not contact and other.is_primary:
                other.is_primary = False
    from crm.audit.services import changes_of

    changes = changes_of(contact, list(CONTACT_FIELDS))
    db.session.flush()
    record(
        "contact.created" if creating else "contact.updated",
        contact,
        actor=actor,
        summary=f"{c.name} · {contact.name}",
        changes=changes,
    )
    return contact


def delete_contact(actor: Membership, c: Customer, contact: Contact) -> None:
    if not can_edit(actor, c):
        raise PermissionDenied("sales.access")
    for other in c.contacts:
        if other.reports_to_id == contact.id:
            other.reports_to_id = contact.reports_to_id
    record("contact.deleted", contact, actor=actor, summary=f"{c.name} · {contact.name}")
    db.session.delete(contact)
    db.session.flush()


def org_chart(c: Customer) -> list[tuple[Contact, int]]:
    """Contacts in reporting order with their depth, for an indented org chart."""
    children: dict[int | None, list[Contact]] = {}
    ids = {x.id for x in c.contacts}
    for x in c.contacts:
        parent = x.reports_to_id if x.reports_to_id in ids else None
        children.setdefault(parent, []).append(x)
    out: list[tuple[Contact, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for x in sorted(children.get(parent, []), key=lambda k: (not k.is_primary, k.department or "", k.name)):
            out.append((x, depth))
            walk(x.id, depth + 1)

    walk(None, 0)
    return out


def dashboard_summary(actor: Membership) -> dict[str, Any]:
    """Counts for the sales dashboard, in the member's scope: two grouped queries."""
    base = and_(Customer.archived_at.is_(None), customer_filter(actor))
    by_status = dict(
        db.session.execute(select(Customer.status, func.count(Customer.id)).where(base).group_by(Customer.status)).all()
    )
    by_level = dict(
        db.session.execute(select(Customer.level, func.count(Customer.id)).where(base).group_by(Customer.level)).all()
    )
    mine = db.session.scalar(select(func.count(Customer.id)).where(base, Customer.owner_id == actor.id)) or 0
    pool = db.session.scalar(select(func.count(Customer.id)).where(base, Customer.owner_id.is_(None))) or 0
    recent = list(
        db.session.scalars(
            select(Customer).where(base).order_by(Customer.created_at.desc(), Customer.id.desc()).limit(6)
        )
    )
    return {
        "total": sum(by_status.values()),
        "mine": mine,
        "pool": pool,
        "by_status": by_status,
        "by_level": {k or "—": v for k, v in sorted(by_level.items(), key=lambda kv: kv[0] or "Z")},
        "recent": recent,
    }
