"""PostgreSQL: a period close and a posting into the same month cannot both succeed."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest

from crm.books import closing
from crm.books import services as books
from crm.books.errors import RuleViolation
from crm.db import db
from tenants.context import tenant_context
from tenants.models import Tenant
from tests.books_factories import make_entry, setup_books
from tests.factories import member_row
from tests.helpers import in_tenant

JAN = date(2026, 1, 20)


@pytest.fixture
def pg_only(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row and advisory locks are PostgreSQL's")


def test_a_posting_waits_for_the_close_and_is_then_refused(app, tenant_a, pg_only):
    with in_tenant(app, tenant_a.id):
        tenant = db.session.get(Tenant, tenant_a.id)
        setup_books(tenant, member_row(tenant_a["finance"]))
        make_entry(tenant, member_row(tenant_a["finance"]), JAN, "100.00", post=True)
        db.session.commit()
    outcome: dict[str, object] = {}

    def posting() -> None:
        with app.app_context(), tenant_context(tenant_a.id):
            t = db.session.get(Tenant, tenant_a.id)
            try:
                make_entry(t, None, JAN, "5.00", post=True, memo="racing")
                db.session.commit()
                outcome["result"] = "posted"
            except RuleViolation as err:
                db.session.rollback()
                outcome["result"] = err.rule

    with in_tenant(app, tenant_a.id):
        tenant = db.session.get(Tenant, tenant_a.id)
        closing.close_period(tenant, member_row(tenant_a["finance"]), 2026, 1)  # holds the month's lock
        racer = threading.Thread(target=posting)
        racer.start()
        time.sleep(0.5)
        assert racer.is_alive(), "the posting should wait for the close"
        db.session.commit()
    racer.join(10)
    assert outcome["result"] == "period_closed"


def test_a_close_waits_for_a_posting_and_carries_it(app, tenant_a, pg_only):
    with in_tenant(app, tenant_a.id):
        tenant = db.session.get(Tenant, tenant_a.id)
        setup_books(tenant, member_row(tenant_a["finance"]))
        db.session.commit()
    outcome: dict[str, object] = {}

    def close() -> None:
        with app.app_context(), tenant_context(tenant_a.id):
            t = db.session.get(Tenant, tenant_a.id)
            closing.close_period(t, None, 2026, 1)
            db.session.commit()
            outcome["revenue"] = books.account_balance(books.account_for("revenue").id, until=date(2026, 1, 31))
            outcome["profit"] = books.account_balance(books.account_for("current_profit").id)

    with in_tenant(app, tenant_a.id):
        tenant = db.session.get(Tenant, tenant_a.id)
        make_entry(tenant, None, JAN, "70.00", post=True)  # holds the shared lock until commit
        closer = threading.Thread(target=close)
        closer.start()
        time.sleep(0.5)
        assert closer.is_alive(), "the close should wait for the posting"
        db.session.commit()
    closer.join(10)
    assert str(outcome["revenue"]) == "0.00" and str(outcome["profit"]) == "-70.00"
