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
            Section(_l("Contracts"), "contracts.index", "sales.access"),
            Section(_l("Orders"), "orders.index", "sales.access"),
            Section(_l("Sales ledger"), "ledger.index", "sales.access"),
            Section(_l("Import"), "imports.index", "imports.run"),
        ),
    ),
    Workspace(
        "office",
        _l("Office"),
        "megaphone",
        "office.access",
        "shell.office",
        (
            # Announcements, knowledge base, work reports: each context adds its line here.
            Section(_l("Announcements"), "announcements.index", "office.access"),
            Section(_l("Knowledge base"), "kb.index", "office.access"),
            Section(_l("Work reports"), "work_reports.index", "office.access"),
            Section(_l("Expense claims"), "expenses.mine", "office.access"),
            Section(_l("My payslips"), "payroll.my_payslips", "office.access"),
        ),
    ),
    Workspace(
        "finance",
        _l("Finance"),
        "calculator",
        "finance.access",
        "shell.finance",
        (
            # Order: overview, to invoice, invoices, bills, suppliers, receipts, payments, journal,
            # chart of accounts, periods, reports. Each context adds its lines.
            Section(_l("Overview"), "shell.finance", "finance.access"),
            Section(_l("To invoice"), "invoicing.queue", "finance.access"),
            Section(_l("Invoices"), "invoicing.invoices", "finance.access"),
            Section(_l("Bills"), "invoicing.bills", "finance.access"),
            Section(_l("Suppliers"), "invoicing.suppliers", "finance.access"),
            Section(_l("Receipts"), "settlement.receipts", "finance.access"),
            Section(_l("Payments"), "settlement.payments", "finance.access"),
            Section(_l("Journal entries"), "books.entries", "finance.access"),
            Section(_l("Import vouchers"), "journal_imports.index", "finance.access"),
            Section(_l("Chart of accounts"), "books.accounts", "finance.access"),
            Section(_l("Periods"), "books.periods", "finance.access"),
            Section(_l("Reports"), "finreports.index", "finance.access"),
            Section(_l("Claims to pay"), "expenses.review", "expenses.pay"),
            Section(_l("Payroll"), "payroll.index", "payroll.manage"),
        ),
    ),
    Workspace(
        "settings",
        _l("Settings"),
        "gear",
        "members.manage",
        "workspace_settings.home",
        (
            Section(_l("Members"), "members.index", "members.manage"),
            Section(_l("Workspace"), "workspace_settings.workspace", "settings.manage"),
            Section(_l("Letterhead"), "letterhead.index", "settings.manage"),
            Section(_l("Audit log"), "audit.index", "audit.view"),
        ),
    ),
)


def visible_workspaces(member: Membership | None) -> list[Workspace]:
    # A workspace opens to its own permission, or to any of its sections' (settings.manage or
    # audit.view without members.manage still reaches Settings).
    return [w for w in WORKSPACES if can(member, w.permission) or any(can(member, s.permission) for s in w.sections)]
