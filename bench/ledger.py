"""The sales ledger's summaries and growth at realistic size, each next to the bare SQL aggregate.

Builds its own database (taizhang_bench_ledger), migrated to every head as the superuser the way
operators do, with an app role like the real one (owns nothing, no BYPASSRLS). Data:

* 100 workspaces, each with an owner and 10 sales reps;
* one big workspace with ~1,000,000 order lines (orders of 1–5 lines over 2025-2026, 200
  products, 2,000 customers in 31 provinces, 3 % of the orders cancelled);
* 99 small workspaces with ~5,000 lines each;
* loaded with COPY (foreign-key triggers off during the load), then VACUUM ANALYZE.

Each figure runs crm.ledger.services as the owner of the big workspace (scope: everyone), the app
connected as the app role (RLS on), against the aggregate a person would write by hand for the
same numbers, run with psycopg as the app role in a transaction with the tenant set. Runs
alternate (ours, bare, ours, bare …); each figure is the median. Goal of the issue: ≤ 1.5×.

(a) summary: region × month, one year (quantity, amounts excluding and including tax)
(b) summary: product × week, one quarter
(c) growth: week over week per product, one quarter (and the week before it)
(d) growth: month over month per region, one year (and the month before it)
(e) growth: year over year per month, one year (and the year before it)
(f) the ledger page: count and sums of a year, its first 50 lines with received/outstanding

Exits non-zero only on an error, never because of a timing.

    .venv/bin/python bench/ledger.py                 # full size (about ten minutes on 2 cores)
    .venv/bin/python bench/ledger.py --scale 0.05    # a quick run
    .venv/bin/python bench/ledger.py --reuse         # keep the database and use it next time
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import finance  # noqa: E402  (migrations to heads, the app, request contexts, alternating runs)
import sales as common  # noqa: E402  (database setup and Chinese names)

DB_NAME = "taizhang_bench_ledger"
PROVINCES = ["北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海市", "江苏省",
             "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "广西壮族自治区",
             "海南省", "重庆市", "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省", "青海省",
             "宁夏回族自治区", "新疆维吾尔自治区"]  # fmt: skip
PRODUCTS = [
    "服务器",
    "交换机",
    "路由器",
    "防火墙",
    "存储阵列",
    "无线接入点",
    "笔记本电脑",
    "显示器",
    "打印机",
    "UPS电源",
]
REPS = 10
START, END = date(2025, 1, 1), date(2026, 12, 31)
log = common.log


COLS = {
    "users": "id email name password_hash locale timezone session_epoch created_at updated_at",
    "memberships": "id tenant_id user_id roles title reports_to_id is_active created_at updated_at",
    "products": "id tenant_id code name list_price vat_rate active created_at updated_at",
    "customers": "id tenant_id name status locked name_normalized search_bigrams province owner_id created_at "
    "updated_at",
    "orders": "id tenant_id number customer_id owner_id created_by_id order_date province delivery_status "
    "prices_include_tax total_excl total_tax total_incl created_at updated_at",
    "order_lines": "id tenant_id order_id position product_id description quantity delivered_quantity unit_price "
    "discount_pct tax_rate amount_excl tax amount_incl",
}


def seed(dsn: common.Dsn, tenants: int, big_lines: int, small_lines: int) -> int:
    """Workspaces, members, products, customers, orders and lines, all with COPY; returns lines."""
    rng = random.Random(20261128)
    now = datetime.now(UTC).replace(microsecond=0)
    days = (END - START).days + 1
    ids = {"users": 0, "memberships": 0, "products": 0, "customers": 0, "orders": 0, "order_lines": 0}
    rows: dict[str, list[tuple[Any, ...]]] = {k: [] for k in ids}
    tenant_rows = []
    total_lines = 0

    def nid(table: str) -> int:
        ids[table] += 1
        return ids[table]

    def flush(conn: psycopg.Connection[Any]) -> None:
        """COPY what one workspace generated, so memory holds one workspace at a time."""
        with conn.cursor().copy("COPY tenants (id, slug, name, currency, timezone, settings, created_at, "
                                "updated_at) FROM STDIN") as copy:  # fmt: skip
            for row in tenant_rows:
                copy.write_row(row)
        tenant_rows.clear()
        for table in ("users", "memberships", "products", "customers", "orders", "order_lines"):
            with conn.cursor().copy(f"COPY {table} ({', '.join(COLS[table].split())}) FROM STDIN") as copy:
                for row in rows[table]:
                    copy.write_row(row)
            rows[table] = []

    with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
        conn.execute("SET session_replication_role = replica")
        for t in range(1, tenants + 1):
            slug = "ledger-big" if t == 1 else f"ledger-{t:03d}"
            name, _city = common.company_name(rng)
            tenant_rows.append((t, slug, name, "CNY", "Asia/Shanghai", "{}", now, now))
            members = []
            for r in range(REPS + 1):
                uid, mid = nid("users"), nid("memberships")
                role = "owner" if r == 0 else "sales"
                rows["users"].append((uid, f"{role}{r}@{slug}.example.com", common.person_name(rng), "x", "zh_Hans_CN",
                                      "Asia/Shanghai", 0, now, now))  # fmt: skip
                rows["memberships"].append((mid, t, uid, json.dumps([role]), None, None, True, now, now))
                members.append(mid)
            reps = members[1:]
            n_products = 200 if t == 1 else 20
            products = []
            for p in range(n_products):
                pid = nid("products")
                price = rng.randint(50, 20_000) * 100
                rows["products"].append((pid, t, f"P{p:04d}", f"{PRODUCTS[p % len(PRODUCTS)]}-{p:03d}", price, 13, True,
                                         now, now))  # fmt: skip
                products.append((pid, price))
            n_customers = 2000 if t == 1 else 50
            customers = []
            for _c in range(n_customers):
                cid = nid("customers")
                cname, _ = common.company_name(rng)
                province = rng.choice(PROVINCES)
                owner = rng.choice(reps)
                rows["customers"].append((cid, t, f"{cname}{cid}", "active", False, f"{cname}{cid}", "{}", province,
                                          owner, now, now))  # fmt: skip
                customers.append((cid, province, owner))
            want = big_lines if t == 1 else small_lines
            made = seq = 0
            while made < want:
                oid = nid("orders")
                seq += 1
                cid, province, owner = rng.choice(customers)
                when = START + timedelta(days=rng.randrange(days))
                k = rng.randint(1, 5)
                excl_total = tax_total = 0
                for pos in range(k):
                    pid, price = rng.choice(products)
                    qty = rng.randint(1, 20)
                    excl = price * qty
                    tax = (excl * 13 + 50) // 100
                    excl_total += excl
                    tax_total += tax
                    line_id = nid("order_lines")
                    rows["order_lines"].append(
                        (line_id, t, oid, pos, pid, "line", qty * 1000, 0, price, 0, 13, excl, tax, excl + tax)
                    )
                status = "cancelled" if rng.random() < 0.03 else rng.choice(("pending", "partial", "delivered"))
                rows["orders"].append((oid, t, f"SO-{when.year}-{seq:07d}", cid, owner, owner, when, province, status,
                                       False, excl_total, tax_total, excl_total + tax_total, now, now))  # fmt: skip
                made += k
            total_lines += made
            flush(conn)
        for table in ("tenants", *ids):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.execute("SET session_replication_role = origin")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return total_lines


# --------------------------------------------------------------------------- the figures

BASE = """
SELECT {keys}, sum(l.quantity), sum(l.amount_excl), sum(l.amount_incl)
FROM order_lines l JOIN orders o ON o.id = l.order_id
WHERE l.tenant_id = %(t)s AND o.tenant_id = %(t)s AND o.delivery_status <> 'cancelled'
  AND o.order_date BETWEEN %(from)s AND %(to)s
GROUP BY {groups}
"""

FIGURES = [
    # label, services call, hand-written keys, first day, last day (the bare SQL reads the same range)
    ("(a) summary region × month, one year", ("summary", "region", "month"),
     "coalesce(o.province, ''), to_char(o.order_date, 'YYYY-MM')", date(2026, 1, 1), date(2026, 12, 31),
     date(2026, 1, 1)),
    ("(b) summary product × week, one quarter", ("summary", "product", "week"),
     "l.product_id, to_char(date_trunc('week', o.order_date), 'YYYY-MM-DD')", date(2026, 4, 1), date(2026, 6, 30),
     date(2026, 4, 1)),
    ("(c) growth week over week per product, a quarter", ("growth", "week", "product", "previous"),
     "to_char(date_trunc('week', o.order_date), 'YYYY-MM-DD'), l.product_id", date(2026, 4, 1), date(2026, 6, 30),
     date(2026, 3, 23)),
    ("(d) growth month over month per region, a year", ("growth", "month", "region", "previous"),
     "to_char(o.order_date, 'YYYY-MM'), coalesce(o.province, '')", date(2026, 1, 1), date(2026, 12, 31),
     date(2025, 12, 1)),
    ("(e) growth year over year per month, a year", ("growth", "month", "", "year"),
     "to_char(o.order_date, 'YYYY-MM')", date(2026, 1, 1), date(2026, 12, 31), date(2025, 1, 1)),
]  # fmt: skip


def run_figures(app: Any, dsn: common.Dsn, owner: int, runs: int) -> list[tuple[str, float, float, int, int]]:
    from crm.db import db
    from crm.ledger import services

    out = []
    with app.app_context(), psycopg.connect(dsn.libpq(finance.APP_ROLE)) as bare:
        stack, _tenant, member = finance.in_request(app, 1, owner)
        with stack:
            for label, call, keys, first, last, fetch_from in FIGURES:
                f = services.LedgerFilter(date_from=first, date_to=last)
                n_keys = 1 if call[0] == "growth" and not call[2] else 2
                sql = BASE.format(keys=keys, groups=", ".join(str(i + 1) for i in range(n_keys)))
                params = {"t": 1, "from": fetch_from, "to": last}

                def ours(call: tuple[str, ...] = call, f: services.LedgerFilter = f) -> int:
                    if call[0] == "summary":
                        p = services.summarize(member, f, call[1], call[2], "amount")
                        n = len(p.cells)
                    else:
                        g = services.growth(member, f, call[1], call[2], call[3], "amount")
                        n = len(g.cells) or len(g.totals)
                    db.session.rollback()  # ends the transaction, as a request does
                    return n

                def base(sql: str = sql, params: dict[str, Any] = params) -> None:
                    with bare.cursor() as cur:
                        cur.execute("SELECT set_config('app.tenant_id', %s, true)", ("1",))
                        cur.execute(sql, params)
                        cur.fetchall()
                    bare.rollback()

                ours()
                base()  # warm both
                ours_s, base_s, n = finance.alternate(ours, base, runs)
                with bare.cursor() as cur:
                    cur.execute("SELECT set_config('app.tenant_id', %s, true)", ("1",))
                    cur.execute(f"SELECT count(*) FROM ({sql}) x", params)
                    groups_n = cur.fetchone()[0]  # type: ignore[index]
                bare.rollback()
                out.append((label, ours_s, base_s, n, groups_n))
            out.append(ledger_page(member, bare, runs))
    return out


PAGE_SQL = """
SELECT l.id, o.order_date, o.number, c.name, o.province, u.name, coalesce(p.name, l.description), l.quantity,
       l.unit_price, l.amount_excl, l.amount_incl, o.delivery_status
FROM order_lines l JOIN orders o ON o.id = l.order_id JOIN customers c ON c.id = o.customer_id
LEFT JOIN memberships m ON m.id = o.owner_id LEFT JOIN users u ON u.id = m.user_id
LEFT JOIN products p ON p.id = l.product_id
WHERE l.tenant_id = %(t)s AND o.tenant_id = %(t)s AND o.delivery_status <> 'cancelled'
  AND o.order_date BETWEEN %(from)s AND %(to)s
ORDER BY o.order_date DESC, o.id DESC, l.position, l.id LIMIT 50
"""
COUNT_SQL = BASE.split("GROUP BY")[0].replace("{keys}", "count(*)")


def ledger_page(member: Any, bare: Any, runs: int) -> tuple[str, float, float, int, int]:
    """(f) the ledger's first page of one year (the count and sums of the year, 50 lines with
    their share of receipts) vs the count/sum aggregate and the 50-line join written by hand."""
    from crm.db import db
    from crm.ledger import services

    f = services.LedgerFilter(date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))
    params = {"t": 1, "from": f.date_from, "to": f.date_to}

    def ours() -> int:
        page = services.ledger_page(member, f)
        db.session.rollback()
        return page.total

    def base() -> None:
        with bare.cursor() as cur:
            cur.execute("SELECT set_config('app.tenant_id', %s, true)", ("1",))
            cur.execute(COUNT_SQL, params)
            cur.fetchall()
            cur.execute(PAGE_SQL, params)
            cur.fetchall()
        bare.rollback()

    ours()
    base()
    ours_s, base_s, total = finance.alternate(ours, base, runs)
    return "(f) ledger page 1 of a year (count, sums, 50 lines)", ours_s, base_s, total, 50


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--superuser", default="postgres")
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 1,000,000 lines in the big workspace")
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each figure, in turns with its baseline")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="reuse the database of an earlier --keep run")
    args = parser.parse_args()
    finance.set_names(DB_NAME)
    dsn = common.Dsn(args.host, args.port, args.superuser)
    big_lines = int(1_000_000 * args.scale)
    small_lines = int(5_000 * min(1.0, args.scale * 4))
    with tempfile.TemporaryDirectory(prefix="taizhang-bench-ledger-") as tmpdir:
        tmp = Path(tmpdir)
        started = time.perf_counter()
        lines = None
        if args.reuse:
            args.keep = True
            try:
                with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
                    shape = conn.execute("SELECT shape FROM bench_ledger_meta").fetchone()
                    if shape and shape[0] == {"tenants": args.tenants, "big": big_lines, "small": small_lines}:
                        lines = conn.execute("SELECT count(*) FROM order_lines").fetchone()[0]  # type: ignore[index]
            except psycopg.Error:
                lines = None
        try:
            if lines is None:
                log(f"creating {DB_NAME} and role {finance.APP_ROLE}")
                common.create_database(dsn)
                log("migrating (flask db upgrade heads, as the superuser)")
                finance.migrate_heads(dsn, tmp)
                t0 = time.perf_counter()
                lines = seed(dsn, args.tenants, big_lines, small_lines)
                with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
                    conn.execute("CREATE TABLE IF NOT EXISTS bench_ledger_meta (shape jsonb NOT NULL)")
                    conn.execute("DELETE FROM bench_ledger_meta")
                    shape = {"tenants": args.tenants, "big": big_lines, "small": small_lines}
                    conn.execute("INSERT INTO bench_ledger_meta VALUES (%s)", (json.dumps(shape),))
                log(f"loaded {lines:,} order lines in {time.perf_counter() - t0:.0f} s")
            else:
                log(f"reusing {DB_NAME}: {lines:,} order lines")
            with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
                version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
                big = conn.execute("SELECT count(*) FROM order_lines WHERE tenant_id = 1").fetchone()[0]  # type: ignore[index]
                owner = conn.execute(
                    "SELECT id FROM memberships WHERE tenant_id = 1 AND roles::text LIKE '%%owner%%'"
                ).fetchone()[0]  # type: ignore[index]
            app = finance.make_app(dsn, tmp, finance.APP_ROLE)
            results = run_figures(app, dsn, owner, args.runs)
            print()
            print(f"PostgreSQL {version}; {args.tenants} workspaces, {lines:,} order lines; big workspace {big:,}; "
                  f"median of {args.runs} alternating runs; app role with RLS")  # fmt: skip
            print(f"{'figure':52} {'groups':>7} {'ours':>10} {'bare SQL':>10} {'ratio':>7}  goal  met")
            print("-" * 102)
            for label, ours_s, base_s, _n, groups_n in results:
                ratio = ours_s / base_s if base_s else float("inf")
                print(f"{label:52} {groups_n:>7,} {ours_s * 1000:>7.0f} ms {base_s * 1000:>7.0f} ms {ratio:>6.2f}x  "
                      f"1.5x  {'yes' if ratio <= 1.5 else 'NO'}")  # fmt: skip
            log(f"done in {time.perf_counter() - started:.0f} s")
        finally:
            if not args.keep:
                common.drop_database(dsn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
