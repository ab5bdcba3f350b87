"""Report periods in the workspace's time zone: a day, an ISO week (Mon–Sun), a calendar month."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tenants.models import Tenant


def zone(tenant: Tenant) -> ZoneInfo:
    try:
        return ZoneInfo(tenant.timezone or "Asia/Shanghai")
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def local_today(tenant: Tenant, now: datetime) -> date:
    return now.astimezone(zone(tenant)).date()


def period_of(kind: str, day: date) -> tuple[date, date]:
    """The period of this kind that contains the day: (first day, last day)."""
    if kind == "daily":
        return day, day
    if kind == "weekly":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if kind == "monthly":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last)
    raise ValueError(kind)


def next_period(kind: str, start: date) -> tuple[date, date]:
    return period_of(kind, period_of(kind, start)[1] + timedelta(days=1))


def previous_period(kind: str, start: date) -> tuple[date, date]:
    return period_of(kind, period_of(kind, start)[0] - timedelta(days=1))


def periods_between(kind: str, first: date, last: date, limit: int = 62) -> list[tuple[date, date]]:
    """The periods from the one containing `first` to the one containing `last` (at most `limit`)."""
    out: list[tuple[date, date]] = []
    start, end = period_of(kind, first)
    while start <= last and len(out) < limit:
        out.append((start, end))
        start, end = next_period(kind, start)
    return out


def utc_bounds(tenant: Tenant, start: date, end: date) -> tuple[datetime, datetime]:
    """[local midnight of start, local midnight after end) as UTC datetimes."""
    tz = zone(tenant)
    lo = datetime.combine(start, time.min, tzinfo=tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    return lo, hi


def parse_hhmm(value: str | None, default: str = "18:00") -> time:
    try:
        hh, mm = (value or default).split(":")
        return time(int(hh), int(mm))
    except (ValueError, TypeError):
        hh, mm = default.split(":")
        return time(int(hh), int(mm))


def deadline(tenant: Tenant, kind: str, start: date, rule: dict) -> datetime:
    """When a report of the period starting `start` is due under the rule (UTC).

    daily: that day at `time`; weekly: the week's `weekday` (1 = Monday … 7 = Sunday) at
    `time`; monthly: the month's `day` (0 = its last day; clamped to the month) at `time`.
    """
    at = parse_hhmm(rule.get("time"))
    first, last = period_of(kind, start)
    if kind == "daily":
        day = first
    elif kind == "weekly":
        weekday = int(rule.get("weekday") or 5)
        day = first + timedelta(days=min(max(weekday, 1), 7) - 1)
    else:
        dom = int(rule.get("day") or 0)
        day = last if dom <= 0 or dom > last.day else first.replace(day=dom)
    return datetime.combine(day, at, tzinfo=zone(tenant)).astimezone(UTC)
