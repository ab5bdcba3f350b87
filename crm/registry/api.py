"""/api/v1/registry/lookup: the same look-up the customer form uses."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.registry import providers
from roles.checks import require

registry_bp = Blueprint(
    "api_registry", __name__, url_prefix="/registry", description="Business registration (工商信息)"
)


class LookupArgs(Schema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=100))


class RegistryRecordSchema(Schema):
    name = fields.String()
    uscc = fields.String(allow_none=True)
    legal_representative = fields.String(allow_none=True)
    registered_capital = fields.String(allow_none=True)
    established_on = fields.Date(allow_none=True)
    address = fields.String(allow_none=True)
    status = fields.String(allow_none=True)


@registry_bp.route("/lookup")
class Lookup(MethodView):
    @require("sales.access")
    @registry_bp.arguments(LookupArgs, location="query")
    @registry_bp.response(200, RegistryRecordSchema(many=True))
    @registry_bp.alt_response(503, description="The configured registration service did not answer")
    def get(self, args):  # type: ignore[no-untyped-def]
        try:
            return providers.provider().lookup(args["q"])
        except providers.RegistryUnavailable:
            abort(503, message="The registration service did not answer.")


blueprints = [registry_bp]
