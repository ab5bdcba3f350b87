"""The every-few-minutes sweeps that `rq cron` runs without job records (workers/jobs/scheduled.py)."""

from __future__ import annotations

from datetime import timedelta

import workers.runner
from crm.db import utcnow
from tests import announcement_factories as af
from workers.jobs import scheduled


def test_the_sweep_publishes_scheduled_announcements_in_every_workspace_once(app, tenant_a, tenant_b, monkeypatch):
    monkeypatch.setattr(workers.runner, "_app", app)
    later = utcnow() + timedelta(hours=1)
    a = af.announcement(app, tenant_a["admin"], "甲方排期公告", publish_at=later)
    b = af.announcement(app, tenant_b["admin"], "乙方排期公告", publish_at=later)
    assert scheduled.publish_announcements() == 0  # not yet
    af.shift(app, tenant_a.id, a, publish_at=utcnow() - timedelta(minutes=1))
    af.shift(app, tenant_b.id, b, publish_at=utcnow() - timedelta(minutes=1))
    assert scheduled.publish_announcements() == 2
    assert scheduled.publish_announcements() == 0
    assert af.notes(app, tenant_a["sales"], "announcement.published") == [af.published_title(app, "甲方排期公告")]
    assert af.notes(app, tenant_b["sales"], "announcement.published") == [af.published_title(app, "乙方排期公告")]


def test_one_workspace_failing_does_not_stop_the_others(app, tenant_a, tenant_b, monkeypatch):
    monkeypatch.setattr(workers.runner, "_app", app)
    from tenants.context import current_tenant

    seen = []

    def sweep(now):
        if current_tenant.id == tenant_a.id:
            raise RuntimeError("boom")
        seen.append(current_tenant.id)
        return 1

    assert scheduled.for_each_workspace(sweep) == 1
    assert seen == [tenant_b.id]
