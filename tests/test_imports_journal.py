"""凭证导入: vouchers from a sheet into the books — the dry run names every row the books would
refuse (closed month, lock date, books start, unknown or parent account, both sides, unbalanced),
the commit posts through the books' services (so a month closed since the dry run still refuses),
undo reverses, and only finance may do it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from sqlalchemy import func, select

from crm.books import closing
from crm.books import services as books
from crm.books.models import JournalEntry, JournalLine
from crm.db import db
from crm.imports.models import ImportBatch
from tenants.models import Tenant
from tests import factories
from tests import imports_factories as f
from tests.factories import member_row
from tests.helpers import bearer, in_tenant, post, text_of

D = Decimal


@pytest.fixture
def books_a(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        tenant = db.session.get(Tenant, tenant_a.id)
        f.voucher_books(tenant, member_row(tenant_a["finance"]), member_row(tenant_a["owner"]))
        db.session.commit()
    return tenant_a


@pytest.fixture
def fin(books_a, token_for):
    return token_for(books_a["finance"])


def _close(app, tenant_a, year, month):
    with in_tenant(app, tenant_a.id):
        closing.close_period(db.session.get(Tenant, tenant_a.id), member_row(tenant_a["finance"]), year, month)
        db.session.commit()


def _upload(client, token, data: bytes | None = None, kind: str = "journal_entries"):
    form = {"file": (BytesIO(data or f.voucher_book()), "序时账.xlsx"), "kind": kind}
    return client.post("/api/v1/imports", data=form, headers=bearer(token), content_type="multipart/form-data")


def _commit(client, token, batch_id: int, mode: str):
    return client.post(f"/api/v1/imports/{batch_id}/commit", json={"mode": mode}, headers=bearer(token))


def _by_row(report) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for p in report["problems"]:
        out.setdefault(p["row"], []).append(p)
    return out


def _reasons(report, row: int) -> str:
    return " | ".join(p["reason"] for p in _by_row(report).get(row, []))


def _entries(app, tenant_id):
    with in_tenant(app, tenant_id):
        return [
            (e.entry_date, e.memo, e.status, e.total, e.kind, e.reverses_id is not None)
            for e in db.session.scalars(select(JournalEntry).order_by(JournalEntry.id))
        ]


def test_the_dry_run_names_every_row_the_books_would_refuse(app, client, books_a, fin):
    _close(app, books_a, 2026, 1)
    r = _upload(client, fin)
    assert r.status_code == 201, r.json
    rep = r.json
    assert rep["header_row"] == 3
    assert rep["counts"]["totals_skipped"] == 1
    assert rep["counts"]["vouchers"] == 7
    # 记-1, 记-2, 记-3 (8 rows) are good; every other row is refused.
    assert rep["counts"]["new"] == 8 and rep["counts"]["invalid"] == 10
    assert set(_by_row(rep)) == {12, 13, 14, 15, 16, 17, 18, 19, 20, 21}
    assert "difference 10.00" in _reasons(rep, 12) and "difference 10.00" in _reasons(rep, 13)
    assert {p["rule"] for p in _by_row(rep)[12]} == {"unbalanced"}
    closed = _by_row(rep)[14][0]
    assert closed["rule"] == "period_closed" and "2026-01" in closed["reason"] and closed["column"] == "日期"
    assert "9999" in _reasons(rep, 16)
    assert "sub-accounts" in _reasons(rep, 17) and "5602" in _reasons(rep, 17)
    assert "not both" in _reasons(rep, 18)
    assert "row 16" in _reasons(rep, 19)  # the good line of a bad voucher is left out with it
    assert _by_row(rep)[20][0]["rule"] == "before_books_start" and "2026-01" in _reasons(rep, 20)
    assert _entries(app, books_a.id) == []  # a dry run posts nothing


def test_good_rows_post_through_the_books_with_amounts_to_the_fen(app, client, books_a, fin):
    b = _upload(client, fin).json
    r = _commit(client, fin, b["id"], "good_rows")
    assert r.status_code == 202, r.json
    with in_tenant(app, books_a.id):
        entries = list(db.session.scalars(select(JournalEntry).order_by(JournalEntry.entry_date, JournalEntry.id)))
        got = [(e.entry_date, e.memo, e.status, e.total) for e in entries]
        # 记-5 into January posts too: January is open in this test.
        assert got == [
            (date(2026, 1, 15), "一月补记", "posted", D("50.00")),
            (date(2026, 2, 3), "报销差旅费", "posted", D("12000.30")),
            (date(2026, 2, 5), "购买办公用品", "posted", D("500.00")),
            (date(2026, 3, 9), "销售商品", "posted", D("1130.00")),
        ]
        assert all(e.number and e.source_type == "import" and e.source_id == b["id"] for e in entries)
        travel = entries[1]
        assert [(x.account.code, x.debit, x.credit, x.department.name if x.department else None)
                for x in travel.lines] == [("560201", D("0.30"), D("0.00"), "销售部"),
                                           ("560201", D("12000.00"), D("0.00"), "销售部"),
                                           ("1002", D("0.00"), D("12000.30"), None)]  # fmt: skip
        sale = entries[3]
        assert [(x.account.code, x.party_type) for x in sale.lines] == [
            ("1122", "customer"), ("5001", None), ("222101", None)]  # fmt: skip
        assert books.account_balance(books.account_for("bank").id) == D("-12550.30")
        batch = db.session.get(ImportBatch, b["id"])
        assert batch.status == "committed"


def test_a_month_closed_after_the_dry_run_refuses_at_commit_and_all_mode_posts_nothing(app, client, books_a, fin):
    rows = [r for r in f.voucher_rows() if not (isinstance(r[2], int) and r[2] in (4, 6)) or r[0] == "合计"]
    rows = [r for r in rows if r[0] != "2025-12-20"]
    b = _upload(client, fin, f.voucher_book(rows)).json
    assert b["counts"]["invalid"] == 0 and b["counts"]["new"] == 10  # 记-1, 2, 3 and 5 (January still open)
    _close(app, books_a, 2026, 1)
    r = _commit(client, fin, b["id"], "all")
    assert r.status_code == 202
    with in_tenant(app, books_a.id):
        batch = db.session.get(ImportBatch, b["id"])
        assert batch.status == "failed" and "nothing was imported" in batch.counts["error"]
        refused = [p for p in batch.problems if p.get("rule") == "period_closed"]
        assert {p["row"] for p in refused} == {12, 13} and "2026-01" in refused[0]["reason"]
        # Nothing of the other three vouchers stayed posted (the closing of January made no entry).
        assert db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.source_type == "import")) == 0
    # The dry run again (mapping re-checked) now names the closed month itself; good rows post the rest.
    r = client.patch(f"/api/v1/imports/{b['id']}", json={"mapping": b["mapping"]}, headers=bearer(fin))
    assert r.status_code == 200 and r.json["counts"]["invalid"] == 2
    assert _commit(client, fin, b["id"], "good_rows").status_code == 202
    assert len([e for e in _entries(app, books_a.id) if e[1] != "一月补记"]) == 3


def test_the_books_gate_refuses_a_month_closed_while_the_commit_runs(app, client, books_a, fin, monkeypatch):
    """The commit's own re-check is bypassed (as if the month closed between it and the posting):
    the posting gate in crm.books.services still refuses, by its rule, and all-or-nothing mode
    takes back the vouchers posted before the refusal."""
    from crm.imports import journal

    rows = [r for r in f.voucher_rows() if r[2] in (1, 2, 3, 5, "2", None, "凭证号") and r[0] != "2025-12-20"]
    b = _upload(client, fin, f.voucher_book(rows)).json
    assert b["counts"]["new"] == 10 and b["counts"]["invalid"] == 0
    _close(app, books_a, 2026, 1)
    monkeypatch.setattr(journal, "_date_refusal", lambda *a: (None, None))
    assert _commit(client, fin, b["id"], "all").status_code == 202
    with in_tenant(app, books_a.id):
        batch = db.session.get(ImportBatch, b["id"])
        assert batch.status == "failed" and "refused 1 voucher" in batch.counts["error"]
        refused = [p for p in batch.problems if p.get("rule") == "period_closed"]
        assert {p["row"] for p in refused} == {12, 13} and "2026-01" in refused[0]["reason"]
        assert db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.source_type == "import")) == 0
    # Good rows: the three other vouchers post, the refused one is listed.
    r = client.patch(f"/api/v1/imports/{b['id']}", json={"mapping": b["mapping"]}, headers=bearer(fin))
    assert r.json["counts"]["new"] == 10
    assert _commit(client, fin, b["id"], "good_rows").status_code == 202
    with in_tenant(app, books_a.id):
        batch = db.session.get(ImportBatch, b["id"])
        assert batch.status == "committed"
        assert {p["row"] for p in batch.problems if p.get("rule") == "period_closed"} == {12, 13}
        assert db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.source_type == "import")) == 3


def test_good_rows_mode_reports_the_voucher_the_books_refused_at_commit(app, client, books_a, fin):
    b = _upload(client, fin).json
    _close(app, books_a, 2026, 1)
    assert _commit(client, fin, b["id"], "good_rows").status_code == 202
    with in_tenant(app, books_a.id):
        batch = db.session.get(ImportBatch, b["id"])
        assert batch.status == "committed"
        assert {p["row"] for p in batch.problems if p.get("rule") == "period_closed"} == {14, 15}
        assert db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.source_type == "import")) == 3
        assert not db.session.scalars(select(JournalLine).where(JournalLine.entry_date == date(2026, 1, 15))).all()


def test_before_the_lock_date_only_a_finance_manager_may_import(app, client, books_a, fin, token_for):
    with app.app_context():
        manager = factories.add_member(books_a, "finance_manager", "fm@alpha.example.com", "财务经理")
        db.session.commit()
    with in_tenant(app, books_a.id):
        books.set_lock_date(db.session.get(Tenant, books_a.id), member_row(manager), date(2026, 2, 28))
        db.session.commit()
    rep = _upload(client, fin).json
    assert {p["rule"] for p in _by_row(rep)[4]} == {"lock_date"} and "2026-02-28" in _reasons(rep, 4)
    assert rep["counts"]["new"] == 3  # only 记-3, in March
    rep = _upload(client, token_for(manager)).json
    assert 4 not in _by_row(rep) and rep["counts"]["new"] == 10


def test_undo_reverses_the_posted_entries_and_the_same_file_imports_again(app, client, books_a, fin):
    b = _upload(client, fin).json
    assert _commit(client, fin, b["id"], "good_rows").status_code == 202
    # The same file again, not undone: its vouchers are duplicates, never posted twice.
    again = _upload(client, fin).json
    assert again["counts"]["new"] == 0 and again["counts"]["duplicate"] == 10
    assert "imported already" in _reasons(again, 4)
    r = client.post(f"/api/v1/imports/{b['id']}/undo", headers=bearer(fin))
    assert r.status_code == 200 and r.json["status"] == "undone"
    with in_tenant(app, books_a.id):
        entries = list(db.session.scalars(select(JournalEntry).order_by(JournalEntry.id)))
        originals = [e for e in entries if e.kind == "document"]
        reversals = [e for e in entries if e.kind == "reversal"]
        assert len(originals) == 4 and len(reversals) == 4  # nothing deleted
        assert all(e.status == "posted" and e.reversed_by_id for e in originals)
        assert books.account_balance(books.account_for("bank").id) == D("0.00")
        batch = db.session.get(ImportBatch, b["id"])
        assert batch.counts["undo"] == {"reversed": 4, "kept": 0}
    assert _upload(client, fin).json["counts"]["new"] == 10  # undone: the vouchers may come in again
    r = client.post(f"/api/v1/imports/{b['id']}/undo", headers=bearer(fin))
    assert r.status_code == 422  # once


def test_vouchers_need_finance_access_and_the_kind_is_shown_only_to_finance(app, client, client_as, books_a, fin,
                                                                             token_for):  # fmt: skip
    mgr = token_for(books_a["sales_manager"])
    assert _upload(client, mgr).status_code == 403  # imports.run is not enough
    assert _upload(client, fin, f.customer_ledger(), kind="customers").status_code == 403
    b = _upload(client, fin).json
    assert client.get(f"/api/v1/imports/{b['id']}", headers=bearer(mgr)).status_code == 403
    assert _commit(client, mgr, b["id"], "good_rows").status_code == 403
    assert client.get("/api/v1/imports?kind=journal_entries", headers=bearer(fin)).json[0]["id"] == b["id"]
    assert all(x["kind"] != "journal_entries" for x in client.get("/api/v1/imports", headers=bearer(mgr)).json)
    slug = books_a.slug
    c = client_as(books_a["finance"])
    page = c.get(f"/w/{slug}/finance/imports")
    assert page.status_code == 200 and 'value="journal_entries"' in text_of(page)
    assert 'value="customers"' not in text_of(page)
    assert c.get(f"/w/{slug}/sales/imports").status_code == 403
    m = client_as(books_a["sales_manager"])
    assert 'value="journal_entries"' not in text_of(m.get(f"/w/{slug}/sales/imports"))
    assert m.get(f"/w/{slug}/finance/imports").status_code == 403
    owner = client_as(books_a["owner"])
    assert owner.get(f"/w/{slug}/sales/imports/{b['id']}").status_code == 404  # a voucher import is Finance's


def test_pages_upload_check_commit_and_undo_vouchers(app, client_as, books_a):
    c = client_as(books_a["finance"])
    base = f"/w/{books_a.slug}/finance/imports"
    r = post(c, base, {"kind": "journal_entries", "file": (BytesIO(f.voucher_book()), "序时账.xlsx")},
             content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 302, text_of(r)
    show = r.headers["Location"]
    page = text_of(c.get(show))
    assert "差额" in page or "difference" in page
    assert 'data-testid="import-vouchers"' in page
    batch_id = int(show.rstrip("/").rsplit("/", 1)[1])
    r = post(c, f"{base}/{batch_id}/commit", {"mode": "good_rows"})
    assert r.status_code == 302
    assert len(_entries(app, books_a.id)) == 4
    r = post(c, f"{base}/{batch_id}/undo")
    assert r.status_code == 302
    assert sum(1 for e in _entries(app, books_a.id) if e[5]) == 4
    rejected = c.get(f"{base}/{batch_id}/rejected")
    assert rejected.status_code == 200 and rejected.mimetype.endswith("sheet")


def test_unmapped_accounts_or_amounts_are_a_mapping_problem(app, client, books_a, fin):
    rows = [["日期", "凭证号", "摘要", "借方金额", "贷方金额"], ["2026-02-01", "1", "x", 1, None]]
    r = _upload(client, fin, f.xlsx(rows))
    assert r.status_code == 422
    assert "Account code / Account name" in str(r.json) or "科目编码 / 科目名称" in str(r.json)


def test_the_voucher_list_page_issues_a_constant_number_of_queries(app, client, client_as, books_a, fin,
                                                                  count_queries):  # fmt: skip
    c = client_as(books_a["finance"])
    url = f"/w/{books_a.slug}/finance/imports"
    _upload(client, fin)
    c.get(url)
    with count_queries() as one:
        assert c.get(url).status_code == 200
    for _ in range(3):
        _upload(client, fin)
    with count_queries() as four:
        assert c.get(url).status_code == 200
    assert one.count == four.count


@pytest.mark.parametrize(
    ("word", "text", "label"),
    [(None, "记-5", "记-5"), (None, "记字第5号", "记-5"), (None, "记-0005", "记-5"), ("记", "5", "记-5"),
     ("记", "0005", "记-5"), (None, "收-12", "收-12"), (None, "5", "5")],
)  # fmt: skip
def test_voucher_numbers_as_accounting_software_writes_them(word, text, label):
    from crm.imports.journal import voucher_of

    v = voucher_of(word, text, "2026-03")
    assert v.label == label and v.key == f"2026-03|{label.split('-')[0] if '-' in label else ''}|{label.split('-')[-1]}"
