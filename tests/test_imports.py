"""Imports end to end: dry run, mapping saved, commit (all or good rows), re-import, round trip,
undo, rejected rows, pages, API."""

from __future__ import annotations

import json
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from crm.catalog.models import Product
from crm.db import db
from crm.imports.models import ImportBatch, ImportChange
from crm.sales.models import Contact, Customer
from tenants.models import Tenant
from tests import imports_factories as f
from tests.helpers import bearer, in_tenant, post, text_of


def _upload(client, token, data: bytes, name: str, kind: str, mapping=None):
    form = {"file": (BytesIO(data), name), "kind": kind}
    if mapping is not None:
        form["mapping"] = json.dumps(mapping)
    return client.post("/api/v1/imports", data=form, headers=bearer(token), content_type="multipart/form-data")


@pytest.fixture
def mgr(app, tenant_a, token_for):
    return token_for(tenant_a["sales_manager"])


@pytest.fixture
def owner_token(app, tenant_a, token_for):
    return token_for(tenant_a["owner"])


def _customers(app, tenant_id):
    with in_tenant(app, tenant_id):
        return {
            c.name: (c.uscc, c.phone, c.owner.user.name if c.owner else None, c.archived_at is not None)
            for c in db.session.scalars(select(Customer))
        }


def test_dry_run_counts_and_problems_with_row_numbers(app, client, tenant_a, owner_token):
    r = _upload(client, owner_token, f.customer_ledger(), "台账.xlsx", "customers")
    assert r.status_code == 201, r.json
    rep = r.json
    assert rep["header_row"] == 4
    assert rep["counts"] == {"rows": 5, "new": 2, "updated": 0, "unchanged": 0, "duplicate": 1, "invalid": 2,
                             "totals_skipped": 1}  # fmt: skip
    assert rep["unknown_salespeople"] == ["赵六"]
    by_row = {(p["row"], p["column"]): p["reason"] for p in rep["problems"]}
    assert "赵六" in by_row[(8, "业务员")]
    assert "credit code" in by_row[(9, "统一社会信用代码")]
    assert "row 5" in by_row[(10, "客户名称")]
    assert rep["mapping"] == {"1": "name", "2": "uscc", "3": "phone", "4": "city", "5": "owner", "6": "notes"}
    assert _customers(app, tenant_a.id) == {}  # a dry run changes nothing


def test_good_rows_commit_and_rejected_rows_download(app, client, client_as, tenant_a, owner_token):
    b = _upload(client, owner_token, f.customer_ledger(), "台账.xlsx", "customers").json
    r = client.post(f"/api/v1/imports/{b['id']}/commit", json={"mode": "good_rows"}, headers=bearer(owner_token))
    assert r.status_code == 202, r.json
    got = _customers(app, tenant_a.id)
    assert got == {
        "北京百川科技有限公司": (f.uscc(1), "010-8888 1234", "张伟", False),
        "上海东方贸易有限公司": (f.uscc(2), "13800138000", "刘洋", False),
    }
    with in_tenant(app, tenant_a.id):
        c = db.session.scalars(select(Customer).where(Customer.uscc == f.uscc(2))).one()
        assert c.name_normalized == "上海东方贸易" and c.pinyin_initials.startswith("shdf") and c.search_bigrams
        assert c.phone_normalized == "13800138000"
        batch = db.session.get(ImportBatch, b["id"])
        assert batch.status == "committed"
        assert db.session.scalar(select(func.count(ImportChange.id))) == 2
    # The rejected rows, with the reason beside each.
    page = client_as(tenant_a["owner"])
    x = page.get(f"/w/{tenant_a.slug}/sales/imports/{b['id']}/rejected")
    assert x.status_code == 200
    ws = load_workbook(BytesIO(x.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [8, 9, 10]
    assert "赵六" in rows[1][1] and rows[1][3] == "深圳南山电子有限公司"


def test_all_or_nothing_refuses_a_file_with_bad_rows(app, client, tenant_a, owner_token):
    b = _upload(client, owner_token, f.customer_ledger(), "台账.xlsx", "customers").json
    r = client.post(f"/api/v1/imports/{b['id']}/commit", json={"mode": "all"}, headers=bearer(owner_token))
    assert r.status_code == 422 and "mode" in r.json["errors"]["json"]
    assert _customers(app, tenant_a.id) == {}


def test_all_mode_rolls_back_everything_when_the_data_changed_meanwhile(app, client, tenant_a, owner_token):
    """The dry run was clean, but by the time the job runs a salesperson was deactivated: nothing lands."""
    rows = [["客户名称", "业务员"], ["甲公司", "张伟"], ["乙公司", "刘洋"]]
    b = _upload(client, owner_token, f.xlsx(rows), "a.xlsx", "customers").json
    assert b["counts"]["invalid"] == 0
    with in_tenant(app, tenant_a.id):
        from tenants.models import Membership

        db.session.get(Membership, tenant_a["sales"].id).is_active = False
        db.session.commit()
    r = client.post(f"/api/v1/imports/{b['id']}/commit", json={"mode": "all"}, headers=bearer(owner_token))
    assert r.status_code == 202
    assert _customers(app, tenant_a.id) == {}
    got = client.get(f"/api/v1/imports/{b['id']}", headers=bearer(owner_token)).json
    assert got["status"] == "failed" and got["unknown_salespeople"] == ["刘洋"]


def test_reimport_updates_instead_of_duplicating(app, client, tenant_a, owner_token):
    rows = [
        ["客户名称", "信用代码", "电话"],
        ["北京百川科技有限公司", f.uscc(1), "010-12345"],
        ["无代码公司", None, "0"],
    ]
    b = _upload(client, owner_token, f.xlsx(rows), "a.xlsx", "customers").json
    assert b["counts"]["invalid"] == 1  # "0" is no phone number
    client.post(f"/api/v1/imports/{b['id']}/commit", json={"mode": "good_rows"}, headers=bearer(owner_token))
    rows = [
        ["客户名称", "信用代码", "电话"],
        ["百川科技（北京）改名公司", f.uscc(1), "010-22222"],  # same USCC, new name → update
        ["无代码公司", None, "021-5555"],  # new
        ["无代码 有限公司", None, "021-6666"],  # normalised name: same as the row above → duplicate
    ]
    b2 = _upload(client, owner_token, f.xlsx(rows), "b.xlsx", "customers").json
    assert (b2["counts"]["new"], b2["counts"]["updated"], b2["counts"]["duplicate"]) == (1, 1, 1)
    assert b2["preview"][0]["changes"]["name"] == ["北京百川科技有限公司", "百川科技（北京）改名公司"]
    client.post(f"/api/v1/imports/{b2['id']}/commit", json={"mode": "good_rows"}, headers=bearer(owner_token))
    got = _customers(app, tenant_a.id)
    assert set(got) == {"百川科技（北京）改名公司", "无代码公司"}
    # The same file a third time: nothing new, nothing changed.
    b3 = _upload(client, owner_token, f.xlsx(rows[:3]), "b.xlsx", "customers").json
    assert (b3["counts"]["new"], b3["counts"]["updated"], b3["counts"]["unchanged"]) == (0, 0, 2)


def test_round_trip_through_the_export_updates_the_same_records(app, client, client_as, tenant_a, owner_token):
    from tests import factories

    with in_tenant(app, tenant_a.id):
        from tenants.models import Membership

        rep = db.session.get(Membership, tenant_a["sales"].id)
        c1, _x = factories.make_customer(rep, "杭州西湖茶业有限公司", phone="0571-1111")
        c1_id = c1.id
        db.session.commit()
    page = client_as(tenant_a["sales"])
    r = post(page, f"/w/{tenant_a.slug}/sales/imports/export-customers")
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    job_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    data = page.get(f"/w/{tenant_a.slug}/jobs/{job_id}/download").data
    wb = load_workbook(BytesIO(data))
    ws = wb.active
    assert ws.column_dimensions["A"].hidden
    assert ws["A1"].value == "__taizhang_id__" and ws["B1"].value == "Customer"
    assert ws["B2"].value == "杭州西湖茶业有限公司"
    ws["B2"].value = "杭州西湖龙井茶业有限公司"  # renamed in Excel: only the hidden id still matches
    ws["K2"].value = "0571-2222"
    buf = BytesIO()
    wb.save(buf)
    b = _upload(client, owner_token, buf.getvalue(), "edited.xlsx", "customers").json
    assert (b["counts"]["new"], b["counts"]["updated"]) == (0, 1), b
    assert b["preview"][0]["id"] == c1_id
    assert b["preview"][0]["changes"]["phone"] == ["0571-1111", "0571-2222"]
    client.post(f"/api/v1/imports/{b['id']}/commit", json={"mode": "all"}, headers=bearer(owner_token))
    assert _customers(app, tenant_a.id) == {"杭州西湖龙井茶业有限公司": (None, "0571-2222", "刘洋", False)}


def test_undo_deletes_created_restores_updated_and_keeps_referenced(app, client, tenant_a, owner_token):
    from tests import factories

    with in_tenant(app, tenant_a.id):
        from tenants.models import Membership

        boss = db.session.get(Membership, tenant_a["owner"].id)
        factories.make_customer(boss, "老客户有限公司", phone="010-1000")
        db.session.commit()
    rows = [["客户名称", "电话"], ["老客户有限公司", "010-2000"], ["新客户甲", "010-3000"], ["新客户乙", None]]
    b = _upload(client, owner_token, f.xlsx(rows), "a.xlsx", "customers").json
    client.post(f"/api/v1/imports/{b['id']}/commit", json={"mode": "all"}, headers=bearer(owner_token))
    with in_tenant(app, tenant_a.id):  # someone adds a contact to 新客户乙 after the import
        c = db.session.scalars(select(Customer).where(Customer.name == "新客户乙")).one()
        db.session.add(Contact(customer_id=c.id, name="后来的人"))
        db.session.commit()
    r = client.post(f"/api/v1/imports/{b['id']}/undo", headers=bearer(owner_token))
    assert r.status_code == 200 and r.json["status"] == "undone"
    got = _customers(app, tenant_a.id)
    assert got == {"老客户有限公司": (None, "010-1000", "王建国", False), "新客户乙": (None, None, "王建国", True)}
    with in_tenant(app, tenant_a.id):
        old = db.session.scalars(select(Customer).where(Customer.name == "老客户有限公司")).one()
        assert old.phone_normalized == "0101000"
    again = client.post(f"/api/v1/imports/{b['id']}/undo", headers=bearer(owner_token))
    assert again.status_code == 422


def test_mapping_is_corrected_saved_and_reused(app, client, tenant_a, owner_token):
    rows = [["公司", "座机", "Remark", "城市"], ["甲公司", "010-12345", "hello", "北京"]]
    b = _upload(client, owner_token, f.xlsx(rows), "a.xlsx", "customers").json
    assert b["mapping"] == {"0": "name", "1": "phone", "3": "city"}
    r = client.patch(f"/api/v1/imports/{b['id']}", json={"mapping": {"0": "name", "1": "phone", "2": "notes"}},
                     headers=bearer(owner_token))  # fmt: skip
    assert r.status_code == 200 and r.json["mapping"] == {"0": "name", "1": "phone", "2": "notes"}
    with in_tenant(app, tenant_a.id):
        saved = db.session.get(Tenant, tenant_a.id).settings["imports"]["mappings"]["customers"]
    assert saved["remark"] == "notes" and saved["城市"] == ""
    b2 = _upload(client, owner_token, f.xlsx(rows), "again.xlsx", "customers").json
    assert b2["mapping"] == {"0": "name", "1": "phone", "2": "notes"}
    bad = client.patch(f"/api/v1/imports/{b['id']}", json={"mapping": {"0": "name", "1": "name"}},
                       headers=bearer(owner_token))  # fmt: skip
    assert bad.status_code == 422
    none = client.patch(f"/api/v1/imports/{b['id']}", json={"mapping": {"1": "phone"}}, headers=bearer(owner_token))
    assert none.status_code == 422 and "mapping" in none.json["errors"]["json"]


def test_products_with_prices_as_typed(app, client, tenant_a, mgr):
    b = _upload(client, mgr, f.product_list(), "价目表.xlsx", "products").json
    assert b["counts"]["new"] == 3 and b["counts"]["invalid"] == 3 and b["counts"]["totals_skipped"] == 1
    reasons = {p["row"]: p["reason"] for p in b["problems"]}
    assert set(reasons) == {6, 7, 8}
    client.post(f"/api/v1/imports/{b['id']}/commit", json={"mode": "good_rows"}, headers=bearer(mgr))
    with in_tenant(app, tenant_a.id):
        got = {p.code: (p.list_price, p.vat_rate) for p in db.session.scalars(select(Product))}
    assert got == {
        "P-100": (Decimal("12000.00"), Decimal("0.13")),
        "P-101": (Decimal("3580.50"), Decimal("0.13")),
        "P-102": (Decimal("1200.00"), Decimal("0.06")),
    }


def test_contacts_from_a_gbk_csv(app, client, tenant_a, owner_token):
    rows = [["客户名称"], ["北京百川科技有限公司"]]
    b = _upload(client, owner_token, f.xlsx([["客户名称", "电话"], *[r + ["010-88888"] for r in rows[1:]]]),
                "c.xlsx", "customers").json  # fmt: skip
    client.post(f"/api/v1/imports/{b['id']}/commit", json={"mode": "all"}, headers=bearer(owner_token))
    b = _upload(client, owner_token, f.contact_list_gbk(), "联系人.csv", "contacts").json
    assert (b["counts"]["new"], b["counts"]["invalid"]) == (2, 1)
    assert "不存在的公司" in b["problems"][0]["reason"]
    client.post(f"/api/v1/imports/{b['id']}/commit", json={"mode": "good_rows"}, headers=bearer(owner_token))
    with in_tenant(app, tenant_a.id):
        got = {(x.name, x.title, x.mobile, x.birthday.isoformat()) for x in db.session.scalars(select(Contact))}
        assert all(x.name_bigrams for x in db.session.scalars(select(Contact)))
    assert got == {("王五", "采购经理", "13900001111", "1985-03-05"), ("钱七", "财务", "13900002222", "1990-07-01")}
    again = _upload(client, owner_token, f.contact_list_gbk(), "联系人.csv", "contacts").json
    assert (again["counts"]["new"], again["counts"]["unchanged"]) == (0, 2)


def test_oversize_wrong_type_and_missing_file_are_refused(app, client, tenant_a, owner_token, monkeypatch):
    r = _upload(client, owner_token, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "x.png", "customers")
    assert r.status_code == 422 and "spreadsheet" in r.json["errors"]["json"]["file"][0]
    r = _upload(client, owner_token, f.xlsx([["客户名称", "电话"]]), "x.xlsx", "invoices")
    assert r.status_code == 422 and "kind" in r.json["errors"]["json"]
    from crm.imports import parsing

    monkeypatch.setattr(parsing, "MAX_BYTES", 100)
    r = _upload(client, owner_token, f.xlsx([["客户名称", "电话"]]), "x.xlsx", "customers")
    assert r.status_code == 422 and "larger" in r.json["errors"]["json"]["file"][0]
    r = client.post("/api/v1/imports", data={"kind": "customers"}, headers=bearer(owner_token))
    assert r.status_code == 422
    with in_tenant(app, tenant_a.id):
        assert db.session.scalar(select(func.count(ImportBatch.id))) == 0


def test_a_sales_rep_may_not_import(client, tenant_a, token_for, client_as):
    r = _upload(client, token_for(tenant_a["sales"]), f.customer_ledger(), "a.xlsx", "customers")
    assert r.status_code == 403
    assert client_as(tenant_a["sales"]).get(f"/w/{tenant_a.slug}/sales/imports").status_code == 403


def test_pages_upload_map_commit_undo(app, client_as, tenant_a):
    c = client_as(tenant_a["sales_manager"])
    base = f"/w/{tenant_a.slug}/sales/imports"
    empty = text_of(c.get(base))
    assert "No imports yet" in empty
    r = post(c, base, {"kind": "customers", "file": (BytesIO(f.customer_ledger()), "台账.xlsx")},
             content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 302, text_of(r)
    show = r.headers["Location"]
    page = text_of(c.get(show))
    assert "赵六" in page and "Rejected rows" in page and "header on row 4" in page
    assert "Same customer as row 5" in page
    batch_id = int(show.rstrip("/").split("/")[-1])
    r = post(c, f"{base}/{batch_id}/mapping", {"col-1": "name", "col-2": "uscc", "col-3": "phone", "col-5": "owner"})
    assert r.status_code == 302
    r = post(c, f"{base}/{batch_id}/commit", {"mode": "all"})
    assert r.status_code == 302 and "/jobs/" not in r.headers["Location"]
    assert "problems" in text_of(c.get(show))  # refused, flashed
    r = post(c, f"{base}/{batch_id}/commit", {"mode": "good_rows"})
    assert "/jobs/" in r.headers["Location"]
    assert "Import from Excel" in text_of(c.get(r.headers["Location"]))
    page = text_of(c.get(show))
    assert "Imported" in page and "Undo import" in page
    assert "台账.xlsx" in text_of(c.get(base))
    r = post(c, f"{base}/{batch_id}/undo")
    assert r.status_code == 302
    assert "Undone" in text_of(c.get(show))
    assert _customers(app, tenant_a.id) == {}


def test_the_list_page_issues_a_constant_number_of_queries(app, client_as, tenant_a, count_queries, owner_token,
                                                            client):  # fmt: skip
    c = client_as(tenant_a["owner"])
    _upload(client, owner_token, f.xlsx([["客户名称", "电话"], ["甲", "010-1234"]]), "a.xlsx", "customers")
    c.get(f"/w/{tenant_a.slug}/sales/imports")
    with count_queries() as q1:
        c.get(f"/w/{tenant_a.slug}/sales/imports")
    for i in range(3):
        _upload(client, owner_token, f.xlsx([["客户名称", "电话"], [f"乙{i}", "010-1234"]]), "b.xlsx", "customers")
    with count_queries() as q2:
        c.get(f"/w/{tenant_a.slug}/sales/imports")
    assert q1.count == q2.count


def test_owner_changes_are_previewed_by_name_and_a_plain_id_column_is_not_ours(app, client, tenant_a, owner_token):
    rows = [["ID", "客户名称", "业务员"], [1, "甲公司", "张伟"]]
    b = _upload(client, owner_token, f.xlsx(rows), "a.xlsx", "customers").json
    assert "0" not in b["mapping"]
    client.post(f"/api/v1/imports/{b['id']}/commit", json={"mode": "all"}, headers=bearer(owner_token))
    rows = [["ID", "客户名称", "业务员"], [99, "甲公司", "刘 洋"]]  # case/space-insensitive match
    b = _upload(client, owner_token, f.xlsx(rows), "b.xlsx", "customers").json
    assert b["counts"]["updated"] == 1
    assert b["preview"][0]["changes"] == {"owner_id": ["张伟", "刘洋"]}


def test_undo_of_products_deactivates_one_a_quote_uses(app, client, tenant_a, mgr):
    from tests import factories
    from tests import quote_factories as qf

    b = _upload(client, mgr, f.product_list(), "价目表.xlsx", "products").json
    client.post(f"/api/v1/imports/{b['id']}/commit", json={"mode": "good_rows"}, headers=bearer(mgr))
    with in_tenant(app, tenant_a.id):
        pid = db.session.scalars(select(Product.id).where(Product.code == "P-100")).one()
        rep = factories.member_row(tenant_a["sales"])
        customer, _x = factories.make_customer(rep, "用产品的客户")
        cid = customer.id
        db.session.commit()
    qf.quote(app, tenant_a["sales"], cid, [{"product_id": pid, "description": "服务器", "quantity": "1",
                                            "unit_price": "12000", "tax_rate": "0.13"}])  # fmt: skip
    r = client.post(f"/api/v1/imports/{b['id']}/undo", headers=bearer(mgr))
    assert r.status_code == 200
    with in_tenant(app, tenant_a.id):
        left = {p.code: p.active for p in db.session.scalars(select(Product))}
    assert left == {"P-100": False}
