"""The sales dashboard's numbers, callable without a request (``build(member, scope)``).

Scope: "me" counts what the member owns (customers, opportunities, contracts), wrote (follow-ups)
or is assigned (tasks); "team" widens that to every member whose records they see
(``roles.scopes.visible_member_ids``: their team, or everyone for admins). Reps only have "me".

Every figure comes from a fixed set of grouped statements, so the page costs the same number of
SQL statements whatever the data size. Money stays exact: amounts are summed as integer fen in
SQL, and the weighted amount of each opportunity is rounded half-up at the fen before summing,
exactly like ``Opportunity.weighted_amount`` (so the board, the forecast and this page agree).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import BigInteger, and_, case, func, or_, select, true, type_coerce
from sqlalchemy.orm import joinedload

from crm.activities.models import FollowUp, Task
from crm.contracts.models import Contract
from crm.db import db, utcnow
from crm.pipeline.models import Opportunity, Pipeline, Stage
from crm.sales.models import Customer
from crm.sales.visibility import customer_filter
from roles.catalogue import Scope, scope_of
from roles.scopes import visible_member_ids
from tenants.context import current_tenant
from tenants.models import Membership

ZERO = Decimal("0.00")
SCOPES = ("me", "team")
FORECAST_MONTHS = 6
EXPIRY_DAYS = 30
LIST_LIMIT = 8


def _money(fen: int | None) -> Decimal:
    return (Decimal(fen or 0) / 100).quantize(Decimal("0.01"))


def _fen(column: Any) -> Any:
    """A Money column as its stored integer fen (no Decimal conversion inside SQL)."""
    return type_coerce(column, BigInteger)


def _weighted_fen() -> Any:
    """amount × probability ÷ 100, rounded half-up at the fen per opportunity (amounts are ≥ 0)."""
    return (_fen(Opportunity.amount) * Opportunity.probability + 50) // 100


def _in(column: Any, ids: set[int] | None) -> Any:
    return true() if ids is None else column.in_(ids or {-1})


def can_toggle(member: Membership) -> bool:
    """Managers and admins switch between their own figures and their team's."""
    scope = scope_of(member.roles)
    return scope is not None and scope >= Scope.TEAM


def default_scope(member: Membership) -> str:
    return "team" if can_toggle(member) else "me"


@dataclass
class Window:
    """The dates the dashboard counts in, in the workspace's time zone."""

    today: date
    month_start: datetime  # UTC instants of local midnights
    week_start: datetime
    week_end: datetime
    week_days: list[date]

    @classmethod
    def at(cls, now: datetime, tz_name: str | None) -> Window:
        tz = ZoneInfo(tz_name or "Asia/Shanghai")
        local = now.astimezone(tz)
        today = local.date()
        monday = today - timedelta(days=today.weekday())

        def midnight(d: date) -> datetime:
            return datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(UTC)

        return cls(
            today=today,
            month_start=midnight(today.replace(day=1)),
            week_start=midnight(monday),
            week_end=midnight(monday + timedelta(days=7)),
            week_days=[monday + timedelta(days=i) for i in range(7)],
        )

    def local_date(self, moment: datetime, tz_name: str | None) -> date:
        return moment.astimezone(ZoneInfo(tz_name or "Asia/Shanghai")).date()


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


@dataclass
class StageRow:
    label: str
    count: int
    amount: Decimal
    weighted: Decimal


@dataclass
class MonthRow:
    key: str  # YYYY-MM
    amount: Decimal = ZERO
    weighted: Decimal = ZERO
    count: int = 0


@dataclass
class Dashboard:
    scope: str
    can_toggle: bool
    window: Window
    customers: int = 0
    customers_new: int = 0
    pipeline_count: int = 0
    pipeline_amount: Decimal = ZERO
    pipeline_weighted: Decimal = ZERO
    won_count: int = 0
    won_amount: Decimal = ZERO
    tasks_today: int = 0
    tasks_overdue: int = 0
    tasks: list[Task] = field(default_factory=list)
    followups_week: int = 0
    followups_by_day: list[tuple[date, int]] = field(default_factory=list)
    followups_latest: list[FollowUp] = field(default_factory=list)
    contracts_expiring: list[tuple[Contract, int]] = field(default_factory=list)
    by_stage: list[StageRow] = field(default_factory=list)
    forecast: list[MonthRow] = field(default_factory=list)

    @property
    def has_pipeline(self) -> bool:
        return self.pipeline_count > 0

    @property
    def has_forecast(self) -> bool:
        return any(m.count for m in self.forecast)


def build(member: Membership, scope: str | None = None, now: datetime | None = None) -> Dashboard:
    """The dashboard of `member` in the tenant in context; an unknown or unallowed scope is "me"."""
    toggle = can_toggle(member)
    if not toggle:
        scope = "me"
    elif scope not in SCOPES:
        scope = default_scope(member)
    now = now or utcnow()
    tz = current_tenant.timezone
    win = Window.at(now, tz)
    ids = {member.id} if scope == "me" else visible_member_ids(member)
    d = Dashboard(scope=scope, can_toggle=toggle, window=win)
    _customers(d, ids)
    _pipeline(d, ids)
    _forecast(d, ids)
    _won(d, ids)
    _tasks(d, member, ids)
    _followups(d, ids, tz)
    _contracts(d, ids)
    return d


def _customers(d: Dashboard, ids: set[int] | None) -> None:
    row = db.session.execute(
        select(
            func.count(Customer.id),
            func.coalesce(func.sum(case((Customer.created_at >= d.window.month_start, 1), else_=0)), 0),
        ).where(Customer.archived_at.is_(None), Customer.owner_id.is_not(None), _in(Customer.owner_id, ids))
    ).one()
    d.customers, d.customers_new = int(row[0] or 0), int(row[1] or 0)


def _pipeline(d: Dashboard, ids: set[int] | None) -> None:
    """Open opportunities by stage: every open stage, empty ones too (one statement)."""
    rows = db.session.execute(
        select(
            Stage.name,
            Pipeline.name,
            func.count(Opportunity.id),
            func.coalesce(func.sum(_fen(Opportunity.amount)), 0),
            func.coalesce(func.sum(_weighted_fen()), 0),
        )
        .join(Pipeline, Pipeline.id == Stage.pipeline_id)
        .outerjoin(Opportunity, and_(Opportunity.stage_id == Stage.id, _in(Opportunity.owner_id, ids)))
        .where(Stage.kind == "open")
        .group_by(Stage.id, Stage.name, Stage.position, Pipeline.id, Pipeline.name, Pipeline.position)
        .order_by(Pipeline.position, Pipeline.id, Stage.position, Stage.id)
    ).all()
    several = len({pipe for _s, pipe, *_rest in rows}) > 1
    for stage, pipe, count, amount, weighted in rows:
        label = f"{pipe} · {stage}" if several else stage
        d.by_stage.append(StageRow(label, int(count), _money(amount), _money(weighted)))
    d.pipeline_count = sum(r.count for r in d.by_stage)
    d.pipeline_amount = sum((r.amount for r in d.by_stage), ZERO)
    d.pipeline_weighted = sum((r.weighted for r in d.by_stage), ZERO)


def _forecast(d: Dashboard, ids: set[int] | None) -> None:
    """Open opportunities by month of expected close, this month and the next five.

    Grouped by close date in SQL (at most ~184 rows), bucketed into months here, so no
    backend-specific date formatting is needed.
    """
    first = d.window.today.replace(day=1)
    months = [_add_months(first, i) for i in range(FORECAST_MONTHS)]
    end = _add_months(first, FORECAST_MONTHS)
    rows = db.session.execute(
        select(
            Opportunity.expected_close,
            func.count(Opportunity.id),
            func.sum(_fen(Opportunity.amount)),
            func.sum(_weighted_fen()),
        )
        .join(Stage, Stage.id == Opportunity.stage_id)
        .where(
            Stage.kind == "open",
            Opportunity.expected_close >= first,
            Opportunity.expected_close < end,
            _in(Opportunity.owner_id, ids),
        )
        .group_by(Opportunity.expected_close)
    ).all()
    buckets = {m.strftime("%Y-%m"): MonthRow(m.strftime("%Y-%m")) for m in months}
    fen: dict[str, list[int]] = {k: [0, 0] for k in buckets}
    for closes, count, amount, weighted in rows:
        key = closes.strftime("%Y-%m")
        buckets[key].count += int(count)
        fen[key][0] += int(amount or 0)
        fen[key][1] += int(weighted or 0)
    for key, row in buckets.items():
        row.amount, row.weighted = _money(fen[key][0]), _money(fen[key][1])
    d.forecast = list(buckets.values())


def _won(d: Dashboard, ids: set[int] | None) -> None:
    row = db.session.execute(
        select(func.count(Opportunity.id), func.coalesce(func.sum(_fen(Opportunity.amount)), 0))
        .join(Stage, Stage.id == Opportunity.stage_id)
        .where(Stage.kind == "won", Opportunity.closed_at >= d.window.month_start, _in(Opportunity.owner_id, ids))
    ).one()
    d.won_count, d.won_amount = int(row[0] or 0), _money(row[1])


def _tasks(d: Dashboard, member: Membership, ids: set[int] | None) -> None:
    """Open tasks due today or overdue: counts, and the first few (what ``my_day`` lists, for
    the scope), with a task's customer visibility checked in SQL rather than per row."""
    from crm.activities.services import today as task_today  # the tasks context's "today", like my_day

    on = task_today()
    readable = or_(
        Task.customer_id.is_(None),
        Task.customer_id.in_(select(Customer.id).where(Customer.archived_at.is_(None), customer_filter(member))),
    )
    base = and_(Task.done_at.is_(None), Task.due_on <= on, _in(Task.assignee_id, ids), readable)
    row = db.session.execute(
        select(
            func.coalesce(func.sum(case((Task.due_on == on, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Task.due_on < on, 1), else_=0)), 0),
        ).where(base)
    ).one()
    d.tasks_today, d.tasks_overdue = int(row[0] or 0), int(row[1] or 0)
    d.tasks = list(
        db.session.scalars(
            select(Task)
            .where(base)
            .options(joinedload(Task.customer), joinedload(Task.assignee).joinedload(Membership.user))
            .order_by(Task.due_on, Task.id)
            .limit(LIST_LIMIT)
        )
    )


def _followups(d: Dashboard, ids: set[int] | None, tz: str | None) -> None:
    moments = db.session.scalars(
        select(FollowUp.occurred_at).where(
            FollowUp.occurred_at >= d.window.week_start,
            FollowUp.occurred_at < d.window.week_end,
            _in(FollowUp.author_id, ids),
        )
    ).all()
    per_day = dict.fromkeys(d.window.week_days, 0)
    for moment in moments:
        day = d.window.local_date(moment, tz)
        if day in per_day:
            per_day[day] += 1
    d.followups_by_day = list(per_day.items())
    d.followups_week = sum(per_day.values())
    d.followups_latest = list(
        db.session.scalars(
            select(FollowUp)
            .where(_in(FollowUp.author_id, ids))
            .options(joinedload(FollowUp.customer), joinedload(FollowUp.author).joinedload(Membership.user))
            .order_by(FollowUp.occurred_at.desc(), FollowUp.id.desc())
            .limit(5)
        )
    )


def _contracts(d: Dashboard, ids: set[int] | None) -> None:
    until = d.window.today + timedelta(days=EXPIRY_DAYS)
    rows = db.session.scalars(
        select(Contract)
        .where(
            Contract.status == "active",
            Contract.ends_on >= d.window.today,
            Contract.ends_on <= until,
            _in(Contract.owner_id, ids),
        )
        .options(joinedload(Contract.customer))
        .order_by(Contract.ends_on, Contract.id)
        .limit(LIST_LIMIT * 2)
    ).all()
    d.contracts_expiring = [(c, (c.ends_on - d.window.today).days) for c in rows if c.ends_on]


# --- charts: Chart.js configs; money goes as exact strings, never floats ---------------------

GREEN, GREY, YELLOW, BLUE = "#1f6f5c", "#adb5bd", "#f2c14e", "#4c8bf5"


def charts(d: Dashboard) -> dict[str, dict[str, Any]]:
    return {
        "pipeline": {
            "type": "bar",
            "data": {
                "labels": [r.label for r in d.by_stage],
                "datasets": [
                    {"label": _("Amount"), "data": [str(r.amount) for r in d.by_stage], "backgroundColor": GREY},
                    {"label": _("Weighted"), "data": [str(r.weighted) for r in d.by_stage], "backgroundColor": GREEN},
                ],
            },
            "options": {"plugins": {"legend": {"display": True}}, "scales": {"y": {"beginAtZero": True}}},
        },
        "followups": {
            "type": "bar",
            "data": {
                "labels": [day.strftime("%m-%d") for day, _n in d.followups_by_day],
                "datasets": [
                    {"label": _("Follow-ups"), "data": [n for _day, n in d.followups_by_day], "backgroundColor": BLUE}
                ],
            },
            "options": {"scales": {"y": {"beginAtZero": True, "ticks": {"precision": 0}}}},
        },
        "forecast": {
            "type": "line",
            "data": {
                "labels": [m.key for m in d.forecast],
                "datasets": [
                    {
                        "label": _("Weighted"),
                        "data": [str(m.weighted) for m in d.forecast],
                        "borderColor": GREEN,
                        "backgroundColor": GREEN,
                        "tension": 0.2,
                    },
                    {
                        "label": _("Amount"),
                        "data": [str(m.amount) for m in d.forecast],
                        "borderColor": YELLOW,
                        "backgroundColor": YELLOW,
                        "borderDash": [4, 4],
                    },
                ],
            },
            "options": {"plugins": {"legend": {"display": True}}, "scales": {"y": {"beginAtZero": True}}},
        },
    }
