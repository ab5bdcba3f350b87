"""Configuration, read from the environment with safe embedded defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    ENV_NAME = os.environ.get("TAIZHANG_ENV", "development")
    INSTANCE_DIR = Path(os.environ.get("TAIZHANG_INSTANCE", BASE_DIR / "instance"))
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'taizhang.db'}"
    # Migrations run as the role that owns the tables; the app connects as one that does not.
    MIGRATION_DATABASE_URL = os.environ.get("MIGRATION_DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL")
    RQ_QUEUES = ["default"]
    # Run jobs in-process when there is no Redis (the embedded default).
    JOBS_INLINE = not bool(os.environ.get("REDIS_URL"))
    FILES_DIR = Path(os.environ.get("TAIZHANG_FILES", INSTANCE_DIR / "files"))

    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "Taizhang <no-reply@taizhang.local>")
    # Where members reach the app (https://taizhang.example.com): links in mail sent from jobs,
    # which have no request to take the host from.
    PUBLIC_URL = os.environ.get("PUBLIC_URL")

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "crm" / "translations")
    LANGUAGES = {"zh_Hans_CN": "简体中文", "en": "English"}

    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None

    PERMANENT_SESSION_LIFETIME = 30 * 86400  # "keep me signed in"; the server record expires too
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", ENV_NAME == "production")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    FORCE_HTTPS = _env_bool("FORCE_HTTPS", ENV_NAME == "production")

    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    LOGIN_RATE_LIMIT_IP = os.environ.get("LOGIN_RATE_LIMIT_IP", "30 per 5 minutes")
    LOGIN_RATE_LIMIT_ACCOUNT = os.environ.get("LOGIN_RATE_LIMIT_ACCOUNT", "10 per 15 minutes")

    # Business-registration look-up over HTTP; unset = the workspace's imported table.
    REGISTRY_URL = os.environ.get("REGISTRY_URL")
    REGISTRY_KEY = os.environ.get("REGISTRY_KEY")

    INVITATION_TTL_HOURS = int(os.environ.get("INVITATION_TTL_HOURS", "168"))
    PASSWORD_RESET_TTL_SECONDS = int(os.environ.get("PASSWORD_RESET_TTL_SECONDS", "3600"))
    MIN_PASSWORD_LENGTH = 12
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024

    API_TITLE = "Taizhang API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"


def secret_key(config: dict[str, object]) -> str:
    """Use SECRET_KEY when given; otherwise keep a generated one under instance/."""
    if config.get("SECRET_KEY"):
        return str(config["SECRET_KEY"])
    instance = Path(str(config["INSTANCE_DIR"]))
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
