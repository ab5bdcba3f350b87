"""Settings → Audit log: filters, keyset pages, one change in detail, xlsx export, API, permissions."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from crm.audit.models import AuditEntry
from crm.db import db
from roles.catalogue import ROLES, Role, Scope
from tenants.models import Membership, Tenant
from tests.helpers import bearer, html_lang, in_tenant, login, post, text_of

LONG = "很长的备注" * 120
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}  # the fixture's entries, not sign-ins


def add_entry(app, tenant, member=None, **kw) -> int:
    with in_tenant(app, tenant.id):
        values = {"action": "customer.updated", "object_type": "Customer", "object_id": 7, "summary": "x", **kw}
        m = db.session.get(Membership, member.id) if member is not None else None
        e = AuditEntry(member_id=m.id if m else None, user_id=m.user_id if m else None, **values)
        db.session.add(e)
        db.session.commit()
        return e.id


def add_audit_entries(app, world) -> None:
    """One audit entry per workspace of the world (world.audit_entry_id), by its owner."""
    world.audit_entry_id = {}
    for key, t in world.tenants.items():
        world.audit_entry_id[key] = add_entry(
            app, t, t["owner"], summary=f"{t.slug} change",
            changes={"name": {"before": "old", "after": "new"}},
        )  # fmt: skip


def _url(tenant, tail: str = "") -> str:
    return f"/w/{tenant.slug}/settings/audit{tail}"


def _ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r"/settings/audit/(\d+)\"", page)]


@pytest.fixture
def entries(app, tenant_a):
    """Three entries by different members, kinds and (Shanghai) days."""
    a = tenant_a
    mar1_late = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 2026-03-02 01:30 in Shanghai
    return {
        "quote": add_entry(app, a, a["sales"], action="quote.created", object_type="Quote",
                           created_at=datetime(2026, 3, 1, 2, 0, tzinfo=UTC), summary="QT-1"),
        "customer": add_entry(app, a, a["sales_manager"], action="customer.updated", object_type="Customer",
                              created_at=mar1_late, summary="阿尔法客户",
                              changes={"name": {"before": "<script>alert(1)</script>", "after": LONG},
                                       "tags": {"before": ["a"], "after": ["a", "b"]}}),
        "formula": add_entry(app, a, a["owner"], action="settings.workspace", object_type="Tenant",
                             created_at=datetime(2026, 3, 5, 9, 0, tzinfo=UTC), summary="=HYPERLINK(\"http://x\")",
                             changes={"currency": {"before": "CNY", "after": "+USD"}}),
    }  # fmt: skip


def test_list_is_newest_first_and_each_row_opens_its_change(app, tenant_a, client_as, entries):
    page = text_of(client_as(tenant_a["admin"]).get(_url(tenant_a), query_string=MARCH))
    ids = _ids(page)
    assert ids[:3] == sorted(entries.values(), reverse=True)
    assert "QT-1" in page and "阿尔法客户" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "quote.created"}, {"quote"}),
        ({"object_type": "Customer"}, {"customer"}),
        ({"object_type": "Tenant", "action": "settings.workspace"}, {"formula"}),
        # 17:30 UTC on 1 March is already 2 March in Shanghai
        ({"date_from": "2026-03-01", "date_to": "2026-03-01"}, {"quote"}),
        ({"date_from": "2026-03-02", "date_to": "2026-03-02"}, {"customer"}),
        ({"date_from": "2026-03-02", "date_to": "2026-03-31"}, {"customer", "formula"}),
        ({"date_to": "2026-03-04"}, {"quote", "customer"}),
    ],
)
def test_filters(app, tenant_a, client_as, entries, query, expected):
    page = text_of(client_as(tenant_a["owner"]).get(_url(tenant_a), query_string=query))
    assert set(_ids(page)) == {entries[k] for k in expected}


def test_filter_by_member(app, tenant_a, client_as, entries):
    c = client_as(tenant_a["owner"])
    page = text_of(c.get(_url(tenant_a), query_string={"member_id": tenant_a["sales"].id}))
    assert set(_ids(page)) == {entries["quote"]}


def test_dates_follow_the_workspace_time_zone(app, tenant_a, client_as, entries):
    with in_tenant(app, tenant_a.id):
        db.session.get(Tenant, tenant_a.id).timezone = "UTC"
        db.session.commit()
    day = {"date_from": "2026-03-01", "date_to": "2026-03-01"}
    page = text_of(client_as(tenant_a["owner"]).get(_url(tenant_a), query_string=day))
    assert set(_ids(page)) == {entries["quote"], entries["customer"]}


def test_bad_filters_are_shown_beside_the_field(app, tenant_a, client_as, entries):
    c = client_as(tenant_a["owner"])
    r = c.get(_url(tenant_a), query_string={"date_from": "2026-13-40"})
    assert r.status_code == 400 and 'id="date_from-error"' in text_of(r)
    r = c.get(_url(tenant_a), query_string={"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert r.status_code == 400 and 'id="date_to-error"' in text_of(r)


def test_empty_states(app, tenant_a, client_as):
    c = client_as(tenant_a["owner"])
    page = text_of(c.get(_url(tenant_a), query_string={"action": "nothing.like.this"}))
    assert 'data-testid="audit-empty"' in page and "Nothing matches these filters" in page


def test_keyset_pages_cover_everything_once(app, tenant_a, client_as):
    with in_tenant(app, tenant_a.id):
        base = datetime(2026, 1, 1, tzinfo=UTC)
        db.session.add_all(
            AuditEntry(action="quote.created", object_type="Quote", object_id=i, created_at=base + timedelta(minutes=i))
            for i in range(120)
        )
        db.session.commit()
    c = client_as(tenant_a["owner"])
    seen: list[int] = []
    url = _url(tenant_a) + "?action=quote.created"
    while url:
        page = text_of(c.get(url))
        seen += _ids(page)
        m = re.search(r'href="([^"]+)" data-testid="audit-older"', page)
        url = m.group(1).replace("&amp;", "&") if m else None
    assert len(seen) == 120 and len(set(seen)) == 120 and seen == sorted(seen, reverse=True)


def test_detail_shows_before_and_after_escaped(app, tenant_a, client_as, entries):
    r = client_as(tenant_a["owner"]).get(_url(tenant_a, f"/{entries['customer']}"))
    assert r.status_code == 200
    page = text_of(r)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert LONG in page and "text-break" in page
    assert page.count('data-testid="audit-change"') == 2
    assert '"b"' in page or "&#34;b&#34;" in page  # a list shows as JSON


def test_sales_rep_and_others_without_audit_view_get_403(app, tenant_a, client_as, entries, token_for, client):
    for role in ("sales_manager", "sales", "finance"):
        c = client_as(tenant_a[role])
        assert c.get(_url(tenant_a)).status_code == 403
        assert c.get(_url(tenant_a, f"/{entries['quote']}")).status_code == 403
        assert post(c, _url(tenant_a, "/export")).status_code == 403
        h = bearer(token_for(tenant_a[role]))
        assert client.get("/api/v1/audit", headers=h).status_code == 403
        assert client.get(f"/api/v1/audit/{entries['quote']}", headers=h).status_code == 403


def test_audit_view_alone_reaches_the_log(app, tenant_a, client_as, entries, monkeypatch):
    perms = frozenset({"workspace.view", "members.view", "office.access", "audit.view"})
    monkeypatch.setitem(ROLES, "auditor", Role("auditor", "Auditor", "-", perms, Scope.OWN, 5))
    with in_tenant(app, tenant_a.id):
        db.session.get(Membership, tenant_a["sales"].id).roles = ["auditor"]
        db.session.commit()
    c = client_as(tenant_a["sales"])
    r = c.get(f"/w/{tenant_a.slug}/settings")
    assert r.status_code == 302 and r.headers["Location"].endswith("/settings/audit")
    page = text_of(c.get(_url(tenant_a), query_string=MARCH))
    assert 'data-testid="nav-settings"' in page and len(_ids(page)) == 3
    assert f'href="/w/{tenant_a.slug}/settings/workspace"' not in page


def test_export_writes_the_filtered_log_to_xlsx_with_formulas_escaped(app, tenant_a, client_as, entries):
    c = client_as(tenant_a["owner"])
    r = post(c, _url(tenant_a, "/export"), {"date_from": "2026-03-02", "date_to": "2026-03-31"})
    assert r.status_code == 302
    job_url = r.headers["Location"]
    page = text_of(c.get(job_url))
    assert "Audit log export" in page and 'data-status="finished"' in page
    m = re.search(r'href="([^"]+/download)"', page)
    assert m, page
    data = c.get(m.group(1)).data
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(rows) == 3  # header + the two entries from 2 March on
    by_summary = {row[6]: row for row in rows[1:]}
    formula = by_summary['\'=HYPERLINK("http://x")']
    assert (formula[1], formula[2], formula[5]) == (tenant_a["owner"].name, tenant_a["owner"].email, 7)
    assert "currency: CNY → +USD" in formula[7]
    assert formula[0] == datetime(2026, 3, 5, 17, 0)  # Shanghai time
    assert "阿尔法客户" in by_summary
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@")) for row in rows for v in row)


def test_export_job_is_seen_only_by_those_with_audit_view(app, tenant_a, client_as, entries):
    c = client_as(tenant_a["owner"])
    job_url = post(c, _url(tenant_a, "/export")).headers["Location"]
    assert client_as(tenant_a["admin"]).get(job_url).status_code == 200
    assert client_as(tenant_a["sales"]).get(job_url).status_code == 403


def test_list_issues_a_constant_number_of_statements(app, tenant_a, client_as, count_queries, entries):
    c = client_as(tenant_a["owner"])
    url = _url(tenant_a)
    assert c.get(url).status_code == 200
    with count_queries() as small:
        assert c.get(url).status_code == 200
    members = [tenant_a[r] for r in ("owner", "admin", "sales_manager", "sales", "finance")]
    for i in range(40):
        add_entry(app, tenant_a, members[i % 5], action=f"kind.{i % 7}", object_type=f"Type{i % 4}")
    with count_queries() as large:
        assert c.get(url).status_code == 200
    assert small.count == large.count, "\n".join(large.statements)
    assert large.count <= 20


def test_page_renders_in_both_languages(app, tenant_a, entries):
    zh = app.test_client()
    zh.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    login(zh, tenant_a["owner"].email)
    page = text_of(zh.get(_url(tenant_a), query_string=MARCH))
    assert html_lang(page).startswith("zh") and len(_ids(page)) == 3
    en = app.test_client()
    en.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(en, tenant_a["owner"].email)
    assert html_lang(text_of(en.get(_url(tenant_a)))) == "en"


# ---------------------------------------------------------------- API


def test_api_lists_with_filters_and_pages_and_opens_one(app, tenant_a, token_for, client, entries):
    h = bearer(token_for(tenant_a["admin"]))
    r = client.get("/api/v1/audit", headers=h, query_string={**MARCH, "date_from": "2026-03-02", "page_size": 1})
    assert r.status_code == 200
    assert [e["id"] for e in r.json["items"]] == [entries["formula"]]
    nxt = r.json["next_before"]
    r2 = client.get("/api/v1/audit", headers=h, query_string={**MARCH, "date_from": "2026-03-02", "page_size": 1,
                                                               "before": nxt})  # fmt: skip
    assert [e["id"] for e in r2.json["items"]] == [entries["customer"]] and r2.json["next_before"] is None
    r = client.get("/api/v1/audit", headers=h, query_string={"member_id": tenant_a["sales"].id})
    assert [e["id"] for e in r.json["items"]] == [entries["quote"]]
    one = client.get(f"/api/v1/audit/{entries['customer']}", headers=h).json
    assert one["changes"][0] == {"field": "name", "before": "<script>alert(1)</script>", "after": LONG}
    assert one["user_name"] == tenant_a["sales_manager"].name
    bad = client.get("/api/v1/audit", headers=h, query_string={"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert bad.status_code == 422
    assert client.get("/api/v1/audit/999999", headers=h).status_code == 404


def test_another_workspace_sees_none_of_the_log(app, tenant_a, tenant_b, client_as, token_for, client, entries):
    b_owner = client_as(tenant_b["owner"])
    assert not set(_ids(text_of(b_owner.get(_url(tenant_b))))) & set(entries.values())
    assert b_owner.get(_url(tenant_b, f"/{entries['quote']}")).status_code == 404
    h = bearer(token_for(tenant_b["owner"]))
    assert client.get("/api/v1/audit", headers=h, query_string=MARCH).json["items"] == []
    assert client.get(f"/api/v1/audit/{entries['quote']}", headers=h).status_code == 404
