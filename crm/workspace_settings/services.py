"""Settings → Workspace: the name, time zone, currency, fiscal-year start and document numbering.

Where each value lives: ``tenant.name``, ``tenant.timezone`` and ``tenant.currency`` are columns
(the API's /me and the PDFs read them there); the fiscal-year start month is
``tenant.settings["fiscal_year_start"]`` and the numbering patterns are
``tenant.settings["numbering"][kind]`` (read by crm.numbering). The slug never changes.

Services take (actor, tenant, values), check the permission, validate everything before
changing anything, flush and audit (before → after of each changed field); the caller commits.
"""

from __future__ import annotations

import re
import string
from datetime import date
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from flask_babel import gettext as _
from sqlalchemy import select

from crm.audit.services import record
from crm.db import db
from crm.numbering import NumberSequence, format_number, pattern_for
from crm.sales.services import InvalidInput
from roles.checks import ensure
from tenants.models import Membership, Tenant

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_CURRENCY = "CNY"
# Offered first in the time-zone list; every other IANA zone follows, A→Z.
COMMON_TIMEZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)
CURRENCIES = ("CNY", "HKD", "USD", "EUR", "JPY", "GBP", "TWD", "SGD", "KRW", "AUD", "CAD", "CHF")
NUMBERED_KINDS = ("quote", "contract", "order")
NAME_MAX = 120
PATTERN_MAX = 40  # the formatted number must fit the number columns (60) with a version suffix


@lru_cache(maxsize=1)
def all_timezones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones() | {"UTC"}))


def timezone_choices() -> list[str]:
    """The common zones first, then every other zone A→Z."""
    common = [z for z in COMMON_TIMEZONES if z in all_timezones()]
    return common + [z for z in all_timezones() if z not in COMMON_TIMEZONES]


def settings_of(tenant: Tenant) -> dict[str, Any]:
    s = tenant.settings or {}
    return {
        "name": tenant.name,
        "slug": tenant.slug,
        "timezone": tenant.timezone or DEFAULT_TIMEZONE,
        "currency": tenant.currency or DEFAULT_CURRENCY,
        "fiscal_year_start": int(s.get("fiscal_year_start") or 1),
        "numbering": {kind: pattern_for(tenant, kind) for kind in NUMBERED_KINDS},
    }


def pattern_error(pattern: str) -> str | None:
    """Why a numbering pattern is refused, or None when it is fine.

    Allowed: literal text plus {year}, {yy} and {seq} (optionally {seq:0Nd}, N = 1–9); {seq}
    must appear, so two documents never share a number.
    """
    if not pattern:
        return _("Enter a pattern.")
    if len(pattern) > PATTERN_MAX:
        return _("At most %(n)d characters.", n=PATTERN_MAX)
    if any(ch.isspace() for ch in pattern):
        return _("A document number may not contain spaces.")
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError:
        return _("Unbalanced braces: write placeholders as {year}, {yy} or {seq:04d}.")
    seen_seq = False
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if conversion or field not in ("year", "yy", "seq"):
            return _("Unknown placeholder {%(name)s}: use only {year}, {yy} and {seq}.", name=field)
        if field == "seq":
            seen_seq = True
            if spec and not re.fullmatch(r"0[1-9]d", spec):
                return _("Write the running number as {seq} or {seq:0Nd}, e.g. {seq:04d}.")
        elif spec:
            return _("{%(name)s} takes no format.", name=field)
    if not seen_seq:
        return _("The pattern must contain the running number {seq}, e.g. {seq:04d}.")
    return None


def next_sequence(kind: str, year: int) -> int:
    """The running number the next document of this kind and year would get (no lock, no write)."""
    row = db.session.scalars(
        select(NumberSequence.next).where(NumberSequence.kind == kind, NumberSequence.year == year)
    ).one_or_none()
    return int(row or 1)


def preview(kind: str, pattern: str, today: date | None = None) -> tuple[str | None, str | None]:
    """(next number under this pattern, None) or (None, why the pattern is refused)."""
    err = pattern_error(pattern)
    if err:
        return None, err
    year = (today or date.today()).year
    return format_number(pattern, year, next_sequence(kind, year)), None


def clean(values: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Validated settings: missing keys keep their current value; raises InvalidInput naming
    every bad field (nothing is changed then)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    name = values.get("name", current["name"])
    name = " ".join(str(name or "").split())
    if not name:
        errors["name"] = _("Enter the workspace name.")
    elif len(name) > NAME_MAX:
        errors["name"] = _("At most %(n)d characters.", n=NAME_MAX)
    out["name"] = name

    tz = str(values.get("timezone", current["timezone"]) or "").strip()
    if tz not in all_timezones():
        errors["timezone"] = _("Choose a time zone from the list.")
    out["timezone"] = tz

    currency = str(values.get("currency", current["currency"]) or "").strip().upper()
    if currency not in CURRENCIES:
        errors["currency"] = _("Choose a currency from the list.")
    out["currency"] = currency

    month = values.get("fiscal_year_start", current["fiscal_year_start"])
    try:
        month_n = int(month)
        if isinstance(month, bool) or not 1 <= month_n <= 12 or str(month).strip() != str(month_n):
            raise ValueError
    except (TypeError, ValueError):
        errors["fiscal_year_start"] = _("Choose a month from 1 to 12.")
        month_n = current["fiscal_year_start"]
    out["fiscal_year_start"] = month_n

    numbering = dict(current["numbering"])
    given = values.get("numbering") or {}
    if not isinstance(given, dict):
        errors["numbering"] = _("Give the patterns by document kind.")
        given = {}
    for kind, pattern in given.items():
        if kind not in NUMBERED_KINDS:
            errors[f"numbering_{kind}"] = _("Unknown document kind.")
            continue
        p = str(pattern or "").strip()
        err = pattern_error(p)
        if err:
            errors[f"numbering_{kind}"] = err
        numbering[kind] = p
    out["numbering"] = numbering
    if errors:
        raise InvalidInput(errors)
    return out


def save_settings(actor: Membership, tenant: Tenant, values: dict[str, Any]) -> dict[str, Any]:
    """Apply the changed settings; returns the audit changes (empty when nothing changed)."""
    ensure(actor, "settings.manage")
    before = settings_of(tenant)
    new = clean(values, before)
    changes: dict[str, dict[str, Any]] = {}
    for key in ("name", "timezone", "currency", "fiscal_year_start"):
        if before[key] != new[key]:
            changes[key] = {"before": before[key], "after": new[key]}
    for kind in NUMBERED_KINDS:
        if before["numbering"][kind] != new["numbering"][kind]:
            changes[f"numbering.{kind}"] = {"before": before["numbering"][kind], "after": new["numbering"][kind]}
    if not changes:
        return changes
    tenant.name = new["name"]
    tenant.timezone = new["timezone"]
    tenant.currency = new["currency"]
    numbering = {**((tenant.settings or {}).get("numbering") or {}), **new["numbering"]}
    tenant.settings = {**(tenant.settings or {}), "fiscal_year_start": new["fiscal_year_start"], "numbering": numbering}
    db.session.flush()
    record("settings.workspace", tenant, actor=actor, summary=_("Workspace settings changed"), changes=changes)
    return changes
