"""Helpers for the customer tests: arranging customers, contacts and collaborators through
the real services (so search keys and audit entries are real), and reading them back.

Every helper takes the app and plain ids / MemberInfo records, opens its own application
and tenant context, and commits — so a test can mix them freely with client requests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.db import db
from crm.sales import services
from crm.sales.models import Contact, Customer, CustomerCollaborator
from tenants.models import Membership
from tests import factories
from tests.factories import MemberInfo, TenantInfo
from tests.helpers import in_tenant

VALID_USCC = "91110000600037341L"


def valid_uscc(body17: str) -> str:
    from crm.sales.rules import uscc_check_character

    return body17 + uscc_check_character(body17)


def url(member_or_slug: MemberInfo | TenantInfo | str, *parts: Any, **query: Any) -> str:
    slug = member_or_slug if isinstance(member_or_slug, str) else member_or_slug.slug
    path = "/".join(str(p) for p in ("", "w", slug, "sales", "customers", *parts))
    if query:
        from urllib.parse import urlencode

        path += "?" + urlencode(query)
    return path


def actor(member: MemberInfo) -> Membership:
    """The Membership row (call inside tenant_context(member.tenant_id))."""
    return factories.member_row(member)


def customer(app: Flask, owner: MemberInfo, name: str, *, contacts: list[str] | None = None, **values: Any) -> int:
    """A customer owned by `owner` (or in the pool with owner_id=None), duplicates confirmed."""
    tags = values.pop("tags", None)
    with in_tenant(app, owner.tenant_id, owner.user_id):
        row = actor(owner)
        c = services.create_customer(
            row, services.CustomerInput(values={"name": name, **values}, tags=tags, confirm_duplicates=True)
        )
        for person in contacts or []:
            services.save_contact(row, c, {"name": person})
        db.session.commit()
        return c.id


def contact(app: Flask, by: MemberInfo, customer_id: int, **values: Any) -> int:
    with in_tenant(app, by.tenant_id, by.user_id):
        c = db.session.get(Customer, customer_id)
        x = services.save_contact(actor(by), c, values)
        db.session.commit()
        return x.id


def collaborate(app: Flask, owner: MemberInfo, customer_id: int, member: MemberInfo, can_edit: bool) -> None:
    with in_tenant(app, owner.tenant_id, owner.user_id):
        c = db.session.get(Customer, customer_id)
        pairs = [(x.member_id, x.can_edit) for x in c.collaborators if x.member_id != member.id]
        services.set_collaborators(actor(owner), c, [*pairs, (member.id, can_edit)])
        db.session.commit()


def set_fields(app: Flask, tenant_id: int, customer_id: int, **values: Any) -> None:
    """Write columns directly (e.g. last_followup_at, which follow-ups maintain)."""
    with in_tenant(app, tenant_id):
        c = db.session.get(Customer, customer_id)
        for k, v in values.items():
            setattr(c, k, v)
        db.session.commit()


def read(app: Flask, tenant_id: int, customer_id: int) -> dict[str, Any]:
    """A plain snapshot of a customer, its tags, collaborators and contacts."""
    with in_tenant(app, tenant_id):
        c = db.session.get(Customer, customer_id)
        assert c is not None
        out = {
            k: getattr(c, k)
            for k in (
                *services.CUSTOMER_FIELDS,
                "id",
                "archived_at",
                "merged_into_id",
                "uscc_override_reason",
                "name_normalized",
                "last_followup_at",
            )
        }
        out["tags"] = sorted(c.tag_names)
        out["collaborators"] = sorted((x.member_id, x.can_edit) for x in c.collaborators)
        out["contacts"] = [
            {"id": x.id, "name": x.name, "reports_to_id": x.reports_to_id, "is_primary": x.is_primary}
            for x in c.contacts
        ]
        return out


def count_customers(app: Flask, tenant_id: int, *, include_archived: bool = True) -> int:
    with in_tenant(app, tenant_id):
        stmt = select(Customer.id)
        if not include_archived:
            stmt = stmt.where(Customer.archived_at.is_(None))
        return len(db.session.scalars(stmt).all())


def customer_ids_named(app: Flask, tenant_id: int, name: str) -> list[int]:
    with in_tenant(app, tenant_id):
        return list(db.session.scalars(select(Customer.id).where(Customer.name == name).order_by(Customer.id)))


def audit(app: Flask, tenant_id: int, object_type: str, object_id: int) -> list[AuditEntry]:
    """Audit entries of an object, oldest first (detached, attributes loaded)."""
    with in_tenant(app, tenant_id):
        rows = list(
            db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id)
                .order_by(AuditEntry.id)
            )
        )
        for r in rows:
            _ = (r.action, r.changes, r.member_id, r.summary)
        db.session.expunge_all()
        return rows


def contact_rows(app: Flask, tenant_id: int, customer_id: int) -> list[Contact]:
    with in_tenant(app, tenant_id):
        rows = list(db.session.scalars(select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.id)))
        db.session.expunge_all()
        return rows


def collaborators(app: Flask, tenant_id: int, customer_id: int) -> list[tuple[int, bool]]:
    with in_tenant(app, tenant_id):
        return sorted(
            (x.member_id, x.can_edit)
            for x in db.session.scalars(
                select(CustomerCollaborator).where(CustomerCollaborator.customer_id == customer_id)
            )
        )


def add_rep(
    app: Flask, tenant: TenantInfo, key: str, name: str, *, role: str = "sales", reports_to: int | None = None
) -> MemberInfo:
    with in_tenant(app, tenant.id):
        m = factories.add_member(tenant, role, f"{key}@{tenant.slug}.example.com", name, reports_to=reports_to)
        db.session.commit()
    return m


def bulk_customers(app: Flask, tenant_id: int, rows: list[dict[str, Any]]) -> list[int]:
    """Many customers at once, without the service's per-row duplicate checks and audit —
    for volume (pagination, query plans). Search keys are computed exactly as the service does."""
    with in_tenant(app, tenant_id):
        made = []
        for values in rows:
            c = Customer(**{k: v for k, v in values.items() if k != "tags"})
            services._refresh_search_keys(c)
            if values.get("tags"):
                services._set_tags(c, values["tags"])
            made.append(c)
        db.session.add_all(made)
        db.session.commit()
        return [c.id for c in made]


def at(year: int, month: int, day: int) -> datetime:
    from datetime import UTC

    return datetime(year, month, day, 9, 0, tzinfo=UTC)
