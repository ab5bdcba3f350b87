"""Small scheduled sweeps run straight from `rq cron` (workers/cron.py), every few minutes.

Unlike the nightly upkeep (workers/jobs/sales_daily.py) these leave no job record: a record
every five minutes per workspace would bury the jobs page, and each sweep is a query that
usually finds nothing. Each workspace runs in its own tenant context and transaction, so one
workspace's failure is logged and rolled back without stopping the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from crm.announcements.services import publish_due
from crm.db import db, utcnow
from crm.workreports.services import remind_missing
from tenants.context import tenant_context
from tenants.models import Tenant
from workers.runner import get_app

log = logging.getLogger("taizhang.jobs")


def for_each_workspace(sweep: Callable[[datetime], int]) -> int:
    """Run sweep(now) in every workspace; the total it reports."""
    app = get_app()
    total = 0
    now = utcnow()
    with app.app_context():
        for tid in list(db.session.scalars(select(Tenant.id).order_by(Tenant.id))):
            try:
                with tenant_context(tid):
                    total += sweep(now)
                    db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("scheduled %s failed for workspace %s", sweep.__name__, tid)
    return total


def publish_announcements() -> int:
    """Announcements whose publish-at has passed: tell their audience (every five minutes)."""
    return for_each_workspace(publish_due)


def remind_work_reports() -> int:
    """Members past a work-report deadline: one reminder per period (hourly)."""
    return for_each_workspace(remind_missing)
