"""Excel import of customers at size, next to the baseline it must stay near (issue 7).

Builds its own database (taizhang_bench_imports), migrated to every head as the superuser, with
an app role like the real one (owns nothing, no BYPASSRLS): 3 workspaces, an owner each.

Figure: importing N customer rows (default 100,000) from an xlsx of a hand-made customer ledger
(a title row, 客户名称 / 统一社会信用代码 / 联系电话 / 所在城市 / 业务员 / 备注) into the first
workspace the way the app does it — upload (read, find the header, map, dry run) then the
commit job's work (the dry run's plan checked against the workspace's state, search keys,
batched inserts, the change log for undo) — against the baseline: reading the same file alone
(python-calamine, what the app reads with) plus a bulk insert alone of the same rows, already
prepared, into the customers table (executemany of 1,000-row batches, every row with the same
columns), in the same run, as the app role with RLS on. Goal ≤ 2×.

Exits non-zero only on an error, never because of a timing.

    .venv/bin/python bench/imports.py                 # 100,000 rows
    .venv/bin/python bench/imports.py --rows 20000    # a quick run
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import finance as fin  # noqa: E402  (database, migrations, app: shared with the finance bench)
import sales as common  # noqa: E402

DATABASE = "taizhang_bench_imports"
OWNER_NAME = "王建国"


def seed(dsn: common.Dsn, tenants: int) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
        for i in range(1, tenants + 1):
            conn.execute(
                "INSERT INTO tenants (id, slug, name, currency, timezone, settings, created_at, updated_at) "
                "VALUES (%s, %s, %s, 'CNY', 'Asia/Shanghai', '{}', %s, %s)",
                (i, f"imp-{i:03d}", f"导入测试{i}有限公司", now, now),
            )
            conn.execute(
                "INSERT INTO users (id, email, name, password_hash, locale, timezone, session_epoch, created_at, "
                "updated_at) VALUES (%s, %s, %s, 'x', 'zh_Hans_CN', 'Asia/Shanghai', 0, %s, %s)",
                (i, f"owner{i}@imp-{i:03d}.example.com", OWNER_NAME, now, now),
            )
            conn.execute(
                "INSERT INTO memberships (id, tenant_id, user_id, roles, title, reports_to_id, is_active, created_at, "
                "updated_at) VALUES (%s, %s, %s, %s, '总经理', NULL, true, %s, %s)",
                (i, i, i, json.dumps(["owner"]), now, now),
            )
        for t in ("tenants", "users", "memberships"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))")
        conn.commit()


def ledger(rows: int) -> bytes:
    """The customer ledger as an xlsx, written with xlsxwriter (constant memory)."""
    import xlsxwriter

    from crm.sales.rules import uscc_check_character

    rng = random.Random(11)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True, "in_memory": True})
    ws = wb.add_worksheet("客户台账")
    ws.write_row(0, 0, ["2026年客户台账"])
    ws.write_row(1, 0, ["客户名称", "统一社会信用代码", "联系电话", "所在城市", "业务员", "备注"])
    for n in range(rows):
        name, city = common.company_name(rng)
        first17 = f"91110108MA{n:07d}"
        ws.write_row(n + 2, 0, [f"{name}{n}", first17 + uscc_check_character(first17), common.mobile(rng),
                                city or "北京", OWNER_NAME, "老客户" if n % 7 == 0 else None])  # fmt: skip
    ws.write_row(rows + 2, 0, ["合计"])
    wb.close()
    return buf.getvalue()


def clear(dsn: common.Dsn) -> None:
    with psycopg.connect(dsn.libpq(dsn.superuser), autocommit=True) as conn:
        # Only this bench's rows live here: TRUNCATE, not a 100,000-row DELETE through every foreign key.
        conn.execute("TRUNCATE import_changes, import_batches, audit_entries, customers CASCADE")
        conn.execute("VACUUM ANALYZE customers")


def ours(app: Any, data: bytes) -> tuple[float, dict[str, Any]]:
    from crm.db import db
    from crm.imports import services

    stack, tenant, member = fin.in_request(app, 1, 1)
    with stack:
        t0 = time.perf_counter()
        batch = services.upload(tenant, member, "customers", "客户台账.xlsx", data)
        db.session.commit()
        services.start_commit(tenant, member, batch, "good_rows")
        services.commit(tenant, member, batch, lambda _p, _m: None)
        db.session.commit()
        took = time.perf_counter() - t0
        return took, dict(batch.counts)


def baseline(app: Any, data: bytes) -> tuple[float, float, float, int]:
    """calamine reading the file alone, and inserting the same rows (prepared beforehand) alone."""
    from python_calamine import CalamineWorkbook
    from sqlalchemy import insert

    from crm.db import db
    from crm.imports import services
    from crm.sales.models import Customer

    t0 = time.perf_counter()
    values = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    read = time.perf_counter() - t0
    stack, tenant, member = fin.in_request(app, 1, 1)
    with stack:
        now = datetime.now(UTC)
        t_prep = time.perf_counter()
        rows = [
            services._insert_values(
                "customers", tenant.id, member.id,
                {"name": r[0], "uscc": r[1], "phone": str(r[2]), "city": r[3], "owner_id": member.id,
                 "notes": r[5] or None}, now,
            )
            for r in values[2:-1]
        ]  # fmt: skip
        t1 = time.perf_counter()
        prep = t1 - t_prep
        # render_nulls: rows without a remark keep the column (as NULL), so each batch is one
        # statement; without it SQLAlchemy splits a batch wherever the key set changes.
        stmt = insert(Customer).execution_options(render_nulls=True)
        for i in range(0, len(rows), services.BATCH_SIZE):
            db.session.execute(stmt, rows[i : i + services.BATCH_SIZE])
        db.session.commit()
        insert_s = time.perf_counter() - t1
    return read, insert_s, prep, len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1, help="runs of each side; the median is reported")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--superuser", default="postgres")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    fin.set_names(DATABASE)
    dsn = common.Dsn(args.host, args.port, args.superuser)
    with tempfile.TemporaryDirectory(prefix="taizhang-bench-imports-") as tmpdir:
        tmp = Path(tmpdir)
        common.log(f"creating {fin.DB_NAME} and role {fin.APP_ROLE}")
        common.create_database(dsn)
        try:
            fin.migrate_heads(dsn, tmp)
            seed(dsn, 3)
            common.log(f"writing a ledger of {args.rows:,} customers")
            data = ledger(args.rows)
            app = fin.make_app(dsn, tmp, fin.APP_ROLE)
            ours_s, base_read, base_insert, base_prep = [], [], [], []
            counts: dict[str, Any] = {}
            for run in range(args.runs):
                clear(dsn)
                common.log(f"run {run + 1}: the import (upload + dry run + commit)")
                took, counts = ours(app, data)
                ours_s.append(took)
                common.log(f"run {run + 1}: the import took {took:.2f} s")
                clear(dsn)
                common.log(f"run {run + 1}: baseline (read alone + bulk insert alone)")
                r, i, prep, n = baseline(app, data)
                base_read.append(r)
                base_insert.append(i)
                base_prep.append(prep)
            o = statistics.median(ours_s)
            b = statistics.median(base_read) + statistics.median(base_insert)
            with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
                version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
            print()
            print(f"PostgreSQL {version}; {args.rows:,} rows, {len(data) / 1e6:.1f} MB xlsx; "
                  f"imported {counts.get('new', 0):,} new, {counts.get('invalid', 0):,} invalid")  # fmt: skip
            print(f"{'figure':52} {'ours':>10} {'baseline':>10} {'ratio':>7}  goal  met")
            print("-" * 92)
            ok = "yes" if o / b <= 2.0 else "NO"
            print(f"{'import of ' + format(args.rows, ',') + ' customers from xlsx':52} {o:>8.2f} s {b:>8.2f} s "
                  f"{o / b:>6.2f}x  2.0x  {ok}")  # fmt: skip
            print(f"  baseline = read {statistics.median(base_read):.2f} s + bulk insert "
                  f"{statistics.median(base_insert):.2f} s ({n:,} rows)")  # fmt: skip
            print(f"  not in the baseline: preparing those rows (search keys: pinyin, bigrams) took "
                  f"{statistics.median(base_prep):.2f} s; ours does it inside the commit")  # fmt: skip
        finally:
            if not args.keep:
                common.drop_database(dsn)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
