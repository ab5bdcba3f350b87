"""Helpers for the work-report tests: arrange through the real services, read back."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask

from crm.db import db, utcnow
from crm.workreports import periods, services
from crm.workreports.models import WorkReport
from tenants.models import Tenant
from tests import factories
from tests.factories import MemberInfo
from tests.helpers import in_tenant


def report(
    app: Flask,
    author: MemberInfo,
    kind: str = "daily",
    day: date | None = None,
    *,
    submit: bool = True,
    submitted_at: Any = None,
    **kw: Any,
) -> int:
    """A report by `author` (submitted unless told otherwise); recipients default to the manager."""
    values = {"done": kw.pop("done", "拜访了客户"), **{k: kw.pop(k) for k in ("planned", "problems") if k in kw}}
    with in_tenant(app, author.tenant_id, author.user_id):
        row = factories.member_row(author)
        tenant = db.session.get(Tenant, author.tenant_id)
        r = services.create_report(row, tenant, kind, day or date.today(), values, **kw)
        if submit:
            services.submit_report(row, r, now=submitted_at)
        db.session.commit()
        return r.id


def read_report(app: Flask, tenant_id: int, report_id: int) -> dict[str, Any]:
    with in_tenant(app, tenant_id):
        r = db.session.get(WorkReport, report_id)
        assert r is not None
        return {
            "kind": r.kind, "period_start": r.period_start, "period_end": r.period_end, "status": r.status,
            "done": r.done, "planned": r.planned, "problems": r.problems, "submitted_at": r.submitted_at,
            "recipients": {x.member_id: x.read_at for x in r.recipients},
            "links": [(x.object_type, x.object_id) for x in r.links],
            "comments": [(x.member_id, x.parent_id, x.body) for x in r.comments],
        }  # fmt: skip


def add_work_reports(app: Flask, world: Any) -> None:
    """For each workspace of a World: the sales rep's submitted daily report of today, sent to
    their manager (the default), linked to the rep's customer. Sets world.work_report_id."""
    world.work_report_id = {}
    for key, t in world.tenants.items():
        world.work_report_id[key] = report(
            app, t["sales"], "daily", tenant_today(app, t.id), links=[("customer", world.customer_id[key])]
        )


def tenant_today(app: Flask, tenant_id: int) -> date:
    """Today in the workspace's time zone (what the pages call today)."""
    with in_tenant(app, tenant_id):
        tenant = db.session.get(Tenant, tenant_id)
        return periods.local_today(tenant, utcnow())
