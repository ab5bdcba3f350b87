"""Small helpers shared by the test modules (also exposed as fixtures in conftest)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from tests.factories import PASSWORD

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(client: FlaskClient) -> str:
    """A valid CSRF token for this client's session.

    Flask-WTF keeps a raw token in the session and signs it for the form; do the same, so
    a test can post without first rendering a page (tests that prove the *page* carries the
    token use csrf_from_page instead).
    """
    app = client.application
    field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    with client.session_transaction() as sess:
        raw = sess.get(field)
        if not raw:
            raw = secrets.token_hex(20)
            sess[field] = raw
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def csrf_from_page(html: str) -> str:
    m = CSRF_INPUT.search(html)
    assert m, "the page carries no csrf_token input"
    return m.group(1) or m.group(2)


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kw: Any):
    """POST a form with a valid CSRF token."""
    body = {"csrf_token": csrf_token(client)}
    body.update(data or {})
    return client.post(url, data=body, **kw)


def login(client: FlaskClient, email: str, password: str = PASSWORD, **kw: Any):
    """Sign in through the real form; asserts it worked."""
    r = post(client, "/login", {"email": email, "password": password}, **kw)
    assert r.status_code == 302, f"sign-in as {email} failed: {r.status_code}"
    return r


def logout(client: FlaskClient):
    return post(client, "/logout")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def html_lang(html: str) -> str | None:
    m = re.search(r"<html[^>]*\blang=\"([^\"]+)\"", html)
    return m.group(1) if m else None


def text_of(resp) -> str:  # type: ignore[no-untyped-def]
    return resp.get_data(as_text=True)


@contextmanager
def in_tenant(app: Flask, tenant_id: int | None = None, user_id: int | None = None) -> Iterator[None]:
    """An application context (and, given an id, the tenant) for reading or arranging data."""
    from tenants.context import acting_user, tenant_context

    with app.app_context():
        if tenant_id is None:
            if user_id is None:
                yield
            else:
                with acting_user(user_id):
                    yield
        else:
            with tenant_context(tenant_id, user_id=user_id):
                yield


def translated(app: Flask, msgid: str, locale: str = "zh_Hans_CN") -> str:
    """The app's own translation of a message (so tests do not hard-code catalogue wording)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale(locale):
        text = gettext(msgid)
    assert text != msgid or locale == "en", f"no {locale} translation for {msgid!r}"
    return text


class ApiClient:
    """A member's bearer-token client for /api/v1 (paths relative to `prefix`)."""

    def __init__(self, client: FlaskClient, token: str, prefix: str = "/api/v1") -> None:
        self.client, self.h, self.prefix = client, bearer(token), prefix

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(f"{self.prefix}{path}", headers=self.h, **kw)

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(f"{self.prefix}{path}", json=body or {}, headers=self.h)

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(f"{self.prefix}{path}", json=body, headers=self.h)

    def delete(self, path: str) -> Any:
        return self.client.delete(f"{self.prefix}{path}", headers=self.h)
