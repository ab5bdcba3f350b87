"""Spreadsheets as people make them, built in code: a hand-made ledger with a merged title, blank
rows, a 合计 row, full-width digits, 万, dates in every form and Excel serials; a GBK csv."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import Any

from openpyxl import Workbook

from crm.sales.rules import uscc_check_character

USCC_BASE = "91110108MA01"  # 12 characters; 5 more and the check character


def uscc(n: int) -> str:
    first17 = f"{USCC_BASE}{n:05d}"
    return first17 + uscc_check_character(first17)


def xlsx(rows: list[list[Any]], merge: str | None = None, title: str = "Sheet1") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    if merge:
        ws.merge_cells(merge)
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8-sig") -> bytes:
    return "\r\n".join(",".join("" if c is None else str(c) for c in r) for r in rows).encode(encoding)


# A customer ledger kept by hand (salespeople of workspace "a": 张伟, 刘洋).
LEDGER_HEADER = ["序号", "客户名称", "统一社会信用代码", "联系电话", "所在城市", "业务员", "备注"]


def customer_ledger() -> bytes:
    """Row 1: a merged title; row 2: a note; row 3: blank; header on row 4; data from row 5."""
    rows: list[list[Any]] = [
        ["2026年客户台账", None, None, None, None, None, None],
        ["制表：销售部", None, None, None, None, None, None],
        [None] * 7,
        LEDGER_HEADER,
        [1, "北京百川科技有限公司", uscc(1), "010-8888 1234", "北京", "张伟", "老客户"],
        [2, "上海东方贸易有限公司", uscc(2), "１３８００１３８０００", "上海", "刘洋", None],  # full-width digits
        [None] * 7,
        [3, "深圳南山电子有限公司", None, "0755-12345678", "深圳", "赵六", None],  # unknown salesperson
        [4, "广州白云物流有限公司", "91110108MA0100000X", None, "广州", "张伟", None],  # bad check character
        [5, "北京百川科技有限公司", None, None, "北京", "张伟", "重复"],  # same as row 5
        ["合计", None, None, None, None, None, None],
    ]
    return xlsx(rows, merge="A1:G1")


def product_list() -> bytes:
    rows: list[list[Any]] = [
        ["产品价目表"],
        ["产品编码", "产品名称", "规格型号", "单位", "单价", "税率"],
        ["P-100", "服务器", "2U", "台", "1.2万", "13%"],
        ["P-101", "交换机", "48口", "台", "¥3,580.50", "13"],
        ["P-102", "实施服务", None, "人天", "１２００元", "6%"],
        ["P-103", "维保", None, "年", "(100)", "6%"],  # negative: refused
        ["P-104", "耗材", None, "箱", "abc", "13%"],  # garbage
        [None, "没有编码", None, None, "10", "13%"],  # new product without a code
        ["小计", None, None, None, "12,345", None],
    ]
    return xlsx(rows, merge="A1:F1")


def contact_list_gbk() -> bytes:
    rows = [
        ["客户名称", "联系人", "职务", "手机", "生日"],
        ["北京百川科技有限公司", "王五", "采购经理", "13900001111", "1985年3月5日"],
        ["北京百川科技有限公司", "钱七", "财务", "13900002222", "1990/7/1"],
        ["不存在的公司", "孙八", None, None, None],
    ]
    return csv_bytes(rows, encoding="gb18030")


def dated_rows() -> list[Any]:
    return ["2026年3月5日", "2026/3/5", "2026-03-05", "2026.3.5", 46086, datetime(2026, 3, 5)]


def make_batch(owner: Any) -> Any:
    """An analysed customer import by ``owner`` (a Membership in session): one good row, one bad."""
    from crm.db import db
    from crm.imports import services
    from tenants.context import tenant_context
    from tenants.models import Tenant

    with tenant_context(owner.tenant_id, user_id=owner.user_id):
        tenant = db.session.get(Tenant, owner.tenant_id)
        data = xlsx([["客户名称", "电话"], ["世界导入客户", "010-12345678"], ["坏电话客户", "12"]])
        return services.upload(tenant, owner, "customers", "world.xlsx", data)
