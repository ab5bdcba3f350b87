"""Alembic environment. Migrations run as the role that owns the tables
(MIGRATION_DATABASE_URL); the app itself connects as a role that does not."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import create_engine

config = context.config
fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def _url() -> str:
    return current_app.config.get("MIGRATION_DATABASE_URL") or target_db.engine.url.render_as_string(
        hide_password=False
    )


def include_object(obj, name, type_, reflected, compare_to):
    """Skip objects declared for another dialect only (e.g. PostgreSQL GIN indexes on SQLite)."""
    ddl_if = getattr(obj, "_ddl_if", None)
    return not (ddl_if is not None and ddl_if.dialect and ddl_if.dialect != context.get_context().dialect.name)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_db.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    owner_url = current_app.config.get("MIGRATION_DATABASE_URL")
    engine = create_engine(owner_url) if owner_url else target_db.engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    if owner_url:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
