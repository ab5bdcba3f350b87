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


# Vouchers as accounting software exports them (序时账): a merged title, 凭证字 and 凭证号 in two
# columns, lines of one voucher on consecutive rows, a 合计 row. Accounts of the small-enterprise
# chart, with 管理费用 split into 560201 差旅费 and 560202 办公费 (see voucher_books below).
VOUCHER_HEADER = ["日期", "凭证字", "凭证号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额"] + [
    "往来单位",
    "部门",
]
VOUCHER_CUSTOMER = "北京百川科技有限公司"


def voucher_rows() -> list[list[Any]]:
    feb3 = datetime(2026, 2, 3)
    return [
        ["2026年2月 序时账", None, None, None, None, None, None, None, None, None],
        ["单位：元", None, None, None, None, None, None, None, None, None],
        VOUCHER_HEADER,
        # 记-1 (rows 4-6): by code; amounts as Excel computes them (0.1 + 0.2) and typed (1.2万).
        [feb3, "记", 1, "报销差旅费", "560201", "管理费用—差旅费", 0.1 + 0.2, None, None, "销售部"],
        [feb3, "记", 1, "报销差旅费", "560201", None, "1.2万", None, None, "销售部"],
        [feb3, "记", 1, "报销差旅费", "1002", "银行存款", None, "12,000.30", None, None],
        # 记-2 (rows 7-8): no codes, the full name and a unique leaf name; a date as typed.
        ["2026年2月5日", "记", "2", "购买办公用品", None, "管理费用-办公费", "５００", None, None, None],
        ["2026年2月5日", "记", "2", "购买办公用品", None, "银行存款", None, "¥500.00", None, None],
        # 记-3 (rows 9-11): a sale to a customer, dated by an Excel serial (2026-03-09).
        [46090, "记", 3, "销售商品", "1122", "应收账款", 1130, None, VOUCHER_CUSTOMER, None],
        [46090, "记", 3, "销售商品", "5001", "主营业务收入", None, 1000, None, None],
        [46090, "记", 3, "销售商品", None, "应交税费—应交增值税（销项税额）", None, 130, None, None],
        # 记-4 (rows 12-13): does not balance, by 10.00.
        ["2026-03-10", "记", 4, "付房租", "560202", None, 100, None, None, None],
        ["2026-03-10", "记", 4, "付房租", "1002", None, None, 90, None, None],
        # 记-5 (rows 14-15): into January, which the tests close.
        ["2026-01-15", "记", 5, "一月补记", "560202", None, 50, None, None, None],
        ["2026-01-15", "记", 5, "一月补记", "1002", None, None, 50, None, None],
        # 记-6 (rows 16-19): an unknown account, a parent account, both sides, and one good line.
        ["2026-03-12", "记", 6, "杂项", "9999", None, 10, None, None, None],
        ["2026-03-12", "记", 6, "杂项", "5602", "管理费用", 10, None, None, None],
        ["2026-03-12", "记", 6, "杂项", "560202", None, 10, 10, None, None],
        ["2026-03-12", "记", 6, "杂项", "1002", None, None, 20, None, None],
        # 记-1 of December 2025 (rows 20-21): before the books start (2026-01).
        ["2025-12-20", "记", 1, "旧账", "560202", None, 5, None, None, None],
        ["2025-12-20", "记", 1, "旧账", "1002", None, None, 5, None, None],
        ["合计", None, None, None, None, None, 13895.3, 13895.3, None, None],
    ]


def voucher_book(rows: list[list[Any]] | None = None) -> bytes:
    return xlsx(rows or voucher_rows(), merge="A1:J1")


def voucher_books(tenant: Any, actor: Any, owner: Any) -> None:
    """Books from 2026-01 with 管理费用 split in two, the department 销售部 and the customer the
    vouchers name (owned by ``owner``). Inside tenant_context; flushes."""
    from crm.books import services as books
    from tests.books_factories import setup_books
    from tests.factories import make_customer

    setup_books(tenant, actor)
    admin = books.account_for("admin_expense")
    books.add_sub_account(tenant, actor, admin, admin.code + "01", "差旅费", "Travel")
    books.add_sub_account(tenant, actor, admin, admin.code + "02", "办公费", "Office")
    books.save_department(actor, "销售部")
    make_customer(owner, VOUCHER_CUSTOMER)


# A sales ledger (销售台账) kept by hand: a merged title, a note, a two-row header (日期 … merged
# down two rows, 金额 merged across 不含税 | 含税), dates in every form, 1.2万, a 小计 and a 合计 row.
# Salespeople of workspace "a": 张伟, 刘洋; products P-100 服务器, P-101 交换机, P-102 实施服务 (see
# ledger_catalogue below).
LEDGER_COLUMNS = ["序号", "日期", "订单号", "客户", "地区", "业务员", "产品", "数量", "单价"] + [
    "金额",
    None,
    "税率",
    "状态",
]
LEDGER_SUBHEADER = [None] * 9 + ["不含税", "含税", None, None]


def sales_ledger_rows(row7_status: str = "未发货", row7_region: str = "华东") -> list[list[Any]]:
    # fmt: off
    return [
        ["2026年一季度销售台账"] + [None] * 12,
        ["制表：销售部　单位：元"] + [None] * 12,
        LEDGER_COLUMNS,
        LEDGER_SUBHEADER,
        # SO-001 (rows 5-6): two lines of one order for an existing customer, delivered.
        [1, "2026年3月5日", "SO-001", "北京百川科技", "华北", "张伟", "服务器", 2, "1.2万", "2.4万", 27120, "13%", "已发货"],  # noqa: E501
        [2, "2026年3月5日", "SO-001", "北京百川科技", "华北", "张伟", "交换机", 1, "3,580.50", 3580.5, "4,045.97", "13%", "已发货"],  # noqa: E501
        # Row 7: no order number — an order of its own, keyed by date + customer + product + amount; a new customer.
        [3, 46086, None, "上海东方贸易有限公司", row7_region, "刘洋", "实施服务", 10, 1200, 12000, 12720, "6%", row7_status],  # noqa: E501
        # Row 8: an unknown salesperson; row 9: an unknown product.
        [4, "2026/3/6", None, "深圳南山电子有限公司", "华南", "赵六", "服务器", 1, 12000, 12000, 13560, "13%", "未发货"],  # noqa: E501
        [5, "2026.3.7", None, "广州白云物流有限公司", "华南", "张伟", "不存在的产品", 1, 100, 100, 113, "13%", "未发货"],  # noqa: E501
        ["小计", None, None, None, None, None, None, None, None, 51741.5, 57558.97, None, None],
        # SO-002 (row 11): cancelled.
        [6, "2026-03-09", "SO-002", "上海东方贸易有限公司", "华东", "刘洋", "P-101", 2, 3580.5, 7161, 8091.93, "13%", "已取消"],  # noqa: E501
        ["合计", None, None, None, None, None, None, None, None, 58902.5, 65650.9, None, None],
    ]
    # fmt: on


def sales_ledger(rows: list[list[Any]] | None = None) -> bytes:
    """The ledger with its merged cells (title, the header's 日期 … down two rows, 金额 across two)."""
    wb = Workbook()
    ws = wb.active
    for r in rows or sales_ledger_rows():
        ws.append(r)
    ws.merge_cells("A1:M1")
    for col in "ABCDEFGHILM":
        ws.merge_cells(f"{col}3:{col}4")
    ws.merge_cells("J3:K3")
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ledger_catalogue(owner: Any) -> None:
    """The products the ledger names and the existing customer 北京百川科技有限公司 (the owner's)."""
    from tests.factories import make_customer
    from tests.quote_factories import make_product

    make_product(owner, "P-100", "服务器", "12000.00")
    make_product(owner, "P-101", "交换机", "3580.50")
    make_product(owner, "P-102", "实施服务", "1200.00", "0.06")
    make_customer(owner, "北京百川科技有限公司")
