"""Submitting jobs: record in the request's transaction, enqueue only after commit.

With REDIS_URL unset the job runs in-process (the embedded default). With Redis configured
but unreachable, submit raises JobsUnavailable before anything is written.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry

from crm.db import db
from tenants.models import Membership
from workers.models import JobRecord

log = logging.getLogger("taizhang.jobs")


class JobsUnavailable(RuntimeError):
    """Redis is configured but cannot be reached; nothing was written."""


def redis_connection() -> Redis | None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    conn = current_app.extensions.get("taizhang_redis")
    if conn is None:
        conn = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        current_app.extensions["taizhang_redis"] = conn
    return conn


def queue(name: str = "default") -> Queue:
    conn = redis_connection()
    if conn is None:
        raise JobsUnavailable("no REDIS_URL")
    return Queue(name, connection=conn)


def submit(kind: str, requested_by: Membership, params: dict[str, Any]) -> JobRecord:
    """Create the record, commit, then enqueue. The caller's pending changes commit with it."""
    from workers.registry import JOBS

    if kind not in JOBS:
        raise KeyError(kind)
    inline = current_app.config.get("JOBS_INLINE") or not current_app.config.get("REDIS_URL")
    if not inline:
        try:
            redis_connection().ping()  # type: ignore[union-attr]
        except RedisError as exc:
            log.warning("redis unreachable, job %s not started: %s", kind, exc)
            raise JobsUnavailable(str(exc)) from exc
    record = JobRecord(kind=kind, params=params, requested_by_id=requested_by.id)
    db.session.add(record)
    db.session.flush()
    job_id, tenant_id = record.id, record.tenant_id
    db.session.commit()
    if inline:
        _run_inline(job_id, tenant_id)
        return record
    try:
        rq_job = queue().enqueue(
            "workers.runner.run_job",
            tenant_id,
            job_id,
            job_id=f"tz-{tenant_id}-{job_id}",
            retry=Retry(max=3, interval=[5, 30, 120]),
            job_timeout=3600,
            failure_ttl=7 * 86400,
        )
    except RedisError as exc:
        record.status = JobRecord.FAILED
        record.error = "queue_unavailable"
        db.session.commit()
        raise JobsUnavailable(str(exc)) from exc
    record.rq_job_id = rq_job.id
    db.session.commit()
    return record


def _run_inline(job_id: int, tenant_id: int) -> None:
    from workers.runner import execute

    mode = current_app.config.get("JOBS_INLINE_MODE", "thread")
    if mode == "sync":
        execute(current_app._get_current_object(), tenant_id, job_id)  # type: ignore[attr-defined]
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    threading.Thread(target=execute, args=(app, tenant_id, job_id), daemon=True, name=f"job-{job_id}").start()


def init_app(app: Flask) -> None:
    app.config.setdefault("JOBS_INLINE_MODE", "thread")
