"""Job kinds and their functions. A job function takes (record, progress) inside its tenant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workers.jobs.audit_export import audit_export
from workers.jobs.customers_export import customers_export
from workers.jobs.import_commit import import_commit
from workers.jobs.ledger_export import ledger_export
from workers.jobs.members_export import members_export
from workers.jobs.payroll_run import payroll_run
from workers.jobs.period_close import period_close
from workers.jobs.pool_rules import pool_rules
from workers.jobs.report_export import report_export
from workers.jobs.sales_daily import sales_daily
from workers.jobs.work_reports_export import work_reports_export

JOBS: dict[str, Callable[..., Any]] = {
    "audit_export": audit_export,
    "customers_export": customers_export,
    "import_commit": import_commit,
    "ledger_export": ledger_export,
    "members_export": members_export,
    "payroll_run": payroll_run,
    "period_close": period_close,
    "pool_rules": pool_rules,
    "report_export": report_export,
    "sales_daily": sales_daily,
    "work_reports_export": work_reports_export,
}
