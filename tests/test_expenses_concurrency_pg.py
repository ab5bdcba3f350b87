"""PostgreSQL only: two finance members paying the same reviewed claim at once post it once —
the second waits on the claim's row lock, then sees it paid and is refused."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from crm.books.errors import RuleViolation
from crm.books.models import JournalEntry
from crm.db import db
from crm.expenses import services
from crm.expenses.models import ExpenseClaim
from tenants.context import tenant_context
from tenants.models import Membership, Tenant
from tests.area_expenses import make_claim
from tests.books_factories import setup_books
from tests.helpers import in_tenant


@pytest.fixture
def pg_only(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks are PostgreSQL's")


def test_a_claim_paid_twice_at_once_is_posted_once(app, tenant_a, pg_only):
    t = tenant_a
    with in_tenant(app, t.id, t["owner"].user_id):
        tenant = db.session.get(Tenant, t.id)
        setup_books(tenant)
        rep, boss, fin = (db.session.get(Membership, t[r].id) for r in ("sales", "sales_manager", "finance"))
        claim = make_claim(rep)
        services.submit_claim(tenant, rep, claim)
        services.approve_claim(tenant, boss, claim)
        services.review_claim(tenant, fin, claim)
        claim_id = claim.id
        db.session.commit()
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def pay(role: str) -> None:
        with app.app_context(), tenant_context(t.id, user_id=t[role].user_id):
            actor = db.session.get(Membership, t[role].id)
            c = db.session.get(ExpenseClaim, claim_id)
            barrier.wait()
            try:
                services.pay_claims(db.session.get(Tenant, t.id), actor, [c], date(2026, 3, 10))
                db.session.commit()
                outcomes.append("paid")
            except RuleViolation as refused:
                db.session.rollback()
                outcomes.append(refused.rule)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=pay, args=(r,)) for r in ("finance", "admin")]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert sorted(outcomes) == ["paid", "wrong_status"]
    with in_tenant(app, t.id):
        n = db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.source_type == "expense_claim"))
        assert n == 1
