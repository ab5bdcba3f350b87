"""Historical orders from a hand-made 销售台账: a two-row merged header, title rows, 小计/合计 rows,
1.2万 and dates in every form; rows grouped into orders by 订单号 (else one order per row, keyed
by a hash of date + customer + product + amount); customers matched or created, products matched,
salespeople matched (unknown ones listed); re-import updates; undo takes it back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.db import db
from crm.orders.models import Order
from crm.sales.models import Customer
from tests import imports_factories as f
from tests.factories import member_row
from tests.helpers import bearer, in_tenant, post, text_of

D = Decimal


@pytest.fixture
def ledger_a(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        f.ledger_catalogue(member_row(tenant_a["owner"]))
        db.session.commit()
    return tenant_a


@pytest.fixture
def owner_token(ledger_a, token_for):
    return token_for(ledger_a["owner"])


def _upload(client, token, data: bytes | None = None):
    form = {"file": (BytesIO(data or f.sales_ledger()), "销售台账.xlsx"), "kind": "orders"}
    return client.post("/api/v1/imports", data=form, headers=bearer(token), content_type="multipart/form-data")


def _commit(client, token, batch_id: int, mode: str = "good_rows"):
    return client.post(f"/api/v1/imports/{batch_id}/commit", json={"mode": mode}, headers=bearer(token))


def _orders(app, tenant_id):
    with in_tenant(app, tenant_id):
        rows = db.session.scalars(
            select(Order).options(selectinload(Order.lines), selectinload(Order.customer)).order_by(Order.id)
        )
        return [
            (o.number, o.order_date, o.customer.name, o.province, o.owner.user.name if o.owner else None,
             o.delivery_status, o.total_excl, o.total_incl, [(x.description, x.quantity) for x in o.lines])
            for o in rows
        ]  # fmt: skip


def test_the_dry_run_reads_a_hand_made_ledger(app, client, ledger_a, owner_token):
    r = _upload(client, owner_token)
    assert r.status_code == 201, r.json
    rep = r.json
    assert rep["header_row"] == 3
    assert rep["headers"][9:11] == ["金额(不含税)", "金额(含税)"]
    assert rep["mapping"] == {"1": "date", "2": "order_no", "3": "customer", "4": "region", "5": "owner",
                              "6": "product", "7": "quantity", "8": "unit_price", "9": "amount",
                              "10": "amount_incl", "11": "tax_rate", "12": "status"}  # fmt: skip
    assert rep["counts"] == {"rows": 6, "new": 4, "updated": 0, "unchanged": 0, "duplicate": 0, "invalid": 2,
                             "totals_skipped": 2}  # fmt: skip
    assert rep["unknown_salespeople"] == ["赵六"]
    by_row = {(p["row"], p["column"]): p["reason"] for p in rep["problems"]}
    assert "赵六" in by_row[(8, "业务员")]
    assert "不存在的产品" in by_row[(9, "产品")]
    assert _orders(app, ledger_a.id) == []


def test_good_rows_become_orders_through_the_order_services(app, client, ledger_a, owner_token):
    b = _upload(client, owner_token).json
    assert _commit(client, owner_token, b["id"]).status_code == 202
    got = _orders(app, ledger_a.id)
    assert got == [
        ("SO-001", date(2026, 3, 5), "北京百川科技有限公司", "华北", "张伟", "delivered", D("27580.50"),
         D("31165.97"), [("服务器", D("2")), ("交换机", D("1"))]),
        (got[1][0], date(2026, 3, 5), "上海东方贸易有限公司", "华东", "刘洋", "pending", D("12000.00"), D("12720.00"),
         [("实施服务", D("10"))]),
        ("SO-002", date(2026, 3, 9), "上海东方贸易有限公司", "华东", "刘洋", "cancelled", D("7161.00"), D("8091.93"),
         [("交换机", D("2"))]),
    ]  # fmt: skip
    assert got[1][0] not in ("SO-001", "SO-002")  # numbered by the workspace's order numbering
    with in_tenant(app, ledger_a.id):
        names = sorted(c.name for c in db.session.scalars(select(Customer)))
        assert names == ["上海东方贸易有限公司", "北京百川科技有限公司"]  # created once, the other matched
        east = db.session.scalars(select(Customer).where(Customer.name == "上海东方贸易有限公司")).one()
        assert east.owner.user.name == "刘洋"


def test_importing_the_same_ledger_again_updates_instead_of_duplicating(app, client, ledger_a, owner_token):
    b = _upload(client, owner_token).json
    _commit(client, owner_token, b["id"])
    again = _upload(client, owner_token).json
    assert again["counts"]["new"] == 0 and again["counts"]["unchanged"] == 4
    # Row 7 delivered since, and its region corrected: the same order is updated.
    changed = _upload(client, owner_token, f.sales_ledger(f.sales_ledger_rows("已发货", "上海"))).json
    assert changed["counts"]["updated"] == 1 and changed["counts"]["new"] == 0
    assert _commit(client, owner_token, changed["id"]).status_code == 202
    orders = _orders(app, ledger_a.id)
    assert len(orders) == 3 and orders[1][3:6] == ("上海", "刘洋", "delivered")
    # Undo of the second import puts the order back as it was.
    r = client.post(f"/api/v1/imports/{changed['id']}/undo", headers=bearer(owner_token))
    assert r.status_code == 200, r.json
    assert _orders(app, ledger_a.id)[1][3:6] == ("华东", "刘洋", "pending")


def test_undo_deletes_the_orders_and_the_customers_the_import_created(app, client, ledger_a, owner_token):
    b = _upload(client, owner_token).json
    _commit(client, owner_token, b["id"])
    r = client.post(f"/api/v1/imports/{b['id']}/undo", headers=bearer(owner_token))
    assert r.status_code == 200 and r.json["status"] == "undone"
    assert _orders(app, ledger_a.id) == []
    with in_tenant(app, ledger_a.id):
        assert [c.name for c in db.session.scalars(select(Customer))] == ["北京百川科技有限公司"]
    # Undone: the ledger comes in again as new orders.
    assert _upload(client, owner_token).json["counts"]["new"] == 4


def test_all_or_nothing_refuses_a_ledger_with_problems(app, client, ledger_a, owner_token):
    b = _upload(client, owner_token).json
    r = _commit(client, owner_token, b["id"], "all")
    assert r.status_code == 422
    assert _orders(app, ledger_a.id) == []


def test_amounts_that_do_not_add_up_are_named(app, client, ledger_a, owner_token):
    rows = f.sales_ledger_rows()
    rows[4][9] = "2.5万"  # 2 × 12,000 is not 25,000
    rep = _upload(client, owner_token, f.sales_ledger(rows)).json
    reasons = {(p["row"], p["column"]): p["reason"] for p in rep["problems"]}
    assert "24,000.00" in reasons[(5, "金额(不含税)")]
    assert (6, "订单号") in reasons  # the other line of SO-001 is left out with it


def test_the_orders_kind_in_the_pages_and_for_a_rep(app, client, client_as, ledger_a, token_for):
    c = client_as(ledger_a["owner"])
    base = f"/w/{ledger_a.slug}/sales/imports"
    page = text_of(c.get(base))
    assert 'value="orders"' in page and 'value="journal_entries"' not in page
    r = post(c, base, {"kind": "orders", "file": (BytesIO(f.sales_ledger()), "台账.xlsx")},
             content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 302
    show = text_of(c.get(r.headers["Location"]))
    assert "赵六" in show and "金额(含税)" in show
    assert _upload(client, token_for(ledger_a["sales"])).status_code == 403
