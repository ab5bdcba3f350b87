"""Sign-up, sign-in/out, sessions, passwords, languages, CSRF, security headers, audit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.db import db
from tenants.models import Membership, Tenant, User
from tests.factories import PASSWORD
from tests.helpers import csrf_from_page, csrf_token, html_lang, in_tenant, login, logout, post, text_of, translated

SIGNUP = {
    "company": "北京百川科技有限公司",
    "slug": "baichuan",
    "name": "周杰",
    "email": "zhou@baichuan.example.com",
    "password": "a-long-enough-pass",
}


def _counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count(User.id))), db.session.scalar(select(func.count(Tenant.id))))


def _field_error(html: str, field: str) -> str:
    """The error text rendered beside a form field (the macro gives it id="<field>-error")."""
    m = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', html)
    return m.group(1).strip() if m else ""


# ---------------------------------------------------------------- sign-up


def test_sign_up_creates_workspace_and_owner_and_lands_on_it(app, client):
    r = post(client, "/signup", SIGNUP)
    assert r.status_code == 302
    assert r.headers["Location"].endswith("/w/baichuan/")
    home = client.get("/w/baichuan/")
    assert home.status_code == 200
    assert "北京百川科技有限公司" in text_of(home)
    with app.app_context():
        tenant = db.session.scalars(select(Tenant).where(Tenant.slug == "baichuan")).one()
        user = db.session.scalars(select(User).where(User.email == SIGNUP["email"])).one()
        assert user.password_hash != SIGNUP["password"]
        with in_tenant(app, tenant.id):
            members = db.session.scalars(select(Membership)).all()
            assert [(m.user_id, m.roles) for m in members] == [(user.id, ["owner"])]
            assert db.session.scalars(select(AuditEntry.action)).all() == ["workspace.created"]


def test_signed_in_person_can_create_a_second_workspace(app, client, tenant_a):
    login(client, tenant_a["sales"].email)
    r = post(client, "/signup", {"company": "Side Project", "slug": "side-project"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/w/side-project/")
    assert client.get("/w/side-project/settings/members").status_code == 200  # owner there
    assert client.get(f"/w/{tenant_a.slug}/settings/members").status_code == 403  # still a rep in A


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("alpha", "This address is taken"),
        ("Bad Slug!", "Lower-case letters, digits and hyphens"),
        ("admin", "some words are reserved"),
        ("a--b", "single hyphens"),
        ("ab", "Field must be between 3 and 40 characters long"),
    ],
)
def test_sign_up_slug_errors_show_beside_the_field_and_change_nothing(app, client, tenant_a, slug, message):
    before = _counts(app)
    r = post(client, "/signup", {**SIGNUP, "slug": slug})
    assert r.status_code == 200
    assert message in _field_error(text_of(r), "slug"), text_of(r)[:2000]
    assert _counts(app) == before


def test_sign_up_with_short_password_is_refused(app, client):
    before = _counts(app)
    r = post(client, "/signup", {**SIGNUP, "password": "short-pass1"})  # 11 characters
    assert r.status_code == 200
    assert "At least 12 characters" in _field_error(text_of(r), "password")
    assert _counts(app) == before


def test_sign_up_with_existing_email_is_refused(app, client, tenant_a):
    before = _counts(app)
    r = post(client, "/signup", {**SIGNUP, "email": tenant_a["sales"].email.upper()})
    assert r.status_code == 200
    assert "exists" in _field_error(text_of(r), "email")
    assert _counts(app) == before


# ---------------------------------------------------------------- sign-in


def _normalised(html: str, *typed: str) -> str:
    """The page without what legitimately differs: the typed e-mail and the CSRF token."""
    for t in typed:
        html = html.replace(t, "EMAIL")
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+|("X-CSRFToken": ")[^"]+', r"\1\2TOKEN", html)


def test_wrong_password_and_unknown_email_answer_identically(app, client, tenant_a):
    known, unknown = tenant_a["owner"].email, "nobody@alpha.example.com"
    r1 = post(client, "/login", {"email": known, "password": "not-the-password"})
    r2 = post(client, "/login", {"email": unknown, "password": "not-the-password"})
    assert r1.status_code == r2.status_code == 200
    assert "Wrong e-mail or password." in text_of(r1)
    assert _normalised(text_of(r1), known) == _normalised(text_of(r2), unknown)
    assert client.get("/workspaces").status_code == 302  # still not signed in


def test_sign_in_redirects_to_the_only_workspace_or_the_chooser(app, client, tenant_a, tenant_b):
    r = login(client, tenant_a["owner"].email)
    assert r.headers["Location"].endswith(f"/w/{tenant_a.slug}/")
    with app.app_context():
        from tests import factories

        user = db.session.get(User, tenant_a["finance"].user_id)
        factories.make_member(tenant_b.id, user, ["finance"])
        db.session.commit()
    other = app.test_client()
    r = login(other, tenant_a["finance"].email)
    assert r.headers["Location"].endswith("/workspaces")
    page = text_of(other.get("/workspaces"))
    assert tenant_a.name in page and tenant_b.name in page


def test_sign_in_follows_only_local_next(client, tenant_a):
    r = post(client, "/login?next=/account/profile", {"email": tenant_a["owner"].email, "password": PASSWORD})
    assert r.headers["Location"].endswith("/account/profile")
    c2 = client.application.test_client()
    r = post(c2, "/login?next=https://evil.example/x", {"email": tenant_a["owner"].email, "password": PASSWORD})
    assert "evil" not in r.headers["Location"]
    c3 = client.application.test_client()
    r = post(c3, "/login?next=//evil.example/x", {"email": tenant_a["owner"].email, "password": PASSWORD})
    assert "evil" not in r.headers["Location"]


def test_email_is_case_insensitive_at_sign_in(client, tenant_a):
    login(client, tenant_a["owner"].email.upper())


def test_rate_limit_per_account(make_app, tenant_a):
    app = make_app(
        RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT_ACCOUNT="3 per minute", LOGIN_RATE_LIMIT_IP="100 per minute"
    )
    email = tenant_a["owner"].email
    for i in range(3):
        c = app.test_client()
        r = post(
            c, "/login", {"email": email, "password": "wrong-password"}, environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}
        )
        assert r.status_code == 200
    c = app.test_client()
    # From yet another address and with the right password: the account is throttled.
    r = post(c, "/login", {"email": email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert r.status_code == 429
    # Other accounts are unaffected.
    r = post(
        c, "/login", {"email": tenant_a["admin"].email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.99"}
    )
    assert r.status_code == 302


def test_rate_limit_per_ip(make_app, tenant_a):
    app = make_app(
        RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT_ACCOUNT="100 per minute", LOGIN_RATE_LIMIT_IP="5 per minute"
    )
    c = app.test_client()
    for i in range(5):
        r = post(
            c,
            "/login",
            {"email": f"guess{i}@alpha.example.com", "password": "wrong-password"},
            environ_base={"REMOTE_ADDR": "10.1.1.1"},
        )
        assert r.status_code == 200
    r = post(
        c, "/login", {"email": tenant_a["owner"].email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.1.1.1"}
    )
    assert r.status_code == 429
    r = post(
        app.test_client(),
        "/login",
        {"email": tenant_a["owner"].email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.1.1.2"},
    )
    assert r.status_code == 302
    # Signing in is limited; reading the form is not.
    assert c.get("/login", environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 200


# ---------------------------------------------------------------- sessions


def _session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def test_session_is_renewed_at_sign_in(client, tenant_a):
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
        s["lang"] = "en"
    csrf_token(client)
    with client.session_transaction() as s:
        csrf_before = s["csrf_token"]
    before = _session_cookie(client)
    login(client, tenant_a["owner"].email)
    assert _session_cookie(client) != before
    with client.session_transaction() as s:
        assert "planted" not in s, "a session planted before sign-in survived it"
        assert s.get("csrf_token") != csrf_before
        assert s["lang"] == "en"  # the language choice is kept
        assert s["_user_id"].startswith(f"{tenant_a['owner'].user_id}:")


def test_sign_out_drops_the_session(client, tenant_a):
    login(client, tenant_a["owner"].email)
    assert client.get(f"/w/{tenant_a.slug}/").status_code == 200
    r = logout(client)
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    with client.session_transaction() as s:
        assert "_user_id" not in s
    assert client.get(f"/w/{tenant_a.slug}/").status_code == 404
    assert client.get("/workspaces").status_code == 302


def test_a_cookie_copied_before_sign_out_no_longer_works(app, client, tenant_a):
    login(client, tenant_a["owner"].email)
    stolen = _session_cookie(client)
    logout(client)
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get(f"/w/{tenant_a.slug}/").status_code == 404
    assert thief.get("/workspaces").status_code == 302


def test_keep_me_signed_in_makes_a_lasting_cookie_and_a_short_one_otherwise(app, tenant_a):
    short, lasting = app.test_client(), app.test_client()
    login(short, tenant_a["owner"].email)
    r = post(lasting, "/login", {"email": tenant_a["owner"].email, "password": PASSWORD, "remember": "y"})
    assert r.status_code == 302

    def expiry(c):
        return c.get_cookie("session").expires

    assert expiry(short) is None  # a browser-session cookie
    assert expiry(lasting) is not None


def test_logout_needs_csrf(client, tenant_a):
    login(client, tenant_a["owner"].email)
    assert client.post("/logout").status_code == 400
    assert client.get("/workspaces").status_code == 200


def test_password_change_signs_out_other_sessions(app, client, tenant_a, client_as):
    member = tenant_a["sales"]
    other = client_as(member)
    login(client, member.email)
    assert other.get(f"/w/{member.slug}/").status_code == 200
    new = "a-brand-new-password"
    r = post(client, "/account/password", {"current": PASSWORD, "password": new, "confirm": new})
    assert r.status_code == 302
    assert client.get(f"/w/{member.slug}/").status_code == 200, "the session that changed it stays signed in"
    assert other.get("/workspaces").status_code == 302, "the other session still works"
    assert other.get(f"/w/{member.slug}/").status_code == 404
    logout(client)
    login(app.test_client(), member.email, new)


def test_password_change_needs_the_current_password_and_12_characters(client, tenant_a):
    login(client, tenant_a["sales"].email)
    r = post(
        client,
        "/account/password",
        {"current": "wrong-current-pw", "password": "a-brand-new-password", "confirm": "a-brand-new-password"},
    )
    assert r.status_code == 200 and "not your current password" in _field_error(text_of(r), "current")
    r = post(client, "/account/password", {"current": PASSWORD, "password": "too-short", "confirm": "too-short"})
    assert r.status_code == 200 and "At least 12" in _field_error(text_of(r), "password")
    logout(client)
    login(client, tenant_a["sales"].email)  # unchanged


# ---------------------------------------------------------------- forgotten password


@pytest.fixture
def outbox(monkeypatch):
    sent: list[tuple[str, str, str]] = []

    def fake_send(to, subject, body):
        sent.append((to, subject, body))
        return False

    monkeypatch.setattr("crm.accounts.views.send_mail", fake_send)
    return sent


def _reset_link(outbox) -> str:
    ((to, _subject, body),) = outbox
    m = re.search(r"http://localhost(/password/reset/\S+)", body)
    assert m, body
    return m.group(1)


def test_forgotten_password_answers_the_same_for_known_and_unknown(client, tenant_a, outbox):
    r1 = post(client, "/password/forgot", {"email": "nobody@alpha.example.com"})
    r1.close()
    assert outbox == []
    r2 = post(client, "/password/forgot", {"email": tenant_a["owner"].email})
    r2.close()
    assert (r1.status_code, r1.headers["Location"]) == (r2.status_code, r2.headers["Location"]) == (302, "/login")
    assert len(outbox) == 1 and outbox[0][0] == tenant_a["owner"].email
    page = text_of(client.get("/login"))
    assert "If that address has an account" in page


def test_reset_link_works_once(client, tenant_a, outbox):
    post(client, "/password/forgot", {"email": tenant_a["owner"].email}).close()
    link = _reset_link(outbox)
    fresh = client.application.test_client()
    assert fresh.get(link).status_code == 200
    new = "reset-to-this-password"
    r = post(fresh, link, {"password": new, "confirm": new})
    assert r.status_code == 302
    assert fresh.get(f"/w/{tenant_a.slug}/").status_code == 200  # signed in after the reset
    again = client.application.test_client()
    assert again.get(link).status_code == 400
    assert post(again, link, {"password": "another-password-1", "confirm": "another-password-1"}).status_code == 400
    login(client.application.test_client(), tenant_a["owner"].email, new)


def test_reset_link_expires(app, client, tenant_a, monkeypatch):
    import time

    from itsdangerous.timed import TimestampSigner

    from crm.accounts.services import make_reset_token

    with app.app_context():
        user = db.session.get(User, tenant_a["owner"].user_id)
        issued = int(time.time()) - app.config["PASSWORD_RESET_TTL_SECONDS"] - 5
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: issued)
        token = make_reset_token(user)
        monkeypatch.undo()
    r = client.get(f"/password/reset/{token}")
    assert r.status_code == 400
    assert "reset-invalid" in text_of(r) or "expired" in text_of(r).lower()


def test_reset_link_is_not_forgeable(client, tenant_a):
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer("not-the-secret", salt="taizhang.password-reset").dumps(
        {"u": tenant_a["owner"].user_id, "e": 0}
    )
    assert client.get(f"/password/reset/{forged}").status_code == 400


# ---------------------------------------------------------------- languages


def test_accept_language_chooses_the_language(app):
    zh_sign_in = translated(app, "Sign in")
    bare = app.test_client()
    page = text_of(bare.get("/login"))
    assert html_lang(page) == "zh-CN", "Simplified Chinese is the default"
    assert zh_sign_in in page
    en = text_of(bare.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}))
    assert html_lang(en) == "en" and "Sign in" in en and zh_sign_in not in en
    zh = text_of(bare.get("/login", headers={"Accept-Language": "zh-TW,en;q=0.5"}))
    assert html_lang(zh) == "zh-CN"
    other = text_of(bare.get("/login", headers={"Accept-Language": "fr-FR,de;q=0.8"}))
    assert html_lang(other) == "zh-CN"
    mixed = text_of(bare.get("/login", headers={"Accept-Language": "fr-FR,en;q=0.8"}))
    assert html_lang(mixed) == "en"


def test_language_switch_for_visitors(app):
    bare = app.test_client()
    r = post(bare, "/lang/en", {"next": "/login"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert html_lang(text_of(bare.get("/login"))) == "en"
    assert post(bare, "/lang/fr").status_code == 404
    r = post(bare, "/lang/zh_Hans_CN", {"next": "https://evil.example/"})
    assert "evil" not in r.headers["Location"]
    assert html_lang(text_of(bare.get("/login", headers={"Accept-Language": "en"}))) == "zh-CN"


def test_profile_language_changes_the_page_language(app, tenant_a):
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    login(c, tenant_a["owner"].email)
    home = f"/w/{tenant_a.slug}/"
    zh_sign_out = translated(app, "Sign out")
    page = text_of(c.get(home))
    assert html_lang(page) == "zh-CN" and zh_sign_out in page
    r = post(c, "/account/profile", {"name": "王建国", "locale": "en", "timezone": "Asia/Shanghai"})
    assert r.status_code == 302
    page = text_of(c.get(home))
    assert html_lang(page) == "en" and "Sign out" in page and zh_sign_out not in page
    # The saved choice follows the person to a new browser, whatever it asks for.
    c2 = app.test_client()
    c2.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    login(c2, tenant_a["owner"].email)
    assert html_lang(text_of(c2.get(home))) == "en"
    post(c, "/account/profile", {"name": "王建国", "locale": "zh_Hans_CN", "timezone": "Asia/Shanghai"})
    assert html_lang(text_of(c.get(home))) == "zh-CN"
    with app.app_context():
        assert db.session.get(User, tenant_a["owner"].user_id).locale == "zh_Hans_CN"


def test_profile_rejects_unknown_language_and_timezone(app, client, tenant_a):
    login(client, tenant_a["owner"].email)
    r = post(client, "/account/profile", {"name": "X", "locale": "klingon", "timezone": "Mars/Olympus"})
    assert r.status_code == 200
    with app.app_context():
        user = db.session.get(User, tenant_a["owner"].user_id)
        assert (user.name, user.locale, user.timezone) == ("王建国", None, "Asia/Shanghai")


# ---------------------------------------------------------------- CSRF and headers


def test_post_without_csrf_token_is_refused_and_changes_nothing(app, client, tenant_a, raw_rows):
    login(client, tenant_a["owner"].email)
    target = tenant_a["sales"]
    before = raw_rows("memberships", "id = :i", {"i": target.id})
    r = client.post(f"/w/{tenant_a.slug}/settings/members/{target.id}/deactivate")
    assert r.status_code == 400
    r = client.post(f"/w/{tenant_a.slug}/settings/members/{target.id}/deactivate", data={"csrf_token": "forged"})
    assert r.status_code == 400
    assert raw_rows("memberships", "id = :i", {"i": target.id}) == before
    # A token from another session does not work either.
    other = app.test_client()
    r = client.post(
        f"/w/{tenant_a.slug}/settings/members/{target.id}/deactivate", data={"csrf_token": csrf_token(other)}
    )
    assert r.status_code == 400
    assert raw_rows("memberships", "id = :i", {"i": target.id}) == before
    assert client.post("/signup", data=dict(SIGNUP)).status_code == 400
    assert raw_rows("tenants", "slug = 'baichuan'") == []


def test_forms_carry_the_csrf_token(app, client, tenant_a):
    page = text_of(client.get("/login"))
    token = csrf_from_page(page)
    r = client.post("/login", data={"csrf_token": token, "email": tenant_a["owner"].email, "password": PASSWORD})
    assert r.status_code == 302
    members_page = text_of(client.get(f"/w/{tenant_a.slug}/settings/members"))
    token = csrf_from_page(members_page)
    r = client.post(
        f"/w/{tenant_a.slug}/settings/members/{tenant_a['sales'].id}/deactivate", data={"csrf_token": token}
    )
    assert r.status_code == 302


def test_htmx_requests_carry_the_token_in_a_header(app, client, tenant_a):
    login(client, tenant_a["owner"].email)
    page = text_of(client.get(f"/w/{tenant_a.slug}/"))
    m = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", page)
    assert m, "the base layout must give htmx the CSRF token (hx-headers)"
    url = f"/w/{tenant_a.slug}/notifications/read"
    assert client.post(url, headers={"HX-Request": "true"}).status_code == 400
    r = client.post(url, headers={"HX-Request": "true", "X-CSRFToken": m.group(1)})
    assert r.status_code == 200


def test_security_headers(client, tenant_a):
    r = client.get("/login")
    csp = r.headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["script-src"] == ["'self'"] or all(not s.startswith("http") for s in directives["script-src"])
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert r.headers["X-Frame-Options"] in ("DENY", "SAMEORIGIN")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "Referrer-Policy" in r.headers
    r = post(client, "/login", {"email": tenant_a["owner"].email, "password": PASSWORD, "remember": "y"})
    cookies = [v for k, v in r.headers.items() if k.lower() == "set-cookie"]
    assert cookies
    for cookie in cookies:
        flags = {p.strip().split("=")[0].lower(): p.strip() for p in cookie.split(";")[1:]}
        assert "httponly" in flags, cookie
        assert flags.get("samesite", "").lower() == "samesite=lax", cookie


def test_no_external_urls_in_pages(client, tenant_a):
    """CSS, JavaScript and fonts are served by the app itself."""
    login(client, tenant_a["owner"].email)
    for url in ("/login", f"/w/{tenant_a.slug}/", f"/w/{tenant_a.slug}/settings/members"):
        page = text_of(client.get(url))
        found = re.findall(r'(?:src|href)="(https?:)?//[^"]+"', page)
        assert not found, f"{url} loads from elsewhere: {found}"


def test_static_assets_are_served(client):
    page = text_of(client.get("/login"))
    for path in re.findall(r'(?:src|href)="(/(?:static|bootstrap)/[^"?]+)', page):
        assert client.get(path).status_code == 200, path


# ---------------------------------------------------------------- audit


def _actions(app, tenant_id):
    with in_tenant(app, tenant_id):
        return [(e.action, e.member_id) for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_sign_in_and_failed_sign_in_are_audited_in_each_workspace(app, client, tenant_a, tenant_b):
    from tests import factories

    with app.app_context():
        user = db.session.get(User, tenant_a["sales"].user_id)
        b_member = factories.make_member(tenant_b.id, user, ["sales"]).id
        db.session.commit()
    post(client, "/login", {"email": tenant_a["sales"].email, "password": "not-the-password"})
    login(client, tenant_a["sales"].email)
    assert _actions(app, tenant_a.id) == [
        ("auth.sign_in_failed", tenant_a["sales"].id),
        ("auth.sign_in", tenant_a["sales"].id),
    ]
    assert _actions(app, tenant_b.id) == [("auth.sign_in_failed", b_member), ("auth.sign_in", b_member)]
    with in_tenant(app, tenant_a.id):
        entry = db.session.scalars(select(AuditEntry)).first()
        assert entry.ip == "127.0.0.1" and entry.user_id == tenant_a["sales"].user_id


def test_token_creation_is_audited(app, client, tenant_a):
    login(client, tenant_a["finance"].email)
    r = post(client, f"/w/{tenant_a.slug}/account/tokens", {"name": "报表脚本"})
    assert r.status_code == 200
    m = re.search(r'id="new-token" value="([^"]+)"', text_of(r))
    assert m, "the new token is shown once"
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {m.group(1)}"}).status_code == 200
    assert ("api_token.created", tenant_a["finance"].id) in _actions(app, tenant_a.id)
    assert m.group(1) not in text_of(client.get(f"/w/{tenant_a.slug}/account/tokens")), "shown only once"


def test_htmx_errors_answer_a_fragment(client, tenant_a):
    login(client, tenant_a["sales"].email)
    r = client.get(f"/w/{tenant_a.slug}/settings/members", headers={"HX-Request": "true"})
    assert r.status_code == 403
    assert "<html" not in text_of(r) and "You do not have permission" in text_of(r)
    r = client.get(f"/w/{tenant_a.slug}/settings/members")
    assert r.status_code == 403 and "<html" in text_of(r)


def test_error_pages_are_translated_and_json_for_the_api(app, tenant_a):
    bare = app.test_client()
    page = text_of(bare.get("/w/nowhere/", headers={"Accept-Language": "zh-CN"}))
    assert html_lang(page) == "zh-CN"
    r = bare.get("/api/v1/jobs/1")
    assert r.status_code == 401 and r.is_json


def test_rate_limit_on_password_reset_requests(make_app, tenant_a):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT_IP="3 per minute")
    c = app.test_client()
    for _ in range(3):
        assert post(c, "/password/forgot", {"email": tenant_a["owner"].email}).status_code == 302
    assert post(c, "/password/forgot", {"email": tenant_a["owner"].email}).status_code == 429
