"""Sales pages at realistic size: server time per request next to the bare SQL each page needs.

Builds its own database (taizhang_bench_sales), migrates it as the superuser the way operators
do, creates an app role like the real one (owns nothing, no BYPASSRLS), and loads with COPY:

* one big workspace: 100,000 customers (Chinese company names, 10 % Latin), ~50 members
  (sales managers with teams of reps), collaborators on some customers, 300,000 contacts,
  1,000,000 follow-ups over two years, tasks, 20,000 opportunities with lines over the
  default pipeline's stages;
* 99 small workspaces of 200 customers each, with children in proportion.

Search keys (name_normalized, pinyin_full, pinyin_initials, search_bigrams, phone_normalized)
are computed by the service's own helper (crm.sales.services._refresh_search_keys) for every
generated name before COPY, so searches see exactly what the app would have written.

Then, through the real Flask app connected as the app role (test client, in-process, signed
in through the login form), it times each page: the customer list, a 2-character Chinese
name search, a pinyin-initials search, the 360° page (rotating over a sample of customers
with typical children) and the kanban board of the default pipeline, for an admin and for a
sales manager with a team. Baseline: the SQL statements each page actually issued (captured
with SQLAlchemy's before_cursor_execute), replayed with their parameters on a raw psycopg
connection as the app role, in one transaction that ends in ROLLBACK; the captured
set_config calls are part of the replay. Page and baseline runs are interleaved.

Exits non-zero only on errors, never because of a timing.

    .venv/bin/python bench/sales.py                    # full size (see bench/README.md)
    .venv/bin/python bench/sales.py --scale 0.1 --requests 50 --keep
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the project is not installed

from crm.pipeline.services import DEFAULT_LOST_REASONS, DEFAULT_STAGES  # noqa: E402
from crm.sales.models import Customer  # noqa: E402
from crm.sales.rules import bigrams  # noqa: E402  (contacts.name_bigrams, as the model computes it)
from crm.sales.services import _refresh_search_keys  # noqa: E402

DB_NAME = "taizhang_bench_sales"
APP_ROLE = "taizhang_bench_sales_app"
PASSWORD = "bench-password-1234"  # noqa: S105 (bench users only; ≥ 12 characters, as the app requires)
GOAL = 3.0  # each page within 3× its bare SQL
PAGES = ("list", "name", "initials", "360", "kanban")
Conn = psycopg.Connection[Any]

# --------------------------------------------------------------------------- data


def _words(text: str) -> list[str]:
    return text.split()


CITIES = _words(
    "北京 上海 广州 深圳 杭州 南京 苏州 成都 重庆 武汉 西安 天津 长沙 郑州 青岛 厦门 宁波 合肥 福州 济南 "
    "昆明 无锡 佛山 东莞 大连 沈阳 哈尔滨 石家庄 南昌 贵阳 温州 常州 泉州 南宁 太原"
)
PROVINCE_OF = {
    "北京": "北京", "上海": "上海", "天津": "天津", "重庆": "重庆", "广州": "广东", "深圳": "广东", "佛山": "广东",
    "东莞": "广东", "杭州": "浙江", "宁波": "浙江", "温州": "浙江", "南京": "江苏", "苏州": "江苏", "无锡": "江苏",
    "常州": "江苏", "成都": "四川", "武汉": "湖北", "西安": "陕西", "长沙": "湖南", "郑州": "河南", "青岛": "山东",
    "济南": "山东", "厦门": "福建", "福州": "福建", "泉州": "福建", "合肥": "安徽", "昆明": "云南", "大连": "辽宁",
    "沈阳": "辽宁", "哈尔滨": "黑龙江", "石家庄": "河北", "南昌": "江西", "贵阳": "贵州", "南宁": "广西",
    "太原": "山西",
}  # fmt: skip
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
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红梅鑫斌宇浩凯")
TITLES = ["总经理", "采购经理", "财务总监", "技术负责人", "行政主管", "副总裁", "采购专员", "项目经理"]
SOURCES = ["展会", "转介绍", "官网", "电话开发", "渠道", "老客户"]
STATUSES = ["potential"] * 4 + ["active"] * 4 + ["dormant", "lost"]
KINDS = ["call", "call", "wechat", "wechat", "visit", "email", "meeting"]
SUMMARIES = [
    "电话沟通了{p}的采购计划，对方预计下季度启动，需要再发一版报价。",
    "拜访{p}，介绍了新产品线，客户对交付周期比较关心。",
    "微信跟进{p}：样品已收到，技术部在测试，下周反馈。",
    "与{p}开会讨论合同条款，付款方式还需要财务确认。",
    "发邮件给{p}，附上方案和案例，约定周四再电话。",
    "{p}反馈预算被压缩，建议先做一期，二期明年再谈。",
]
TAGS = ["重点客户", "老客户", "政府项目", "华东", "华南", "转介绍", "待回款"]
PRODUCTS = ["标准版授权", "专业版授权", "实施服务", "年度维保", "培训服务", "定制开发", "硬件设备"]


def company_name(rng: random.Random) -> tuple[str, str | None]:
    """A company name and its city (None for the 10 % Latin names without one)."""
    if rng.random() < 0.1:  # foreign-invested firms keep a Latin name
        city = rng.choice(CITIES)
        return f"{rng.choice(BRANDS)} {rng.choice(LATIN_KINDS)} ({city}) Co., Ltd.", city
    city = rng.choice(CITIES)
    prefix = city if rng.random() < 0.9 else ""
    return prefix + rng.choice(WORDS) + rng.choice(INDUSTRIES) + rng.choice(FORMS), city


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randint(0, 10**9 - 1):09d}"


# --------------------------------------------------------------------------- setup


@dataclass
class Dsn:
    host: str
    port: int
    superuser: str

    def libpq(self, user: str, dbname: str | None = None) -> str:
        return f"host={self.host} port={self.port} user={user} dbname={dbname or DB_NAME}"

    def url(self, user: str) -> str:
        return f"postgresql+psycopg://{user}@{self.host}:{self.port}/{DB_NAME}"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def create_database(dsn: Dsn) -> None:
    with psycopg.connect(dsn.libpq(dsn.superuser, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(f"{verb} ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def migrate(dsn: Dsn, tmp: Path) -> None:
    """The project's own migrations, run the way operators run them (flask db upgrade)."""
    env = {
        **os.environ,
        "DATABASE_URL": dsn.url(APP_ROLE),
        "MIGRATION_DATABASE_URL": dsn.url(dsn.superuser),
        "APP_DB_ROLE": APP_ROLE,  # 0002 grants to this role
        "TAIZHANG_INSTANCE": str(tmp),
        "SECRET_KEY": "bench-only",
    }
    env.pop("REDIS_URL", None)
    cmd = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"migrations failed: {' '.join(cmd)}")


def drop_database(dsn: Dsn) -> None:
    with psycopg.connect(dsn.libpq(dsn.superuser, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        try:
            conn.execute(f"DROP ROLE IF EXISTS {APP_ROLE}")
        except psycopg.Error as exc:
            log(f"kept role {APP_ROLE}: {exc}")


# --------------------------------------------------------------------------- generation


@dataclass
class Sizes:
    customers: int
    contacts_per: float
    followups_per: float
    opportunities: int
    small_tenants: int
    small_customers: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        return cls(
            customers=max(200, int(100_000 * scale)),
            contacts_per=3.0,
            followups_per=10.0,
            opportunities=max(40, int(20_000 * scale)),
            small_tenants=99,
            small_customers=max(20, int(200 * min(1.0, scale * 10))),
        )


@dataclass
class Ids:
    """Explicit ids for COPY (sequences are moved past them afterwards)."""

    counters: dict[str, int] = field(default_factory=dict)

    def next(self, table: str) -> int:
        self.counters[table] = self.counters.get(table, 0) + 1
        return self.counters[table]


@dataclass
class Workspace:
    id: int
    slug: str
    admin: int = 0  # membership ids
    managers: list[int] = field(default_factory=list)
    sellers: list[int] = field(default_factory=list)  # managers and reps: who owns customers
    team_of: dict[int, int] = field(default_factory=dict)  # rep -> manager
    emails: dict[int, str] = field(default_factory=dict)
    stage_ids: list[tuple[int, int, str]] = field(default_factory=list)  # (id, probability, kind)
    pipeline_id: int = 0


class Tables:
    """Rows per table, written with COPY in one go."""

    COLUMNS = {
        "tenants": "id slug name currency timezone settings created_at updated_at",
        "users": "id email name password_hash locale timezone session_epoch created_at updated_at",
        "memberships": "id tenant_id user_id roles title reports_to_id is_active created_at updated_at",
        "customers": (
            "id tenant_id name short_name industry level source province city address phone email owner_id status "
            "last_followup_at locked owned_since name_normalized phone_normalized pinyin_full pinyin_initials "
            "search_bigrams created_at updated_at"
        ),
        "customer_tags": "id tenant_id customer_id tag",
        "customer_collaborators": "id tenant_id customer_id member_id can_edit",
        "contacts": "id tenant_id customer_id name title department mobile email wechat is_primary "
        "name_bigrams created_at updated_at",
        "followups": "id tenant_id customer_id contact_id author_id occurred_at kind summary next_followup_on "
        "created_at updated_at",
        "tasks": "id tenant_id title due_on assignee_id created_by_id customer_id followup_id done_at "
        "created_at updated_at",
        "pipelines": "id tenant_id name is_default position created_at updated_at",
        "pipeline_stages": "id tenant_id pipeline_id name position probability rot_days kind",
        "lost_reasons": "id tenant_id name position active",
        "opportunities": "id tenant_id customer_id pipeline_id stage_id title amount expected_close owner_id next_step "
        "source probability lost_reason_id stage_entered_at closed_at created_at updated_at",
        "opportunity_lines": "id tenant_id opportunity_id product_id description quantity unit_price",
        "opportunity_stage_changes": "id tenant_id opportunity_id from_stage_id to_stage_id member_id created_at",
    }

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in self.COLUMNS}

    def add(self, table: str, *row: Any) -> None:
        self.rows[table].append(row)


class Generator:
    def __init__(self, sizes: Sizes, seed: int, password_hash: str) -> None:
        self.sizes = sizes
        self.rng = random.Random(seed)
        self.ids = Ids()
        self.t = Tables()
        self.password_hash = password_hash
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.keys_cache: dict[tuple[str, str | None, str | None], tuple[Any, ...]] = {}

    # -- people
    def member(self, ws: Workspace, role: str, name: str, reports_to: int | None = None) -> int:
        uid = self.ids.next("users")
        email = f"{role}{uid}@{ws.slug}.example.com"
        created = self.now - timedelta(days=800)
        self.t.add("users", uid, email, name, self.password_hash, "en", "Asia/Shanghai", 0, created, created)
        mid = self.ids.next("memberships")
        title = {"sales": "销售代表", "sales_manager": "销售经理"}.get(role)
        self.t.add("memberships", mid, ws.id, uid, json.dumps([role]), title, reports_to, True, created, created)
        ws.emails[mid] = email
        return mid

    def workspace(self, slug: str, name: str, managers: int, reps_per: int) -> Workspace:
        ws = Workspace(self.ids.next("tenants"), slug)
        created = self.now - timedelta(days=800)
        self.t.add("tenants", ws.id, slug, name, "CNY", "Asia/Shanghai", "{}", created, created)
        self.member(ws, "owner", person_name(self.rng))
        ws.admin = self.member(ws, "admin", person_name(self.rng))
        for _ in range(managers):
            boss = self.member(ws, "sales_manager", person_name(self.rng))
            ws.managers.append(boss)
            ws.sellers.append(boss)
            for _ in range(reps_per):
                rep = self.member(ws, "sales", person_name(self.rng), reports_to=boss)
                ws.sellers.append(rep)
                ws.team_of[rep] = boss
        self.member(ws, "finance", person_name(self.rng))
        # The default pipeline as crm.pipeline.services.ensure_default_pipeline creates it.
        ws.pipeline_id = self.ids.next("pipelines")
        self.t.add("pipelines", ws.pipeline_id, ws.id, "Sales pipeline", True, 0, created, created)
        for i, (n, p, r, k) in enumerate(DEFAULT_STAGES):
            sid = self.ids.next("pipeline_stages")
            self.t.add("pipeline_stages", sid, ws.id, ws.pipeline_id, n, i, p, r, k)
            ws.stage_ids.append((sid, p, k))
        for i, n in enumerate(DEFAULT_LOST_REASONS):
            self.t.add("lost_reasons", self.ids.next("lost_reasons"), ws.id, n, i, True)
        return ws

    # -- customers and children
    def search_keys(self, name: str, short: str | None, phone: str | None) -> tuple[Any, ...]:
        """The service's own helper on a transient Customer: the same keys the app writes."""
        key = (name, short, phone)
        if key not in self.keys_cache:
            c = Customer(name=name, short_name=short, phone=phone, email=None)
            _refresh_search_keys(c)
            keys = (c.name_normalized, c.phone_normalized, c.pinyin_full, c.pinyin_initials, c.search_bigrams)
            self.keys_cache[key] = keys
        return self.keys_cache[key]

    def customers(self, ws: Workspace, count: int, followups_per: float, opportunities: int) -> None:
        rng, t = self.rng, self.t
        span = 2 * 365 * 86400  # follow-ups spread over two years
        start = self.now - timedelta(seconds=span)
        created_step = (span * 1.2) / count
        customer_ids: list[tuple[int, int | None, list[int]]] = []
        for i in range(count):
            cid = self.ids.next("customers")
            name, city = company_name(rng)
            short = None
            if rng.random() < 0.3 and not name.isascii():
                short = name.removeprefix(city or "")[:4]
            phone = f"0{rng.randint(10, 999)}-{rng.randint(10**7, 10**8 - 1)}" if rng.random() < 0.7 else None
            owner = rng.choice(ws.sellers) if rng.random() < 0.9 else None  # 10 % in the public pool
            created = start - timedelta(seconds=span * 0.2) + timedelta(seconds=i * created_step)
            # Contacts
            contacts: list[int] = []
            for k in range(max(1, round(rng.gauss(self.sizes.contacts_per, 1.2)))):
                pid = self.ids.next("contacts")
                contacts.append(pid)
                email = f"c{pid}@example.cn" if rng.random() < 0.5 else None
                wechat = f"wx{pid}" if rng.random() < 0.4 else None
                dept = rng.choice(["采购部", "财务部", "技术部", None])
                t.add(
                    "contacts", pid, ws.id, cid, (pname := person_name(rng)), rng.choice(TITLES), dept, mobile(rng),
                    email, wechat, k == 0, bigrams(pname), created, created,
                )  # fmt: skip
            # Follow-ups, each by the owner (or a colleague), over two years
            last = None
            authors = [owner] if owner else ws.sellers[:1]
            for _ in range(max(0, round(rng.expovariate(1 / followups_per)))):
                fid = self.ids.next("followups")
                when = start + timedelta(seconds=rng.random() * span)
                last = when if last is None or when > last else last
                contact = rng.choice(contacts) if rng.random() < 0.7 else None
                nxt = (when + timedelta(days=rng.randint(3, 30))).date() if rng.random() < 0.05 else None
                author = rng.choice(authors)
                t.add(
                    "followups", fid, ws.id, cid, contact, author, when, rng.choice(KINDS),
                    rng.choice(SUMMARIES).format(p=person_name(rng)), nxt, when, when,
                )  # fmt: skip
                if nxt is not None:
                    finished = rng.random() < 0.8  # drawn always: the data must not depend on today
                    done = when + timedelta(days=2) if finished and nxt < self.now.date() else None
                    t.add(
                        "tasks", self.ids.next("tasks"), ws.id, f"跟进 {name}"[:200], nxt, author, author, cid, fid,
                        done, when, when,
                    )  # fmt: skip
            norm, phone_norm, full, initials, grams = self.search_keys(name, short, phone)
            address = f"{city}市某区某路{rng.randint(1, 999)}号"
            email = f"info{cid}@example.cn" if rng.random() < 0.3 else None
            t.add(
                "customers", cid, ws.id, name, short, rng.choice(INDUSTRIES), rng.choice("AABBBCCC"),
                rng.choice(SOURCES), PROVINCE_OF.get(city or ""), city, address, phone, email, owner,
                rng.choice(STATUSES), last, False, created if owner else None, norm, phone_norm, full, initials,
                grams, created, last or created,
            )  # fmt: skip
            if rng.random() < 0.2:
                t.add("customer_tags", self.ids.next("customer_tags"), ws.id, cid, rng.choice(TAGS))
            if owner and rng.random() < 0.15 and len(ws.sellers) > 1:
                others = [m for m in ws.sellers if m != owner]
                for m in rng.sample(others, min(len(others), rng.choice((1, 1, 2)))):
                    xid = self.ids.next("customer_collaborators")
                    t.add("customer_collaborators", xid, ws.id, cid, m, rng.random() < 0.3)
            customer_ids.append((cid, owner, contacts))
        self.opportunities(ws, customer_ids, opportunities)

    def opportunities(self, ws: Workspace, customers: list[tuple[int, int | None, list[int]]], count: int) -> None:
        rng, t = self.rng, self.t
        stages = ws.stage_ids
        open_stages = [s for s in stages if s[2] == "open"]
        won = next(s for s in stages if s[2] == "won")
        lost = next(s for s in stages if s[2] == "lost")
        owned = [c for c in customers if c[1] is not None]
        for _ in range(count):
            cid, owner, _contacts = rng.choice(owned)
            roll = rng.random()
            stage = rng.choice(open_stages) if roll < 0.6 else won if roll < 0.85 else lost
            oid = self.ids.next("opportunities")
            created = self.now - timedelta(days=rng.randint(1, 700))
            entered = created + timedelta(days=rng.randint(0, max(0, (self.now - created).days)))
            closed = entered if stage[2] != "open" else None
            lines = [
                (rng.choice(PRODUCTS), rng.choice((1, 1, 2, 5, 10)), rng.randint(50, 5000) * 100)
                for _ in range(rng.choice((1, 1, 2, 3)))
            ]
            amount = sum(q * p for _d, q, p in lines)
            t.add(
                "opportunities", oid, ws.id, cid, ws.pipeline_id, stage[0], f"{rng.choice(PRODUCTS)}项目 #{oid}",
                amount, (created + timedelta(days=rng.randint(30, 180))).date(), owner,
                "安排技术交流" if rng.random() < 0.5 else None, rng.choice(SOURCES), stage[1],
                None, entered, closed, created, entered,
            )  # fmt: skip
            for desc, qty, price in lines:
                t.add("opportunity_lines", self.ids.next("opportunity_lines"), ws.id, oid, None, desc, qty, price)
            t.add(
                "opportunity_stage_changes", self.ids.next("opportunity_stage_changes"), ws.id, oid, None, stage[0],
                owner, entered,
            )  # fmt: skip

    def build(self) -> tuple[Workspace, list[Workspace]]:
        s = self.sizes
        big = self.workspace("bench-big", "百川压测集团", managers=5, reps_per=9)  # 50 sellers
        self.customers(big, s.customers, s.followups_per, s.opportunities)
        smalls = []
        for i in range(s.small_tenants):
            ws = self.workspace(f"bench-small-{i + 1}", f"小微企业{i + 1}", managers=1, reps_per=2)
            per = s.customers / s.small_customers
            self.customers(ws, s.small_customers, s.followups_per, max(2, round(s.opportunities / per)))
            smalls.append(ws)
        return big, smalls


def load(dsn: Dsn, gen: Generator) -> dict[str, int]:
    """COPY every table (foreign keys unchecked meanwhile: the generator keeps them consistent),
    move the sequences past the explicit ids, then VACUUM ANALYZE."""
    counts: dict[str, int] = {}
    with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK triggers during the bulk load
        conn.execute("SET maintenance_work_mem = '256MB'")
        for table, cols in Tables.COLUMNS.items():
            rows = gen.t.rows[table]
            counts[table] = len(rows)
            names = cols.split()
            with conn.cursor().copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
            )
        conn.execute("SET session_replication_role = origin")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return counts


# --------------------------------------------------------------------------- timing


@dataclass
class Page:
    label: str
    urls: list[str]  # rotated over, one per request


@dataclass
class Captured:
    statements: list[tuple[str, Any]]


@dataclass
class Result:
    page: str
    member: str
    statements: str
    page_ms: list[float]
    bare_ms: list[float]
    slowest: tuple[float, str] = (0.0, "")  # the costliest statement of the bare SQL: (ms, SQL)

    @staticmethod
    def p95(xs: list[float]) -> float:
        return statistics.quantiles(xs, n=20, method="inclusive")[18] if len(xs) > 1 else xs[0]

    @property
    def ratio(self) -> float:
        return statistics.median(self.page_ms) / statistics.median(self.bare_ms)


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def sign_in(app: Any, email: str) -> Any:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    html = client.get("/login").get_data(as_text=True)
    m = CSRF.search(html)
    if not m:
        raise SystemExit("the login page carries no csrf_token")
    r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": m.group(1) or m.group(2)})
    if r.status_code != 302:
        raise SystemExit(f"sign-in as {email} failed: {r.status_code}")
    return client


class Timer:
    def __init__(self, app: Any, bare: Conn) -> None:
        from sqlalchemy import event

        from crm.db import db

        self.app, self.bare = app, bare
        self.capturing: list[tuple[str, Any]] | None = None
        with app.app_context():
            engine = db.engine

        def _before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if self.capturing is not None:
                self.capturing.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", _before)

    def get(self, client: Any, url: str) -> float:
        start = time.perf_counter()
        r = client.get(url)
        elapsed = time.perf_counter() - start
        if r.status_code != 200:
            raise SystemExit(f"GET {url}: {r.status_code}")
        return elapsed * 1000

    def capture(self, client: Any, url: str) -> Captured:
        self.capturing = []
        try:
            self.get(client, url)
            return Captured(self.capturing)
        finally:
            self.capturing = None

    def replay(self, captured: Captured) -> float:
        """The page's statements with their parameters, one transaction, as the app role."""
        conn = self.bare
        start = time.perf_counter()
        with conn.cursor() as cur:
            for sql, params in captured.statements:
                cur.execute(sql, params or None)
                if cur.description is not None:
                    cur.fetchall()
        conn.rollback()
        return (time.perf_counter() - start) * 1000

    def measure(self, client: Any, who: str, page: Page, requests: int) -> Result:
        captures = {}
        for url in page.urls:  # warm templates and caches, and capture what each URL issues
            self.get(client, url)
            captures[url] = self.capture(client, url)
            self.replay(captures[url])
        counts = sorted({len(c.statements) for c in captures.values()})
        page_ms: list[float] = []
        bare_ms: list[float] = []
        for i in range(requests):
            url = page.urls[i % len(page.urls)]
            if i % 2 == 0:  # interleaved, alternating who goes first
                page_ms.append(self.get(client, url))
                bare_ms.append(self.replay(captures[url]))
            else:
                bare_ms.append(self.replay(captures[url]))
                page_ms.append(self.get(client, url))
        label = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        return Result(page.label, who, label, page_ms, bare_ms, self.slowest(captures[page.urls[0]]))

    def slowest(self, captured: Captured, runs: int = 5) -> tuple[float, str]:
        """Which statement of the page costs most (median of a few replays): where bare SQL time goes."""
        per: list[list[float]] = [[] for _ in captured.statements]
        for _ in range(runs):
            with self.bare.cursor() as cur:
                for i, (sql, params) in enumerate(captured.statements):
                    start = time.perf_counter()
                    cur.execute(sql, params or None)
                    if cur.description is not None:
                        cur.fetchall()
                    per[i].append((time.perf_counter() - start) * 1000)
            self.bare.rollback()
        ms, i = max((statistics.median(xs), i) for i, xs in enumerate(per))
        return ms, " ".join(captured.statements[i][0].split())


def pick_customers(dsn: Dsn, ws: Workspace, manager: int, n: int) -> list[int]:
    """Customers of the manager's team with typical children: a few contacts, follow-ups and an opportunity."""
    team = [manager] + [rep for rep, boss in ws.team_of.items() if boss == manager]
    with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
        rows = conn.execute(
            """
            SELECT c.id FROM customers c
            WHERE c.tenant_id = %(t)s AND c.owner_id = ANY(%(team)s)
              AND (SELECT count(*) FROM contacts x WHERE x.tenant_id = c.tenant_id AND x.customer_id = c.id)
                  BETWEEN 2 AND 5
              AND (SELECT count(*) FROM followups f WHERE f.tenant_id = c.tenant_id AND f.customer_id = c.id)
                  BETWEEN 5 AND 20
              AND EXISTS (SELECT 1 FROM opportunities o WHERE o.tenant_id = c.tenant_id AND o.customer_id = c.id)
            ORDER BY c.id DESC LIMIT %(n)s
            """,
            {"t": ws.id, "team": team, "n": n},
        ).fetchall()
    if not rows:
        raise SystemExit("no customer with typical children in the manager's team")
    return [r[0] for r in rows]


def time_pages(dsn: Dsn, tmp: Path, big: Workspace, args: argparse.Namespace) -> list[Result]:
    from crm import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": dsn.url(APP_ROLE),
            "FILES_DIR": str(tmp / "files"),
            "SECRET_KEY": secrets.token_hex(16),
        }
    )
    manager = big.managers[0]
    w = f"/w/{big.slug}/sales"
    sample = pick_customers(dsn, big, manager, args.sample)
    pages = {
        "list": Page("customer list", [f"{w}/customers"]),
        "name": Page("search ?q=百川 (name)", [f"{w}/customers?q=百川"]),
        "initials": Page("search ?q=bjbc (initials)", [f"{w}/customers?q=bjbc"]),
        "360": Page(f"360° page ({len(sample)} customers)", [f"{w}/customers/{cid}" for cid in sample]),
        "kanban": Page("kanban board", [f"{w}/pipeline/{big.pipeline_id}"]),
    }
    results: list[Result] = []
    with psycopg.connect(dsn.libpq(APP_ROLE)) as bare:
        timer = Timer(app, bare)
        for who, mid in (("admin", big.admin), ("sales_manager", manager)):
            client = sign_in(app, big.emails[mid])
            for page in (pages[key] for key in args.pages):
                log(f"timing {page.label} as {who}")
                results.append(timer.measure(client, who, page, args.requests))
    return results


# --------------------------------------------------------------------------- report


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def ljust(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def report(results: list[Result], counts: dict[str, int], load_s: float, args: argparse.Namespace) -> None:
    width = max(display_width(r.page) for r in results)
    head = (
        f"{ljust('page', width)}  {'as':<13}  {'stmts':>5}  {'page med':>8}  {'p95':>7}  {'SQL med':>8}  {'p95':>7}"
        f"  {'ratio':>6}  goal  met"
    )
    print()
    print(f"PostgreSQL {args.server_version}; {args.requests} requests per page and member, interleaved with bare SQL")
    print("rows loaded: " + ", ".join(f"{t} {n:,}" for t, n in counts.items() if n))
    print(f"data generation + load + VACUUM ANALYZE: {load_s:.0f} s")
    print("page = server time around client.get (in-process); SQL = the page's own statements replayed on psycopg")
    print(head)
    print("-" * display_width(head))
    for r in results:
        ratio = r.ratio
        print(
            f"{ljust(r.page, width)}  {r.member:<13}  {r.statements:>5}  {statistics.median(r.page_ms):>8.2f}  "
            f"{Result.p95(r.page_ms):>7.2f}  {statistics.median(r.bare_ms):>8.2f}  {Result.p95(r.bare_ms):>7.2f}  "
            f"{ratio:>5.2f}x  {GOAL:.0f}x   {'yes' if ratio <= GOAL else 'NO'}"
        )
    print("times in ms; stmts = SQL statements per request (a range when the rotated URLs differ)")
    print()
    print("costliest statement of each page's bare SQL (median of 5 replays of the first URL):")
    for r in results:
        ms, sql = r.slowest
        print(f"  {ljust(r.page, width)}  {r.member:<13}  {ms:>8.2f} ms  …{sql[sql.find(' FROM ') :][:160]}…")


def main() -> int:
    global DB_NAME, APP_ROLE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    parser.add_argument("--superuser", default="postgres", help="runs migrations and the load, owns the tables")
    parser.add_argument("--scale", type=float, default=1.0, help="1 = the issue's sizes; 0.1 for a quick run")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page and member")
    parser.add_argument("--sample", type=int, default=20, help="customers the 360° page rotates over")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument(
        "--pages",
        type=lambda v: [p for p in v.split(",") if p],
        default=list(PAGES),
        help=f"comma-separated subset of {','.join(PAGES)}",
    )
    parser.add_argument("--keep", action="store_true", help=f"keep {DB_NAME} and {APP_ROLE} afterwards")
    parser.add_argument("--database", default=DB_NAME, help="database to build (its app role is <database>_app)")
    args = parser.parse_args()
    DB_NAME, APP_ROLE = args.database, f"{args.database}_app"
    if unknown := set(args.pages) - set(PAGES):
        parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
    dsn = Dsn(args.host, args.port, args.superuser)

    from tenants.identity import hash_password

    with tempfile.TemporaryDirectory(prefix="taizhang-bench-sales-") as tmpdir:
        tmp = Path(tmpdir)
        started = time.perf_counter()
        log(f"creating {DB_NAME} and role {APP_ROLE}")
        create_database(dsn)
        try:
            log("migrating (flask db upgrade, as the superuser)")
            migrate(dsn, tmp)
            load_started = time.perf_counter()
            sizes = Sizes.at(args.scale)
            log(f"generating: {sizes}")
            gen = Generator(sizes, args.seed, hash_password(PASSWORD))
            big, _smalls = gen.build()
            log("loading with COPY, then VACUUM ANALYZE")
            counts = load(dsn, gen)
            load_s = time.perf_counter() - load_started
            del gen
            with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
                args.server_version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
            log(f"loaded in {load_s:.0f} s")
            results = time_pages(dsn, tmp, big, args)
            report(results, counts, load_s, args)
            log(f"done in {time.perf_counter() - started:.0f} s")
        finally:
            if not args.keep:
                drop_database(dsn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
