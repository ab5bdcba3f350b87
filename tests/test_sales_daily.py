"""The nightly sales upkeep job: one run per workspace applies the pool rules, expires quotes past
their validity and contracts past their end, and reminds owners of contracts ending soon."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from unittest.mock import patch

from sqlalchemy import select

from crm.contracts.models import Contract
from crm.db import db, utcnow
from crm.quotes.models import Quote
from crm.sales.models import Customer
from tests import factories
from tests import order_factories as of
from tests import quote_factories as qf
from tests import sales_factories as sf
from tests.helpers import in_tenant
from workers.jobs.sales_daily import local_today
from workers.models import JobRecord


def _run(app, tenant, member):
    from workers.queue import submit

    with in_tenant(app, tenant.id):
        job = submit("sales_daily", factories.member_row(member), {"locale": "en"})
        return db.session.get(JobRecord, job.id)


def test_one_run_returns_idle_customers_expires_quotes_and_contracts_and_reminds(app, tenant_a, tenant_b):
    rep = tenant_a["sales"]
    today = date.today()
    idle = sf.customer(app, rep, "夜间闲置客户有限公司")
    sf.set_fields(app, tenant_a.id, idle, last_followup_at=utcnow() - timedelta(days=45))
    busy = sf.customer(app, rep, "夜间活跃客户有限公司")
    stale_quote = qf.quote(app, rep, busy)
    live_quote = qf.quote(app, rep, busy)
    ended = of.contract(app, rep, busy, title="已到期合同")
    ending = of.contract(app, rep, busy, title="即将到期合同")
    other_tenant_quote = qf.quote(app, tenant_b["sales"], sf.customer(app, tenant_b["sales"], "别家客户有限公司"))
    with in_tenant(app, tenant_a.id):
        for qid, valid in ((stale_quote, today - timedelta(days=1)), (live_quote, today + timedelta(days=5))):
            q = db.session.get(Quote, qid)
            q.status, q.valid_until = "sent", valid
        db.session.get(Contract, ended).ends_on = today - timedelta(days=1)
        db.session.get(Contract, ending).ends_on = today + timedelta(days=10)
        db.session.commit()
    with in_tenant(app, tenant_b.id):
        q = db.session.get(Quote, other_tenant_quote)
        q.status, q.valid_until = "sent", today - timedelta(days=1)
        db.session.commit()

    job = _run(app, tenant_a, tenant_a["admin"])

    assert job.status == "finished"
    assert job.message.startswith("1 customers back to the pool")
    assert "1 quotes expired" in job.message and "1 contracts expired, 1 expiry reminders" in job.message
    with in_tenant(app, tenant_a.id):
        assert db.session.get(Customer, idle).owner_id is None
        assert db.session.get(Customer, busy).owner_id == rep.id
        assert db.session.get(Quote, stale_quote).status == "expired"
        assert db.session.get(Quote, live_quote).status == "sent"
        assert db.session.get(Contract, ended).status == "expired"
        assert db.session.get(Contract, ending).status == "active"
        assert db.session.get(Contract, ending).expiry_reminded_at is not None
    with in_tenant(app, tenant_b.id):  # another workspace's run is its own
        assert db.session.get(Quote, other_tenant_quote).status == "sent"

    again = _run(app, tenant_a, tenant_a["admin"])  # nothing left to do; nobody reminded twice
    assert "0 quotes expired" in again.message and "0 expiry reminders" in again.message


def test_the_day_is_the_workspaces_own(app, tenant_a):
    from datetime import datetime

    with in_tenant(app, tenant_a.id):
        from tenants.models import Tenant

        t = db.session.scalars(select(Tenant).where(Tenant.id == tenant_a.id)).one()
        # 18:30 UTC on 1 March is 02:30 on 2 March in Shanghai, when the nightly run starts.
        with patch("workers.jobs.sales_daily.utcnow", return_value=datetime(2026, 3, 1, 18, 30, tzinfo=UTC)):
            assert local_today(t) == date(2026, 3, 2)
            t.timezone = "Europe/London"
            assert local_today(t) == date(2026, 3, 1)
