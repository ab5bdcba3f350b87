"""Running a job: enter the app and the job's tenant, claim the record, call the job function.

A job runs at most once to completion: a record already finished is left alone, so a job
that RQ runs again after a worker crash does not do its work twice. Transient errors
(database or Redis hiccups) are re-raised for RQ to retry; anything else fails the record
with a message a person understands.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Callable
from typing import Any

from flask import Flask
from rq.worker import Worker
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from crm.db import db, utcnow
from tenants.context import TenantContextMissing, tenant_context
from tenants.rls import apply_settings
from workers.models import JobRecord

log = logging.getLogger("taizhang.jobs")

TRANSIENT = (OperationalError, ConnectionError, TimeoutError)

_app: Flask | None = None


def get_app() -> Flask:
    """The worker's app, built once per process (before forking, by TaizhangWorker)."""
    global _app
    if _app is None:
        from crm import create_app

        _app = create_app()
    return _app


def use_app(app: Flask) -> None:
    """Hand the worker an app already built (by `flask worker`), so it is not built twice."""
    global _app
    _app = app


def _after_fork_in_child() -> None:
    # RQ forks a work horse per job: pooled connections inherited from the parent must not
    # be shared with it, so the child drops them (without closing the parent's sockets).
    if _app is not None:
        with _app.app_context():
            db.engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


class TaizhangWorker(Worker):
    """`rq worker --worker-class workers.runner.TaizhangWorker`: builds the app before forking."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        get_app()
        super().__init__(*args, **kwargs)


class JobFailed(Exception):
    """Raised by job functions with a message meant for the person who asked."""


class Progress:
    """Progress written on its own short transaction, so the page sees it while the job runs."""

    def __init__(self, tenant_id: int, job_id: int) -> None:
        self.tenant_id = tenant_id
        self.job_id = job_id

    def __call__(self, percent: int, message: str | None = None) -> None:
        with db.engine.begin() as conn:
            apply_settings(conn, self.tenant_id)
            # Core update on the table: the ORM guard needs a session, this is a bare connection.
            table = JobRecord.__table__
            conn.execute(
                update(table)  # type: ignore[arg-type]
                .where(table.c.id == self.job_id, table.c.tenant_id == self.tenant_id)
                .values(progress=max(0, min(100, int(percent))), message=message)
            )


def run_job(tenant_id: int, job_id: int) -> str:
    """The RQ entry point: a function of ids."""
    return execute(get_app(), tenant_id, job_id)


def execute(app: Flask, tenant_id: int | None, job_id: int) -> str:
    if tenant_id is None:
        raise TenantContextMissing("a job must carry its tenant_id")
    from workers.registry import JOBS

    with app.app_context(), tenant_context(tenant_id):
        record = db.session.get(JobRecord, job_id, with_for_update=db.engine.dialect.name == "postgresql")
        if record is None or record.tenant_id != tenant_id:
            raise TenantContextMissing(f"job {job_id} is not in tenant {tenant_id}")
        if record.status == JobRecord.FINISHED:
            db.session.rollback()
            return "already finished"
        record.status = JobRecord.RUNNING
        record.attempts += 1
        record.started_at = record.started_at or utcnow()
        record.error = None
        db.session.commit()
        fn: Callable[..., Any] = JOBS[record.kind]
        progress = Progress(tenant_id, job_id)
        try:
            fn(record, progress)
        except TRANSIENT as exc:
            db.session.rollback()
            _mark(job_id, JobRecord.QUEUED, error="transient", message=str(exc)[:255])
            log.warning("job %s transient failure, will retry: %s", job_id, exc)
            raise
        except JobFailed as exc:
            db.session.rollback()
            _mark(job_id, JobRecord.FAILED, error=str(exc))
            return "failed"
        except Exception:
            db.session.rollback()
            log.error("job %s crashed:\n%s", job_id, traceback.format_exc())
            _mark(job_id, JobRecord.FAILED, error="internal")
            return "failed"
        record.status = JobRecord.FINISHED
        record.progress = 100
        record.finished_at = utcnow()
        db.session.commit()
        return "finished"


def _mark(job_id: int, status: str, error: str | None = None, message: str | None = None) -> None:
    record = db.session.get(JobRecord, job_id)
    if record is None:
        return
    record.status = status
    record.error = error
    if message:
        record.message = message
    if status == JobRecord.FAILED:
        record.finished_at = utcnow()
    db.session.commit()
