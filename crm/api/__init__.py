"""/api/v1: bearer-token API with an OpenAPI document generated from code (flask-smorest)."""

from __future__ import annotations

from flask import Flask, g, request
from flask_smorest import Api, abort

from crm.extensions import csrf
from tenants.context import reset_request_identity, set_request_identity


class TaizhangApi(Api):
    """flask-smorest's Api, with the rule that refused (crm.books.errors.RuleViolation) kept
    as ``rule`` in the error payload: its stock handler passes on only message and errors."""

    def handle_http_exception(self, error):  # type: ignore[no-untyped-def]
        payload, code, headers = super().handle_http_exception(error)
        rule = (getattr(error, "data", None) or {}).get("rule")
        if rule:
            payload["rule"] = rule
        return payload, code, headers


api = TaizhangApi()

BEARER = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "A token created under Settings → API tokens."}
}


def _authenticate() -> None:
    from crm.api.tokens import authenticate

    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        abort(401, message="Missing bearer token: send 'Authorization: Bearer <token>'.")
    found = authenticate(header[7:].strip())
    if found is None:
        abort(401, message="The token is unknown, revoked, or its member is deactivated.")
    tenant, member = found
    # A signed-in browser may already have set an identity (resolve._identify_user); undo it
    # first, or teardown would restore that one instead of the state before the request.
    earlier = g.pop("_tenant_tokens", None)
    if earlier is not None:
        reset_request_identity(earlier)
    g._tenant_tokens = set_request_identity(tenant.id, member.user_id)
    g.tenant = tenant
    g.member = member


def init_api(app: Flask) -> None:
    app.config.setdefault("API_SPEC_OPTIONS", {})
    app.config["API_SPEC_OPTIONS"].update(
        {
            "components": {"securitySchemes": BEARER},
            "security": [{"bearerAuth": []}],
            "info": {
                "description": "Every object the Taizhang UI manages, with the same permissions and tenant rules."
            },
        }
    )
    api.init_app(app)
    from crm.api.resources import blueprints

    for bp in blueprints:
        # The blueprints are module-level and shared by every app the factory builds (tests
        # build many); Flask refuses setup on a blueprint once registered, so attach once.
        if _authenticate not in bp.before_request_funcs.get(None, []):
            bp.before_request(_authenticate)
        csrf.exempt(bp)
        api.register_blueprint(bp, url_prefix="/api/v1" + (bp.url_prefix or ""))

    @app.after_request
    def _commit_last_used(response):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/v1") and g.get("member") is not None and response.status_code < 500:
            from crm.db import db

            db.session.commit()
        return response
