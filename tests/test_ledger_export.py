"""Exports of the sales ledger: the xlsx keeps working as a spreadsheet — its summary sheets are
SUMIFS/SUM formulas over the data sheet — which LibreOffice headless proves by recalculating the
file (after a line on the data sheet was changed, so the figures can only come from the
formulas); the PDF is laid out with the lines; both run as a job from the page.

LibreOffice comes from scripts/system-deps.sh (libreoffice-calc-nogui). Without soffice the
LibreOffice tests skip, except in CI, where they must run."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from flask_babel import force_locale

from crm.db import db
from crm.ledger import export, services
from tenants.models import Membership
from tests.area_ledger import build_ledger, url
from tests.helpers import in_tenant, post, text_of

D = Decimal
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(
    SOFFICE is None and not os.environ.get("CI"),
    reason="LibreOffice (soffice) is not installed: run scripts/system-deps.sh (libreoffice-calc-nogui)",
)


@pytest.fixture
def ledger(app, tenant_a, tenant_b):
    return build_ledger(app, tenant_a, tenant_b)


# A LibreOffice profile that recalculates every formula of an xlsx on load, whoever wrote it.
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def write(app, who, what: str, params: dict[str, str], locale: str = "en") -> bytes:
    buf = BytesIO()
    with in_tenant(app, who.tenant_id, who.user_id), app.test_request_context(), force_locale(locale):
        export.write_xlsx(db.session.get(Membership, who.id), what, params, buf)
    return buf.getvalue()


def recalculated(data: bytes, tmp_path: Path, change=None) -> openpyxl.Workbook:
    """The workbook after LibreOffice opened it, recalculated every formula and saved it again.
    ``change(workbook)`` may edit it first (openpyxl keeps the formulas, drops cached values)."""
    assert SOFFICE is not None, "soffice is required in CI"
    src = tmp_path / "in" / "ledger.xlsx"
    src.parent.mkdir()
    if change is not None:
        wb = openpyxl.load_workbook(BytesIO(data))
        change(wb)
        wb.save(src)
    else:
        src.write_bytes(data)
    profile = tmp_path / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS)
    out = tmp_path / "out"
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--convert-to", "xlsx",
         "--outdir", str(out), str(src)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return openpyxl.load_workbook(out / "ledger.xlsx", data_only=True)


def table(ws, header_row: int = 4) -> dict[str, list]:
    """label → the row's values, for a summary sheet (the header is on row 4)."""
    out = {}
    for row in ws.iter_rows(min_row=header_row + 1, values_only=True):
        if row[0] is not None:
            out[str(row[0])] = list(row[1:])
    return out


# ================================================================ the file as written


def test_the_xlsx_holds_the_lines_and_sumifs_formulas_with_their_values(app, ledger):
    data = write(app, ledger.t["owner"], "ledger", {})
    wb = openpyxl.load_workbook(BytesIO(data))
    names = wb.sheetnames
    assert len(names) == 5
    lines = wb[names[0]]
    assert lines.max_row == 6  # the header and five lines
    assert lines["F1"].value and lines["J2"].value == 1000.0  # newest first: o2's line
    assert lines.column_dimensions["R"].hidden  # the line ids, for a round trip
    by_region = wb[names[1]]
    formulas = [c.value for row in by_region.iter_rows(min_row=5) for c in row if isinstance(c.value, str)
                and c.value.startswith("=")]  # fmt: skip
    assert any(f.startswith("=SUMIFS(") for f in formulas) and any(f.startswith("=SUM(") for f in formulas)
    cached = openpyxl.load_workbook(BytesIO(data), data_only=True)
    values = table(cached[names[1]])
    assert values["江苏省"][1] == 2600.0 and values["Total"][1] == 5400.0


def test_text_that_looks_like_a_formula_is_written_as_text(app, ledger):
    with in_tenant(app, ledger.t.id, ledger.t["sales"].user_id):
        from crm.sales.models import Customer

        db.session.get(Customer, ledger.c2).name = '=HYPERLINK("http://x")'
        db.session.commit()
    wb = openpyxl.load_workbook(BytesIO(write(app, ledger.t["owner"], "ledger", {})))
    assert wb[wb.sheetnames[0]]["C2"].value.startswith("'=")


# ================================================================ LibreOffice recalculates it


@needs_soffice
def test_libreoffice_recalculates_the_summary_sheets_to_the_ledgers_figures(app, ledger, tmp_path):
    data = write(app, ledger.t["owner"], "ledger", {})
    names = openpyxl.load_workbook(BytesIO(data)).sheetnames

    def change(wb):  # o2's line (newest first, row 2): 1000.00 → 1234.56 excluding tax
        wb[names[0]]["J2"] = 1234.56

    wb = recalculated(data, tmp_path, change)
    region = table(wb[names[1]])
    assert region["浙江省"][1] == pytest.approx(2034.56)  # 1234.56 + 800 (2025)
    assert region["江苏省"][1] == pytest.approx(2600.0)
    assert region["广东省"][1] == pytest.approx(1000.0)
    assert region["Total"][1] == pytest.approx(5634.56)
    assert region["Total"][0] == pytest.approx(12.0)  # quantity
    month = table(wb[names[4]])
    assert month["2026-03"][1] == pytest.approx(3834.56)
    rep = table(wb[names[2]])
    assert sum(v[1] for k, v in rep.items() if k != "Total") == pytest.approx(5634.56)


@needs_soffice
def test_a_chinese_export_recalculates_the_same_over_its_chinese_sheet_names(app, ledger, tmp_path):
    data = write(app, ledger.t["owner"], "ledger", {}, locale="zh_Hans_CN")
    wb = recalculated(data, tmp_path)
    assert wb.sheetnames == ["台账", "按区域", "按业务员", "按产品", "按月份"]
    assert wb["台账"]["A1"].value == "日期"
    region = table(wb["按区域"])
    assert region["江苏省"][1] == pytest.approx(2600.0)
    assert region["合计"] == [pytest.approx(12.0), pytest.approx(5400.0), pytest.approx(6102.0)]


@needs_soffice
def test_libreoffice_recalculates_a_two_way_pivot_with_its_totals(app, ledger, tmp_path):
    params = {"rows": "customer", "cols": "month", "measure": "amount_incl", "from": "2026-01-01"}
    data = write(app, ledger.t["owner"], "summary", params)
    wb = recalculated(data, tmp_path)
    sheet = wb[wb.sheetnames[1]]
    header = [c.value for c in sheet[4]]
    assert header[1:] == ["2026-02", "2026-03", "Total"]
    rows = table(sheet)
    with in_tenant(app, ledger.t.id, ledger.t["owner"].user_id):
        owner = db.session.get(Membership, ledger.t["owner"].id)
        p = services.summarize(owner, services.parse_filter(params), "customer", "month", "amount_incl")
    assert rows["苏州甲科技有限公司"] == [0, pytest.approx(2938.0), pytest.approx(2938.0)]
    assert rows["Total"][-1] == pytest.approx(float(p.total.amount_incl))
    assert rows["Total"][:2] == [pytest.approx(1130.0), pytest.approx(4068.0)]


@needs_soffice
def test_libreoffice_recalculates_growth_with_a_dash_when_the_earlier_week_is_zero(app, ledger, tmp_path):
    params = {"period": "week", "from": "2026-03-02", "to": "2026-03-15"}
    data = write(app, ledger.t["owner"], "growth", params)
    wb = recalculated(data, tmp_path)
    sheet = wb[wb.sheetnames[1]]
    total = [c.value for c in sheet[5]]
    assert total[1] == pytest.approx(2600.0) and total[2] == "—"
    assert total[3] == pytest.approx(1000.0) and total[4] == pytest.approx(-0.6153846, abs=1e-6)


# ================================================================ as jobs from the page


def test_exports_run_as_jobs_from_the_page_and_bad_parameters_start_nothing(app, ledger, client_as):
    from workers.models import JobRecord

    c = client_as(ledger.t["sales"])
    for fmt in ("xlsx", "pdf"):
        resp = post(c, url(ledger.t, "export"), {"what": "summary", "format": fmt,
                                                  "params": "rows=product&cols=week&from=2026-03-01"})  # fmt: skip
        assert resp.status_code == 302 and "/jobs/" in resp.headers["Location"]
    with in_tenant(app, ledger.t.id):
        jobs = db.session.query(JobRecord).filter_by(kind="ledger_export").order_by(JobRecord.id).all()
        assert [j.status for j in jobs] == [JobRecord.FINISHED, JobRecord.FINISHED], [j.error for j in jobs]
        assert jobs[0].result_name.endswith(".xlsx") and jobs[1].result_name.endswith(".pdf")
        job_ids = [j.id for j in jobs]
    download = c.get(f"/w/{ledger.t.slug}/jobs/{job_ids[1]}/download")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    bad = post(c, url(ledger.t, "export"), {"what": "summary", "format": "xlsx", "params": "rows=colour"})
    assert bad.status_code == 400 and "rows" in text_of(bad)
    with in_tenant(app, ledger.t.id):
        assert db.session.query(JobRecord).filter_by(kind="ledger_export").count() == 2


def test_the_api_starts_an_export_job_and_hands_back_the_file(app, ledger, client, token_for):
    from tests.helpers import ApiClient

    api = ApiClient(client, token_for(ledger.t["sales_manager"]))
    started = api.post("/ledger/export", {"what": "growth", "format": "xlsx", "locale": "en",
                                          "params": {"period": "month", "by": "region"}})  # fmt: skip
    assert started.status_code == 202, started.get_json()
    job = api.get(f"/jobs/{started.get_json()['id']}").get_json()
    assert job["status"] == "finished"
    data = api.get(f"/jobs/{job['id']}/result").data
    assert openpyxl.load_workbook(BytesIO(data)).sheetnames == ["Ledger", "Growth"]
    bad = api.post("/ledger/export", {"what": "summary", "params": {"rows": "colour"}})
    assert bad.status_code == 422 and "params.rows" in bad.get_json()["errors"]["json"]


def test_a_reps_export_holds_only_their_own_lines(app, ledger):
    wb = openpyxl.load_workbook(BytesIO(write(app, ledger.t["sales"], "ledger", {})), data_only=True)
    customers = {row[2] for row in wb[wb.sheetnames[0]].iter_rows(min_row=2, values_only=True)}
    assert customers == {"苏州甲科技有限公司", "杭州乙贸易有限公司"}


def test_the_pdf_of_the_ledger_lists_its_lines(app, ledger):
    from crm.finreports.export import write_pdf

    with in_tenant(app, ledger.t.id, ledger.t["owner"].user_id), app.test_request_context():
        owner = db.session.get(Membership, ledger.t["owner"].id)
        report = export.report_for(owner, "ledger", {"from": "2026-01-01"})
        pdf = write_pdf(report, company="阿尔法", printed_by="owner", printed_at=date(2026, 3, 31).isoformat())
    assert pdf.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "苏州甲科技有限公司" in text and "4,600.00" in text
