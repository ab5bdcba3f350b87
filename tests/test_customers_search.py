"""The customer list: filters, sorts, keyset pagination, search (Chinese, pinyin, phone,
e-mail, credit code, contact), htmx fragments, the global search box — and, on PostgreSQL,
that the search stays on its GIN indexes under row-level security.
"""

from __future__ import annotations

import html
import random
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from crm.db import db, utcnow
from crm.sales import services
from crm.sales.models import Customer
from tests import sales_factories as sf
from tests.helpers import in_tenant, text_of

ROW_LINK = re.compile(r'<a class="fw-semibold[^"]*" href="/w/[^/]+/sales/customers/(\d+)"')
NEXT_LINK = re.compile(r'<tr id="load-more">.*?hx-get="([^"]+)"', re.S)


def listed(page: str) -> list[int]:
    return [int(x) for x in ROW_LINK.findall(page)]


def next_url(page: str) -> str | None:
    m = NEXT_LINK.search(page)
    return html.unescape(m.group(1)) if m else None


@pytest.fixture
def team(app, tenant_a):
    return {
        "colleague": sf.add_rep(app, tenant_a, "colleague", "周敏", reports_to=tenant_a["sales_manager"].id),
        "rep2": sf.add_rep(app, tenant_a, "rep2", "孙丽"),
    }


# ================================================================ filters


@pytest.fixture
def spread(app, tenant_a, team):
    t = tenant_a
    now = utcnow()
    ids = {
        "a_bj": sf.customer(
            app, t["sales"], "甲北京有限公司", level="A", status="active", province="北京市", tags=["重点客户", "续约"]
        ),
        "b_sh": sf.customer(
            app, t["sales"], "乙上海有限公司", level="B", status="potential", province="上海市", tags=["华东"]
        ),
        "c_sh": sf.customer(
            app,
            t["sales_manager"],
            "丙上海有限公司",
            level="C",
            status="dormant",
            province="上海市",
            tags=["华东", "重点客户"],
        ),
        "pool": sf.customer(
            app, t["sales_manager"], "丁公海有限公司", owner_id=None, level="B", status="potential", province="广东省"
        ),
        "col": sf.customer(app, team["colleague"], "戊同事有限公司", level="A", status="lost", province="北京市"),
    }
    sf.set_fields(app, t.id, ids["a_bj"], last_followup_at=now - timedelta(days=3))
    sf.set_fields(app, t.id, ids["b_sh"], last_followup_at=now - timedelta(days=45))
    sf.set_fields(app, t.id, ids["c_sh"], last_followup_at=now - timedelta(days=10))
    return ids


FILTERS = [
    ({}, {"a_bj", "b_sh", "c_sh", "pool", "col"}),
    ({"owner": "{sales}"}, {"a_bj", "b_sh"}),
    ({"owner": "{sales_manager}"}, {"c_sh"}),
    ({"owner": "pool"}, {"pool"}),
    ({"level": "A"}, {"a_bj", "col"}),
    ({"level": "B"}, {"b_sh", "pool"}),
    ({"status": "potential"}, {"b_sh", "pool"}),
    ({"status": "lost"}, {"col"}),
    ({"province": "上海市"}, {"b_sh", "c_sh"}),
    ({"tag": "重点客户"}, {"a_bj", "c_sh"}),
    ({"tag": "华东"}, {"b_sh", "c_sh"}),
    ({"tag": "没有这个"}, set()),
    ({"idle_days": "30"}, {"b_sh", "pool", "col"}),  # never followed up counts as idle
    ({"idle_days": "7"}, {"b_sh", "c_sh", "pool", "col"}),
    ({"province": "上海市", "tag": "华东", "level": "C"}, {"c_sh"}),
    ({"owner": "{sales}", "idle_days": "30"}, {"b_sh"}),
]


@pytest.mark.parametrize(("args", "expected"), FILTERS, ids=[str(a) for a, _ in FILTERS])
def test_list_filters(app, tenant_a, spread, client_as, args, expected):
    member = tenant_a["sales_manager"]
    query = {k: v.format(sales=tenant_a["sales"].id, sales_manager=member.id) for k, v in args.items()}
    r = client_as(member).get(sf.url(member, **query))
    assert r.status_code == 200
    assert set(listed(text_of(r))) == {spread[k] for k in expected}


def test_filters_never_widen_the_scope(app, tenant_a, team, spread, client_as):
    """A rep asking for a colleague's customers by owner id gets none of them."""
    rep = tenant_a["sales"]
    page = text_of(client_as(rep).get(sf.url(rep, owner=team["colleague"].id)))
    assert listed(page) == []
    assert set(listed(text_of(client_as(rep).get(sf.url(rep))))) == {spread["a_bj"], spread["b_sh"], spread["pool"]}


@pytest.mark.parametrize("args", [{"owner": "x"}, {"idle_days": "soon"}, {"after": "not-a-cursor"}])
def test_malformed_list_arguments_are_400(tenant_a, client_as, args):
    member = tenant_a["owner"]
    assert client_as(member).get(sf.url(member, **args)).status_code == 400


def test_empty_list_and_empty_search_explain_themselves(tenant_a, client_as):
    member = tenant_a["sales"]
    client = client_as(member)
    assert "No customers yet" in text_of(client.get(sf.url(member)))
    assert "No customer matches" in text_of(client.get(sf.url(member, q="不存在")))


# ================================================================ sorts and keyset pagination


def _hundred_and_twenty(app, tenant, owners) -> list[int]:
    """120 customers with ties on every sort key (same created_at in threes, duplicate
    names, shared follow-up times, and many never followed up)."""
    rows = []
    for i in range(120):
        rows.append(
            {
                "name": f"翻页客户{(i * 37) % 100:02d}有限公司",  # 20 names appear twice
                "owner_id": owners[i % len(owners)],
                "created_at": sf.at(2026, 1, 1) + timedelta(minutes=i // 3),
                "last_followup_at": None if i % 4 == 0 else sf.at(2026, 3, 1) + timedelta(hours=i % 7),
                "tags": ["翻页"],
            }
        )
    return sf.bulk_customers(app, tenant.id, rows)


def _expected_order(app, tenant_id, ids, sort) -> list[int]:
    with in_tenant(app, tenant_id):
        rows = [db.session.get(Customer, i) for i in ids]
        if sort == "name":
            return [c.id for c in sorted(rows, key=lambda c: (c.name_normalized, c.id))]
        if sort == "last_followup":
            return [
                c.id for c in sorted(rows, key=lambda c: (c.last_followup_at or services.EPOCH, c.id), reverse=True)
            ]
        return [c.id for c in sorted(rows, key=lambda c: (c.created_at, c.id), reverse=True)]


@pytest.mark.parametrize("sort", ["created", "name", "last_followup"])
def test_keyset_pagination_returns_each_customer_exactly_once(app, tenant_a, client_as, sort):
    member = tenant_a["owner"]
    ids = _hundred_and_twenty(app, tenant_a, [tenant_a["sales"].id, tenant_a["sales_manager"].id, None])
    client = client_as(member)
    r = client.get(sf.url(member, sort=sort))
    page = text_of(r)
    seen = listed(page)
    pages = [len(seen)]
    url = next_url(page)
    while url:
        # The "Show more" button asks for the next rows only.
        r = client.get(url, headers={"HX-Request": "true", "HX-Target": "load-more"})
        assert r.status_code == 200
        fragment = text_of(r)
        assert "<html" not in fragment and "<table" not in fragment
        got = listed(fragment)
        seen += got
        pages.append(len(got))
        url = next_url(fragment)
        assert len(pages) < 10, "pagination does not end"
    assert pages == [50, 50, 20]
    assert len(seen) == len(set(seen)) == 120
    assert set(seen) == set(ids)
    assert seen == _expected_order(app, tenant_a.id, ids, sort)


def test_next_link_keeps_the_filters(app, tenant_a, client_as):
    member = tenant_a["owner"]
    _hundred_and_twenty(app, tenant_a, [tenant_a["sales"].id])
    page = text_of(client_as(member).get(sf.url(member, tag="翻页", sort="name")))
    url = next_url(page)
    assert url and "tag=" in url and "sort=name" in url and "after=" in url


def test_sorts_first_page(app, tenant_a, client_as):
    member = tenant_a["owner"]
    now = utcnow()
    older = sf.customer(app, member, "乙方较早有限公司")
    newer = sf.customer(app, member, "甲方较新有限公司")
    never = sf.customer(app, member, "丙方从未跟进有限公司")
    sf.set_fields(app, tenant_a.id, older, last_followup_at=now - timedelta(days=1))
    sf.set_fields(app, tenant_a.id, newer, last_followup_at=now - timedelta(days=9))
    client = client_as(member)
    assert listed(text_of(client.get(sf.url(member)))) == [never, newer, older]
    assert listed(text_of(client.get(sf.url(member, sort="last_followup")))) == [older, newer, never]
    # Names A→Z by their normalised key (codepoints here: 丙 < 乙 < 甲).
    assert listed(text_of(client.get(sf.url(member, sort="name")))) == [never, older, newer]
    # An unknown sort falls back to newest first.
    assert listed(text_of(client.get(sf.url(member, sort="drop table")))) == [never, newer, older]


# ================================================================ search


@pytest.fixture
def findable(app, tenant_a, team):
    t, rep = tenant_a, tenant_a["sales"]
    ids = {
        "target": sf.customer(
            app,
            rep,
            "北京百川科技有限公司",
            short_name="百川",
            phone="010-6552-9988",
            email="Info@BaiChuan.cn",
            uscc=sf.VALID_USCC,
            contacts=["欧阳娜娜"],
        ),
        "short": sf.customer(app, rep, "华信贸易有限公司", short_name="百川华信"),
        "near1": sf.customer(app, rep, "北京百货商场有限公司", phone="021-1234-5678"),
        "near2": sf.customer(app, rep, "上海川百贸易有限公司"),
        "near3": sf.customer(app, rep, "百度川菜馆有限公司"),
        "pool": sf.customer(app, t["sales_manager"], "重庆百川机械有限公司", owner_id=None),
        "hidden": sf.customer(app, team["rep2"], "广州百川物流有限公司", phone="020-6552-9988", contacts=["欧阳修"]),
        "percent": sf.customer(app, rep, "100%纯净水有限公司"),
    }
    return ids


SEARCHES = [
    ("百川", {"target", "short", "pool"}),
    ("百川科技", {"target"}),
    ("北京百川", {"target"}),
    ("川百", {"near2"}),
    ("beijingbaichuan", {"target"}),
    ("BeiJing BaiChuan", {"target"}),
    ("baichuan", {"target", "short", "pool"}),
    ("chongqing", {"pool"}),  # 重庆 read as chong, not zhong
    ("bjbc", {"target"}),
    ("BJBC", {"target"}),
    ("bjbh", {"near1"}),
    ("6552-9988", {"target"}),
    ("65529988", {"target"}),
    ("1065529988", {"target"}),
    ("info@baichuan.cn", {"target"}),
    ("INFO@BAICHUAN.CN", {"target"}),
    (sf.VALID_USCC.lower(), {"target"}),
    ("欧阳娜娜", {"target"}),
    ("欧阳", {"target"}),
    ("100%", {"percent"}),
    ("%", {"percent"}),  # wildcards are taken literally
    ("_", set()),
    ("百%", set()),
    ("不存在的名字", set()),
]


@pytest.mark.parametrize(("q", "expected"), SEARCHES, ids=[q for q, _ in SEARCHES])
def test_search(app, tenant_a, findable, client_as, q, expected):
    rep = tenant_a["sales"]
    r = client_as(rep).get(sf.url(rep, q=q))
    assert r.status_code == 200
    assert set(listed(text_of(r))) == {findable[k] for k in expected}


def test_search_through_the_service_matches_the_ui(app, tenant_a, findable):
    """The same search as the rep's service call (no request), on this back end's SQL."""
    rep = tenant_a["sales"]
    with in_tenant(app, tenant_a.id, rep.user_id):
        row = sf.actor(rep)
        for q, expected in SEARCHES:
            got = {c.id for c in services.list_customers(row, services.CustomerQuery(q=q))}
            assert got == {findable[k] for k in expected}, q


def test_search_sees_everything_for_the_owner_but_nothing_of_other_workspaces(
    app, tenant_a, tenant_b, findable, client_as
):
    sf.customer(app, tenant_b["sales"], "北京百川科技有限公司", phone="010-6552-9988")
    owner = tenant_a["owner"]
    got = set(listed(text_of(client_as(owner).get(sf.url(owner, q="百川")))))
    assert got == {findable[k] for k in ("target", "short", "pool", "hidden")}
    got = set(listed(text_of(client_as(owner).get(sf.url(owner, q="65529988")))))
    assert got == {findable["target"], findable["hidden"]}


def test_search_combines_with_filters(app, tenant_a, findable, client_as):
    owner = tenant_a["owner"]
    got = set(listed(text_of(client_as(owner).get(sf.url(owner, q="百川", owner="pool")))))
    assert got == {findable["pool"]}


def test_archived_customers_are_not_found(app, tenant_a, findable, client_as):
    rep = tenant_a["sales"]
    with in_tenant(app, tenant_a.id, rep.user_id):
        services.archive_customer(sf.actor(rep), db.session.get(Customer, findable["target"]))
        db.session.commit()
    assert findable["target"] not in listed(text_of(client_as(rep).get(sf.url(rep, q="百川"))))


# ================================================================ htmx


def test_htmx_search_returns_the_table_fragment_only(app, tenant_a, findable, client_as):
    rep = tenant_a["sales"]
    client = client_as(rep)
    r = client.get(sf.url(rep, q="百川"), headers={"HX-Request": "true", "HX-Target": "customer-table"})
    assert r.status_code == 200
    fragment = text_of(r)
    assert "<html" not in fragment and "<body" not in fragment and "customer-filters" not in fragment
    assert 'data-testid="customer-table"' in fragment
    assert set(listed(fragment)) == {findable["target"], findable["short"], findable["pool"]}
    # Without htmx, the whole page, with the filter form and the same table.
    full = text_of(client.get(sf.url(rep, q="百川")))
    assert "<html" in full and 'data-testid="customer-filters"' in full and 'id="customer-table"' in full
    assert set(listed(full)) == set(listed(fragment))
    # An htmx search with no match says so, still as a fragment.
    empty = text_of(
        client.get(sf.url(rep, q="无此客户"), headers={"HX-Request": "true", "HX-Target": "customer-table"})
    )
    assert "<html" not in empty and "No customer matches" in empty


# ================================================================ global search box


def test_global_search_shows_customers_in_scope_only(app, tenant_a, findable, client_as):
    rep = tenant_a["sales"]
    page = text_of(client_as(rep).get(f"/w/{tenant_a.slug}/search?q=百川"))
    assert "北京百川科技有限公司" in page and "重庆百川机械有限公司" in page
    assert f'href="{sf.url(rep, findable["target"])}"' in page
    assert "广州百川物流有限公司" not in page and sf.url(rep, findable["hidden"]) not in page
    owner = tenant_a["owner"]
    assert "广州百川物流有限公司" in text_of(client_as(owner).get(f"/w/{tenant_a.slug}/search?q=百川"))


def test_global_search_fragment_for_htmx(app, tenant_a, findable, client_as):
    rep = tenant_a["sales"]
    r = client_as(rep).get(f"/w/{tenant_a.slug}/search?q=bjbc", headers={"HX-Request": "true"})
    fragment = text_of(r)
    assert "<html" not in fragment and "北京百川科技有限公司" in fragment


def test_global_search_shows_no_customers_to_finance(app, tenant_a, findable, client_as):
    fin = tenant_a["finance"]
    r = client_as(fin).get(f"/w/{tenant_a.slug}/search?q=百川")
    assert r.status_code == 200
    page = text_of(r)
    assert "/sales/customers/" not in page
    assert "北京百川科技有限公司" not in page and "重庆百川机械有限公司" not in page


# ================================================================ PostgreSQL: the plan


CHARS = "华信瑞丰启明恒通鼎盛蓝海金石远航嘉禾星辰博雅天成宏图东方长城光明正大永安福达新世纪和平众诚立德万家"
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "苏州", "成都", "武汉", "重庆", "青岛"]
TRADES = ["科技", "贸易", "机械", "食品", "物流", "建材"]


def _plan(statement: str, params) -> str:
    rows = db.session.connection().exec_driver_sql("EXPLAIN " + statement, params).all()
    return "\n".join(r[0] for r in rows)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("q", "indexes"),
    [
        ("百川科技", ["ix_customers_bigrams"]),
        ("bjbc", ["ix_customers_initials_trgm", "ix_customers_pinyin_trgm", "ix_customers_name_trgm"]),
    ],
)
def test_search_uses_the_gin_indexes_under_rls(app, tenant_a, tenant_b, owner_engine, q, indexes):
    rng = random.Random(7)
    rows = []
    for i in range(2000):
        name = f"{rng.choice(CITIES)}{rng.choice(CHARS)}{rng.choice(CHARS)}{rng.choice(TRADES)}有限公司"
        rows.append(
            {
                "name": name,
                "owner_id": tenant_a["sales"].id if i % 3 else None,
                "phone": f"0{rng.randint(10, 99)}{rng.randint(10**7, 10**8 - 1)}",
            }
        )
    for name in ("北京百川科技有限公司", "上海百川科技股份有限公司", "深圳百川科技有限公司"):
        rows.append({"name": name, "owner_id": tenant_a["sales"].id})
    sf.bulk_customers(app, tenant_a.id, rows)
    sf.bulk_customers(app, tenant_b.id, [{"name": "北京百川科技有限公司"}])
    # As the owner (the app role may not). VACUUM as well as ANALYZE: rows inserted since the
    # index was built wait in each GIN index's pending list, which the planner prices as a
    # scan of that list; autovacuum empties it in production, and here we do.
    with owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE customers"))
        conn.execute(text("VACUUM ANALYZE contacts"))

    captured: list[tuple[str, object]] = []
    with in_tenant(app, tenant_a.id, tenant_a["owner"].user_id):
        engine = db.engine

        def _grab(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            captured.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", _grab)
        try:
            found = services.list_customers(sf.actor(tenant_a["owner"]), services.CustomerQuery(q=q))
        finally:
            event.remove(engine, "before_cursor_execute", _grab)
        names = {c.name for c in found}
        assert "北京百川科技有限公司" in names
        assert all(c.tenant_id == tenant_a.id for c in found)
        statement, params = next((s, p) for s, p in captured if "FROM customers" in s and "OPERATOR(public." in s)
        # The app role, inside the tenant: RLS applies to this very connection.
        assert db.session.execute(text("SELECT current_user")).scalar() != "postgres"
        assert db.session.execute(text("SELECT count(*) FROM customers")).scalar() == 2003
        plan = _plan(statement, params)
    for index in indexes:
        assert f"Bitmap Index Scan on {index}" in plan, plan
    assert "Seq Scan on customers" not in plan, plan
