"""Test infrastructure.

The app
-------
One app is built per session (``create_app`` with the test config: CSRF on, jobs inline and
synchronous, rate limiting off, no Redis, no mail); building one per test costs ~0.5 s plus
template compilation. Every test still starts clean: a fresh, empty database, its own
FILES_DIR under tmp_path, and the session config restored. ``make_app(**overrides)`` builds a
separate app on the same database for settings fixed at creation (rate limiting, mail,
Redis).

Back ends
---------
* SQLite (default): the schema is made once with ``db.create_all()`` (allowed in tests only)
  and the pristine file is copied over the database before every test.
* PostgreSQL when TEST_DATABASE_URL (the non-owner app role) and
  TEST_MIGRATION_DATABASE_URL (the owner) are set: the Alembic migrations run once per
  session as the owner; the app under test connects as the app role, so row-level security
  applies to it; every test starts from empty tables (DELETE from each and sequences reset
  through the owner, since the app role cannot see other tenants' rows).
* Redis: tests marked ``redis`` run only when REDIS_URL is set (use a spare db number, e.g.
  redis://127.0.0.1:6379/15 — those tests flush it).

CSRF protection stays on: posts go through helpers.post / csrf_token, and
test_accounts.test_forms_carry_the_csrf_token proves the pages carry it.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

import crm
from crm.db import db
from tests import factories, helpers

# Under pytest-xdist every worker ("gw0", "gw1", …) gets a database and a Redis db of its
# own, derived from the ones given, so workers never truncate or flush each other's data.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
WORKER_NUMBER = int(WORKER.removeprefix("gw")) if WORKER else 0


def _worker_database(url: str | None) -> str | None:
    if not url or not WORKER:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


def _worker_redis(url: str | None) -> str | None:
    """Workers count down from the db number given (tests flush theirs): /15, /14, …"""
    if not url or not WORKER:
        return url
    base, _, number = url.rpartition("/")
    if not number.isdigit():
        base, number = url.rstrip("/"), "0"
    db_number = int(number) - WORKER_NUMBER if int(number) >= WORKER_NUMBER else int(number) + WORKER_NUMBER
    return f"{base}/{db_number}"


PG_URL = _worker_database(os.environ.get("TEST_DATABASE_URL"))
PG_OWNER_URL = _worker_database(os.environ.get("TEST_MIGRATION_DATABASE_URL"))
USE_PG = bool(PG_URL and PG_OWNER_URL)
REDIS_URL = _worker_redis(os.environ.get("REDIS_URL"))
APP_ROLE = os.environ.get("APP_DB_ROLE", "taizhang_app")


def pytest_configure(config: pytest.Config) -> None:
    if bool(PG_URL) != bool(PG_OWNER_URL):
        raise pytest.UsageError(
            "set both TEST_DATABASE_URL (the app role) and TEST_MIGRATION_DATABASE_URL (the owner), or neither"
        )


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"taizhang back end: {'PostgreSQL ' + str(PG_URL) if USE_PG else 'SQLite (tmp file per test)'}",
        f"taizhang redis: {REDIS_URL or 'none (redis tests skipped)'}",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL and TEST_MIGRATION_DATABASE_URL")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL")
    for item in items:
        if "postgres" in item.keywords and not USE_PG:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not REDIS_URL:
            item.add_marker(skip_redis)


# ---------------------------------------------------------------- session-wide setup


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Argon2 at production cost makes every sign-in ~0.1 s; tests use the cheapest cost.

    Both the real and the dummy (unknown e-mail) hash use the same cost, as in production.
    """
    from argon2 import PasswordHasher

    import tenants.identity as identity

    saved = identity._hasher, identity._DUMMY_HASH
    identity._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    identity._DUMMY_HASH = identity._hasher.hash("taizhang-timing-equaliser")
    yield
    identity._hasher, identity._DUMMY_HASH = saved


def _tables(conn: Any) -> list[str]:
    rows = conn.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
    )
    return sorted(r[0] for r in rows)


@pytest.fixture(scope="session")
def owner_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine | None]:
    """PostgreSQL only: migrate the test database once, as the owner; yield an owner engine."""
    if not USE_PG:
        yield None
        return
    import flask_migrate

    if WORKER:
        _create_worker_database()
    engine = create_engine(PG_OWNER_URL)  # type: ignore[arg-type]
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    saved_role = os.environ.get("APP_DB_ROLE")
    os.environ["APP_DB_ROLE"] = APP_ROLE
    try:
        app = crm.create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "SQLALCHEMY_DATABASE_URI": PG_URL,
                "MIGRATION_DATABASE_URL": PG_OWNER_URL,
                "REDIS_URL": None,
                "RATELIMIT_STORAGE_URI": "memory://",
                "FILES_DIR": str(tmp_path_factory.mktemp("migrate-files")),
            }
        )
        with app.app_context():
            flask_migrate.upgrade(revision="heads")  # parallel branches merge later
            db.engine.dispose()
    finally:
        if saved_role is None:
            os.environ.pop("APP_DB_ROLE", None)
        else:
            os.environ["APP_DB_ROLE"] = saved_role
        # Alembic's fileConfig disables every logger that existed; the app's must keep logging.
        for logger in logging.root.manager.loggerDict.values():
            if isinstance(logger, logging.Logger):
                logger.disabled = False
    yield engine
    engine.dispose()
    if WORKER:
        _create_worker_database(drop_only=True)


def _create_worker_database(drop_only: bool = False) -> None:
    """A worker's own database, made as scripts/pg-setup.sh makes the one it was derived from."""
    owner = make_url(PG_OWNER_URL)  # type: ignore[arg-type]
    name = owner.database
    admin = create_engine(owner.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not drop_only:
                conn.execute(
                    text(
                        f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
                        "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
                    )
                )
                conn.execute(text(f'GRANT CONNECT, TEMPORARY ON DATABASE "{name}" TO "{APP_ROLE}"'))
    finally:
        admin.dispose()


def truncate_all(engine: Engine) -> None:
    """Empty every table and restart every sequence, as TRUNCATE … RESTART IDENTITY would.

    TRUNCATE gives each of ~60 tables and their indexes new files: 0.2 s a test, a quarter
    hour over the suite. DELETE on tables a test left (nearly) empty costs ~7 ms for all of
    them; session_replication_role = replica skips the foreign-key triggers, so the order of
    the deletes does not matter (the owner is a superuser, which that setting needs).
    """
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in _tables(conn):
            conn.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608 - names from pg_tables
        sequences = conn.execute(
            text("SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = 'public'")
        ).scalars()
        for sequence in list(sequences):
            conn.execute(text("SELECT setval(:s, 1, false)"), {"s": f'"{sequence}"'})


# ---------------------------------------------------------------- the app


def base_config(tmp_path: Path) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": True,
        "JOBS_INLINE": True,
        "JOBS_INLINE_MODE": "sync",
        "FILES_DIR": tmp_path / "files",
        "INSTANCE_DIR": tmp_path,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "REDIS_URL": None,
        "MAIL_SERVER": None,
        "MIGRATION_DATABASE_URL": None,
        "FORCE_HTTPS": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
    }
    if USE_PG:
        cfg["SQLALCHEMY_DATABASE_URI"] = PG_URL
    else:
        cfg["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'taizhang-test.db'}"
    return cfg


@pytest.fixture(scope="session")
def _shared_app(tmp_path_factory: pytest.TempPathFactory, owner_engine: Engine | None) -> Iterator[dict[str, Any]]:
    """One app for the session (building one costs ~0.5 s and compiling its templates more);
    every test still gets a fresh database and its own files directory (see `app`)."""
    base = tmp_path_factory.mktemp("taizhang")
    cfg = base_config(base)
    app = crm.create_app(cfg)
    state: dict[str, Any] = {"app": app, "config": dict(app.config), "base": base}
    if not USE_PG:
        _fast_sqlite(app)
        # A pristine, empty schema, copied over the database file before every test.
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        state["db_file"] = base / "taizhang-test.db"
        state["pristine"] = base / "pristine.db"
        shutil.copyfile(state["db_file"], state["pristine"])
    yield state
    with app.app_context():
        db.engine.dispose()


def _fast_sqlite(app: Flask) -> None:
    """No fsync per commit: a test database need not survive a power cut."""
    with app.app_context():
        engine = db.engine

    def _pragmas(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.execute("PRAGMA synchronous=OFF")

    event.listen(engine, "connect", _pragmas)


def _reset_database(state: dict[str, Any], owner_engine: Engine | None) -> None:
    app = state["app"]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if owner_engine is not None:
        truncate_all(owner_engine)
    else:
        shutil.copyfile(state["pristine"], state["db_file"])


@pytest.fixture
def app(_shared_app: dict[str, Any], owner_engine: Engine | None, tmp_path: Path) -> Iterator[Flask]:
    """The app under test, on an empty database, with FILES_DIR in this test's tmp_path."""
    app = _shared_app["app"]
    app.config.clear()
    app.config.update(_shared_app["config"])
    app.config["FILES_DIR"] = tmp_path / "files"
    (tmp_path / "files").mkdir(exist_ok=True)
    app.extensions.pop("taizhang_redis", None)
    _reset_database(_shared_app, owner_engine)
    yield app
    with app.app_context():
        db.session.remove()


@pytest.fixture
def make_app(app: Flask, _shared_app: dict[str, Any], tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build another app on this test's database (for config the shared app cannot change
    after creation: rate limiting, mail, Redis); keyword arguments override the config."""
    from crm.extensions import limiter

    apps: list[Flask] = []

    def _make(**overrides: Any) -> Flask:
        cfg = base_config(_shared_app["base"])
        cfg["FILES_DIR"] = app.config["FILES_DIR"]
        cfg.update(overrides)
        new = crm.create_app(cfg)
        if not USE_PG:
            _fast_sqlite(new)
        apps.append(new)
        return new

    yield _make
    for made in apps:
        with made.app_context():
            db.session.remove()
            db.engine.dispose()
    limiter.enabled = False  # the limiter is one object shared by every app


def english_client(app: Flask):
    """A test client whose browser asks for English, so tests can read the messages.

    (Users' saved language wins over the header; the language tests use bare clients.)"""
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


@pytest.fixture
def client(app: Flask):
    return english_client(app)


# ---------------------------------------------------------------- data


@pytest.fixture
def tenant_a(app: Flask) -> factories.TenantInfo:
    """Workspace "alpha" (Chinese names): owner, admin, sales_manager, sales (→ manager), finance."""
    with app.app_context():
        t = factories.build_workspace("alpha", "阿尔法科技有限公司", "a")
        db.session.commit()
    return t


@pytest.fixture
def tenant_b(app: Flask) -> factories.TenantInfo:
    """Workspace "beta": the second tenant every isolation test needs."""
    with app.app_context():
        t = factories.build_workspace("beta", "Beta Trading Ltd", "b")
        db.session.commit()
    return t


@pytest.fixture
def login() -> Callable[..., Any]:
    return helpers.login


@pytest.fixture
def client_as(app: Flask) -> Callable[[factories.MemberInfo], Any]:
    """A fresh test client signed in as the given member."""

    def _client(member: factories.MemberInfo, **headers: str):
        c = english_client(app)
        for k, v in headers.items():
            c.environ_base[f"HTTP_{k.upper().replace('-', '_')}"] = v
        helpers.login(c, member.email, member.password)
        return c

    return _client


@pytest.fixture
def token_for(app: Flask) -> Callable[[factories.MemberInfo], str]:
    """A live API token for a member (committed)."""

    def _token(member: factories.MemberInfo) -> str:
        with app.app_context():
            from tenants.context import tenant_context
            from tenants.models import Membership

            with tenant_context(member.tenant_id):
                row = db.session.get(Membership, member.id)
            plain = factories.make_token(row)
            db.session.commit()
        return plain

    return _token


# ---------------------------------------------------------------- query counting


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """``with count_queries() as q: ...`` then ``q.count``: SQL statements sent meanwhile."""

    @contextmanager
    def _counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        with app.app_context():
            engine = db.engine

        def _before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            counter.statements.append(statement)

        event.listen(engine, "before_cursor_execute", _before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", _before)

    return _counting


# ---------------------------------------------------------------- raw reads (bypass guard and RLS)


@pytest.fixture
def raw_rows(app: Flask, owner_engine: Engine | None) -> Callable[..., list[dict[str, Any]]]:
    """Rows of a table read as the owner (PostgreSQL) or straight from SQLite: no guard, no RLS.

    For asserting what really is in the database — "nothing was written", "A is unchanged".
    """

    def _rows(table: str, where: str = "", params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        sql = f"SELECT * FROM {table} {('WHERE ' + where) if where else ''} ORDER BY id"  # noqa: S608
        if owner_engine is not None:
            with owner_engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(text(sql), params or {})]
        with app.app_context(), db.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(sql), params or {})]

    return _rows


# ---------------------------------------------------------------- a populated world


class World:
    """Two workspaces, each with: an API token and a notification per member, a finished job
    asked for by the owner, a pending invitation, and a customer of the sales rep with one
    contact. Ids are plain ints, usable anywhere."""

    def __init__(self) -> None:
        self.tenants: dict[str, factories.TenantInfo] = {}
        self.tokens: dict[tuple[str, str], str] = {}  # (tenant key, role) → plain token
        self.token_ids: dict[tuple[str, str], int] = {}
        self.note_ids: dict[tuple[str, str], int] = {}
        self.job_id: dict[str, int] = {}
        self.invitation_id: dict[str, int] = {}
        self.invitation_token: dict[str, str] = {}
        self.customer_id: dict[str, int] = {}  # owned by the sales rep
        self.contact_id: dict[str, int] = {}  # of that customer
        self.pipeline_id: dict[str, int] = {}  # the default pipeline
        self.opportunity_id: dict[str, int] = {}  # the sales rep's, on that customer
        self.product_id: dict[str, int] = {}  # made by the owner
        self.quote_id: dict[str, int] = {}  # the sales rep's draft quote for that customer
        self.order_id: dict[str, int] = {}  # the sales rep's pending order (by hand) for that customer
        self.contract_id: dict[str, int] = {}  # the sales rep's draft contract for that customer
        self.import_batch_id: dict[str, int] = {}  # the owner's analysed customer import (1 good, 1 bad row)
        self.supplier_id: dict[str, int] = {}  # made by finance
        self.invoice_id: dict[str, int] = {}  # finance's draft invoice for the rep's customer
        self.bill_id: dict[str, int] = {}  # finance's draft bill from that supplier
        self.account_id: dict[str, int] = {}  # the bank account (books set up from 2026-01)
        self.department_id: dict[str, int] = {}
        self.journal_entry_id: dict[str, int] = {}  # finance's balanced draft entry dated today


def _build_world(app: Flask, tenants: dict[str, factories.TenantInfo]) -> World:
    from crm.api.models import ApiToken
    from tenants.context import tenant_context
    from tenants.models import Membership

    w = World()
    w.tenants = tenants
    with app.app_context():
        for key, t in w.tenants.items():
            with tenant_context(t.id):
                rows = {role: db.session.get(Membership, m.id) for role, m in t.members.items()}
            for role, row in rows.items():
                plain = factories.make_token(row, f"{role} token")
                w.tokens[(key, role)] = plain
                with tenant_context(t.id):
                    w.token_ids[(key, role)] = db.session.scalars(
                        db.select(ApiToken.id).where(ApiToken.member_id == row.id)
                    ).one()
                w.note_ids[(key, role)] = factories.make_notification(row, f"note for {role}").id
            w.job_id[key] = factories.make_job(rows["owner"]).id
            inv, plain_inv = factories.make_invitation(rows["owner"], f"newcomer@{t.slug}.example.com")
            w.invitation_id[key] = inv.id
            w.invitation_token[key] = plain_inv
            customer, contact = factories.make_customer(
                rows["sales"], f"{t.slug} 客户有限公司", contact=f"{t.slug} 联系人"
            )
            w.customer_id[key], w.contact_id[key] = customer.id, contact.id
            opp = factories.make_opportunity(rows["sales"], customer.id, f"{t.slug} 商机")
            w.pipeline_id[key], w.opportunity_id[key] = opp.pipeline_id, opp.id
            from tests.quote_factories import make_product, make_quote

            w.product_id[key] = make_product(rows["owner"], "P-001", f"{t.slug} 产品").id
            w.quote_id[key] = make_quote(rows["sales"], customer.id).id
            from tests.order_factories import make_order

            w.order_id[key] = make_order(rows["sales"], customer.id).id
            from tests.contract_factories import make_contract

            w.contract_id[key] = make_contract(rows["sales"], customer.id).id
            from tests.imports_factories import make_batch

            w.import_batch_id[key] = make_batch(rows["owner"]).id
            from tests.invoicing_factories import add_invoicing

            add_invoicing(w, key, rows, customer.id)
            from tests.books_factories import add_books

            add_books(w, key, rows)
        db.session.commit()
    return w


@pytest.fixture
def world(app: Flask, tenant_a: factories.TenantInfo, tenant_b: factories.TenantInfo) -> World:
    """Workspaces "a" and "b", populated."""
    return _build_world(app, {"a": tenant_a, "b": tenant_b})


@pytest.fixture
def world_a(app: Flask, tenant_a: factories.TenantInfo) -> World:
    """Workspace "a" alone, populated (the role matrix needs no second tenant)."""
    return _build_world(app, {"a": tenant_a})
