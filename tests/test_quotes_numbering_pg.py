"""Quote numbers under concurrency on PostgreSQL: the sequence row is taken FOR UPDATE."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from crm.db import db
from crm.numbering import NumberSequence, next_number
from tenants.context import tenant_context
from tenants.models import Tenant

pytestmark = pytest.mark.postgres


def test_two_threads_never_get_the_same_number(app, tenant_a):
    per_thread = 15
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            with app.app_context(), tenant_context(tenant_a.id):
                barrier.wait()
                for _ in range(per_thread):
                    tenant = db.session.get(Tenant, tenant_a.id)
                    number = next_number(tenant, "quote")
                    db.session.commit()
                    with lock:
                        results.append(number)
        except BaseException as err:  # noqa: BLE001 (reported by the main thread)
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(results) == 2 * per_thread
    assert len(set(results)) == len(results), sorted(results)
    seqs = sorted(int(n.rsplit("-", 1)[1]) for n in results)
    assert seqs == list(range(1, 2 * per_thread + 1))
    with app.app_context(), tenant_context(tenant_a.id):
        rows = db.session.scalars(select(NumberSequence)).all()
        assert [(r.kind, r.next) for r in rows] == [("quote", 2 * per_thread + 1)]


def test_a_rolled_back_number_is_given_again(app, tenant_a):
    with app.app_context(), tenant_context(tenant_a.id):
        tenant = db.session.get(Tenant, tenant_a.id)
        first = next_number(tenant, "quote")
        db.session.rollback()
        tenant = db.session.get(Tenant, tenant_a.id)
        assert next_number(tenant, "quote") == first
        db.session.commit()
