"""Which workspaces (side-navigation sections) a member's roles open."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from roles.checks import can
from tenants.models import Membership


@dataclass(frozen=True)
class Section:
    label: object
    endpoint: str
    permission: str


@dataclass(frozen=True)
class Workspace:
    key: str
    label: object
    icon: str
    permission: str
    endpoint: str
    sections: tuple[Section, ...] = ()


WORKSPACES: tuple[Workspace, ...] = (
    Workspace(
        "sales",
        _l("Sales"),
        "graph-up-arrow",
        "sales.access",
        "shell.sales",
        (
            Section(_l("Customers"), "customers.index", "sales.access"),
            Section(_l("Public pool"), "pool.index", "sales.access"),
            Section(_l("My tasks"), "activities.tasks", "sales.access"),
            Section(_l("Pipeline"), "pipeline.index", "sales.access"),
            Section(_l("Products"), "products.index", "sales.access"),
            Section(_l("Quotes"), "quotes.index", "sales.access"),
        ),
    ),
    Workspace("office", _l("Office"), "megaphone", "office.access", "shell.office"),
    Workspace("finance", _l("Finance"), "calculator", "finance.access", "shell.finance"),
    Workspace("settings", _l("Settings"), "gear", "members.manage", "members.index"),
)


def visible_workspaces(member: Membership | None) -> list[Workspace]:
    return [w for w in WORKSPACES if can(member, w.permission)]
