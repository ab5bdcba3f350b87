"""The nightly sales upkeep for one workspace: pool rules, quotes past their validity, contracts
past their end (and reminders before it). One recorded job per workspace, so each workspace's
job page says what happened to it; the cron entry (workers/cron.py) starts them all."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from crm.contracts.services import expire_and_remind
from crm.db import db, utcnow
from crm.quotes.services import expire_quotes
from crm.sales.pool import apply_rules
from tenants.context import current_tenant, tenant_context
from tenants.models import Tenant
from workers.models import JobRecord
from workers.runner import Progress, get_app


def local_today(tenant: Tenant) -> date:
    """The workspace's calendar day: at 02:00 in Shanghai the UTC date is still yesterday."""
    return utcnow().astimezone(ZoneInfo(tenant.timezone or "Asia/Shanghai")).date()


def sales_daily(record: JobRecord, progress: Progress) -> None:
    today = local_today(current_tenant)
    # Each step commits on its own: a failure in a later step keeps the earlier steps' work, and
    # progress (written on its own connection) is not held up by the step's write lock on SQLite.
    with force_locale(record.params.get("locale") or "zh_Hans_CN"):
        progress(10, _("Checking idle customers"))
        pool = apply_rules()
        db.session.commit()
        progress(45, _("Expiring quotes past their validity"))
        quotes = expire_quotes(today)
        db.session.commit()
        progress(70, _("Expiring contracts and sending reminders"))
        contracts = expire_and_remind(today)
        db.session.commit()
        record.message = _(
            "%(returned)d customers back to the pool, %(warned)d owners warned; %(quotes)d quotes expired; "
            "%(expired)d contracts expired, %(reminded)d expiry reminders.",
            returned=pool["returned"],
            warned=pool["warned"],
            quotes=quotes,
            expired=contracts.get("expired", 0),
            reminded=contracts.get("reminded", 0),
        )[:255]


def enqueue_daily_sales() -> int:
    """Cron entry: one recorded sales_daily job per workspace."""
    from workers.queue import queue

    app = get_app()
    started = 0
    with app.app_context():
        tenant_ids = list(db.session.scalars(select(Tenant.id).order_by(Tenant.id)))
        for tid in tenant_ids:
            with tenant_context(tid):
                job = JobRecord(kind="sales_daily", params={})
                db.session.add(job)
                db.session.flush()
                job_id = job.id
                db.session.commit()
            queue().enqueue("workers.runner.run_job", tid, job_id, job_id=f"tz-{tid}-{job_id}")
            started += 1
    return started
