"""The daily public-pool run for one workspace (and the cron entry that starts them all)."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from crm.db import db
from crm.sales.pool import apply_rules
from tenants.context import tenant_context
from tenants.models import Tenant
from workers.models import JobRecord
from workers.runner import Progress, get_app


def pool_rules(record: JobRecord, progress: Progress) -> None:
    with force_locale(record.params.get("locale") or "zh_Hans_CN"):
        progress(10, _("Checking idle customers"))
        counts = apply_rules()
        record.message = _("%(returned)d returned to the pool, %(warned)d owners warned.", **counts)[:255]


def enqueue_daily_pool_rules() -> int:
    """Cron entry (workers/cron.py): one recorded job per workspace, so each shows its outcome."""
    from workers.queue import queue

    app = get_app()
    started = 0
    with app.app_context():
        tenant_ids = list(db.session.scalars(select(Tenant.id).order_by(Tenant.id)))
        for tid in tenant_ids:
            with tenant_context(tid):
                job = JobRecord(kind="pool_rules", params={})
                db.session.add(job)
                db.session.flush()
                job_id = job.id
                db.session.commit()
            queue().enqueue("workers.runner.run_job", tid, job_id, job_id=f"tz-{tid}-{job_id}")
            started += 1
    return started
