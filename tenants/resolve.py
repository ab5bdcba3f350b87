"""Resolving the tenant of a request from the /w/<slug> prefix.

Anyone who is not an active member of the workspace — signed in or not — gets 404 for all
of it, so a workspace's existence is not disclosed.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, g
from flask_login import current_user
from sqlalchemy import select

from crm.db import db
from tenants.context import reset_request_identity, set_request_identity
from tenants.models import Membership, Tenant


def _pull_tenant(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if not values or "slug" not in values:
        return
    slug = values.pop("slug")
    tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one_or_none()
    if tenant is None or not current_user.is_authenticated:
        abort(404)
    g._tenant_tokens = set_request_identity(tenant.id, current_user.id)
    member = db.session.scalars(
        select(Membership).where(
            Membership.tenant_id == tenant.id,
            Membership.user_id == current_user.id,
            Membership.is_active.is_(True),
        )
    ).one_or_none()
    if member is None:
        abort(404)
    g.tenant = tenant
    g.member = member


def _add_slug(endpoint: str, values: dict[str, Any]) -> None:
    if "slug" in values or "tenant" not in g:
        return
    from flask import current_app

    if current_app.url_map.is_endpoint_expecting(endpoint, "slug"):
        values["slug"] = g.tenant.slug


def _identify_user() -> None:
    # Outside a workspace the signed-in person may still read their own memberships
    # (row-level security keys that on app.user_id).
    if "_tenant_tokens" not in g and current_user.is_authenticated:
        g._tenant_tokens = set_request_identity(None, current_user.id)


def _teardown(exc: BaseException | None) -> None:
    tokens = g.pop("_tenant_tokens", None)
    if tokens is not None:
        try:
            reset_request_identity(tokens)
        except ValueError:  # torn down in another context (streamed response): just clear
            set_request_identity(None, None)


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_pull_tenant)
    app.url_defaults(_add_slug)
    app.before_request(_identify_user)
    app.teardown_request(_teardown)
