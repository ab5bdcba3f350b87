"""Settings → Workspace: name, time zone, currency, fiscal year, numbering; validated, audited, API."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.db import db
from crm.numbering import next_number
from roles.catalogue import ROLES, Role, Scope
from tenants.models import Membership, Tenant
from tests.helpers import bearer, html_lang, in_tenant, post, text_of, translated


def _url(tenant, tail: str = "") -> str:
    return f"/w/{tenant.slug}/settings/workspace{tail}"


GOOD = {
    "name": "阿尔法科技",
    "timezone": "Asia/Hong_Kong",
    "currency": "HKD",
    "fiscal_year_start": "4",
    "numbering_quote": "BJ{yy}-{seq:05d}",
    "numbering_contract": "HT-{year}-{seq:04d}",
    "numbering_order": "SO{year}{seq}",
}


def _tenant_row(raw_rows, tenant) -> dict:
    (row,) = raw_rows("tenants", "id = :t", {"t": tenant.id})
    return row


def _audits(app, tenant) -> list[AuditEntry]:
    with in_tenant(app, tenant.id):
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "settings.workspace")))


def test_defaults_show_cny_shanghai_january_and_the_default_patterns(app, tenant_a, client_as):
    page = text_of(client_as(tenant_a["owner"]).get(_url(tenant_a)))
    assert '<option selected value="CNY">' in page
    assert '<option selected value="Asia/Shanghai">' in page
    assert '<option selected value="1">' in page
    assert "QT-{year}-{seq:04d}" in page
    assert f"QT-{date.today().year}-0001" in page  # the preview of the next number
    assert f'href="/w/{tenant_a.slug}/settings/letterhead"' in page


def test_owner_saves_settings_and_each_change_is_audited_with_before_and_after(app, tenant_a, client_as, raw_rows):
    c = client_as(tenant_a["owner"])
    r = post(c, _url(tenant_a), GOOD)
    assert r.status_code == 302, text_of(r)
    row = _tenant_row(raw_rows, tenant_a)
    assert (row["name"], row["timezone"], row["currency"], row["slug"]) == (
        "阿尔法科技", "Asia/Hong_Kong", "HKD", tenant_a.slug,
    )  # fmt: skip
    with in_tenant(app, tenant_a.id):
        settings = db.session.get(Tenant, tenant_a.id).settings
    assert settings["fiscal_year_start"] == 4
    assert settings["numbering"]["quote"] == "BJ{yy}-{seq:05d}"
    (entry,) = _audits(app, tenant_a)
    assert entry.changes["currency"] == {"before": "CNY", "after": "HKD"}
    assert entry.changes["fiscal_year_start"] == {"before": 1, "after": 4}
    assert entry.changes["numbering.quote"] == {"before": "QT-{year}-{seq:04d}", "after": "BJ{yy}-{seq:05d}"}
    assert "numbering.contract" not in entry.changes  # unchanged
    assert entry.member_id == tenant_a["owner"].id


def test_numbering_uses_the_new_pattern(app, tenant_a, client_as):
    post(client_as(tenant_a["owner"]), _url(tenant_a), GOOD)
    with in_tenant(app, tenant_a.id):
        tenant = db.session.get(Tenant, tenant_a.id)
        first = next_number(tenant, "quote", date(2027, 3, 1))
        second = next_number(tenant, "quote", date(2027, 3, 1))
        order = next_number(tenant, "order", date(2027, 3, 1))
        db.session.rollback()
    assert (first, second, order) == ("BJ27-00001", "BJ27-00002", "SO20271")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("numbering_quote", "QT-{year}"),  # no running number
        ("numbering_quote", "QT-{month}-{seq}"),  # unknown placeholder
        ("numbering_quote", "QT-{seq:>4}"),  # a format other than 0Nd
        ("numbering_contract", "HT-{year"),  # unbalanced
        ("numbering_order", "{seq!r}"),  # conversion
        ("numbering_order", "SO {seq}"),  # spaces
        ("numbering_order", "{year:04d}-{seq}"),  # year takes no format
        ("timezone", "Mars/Olympus_Mons"),
        ("timezone", ""),
        ("currency", "XYZ"),
        ("fiscal_year_start", "13"),
        ("fiscal_year_start", "0"),
        ("fiscal_year_start", "march"),
        ("name", "   "),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_changes_nothing(app, tenant_a, client_as, raw_rows, field, value):
    before = _tenant_row(raw_rows, tenant_a)
    r = post(client_as(tenant_a["owner"]), _url(tenant_a), {**GOOD, field: value})
    assert r.status_code == 400
    page = text_of(r)
    assert f'id="{field}"' in page and "is-invalid" in page
    assert _tenant_row(raw_rows, tenant_a) == before
    assert _audits(app, tenant_a) == []


def test_saving_unchanged_settings_writes_no_audit_entry(app, tenant_a, client_as):
    c = client_as(tenant_a["owner"])
    same = {
        "name": tenant_a.name, "timezone": "Asia/Shanghai", "currency": "CNY", "fiscal_year_start": "1",
        "numbering_quote": "QT-{year}-{seq:04d}", "numbering_contract": "HT-{year}-{seq:04d}",
        "numbering_order": "SO-{year}-{seq:04d}",
    }  # fmt: skip
    assert post(c, _url(tenant_a), same).status_code == 302
    assert _audits(app, tenant_a) == []


def test_preview_shows_the_next_number_or_why_the_pattern_is_refused(app, tenant_a, client_as):
    c = client_as(tenant_a["owner"])
    year = date.today().year
    ok = text_of(c.get(_url(tenant_a, "/preview"), query_string={"kind": "order", "numbering_order": "D{yy}{seq:03d}"}))
    assert f"D{year % 100:02d}001" in ok
    bad = text_of(c.get(_url(tenant_a, "/preview"), query_string={"kind": "order", "numbering_order": "D{year}"}))
    assert "{seq}" in bad and "text-danger" in bad
    escaped = text_of(c.get(_url(tenant_a, "/preview"), query_string={"kind": "quote", "pattern": "<b>{seq}</b>"}))
    assert "<b>" not in escaped and "&lt;b&gt;1&lt;/b&gt;" in escaped
    assert c.get(_url(tenant_a, "/preview"), query_string={"kind": "invoice"}).status_code == 404


@pytest.mark.parametrize("role", ["sales_manager", "sales", "finance"])
def test_members_without_settings_manage_get_403(app, tenant_a, client_as, raw_rows, role):
    c = client_as(tenant_a[role])
    before = _tenant_row(raw_rows, tenant_a)
    assert c.get(_url(tenant_a)).status_code == 403
    assert post(c, _url(tenant_a), GOOD).status_code == 403
    assert _tenant_row(raw_rows, tenant_a) == before


def test_settings_manage_without_members_manage_still_reaches_settings(app, tenant_a, client_as, monkeypatch):
    perms = frozenset({"workspace.view", "members.view", "office.access", "settings.manage", "audit.view"})
    monkeypatch.setitem(ROLES, "configurator", Role("configurator", "Configurator", "-", perms, Scope.OWN, 5))
    with in_tenant(app, tenant_a.id):
        db.session.get(Membership, tenant_a["finance"].id).roles = ["configurator"]
        db.session.commit()
    c = client_as(tenant_a["finance"])
    home = text_of(c.get(f"/w/{tenant_a.slug}/"))
    assert 'data-testid="nav-settings"' in home
    r = c.get(f"/w/{tenant_a.slug}/settings")
    assert r.status_code == 302 and r.headers["Location"].endswith("/settings/workspace")
    page = text_of(c.get(_url(tenant_a)))
    assert f'href="/w/{tenant_a.slug}/settings/audit"' in page  # the audit tab
    assert f'href="/w/{tenant_a.slug}/settings/members"' not in page
    assert c.get(f"/w/{tenant_a.slug}/settings/members").status_code == 403


def test_settings_landing_sends_admins_to_members_and_others_get_403(app, tenant_a, client_as):
    r = client_as(tenant_a["admin"]).get(f"/w/{tenant_a.slug}/settings")
    assert r.status_code == 302 and r.headers["Location"].endswith("/settings/members")
    assert client_as(tenant_a["sales"]).get(f"/w/{tenant_a.slug}/settings").status_code == 403


def test_page_renders_in_both_languages(app, tenant_a, client_as):
    zh = app.test_client()
    zh.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    from tests.helpers import login

    login(zh, tenant_a["owner"].email)
    page = text_of(zh.get(_url(tenant_a)))
    assert html_lang(page).startswith("zh")
    assert translated(app, "Time zone") in page
    en = text_of(client_as(tenant_a["owner"]).get(_url(tenant_a)))
    assert html_lang(en) == "en" and "Time zone" in en


# ---------------------------------------------------------------- API


def test_api_reads_and_patches_settings_with_the_same_validation(app, tenant_a, token_for, client, raw_rows):
    h = bearer(token_for(tenant_a["owner"]))
    r = client.get("/api/v1/settings", headers=h)
    assert r.status_code == 200
    numbering = {"quote": "QT-{year}-{seq:04d}", "contract": "HT-{year}-{seq:04d}", "order": "SO-{year}-{seq:04d}"}
    assert r.json == {
        "name": tenant_a.name, "slug": tenant_a.slug, "timezone": "Asia/Shanghai", "currency": "CNY",
        "fiscal_year_start": 1, "numbering": numbering,
    }  # fmt: skip
    before = _tenant_row(raw_rows, tenant_a)
    bad = client.patch("/api/v1/settings", json={"currency": "USD", "numbering": {"quote": "Q{year}"}}, headers=h)
    assert bad.status_code == 422 and "numbering_quote" in bad.json["errors"]["json"]
    assert client.patch("/api/v1/settings", json={"fiscal_year_start": 0}, headers=h).status_code == 422
    assert client.patch("/api/v1/settings", json={"timezone": "Nowhere/City"}, headers=h).status_code == 422
    assert client.patch("/api/v1/settings", json={"slug": "other"}, headers=h).status_code == 422
    assert _tenant_row(raw_rows, tenant_a) == before
    ok = client.patch(
        "/api/v1/settings", json={"currency": "USD", "fiscal_year_start": 7, "numbering": {"order": "O-{seq:06d}"}},
        headers=h,
    )  # fmt: skip
    assert ok.status_code == 200, ok.json
    assert ok.json["currency"] == "USD" and ok.json["fiscal_year_start"] == 7
    assert ok.json["numbering"]["order"] == "O-{seq:06d}" and ok.json["numbering"]["quote"] == "QT-{year}-{seq:04d}"
    (entry,) = _audits(app, tenant_a)
    assert set(entry.changes) == {"currency", "fiscal_year_start", "numbering.order"}


@pytest.mark.parametrize("role", ["sales_manager", "sales", "finance"])
def test_api_settings_need_settings_manage(app, tenant_a, token_for, client, role):
    h = bearer(token_for(tenant_a[role]))
    assert client.get("/api/v1/settings", headers=h).status_code == 403
    assert client.patch("/api/v1/settings", json={"currency": "USD"}, headers=h).status_code == 403


def _payloads() -> list[str]:
    from tests.test_markdown import PAYLOADS

    return [p for p in PAYLOADS if "<" in p and len(p) <= 120]


@pytest.mark.parametrize("payload", _payloads())
def test_markup_in_the_name_comes_back_escaped_on_the_settings_and_audit_pages(app, tenant_a, client_as, payload):
    c = client_as(tenant_a["owner"])
    assert post(c, _url(tenant_a), {**GOOD, "name": payload}).status_code == 302
    (entry,) = _audits(app, tenant_a)
    for url in (_url(tenant_a), f"/w/{tenant_a.slug}/settings/audit/{entry.id}", f"/w/{tenant_a.slug}/settings/audit"):
        page = text_of(c.get(url))
        assert payload not in page, url
