"""Contact names in the customer search: the name_bigrams key (two Chinese characters have no
trigram, so on PostgreSQL they are looked up in a GIN-indexed bigram array under RLS), and
re-saving collaborators who are already there."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import event, select, text

from crm.db import db
from crm.sales import services
from crm.sales.models import Contact, Customer, CustomerCollaborator
from tests import sales_factories as sf
from tests.helpers import in_tenant, text_of


def _found(app, member, q: str) -> set[str]:
    with in_tenant(app, member.tenant_id, member.user_id):
        return {c.name for c in services.list_customers(sf.actor(member), services.CustomerQuery(q=q))}


def test_two_character_contact_name_finds_the_customer(app, tenant_a, tenant_b, client_as):
    rep = tenant_a["sales"]
    sf.customer(app, rep, "Acme Trading Ltd", contacts=["李晓明", "王芳"])
    sf.customer(app, rep, "Other Holdings", contacts=["晓东明"])  # both characters, not adjacent
    sf.customer(app, tenant_b["sales"], "Beta Works", contacts=["张晓明"])  # another workspace
    assert _found(app, rep, "晓明") == {"Acme Trading Ltd"}
    assert _found(app, rep, "李晓明") == {"Acme Trading Ltd"}
    page = text_of(client_as(rep).get(sf.url(rep, q="晓明")))
    assert "Acme Trading Ltd" in page and "Other Holdings" not in page and "Beta Works" not in page


def test_contact_name_bigrams_follow_the_name(app, tenant_a):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "Gamma Ltd")
    xid = sf.contact(app, rep, cid, name="陈建国")
    with in_tenant(app, tenant_a.id):
        assert db.session.get(Contact, xid).name_bigrams == ["建国", "陈建"]
    assert _found(app, rep, "建国") == {"Gamma Ltd"}
    with in_tenant(app, tenant_a.id, rep.user_id):
        c = db.session.get(Customer, cid)
        services.save_contact(sf.actor(rep), c, {"name": "刘德华"}, db.session.get(Contact, xid))
        db.session.commit()
        assert db.session.get(Contact, xid).name_bigrams == ["刘德", "德华"]
    assert _found(app, rep, "建国") == set()
    assert _found(app, rep, "德华") == {"Gamma Ltd"}


# ================================================================ PostgreSQL: the plan

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"


@pytest.mark.postgres
def test_contact_name_search_uses_the_bigram_index_under_rls(app, tenant_a, owner_engine):
    rng = random.Random(11)
    ids = sf.bulk_customers(app, tenant_a.id, [{"name": f"客户{i}号有限公司"} for i in range(400)])
    with in_tenant(app, tenant_a.id):
        for i in range(4000):
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(2))
            db.session.add(Contact(customer_id=ids[i % len(ids)], name=name))
        db.session.add(Contact(customer_id=ids[7], name="欧阳百川"))
        db.session.commit()
    with owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE customers"))
        conn.execute(text("VACUUM ANALYZE contacts"))

    captured: list[tuple[str, object]] = []
    with in_tenant(app, tenant_a.id, tenant_a["owner"].user_id):

        def _grab(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            captured.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", _grab)
        try:
            found = services.list_customers(sf.actor(tenant_a["owner"]), services.CustomerQuery(q="百川"))
        finally:
            event.remove(db.engine, "before_cursor_execute", _grab)
        assert [c.id for c in found] == [ids[7]]
        assert db.session.execute(text("SELECT current_user")).scalar() != "postgres"
        statement, params = next((s, p) for s, p in captured if "FROM contacts" in s)
        rows = db.session.connection().exec_driver_sql("EXPLAIN " + statement, params).all()
        plan = "\n".join(r[0] for r in rows)
    assert "Bitmap Index Scan on ix_contacts_name_bigrams" in plan, plan
    assert "Seq Scan on contacts" not in plan, plan


# ================================================================ collaborators re-saved


def _collaborators(app, tenant_id: int, cid: int) -> list[tuple[int, bool]]:
    with in_tenant(app, tenant_id):
        return sorted(
            (x.member_id, x.can_edit)
            for x in db.session.scalars(select(CustomerCollaborator).where(CustomerCollaborator.customer_id == cid))
        )


def test_adding_a_collaborator_keeps_the_ones_already_there(app, tenant_a):
    owner = tenant_a["sales_manager"]
    a = sf.add_rep(app, tenant_a, "a", "甲", reports_to=owner.id)
    b = sf.add_rep(app, tenant_a, "b", "乙", reports_to=owner.id)
    cid = sf.customer(app, owner, "协作客户有限公司")
    sf.collaborate(app, owner, cid, a, False)
    sf.collaborate(app, owner, cid, b, True)  # re-saves a: used to fail on the unique constraint
    assert _collaborators(app, tenant_a.id, cid) == sorted([(a.id, False), (b.id, True)])


def test_set_collaborators_updates_in_place_removes_and_inserts(app, tenant_a):
    owner = tenant_a["sales_manager"]
    a = sf.add_rep(app, tenant_a, "a", "甲", reports_to=owner.id)
    b = sf.add_rep(app, tenant_a, "b", "乙", reports_to=owner.id)
    c = sf.add_rep(app, tenant_a, "c", "丙", reports_to=owner.id)
    cid = sf.customer(app, owner, "协作客户有限公司")
    with in_tenant(app, tenant_a.id, owner.user_id):
        row = db.session.get(Customer, cid)
        services.set_collaborators(sf.actor(owner), row, [(a.id, False), (b.id, False)])
        db.session.commit()
        kept_id = next(x.id for x in row.collaborators if x.member_id == a.id)
        # a: can_edit flips; b: removed; c: added — and the same again is no change.
        services.set_collaborators(sf.actor(owner), row, [(a.id, True), (c.id, False)])
        db.session.commit()
        services.set_collaborators(sf.actor(owner), row, [(a.id, True), (c.id, False)])
        db.session.commit()
        assert next(x.id for x in row.collaborators if x.member_id == a.id) == kept_id
    assert _collaborators(app, tenant_a.id, cid) == sorted([(a.id, True), (c.id, False)])
    with in_tenant(app, tenant_a.id):
        from crm.audit.models import AuditEntry

        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "customer.collaborators")
        ).all()
    assert len(actions) == 2
