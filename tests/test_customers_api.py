"""/api/v1/customers and /api/v1/contacts: the same rules, scopes and tenant walls as the UI."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.db import utcnow
from tests import sales_factories as sf
from tests.helpers import ApiClient

VALID = sf.VALID_USCC


@pytest.fixture
def api(client, token_for):
    """``api(member).get(path)`` etc.: requests with that member's bearer token."""

    return lambda member: ApiClient(client, token_for(member))


@pytest.fixture
def rep2(app, tenant_a):
    return sf.add_rep(app, tenant_a, "rep2", "孙丽")


# ================================================================ create


def test_create_returns_201_with_every_field(app, tenant_a, api):
    rep = tenant_a["sales"]
    r = api(rep).post(
        "/customers",
        {
            "name": "北京百川科技有限公司",
            "short_name": "百川",
            "uscc": "91110000600037341l",
            "industry": "软件",
            "level": "A",
            "source": "官网",
            "province": "北京市",
            "city": "北京",
            "address": "海淀区 1 号",
            "phone": "010-6552-9988",
            "email": "Info@BaiChuan.cn",
            "website": "https://baichuan.example.com",
            "status": "active",
            "notes": "备注",
            "tags": ["重点客户", "华东", "重点客户"],
        },
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["id"] and body["owner_id"] == rep.id  # the rep by default
    assert body["uscc"] == VALID and body["email"] == "info@baichuan.cn"
    assert body["tags"] == ["华东", "重点客户"]
    assert body["status"] == "active" and body["level"] == "A" and body["locked"] is False
    assert "confirm_duplicates" not in body
    got = sf.read(app, tenant_a.id, body["id"])
    assert (got["name"], got["short_name"], got["city"], got["website"]) == (
        "北京百川科技有限公司",
        "百川",
        "北京",
        "https://baichuan.example.com",
    )
    (entry,) = sf.audit(app, tenant_a.id, "Customer", body["id"])
    assert entry.action == "customer.created" and entry.member_id == rep.id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "某公司", "level": "D"}, "level"),
        ({"name": "某公司", "status": "vip"}, "status"),
        ({"name": "某公司", "email": "not-an-email"}, "email"),
        ({"name": "某公司", "owner_id": "me"}, "owner_id"),
        ({"name": "某公司", "tags": "甲,乙"}, "tags"),
        ({"name": "某公司", "unknown_field": 1}, "unknown_field"),
        ({"name": "某公司", "uscc": VALID[:17] + "A"}, "uscc"),
        ({"name": "某公司", "uscc": "91110000600037341O"}, "uscc"),
        ({"name": "某公司", "owner_id": 999999}, "owner_id"),
    ],
)
def test_create_validation_errors_name_the_field(app, tenant_a, api, body, field):
    r = api(tenant_a["sales"]).post("/customers", body)
    assert r.status_code == 422, r.get_json()
    errors = r.get_json()["errors"]["json"]
    assert field in errors and errors[field]
    assert sf.count_customers(app, tenant_a.id) == 0


def test_failing_uscc_is_kept_with_a_reason(app, tenant_a, api):
    r = api(tenant_a["sales"]).post(
        "/customers", {"name": "老代码有限公司", "uscc": VALID[:17] + "A", "uscc_override_reason": "早期执照"}
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["uscc_override_reason"] == "早期执照"


def test_a_rep_cannot_create_for_another_rep(app, tenant_a, rep2, api):
    r = api(tenant_a["sales"]).post("/customers", {"name": "越权有限公司", "owner_id": rep2.id})
    assert r.status_code == 422 and "owner_id" in r.get_json()["errors"]["json"]
    assert sf.count_customers(app, tenant_a.id) == 0


def test_owner_id_of_another_workspace_is_refused(app, tenant_a, tenant_b, api):
    r = api(tenant_a["owner"]).post("/customers", {"name": "跨租户有限公司", "owner_id": tenant_b["sales"].id})
    assert r.status_code == 422 and "owner_id" in r.get_json()["errors"]["json"]


@pytest.mark.parametrize(
    ("theirs", "ours", "reason"),
    [
        ({"name": "北京百川科技有限责任公司"}, {"name": "北京百川（科技）有限公司"}, "name"),
        ({"name": "甲有限公司", "phone": "138 0013 8000"}, {"name": "乙有限公司", "phone": "+86-13800138000"}, "phone"),
        ({"name": "丙有限公司", "email": "a@b.cn"}, {"name": "丁有限公司", "email": "A@B.CN"}, "email"),
    ],
)
def test_possible_duplicate_is_409_with_owner_name_then_confirm_creates(app, tenant_a, rep2, api, theirs, ours, reason):
    other = sf.customer(app, rep2, notes="保密", **theirs)
    client = api(tenant_a["sales"])
    r = client.post("/customers", ours)
    assert r.status_code == 409
    body = r.get_json()
    (dup,) = body["errors"]["duplicates"]
    assert dup == {"reason": reason, "owner_name": "孙丽", "customer_id": None}  # not visible to the rep
    assert "保密" not in r.get_data(as_text=True) and str(other) not in str(body["errors"])
    assert sf.count_customers(app, tenant_a.id) == 1
    r = client.post("/customers", {**ours, "confirm_duplicates": True})
    assert r.status_code == 201, r.get_json()
    assert sf.count_customers(app, tenant_a.id) == 2


def test_duplicate_visible_to_the_actor_carries_its_id(app, tenant_a, api):
    mine = sf.customer(app, tenant_a["sales"], "华信贸易有限公司")
    r = api(tenant_a["sales_manager"]).post("/customers", {"name": "华信贸易股份有限公司"})
    assert r.status_code == 409
    assert r.get_json()["errors"]["duplicates"] == [{"reason": "name", "owner_name": "刘洋", "customer_id": mine}]


def test_same_uscc_is_409_even_when_confirmed(app, tenant_a, rep2, api):
    sf.customer(app, rep2, "原有有限公司", uscc=VALID)
    r = api(tenant_a["sales"]).post("/customers", {"name": "另一个有限公司", "uscc": VALID, "confirm_duplicates": True})
    assert r.status_code == 409
    assert [d["reason"] for d in r.get_json()["errors"]["duplicates"]] == ["uscc"]
    assert sf.count_customers(app, tenant_a.id) == 1


# ================================================================ list, filters, cursor


def test_list_filters(app, tenant_a, rep2, api):
    t = tenant_a
    now = utcnow()
    a = sf.customer(
        app, t["sales"], "甲有限公司", level="A", province="北京市", status="active", city="北京", tags=["重点"]
    )
    b = sf.customer(app, t["sales"], "乙有限公司", level="B", province="上海市", city="上海")
    pool = sf.customer(app, t["sales_manager"], "丙有限公司", owner_id=None, level="A", province="上海市")
    other = sf.customer(app, rep2, "丁有限公司", level="A", tags=["重点"])
    sf.set_fields(app, t.id, a, last_followup_at=now - timedelta(days=2))
    sf.set_fields(app, t.id, b, last_followup_at=now - timedelta(days=60))

    def ids(member, query=""):
        r = api(member).get(f"/customers{query}")
        assert r.status_code == 200, r.get_json()
        return {c["id"] for c in r.get_json()["items"]}

    rep, owner = t["sales"], t["owner"]
    assert ids(rep) == {a, b, pool}
    assert ids(owner) == {a, b, pool, other}
    assert ids(owner, f"?owner_id={rep.id}") == {a, b}
    assert ids(owner, "?pool=true") == {pool}
    assert ids(owner, "?level=A") == {a, pool, other}
    assert ids(owner, "?province=上海市") == {b, pool}
    assert ids(owner, "?city=北京") == {a}
    assert ids(owner, "?status=active") == {a}
    assert ids(owner, "?tag=重点") == {a, other}
    assert ids(rep, "?tag=重点") == {a}
    assert ids(owner, "?idle_days=30") == {b, pool, other}
    assert ids(owner, "?q=bjbc") == set()
    assert ids(owner, "?q=乙") == {b}
    assert ids(rep, f"?owner_id={rep2.id}") == set()  # a filter never widens the scope
    # Unknown values are the client's mistake.
    for bad in ("?level=Z", "?status=vip", "?sort=price", "?limit=0", "?limit=500", "?idle_days=0", "?cursor=%%%"):
        r = api(owner).get(f"/customers{bad}")
        assert r.status_code == 422, bad


@pytest.mark.parametrize("sort", ["created", "name", "last_followup"])
def test_cursor_pagination_returns_each_customer_once(app, tenant_a, api, sort):
    rows = [
        {
            "name": f"接口翻页{(i * 7) % 30:02d}有限公司",
            "owner_id": tenant_a["sales"].id,
            "created_at": sf.at(2026, 2, 1) + timedelta(minutes=i // 4),
            "last_followup_at": None if i % 3 == 0 else sf.at(2026, 4, 1) + timedelta(hours=i % 5),
        }
        for i in range(120)
    ]
    made = sf.bulk_customers(app, tenant_a.id, rows)
    client = api(tenant_a["sales"])
    seen, sizes, cursor = [], [], None
    while True:
        r = client.get("/customers", query_string={"sort": sort, "limit": 50, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200
        body = r.get_json()
        seen += [c["id"] for c in body["items"]]
        sizes.append(len(body["items"]))
        cursor = body["next_cursor"]
        if not cursor:
            break
        assert len(sizes) < 10
    assert sizes == [50, 50, 20]
    assert len(seen) == len(set(seen)) == 120 and set(seen) == set(made)


# ================================================================ one customer


def test_get_patch_delete_a_customer(app, tenant_a, api):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "改来改去有限公司", level="B", status="active", tags=["甲"], locked=True)
    client = api(rep)
    r = client.get(f"/customers/{cid}")
    assert r.status_code == 200
    assert r.get_json()["name"] == "改来改去有限公司" and r.get_json()["tags"] == ["甲"]
    # A PATCH changes only what it sends.
    r = client.patch(f"/customers/{cid}", {"level": "A", "tags": ["甲", "乙"]})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["level"], body["status"], body["locked"]) == ("A", "active", True)
    assert sorted(body["tags"]) == sorted(["甲", "乙"])
    changes = sf.audit(app, tenant_a.id, "Customer", cid)[-1].changes
    assert changes["level"] == {"before": "B", "after": "A"} and "status" not in changes and "locked" not in changes
    # An invalid PATCH changes nothing.
    before = sf.read(app, tenant_a.id, cid)
    r = client.patch(f"/customers/{cid}", {"level": "Q", "name": "新名字"})
    assert r.status_code == 422 and "level" in r.get_json()["errors"]["json"]
    r = client.patch(f"/customers/{cid}", {"uscc": "123456", "name": "新名字"})
    assert r.status_code == 422 and "uscc" in r.get_json()["errors"]["json"]
    assert sf.read(app, tenant_a.id, cid) == before
    # DELETE archives: gone from the API, kept in the database with its history.
    assert client.delete(f"/customers/{cid}").status_code == 204
    assert client.get(f"/customers/{cid}").status_code == 404
    assert cid not in {c["id"] for c in client.get("/customers").get_json()["items"]}
    assert sf.read(app, tenant_a.id, cid)["archived_at"] is not None
    assert sf.audit(app, tenant_a.id, "Customer", cid)[-1].action == "customer.archived"
    assert client.delete(f"/customers/{cid}").status_code == 404


def test_patch_by_a_rep_cannot_reassign(app, tenant_a, api):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "不能转移有限公司")
    r = api(rep).patch(f"/customers/{cid}", {"owner_id": tenant_a["sales_manager"].id})
    assert r.status_code == 422 and "owner_id" in r.get_json()["errors"]["json"]
    assert sf.read(app, tenant_a.id, cid)["owner_id"] == rep.id


def test_patch_into_a_duplicate_is_409_then_confirmed(app, tenant_a, api):
    rep = tenant_a["sales"]
    sf.customer(app, rep, "重名有限公司")
    cid = sf.customer(app, rep, "原名有限公司")
    client = api(rep)
    r = client.patch(f"/customers/{cid}", {"name": "重名股份有限公司"})
    assert r.status_code == 409 and r.get_json()["errors"]["duplicates"][0]["owner_name"] == "刘洋"
    assert (
        client.patch(f"/customers/{cid}", {"name": "重名股份有限公司", "confirm_duplicates": True}).status_code == 200
    )


def test_a_collaborator_with_edit_access_patches_with_the_owner_unchanged(app, tenant_a, rep2, api):
    cid = sf.customer(app, rep2, "协作有限公司")
    sf.collaborate(app, rep2, cid, tenant_a["sales"], True)
    client = api(tenant_a["sales"])
    body = client.get(f"/customers/{cid}").get_json()
    # Sending the whole object back, owner included, is fine: the owner does not change.
    r = client.patch(f"/customers/{cid}", {"level": "B", "owner_id": body["owner_id"]})
    assert r.status_code == 200, r.get_json()
    assert sf.read(app, tenant_a.id, cid)["owner_id"] == rep2.id


def test_a_read_only_collaborator_gets_403_on_writes(app, tenant_a, rep2, api, raw_rows):
    cid = sf.customer(app, rep2, "只读有限公司", contacts=["甲"])
    (person,) = sf.contact_rows(app, tenant_a.id, cid)
    sf.collaborate(app, rep2, cid, tenant_a["sales"], False)
    before = raw_rows("customers", "id = :id", {"id": cid}), raw_rows("contacts", "customer_id = :id", {"id": cid})
    client = api(tenant_a["sales"])
    assert client.get(f"/customers/{cid}").status_code == 200
    assert client.get(f"/customers/{cid}/contacts").status_code == 200
    assert client.patch(f"/customers/{cid}", {"level": "A"}).status_code == 403
    assert client.delete(f"/customers/{cid}").status_code == 403
    assert client.post(f"/customers/{cid}/contacts", {"name": "乙"}).status_code == 403
    assert client.patch(f"/contacts/{person.id}", {"title": "经理"}).status_code == 403
    assert client.delete(f"/contacts/{person.id}").status_code == 403
    after = raw_rows("customers", "id = :id", {"id": cid}), raw_rows("contacts", "customer_id = :id", {"id": cid})
    assert after == before


# ================================================================ contacts


def test_contacts_list_create_patch_delete(app, tenant_a, api):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "联系人接口有限公司")
    client = api(rep)
    assert client.get(f"/customers/{cid}/contacts").get_json() == []
    r = client.post(
        f"/customers/{cid}/contacts",
        {"name": "王总", "title": "总经理", "mobile": "13900001111", "birthday": "1975-06-01", "is_primary": True},
    )
    assert r.status_code == 201, r.get_json()
    boss = r.get_json()
    assert boss["customer_id"] == cid and boss["is_primary"] is True and boss["birthday"] == "1975-06-01"
    r = client.post(f"/customers/{cid}/contacts", {"name": "李经理", "reports_to_id": boss["id"]})
    assert r.status_code == 201
    buyer = r.get_json()
    assert buyer["reports_to_id"] == boss["id"] and buyer["is_primary"] is False
    assert [x["name"] for x in client.get(f"/customers/{cid}/contacts").get_json()] == ["王总", "李经理"]
    assert client.get(f"/contacts/{buyer['id']}").get_json()["name"] == "李经理"
    # PATCH changes only what it sends: the boss and primary flag stay.
    r = client.patch(f"/contacts/{buyer['id']}", {"title": "采购经理"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["reports_to_id"] == boss["id"] and r.get_json()["title"] == "采购经理"
    r = client.patch(f"/contacts/{boss['id']}", {"department": "总经办"})
    assert r.get_json()["is_primary"] is True
    # Loops and other customers' contacts are refused with the field named.
    r = client.patch(f"/contacts/{boss['id']}", {"reports_to_id": buyer["id"]})
    assert r.status_code == 422 and "reports_to_id" in r.get_json()["errors"]["json"]
    other = sf.customer(app, rep, "别家有限公司", contacts=["外人"])
    (outsider,) = sf.contact_rows(app, tenant_a.id, other)
    r = client.post(f"/customers/{cid}/contacts", {"name": "新人", "reports_to_id": outsider.id})
    assert r.status_code == 422 and "reports_to_id" in r.get_json()["errors"]["json"]
    r = client.post(f"/customers/{cid}/contacts", {"name": "", "email": "nope"})
    assert r.status_code == 422 and {"name", "email"} <= set(r.get_json()["errors"]["json"])
    assert len(sf.contact_rows(app, tenant_a.id, cid)) == 2
    # DELETE: the reports move up.
    assert client.delete(f"/contacts/{boss['id']}").status_code == 204
    assert client.get(f"/contacts/{boss['id']}").status_code == 404
    (left,) = sf.contact_rows(app, tenant_a.id, cid)
    assert left.id == buyer["id"] and left.reports_to_id is None
    actions = [e.action for e in sf.audit(app, tenant_a.id, "Contact", boss["id"])]
    assert actions == ["contact.created", "contact.updated", "contact.deleted"]


def test_contacts_of_an_archived_customer_are_404(app, tenant_a, api):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "归档的有限公司", contacts=["甲"])
    (person,) = sf.contact_rows(app, tenant_a.id, cid)
    client = api(rep)
    assert client.delete(f"/customers/{cid}").status_code == 204
    assert client.get(f"/customers/{cid}/contacts").status_code == 404
    assert client.get(f"/contacts/{person.id}").status_code == 404


# ================================================================ scope and tenant walls


def test_a_reps_token_gets_404_for_another_reps_customer(app, tenant_a, rep2, api, raw_rows):
    cid = sf.customer(app, rep2, "别人的客户有限公司", contacts=["别人的联系人"])
    (person,) = sf.contact_rows(app, tenant_a.id, cid)
    before = raw_rows("customers", "id = :id", {"id": cid}), raw_rows("contacts", "customer_id = :id", {"id": cid})
    client = api(tenant_a["sales"])
    for r in (
        client.get(f"/customers/{cid}"),
        client.patch(f"/customers/{cid}", {"level": "A"}),
        client.delete(f"/customers/{cid}"),
        client.get(f"/customers/{cid}/contacts"),
        client.post(f"/customers/{cid}/contacts", {"name": "x"}),
        client.get(f"/contacts/{person.id}"),
        client.patch(f"/contacts/{person.id}", {"name": "x"}),
        client.delete(f"/contacts/{person.id}"),
    ):
        assert r.status_code == 404 and r.is_json
        assert "别人" not in r.get_data(as_text=True)
    after = raw_rows("customers", "id = :id", {"id": cid}), raw_rows("contacts", "customer_id = :id", {"id": cid})
    assert after == before
    # The manager of that rep would see it; the rep's own manager does not.
    assert api(tenant_a["sales_manager"]).get(f"/customers/{cid}").status_code == 404
    assert api(tenant_a["admin"]).get(f"/customers/{cid}").status_code == 200


def test_another_tenants_ids_are_404_and_its_data_unchanged(app, tenant_a, tenant_b, api, raw_rows):
    cid = sf.customer(app, tenant_a["sales"], "阿尔法的客户有限公司", contacts=["阿尔法联系人"], uscc=VALID)
    (person,) = sf.contact_rows(app, tenant_a.id, cid)

    def snapshot():
        return (
            raw_rows("customers", "tenant_id = :t", {"t": tenant_a.id}),
            raw_rows("contacts", "tenant_id = :t", {"t": tenant_a.id}),
            raw_rows("customer_tags", "tenant_id = :t", {"t": tenant_a.id}),
            raw_rows("audit_entries", "tenant_id = :t", {"t": tenant_a.id}),
        )

    before = snapshot()
    client = api(tenant_b["owner"])
    for r in (
        client.get(f"/customers/{cid}"),
        client.patch(f"/customers/{cid}", {"name": "改名"}),
        client.patch(f"/customers/{cid}", {"level": "nonsense"}),
        client.delete(f"/customers/{cid}"),
        client.get(f"/customers/{cid}/contacts"),
        client.post(f"/customers/{cid}/contacts", {"name": "x"}),
        client.get(f"/contacts/{person.id}"),
        client.patch(f"/contacts/{person.id}", {"name": "x"}),
        client.delete(f"/contacts/{person.id}"),
    ):
        assert r.status_code in (404, 422) and r.is_json
        assert "阿尔法" not in r.get_data(as_text=True)
    assert client.get(f"/customers/{cid}").status_code == 404
    # B's list and search never show A's customer; B may reuse A's credit code.
    assert client.get("/customers?q=阿尔法").get_json()["items"] == []
    assert client.post("/customers", {"name": "Beta 的客户", "uscc": VALID}).status_code == 201
    # B cannot attach a contact of A as boss.
    mine = client.post("/customers", {"name": "Beta Two"}).get_json()["id"]
    r = client.post(f"/customers/{mine}/contacts", {"name": "y", "reports_to_id": person.id})
    assert r.status_code == 422 and "reports_to_id" in r.get_json()["errors"]["json"]
    assert snapshot() == before


def test_finance_token_is_403(app, tenant_a, api):
    cid = sf.customer(app, tenant_a["sales"], "财务看不到有限公司")
    client = api(tenant_a["finance"])
    assert client.get("/customers").status_code == 403
    assert client.get(f"/customers/{cid}").status_code == 403
    assert client.post("/customers", {"name": "财务建的"}).status_code == 403
    assert sf.count_customers(app, tenant_a.id) == 1


def test_without_a_token_it_is_401(client, tenant_a):
    assert client.get("/api/v1/customers").status_code == 401
    assert client.post("/api/v1/customers", json={"name": "x"}).status_code == 401


# ================================================================ OpenAPI


def test_openapi_lists_the_customer_and_contact_paths(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    expected = {
        "/api/v1/customers": {"get", "post"},
        "/api/v1/customers/{customer_id}": {"get", "patch", "delete"},
        "/api/v1/customers/{customer_id}/contacts": {"get", "post"},
        "/api/v1/contacts/{contact_id}": {"get", "patch", "delete"},
    }
    for path, methods in expected.items():
        found = next((p for p in paths if p.rstrip("/") == path or p.rstrip("/") == path.removeprefix("/api/v1")), None)
        assert found, f"{path} missing from {sorted(paths)}"
        assert methods <= set(paths[found]), (path, sorted(paths[found]))
    schemas = doc["components"]["schemas"]
    customer = next(v for k, v in schemas.items() if k.startswith("Customer") and "uscc" in v.get("properties", {}))
    assert {"name", "uscc", "owner_id", "tags", "level", "status"} <= set(customer["properties"])
    listing = paths[next(p for p in paths if p.rstrip("/").endswith("/customers"))]["get"]
    params = {p["name"] for p in listing.get("parameters", [])}
    assert {
        "q",
        "owner_id",
        "pool",
        "level",
        "status",
        "province",
        "tag",
        "idle_days",
        "sort",
        "cursor",
        "limit",
    } <= params
