"""The import value parsers, header detection and synonym mapping: pure functions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale

from crm.imports import mapping as mp
from crm.imports import parsing
from crm.imports import values as v
from tests import imports_factories as f


@pytest.fixture(autouse=True)
def _ctx(app):
    # The messages are asserted in English; the app's default locale is Chinese.
    with app.test_request_context(), force_locale("en"):
        yield


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,234.50", "1234.50"),
        ("１２３４．５", "1234.50"),
        ("¥1234.5", "1234.50"),
        ("￥ 1,000", "1000.00"),
        ("1234.5元", "1234.50"),
        ("RMB 88", "88.00"),
        ("人民币100元", "100.00"),
        ("1.2万", "12000.00"),
        ("３万", "30000.00"),
        ("(123.45)", "-123.45"),
        ("（123.45）", "-123.45"),
        ("－50", "-50.00"),
        ("-1,000.10", "-1000.10"),
        (1234, "1234.00"),
        (1234.5, "1234.50"),
        (0.1 + 0.2, "0.30"),
        ("0.005", "0.01"),  # half-up
    ],
)
def test_amounts_as_people_type_them(raw, expected):
    assert v.parse_amount(raw) == (Decimal(expected), None)


@pytest.mark.parametrize("raw", ["abc", "1.2.3", "万", "12abc", "--5", True])
def test_garbage_amounts_get_a_reason(raw):
    value, reason = v.parse_amount(raw)
    assert value is None and reason and "amount" in reason.lower()


def test_blank_amount_is_no_value_and_no_problem():
    assert v.parse_amount("") == (None, None)
    assert v.parse_amount(None) == (None, None)


@pytest.mark.parametrize("raw", f.dated_rows() + ["２０２６年３月５日", "20260305", "2026-3-5 10:30", "46086"])
def test_dates_in_every_form(raw):
    assert v.parse_date(raw) == (date(2026, 3, 5), None)


@pytest.mark.parametrize("raw", ["2026年2月30日", "2026/13/1", "next week", "12", 5, "3/5/2026"])
def test_bad_dates_get_a_reason(raw):
    value, reason = v.parse_date(raw)
    assert value is None and reason


def test_phones_uscc_email_rates_bools():
    assert v.parse_phone("１３８ ０００１ ３８００") == ("138 0001 3800", None)
    assert v.parse_phone("12")[1]
    assert v.parse_uscc(f" {f.uscc(7).lower()} ") == (f.uscc(7), None)
    assert v.parse_uscc("91110108MA0100000X")[1]
    assert v.parse_email("A@B.CN") == ("a@b.cn", None)
    assert v.parse_email("nope")[1]
    assert v.parse_rate("13%") == (Decimal("0.13"), None)
    assert v.parse_rate("0.06") == (Decimal("0.06"), None)
    assert v.parse_rate("7%")[1]
    assert v.parse_bool("是") == (True, None)
    assert v.parse_bool("maybe")[1]
    assert v.parse_id(" 12 ") == (12, None)
    assert v.parse_id("x1")[1]


@pytest.mark.parametrize("word", ["合计", "小计", "总计", " 合 计 ", "Total", "合计："])
def test_total_rows_are_recognised(word):
    assert v.is_total_row([word, None, "12,345"])
    assert v.is_total_row([None, word, 5])


def test_an_ordinary_row_is_not_a_total():
    assert not v.is_total_row(["北京合计科技有限公司", "张伟"])


def test_synonyms_map_chinese_and_english_headers_case_width_and_space_insensitive():
    headers = ["客户名称", "税号", "业务员", " Phone ", "ＥＭＡＩＬ", "城 市", "备注：", "something else"]
    assert mp.guess_mapping("customers", headers) == {
        "0": "name", "1": "uscc", "2": "owner", "3": "phone", "4": "email", "5": "city", "6": "notes",
    }  # fmt: skip
    assert mp.match_header("customers", "公司名称") == "name"
    assert mp.match_header("customers", "负责人") == "owner"
    assert mp.match_header("customers", "销售员") == "owner"
    assert mp.match_header("products", "品名") == "name"


def test_a_saved_mapping_wins_over_synonyms_and_can_ignore_a_column():
    headers = ["客户", "手机", "电话"]
    saved = {"手机": "phone", "电话": ""}
    assert mp.guess_mapping("customers", headers, saved) == {"0": "name", "1": "phone"}


def test_one_field_is_taken_by_one_column():
    assert mp.guess_mapping("customers", ["客户名称", "公司名称"]) == {"0": "name"}


def test_header_found_under_a_merged_title_and_blank_rows():
    sheet = parsing.read(f.customer_ledger(), "台账.xlsx")
    idx = parsing.find_header("customers", sheet)
    number, cells = sheet.rows[idx]
    assert number == 4 and cells[1] == "客户名称"


def test_header_not_found_is_none():
    sheet = parsing.read(f.xlsx([["a", "b"], ["c", "d"]]), "x.xlsx")
    assert parsing.find_header("customers", sheet) is None


def test_gbk_and_utf8_csv_are_read():
    sheet = parsing.read(f.contact_list_gbk(), "contacts.csv")
    assert sheet.rows[1][1][:2] == ["北京百川科技有限公司", "王五"]
    sheet = parsing.read(f.csv_bytes([["客户名称", "电话"], ["甲", "1"]]), "c.csv")
    assert sheet.rows[0][1] == ["客户名称", "电话"]


def test_wrong_type_and_oversize_are_refused_in_words(monkeypatch):
    with pytest.raises(parsing.UnreadableFile, match="not a spreadsheet"):
        parsing.read(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "logo.png")
    with pytest.raises(parsing.UnreadableFile, match="Excel"):
        parsing.read(b"just text, pretending", "fake.xlsx")
    with pytest.raises(parsing.UnreadableFile, match="damaged"):
        parsing.read(b"PK\x03\x04broken zip", "broken.xlsx")
    monkeypatch.setattr(parsing, "MAX_BYTES", 10)
    with pytest.raises(parsing.UnreadableFile, match="larger than"):
        parsing.read(b"a,b\n1,2\n3,4\n", "big.csv")
