"""Finance report exports: the xlsx and PDF writers, the report_export job, its page and API door."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import openpyxl
import pytest
from flask_babel import force_locale

from crm.finreports import base
from crm.finreports.base import Column, Report
from crm.finreports.export import PdfGeometry, write_pdf, write_xlsx
from crm.sales.services import InvalidInput
from tests import finreports_factories as ff
from tests.helpers import bearer, post

D = Decimal
TEST_KEY = "h5_test_report"
SECTION = "§section"

COLUMNS = [
    Column("date", "日期", "date", 11),
    Column("number", "凭证号", "text", 10),
    Column("memo", "摘要", "text", 30),
    Column("party", "往来单位", "text", 16),
    Column("qty", "笔数", "int", 6),
    Column("debit", "借方", "money", 14),
    Column("credit", "贷方", "money", 14),
    Column("balance", "余额", "money", 14),
]


def sample_rows(n: int, consumed: list[int] | None = None) -> Iterator[list[Any]]:
    """A one-shot generator: a section heading every 40 rows, dangerous text in the memos."""
    memos = ["=SUM(A1:A9)", "+86 138", "-负数开头", "@everyone", "销售收入 华东贸易"]
    for i in range(n):
        if i % 40 == 0:
            yield [None, "1001", f"1001 库存现金 {i // 40}", "", None, None, None, D("100.00"), SECTION]
        if consumed is not None:
            consumed.append(i)
        yield [date(2026, 3, 1 + i % 28), f"记-{i:05d}", memos[i % len(memos)], "华东贸易有限公司", i,
               D("1234567.89"), D("0.01"), D(i) / 100]  # fmt: skip


def sample_report(n: int = 100, **kw: Any) -> Report:
    return Report(
        key=TEST_KEY,
        title="测试明细账",
        subtitle="2026-03",
        columns=list(COLUMNS),
        rows=sample_rows(n, kw.pop("consumed", None)),
        totals=[["", "", "合计", "", n, D("98765.43"), D("12.34"), None]],
        notes=["合计金额大写：玖万捌仟柒佰陆拾伍元肆角叁分", "=not a formula"],
        section_marker=SECTION,
        row_count=n + -(-n // 40),
        **kw,
    )


@pytest.fixture
def test_builder() -> Iterator[None]:
    """A builder registered under TEST_KEY for the job and page tests: {"rows": N, "period": …}."""

    def build(tenant: Any, actor: Any, params: dict[str, Any]) -> Report:
        try:
            n = int(params.get("rows", "10"))
        except ValueError:
            raise InvalidInput({"rows": "Enter a whole number."}) from None
        if not 0 <= n <= 5000:
            raise InvalidInput({"rows": "Between 0 and 5000."})
        report = sample_report(n)
        report.subtitle = params.get("period", "2026-03")
        report.params = {"rows": n, "period": report.subtitle}
        return report

    base.REPORTS[TEST_KEY] = build
    yield
    base.REPORTS.pop(TEST_KEY, None)


# ---------------------------------------------------------------- xlsx


def test_xlsx_streams_in_constant_memory_with_numbers_formats_and_escapes(app, monkeypatch):
    import xlsxwriter

    seen: dict[str, Any] = {}
    real = xlsxwriter.Workbook

    def spy(target: Any, options: dict[str, Any]) -> Any:
        seen.update(options)
        return real(target, options)

    monkeypatch.setattr("crm.finreports.export.xlsxwriter.Workbook", spy)
    buf = io.BytesIO()
    calls: list[tuple[int, int | None]] = []
    with app.test_request_context():
        n = write_xlsx(sample_report(100), buf, company="阿尔法科技有限公司", printed_by="张三",
                       printed_at=datetime(2026, 3, 31, 18, 5), progress=lambda d, t: calls.append((d, t)))  # fmt: skip
    assert seen.get("constant_memory") is True
    assert n == 103 and calls[-1] == (103, 103)
    ws = openpyxl.load_workbook(buf).active
    assert ws["A1"].value == "测试明细账" and ws["A1"].font.b
    assert ws["A2"].value == "阿尔法科技有限公司" and ws["A3"].value == "2026-03"
    assert "张三" in ws["A4"].value and "2026-03-31 18:05" in ws["A4"].value
    assert [c.value for c in ws[6]] == [str(c.label) for c in COLUMNS]
    assert all(c.font.b for c in ws[6])
    assert ws.freeze_panes == "A7"
    assert ws.auto_filter.ref == "A6:H109"
    assert ws.column_dimensions["C"].width == pytest.approx(30, abs=1)
    # a section heading: bold, marker dropped
    assert ws["C7"].value == "1001 库存现金 0" and ws["C7"].font.b and ws["I7"].value is None
    assert ws["H7"].value == 100 and ws["H7"].number_format == "#,##0.00"
    # a data row: a date, an int, money as numbers with the money format, text escaped
    assert isinstance(ws["A8"].value, datetime) and ws["A8"].value.date() == date(2026, 3, 1)
    assert ws["A8"].number_format == "yyyy-mm-dd"
    assert ws["E9"].value == 1 and ws["E9"].data_type == "n"
    assert ws["F8"].value == 1234567.89 and ws["F8"].data_type == "n" and ws["F8"].number_format == "#,##0.00"
    memos = [ws.cell(row=r, column=3).value for r in range(8, 13)]
    assert memos == ["'=SUM(A1:A9)", "'+86 138", "'-负数开头", "'@everyone", "销售收入 华东贸易"]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    # totals bold with a top border, then the notes (escaped too)
    assert ws["C110"].value == "合计" and ws["C110"].font.b and ws["F110"].border.top.style == "thin"
    assert ws["F110"].value == 98765.43 and ws["F110"].font.b
    assert ws["A112"].value.startswith("合计金额大写") and ws["A113"].value == "'=not a formula"


def test_xlsx_reads_the_rows_once_and_refuses_to_lose_a_cent(app):
    consumed: list[int] = []
    report = sample_report(50, consumed=consumed)
    with app.test_request_context():
        write_xlsx(report, io.BytesIO(), company="c", printed_by="p", printed_at="2026-03-31 10:00")
    assert consumed == list(range(50))
    assert list(report.rows) == []  # the generator is spent: nothing was materialised beforehand
    bad = Report(TEST_KEY, "t", "", [Column("m", "m", "money")], iter([[D("12345678901234567.89")]]))
    with app.test_request_context(), pytest.raises(ValueError, match="cent"):
        write_xlsx(bad, io.BytesIO(), company="c", printed_by="p", printed_at="x")


# ---------------------------------------------------------------- PDF


def pdf_pages(data: bytes, tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    pdftotext = shutil.which("pdftotext")
    if not pdftotext:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    out = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [pdftotext, "-enc", "UTF-8", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    return out.split("\f")[:-1] if out.endswith("\f") else out.split("\f")


def test_pdf_numbering_header_and_chinese_are_right_across_chunks(app, tmp_path):
    geo = PdfGeometry(landscape=True)
    n = 110  # + 3 sections + 1 total + 2 notes = 116 lines
    lines = n + 3 + 1 + 2
    laid_out: list[tuple[int, int]] = []
    with app.test_request_context(), force_locale("en"):
        data = write_pdf(sample_report(n), company="阿尔法科技有限公司", printed_by="张三",
                         printed_at=datetime(2026, 3, 31, 18, 5), chunk_rows=geo.lines_per_page,
                         page_progress=lambda d, t: laid_out.append((d, t)))  # fmt: skip
    pages = pdf_pages(data, tmp_path)
    expected = geo.pages_for(lines)
    assert laid_out == [(i, expected) for i in range(1, expected + 1)]  # one page a chunk here
    assert expected >= 4, "the test must span several chunks"
    assert len(pages) == expected
    for i, text in enumerate(pages, start=1):
        assert f"Page {i} of {expected}" in text, f"page {i}:\n{text}"
        assert "阿尔法科技有限公司 — 测试明细账" in text  # top margin box
        assert "Printed by 张三 at 2026-03-31 18:05" in text  # bottom margin box
        assert "凭证号" in text and "借方" in text, f"header missing on page {i}"
    assert "1,234,567.89" in pages[0] and "华东贸易有限公司" in pages[1]
    assert "合计" in pages[-1] and "玖万捌仟柒佰陆拾伍元肆角叁分" in pages[-1]
    assert "记-00109" in pages[-1]


def test_pdf_of_a_short_report_is_one_document_portrait_when_narrow(app, tmp_path):
    report = Report(TEST_KEY, "余额表", "2026-03", [Column("a", "科目"), Column("b", "余额", "money")],
                    iter([["1001 库存现金", D("-5.5")]]))  # fmt: skip
    with app.test_request_context(), force_locale("en"):
        data = write_pdf(report, company="公司", printed_by="李四", printed_at="2026-03-31 10:00")
    pages = pdf_pages(data, tmp_path)
    assert len(pages) == 1 and "Page 1 of 1" in pages[0] and "-5.50" in pages[0] and "库存现金" in pages[0]


# ---------------------------------------------------------------- the job, from the page


def test_page_export_runs_the_job_and_downloads_with_an_rfc5987_name(app, tenant_a, client_as, test_builder):
    c = client_as(tenant_a["finance"])
    url = f"/w/{tenant_a.slug}/finance/reports/{TEST_KEY}/export"
    r = post(c, url, {"format": "xlsx", "rows": "30", "period": "2026-03"})
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-status="finished"' in page
    r = c.get(r.headers["Location"] + "/download")
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    cd = r.headers["Content-Disposition"]
    assert cd.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('测试明细账-2026-03.xlsx')}" in cd, cd
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    assert ws["A2"].value == tenant_a.name and ws["A4"].value.find(tenant_a["finance"].name) >= 0
    assert ws.max_row == 6 + 30 + 1 + 1 + 1 + 2  # header, rows, a section, totals, gap, notes


def test_page_export_pdf(app, tenant_a, client_as, test_builder, tmp_path):
    c = client_as(tenant_a["finance"])
    r = post(c, f"/w/{tenant_a.slug}/finance/reports/{TEST_KEY}/export", {"format": "pdf", "rows": "5"})
    assert r.status_code == 302
    r = c.get(r.headers["Location"] + "/download")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "测试明细账" in "".join(pdf_pages(r.data, tmp_path))


def test_page_export_refuses_bad_params_without_a_job(app, tenant_a, client_as, test_builder, raw_rows):
    c = client_as(tenant_a["finance"])
    url = f"/w/{tenant_a.slug}/finance/reports/{TEST_KEY}/export"
    r = post(c, url, {"format": "xlsx", "rows": "many"})
    assert r.status_code == 400 and "Enter a whole number." in r.get_data(as_text=True)
    assert post(c, url, {"format": "docx"}).status_code == 400
    assert post(c, f"/w/{tenant_a.slug}/finance/reports/nope/export", {"format": "pdf"}).status_code == 400
    assert raw_rows("job_records") == []


def test_sales_may_not_export_reports(app, tenant_a, client_as, test_builder, raw_rows):
    for role in ("sales", "sales_manager"):
        c = client_as(tenant_a[role])
        url = f"/w/{tenant_a.slug}/finance/reports/{TEST_KEY}/export"
        assert post(c, url, {"format": "xlsx"}).status_code == 403
    assert raw_rows("job_records") == []


def test_redis_down_is_flashed_and_starts_nothing(make_app, tenant_a, test_builder, raw_rows):
    from tests.helpers import login

    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", JOBS_INLINE=False)
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(c, tenant_a["finance"].email, tenant_a["finance"].password)
    r = post(c, f"/w/{tenant_a.slug}/finance/reports/{TEST_KEY}/export", {"format": "xlsx"},
             headers={"Referer": f"/w/{tenant_a.slug}/finance/reports/"})  # fmt: skip
    assert r.status_code == 302 and r.headers["Location"].endswith("/finance/reports/")
    assert raw_rows("job_records") == []


def test_report_page_carries_the_export_buttons(app, tenant_a, client_as):
    ff.set_up(app, tenant_a)
    c = client_as(tenant_a["finance"])
    html = c.get(f"/w/{tenant_a.slug}/finance/reports/trial-balance?period=2026-03").get_data(as_text=True)
    form = html[html.index('data-testid="report-export"') - 200 :]
    form = form[: form.index("</form>")]
    assert f"/w/{tenant_a.slug}/finance/reports/trial_balance/export" in form
    assert 'name="csrf_token"' in form and 'name="period" value="2026-03"' in form
    assert 'value="xlsx"' in form and 'value="pdf"' in form


# ---------------------------------------------------------------- the API door


def test_api_starts_a_report_export(app, client, tenant_a, token_for, test_builder):
    h = bearer(token_for(tenant_a["finance"]))
    r = client.post("/api/v1/exports", json={"report": TEST_KEY, "format": "xlsx", "params": {"rows": "3"}}, headers=h)
    assert r.status_code == 202, r.get_data(as_text=True)
    job = r.get_json()
    assert job["kind"] == "report_export"
    status = client.get(f"/api/v1/jobs/{job['id']}", headers=h).get_json()
    assert status["status"] == "finished" and status["result_name"] == "测试明细账-2026-03.xlsx"
    r = client.get(status["result_url"], headers=h)
    assert r.status_code == 200 and "filename*=UTF-8''" in r.headers["Content-Disposition"]


def test_api_names_the_bad_field(app, client, tenant_a, token_for, test_builder, raw_rows):
    h = bearer(token_for(tenant_a["finance"]))
    cases = [
        ({"report": "nope"}, "report"),
        ({"report": TEST_KEY, "format": "docx"}, "format"),
        ({"report": TEST_KEY, "params": {"rows": "x"}}, "params.rows"),
        ({"report": TEST_KEY, "params": "rows=3"}, "params"),
        ({"report": TEST_KEY, "kind": "members"}, "report"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/exports", json=body, headers=h)
        assert r.status_code == 422, (body, r.get_data(as_text=True))
        assert field in r.get_json()["errors"]["json"], (body, r.get_json())
    assert raw_rows("job_records") == []


def test_api_report_export_needs_finance_access(app, client, tenant_a, token_for, test_builder, raw_rows):
    body = {"report": TEST_KEY, "format": "pdf"}
    for role in ("sales", "sales_manager"):
        r = client.post("/api/v1/exports", json=body, headers=bearer(token_for(tenant_a[role])))
        assert r.status_code == 403, role
    assert raw_rows("job_records") == []
    # members export still works as before, for those who may
    r = client.post("/api/v1/exports", json={"kind": "members"}, headers=bearer(token_for(tenant_a["owner"])))
    assert r.status_code == 202 and r.get_json()["kind"] == "members_export"


# ---------------------------------------------------------------- real builders, end to end


@pytest.mark.parametrize("key", ["general_ledger", "trial_balance"])
def test_real_report_exports(app, client, tenant_a, token_for, key, tmp_path):
    ff.standard_books(app, tenant_a)
    h = bearer(token_for(tenant_a["finance"]))
    params = {"from": "2026-01-01", "to": "2026-12-31"}
    for fmt in ("xlsx", "pdf"):
        r = client.post("/api/v1/exports", json={"report": key, "format": fmt, "params": params, "locale": "en"},
                        headers=h)  # fmt: skip
        assert r.status_code == 202, r.get_data(as_text=True)
        status = client.get(f"/api/v1/jobs/{r.get_json()['id']}", headers=h).get_json()
        assert status["status"] == "finished", status
        data = client.get(status["result_url"], headers=h).data
        if fmt == "xlsx":
            ws = openpyxl.load_workbook(io.BytesIO(data)).active
            values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
            assert 100000 in values or 100000.0 in values  # the capital paid in, as a number
            assert ws.freeze_panes == "A7"
        else:
            text = re.sub(r"\s+", "", "".join(pdf_pages(data, tmp_path)))
            assert "100,000.00" in text and "Page1of" in text


# ---------------------------------------------------------------- through Redis (PG settings)


@pytest.mark.redis
def test_report_export_goes_through_rq(make_app, tenant_a, token_for, monkeypatch, test_builder):
    from redis import Redis
    from rq import Queue, SimpleWorker

    import workers.runner
    from tests.conftest import REDIS_URL

    conn = Redis.from_url(REDIS_URL)
    conn.flushdb()
    app = make_app(REDIS_URL=REDIS_URL, JOBS_INLINE=False)
    client = app.test_client()
    h = bearer(token_for(tenant_a["finance"]))
    body = {"report": TEST_KEY, "format": "xlsx", "params": {"rows": "20"}}
    job = client.post("/api/v1/exports", json=body, headers=h).get_json()
    assert job["status"] == "queued"
    with app.app_context():
        from workers.queue import redis_connection

        q = Queue("default", connection=redis_connection())
        monkeypatch.setattr(workers.runner, "_app", app)
        SimpleWorker([q], connection=redis_connection()).work(burst=True)
    status = client.get(f"/api/v1/jobs/{job['id']}", headers=h).get_json()
    assert status["status"] == "finished", status
    r = client.get(status["result_url"], headers=h)
    assert r.status_code == 200 and openpyxl.load_workbook(io.BytesIO(r.data)).active["A1"].value == "测试明细账"
    conn.flushdb()
    conn.close()
