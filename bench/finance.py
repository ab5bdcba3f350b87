"""Finance report exports at realistic size, each figure next to the baseline it must stay near.

Builds its own database (taizhang_bench_finance), migrated as the superuser the way operators
do, with an app role like the real one (owns nothing, no BYPASSRLS). Data:

* 100 workspaces, each with its books set up through the service (crm.books.services.set_up_books,
  the small-enterprise chart) plus sub-accounts under the bank, receivable, payable, revenue and
  expense accounts (~60 accounts);
* one big workspace with ~1,000,000 posted journal lines over two years (2025-2026): entries of
  2–6 balanced lines on leaf accounts, customer/supplier parties on the receivable/payable lines;
* 99 small workspaces with ~5,000 lines each;
* loaded with COPY (foreign-key triggers off during the load), then VACUUM ANALYZE.

Figures (the app connected as the app role, RLS on):

(a) general-ledger xlsx of the big workspace, all accounts, one year: write_xlsx(build(...)) vs
    xlsxwriter alone writing the same cells from a precomputed list (constant_memory) — goal ≤ 1.5×;
(b) peak memory (VmHWM of a fresh subprocess) of the general-ledger xlsx export at ~100,000
    lines and at ~1,000,000 lines — goal: the larger within 1.2× of the smaller;
(c) trial balance (one year) through the builder vs the bare SQL it issues, replayed with psycopg
    as the app role — goal ≤ 1.5×;
(d) a 10,000-line general-ledger PDF through write_pdf (chunks) vs WeasyPrint rendering the same
    HTML as one document — goal ≤ 1.3×.

Each figure and its baseline run in turns (ours, baseline, ours …; median of each).
Exits non-zero only on an error, never because of a timing.

    .venv/bin/python bench/finance.py                 # full size (see bench/README.md)
    .venv/bin/python bench/finance.py --scale 0.05    # a quick run
    .venv/bin/python bench/finance.py --reuse         # keep the generated database, and reuse it next time
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sales as common  # noqa: E402  (database setup, migrations, names: shared with the sales bench)

DB_NAME = "taizhang_bench_finance"
APP_ROLE = "taizhang_bench_finance_app"
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
SUBS = {  # parent role -> sub-account names (code suffix 01, 02 …)
    "bank": ["工商银行基本户", "建设银行一般户", "招商银行", "支付宝"],
    "receivable": ["华东区", "华南区", "华北区"],
    "payable": ["原材料", "服务采购", "设备"],
    "revenue": ["软件授权", "实施服务", "维保服务"],
    "admin_expense": ["办公费", "差旅费", "房租", "水电费", "通讯费"],
    "selling_expense": ["广告费", "业务招待费", "运输费"],
}
MEMOS = ["销售收入", "采购原材料", "报销差旅费", "支付房租", "收到货款", "支付货款", "计提工资", "缴纳税费",
         "银行手续费", "业务招待", "办公用品", "预收款"]  # fmt: skip
log = common.log


def set_names(database: str) -> None:
    global DB_NAME, APP_ROLE
    DB_NAME, APP_ROLE = database, f"{database}_app"
    common.DB_NAME, common.APP_ROLE = DB_NAME, APP_ROLE


# --------------------------------------------------------------------------- data


def seed(dsn: common.Dsn, tmp: Path, tenants: int) -> tuple[list[int], dict[int, int]]:
    """Workspaces, a finance member each, books set up through the service; (tenant ids, finance ids)."""
    now = datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(7)
    ids, finance = [], {}
    with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
        for i in range(1, tenants + 1):
            slug = "fin-big" if i == 1 else f"fin-{i:03d}"
            name, _city = common.company_name(rng)
            conn.execute(
                "INSERT INTO tenants (id, slug, name, currency, timezone, settings, created_at, updated_at) "
                "VALUES (%s, %s, %s, 'CNY', 'Asia/Shanghai', '{}', %s, %s)",
                (i, slug, name, now, now),
            )
            conn.execute(
                "INSERT INTO users (id, email, name, password_hash, locale, timezone, session_epoch, created_at, "
                "updated_at) VALUES (%s, %s, %s, 'x', 'zh_Hans_CN', 'Asia/Shanghai', 0, %s, %s)",
                (i, f"finance{i}@{slug}.example.com", common.person_name(rng), now, now),
            )
            conn.execute(
                "INSERT INTO memberships (id, tenant_id, user_id, roles, title, reports_to_id, is_active, created_at, "
                "updated_at) VALUES (%s, %s, %s, %s, '会计', NULL, true, %s, %s)",
                (i, i, i, json.dumps(["finance"]), now, now),
            )
            ids.append(i)
            finance[i] = i
        for t in ("tenants", "users", "memberships"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))")
        conn.commit()
    app = make_app(dsn, tmp, dsn.superuser)
    from crm.books.services import set_up_books
    from crm.db import db
    from tenants.context import tenant_context
    from tenants.models import Membership, Tenant

    with app.app_context():
        for t in ids:
            with tenant_context(t):
                set_up_books(db.session.get(Tenant, t), db.session.get(Membership, finance[t]), "small",
                             date(2025, 1, 1))  # fmt: skip
                db.session.commit()
        db.engine.dispose()
    with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
        for role, names in SUBS.items():
            for n, sub in enumerate(names, start=1):
                conn.execute(
                    "INSERT INTO accounts (tenant_id, code, name_zh, name_en, type, normal_balance, parent_id, role, "
                    "is_cash, is_active, created_at, updated_at) "
                    "SELECT tenant_id, code || %s, %s, %s, type, normal_balance, id, NULL, is_cash, true, "
                    "created_at, updated_at FROM accounts WHERE role = %s",
                    (f"{n:02d}", sub, f"{role} {n}", role),
                )
        conn.commit()
    return ids, finance


def leaf_accounts(dsn: common.Dsn) -> dict[int, dict[str, list[int]]]:
    """Per tenant: leaf account ids by group (cash, receivable, payable, revenue, expense, other)."""
    out: dict[int, dict[str, list[int]]] = {}
    with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
        rows = conn.execute(
            "SELECT a.tenant_id, a.id, a.type, coalesce(a.role, p.role, ''), a.is_cash FROM accounts a "
            "LEFT JOIN accounts p ON p.id = a.parent_id "
            "WHERE NOT EXISTS (SELECT 1 FROM accounts c WHERE c.parent_id = a.id)"
        ).fetchall()
    for tenant_id, aid, typ, role, is_cash in rows:
        g = out.setdefault(tenant_id, {})
        if is_cash:
            key = "cash"
        elif role in ("receivable", "payable", "revenue"):
            key = role
        elif typ == "expense":
            key = "expense"
        else:
            key = "other"
        g.setdefault(key, []).append(aid)
    return out


def load_lines(dsn: common.Dsn, tenants: list[int], finance: dict[int, int], big_lines: int, small_lines: int) -> int:
    """Posted entries of 2–6 balanced lines over 2025-2026, COPYed; returns the number of lines."""
    rng = random.Random(20261128)
    accounts = leaf_accounts(dsn)
    start = date(2025, 1, 1)
    days = (date(2026, 12, 31) - start).days + 1
    now = datetime.now(UTC).replace(microsecond=0)
    entry_id = line_id = 0
    total_lines = 0
    with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
        conn.execute("SET session_replication_role = replica")
        ecols = ["id", "tenant_id", "number", "entry_date", "memo", "status", "kind", "total", "created_by_id",
                 "posted_by_id", "posted_at", "created_at", "updated_at"]  # fmt: skip
        lcols = "id tenant_id entry_id position account_id debit credit party_type party_id memo entry_date posted"
        for t in tenants:
            want = big_lines if t == tenants[0] else small_lines
            acc = accounts[t]
            pool = [a for k in ("other", "expense", "revenue") for a in acc.get(k, [])]
            entries: list[tuple[Any, ...]] = []
            lines: list[tuple[Any, ...]] = []
            made = seq = 0
            while made < want:
                entry_id += 1
                seq += 1
                when = start + timedelta(days=rng.randrange(days))
                k = rng.randint(2, 6)
                amounts = [rng.randint(100, 5_000_000) for _ in range(k - 1)]  # fen
                total = sum(amounts)
                memo = rng.choice(MEMOS)
                # first line: the other side (one account), then k-1 lines on the debit side
                debit_side = rng.random() < 0.5
                counter = rng.choice(acc.get("cash", pool) if rng.random() < 0.6 else acc.get("receivable", pool))
                party = ("customer", rng.randint(1, 500)) if counter in acc.get("receivable", []) else (None, None)
                line_id += 1
                lines.append((line_id, t, entry_id, 0, counter, total if debit_side else 0, 0 if debit_side else total,
                              party[0], party[1], None, when, True))  # fmt: skip
                for pos, amount in enumerate(amounts, start=1):
                    line_id += 1
                    a = rng.choice(pool)
                    lines.append((line_id, t, entry_id, pos, a, 0 if debit_side else amount,
                                  amount if debit_side else 0, None, None, f"{memo} {pos}", when, True))  # fmt: skip
                entries.append((entry_id, t, f"记-{seq:07d}", when, memo, "posted", "manual", total, finance[t],
                                finance[t], now, now, now))  # fmt: skip
                made += k
            with conn.cursor().copy(f"COPY journal_entries ({', '.join(ecols)}) FROM STDIN") as copy:
                for row in entries:
                    copy.write_row(row)
            with conn.cursor().copy(f"COPY journal_lines ({lcols.replace(' ', ', ')}) FROM STDIN") as copy:
                for row in lines:
                    copy.write_row(row)
            total_lines += len(lines)
        for t in ("journal_entries", "journal_lines"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))")
        conn.execute("SET session_replication_role = origin")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return total_lines


def migrate_heads(dsn: common.Dsn, tmp: Path) -> None:
    """The project's migrations to every head (other branches may be open until their merge)."""
    env = {**os.environ, "DATABASE_URL": dsn.url(APP_ROLE), "MIGRATION_DATABASE_URL": dsn.url(dsn.superuser),
           "APP_DB_ROLE": APP_ROLE, "TAIZHANG_INSTANCE": str(tmp), "SECRET_KEY": "bench-only"}  # fmt: skip
    env.pop("REDIS_URL", None)
    cmd = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade", "heads"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"migrations failed: {' '.join(cmd)}")


def remember_data(dsn: common.Dsn, shape: dict[str, int]) -> None:
    """Record what was generated, so a --reuse run can tell whether the kept database fits."""
    with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_finance_meta (shape jsonb NOT NULL)")
        conn.execute("DELETE FROM bench_finance_meta")
        conn.execute("INSERT INTO bench_finance_meta (shape) VALUES (%s)", (json.dumps(shape),))


def existing_data(dsn: common.Dsn) -> dict[str, Any] | None:
    """What a kept database holds (None when there is none or it was not finished)."""
    try:
        conn = psycopg.connect(dsn.libpq(dsn.superuser))
    except psycopg.OperationalError:
        return None
    with conn:
        try:
            shape = conn.execute("SELECT shape FROM bench_finance_meta").fetchone()
        except psycopg.Error:
            return None
        if shape is None:
            return None
        tenants = [r[0] for r in conn.execute("SELECT id FROM tenants ORDER BY id")]
        finance = dict(conn.execute("SELECT tenant_id, min(id) FROM memberships GROUP BY tenant_id").fetchall())
        lines = conn.execute("SELECT count(*) FROM journal_lines").fetchone()[0]  # type: ignore[index]
    return {"shape": shape[0], "tenants": tenants, "finance": finance, "lines": lines}


# --------------------------------------------------------------------------- the app


def make_app(dsn: common.Dsn, tmp: Path, user: str) -> Any:
    os.environ["TAIZHANG_INSTANCE"] = str(tmp)
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.pop("REDIS_URL", None)
    from crm import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": dsn.url(user),
            "REDIS_URL": None,
            "FILES_DIR": tmp / "files",
            "RATELIMIT_STORAGE_URI": "memory://",
            "SECRET_KEY": "bench-only",
        }  # fmt: skip
    )


def in_request(app: Any, tenant_id: int, member_id: int) -> Any:
    """A request context inside the tenant (English), like the job's."""
    from contextlib import ExitStack

    from flask_babel import force_locale

    from crm.db import db
    from tenants.context import tenant_context
    from tenants.models import Membership, Tenant

    stack = ExitStack()
    stack.enter_context(app.test_request_context())
    stack.enter_context(tenant_context(tenant_id))
    stack.enter_context(force_locale("en"))
    tenant = db.session.get(Tenant, tenant_id)
    member = db.session.get(Membership, member_id)
    return stack, tenant, member


def alternate(ours: Any, base: Any, runs: int) -> tuple[float, float, Any]:
    """Median seconds of ``ours`` and of ``base``, run in turns (ours, base, ours, base …) so that
    a change of load on the shared machine falls on both; and ours' last result."""
    t_ours, t_base, out = [], [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = ours()
        t_ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        base()
        t_base.append(time.perf_counter() - t0)
    return statistics.median(t_ours), statistics.median(t_base), out


def bare_xlsx(path: Path, report: Any, cells: list[list[Any]]) -> None:
    """xlsxwriter alone: the same header, cells and formats, constant_memory."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("GL")
    money = wb.add_format({"num_format": "#,##0.00"})
    d = wb.add_format({"num_format": "yyyy-mm-dd"})
    for c, col in enumerate(report.columns):
        ws.write_string(5, c, str(col.label))
    fmts = [money if col.kind == "money" else d if col.kind == "date" else None for col in report.columns]
    r = 5
    for row in cells:
        r += 1
        for c, v in enumerate(row):
            if v is None or v == "":
                continue
            if isinstance(v, float | int):
                ws.write_number(r, c, v, fmts[c])
            elif isinstance(v, date):
                ws.write_datetime(r, c, v, fmts[c])
            else:
                ws.write_string(r, c, v)
    wb.close()


def backend_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) a PostgreSQL backend on this machine has used; None if unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def figure_a(
    app: Any, big: int, member: int, tmp: Path, runs: int, cpu: dict[str, list[float]]
) -> tuple[float, float, int]:
    """(a); also fills ``cpu`` with CPU seconds per run: ours (this process and its PostgreSQL
    backend) and the baseline's, a view that the load of other processes on the machine moves much
    less than wall time."""
    from sqlalchemy import text

    from crm.db import db
    from crm.exports.xlsx import excel_number
    from crm.finreports.base import build
    from crm.finreports.export import write_xlsx

    params = {"from": YEAR[0].isoformat(), "to": YEAR[1].isoformat()}
    with app.app_context():
        stack, tenant, m = in_request(app, big, member)
        with stack:
            backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()

            def ours() -> int:
                py0, pg0 = time.process_time(), backend_cpu_s(backend)
                rep = build("general_ledger", tenant, m, dict(params))
                n = write_xlsx(rep, tmp / "ours.xlsx", company=tenant.name, printed_by="bench", printed_at="now")
                pg1 = backend_cpu_s(backend)
                cpu["ours_py"].append(time.process_time() - py0)
                cpu["ours_pg"].append(pg1 - pg0 if pg0 is not None and pg1 is not None else float("nan"))
                return n

            def bare() -> None:
                py0 = time.process_time()
                bare_xlsx(tmp / "bare.xlsx", rep, cells)
                cpu["bare"].append(time.process_time() - py0)

            rep = build("general_ledger", tenant, m, dict(params))
            marker = rep.section_marker
            cells = []
            for row in rep.rows:
                vals = list(row[:-1]) if marker is not None and row and row[-1] == marker else list(row)
                cells.append([excel_number(v) if hasattr(v, "quantize") else v for v in vals])
            ours_s, bare_s, n = alternate(ours, bare, runs)
    return ours_s, bare_s, n


def peak_kb() -> int:
    """This process's peak RSS: VmHWM (reset at exec). ru_maxrss is not: Linux carries the
    parent's peak into a forked child and keeps it across exec, so it would show the parent's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_export(args: argparse.Namespace) -> int:
    """Run in a fresh process: one general-ledger xlsx export; prints rows and ru_maxrss."""
    dsn = common.Dsn(args.host, args.port, args.superuser)
    tmp = Path(tempfile.mkdtemp(prefix="tz-bench-fin-child-"))
    app = make_app(dsn, tmp, APP_ROLE)
    from crm.finreports.base import build
    from crm.finreports.export import write_xlsx

    frm, to = args.child_export.split(",")
    with app.app_context():
        stack, tenant, m = in_request(app, 1, 1)
        with stack:
            rep = build("general_ledger", tenant, m, {"from": frm, "to": to})
            before = peak_kb()
            n = write_xlsx(rep, tmp / "gl.xlsx", company=tenant.name, printed_by="bench", printed_at="now")
    peak = peak_kb()
    print(json.dumps({"rows": n, "before_kb": before, "peak_kb": peak}))
    return 0


def figure_b(args: argparse.Namespace, small_to: str) -> list[dict[str, Any]]:
    out = []
    for frm, to in (("2025-01-01", small_to), ("2025-01-01", "2026-12-31")):
        cmd = [sys.executable, __file__, "--child-export", f"{frm},{to}", "--database", DB_NAME,
               "--host", args.host, "--port", str(args.port), "--superuser", args.superuser]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)  # noqa: S603
        if done.returncode != 0:
            sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
            raise SystemExit("the export subprocess failed")
        out.append(json.loads(done.stdout.strip().splitlines()[-1]) | {"range": f"{frm}..{to}"})
    return out


def figure_c(
    app: Any, dsn: common.Dsn, big: int, member: int, runs: int, statements: list[str]
) -> tuple[float, float, int]:
    """The trial balance through the builder vs the SQL it sent, replayed with psycopg as the app
    role (the tenant set as the app sets it); runs in turns, median of ``runs`` each, each run in a
    transaction of its own."""
    from sqlalchemy import event

    from crm.db import db
    from crm.finreports.base import build

    params = {"from": YEAR[0].isoformat(), "to": YEAR[1].isoformat()}
    captured: list[tuple[str, Any]] = []

    def _before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "set_config" not in statement:  # the replay sets the tenant itself
            captured.append((statement, parameters))

    with app.app_context(), psycopg.connect(dsn.libpq(APP_ROLE)) as bare:
        stack, tenant, m = in_request(app, big, member)
        with stack:

            def ours() -> int:
                rep = build("trial_balance", tenant, m, dict(params))
                n = len(list(rep.rows))
                # End the transaction as a request does (the pool's reset rolls back), as the replay
                # does: psycopg prepares a statement on its 5th execution in a connection and drops it
                # at rollback, so in one long transaction runs 11+ would use PostgreSQL's generic
                # plan (2× slower here), which no request ever gets.
                db.session.rollback()
                return n

            ours()  # warm
            event.listen(db.engine, "before_cursor_execute", _before)
            ours()
            event.remove(db.engine, "before_cursor_execute", _before)
            statements.extend(sql for sql, _p in captured)

            def replay() -> None:
                with bare.cursor() as cur:
                    cur.execute("SELECT set_config('app.tenant_id', %s, true)", (str(big),))
                    for sql, p in captured:
                        cur.execute(sql, p)
                        cur.fetchall() if cur.description else None
                bare.rollback()

            replay()  # warm
            ours_s, bare_s, n = alternate(ours, replay, runs)
    return ours_s, bare_s, n


def figure_d(app: Any, big: int, member: int, lines: int, runs: int) -> tuple[float, float, int, int]:
    from flask import render_template
    from weasyprint import HTML

    from crm.exports.pdf import static_only_fetcher
    from crm.finreports.base import Report, build
    from crm.finreports.export import PdfGeometry, write_pdf

    with app.app_context():
        stack, tenant, m = in_request(app, big, member)
        with stack:
            rep = build("general_ledger", tenant, m, {"from": YEAR[0].isoformat(), "to": YEAR[1].isoformat()})
            rows = [list(r) for r in islice(rep.rows, lines)]

            def ours() -> bytes:
                r = Report(rep.key, rep.title, rep.subtitle, rep.columns, iter(rows), section_marker=rep.section_marker)
                return write_pdf(r, company=tenant.name, printed_by="bench", printed_at="2026-11-28 00:00")

            # the same HTML as one document: every page, rendered and written by WeasyPrint alone
            from crm.finreports.export import _pdf_cell

            geo = PdfGeometry(landscape=len(rep.columns) > 6)
            kinds = [c.kind for c in rep.columns]
            table = []
            for r in rows:
                if rep.section_marker is not None and r and r[-1] == rep.section_marker:
                    table.append(("section", [_pdf_cell(k, v) for k, v in zip(kinds, r[:-1], strict=False)]))
                else:
                    table.append(("row", [_pdf_cell(k, v) for k, v in zip(kinds, r, strict=False)]))
            total = geo.pages_for(len(table))
            pages, pos = [], 0
            for p in range(1, total + 1):
                room = geo.lines_first_page if p == 1 else geo.lines_per_page
                pages.append({"number": p, "label": f"Page {p} of {total}", "lines": table[pos : pos + room]})
                pos += room
            width = sum(c.width for c in rep.columns)
            html = render_template(
                "finreports/pdf.html", pages=pages, report=rep, title=str(rep.title), subtitle=rep.subtitle,
                company=tenant.name, geo=geo, total_pages=total, printed="Printed by bench at 2026-11-28 00:00",
                columns=[{"label": str(c.label), "kind": c.kind, "pct": round(100 * c.width / width, 3)}
                         for c in rep.columns],
            )  # fmt: skip
            root = Path(app.static_folder or "").resolve()

            def bare() -> bytes:
                return HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=static_only_fetcher()).write_pdf()

            ours_s, bare_s, _data = alternate(ours, bare, runs)
    return ours_s, bare_s, len(rows), total


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    parser.add_argument("--superuser", default="postgres")
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 1,000,000 lines in the big workspace")
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of (a), in turns with its baseline")
    parser.add_argument("--pdf-runs", type=int, default=1, help="timed runs of (d), in turns with its baseline")
    parser.add_argument("--tb-runs", type=int, default=20, help="timed runs of (c), in turns with its baseline")
    parser.add_argument("--pdf-lines", type=int, default=None, help="lines of the (d) PDF (10,000 × scale)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true",
        help="use the database of an earlier --keep run when it holds the same data (implies --keep)",
    )  # fmt: skip
    parser.add_argument("--database", default=DB_NAME)
    parser.add_argument("--figures", default="abcd", help="which figures to measure, e.g. 'b' (default abcd)")
    parser.add_argument("--child-export", help=argparse.SUPPRESS)
    args = parser.parse_args()
    set_names(args.database)
    if args.child_export:
        return child_export(args)
    dsn = common.Dsn(args.host, args.port, args.superuser)
    big_lines = int(1_000_000 * args.scale)
    small_lines = int(5_000 * min(1.0, args.scale * 4))
    pdf_lines = args.pdf_lines or max(200, int(10_000 * min(1.0, args.scale * 4)))
    with tempfile.TemporaryDirectory(prefix="taizhang-bench-finance-") as tmpdir:
        tmp = Path(tmpdir)
        started = time.perf_counter()
        kept = existing_data(dsn) if args.reuse else None
        want_data = {"tenants": args.tenants, "big_lines": big_lines, "small_lines": small_lines}
        if kept is not None and kept["shape"] == want_data:
            args.keep = True
            tenants, finance, lines = kept["tenants"], kept["finance"], kept["lines"]
            log(f"reusing {DB_NAME} (kept by an earlier run): {lines:,} lines")
        else:
            if args.reuse:
                log(f"{DB_NAME} is missing or holds other data: building it")
                args.keep = True
            log(f"creating {DB_NAME} and role {APP_ROLE}")
            common.create_database(dsn)
        try:
            if kept is None or kept["shape"] != want_data:
                log("migrating (flask db upgrade heads, as the superuser)")
                migrate_heads(dsn, tmp)
                t0 = time.perf_counter()
                tenants, finance = seed(dsn, tmp, args.tenants)
                log(f"{len(tenants)} workspaces with books set up; loading journal lines with COPY")
                lines = load_lines(dsn, tenants, finance, big_lines, small_lines)
                remember_data(dsn, want_data)
                log(f"loaded {lines:,} lines in {time.perf_counter() - t0:.0f} s")
            with psycopg.connect(dsn.libpq(dsn.superuser)) as conn:
                version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
                n_acc = conn.execute("SELECT count(*) FROM accounts WHERE tenant_id = 1").fetchone()[0]  # type: ignore[index]
                big_year = conn.execute(
                    "SELECT count(*) FROM journal_lines WHERE tenant_id = 1 AND entry_date BETWEEN %s AND %s",
                    YEAR,
                ).fetchone()[0]  # type: ignore[index]
                # the date where the big workspace reaches a tenth of its lines: the small run of (b)
                small_to = conn.execute(
                    "SELECT entry_date FROM journal_lines WHERE tenant_id = 1 ORDER BY entry_date OFFSET %s LIMIT 1",
                    (big_lines // 10,),
                ).fetchone()[0]  # type: ignore[index]
            app = make_app(dsn, tmp, APP_ROLE)
            want = set(args.figures)
            if "a" in want:
                log("(a) general-ledger xlsx, one year")
                cpu: dict[str, list[float]] = {"ours_py": [], "ours_pg": [], "bare": []}
                a = figure_a(app, 1, finance[1], tmp, args.runs, cpu)
            if "b" in want:
                log("(b) peak memory of the export, in subprocesses")
                b = figure_b(args, small_to.isoformat())
            if "c" in want:
                log("(c) trial balance")
                tb_sql: list[str] = []
                c = figure_c(app, dsn, 1, finance[1], args.tb_runs, tb_sql)
            if "d" in want:
                log(f"(d) PDF of {pdf_lines:,} ledger lines")
                d = figure_d(app, 1, finance[1], pdf_lines, args.pdf_runs)
            print()
            print(f"PostgreSQL {version}; {len(tenants)} workspaces, {lines:,} journal lines; scale {args.scale}")
            print(f"big workspace: {big_lines:,} lines, {n_acc} accounts, {big_year:,} lines in {YEAR[0].year}")
            print(f"{'figure':52} {'ours':>12} {'baseline':>12} {'ratio':>7}  goal   met")
            print("-" * 98)

            def line(label: str, ours: float, base: float, goal: float, unit: str = "s") -> None:
                ratio = ours / base if base else float("inf")
                ok = "yes" if ratio <= goal else "NO"
                print(f"{label:52} {ours:>10.2f} {unit} {base:>10.2f} {unit} {ratio:>6.2f}x  {goal:.1f}x  {ok}")

            if "a" in want:
                line(f"(a) GL xlsx {a[2]:,} rows vs xlsxwriter alone", a[0], a[1], 1.5)
                py, pg, bare_cpu = (statistics.median(cpu[k]) for k in ("ours_py", "ours_pg", "bare"))
                print(f"    CPU (median): ours {py + pg:.2f} s = Python {py:.2f} s + its PostgreSQL backend "
                      f"{pg:.2f} s; xlsxwriter alone {bare_cpu:.2f} s; ratio {(py + pg) / bare_cpu:.2f}x")  # fmt: skip
            if "b" in want:
                small, large = b
                line(f"(b) peak RSS GL xlsx {large['rows']:,} vs {small['rows']:,} rows", large["peak_kb"] / 1024,
                     small["peak_kb"] / 1024, 1.2, "MB")  # fmt: skip
                grow_small = (small["peak_kb"] - small["before_kb"]) / 1024
                grow_large = (large["peak_kb"] - large["before_kb"]) / 1024
                print(f"    peak before writing (app + builder's first queries): {small['before_kb'] / 1024:.0f} MB / "
                      f"{large['before_kb'] / 1024:.0f} MB; growth: {grow_small:.0f}/{grow_large:.0f} MB")  # fmt: skip
            if "c" in want:
                label = f"(c) trial balance {c[2]} rows vs its bare SQL (median of {args.tb_runs})"
                line(label, c[0] * 1000, c[1] * 1000, 1.5, "ms")
                print(f"    statements sent by a run (the bare replay runs the same): {len(tb_sql)}")
                for sql in tb_sql:
                    print(f"      {' '.join(sql.split())[:90]}")
            if "d" in want:
                line(f"(d) GL PDF {d[2]:,} lines, {d[3]} pages vs WeasyPrint alone", d[0], d[1], 1.3)
            log(f"done in {time.perf_counter() - started:.0f} s")
        finally:
            if not args.keep:
                common.drop_database(dsn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
