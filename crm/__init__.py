"""Taizhang: the Flask application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, g, jsonify, render_template, request
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from crm.config import BASE_DIR, Config, secret_key

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    # Bootstrap components and progress bars set style attributes; scripts stay strict.
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": "'self'",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


def select_locale() -> str | None:
    from crm.i18n import locale_for_request

    return locale_for_request()


def select_timezone() -> str | None:
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return None


def create_app(config: dict[str, Any] | None = None) -> Flask:
    # Imported here: a module-level "db" name would shadow the crm.db module.
    from crm.extensions import babel, bootstrap, csrf, db, htmx, limiter, login_manager, migrate, talisman

    app = Flask(__name__, template_folder="../templates", static_folder="static", instance_relative_config=False)
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    app.config["SECRET_KEY"] = secret_key(app.config)
    Path(app.config["FILES_DIR"]).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    htmx.init_app(app)
    bootstrap.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    talisman.init_app(
        app,
        content_security_policy=CSP,
        force_https=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        frame_options="DENY",
        referrer_policy="same-origin",
    )

    from tenants import guard, resolve, rls

    guard.install()
    rls.install()
    resolve.init_app(app)

    from crm import urls

    urls.init_app(app)
    _register_models()
    _register_blueprints(app)
    _register_errors(app)
    _register_template_helpers(app)

    from crm.cli import register as register_cli

    register_cli(app)

    from workers.queue import init_app as init_jobs

    init_jobs(app)

    if not app.debug and not app.testing:
        logging.getLogger("taizhang").setLevel(logging.INFO)
    return app


def _register_models() -> None:
    # Import every model so metadata (and so migrations and RLS checks) sees all tables.
    import crm.activities.models  # noqa: F401
    import crm.announcements.models  # noqa: F401
    import crm.api.models  # noqa: F401
    import crm.attachments.models  # noqa: F401
    import crm.audit.models  # noqa: F401
    import crm.books.models  # noqa: F401
    import crm.catalog.models  # noqa: F401
    import crm.contracts.models  # noqa: F401
    import crm.expenses.models  # noqa: F401
    import crm.imports.models  # noqa: F401
    import crm.invoicing.models  # noqa: F401
    import crm.kb.models  # noqa: F401
    import crm.ledger.models  # noqa: F401
    import crm.notifications.models  # noqa: F401
    import crm.numbering  # noqa: F401
    import crm.orders.models  # noqa: F401
    import crm.payroll.models  # noqa: F401
    import crm.pipeline.models  # noqa: F401
    import crm.quotes.models  # noqa: F401
    import crm.registry.models  # noqa: F401
    import crm.sales.models  # noqa: F401
    import crm.settlement.models  # noqa: F401
    import crm.workreports.models  # noqa: F401
    import tenants.models  # noqa: F401
    import workers.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from crm.accounts.views import bp as accounts_bp
    from crm.activities.views import bp as activities_bp
    from crm.announcements.views import bp as announcements_bp
    from crm.api import init_api
    from crm.api.views import bp as tokens_bp
    from crm.attachments.views import bp as attachments_bp
    from crm.audit.views import bp as audit_bp
    from crm.books.views import bp as books_bp
    from crm.catalog.views import bp as products_bp
    from crm.contracts.views import bp as contracts_bp
    from crm.expenses.views import bp as expenses_bp
    from crm.finreports.export_views import bp as finreport_exports_bp
    from crm.finreports.views import bp as finreports_bp
    from crm.imports.views import bp as imports_bp
    from crm.imports.views import finance_bp as journal_imports_bp
    from crm.invoicing.views import bp as invoicing_bp
    from crm.jobs.views import bp as jobs_bp
    from crm.kb.views import bp as kb_bp
    from crm.ledger.views import bp as ledger_bp
    from crm.letterhead.views import bp as letterhead_bp
    from crm.members.views import bp as members_bp
    from crm.notifications.views import bp as notifications_bp
    from crm.orders.views import bp as orders_bp
    from crm.payroll.views import bp as payroll_bp
    from crm.pipeline.views import bp as pipeline_bp
    from crm.quotes.views import bp as quotes_bp
    from crm.registry.views import bp as registry_bp
    from crm.sales.pool_views import bp as pool_bp
    from crm.sales.views import bp as customers_bp
    from crm.settlement.views import bp as settlement_bp
    from crm.shell.views import bp as shell_bp
    from crm.workreports.views import bp as work_reports_bp
    from crm.workspace_settings.views import bp as workspace_settings_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(shell_bp)
    app.register_blueprint(announcements_bp)
    app.register_blueprint(members_bp)
    app.register_blueprint(letterhead_bp)
    app.register_blueprint(workspace_settings_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(tokens_bp)
    app.register_blueprint(customers_bp)
    app.register_blueprint(activities_bp)
    app.register_blueprint(attachments_bp)
    app.register_blueprint(pool_bp)
    app.register_blueprint(registry_bp)
    app.register_blueprint(pipeline_bp)
    app.register_blueprint(products_bp)
    app.register_blueprint(quotes_bp)
    app.register_blueprint(contracts_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(ledger_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(journal_imports_bp)
    app.register_blueprint(invoicing_bp)
    app.register_blueprint(kb_bp)
    app.register_blueprint(work_reports_bp)
    app.register_blueprint(settlement_bp)
    app.register_blueprint(finreports_bp)
    app.register_blueprint(finreport_exports_bp)
    app.register_blueprint(books_bp)
    app.register_blueprint(expenses_bp)
    app.register_blueprint(payroll_bp)
    init_api(app)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _register_errors(app: Flask) -> None:
    from flask_babel import gettext as _

    messages = {
        400: lambda: _("The request could not be understood."),
        403: lambda: _("You do not have permission to do this."),
        404: lambda: _("There is nothing here."),
        405: lambda: _("That method is not allowed here."),
        413: lambda: _("The upload is too large."),
        429: lambda: _("Too many attempts. Please wait a few minutes and try again."),
        500: lambda: _("Something went wrong on our side. It has been logged."),
        503: lambda: _("A service we depend on is unavailable. Please try again shortly."),
    }

    def handle(code: int):
        def handler(err: Exception):
            if _wants_json():
                return jsonify({"code": code, "status": str(code), "message": messages[code]()}), code
            template = "errors/error.html"
            if request.headers.get("HX-Request"):
                return render_template("errors/_error.html", code=code, message=messages[code]()), code
            return render_template(template, code=code, message=messages[code]()), code

        return handler

    for code in messages:
        app.register_error_handler(code, handle(code))

    @app.errorhandler(CSRFError)
    def csrf_error(err: CSRFError):
        if _wants_json():
            return jsonify({"code": 400, "status": "Bad Request", "message": err.description}), 400
        return render_template(
            "errors/error.html", code=400, message=_("Your form expired. Please reload the page and try again.")
        ), 400

    from roles.checks import PermissionDenied

    @app.errorhandler(PermissionDenied)
    def denied(err: PermissionDenied):
        return handle(403)(err)


def _register_template_helpers(app: Flask) -> None:
    from roles.catalogue import ROLES
    from roles.checks import can
    from roles.workspaces import visible_workspaces

    @app.context_processor
    def inject() -> dict[str, Any]:
        from tenants.services import memberships_of

        member = g.get("member")
        return {
            "my_memberships": memberships_of(member.user) if member is not None and request.blueprint != "api" else [],
            "current_member": member,
            "current_tenant_obj": g.get("tenant"),
            "can": lambda perm, obj=None: can(member, perm, obj),
            "visible_workspaces": visible_workspaces(member) if member else [],
            "ROLES": ROLES,
            "LANGUAGES": app.config["LANGUAGES"],
            "current_locale": str(get_locale()),
        }

    from crm.labels import audit_label, job_status, role_label

    app.add_template_global(audit_label)
    app.add_template_global(job_status)
    app.add_template_filter(role_label)

    @app.template_filter("datetime")
    def _dt(value: Any, fmt: str = "short") -> str:
        from flask_babel import format_datetime

        return format_datetime(value, fmt) if value else ""

    @app.template_filter("timeago")
    def _ago(value: Any) -> str:
        from flask_babel import format_timedelta

        from crm.db import utcnow

        return format_timedelta(value - utcnow(), add_direction=True) if value else ""
