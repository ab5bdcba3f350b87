"""/api/v1/settings: the workspace settings, with the page's permission and validation."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.db import db
from crm.sales.services import InvalidInput
from crm.workspace_settings import services
from roles.checks import PermissionDenied, require

settings_bp = Blueprint("api_settings", __name__, url_prefix="/settings", description="Workspace settings")


class WorkspaceNumberingSchema(Schema):
    quote = fields.String(metadata={"description": "e.g. QT-{year}-{seq:04d}; {year}, {yy}, {seq[:0Nd]} only"})
    contract = fields.String()
    order = fields.String()


class WorkspaceSettingsSchema(Schema):
    name = fields.String(validate=validate.Length(max=services.NAME_MAX))
    slug = fields.String(dump_only=True, metadata={"description": "never changes"})
    timezone = fields.String(metadata={"description": "an IANA zone name, e.g. Asia/Shanghai"})
    currency = fields.String(validate=validate.OneOf(services.CURRENCIES))
    fiscal_year_start = fields.Integer(metadata={"description": "month the fiscal year starts, 1–12"})
    numbering = fields.Nested(WorkspaceNumberingSchema)


class WorkspaceSettingsPatchSchema(WorkspaceSettingsSchema):
    """Any subset of the settings; what is left out keeps its value."""


@settings_bp.route("")
class SettingsResource(MethodView):
    @require("settings.manage")
    @settings_bp.response(200, WorkspaceSettingsSchema)
    def get(self):  # type: ignore[no-untyped-def]
        return services.settings_of(g.tenant)

    @require("settings.manage")
    @settings_bp.arguments(WorkspaceSettingsPatchSchema(partial=True))
    @settings_bp.response(200, WorkspaceSettingsSchema)
    def patch(self, data):  # type: ignore[no-untyped-def]
        try:
            services.save_settings(g.member, g.tenant, data)
        except InvalidInput as err:
            db.session.rollback()
            abort(422, message="Invalid input.", errors={"json": {k: [v] for k, v in err.errors.items()}})
        except PermissionDenied:
            db.session.rollback()
            abort(403, message="You may not change the workspace settings.")
        db.session.commit()
        return services.settings_of(g.tenant)


blueprints = [settings_bp]
