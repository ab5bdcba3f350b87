"""The demo workspace (`flask seed demo`, run by `make run`): the whole sales flow, consistent
amounts, idempotent, and a sales dashboard with something in every chart."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.activities.models import FollowUp, Task
from crm.catalog.pricing import line_amounts
from crm.contracts.models import Contract
from crm.db import db, utcnow
from crm.orders.models import Order
from crm.pipeline import services as pipeline
from crm.pipeline.models import Opportunity, Stage
from crm.quotes.models import Quote
from tenants.models import Tenant
from tests.helpers import in_tenant, login

DEMO_PASSWORD = "taizhang-demo-2026"


@pytest.fixture
def seeded(app):
    """Seed the demo workspace on an empty database; returns its tenant id."""
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    with app.app_context():
        return db.session.scalars(select(Tenant.id).where(Tenant.slug == "demo")).one()


def _counts(app, tid):
    with in_tenant(app, tid):
        return {
            model.__name__: db.session.scalar(select(func.count(model.id)))
            for model in (Opportunity, FollowUp, Task, Quote, Contract, Order)
        }


def test_the_seed_covers_every_stage_with_rotting_won_and_lost_deals(app, seeded):
    with in_tenant(app, seeded):
        opps = db.session.scalars(select(Opportunity)).all()
        stages = db.session.scalars(select(Stage)).all()
        assert {o.stage_id for o in opps} == {s.id for s in stages}
        assert any(pipeline.is_rotting(o) for o in opps)
        lost = [o for o in opps if o.stage.kind == "lost"]
        assert lost and all(o.lost_reason_id is not None and o.closed_at is not None for o in lost)
        won = [o for o in opps if o.stage.kind == "won"]
        assert len(won) >= 2 and all(o.closed_at is not None for o in won)
        assert all(o.amount > 0 and o.owner_id for o in opps)


def test_the_seed_spreads_follow_ups_over_weeks_and_leaves_tasks_overdue(app, seeded):
    now = utcnow()
    with in_tenant(app, seeded):
        moments = db.session.scalars(select(FollowUp.occurred_at)).all()
        assert any(now - m < timedelta(days=1) for m in moments)
        assert any(m < now - timedelta(days=14) for m in moments)
        assert all(m <= now for m in moments)
        tasks = db.session.scalars(select(Task)).all()
        assert any(t.overdue for t in tasks) and any(not t.overdue for t in tasks)


def test_quotes_contracts_and_orders_have_every_status_and_amounts_that_add_up(app, seeded):
    today = utcnow().date()
    with in_tenant(app, seeded):
        quotes = db.session.scalars(select(Quote)).all()
        assert {"draft", "sent", "accepted"} <= {q.status for q in quotes}
        for q in quotes:
            for ln in q.lines:
                a = line_amounts(ln.quantity, ln.unit_price, ln.tax_rate, ln.discount_pct)
                assert (ln.amount_excl, ln.tax, ln.amount_incl) == (a.excl, a.tax, a.incl)
            assert q.total_excl == sum((ln.amount_excl for ln in q.lines), Decimal("0"))
            assert q.total_incl == q.total_excl + q.total_tax
        contracts = {c.status: c for c in db.session.scalars(select(Contract))}
        assert {"pending", "active", "expired"} <= set(contracts)
        assert 15 <= (contracts["active"].ends_on - today).days <= 25
        assert contracts["expired"].ends_on < today
        for c in contracts.values():
            assert c.payments and sum((p.amount for p in c.payments), Decimal("0")) == c.amount
            assert c.quote is not None and c.amount == c.quote.total_incl
        orders = db.session.scalars(select(Order)).all()
        assert {"pending", "partial", "delivered"} <= {o.delivery_status for o in orders}
        for o in orders:
            assert o.total_incl == sum((ln.amount_incl for ln in o.lines), Decimal("0"))
            assert o.contract_id is not None or o.quote_id is not None
        numbers = [q.number for q in quotes] + [c.number for c in contracts.values()] + [o.number for o in orders]
        assert len(numbers) == len(set(numbers))
        assert all(re.fullmatch(r"(QT|HT|SO)-\d{4}-\d{4}", n) for n in numbers)


def test_seeding_twice_adds_nothing(app, seeded):
    before = _counts(app, seeded)
    assert all(before.values())
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    assert _counts(app, seeded) == before


def test_after_the_seed_the_sales_dashboard_renders_with_every_chart_filled(app, seeded):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, "manager@demo.taizhang.local", DEMO_PASSWORD)
    r = client.get("/w/demo/sales/?scope=team")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    charts = {
        name: json.loads(raw.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&"))
        for name, raw in re.findall(r'data-testid="chart-(\w+)" data-chart=\'([^\']*)\'', html)
    }
    assert set(charts) == {"pipeline", "forecast", "followups"}
    for name, cfg in charts.items():
        values = [Decimal(str(v)) for ds in cfg["data"]["datasets"] for v in ds["data"]]
        assert any(v > 0 for v in values), name
    assert 'data-testid="contracts-expiring"' in html and "HT-" in html


def test_the_demo_office_has_announcements_articles_and_a_prefilled_report(app, seeded):
    from crm.announcements.models import Announcement
    from crm.kb.models import KbArticle
    from crm.workreports.models import WorkReport

    with in_tenant(app, seeded):
        counts = {
            m.__name__: db.session.scalar(select(func.count(m.id))) for m in (Announcement, KbArticle, WorkReport)
        }
        report = db.session.scalars(select(WorkReport)).one()
        assert report.status == "submitted" and report.recipients  # the rep's manager reads it
    assert counts == {"Announcement": 2, "KbArticle": 3, "WorkReport": 1}
    again = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert again.exit_code == 0
    with in_tenant(app, seeded):
        assert db.session.scalar(select(func.count(KbArticle.id))) == 3
        assert db.session.scalar(select(func.count(WorkReport.id))) == 1
