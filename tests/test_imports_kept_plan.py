"""The commit acts on the dry run's plan only while nothing the plan read has changed since;
otherwise (a customer added, another member committing, a damaged plan file) it plans again."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import select

from crm.db import db
from crm.imports import kept_plan, services
from crm.imports.models import ImportBatch
from crm.sales.models import Customer
from tests import imports_factories as f
from tests.helpers import bearer, in_tenant

ROWS = [
    ["客户名称", "信用代码", "电话"],
    ["北京百川科技有限公司", f.uscc(1), "010-12345"],
    ["上海东方贸易有限公司", None, "021-5555"],
]


@pytest.fixture
def owner_token(app, tenant_a, token_for):
    return token_for(tenant_a["owner"])


@pytest.fixture
def planned(monkeypatch):
    """How many times the file was evaluated (plan) after the dry run."""
    calls: list[int] = []
    real = services.plan

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "plan", counting)
    return calls


def _upload(client, token, rows) -> dict:
    form = {"file": (BytesIO(f.xlsx(rows)), "a.xlsx"), "kind": "customers"}
    r = client.post("/api/v1/imports", data=form, headers=bearer(token), content_type="multipart/form-data")
    assert r.status_code == 201, r.json
    return r.json


def _commit(client, token, batch_id: int, mode: str = "good_rows"):
    return client.post(f"/api/v1/imports/{batch_id}/commit", json={"mode": mode}, headers=bearer(token))


def _names(app, tenant_id) -> list[str]:
    with in_tenant(app, tenant_id):
        return sorted(db.session.scalars(select(Customer.name)))


def _plan_file(app, tenant_id, batch_id) -> Path:
    with in_tenant(app, tenant_id):
        batch = db.session.get(ImportBatch, batch_id)
        return services._imports_dir(tenant_id) / f"{batch.stored_path}.plan.json"


def test_unchanged_workspace_commits_the_dry_runs_plan_without_reading_the_file_again(
    app, client, tenant_a, owner_token, planned
):
    b = _upload(client, owner_token, ROWS)
    path = _plan_file(app, tenant_a.id, b["id"])
    assert path.is_file()
    planned.clear()
    assert _commit(client, owner_token, b["id"]).status_code == 202
    assert planned == []
    assert _names(app, tenant_a.id) == ["上海东方贸易有限公司", "北京百川科技有限公司"]
    with in_tenant(app, tenant_a.id):
        c = db.session.scalars(select(Customer).where(Customer.uscc == f.uscc(1))).one()
        assert c.pinyin_initials.startswith("bjbc") and c.owner_id == tenant_a["owner"].id
    assert not path.exists()  # used once


def test_a_customer_added_after_the_dry_run_makes_the_commit_plan_again_and_update_it(
    app, client, tenant_a, owner_token, planned
):
    b = _upload(client, owner_token, ROWS)
    assert b["counts"]["new"] == 2
    with in_tenant(app, tenant_a.id):
        db.session.add(
            Customer(name="上海东方贸易有限公司", name_normalized="上海东方贸易", owner_id=tenant_a["owner"].id)
        )
        db.session.commit()
    planned.clear()
    assert _commit(client, owner_token, b["id"]).status_code == 202
    assert planned == [1]
    assert _names(app, tenant_a.id) == ["上海东方贸易有限公司", "北京百川科技有限公司"]  # not twice
    got = client.get(f"/api/v1/imports/{b['id']}", headers=bearer(owner_token)).json
    assert (got["counts"]["new"], got["counts"]["updated"]) == (1, 1)  # the report says what was done


def test_an_edited_customer_makes_the_commit_plan_again(app, client, tenant_a, owner_token, planned):
    with in_tenant(app, tenant_a.id):
        db.session.add(
            Customer(name="北京百川科技有限公司", name_normalized="北京百川科技", phone="010-12345", uscc=f.uscc(1))
        )
        db.session.commit()
    b = _upload(client, owner_token, ROWS)
    assert (b["counts"]["new"], b["counts"]["unchanged"]) == (1, 1)
    with in_tenant(app, tenant_a.id):
        c = db.session.scalars(select(Customer).where(Customer.name == "北京百川科技有限公司")).one()
        c.phone = "010-99999"
        db.session.commit()
    planned.clear()
    assert _commit(client, owner_token, b["id"]).status_code == 202
    assert planned == [1]
    with in_tenant(app, tenant_a.id):
        c = db.session.scalars(select(Customer).where(Customer.name == "北京百川科技有限公司")).one()
        assert c.phone == "010-12345"  # the file's value, though the dry run saw no change


def test_a_change_stamped_earlier_than_the_latest_still_makes_the_commit_plan_again(
    app, client, tenant_a, owner_token, planned
):
    """A long transaction stamps its update early and commits after the dry run: the newest
    updated_at does not move, the fingerprint must still."""
    from datetime import timedelta

    from crm.db import utcnow

    with in_tenant(app, tenant_a.id):
        db.session.add(Customer(name="北京百川科技有限公司", name_normalized="北京百川科技", phone="010-12345",
                                uscc=f.uscc(1)))  # fmt: skip
        db.session.add(Customer(name="无关公司", name_normalized="无关"))
        db.session.commit()
    b = _upload(client, owner_token, ROWS)
    with in_tenant(app, tenant_a.id):
        c = db.session.scalars(select(Customer).where(Customer.name == "北京百川科技有限公司")).one()
        c.phone = "010-99999"
        c.updated_at = utcnow() - timedelta(days=1)
        db.session.commit()
    planned.clear()
    assert _commit(client, owner_token, b["id"]).status_code == 202
    assert planned == [1]
    with in_tenant(app, tenant_a.id):
        c = db.session.scalars(select(Customer).where(Customer.name == "北京百川科技有限公司")).one()
        assert c.phone == "010-12345"


def test_another_member_committing_plans_again_with_their_own_scope(app, client, tenant_a, owner_token, token_for,
                                                                    planned):  # fmt: skip
    b = _upload(client, owner_token, ROWS)
    planned.clear()
    assert _commit(client, token_for(tenant_a["admin"]), b["id"]).status_code == 202
    assert planned == [1]
    assert len(_names(app, tenant_a.id)) == 2


@pytest.mark.parametrize("damage", ["garbage", "forged_rows", "missing"])
def test_a_damaged_or_missing_plan_file_is_ignored(app, client, tenant_a, owner_token, planned, damage):
    b = _upload(client, owner_token, ROWS)
    path = _plan_file(app, tenant_a.id, b["id"])
    if damage == "garbage":
        path.write_text("{not json")
    elif damage == "forged_rows":
        kept = json.loads(path.read_text())
        kept["rows"] = [[2, "new", {"nope": 1}]]  # wrong shape
        path.write_text(json.dumps(kept))
    else:
        path.unlink()
    planned.clear()
    assert _commit(client, owner_token, b["id"]).status_code == 202
    assert planned == [1]
    assert len(_names(app, tenant_a.id)) == 2


def test_the_kept_plan_is_handed_out_for_its_own_key_only(app, client, tenant_a, owner_token):
    b = _upload(client, owner_token, [*ROWS, ["坏电话公司", None, "0"]])
    assert b["counts"]["invalid"] == 1
    with in_tenant(app, tenant_a.id):
        directory = services._imports_dir(tenant_a.id)
        batch = db.session.get(ImportBatch, b["id"])
        state = kept_plan.fingerprint("customers", tenant_a.id)
        key = kept_plan.key("customers", tenant_a["owner"].id, batch.sheet, batch.mapping, state)
        rows, bad = kept_plan.load(directory, batch.stored_path, key)
        assert [(n, action) for n, action, *_rest in rows] == [(2, "new"), (3, "new")] and bad == 1
        other = kept_plan.key("customers", tenant_a["admin"].id, batch.sheet, batch.mapping, state)
        assert kept_plan.load(directory, batch.stored_path, other) is None
        remapped = kept_plan.key("customers", tenant_a["owner"].id, batch.sheet, {"0": "name"}, state)
        assert kept_plan.load(directory, batch.stored_path, remapped) is None


def test_tags_round_trip_decimals_and_dates():
    from datetime import date, datetime
    from decimal import Decimal

    values = {"p": Decimal("1280.50"), "d": date(2026, 11, 28), "t": datetime(2026, 11, 28, 9, 30), "s": "x"}
    back = json.loads(json.dumps({k: kept_plan._tag(v) for k, v in values.items()}), object_hook=kept_plan._untag)
    assert back == values and isinstance(back["p"], Decimal)
