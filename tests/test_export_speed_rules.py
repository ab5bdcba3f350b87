"""The shortcuts the xlsx writer takes for speed keep every cell what the plain path writes:
integer fen become the same double as the Decimal, a date the same serial, a cell that would be
a formula is still escaped, and the general ledger's totals are the sums of its lines."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from flask_babel import force_locale
from xlsxwriter.utility import _datetime_to_excel_datetime

from crm.exports.xlsx import excel_number
from crm.finreports.base import Column, Report, build
from crm.finreports.export import EXACT_FEN, excel_serial, fen_number, write_xlsx
from crm.finreports.ledger import SECTION, FenReport, yuan
from tests import finreports_factories as ff
from tests import sales_factories

D = Decimal
CENT = D("0.01")


def _edge_amounts() -> list[int]:
    rng = random.Random(5)
    edges = [0, 1, 5, 10, 99, 100, 101, 12_345, 123_456_789_012, EXACT_FEN - 1, EXACT_FEN - 100, 999_999_999_999_995]
    digits = [rng.randrange(10 ** rng.randint(1, 15)) for _ in range(3000)]
    return [s * n for n in edges + digits for s in (1, -1)]


def test_fen_below_the_limit_become_the_same_double_as_the_decimal_and_read_back_to_the_cent():
    for n in _edge_amounts():
        number = fen_number(n)
        assert number == excel_number(yuan(n)) == float(yuan(n)), n
        assert D(repr(number)).quantize(CENT) == yuan(n), n


def test_fen_at_or_above_the_limit_go_through_the_decimal_check_and_never_lose_a_cent():
    assert fen_number(EXACT_FEN) == 10**13  # exactly representable: written
    with pytest.raises(ValueError, match="cent"):
        fen_number(1_234_567_890_123_456_789)
    with pytest.raises(ValueError, match="cent"):
        fen_number(-1_234_567_890_123_456_789)


def test_yuan_reads_fen_as_the_money_column_does():
    assert str(yuan(12_345)) == "123.45" and str(yuan(100)) == "1.00" and str(yuan(0)) == "0.00"
    assert str(yuan(-5)) == "-0.05"


@pytest.mark.parametrize(
    "day", [date(1900, 1, 1), date(1900, 2, 28), date(1900, 3, 1), date(1999, 12, 31), date(2026, 3, 1),
            date(9999, 12, 31)],
)  # fmt: skip
def test_a_date_serial_is_the_one_xlsxwriter_stores(day):
    assert excel_serial(day) == _datetime_to_excel_datetime(day, False, True)


COLUMNS = [
    Column("date", "日期", "date", 11),
    Column("number", "凭证号", "text", 16),
    Column("memo", "摘要", "text", 30),
    Column("party", "往来单位", "text", 20),
    Column("debit", "借方", "money"),
    Column("credit", "贷方", "money"),
    Column("direction", "方向", "text", 6),
    Column("balance", "余额", "money"),
]
MONEY = (4, 5, 7)


def _fen_rows() -> list[list[Any]]:
    memos = ['=HYPERLINK("http://x")', "+86 138", "-负数开头", "@sum", "\t制表", "销售收入", ""]
    rows: list[list[Any]] = []
    balance = 0
    for i in range(300):
        if i % 50 == 0:
            rows.append([None, "1002", "银行存款", "", None, None, "", None, SECTION])
        debit = random.Random(i).randrange(0, 10**12) if i % 3 else 0
        credit = 0 if debit else i * 101
        balance += debit - credit
        dr = "借" if balance > 0 else "贷" if balance < 0 else "平"
        rows.append([date(2026, 1 + i % 12, 1 + i % 28), f"记-{i:04d}", memos[i % len(memos)], "-华东", debit or None,
                     credit or None, dr, abs(balance)])  # fmt: skip
    rows.append([date(2026, 12, 31), "", "本期合计", "", 0, EXACT_FEN - 1, "贷", 999_999_999_999_995])
    return rows


def _sheet_xml(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("xl/worksheets/sheet1.xml")


def _write(report: Report, app) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    with app.test_request_context():
        write_xlsx(report, buf, company="阿尔法", printed_by="张三", printed_at="2026-03-31 10:00")
    return buf.getvalue()


def test_rows_in_fen_write_byte_for_byte_the_sheet_the_decimal_rows_write(app):
    fen = _fen_rows()
    as_yuan = [[yuan(v) if i in MONEY and v is not None else v for i, v in enumerate(r)] for r in fen]
    totals = [["", "", "合计", "", D("123.45"), D("0.01"), "", None]]
    plain = Report("t", "明细账", "2026", list(COLUMNS), iter(as_yuan), totals=totals, section_marker=SECTION)
    fast = FenReport("t", "明细账", "2026", list(COLUMNS), iter(()), totals=totals, section_marker=SECTION,
                     fen_rows=lambda: iter([list(r) for r in fen]))  # fmt: skip
    assert _sheet_xml(_write(fast, app)) == _sheet_xml(_write(plain, app))
    ws = openpyxl.load_workbook(io.BytesIO(_write(fast, app))).active
    memos = [ws.cell(row=r, column=3).value for r in range(8, 14)]
    assert memos == ['\'=HYPERLINK("http://x")', "'+86 138", "'-负数开头", "'@sum", "'\t制表", "销售收入"]
    assert ws["D8"].value == "'-华东"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert ws["A8"].is_date and ws["A8"].value.date() == date(2026, 1, 1) and ws["A8"].number_format == "yyyy-mm-dd"
    last = ws.max_row - 1  # the row before the totals
    assert ws.cell(row=last, column=6).value == (EXACT_FEN - 1) / 100
    assert ws.cell(row=last, column=6).number_format == "#,##0.00"


def test_a_fen_amount_that_would_lose_a_cent_is_refused(app):
    bad = FenReport("t", "t", "", [Column("m", "m", "money")], iter(()),
                    fen_rows=lambda: iter([[1_234_567_890_123_456_789]]))  # fmt: skip
    with pytest.raises(ValueError, match="cent"):
        _write(bad, app)


@contextmanager
def _books_context(app, t) -> Iterator[tuple[Any, Any]]:  # type: ignore[no-untyped-def]
    from crm.db import db
    from tenants.context import tenant_context
    from tenants.models import Tenant
    from tests import factories

    with app.test_request_context(), force_locale("en"), tenant_context(t.id):
        yield db.session.get(Tenant, t.id), factories.member_row(t["finance"])


def test_general_ledger_xlsx_is_the_decimal_rows_written_with_sums_and_escapes(app, tenant_a):
    ff.standard_books(app, tenant_a)
    risky = sales_factories.customer(app, tenant_a["owner"], "=cmd|' /C calc'!A0")
    c = ("customer", risky)

    def lines() -> list[Any]:  # accounts are looked up inside the workspace
        return [ff.dr("receivable", "1234.56", c, memo="=1+2"), ff.cr("revenue", "1234.56", memo="-退回")]

    ff.post(app, tenant_a, date(2026, 3, 9), "@货款", lines)
    params = {"from": "2026-01-01", "to": "2026-12-31"}
    with _books_context(app, tenant_a) as (tenant, member):
        report = build("general_ledger", tenant, member, dict(params))
        assert isinstance(report, FenReport)
        fast = _write(report, app)
        again = build("general_ledger", tenant, member, dict(params))
        rows = [list(r) for r in again.rows]
        plain = Report(again.key, again.title, again.subtitle, again.columns, iter(rows),
                       section_marker=again.section_marker)  # fmt: skip
        slow = _write(plain, app)
    assert _sheet_xml(fast) == _sheet_xml(slow)

    ws = openpyxl.load_workbook(io.BytesIO(fast)).active
    cells = [[c.value for c in row] for row in ws.iter_rows(min_row=7)]
    texts = {v for row in cells for v in row if isinstance(v, str)}
    assert {"'=1+2", "'-退回", "'=cmd|' /C calc'!A0"} <= texts
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    # every section: its period total is the sum of its lines; closing = opening + debit − credit
    sections, current = [], None
    for row in cells:
        if row[0] is None and row[1]:
            current = {"code": row[1], "lines": []}
            sections.append(current)
        elif current is not None and row[2] == "Opening balance":
            current["opening"] = (row[7] or 0) * (1 if row[6] != "Cr" else -1)
        elif current is not None and row[2] == "Period total":
            current["total"] = (row[4], row[5])
        elif current is not None and row[2] == "Closing balance":
            current["closing"] = (row[7] or 0) * (1 if row[6] != "Cr" else -1)
        elif current is not None and row[1]:
            current["lines"].append((D(str(row[4] or 0)), D(str(row[5] or 0))))
    assert len(sections) >= 5
    for s in sections:
        debit = sum((d for d, _c in s["lines"]), D(0))
        credit = sum((c for _d, c in s["lines"]), D(0))
        assert (D(str(s["total"][0])), D(str(s["total"][1]))) == (debit, credit), s["code"]
        assert D(str(s["closing"])) == D(str(s["opening"])) + debit - credit, s["code"]
    receivable = next(s for s in sections if s["code"] == "1122")
    assert (D("1234.56"), D(0)) in receivable["lines"]


def test_trial_balance_is_one_statement_accounts_and_sums_together(app, tenant_a, count_queries):
    ff.standard_books(app, tenant_a)
    with _books_context(app, tenant_a) as (tenant, member), count_queries() as q:
        report = build("trial_balance", tenant, member, {"period": "2026-02"})
        rows = list(report.rows)
    sent = [s for s in q.statements if "set_config" not in s]
    assert len(sent) == 1 and "GROUP BY" in sent[0].upper() and "accounts" in sent[0]
    by_code = {r[0]: r for r in rows}
    assert by_code["1122"][4] == D("11300")  # 应收账款: period debit of February
    totals = report.totals[0]
    assert totals[2] == totals[3] and totals[4] == totals[5] and totals[6] == totals[7]  # it balances


def test_an_export_stopped_by_a_refused_amount_closes_its_rows(app):
    closed: list[bool] = []

    def rows() -> Iterator[list[Any]]:
        try:
            yield [1]
            yield [1_234_567_890_123_456_789]
            yield [2]
        finally:
            closed.append(True)

    bad = FenReport("t", "t", "", [Column("m", "m", "money")], iter(()), fen_rows=rows)
    with pytest.raises(ValueError, match="cent"):
        _write(bad, app)
    assert closed == [True]  # closed by the writer at once (its cursor with it), not left to the GC
