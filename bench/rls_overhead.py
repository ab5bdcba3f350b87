"""What row-level security costs the app's list and search queries, and what the leakproof
search operators (migration 0003_leakproof_search, tenants.search_sql) buy back.

Builds its own database (taizhang_bench), migrates it as the superuser the way production
does, creates an app role like the real one (not the owner, no BYPASSRLS), fills a
customers-shaped table with realistic Chinese company names, then times every query twice,
interleaved run by run so both figures share the machine's state:

* baseline: bare SQL as the table owner (postgres, so no RLS at all);
* RLS: the same SQL as the app role, with app.tenant_id set in the transaction.

Both keep the explicit tenant_id filter the ORM guard adds. Exits non-zero only on errors
(including the two modes returning different rows), never because of a timing.

    .venv/bin/python bench/rls_overhead.py            # ~2-3 minutes on 2 cores
    .venv/bin/python bench/rls_overhead.py --rows 20000 --keep
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import BigInteger, Index, Integer, Select, Text, bindparam, desc, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.schema import CreateIndex, CreateTable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the project is not installed

from crm.db import UTCDateTime, db  # noqa: E402
from tenants.models import TenantScoped  # noqa: E402
from tenants.rls import policy_sql  # noqa: E402
from tenants.search_sql import (  # noqa: E402
    array_contains,
    array_overlap,
    bigram_index,
    icontains,
    like_escape,
    trigram_index,
)

DB_NAME = "taizhang_bench"
APP_ROLE = "taizhang_bench_app"
TABLE = "bench_customers"
PG = PGDialect_psycopg()
TRGM = "gin_trgm_ops"
Conn = psycopg.Connection[Any]


class BenchCustomer(TenantScoped, db.Model):
    """Shaped like the customers table later issues add. TenantScoped also gives it the
    single-column tenant_id index every tenant-owned model has."""

    __tablename__ = TABLE
    __table_args__ = (
        Index("ix_bench_customers_tenant_id_id", "tenant_id", "id"),
        Index("ix_bench_customers_tenant_created", "tenant_id", "created_at"),
        # Stock opclasses: what plain ILIKE / && can use (but not under RLS).
        Index("ix_bench_customers_name_trgm", "name", postgresql_using="gin", postgresql_ops={"name": TRGM}),
        Index("ix_bench_customers_bigrams", "name_bigrams", postgresql_using="gin"),
        # Leakproof opclasses: what tenants.search_sql's operators use, with or without RLS.
        trigram_index("ix_bench_customers_name_lp_trgm", "name"),
        bigram_index("ix_bench_customers_bigrams_lp", "name_bigrams"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    # Character bigrams of lower(name): how 2-character Chinese terms can be indexed at all
    # (a trigram index has nothing to look up for them).
    name_bigrams: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    phone: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


T = BenchCustomer.__table__

# --------------------------------------------------------------------------- data


def _words(text: str) -> list[str]:
    return text.split()


CITIES = _words(
    "北京 上海 广州 深圳 杭州 南京 苏州 成都 重庆 武汉 西安 天津 长沙 郑州 青岛 厦门 宁波 合肥 福州 济南 "
    "昆明 无锡 佛山 东莞 大连 沈阳 哈尔滨 石家庄 南昌 贵阳 温州 常州 泉州 南宁 太原"
)
# Two-character trade names (字号): the part people search for.
WORDS = _words(
    "百川 华盛 鼎盛 恒达 金桥 宏远 瑞丰 永泰 盛世 天成 安达 嘉禾 润泽 东方 长城 万通 中联 汇通 福瑞 博远 "
    "卓越 海纳 锦程 宏图 信达 同创 聚力 启航 星河 明德 新科 德润 正泰 华信 天合 众鑫 隆基 通达 金鼎 银河 "
    "创新 智慧 融通 远航 蓝天 绿源 华夏 九州 恒信 益民 立信 合众 泰和 康宁 美佳 优品 佳禾 凯旋 腾飞 兴业"
)
INDUSTRIES = _words(
    "科技 贸易 实业 建设工程 电子 信息技术 物流 餐饮管理 文化传媒 教育咨询 医疗器械 环保科技 新能源 食品 "
    "服装 机械设备 网络科技 投资管理 装饰工程 生物科技"
)
FORMS = ["有限公司"] * 8 + ["股份有限公司", "有限责任公司"]
BRANDS = _words("Sunrise Golden Apex Nova Orient Pacific Lotus Dragon Phoenix Summit")
LATIN_KINDS = ["Trading", "Technology", "Logistics", "Consulting", "Industrial"]


def company_name(rng: random.Random) -> str:
    if rng.random() < 0.1:  # foreign-invested firms keep a Latin name
        return f"{rng.choice(BRANDS)} {rng.choice(LATIN_KINDS)} ({rng.choice(CITIES)}) Co., Ltd."
    city = rng.choice(CITIES) if rng.random() < 0.9 else ""
    return city + rng.choice(WORDS) + rng.choice(INDUSTRIES) + rng.choice(FORMS)


def bigrams(text: str) -> list[str]:
    low = text.lower()
    return sorted({low[i : i + 2] for i in range(len(low) - 1)})


def rows(per_tenant: int, tenants: int, seed: int) -> Iterator[tuple[Any, ...]]:
    """Tenants interleaved and created_at rising with id, as if all signed customers up over
    three years at once: each tenant's rows are spread over the whole heap, as in production."""
    rng = random.Random(seed)
    owners = [t for t in range(1, tenants + 1) for _ in range(per_tenant)]
    rng.shuffle(owners)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    step = 3 * 365 * 86400 / len(owners)
    for i, tenant in enumerate(owners, start=1):
        name = company_name(rng)
        created = start + timedelta(seconds=i * step + rng.random() * step)
        yield (
            i,
            tenant,
            name,
            bigrams(name),
            f"1{rng.randint(3, 9)}{rng.randint(0, 10**9 - 1):09d}",
            rng.randint(1, 25),
            created,
        )


# --------------------------------------------------------------------------- setup


@dataclass
class Dsn:
    host: str
    port: int
    superuser: str

    def libpq(self, user: str, dbname: str = DB_NAME) -> str:
        return f"host={self.host} port={self.port} user={user} dbname={dbname}"

    def url(self, user: str) -> str:
        return f"postgresql+psycopg://{user}@{self.host}:{self.port}/{DB_NAME}"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def create_database(dsn: Dsn) -> None:
    with psycopg.connect(dsn.libpq(dsn.superuser, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        # Like the real app role: may log in, owns nothing, is neither superuser nor exempt
        # from RLS. Roles are cluster-wide, so an earlier run's role is reused and reset.
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(f"{verb} ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def migrate(dsn: Dsn, tmp: Path, revision: str) -> None:
    """The project's own migrations, run the way operators run them (flask db upgrade)."""
    env = {
        **os.environ,
        "DATABASE_URL": dsn.url(APP_ROLE),
        "MIGRATION_DATABASE_URL": dsn.url(dsn.superuser),
        "APP_DB_ROLE": APP_ROLE,  # 0002 grants to this role
        "TAIZHANG_INSTANCE": str(tmp),  # keep instance/ (secret key, files) out of the repo
        "SECRET_KEY": "bench-only",
    }
    env.pop("REDIS_URL", None)
    cmd = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade", revision]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"migrations failed: {' '.join(cmd)}")


def ddl(element: Any) -> str:
    return str(element.compile(dialect=PG))


def load_data(dsn: Dsn, per_tenant: int, tenants: int, seed: int) -> None:
    with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
        now = datetime.now(UTC)
        for t in range(1, tenants + 1):
            conn.execute(
                "INSERT INTO tenants (id, slug, name, currency, timezone, settings, created_at, updated_at) "
                "VALUES (%s, %s, %s, 'CNY', 'Asia/Shanghai', '{}', %s, %s)",
                (t, f"bench-{t}", f"压测租户{t}", now, now),
            )
        conn.execute(ddl(CreateTable(T)))
        with conn.cursor().copy(
            f"COPY {TABLE} (id, tenant_id, name, name_bigrams, phone, owner_id, created_at) FROM STDIN"
        ) as copy:
            copy.set_types(["int8", "int4", "text", "text[]", "text", "int4", "timestamptz"])
            for row in rows(per_tenant, tenants, seed):
                copy.write_row(row)
        # Indexes after the load: one sorted build each instead of 300,000 inserts.
        conn.execute("SET maintenance_work_mem = '256MB'")
        for index in sorted(T.indexes, key=lambda ix: ix.name or ""):
            conn.execute(ddl(CreateIndex(index)))
        for stmt in policy_sql(TABLE):
            conn.execute(stmt)
        conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {TABLE} TO {APP_ROLE}")
        conn.commit()
        conn.autocommit = True
        # Statistics, and a visibility map so counts can be index-only, as autovacuum would.
        conn.execute(f"VACUUM ANALYZE {TABLE}")


def check_roles(dsn: Dsn) -> None:
    with psycopg.connect(dsn.libpq(APP_ROLE)) as conn:
        row = conn.execute(
            "SELECT r.rolsuper, r.rolbypassrls, c.relowner = r.oid, c.relforcerowsecurity "
            "FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.relname = %s",
            (TABLE,),
        ).fetchone()
    if row != (False, False, False, True):
        raise SystemExit(f"the app role would not be subject to RLS (super, bypass, owner, force = {row})")


def drop_database(dsn: Dsn) -> None:
    with psycopg.connect(dsn.libpq(dsn.superuser, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        try:
            conn.execute(f"DROP ROLE IF EXISTS {APP_ROLE}")
        except psycopg.Error as exc:  # still granted something elsewhere; harmless to keep
            log(f"kept role {APP_ROLE}: {exc}")


# --------------------------------------------------------------------------- cases

TENANT = bindparam("tenant", type_=Integer())  # bound per run: the runs rotate over the tenants
POLICY_QUAL = text("NULLIF(current_setting('app.tenant_id', true), '')::integer = :tenant")
COLUMNS = (T.c.id, T.c.name, T.c.phone, T.c.owner_id, T.c.created_at)
NEWEST = (desc(T.c.created_at), desc(T.c.id))


def page(*where: Any) -> Select[Any]:
    """A list / search page as the app will run it: explicit tenant filter, newest first."""
    return select(*COLUMNS).where(T.c.tenant_id == TENANT, *where).order_by(*NEWEST).limit(50)


@dataclass
class Case:
    group: str
    label: str
    stmt: Any
    # Extra parameters per tenant (keyset cursors); everything else is in the statement.
    per_tenant: dict[int, dict[str, Any]] = field(default_factory=dict)
    compare_with: str | None = None  # label of a case that must return the same rows
    # Diagnostics only: run a different statement in one mode (same rows, different SQL).
    base_stmt: Any = None
    rls_stmt: Any = None

    def sql(self, mode: str) -> tuple[str, dict[str, Any]]:
        override = self.base_stmt if mode == "base" else self.rls_stmt
        stmt = self.stmt if override is None else override
        compiled = stmt.compile(dialect=PG)
        return str(compiled), dict(compiled.params)


def plain_ilike(term: str) -> Any:
    return T.c.name.ilike(f"%{like_escape(term)}%")


def cases(conn: Conn, tenants: int, per_tenant: int) -> list[Case]:
    # A keyset cursor part-way down each tenant's list (page 101 at 100,000 rows).
    skip = min(5000, per_tenant // 2)
    cursors: dict[int, dict[str, Any]] = {}
    for t in range(1, tenants + 1):
        created, ident = conn.execute(
            f"SELECT created_at, id FROM {TABLE} WHERE tenant_id = %s "
            "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            (t, skip),
        ).fetchone() or (None, None)
        cursors[t] = {"after_created": created, "after_id": ident}
    keyset = tuple_(T.c.created_at, T.c.id) < tuple_(
        bindparam("after_created", type_=UTCDateTime()), bindparam("after_id", type_=BigInteger())
    )
    count = select(func.count()).where(T.c.tenant_id == TENANT)
    gated, policy_only = count.where(POLICY_QUAL), select(func.count()).select_from(T)
    out = [
        Case("list", "list page 1 (newest 50)", page()),
        Case("list", f"list keyset page {skip // 50 + 1}", page(keyset), per_tenant=cursors),
        Case("count", "count(*) of the tenant", count),
        # Why count(*) costs more under RLS: the explicit filter and the policy's
        # tenant_id = current_setting(...) merge, leaving the pseudo-constant
        # current_setting(...) = :t as a one-time filter in a Result node that every row then
        # passes through. Give the owner the same filter and it pays the same; drop the
        # explicit filter on the RLS side and the overhead goes (diagnostics, not app queries).
        Case("count (why)", "count(*), owner given the policy's qual", count, base_stmt=gated),
        Case("count (why)", "count(*), RLS without explicit filter", count, rls_stmt=policy_only),
    ]
    terms = [
        ("百川", "2-char"),
        ("百川科技", "4-char"),
        ("北京百川", "4-char"),
        ("量子纠缠", "4-char, no hit"),
        ("sunrise", "Latin"),
    ]
    for term, kind in terms:
        out.append(Case("search ILIKE", f"ILIKE '%{term}%' ({kind})", page(plain_ilike(term))))
    for term, kind in terms:
        out.append(
            Case(
                "search leakproof",
                f"icontains '{term}' ({kind})",
                page(icontains(T.c.name, term)),
                compare_with=f"ILIKE '%{term}%' ({kind})",
            )
        )
    out += [
        Case("bigram", "&& {百川} (2-char)", page(T.c.name_bigrams.overlap(["百川"]))),
        Case(
            "bigram",
            "array_overlap {百川} (2-char)",
            page(array_overlap(T.c.name_bigrams, ["百川"])),
            compare_with="&& {百川} (2-char)",
        ),
        Case(
            "bigram",
            "@> bigrams + ILIKE '百川科技'",
            page(T.c.name_bigrams.contains(bigrams("百川科技")), plain_ilike("百川科技")),
        ),
        Case(
            "bigram",
            "array_contains + icontains '百川科技'",
            page(array_contains(T.c.name_bigrams, bigrams("百川科技")), icontains(T.c.name, "百川科技")),
            compare_with="@> bigrams + ILIKE '百川科技'",
        ),
    ]
    return out


# --------------------------------------------------------------------------- timing


@dataclass
class Result:
    case: Case
    base_ms: float
    rls_ms: float
    runs: int
    base_plan: str
    rls_plan: str
    hits: int

    @property
    def ratio(self) -> float:
        return self.rls_ms / self.base_ms


def run_once(conn: Conn, tenant: int, sql: str, params: dict[str, Any]) -> tuple[float, list[Any]]:
    """One unit of work as the app does it: set the tenant for the transaction, query, end it.
    Only the query is timed; set_config is the same cost in both modes."""
    conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant),))
    start = time.perf_counter()
    found = conn.execute(sql, params).fetchall()
    elapsed = time.perf_counter() - start
    conn.rollback()
    return elapsed * 1000, found


def scans(plan: dict[str, Any]) -> list[str]:
    """The access paths of a plan: what tells an index search from a scan of the tenant."""
    found: list[str] = []
    node_type = plan["Node Type"]
    if node_type == "Seq Scan":
        found.append("Seq")
    elif "Index Name" in plan:
        short = plan["Index Name"].removeprefix("ix_bench_customers_")
        kind = {"Bitmap Index Scan": "Bitmap", "Index Only Scan": "IdxOnly", "Index Scan": "Idx"}[node_type]
        found.append(f"{kind} {short}")
    for child in plan.get("Plans", []):
        found += scans(child)
    return found


def explain(conn: Conn, tenant: int, sql: str, params: dict[str, Any]) -> str:
    """The plan the timed runs got. Each run is planned afresh with its own values, as a plain
    EXPLAIN is: psycopg forgets its prepared statements at every ROLLBACK, and the runs end in
    one, as the app's read-only requests do (Flask-SQLAlchemy's teardown returns the connection
    to the pool, which rolls it back). So no generic plan, blind to the values, is ever used."""
    conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant),))
    row = conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()
    conn.rollback()
    doc = row[0] if row else "[]"
    plan = (json.loads(doc) if isinstance(doc, str) else doc)[0]["Plan"]
    return " + ".join(scans(plan))


def measure(base: Conn, rls: Conn, case: Case, tenants: int, args: argparse.Namespace) -> Result:
    modes = {"base": (base, *case.sql("base")), "rls": (rls, *case.sql("rls"))}

    def run(mode: str, t: int) -> tuple[float, list[Any]]:
        conn, sql, fixed = modes[mode]
        return run_once(conn, t, sql, {**fixed, "tenant": t, **case.per_tenant.get(t, {})})

    def plan(mode: str) -> str:
        conn, sql, fixed = modes[mode]
        return explain(conn, 1, sql, {**fixed, "tenant": 1, **case.per_tenant.get(1, {})})

    # Both modes must see the same rows: RLS adds a wall, never a difference.
    base_rows, rls_rows = run("base", 1)[1], run("rls", 1)[1]
    if base_rows != rls_rows:
        raise SystemExit(f"{case.label}: {len(base_rows)} rows as owner but {len(rls_rows)} under RLS")
    for _ in range(3):  # warm the caches (shared buffers, catalog, relcache) for both roles
        for t in range(1, tenants + 1):
            run("base", t)
            run("rls", t)
    timings: dict[str, list[float]] = {"base": [], "rls": []}
    started = time.perf_counter()
    for i in range(args.runs):
        # Interleaved, alternating who goes first, so drift and caching hit both modes alike.
        for mode in ("base", "rls") if i % 2 == 0 else ("rls", "base"):
            timings[mode].append(run(mode, i % tenants + 1)[0])
        if i + 1 >= args.min_runs and time.perf_counter() - started > args.budget:
            break
    return Result(
        case,
        statistics.median(timings["base"]),
        statistics.median(timings["rls"]),
        len(timings["base"]),
        plan("base"),
        plan("rls"),
        len(base_rows),
    )


def orm_results(dsn: Dsn, tmp: Path, args: argparse.Namespace) -> list[Result]:
    """The same list / search through the real app: Flask-SQLAlchemy session, the ORM guard's
    tenant filter and the RLS session hook. Timed per unit of work (set_config, query, load 50
    objects, end the transaction), owner-connected app vs app-role-connected app."""
    from crm import create_app
    from tenants.context import tenant_context

    def app_for(user: str) -> Any:
        config = {"SQLALCHEMY_DATABASE_URI": dsn.url(user), "FILES_DIR": str(tmp / "files")}
        return create_app({**config, "SECRET_KEY": "bench-only"})

    apps = {"base": app_for(dsn.superuser), "rls": app_for(APP_ROLE)}
    model = BenchCustomer
    newest = (model.created_at.desc(), model.id.desc())
    stmts: list[tuple[str, Callable[[], Any]]] = [
        ("ORM list page 1", lambda: select(model).order_by(*newest).limit(50)),
        (
            "ORM ILIKE '百川科技'",
            lambda: select(model).where(model.name.ilike("%百川科技%")).order_by(*newest).limit(50),
        ),
        (
            "ORM icontains '百川科技'",
            lambda: select(model).where(icontains(model.name, "百川科技")).order_by(*newest).limit(50),
        ),
    ]

    def once(app: Any, tenant: int, make: Callable[[], Any]) -> tuple[float, list[int]]:
        with app.app_context(), tenant_context(tenant):
            start = time.perf_counter()
            ids = [c.id for c in db.session.scalars(make())]
            db.session.rollback()
            elapsed = time.perf_counter() - start
            db.session.remove()
        return elapsed * 1000, ids

    out: list[Result] = []
    for label, make in stmts:
        if once(apps["base"], 1, make)[1] != once(apps["rls"], 1, make)[1]:
            raise SystemExit(f"{label}: owner and app role returned different rows")
        for _ in range(3):
            once(apps["base"], 1, make)
            once(apps["rls"], 1, make)
        timings: dict[str, list[float]] = {"base": [], "rls": []}
        started = time.perf_counter()
        for i in range(args.runs):
            for mode in ("base", "rls") if i % 2 == 0 else ("rls", "base"):
                timings[mode].append(once(apps[mode], i % args.tenants + 1, make)[0])
            if i + 1 >= args.min_runs and time.perf_counter() - started > args.budget:
                break
        out.append(
            Result(
                Case("ORM", label, None),
                statistics.median(timings["base"]),
                statistics.median(timings["rls"]),
                len(timings["base"]),
                "",
                "",
                len(once(apps["base"], 1, make)[1]),
            )
        )
    for app in apps.values():
        with app.app_context():
            db.engine.dispose()
    return out


# --------------------------------------------------------------------------- report


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def ljust(text: str, width: int) -> str:
    """str.ljust by display width: a Chinese character takes two terminal columns."""
    return text + " " * (width - display_width(text))


def report(results: list[Result], args: argparse.Namespace) -> None:
    width = max(display_width(r.case.label) for r in results)
    numbers = f"{'rows':>4}  {'runs':>4}  {'base ms':>8}  {'RLS ms':>8}  {'ratio':>6}"
    head = f"{ljust('query', width)}  {numbers}  plan base | plan RLS"
    print()
    print(
        f"{args.rows:,} customers x {args.tenants} tenants, median of up to {args.runs} runs per mode, "
        f"PostgreSQL {args.server_version}"
    )
    print("base = bare SQL as table owner (no RLS);  RLS = app role, FORCE ROW LEVEL SECURITY")
    print(head)
    print("-" * len(head))
    group = None
    for r in results:
        if r.case.group != group:
            group = r.case.group
            print(f"[{group}]")
        plans = f"{r.base_plan} | {r.rls_plan}" if r.base_plan else ""
        print(
            f"{ljust(r.case.label, width)}  {r.hits:>4}  {r.runs:>4}  {r.base_ms:>8.3f}  {r.rls_ms:>8.3f}  "
            f"{r.ratio:>5.2f}x  {plans}"
        )
    print()
    print("Plan names: Idx/IdxOnly/Bitmap <index> = index scans, Seq = sequential scan; index suffixes:")
    print("  tenant_id_id, tenant_created: btree;  name_trgm / bigrams: stock gin_trgm_ops / array_ops;")
    print("  name_lp_trgm / bigrams_lp: leakproof_trgm_ops / leakproof_text_array_ops (migration 0003).")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    parser.add_argument("--superuser", default="postgres", help="runs migrations and owns the tables")
    parser.add_argument("--rows", type=int, default=100_000, help="customers per tenant")
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--runs", type=int, default=200, help="most timed runs per query and mode")
    parser.add_argument("--min-runs", type=int, default=15, help="fewest timed runs, however slow")
    parser.add_argument("--budget", type=float, default=4.0, help="seconds per query before stopping early")
    parser.add_argument("--revision", default="head", help="migrate to this revision (0003 is enough)")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--no-orm", action="store_true", help="skip timing through the Flask app")
    parser.add_argument("--keep", action="store_true", help=f"keep {DB_NAME} and {APP_ROLE} afterwards")
    args = parser.parse_args()
    dsn = Dsn(args.host, args.port, args.superuser)

    with tempfile.TemporaryDirectory(prefix="taizhang-bench-") as tmpdir:
        tmp = Path(tmpdir)
        started = time.perf_counter()
        log(f"creating {DB_NAME} and role {APP_ROLE}")
        create_database(dsn)
        try:
            log("migrating (flask db upgrade, as the superuser)")
            migrate(dsn, tmp, args.revision)
            log(f"loading {args.rows:,} customers x {args.tenants} tenants, building indexes")
            load_data(dsn, args.rows, args.tenants, args.seed)
            check_roles(dsn)
            results: list[Result] = []
            with (
                psycopg.connect(dsn.libpq(dsn.superuser)) as base,
                psycopg.connect(dsn.libpq(APP_ROLE)) as rls,
            ):
                args.server_version = base.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
                all_cases = cases(base, args.tenants, args.rows)
                base.rollback()
                by_label: dict[str, Result] = {}
                for case in all_cases:
                    log(f"timing {case.label}")
                    result = measure(base, rls, case, args.tenants, args)
                    if case.compare_with and result.hits != by_label[case.compare_with].hits:
                        raise SystemExit(
                            f"{case.label} found {result.hits} rows, {case.compare_with} found "
                            f"{by_label[case.compare_with].hits}"
                        )
                    by_label[case.label] = result
                    results.append(result)
            if not args.no_orm:
                log("timing through the Flask app and ORM guard")
                results += orm_results(dsn, tmp, args)
            report(results, args)
            log(f"done in {time.perf_counter() - started:.0f} s")
        finally:
            if not args.keep:
                drop_database(dsn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
