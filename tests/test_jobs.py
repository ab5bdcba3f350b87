"""Jobs: recorded and committed before they are queued, run once, retried on transient
errors, failing with words a person understands, results only for those who may see them."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from crm.db import db
from tenants.context import TenantContextMissing
from tenants.models import Membership
from tests import factories
from tests.conftest import REDIS_URL, USE_PG
from tests.helpers import bearer, in_tenant, login, post, text_of
from workers.models import JobRecord

ROOT = Path(__file__).resolve().parent.parent


def _job(app, tenant_id, job_id) -> JobRecord:
    with in_tenant(app, tenant_id):
        job = db.session.get(JobRecord, job_id)
        db.session.expunge(job)
        return job


def _queued_job(app, member: factories.MemberInfo, params=None) -> int:
    with in_tenant(app, member.tenant_id):
        job = JobRecord(kind="members_export", params=params or {"format": "xlsx"}, requested_by_id=member.id)
        db.session.add(job)
        db.session.commit()
        return job.id


# ---------------------------------------------------------------- submitting


class FakeRedis:
    def ping(self):
        return True


def test_record_is_committed_before_the_job_is_queued(make_app, tenant_a, token_for, raw_rows, monkeypatch):
    app = make_app(REDIS_URL="redis://fake.invalid:6379/0", JOBS_INLINE=False)
    seen = {}

    class FakeQueue:
        def enqueue(self, fn, *args, **kw):
            tenant_id, record_id = args
            # What another process (the worker) would see right now.
            seen["rows"] = raw_rows("job_records", "id = :i", {"i": record_id})
            seen["call"] = (fn, tenant_id, record_id, kw["job_id"])

            class J:
                id = kw["job_id"]

            return J()

    monkeypatch.setattr("workers.queue.redis_connection", lambda: FakeRedis())
    monkeypatch.setattr("workers.queue.queue", lambda name="default": FakeQueue())
    client = app.test_client()
    r = client.post("/api/v1/exports", json={"kind": "members"}, headers=bearer(token_for(tenant_a["owner"])))
    assert r.status_code == 202
    body = r.get_json()
    assert body["status"] == "queued"
    assert len(seen["rows"]) == 1 and seen["rows"][0]["status"] == "queued"
    assert seen["call"] == ("workers.runner.run_job", tenant_a.id, body["id"], f"tz-{tenant_a.id}-{body['id']}")
    assert raw_rows("job_records")[0]["rq_job_id"] == f"tz-{tenant_a.id}-{body['id']}"


def test_redis_down_answers_clearly_and_writes_nothing(make_app, tenant_a, token_for, raw_rows):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", JOBS_INLINE=False)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    r = client.post("/api/v1/exports", json={"kind": "members"}, headers=bearer(token_for(tenant_a["owner"])))
    assert r.status_code == 503
    assert r.is_json and "unavailable" in r.get_json()["message"].lower()
    assert raw_rows("job_records") == []
    login(client, tenant_a["owner"].email)
    r = post(client, f"/w/{tenant_a.slug}/settings/members/export", {"format": "xlsx"}, follow_redirects=True)
    assert r.status_code == 200
    assert "job service is unavailable" in text_of(r)
    assert raw_rows("job_records") == []


# ---------------------------------------------------------------- running


def test_a_job_without_tenant_fails(app, tenant_a):
    from workers.runner import execute

    job_id = _queued_job(app, tenant_a["owner"])
    with pytest.raises(TenantContextMissing):
        execute(app, None, job_id)
    assert _job(app, tenant_a.id, job_id).status == JobRecord.QUEUED


def test_a_job_run_in_the_wrong_tenant_fails(app, tenant_a, tenant_b):
    from workers.runner import execute

    job_id = _queued_job(app, tenant_a["owner"])
    with pytest.raises(TenantContextMissing):
        execute(app, tenant_b.id, job_id)
    assert _job(app, tenant_a.id, job_id).status == JobRecord.QUEUED


def test_job_functions_run_inside_their_tenant(app, tenant_a, tenant_b, monkeypatch):
    from crm.members.services import list_members
    from workers.registry import JOBS
    from workers.runner import execute

    seen = {}

    def job(record, progress):
        seen["emails"] = {m.user.email for m in list_members()}

    monkeypatch.setitem(JOBS, "members_export", job)
    execute(app, tenant_b.id, _queued_job(app, tenant_b["owner"]))
    assert seen["emails"] == {m.email for m in tenant_b.members.values()}


def test_running_the_same_job_twice_does_the_work_once(app, tenant_a, monkeypatch):
    from workers.jobs import members_export as module
    from workers.runner import execute

    writes = []
    real = module.write_result
    monkeypatch.setattr(module, "write_result", lambda *a: writes.append(a) or real(*a))
    job_id = _queued_job(app, tenant_a["owner"])
    assert execute(app, tenant_a.id, job_id) == "finished"
    first = _job(app, tenant_a.id, job_id)
    path = Path(app.config["FILES_DIR"]) / first.result_path
    mtime = path.stat().st_mtime_ns
    # The worker died after finishing but before acknowledging: RQ delivers it again.
    assert execute(app, tenant_a.id, job_id) == "already finished"
    assert len(writes) == 1
    assert path.stat().st_mtime_ns == mtime
    again = _job(app, tenant_a.id, job_id)
    assert (again.status, again.attempts, again.finished_at) == ("finished", 1, first.finished_at)


def test_a_job_interrupted_midway_runs_again(app, tenant_a, monkeypatch):
    """A worker killed while running leaves the record running; the re-delivery completes it."""
    from workers.registry import JOBS
    from workers.runner import execute

    job_id = _queued_job(app, tenant_a["owner"])
    with in_tenant(app, tenant_a.id):
        db.session.get(JobRecord, job_id).status = JobRecord.RUNNING
        db.session.commit()
    assert execute(app, tenant_a.id, job_id) == "finished"
    assert _job(app, tenant_a.id, job_id).attempts == 1
    assert JOBS["members_export"].__name__ == "members_export"


def test_transient_error_is_reraised_for_retry_and_leaves_the_job_queued(app, tenant_a, monkeypatch):
    from workers.registry import JOBS
    from workers.runner import execute

    real = JOBS["members_export"]
    calls = []

    def flaky(record, progress):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        return real(record, progress)

    monkeypatch.setitem(JOBS, "members_export", flaky)
    job_id = _queued_job(app, tenant_a["owner"])
    with pytest.raises(OperationalError):
        execute(app, tenant_a.id, job_id)
    job = _job(app, tenant_a.id, job_id)
    assert (job.status, job.error, job.result_path) == ("queued", "transient", None)
    assert execute(app, tenant_a.id, job_id) == "finished"
    job = _job(app, tenant_a.id, job_id)
    assert (job.status, job.error, job.attempts) == ("finished", None, 2)


def test_unexpected_failure_shows_a_human_message(app, tenant_a, client_as, monkeypatch):
    from workers.registry import JOBS
    from workers.runner import execute

    def broken(record, progress):
        raise ZeroDivisionError("secret internals")

    monkeypatch.setitem(JOBS, "members_export", broken)
    job_id = _queued_job(app, tenant_a["owner"])
    assert execute(app, tenant_a.id, job_id) == "failed"
    job = _job(app, tenant_a.id, job_id)
    assert (job.status, job.error) == ("failed", "internal") and job.finished_at
    c = client_as(tenant_a["owner"])
    page = text_of(c.get(f"/w/{tenant_a.slug}/jobs/{job_id}"))
    assert "Something went wrong while preparing the file" in page
    assert "ZeroDivisionError" not in page and "secret internals" not in page
    api = c.get(f"/api/v1/jobs/{job_id}", headers=bearer(factories_token(app, tenant_a["owner"])))
    assert api.get_json()["status"] == "failed" and "secret" not in (api.get_json()["error"] or "")


def factories_token(app, member):
    with in_tenant(app, member.tenant_id):
        plain = factories.make_token(db.session.get(Membership, member.id))
        db.session.commit()
    return plain


def test_job_failed_message_reaches_the_person(app, tenant_a, client_as):
    from workers.runner import execute

    job_id = _queued_job(app, tenant_a["owner"], params={"format": "docx"})
    assert execute(app, tenant_a.id, job_id) == "failed"
    page = text_of(client_as(tenant_a["owner"]).get(f"/w/{tenant_a.slug}/jobs/{job_id}"))
    assert "unknown format docx" in page


def test_progress_is_visible_while_the_job_runs(app, tenant_a, raw_rows, monkeypatch):
    from workers.registry import JOBS
    from workers.runner import execute

    seen = []

    def slow(record, progress):
        progress(42, "halfway")
        seen.append(raw_rows("job_records", "id = :i", {"i": record.id})[0])
        progress(250)

    monkeypatch.setitem(JOBS, "members_export", slow)
    job_id = _queued_job(app, tenant_a["owner"])
    execute(app, tenant_a.id, job_id)
    assert (seen[0]["status"], seen[0]["progress"], seen[0]["message"]) == ("running", 42, "halfway")
    assert _job(app, tenant_a.id, job_id).progress == 100


# ---------------------------------------------------------------- results and who sees them


def test_export_from_the_members_page_end_to_end(app, tenant_a, client_as):
    c = client_as(tenant_a["admin"])
    r = post(c, f"/w/{tenant_a.slug}/settings/members/export", {"format": "xlsx"})
    assert r.status_code == 302
    job_url = r.headers["Location"]
    assert re.search(rf"/w/{tenant_a.slug}/jobs/\d+$", job_url)
    page = text_of(c.get(job_url))
    m = re.search(r'href="([^"]+/download)"', page)
    assert m, "a finished job links its download"
    fragment = c.get(job_url, headers={"HX-Request": "true"})
    assert "<html" not in text_of(fragment) and 'data-status="finished"' in text_of(fragment)
    r = c.get(m.group(1))
    assert r.status_code == 200 and r.headers["Content-Disposition"].startswith("attachment")
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    names = {row[0] for row in values[1:]}
    assert names == {m.name for m in tenant_a.members.values()}
    rep_row = next(row for row in values if row[0] == "刘洋")
    assert rep_row[4] == "张伟"  # reports to


def test_result_is_served_only_to_those_who_may_see_it(app, world, client_as):
    a = world.tenants["a"]
    with in_tenant(app, a.id):
        job = factories.make_job(db.session.get(Membership, a["finance"].id), content=b"finance's file")
        db.session.commit()
        job_id = job.id
    url = f"/w/{a.slug}/jobs/{job_id}/download"
    assert client_as(a["finance"]).get(url).data == b"finance's file"  # asked for it
    assert client_as(a["admin"]).get(url).status_code == 200  # manages members
    assert client_as(a["sales_manager"]).get(url).status_code == 403  # may export, did not ask
    assert client_as(a["sales"]).get(url).status_code == 403
    b_owner = client_as(world.tenants["b"]["owner"])
    assert b_owner.get(url).status_code == 404
    assert b_owner.get(f"/w/{world.tenants['b'].slug}/jobs/{job_id}/download").status_code == 404
    api = f"/api/v1/jobs/{job_id}/result"
    assert b_owner.get(api, headers=bearer(world.tokens[("b", "owner")])).status_code == 404
    assert b_owner.get(api, headers=bearer(world.tokens[("a", "sales_manager")])).status_code == 403
    assert b_owner.get(api, headers=bearer(world.tokens[("a", "finance")])).status_code == 200


def test_result_path_outside_the_tenant_folder_is_not_served(app, world, client_as):
    a, b = world.tenants["a"], world.tenants["b"]
    b_job = _job(app, b.id, world.job_id["b"])
    with in_tenant(app, a.id):
        job = db.session.get(JobRecord, world.job_id["a"])
        job.result_path = b_job.result_path  # B's file
        db.session.commit()
    c = client_as(a["owner"])
    assert c.get(f"/w/{a.slug}/jobs/{world.job_id['a']}/download").status_code == 404
    with in_tenant(app, a.id):
        db.session.get(JobRecord, world.job_id["a"]).result_path = "../../../../etc/passwd"
        db.session.commit()
    assert c.get(f"/w/{a.slug}/jobs/{world.job_id['a']}/download").status_code == 404


def test_unfinished_job_has_no_download(app, tenant_a, client_as):
    job_id = _queued_job(app, tenant_a["owner"])
    c = client_as(tenant_a["owner"])
    page = text_of(c.get(f"/w/{tenant_a.slug}/jobs/{job_id}"))
    assert 'data-status="queued"' in page and "hx-get" in page
    assert c.get(f"/w/{tenant_a.slug}/jobs/{job_id}/download").status_code == 404


# ---------------------------------------------------------------- PDF and xlsx safety


def test_pdf_export_contains_the_chinese_names(app, tenant_a, client, token_for, tmp_path):
    pdftotext = shutil.which("pdftotext")
    if not pdftotext:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    h = bearer(token_for(tenant_a["owner"]))
    job = client.post(
        "/api/v1/exports", json={"kind": "members", "format": "pdf", "locale": "zh_Hans_CN"}, headers=h
    ).get_json()
    status = client.get(f"/api/v1/jobs/{job['id']}", headers=h).get_json()
    assert status["status"] == "finished", status
    r = client.get(status["result_url"], headers=h)
    assert r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    pdf = tmp_path / "members.pdf"
    pdf.write_bytes(r.data)
    out = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [pdftotext, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    squashed = re.sub(r"\s+", "", out)
    for m in tenant_a.members.values():
        assert m.name in squashed, f"{m.name} missing from the PDF text:\n{out}"
    assert tenant_a.name in squashed


def test_pdf_fetcher_refuses_anything_outside_static(app):
    from crm.exports.pdf import ForbiddenFetch, static_only_fetcher

    with app.app_context():
        fetcher = static_only_fetcher()
        for url in (
            "http://example.com/x.png",
            "https://example.com/font.woff",
            "file:///etc/passwd",
            "data:text/plain,hi",
        ):
            with pytest.raises(ForbiddenFetch):
                fetcher.fetch(url)
        static = Path(app.static_folder)
        inside = next(p for p in static.rglob("*") if p.is_file())
        with pytest.raises(ForbiddenFetch):
            fetcher.fetch((static / ".." / ".." / "pyproject.toml").resolve().as_uri())
        result = fetcher.fetch(inside.resolve().as_uri())
        assert result is not None


def test_pdf_rendering_does_not_fetch_remote_urls(app, monkeypatch):
    from crm.exports.pdf import ForbiddenFetch, render_pdf

    def no_network(*a, **kw):
        raise AssertionError("the PDF renderer opened a network connection")

    monkeypatch.setattr("socket.create_connection", no_network)
    with app.app_context():
        with pytest.raises(ForbiddenFetch):
            render_pdf('<p>x</p><img src="http://example.com/x.png">')
        assert render_pdf("<p>台账 ledger</p>").startswith(b"%PDF")


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x")'])
def test_xlsx_formula_injection_is_escaped(value):
    from crm.exports.xlsx import safe_cell, write_table

    assert safe_cell(value) == "'" + value
    data = write_table("T", ["a"], [[value]])
    cell = openpyxl.load_workbook(io.BytesIO(data)).active["A2"]
    assert cell.data_type == "s" and cell.value.startswith("'")  # (xlsx stores \r as _x000D_)


def test_xlsx_leaves_harmless_values_alone():
    from decimal import Decimal

    from crm.exports.xlsx import safe_cell, write_table

    for v in ("王建国", "a=b", "", 5, Decimal("1.50"), None):
        assert safe_cell(v) == v
    data = write_table("成员", ["名称", "金额"], [["王建国", Decimal("12.30")], ["李", 3]])
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws.title == "成员" and ws["A2"].value == "王建国" and ws["B2"].value == 12.3


def test_member_names_with_formulas_are_exported_as_text(app, tenant_a, client, token_for):
    with in_tenant(app, tenant_a.id):
        factories.add_member(tenant_a, "sales", "evil@alpha.example.com", '=HYPERLINK("http://evil","x")')
        db.session.commit()
    h = bearer(token_for(tenant_a["owner"]))
    job = client.post("/api/v1/exports", json={"kind": "members"}, headers=h).get_json()
    data = client.get(f"/api/v1/jobs/{job['id']}/result", headers=h).data
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert '\'=HYPERLINK("http://evil","x")' in [c.value for c in ws["A"]]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


# ---------------------------------------------------------------- through Redis and RQ


@pytest.fixture
def redis_app(make_app):
    from redis import Redis

    conn = Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield make_app(REDIS_URL=REDIS_URL, JOBS_INLINE=False)
    conn.flushdb()
    conn.close()


@pytest.mark.redis
def test_job_goes_through_rq(redis_app, tenant_a, token_for, monkeypatch):
    from rq import Queue, SimpleWorker

    import workers.runner

    client = redis_app.test_client()
    h = bearer(token_for(tenant_a["owner"]))
    job = client.post("/api/v1/exports", json={"kind": "members"}, headers=h).get_json()
    assert job["status"] == "queued"
    with redis_app.app_context():
        from workers.queue import redis_connection

        conn = redis_connection()
        q = Queue("default", connection=conn)
        assert f"tz-{tenant_a.id}-{job['id']}" in q.job_ids
        monkeypatch.setattr(workers.runner, "_app", redis_app)
        SimpleWorker([q], connection=conn).work(burst=True)
    status = client.get(f"/api/v1/jobs/{job['id']}", headers=h).get_json()
    assert status["status"] == "finished", status
    assert client.get(status["result_url"], headers=h).status_code == 200


@pytest.mark.redis
def test_real_worker_process_runs_the_export(redis_app, tenant_a, token_for, tmp_path):
    client = redis_app.test_client()
    h = bearer(token_for(tenant_a["finance"]))
    job = client.post("/api/v1/exports", json={"kind": "members", "format": "xlsx"}, headers=h).get_json()
    assert job["status"] == "queued"
    env = {
        **os.environ,
        "DATABASE_URL": redis_app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": REDIS_URL,
        "TAIZHANG_FILES": str(redis_app.config["FILES_DIR"]),
        "TAIZHANG_INSTANCE": str(tmp_path / "worker-instance"),
        "SECRET_KEY": "test-secret-key",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    env.pop("MIGRATION_DATABASE_URL", None)
    flask = Path(sys.executable).with_name("flask")
    proc = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [str(flask), "--app", "wsgi", "worker", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    deadline = time.monotonic() + 30
    while True:
        status = client.get(f"/api/v1/jobs/{job['id']}", headers=h).get_json()
        if status["status"] in ("finished", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status["status"] == "finished", (status, proc.stderr[-3000:])
    r = client.get(status["result_url"], headers=h)
    assert r.status_code == 200
    names = {c.value for c in openpyxl.load_workbook(io.BytesIO(r.data)).active["A"]}
    assert {m.name for m in tenant_a.members.values()} <= names
    if USE_PG:
        assert "postgres" in env["DATABASE_URL"]


@pytest.mark.parametrize(("accept", "locale"), [("en", "en"), ("zh-CN", "zh_Hans_CN")])
def test_export_speaks_the_language_of_the_person_who_asked(app, tenant_a, client_as, accept, locale):
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale(locale):
        header, active = gettext("Name"), gettext("Active")
    if locale != "en":
        assert header != "Name", "no Chinese translation of 'Name'"
    c = client_as(tenant_a["admin"], accept_language=accept)
    job_url = post(c, f"/w/{tenant_a.slug}/settings/members/export", {"format": "xlsx"}).headers["Location"]
    download = re.search(r'href="([^"]+/download)"', text_of(c.get(job_url))).group(1)
    ws = openpyxl.load_workbook(io.BytesIO(c.get(download).data)).active
    assert ws["A1"].value == header
    assert active in [cell.value for cell in ws["F"]]


@pytest.mark.redis
def test_the_nightly_cron_queues_one_recorded_upkeep_job_per_workspace(redis_app, tenant_a, tenant_b, monkeypatch):
    from rq import Queue, SimpleWorker

    import workers.runner
    from workers.jobs.sales_daily import enqueue_daily_sales
    from workers.models import JobRecord

    monkeypatch.setattr(workers.runner, "_app", redis_app)
    assert enqueue_daily_sales() == 2
    with redis_app.app_context():
        from workers.queue import redis_connection

        q = Queue("default", connection=redis_connection())
        assert len(q.job_ids) == 2
        SimpleWorker([q], connection=redis_connection()).work(burst=True)
        for t in (tenant_a, tenant_b):
            from tenants.context import tenant_context

            with tenant_context(t.id):
                jobs = list(db.session.scalars(select(JobRecord).where(JobRecord.kind == "sales_daily")))
                assert [(j.status, j.tenant_id) for j in jobs] == [("finished", t.id)]
