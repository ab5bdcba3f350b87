"""Who may see a job and download its result: the member who asked, or an administrator —
and only while they still hold the permission the job kind needs."""

from __future__ import annotations

from roles.checks import can
from tenants.models import Membership
from workers.models import JobRecord

KIND_PERMISSION = {
    "audit_export": "audit.view",
    "customers_export": "sales.access",
    "import_commit": "imports.run",
    "ledger_export": "sales.access",
    "members_export": "members.export",
    "payroll_run": "payroll.manage",
    "period_close": "periods.close",
    "pool_rules": "settings.manage",
    "report_export": "finance.access",
    "sales_daily": "settings.manage",
    "work_reports_export": "reports.manage",
}


def can_see_job(member: Membership, job: JobRecord) -> bool:
    needed = KIND_PERMISSION.get(job.kind)
    if needed is None or not can(member, needed):
        return False
    return job.requested_by_id == member.id or can(member, "members.manage")
