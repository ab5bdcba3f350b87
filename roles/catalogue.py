"""The catalogue of roles and permissions.

Roles are data: each names the permissions it grants and the data scope it works in.
A member with several roles has the union of their permissions and the widest scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from flask_babel import lazy_gettext as _l


class Scope(IntEnum):
    """How much of the workspace's data a member sees; wider is larger."""

    OWN = 1
    TEAM = 2
    ALL = 3


# Permission names are "<area>.<action>"; later issues add theirs here.
PERMISSIONS: dict[str, object] = {
    "workspace.view": _l("Use the workspace"),
    "members.view": _l("See the member list"),
    "members.manage": _l("Invite, change and deactivate members"),
    "members.export": _l("Export the member list"),
    "ownership.transfer": _l("Transfer ownership"),
    "settings.manage": _l("Change workspace settings"),
    "audit.view": _l("Read the audit log"),
    "sales.access": _l("Open the Sales workspace"),
    "office.access": _l("Open the Office workspace"),
    "finance.access": _l("Open the Finance workspace"),
    "customers.assign": _l("Assign customers to reps and take them back"),
    "customers.merge": _l("Merge duplicate customers"),
    "pipeline.manage": _l("Manage pipelines, stages and lost reasons"),
    "products.manage": _l("Manage the product catalogue"),
    "imports.run": _l("Import customers, contacts and products from Excel"),
    "contracts.approve": _l("Approve or reject contracts"),
    "announcements.manage": _l("Write announcements and see who has read them"),
    "kb.manage": _l("Write and organise knowledge-base articles"),
    "reports.manage": _l("Set work-report rules and follow who has submitted"),
    "books.post_locked": _l("Post on or before the books' lock date, and set that date"),
    "books.write_off": _l("Write off receivables and payables"),
    "periods.close": _l("Close an accounting period"),
    "periods.reopen": _l("Re-open the latest closed period"),
    "targets.manage": _l("Set the sales reps' targets"),
    "expenses.pay": _l("Review and pay expense claims and advances"),
    "payroll.manage": _l("Keep employees' pay and run payroll"),
}

# Pay is private: not even an administrator sees it without being given the payroll role.
_NOT_FOR_ADMIN = {"ownership.transfer", "payroll.manage"}


@dataclass(frozen=True)
class Role:
    name: str
    label: object
    description: object
    permissions: frozenset[str]
    scope: Scope
    rank: int = field(default=0)  # for ordering in pickers, highest first


_EVERYONE = {"workspace.view", "members.view", "office.access"}
_FINANCE = _EVERYONE | {"finance.access", "members.export", "periods.close", "expenses.pay"}

ROLES: dict[str, Role] = {
    r.name: r
    for r in [
        Role(
            "owner",
            _l("Owner"),
            _l("Everything, including transferring ownership."),
            frozenset(PERMISSIONS),
            Scope.ALL,
            50,
        ),
        Role(
            "admin",
            _l("Administrator"),
            _l("Members, settings and the audit log."),
            frozenset(set(PERMISSIONS) - _NOT_FOR_ADMIN),
            Scope.ALL,
            40,
        ),
        Role(
            "sales_manager",
            _l("Sales manager"),
            _l("Sales of everyone who reports to them."),
            frozenset(
                _EVERYONE
                | {
                    "sales.access",
                    "members.export",
                    "customers.assign",
                    "products.manage",
                    "imports.run",
                    "pipeline.manage",
                    "contracts.approve",
                    "kb.manage",
                    "reports.manage",
                    "targets.manage",
                }
            ),
            Scope.TEAM,
            30,
        ),
        Role(
            "sales",
            _l("Sales rep"),
            _l("Their own customers and deals."),
            frozenset(_EVERYONE | {"sales.access"}),
            Scope.OWN,
            20,
        ),
        Role(
            "finance_manager",
            _l("Finance manager"),
            _l("The books, write-offs, re-opening periods and posting before the lock date."),
            frozenset(_FINANCE | {"books.post_locked", "books.write_off", "periods.reopen"}),
            Scope.ALL,
            15,
        ),
        Role(
            "payroll",
            _l("Payroll officer"),
            _l("Employees, payroll runs and payslips; posts payroll into the books."),
            frozenset(_FINANCE | {"payroll.manage"}),
            Scope.ALL,
            12,
        ),
        Role(
            "finance",
            _l("Finance"),
            _l("Receivables, payables and the books."),
            frozenset(_FINANCE),
            Scope.ALL,
            10,
        ),
    ]
}

ROLE_NAMES: tuple[str, ...] = tuple(ROLES)


def permissions_of(role_names: list[str] | tuple[str, ...]) -> frozenset[str]:
    perms: set[str] = set()
    for name in role_names:
        role = ROLES.get(name)
        if role is not None:
            perms |= role.permissions
    return frozenset(perms)


def scope_of(role_names: list[str] | tuple[str, ...]) -> Scope | None:
    scopes = [ROLES[n].scope for n in role_names if n in ROLES]
    return max(scopes) if scopes else None


def unknown_roles(role_names: list[str] | tuple[str, ...]) -> list[str]:
    return [n for n in role_names if n not in ROLES]
