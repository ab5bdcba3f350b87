"""Reading the audit log: filters, keyset pages (newest first, by id) and the detail of one change.

Shared by the page (crm/audit/views.py), the API (crm/audit/api.py) and the xlsx export job
(workers/jobs/audit_export.py), so all three filter alike. Dates are days in the workspace's
time zone; an entry belongs to the day its local time falls on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from crm.audit.models import AuditEntry
from crm.db import db
from crm.sales.services import InvalidInput
from tenants.models import Membership, Tenant

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

# What the object types of the log are called on screen; an unknown type shows as stored.
OBJECT_TYPES = {
    "Tenant": _l("Workspace"),
    "Membership": _l("Member"),
    "Invitation": _l("Invitation"),
    "User": _l("User"),
    "ApiToken": _l("API token"),
    "Customer": _l("Customer"),
    "Contact": _l("Contact"),
    "FollowUp": _l("Follow-up"),
    "Task": _l("Task"),
    "Attachment": _l("Attachment"),
    "Pipeline": _l("Pipeline"),
    "Stage": _l("Stage"),
    "Opportunity": _l("Opportunity"),
    "Product": _l("Product"),
    "Quote": _l("Quote"),
    "Contract": _l("Contract"),
    "Order": _l("Order"),
    "JobRecord": _l("Job"),
}


def object_type_label(name: str) -> str:
    return str(OBJECT_TYPES.get(name, name))


@dataclass(frozen=True)
class AuditFilters:
    member_id: int | None = None
    object_type: str | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def as_params(self) -> dict[str, Any]:
        """Plain values (for a job's params and for links)."""
        return {
            "member_id": self.member_id,
            "object_type": self.object_type,
            "action": self.action,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
        }

    @property
    def active(self) -> bool:
        return any(v is not None for v in self.as_params().values())


def _date(raw: Any, field: str, errors: dict[str, str]) -> date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None


def parse_filters(raw: dict[str, Any]) -> AuditFilters:
    """Filters from query arguments or job params; InvalidInput names each bad one."""
    errors: dict[str, str] = {}
    member_id = None
    if raw.get("member_id") not in (None, ""):
        try:
            member_id = int(raw["member_id"])
        except (TypeError, ValueError):
            errors["member_id"] = _("Choose a member from the list.")
    object_type = str(raw.get("object_type") or "").strip()[:60] or None
    action = str(raw.get("action") or "").strip()[:60] or None
    date_from = _date(raw.get("date_from"), "date_from", errors)
    date_to = _date(raw.get("date_to"), "date_to", errors)
    if date_from and date_to and date_to < date_from:
        errors["date_to"] = _("The end date is before the start date.")
    if errors:
        raise InvalidInput(errors)
    return AuditFilters(member_id, object_type, action, date_from, date_to)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def filtered(tenant: Tenant, f: AuditFilters) -> Select[tuple[AuditEntry]]:
    stmt = select(AuditEntry)
    if f.member_id is not None:
        stmt = stmt.where(AuditEntry.member_id == f.member_id)
    if f.object_type:
        stmt = stmt.where(AuditEntry.object_type == f.object_type)
    if f.action:
        stmt = stmt.where(AuditEntry.action == f.action)
    tz = ZoneInfo(tenant.timezone or "Asia/Shanghai")
    if f.date_from:
        stmt = stmt.where(AuditEntry.created_at >= _local_midnight(f.date_from, tz))
    if f.date_to:
        stmt = stmt.where(AuditEntry.created_at < _local_midnight(f.date_to + timedelta(days=1), tz))
    return stmt


def page(
    tenant: Tenant, f: AuditFilters, before_id: int | None = None, size: int = PAGE_SIZE
) -> tuple[list[AuditEntry], int | None]:
    """One page newest first, and the cursor (an id) of the next page or None.

    One statement whatever the page holds: the acting user is joined in.
    """
    stmt = filtered(tenant, f).options(joinedload(AuditEntry.user))
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    rows = list(db.session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(size + 1)).unique())
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].id if more and rows else None)


def filter_options() -> dict[str, list[Any]]:
    """What the filter selects offer: every member (left ones too), and the object types and
    actions that occur in this workspace's log. Three statements."""
    members = list(db.session.scalars(select(Membership)))
    members.sort(key=lambda m: (not m.is_active, m.user.name.lower()))
    types = sorted(db.session.scalars(select(AuditEntry.object_type).distinct()))
    actions = sorted(db.session.scalars(select(AuditEntry.action).distinct()))
    return {"members": members, "object_types": types, "actions": actions}


def show_value(value: Any) -> str:
    """A before/after value as text: empty for nothing, JSON for lists and mappings."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)


def change_rows(entry: AuditEntry) -> list[dict[str, Any]]:
    """Each changed field with its before and after, in the order they were recorded."""
    rows = []
    for field, change in (entry.changes or {}).items():
        if isinstance(change, dict) and ("before" in change or "after" in change):
            rows.append({"field": field, "before": change.get("before"), "after": change.get("after")})
        else:
            rows.append({"field": field, "before": None, "after": change})
    return rows


def changes_text(entry: AuditEntry) -> str:
    """All changes on one line per field, for the export."""
    return "\n".join(
        f"{r['field']}: {show_value(r['before']) or '—'} → {show_value(r['after']) or '—'}" for r in change_rows(entry)
    )


def local_time(entry: AuditEntry, tenant: Tenant) -> datetime:
    return entry.created_at.astimezone(ZoneInfo(tenant.timezone or "Asia/Shanghai")).replace(tzinfo=None)
