"""Issue 7's promise end to end: a sales ledger kept by hand in Excel goes in through the import,
and the ledger's summaries give the SUMIF and week-over-week figures the company computed in
Excel — worked out here from the same rows the way the SUMIF sheet does, in both languages,
through the API and the pages; undone and imported again, the figures are the same."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

import pytest

from crm.db import db
from tests import imports_factories as f
from tests.factories import member_row
from tests.helpers import ApiClient, bearer, in_tenant

D = Decimal
PRICES = {"服务器": D("12000"), "交换机": D("3580.50"), "实施服务": D("1200")}
RATES = {"服务器": D("0.13"), "交换机": D("0.13"), "实施服务": D("0.06")}
CUSTOMERS = ("北京百川科技有限公司", "上海东方贸易有限公司", "深圳南山电子有限公司")
REGIONS = ("华北", "华东", "华南")
REPS = ("张伟", "刘洋")


def _rows() -> list[list]:
    """Three weeks of March 2026 (weeks from Monday 2, 9 and 16), written as people write them."""
    rows = []
    day = date(2026, 3, 2)
    for i in range(18):
        d = day + timedelta(days=i)
        product = list(PRICES)[i % 3]
        qty = 1 + i % 4
        amount = PRICES[product] * qty
        incl = (amount * (1 + RATES[product])).quantize(D("0.01"), ROUND_HALF_UP)
        seq = i + 1
        written_date = (f"{d.year}年{d.month}月{d.day}日", f"{d.year}/{d.month}/{d.day}", d.isoformat())[i % 3]
        rows.append([seq, written_date, f"XS-{seq:03d}", CUSTOMERS[i % 3], REGIONS[(i // 2) % 3], REPS[i % 2],
                     product, qty, str(PRICES[product]), f"{amount:,.2f}", float(incl),
                     f"{int(RATES[product] * 100)}%", "已发货"])  # fmt: skip
    return rows


def _workbook(rows: list[list]) -> bytes:
    total = sum(D(str(r[9]).replace(",", "")) for r in rows)
    sheet = [["2026年3月销售台账"] + [None] * 12, f.LEDGER_COLUMNS, f.LEDGER_SUBHEADER, *rows,
             ["合计"] + [None] * 8 + [float(total), None, None, None]]  # fmt: skip
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in sheet:
        ws.append(r)
    ws.merge_cells("A1:M1")
    for col in "ABCDEFGHILM":
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("J2:K2")
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _excel_figures(rows: list[list]) -> tuple[dict[str, Decimal], dict[date, Decimal]]:
    """What the hand-kept SUMIF sheets say: amount excl. tax by region, and by week (from Monday)."""
    by_region: dict[str, Decimal] = defaultdict(D)
    by_week: dict[date, Decimal] = defaultdict(D)
    for r in rows:
        amount = D(r[9].replace(",", ""))
        d = date(2026, 3, 2) + timedelta(days=r[0] - 1)
        by_region[r[4]] += amount
        by_week[d - timedelta(days=d.weekday())] += amount
    return dict(by_region), dict(by_week)


@pytest.fixture
def catalogue_a(app, tenant_a):
    with in_tenant(app, tenant_a.id):
        f.ledger_catalogue(member_row(tenant_a["owner"]))
        db.session.commit()
    return tenant_a


def _import(client, token: str, data: bytes) -> int:
    form = {"file": (BytesIO(data), "三月销售台账.xlsx"), "kind": "orders"}
    dry = client.post("/api/v1/imports", data=form, headers=bearer(token), content_type="multipart/form-data")
    assert dry.status_code == 201, dry.json
    assert dry.json["counts"]["invalid"] == 0 and dry.json["counts"]["new"] == 18, dry.json["problems"]
    r = client.post(f"/api/v1/imports/{dry.json['id']}/commit", json={"mode": "all"}, headers=bearer(token))
    assert r.status_code == 202, r.json
    return dry.json["id"]


def _ledger_figures(api: ApiClient) -> tuple[dict[str, Decimal], dict[str, Decimal], list]:
    summary = api.get("/ledger/summary?rows=region&measure=amount&from=2026-03-01&to=2026-03-31").get_json()
    regions = {row["label"]: D(row["total"]["amount"]) for row in summary["rows"]}
    growth = api.get("/ledger/growth?period=week&from=2026-03-02&to=2026-03-22").get_json()
    weeks = {c["bucket"]: D(c["value"]) for c in growth["total"]["cells"]}
    return regions, weeks, [c["growth_pct"] for c in growth["total"]["cells"]]


def test_a_hand_kept_ledger_imported_gives_the_excel_sumif_and_week_over_week_figures(
    app, client, catalogue_a, token_for
):
    rows = _rows()
    by_region, by_week = _excel_figures(rows)
    token = token_for(catalogue_a["owner"])
    api = ApiClient(client, token)
    batch = _import(client, token, _workbook(rows))

    regions, weeks, pcts = _ledger_figures(api)
    assert regions == by_region
    assert weeks == {d.isoformat(): v for d, v in sorted(by_week.items())}
    w = [by_week[date(2026, 3, 2) + timedelta(weeks=n)] for n in range(3)]
    expected = [None] + [str(((w[n] - w[n - 1]) / w[n - 1] * 100).quantize(D("0.1"), ROUND_HALF_UP)) for n in (1, 2)]
    assert pcts == expected

    # Undone, the figures are gone; imported again, they are the same.
    assert client.post(f"/api/v1/imports/{batch}/undo", headers=bearer(token)).status_code == 200
    assert _ledger_figures(api)[0] == {}
    _import(client, token, _workbook(rows))
    assert _ledger_figures(api)[:2] == (regions, weeks)


@pytest.mark.parametrize(("language", "word"), [("en", "Total"), ("zh-CN,zh", "合计")])
def test_the_summary_page_shows_the_same_region_totals_in_both_languages(
    app, client, client_as, catalogue_a, token_for, language, word
):
    rows = _rows()
    by_region, _weeks = _excel_figures(rows)
    _import(client, token_for(catalogue_a["owner"]), _workbook(rows))
    page = client_as(catalogue_a["owner"], accept_language=language).get(
        f"/w/{catalogue_a.slug}/sales/ledger/summary?rows=region&measure=amount&from=2026-03-01&to=2026-03-31"
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and word in text
    for region, amount in by_region.items():
        assert region in text and f"{amount:,.2f}" in text
    assert f"{sum(by_region.values()):,.2f}" in text
