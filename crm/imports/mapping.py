"""What each kind of import reads: its fields, their parsers, and the header words (Chinese and
English synonyms) that name them. Adding a kind (the historical orders ledger) is one more
field table here, nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from crm.imports import values as v

HIDDEN_ID_HEADER = "__taizhang_id__"  # the hidden first column of files we exported


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: object
    parse: Callable[[Any], tuple[Any, str | None]]
    synonyms: tuple[str, ...]
    required: bool = False


def _text(n: int) -> Callable[[Any], tuple[Any, str | None]]:
    return lambda value: v.parse_text(value, n)


OWNER = FieldSpec(
    "owner",
    _l("Salesperson"),
    _text(100),
    (
        "业务员",
        "销售员",
        "负责人",
        "销售",
        "跟进人",
        "归属人",
        "owner",
        "salesperson",
        "sales rep",
        "rep",
    ),
)
# Not "id" or "ID": a ledger's own numbering column must never be taken for our record ids.
RECORD_ID = FieldSpec("id", _l("Record id (from an export)"), v.parse_id, (HIDDEN_ID_HEADER, "系统编号"))

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "customers": (
        RECORD_ID,
        FieldSpec(
            "name",
            _l("Customer name"),
            _text(200),
            (
                "客户名称",
                "客户",
                "公司名称",
                "单位名称",
                "客户全称",
                "企业名称",
                "公司",
                "customer",
                "customer name",
                "company",
                "company name",
                "name",
            ),
            required=True,
        ),
        FieldSpec("short_name", _l("Short name"), _text(100), ("简称", "客户简称", "short name")),
        FieldSpec(
            "uscc",
            _l("Unified social credit code"),
            v.parse_uscc,
            ("统一社会信用代码", "信用代码", "社会信用代码", "税号", "纳税人识别号", "uscc", "credit code", "tax id"),
        ),
        FieldSpec("industry", _l("Industry"), _text(60), ("行业", "所属行业", "industry")),
        FieldSpec("level", _l("Level"), _text(1), ("等级", "客户等级", "级别", "level")),
        FieldSpec("source", _l("Source"), _text(60), ("来源", "客户来源", "source")),
        FieldSpec("province", _l("Province"), _text(30), ("省份", "所在省份", "省", "province")),
        FieldSpec("city", _l("City"), _text(30), ("城市", "所在城市", "所在地", "市", "city")),
        FieldSpec("address", _l("Address"), _text(255), ("地址", "详细地址", "公司地址", "address")),
        FieldSpec(
            "phone", _l("Phone"), v.parse_phone, ("电话", "联系电话", "公司电话", "座机", "phone", "telephone", "tel")
        ),
        FieldSpec("email", _l("E-mail"), v.parse_email, ("邮箱", "电子邮箱", "email", "e-mail")),
        FieldSpec("website", _l("Website"), _text(255), ("网址", "网站", "website")),
        FieldSpec("notes", _l("Notes"), _text(2000), ("备注", "说明", "notes", "remarks", "comment")),
        OWNER,
    ),
    "contacts": (
        FieldSpec(
            "customer",
            _l("Customer name"),
            _text(200),
            ("客户名称", "客户", "公司名称", "单位名称", "所属客户", "公司", "customer", "company"),
            required=True,
        ),
        FieldSpec(
            "customer_uscc", _l("Customer credit code"), v.parse_uscc, ("统一社会信用代码", "信用代码", "税号", "uscc")
        ),
        FieldSpec(
            "name",
            _l("Contact name"),
            _text(100),
            ("联系人", "姓名", "联系人姓名", "名字", "contact", "contact name", "name"),
            required=True,
        ),
        FieldSpec("title", _l("Job title"), _text(100), ("职务", "职位", "头衔", "title", "job title")),
        FieldSpec("department", _l("Department"), _text(100), ("部门", "department")),
        FieldSpec("mobile", _l("Mobile"), v.parse_phone, ("手机", "手机号", "手机号码", "移动电话", "mobile", "cell")),
        FieldSpec("phone", _l("Phone"), v.parse_phone, ("电话", "座机", "办公电话", "phone", "telephone", "tel")),
        FieldSpec("email", _l("E-mail"), v.parse_email, ("邮箱", "电子邮箱", "email", "e-mail")),
        FieldSpec("wechat", _l("WeChat"), _text(60), ("微信", "微信号", "wechat")),
        FieldSpec("birthday", _l("Birthday"), v.parse_date, ("生日", "出生日期", "birthday")),
        FieldSpec("notes", _l("Notes"), _text(2000), ("备注", "说明", "notes", "remarks")),
    ),
    "products": (
        FieldSpec(
            "code",
            _l("Product code"),
            _text(40),
            ("产品编码", "编码", "产品编号", "货号", "物料编码", "code", "sku", "product code"),
        ),
        FieldSpec(
            "name",
            _l("Product name"),
            _text(200),
            ("产品名称", "品名", "名称", "商品名称", "产品", "product", "product name", "name"),
            required=True,
        ),
        FieldSpec(
            "specification", _l("Specification"), _text(200), ("规格", "规格型号", "型号", "specification", "spec")
        ),
        FieldSpec("unit", _l("Unit"), _text(20), ("单位", "计量单位", "unit")),
        FieldSpec(
            "list_price",
            _l("List price"),
            v.parse_amount,
            ("单价", "价格", "售价", "标准价", "销售单价", "price", "list price", "unit price"),
        ),
        FieldSpec("vat_rate", _l("VAT rate"), v.parse_rate, ("税率", "增值税率", "vat", "vat rate", "tax rate")),
        FieldSpec("category", _l("Category"), _text(60), ("类别", "分类", "产品类别", "category")),
        FieldSpec("description", _l("Description"), _text(2000), ("描述", "说明", "备注", "description", "notes")),
    ),
    # 凭证导入: one row per voucher line, as Chinese accounting software exports vouchers; the
    # lines of a voucher share its 凭证号 (and month).
    "journal_entries": (
        FieldSpec(
            "date", _l("Date"), v.parse_date, ("日期", "凭证日期", "制单日期", "记账日期", "date"), required=True
        ),
        FieldSpec("voucher_word", _l("Voucher type"), _text(10), ("凭证字", "凭证类别", "凭证类型", "voucher type")),
        FieldSpec(
            "voucher",
            _l("Voucher number"),
            _text(30),
            ("凭证号", "凭证字号", "凭证编号", "凭证号码", "voucher", "voucher no", "voucher number", "entry no"),
            required=True,
        ),
        FieldSpec("memo", _l("Summary"), _text(255), ("摘要", "凭证摘要", "memo", "summary", "description")),
        FieldSpec(
            "account_code", _l("Account code"), _text(40), ("科目编码", "科目代码", "科目编号", "account code", "code")
        ),
        FieldSpec(
            "account_name",
            _l("Account name"),
            _text(200),
            ("科目名称", "会计科目", "科目", "科目全名", "科目全称", "account", "account name"),
        ),
        FieldSpec("debit", _l("Debit"), v.parse_amount, ("借方金额", "借方", "借方本币", "借", "debit")),
        FieldSpec("credit", _l("Credit"), v.parse_amount, ("贷方金额", "贷方", "贷方本币", "贷", "credit")),
        FieldSpec(
            "party",
            _l("Counterparty"),
            _text(200),
            ("往来单位", "往来", "客户", "供应商", "客户名称", "供应商名称", "核算项目", "counterparty", "party"),
        ),
        FieldSpec("department", _l("Department"), _text(60), ("部门", "部门名称", "核算部门", "department")),
    ),
    # The historical ledger (销售台账): a row per sale; rows sharing a 订单号 are one order.
    "orders": (
        FieldSpec(
            "order_no",
            _l("Order number"),
            _text(60),
            ("订单号", "订单编号", "单号", "销售单号", "order no", "order number"),
        ),  # fmt: skip
        FieldSpec(
            "date",
            _l("Date"),
            v.parse_date,
            ("日期", "下单日期", "销售日期", "订单日期", "成交日期", "date"),
            required=True,
        ),
        FieldSpec(
            "customer",
            _l("Customer name"),
            _text(200),
            ("客户名称", "客户", "公司名称", "单位名称", "购货单位", "customer", "customer name", "company"),
            required=True,
        ),
        FieldSpec(
            "customer_uscc", _l("Customer credit code"), v.parse_uscc, ("统一社会信用代码", "信用代码", "税号", "uscc")
        ),
        FieldSpec(
            "region", _l("Region"), _text(30), ("地区", "区域", "省份", "销售区域", "所属地区", "region", "province")
        ),
        FieldSpec("city", _l("City"), _text(30), ("城市", "市", "city")),
        OWNER,
        FieldSpec(
            "product_code",
            _l("Product code"),
            _text(40),
            ("产品编码", "产品编号", "货号", "物料编码", "sku", "product code"),
        ),  # fmt: skip
        FieldSpec(
            "product",
            _l("Product name"),
            _text(200),
            ("产品", "产品名称", "品名", "商品名称", "商品", "货品名称", "product", "product name"),
            required=True,
        ),
        FieldSpec("quantity", _l("Quantity"), v.parse_quantity, ("数量", "销售数量", "数量(台)", "qty", "quantity")),
        FieldSpec(
            "unit_price", _l("Unit price"), v.parse_amount, ("单价", "销售单价", "不含税单价", "price", "unit price")
        ),  # fmt: skip
        FieldSpec(
            "amount",
            _l("Amount"),
            v.parse_amount,
            ("金额", "销售金额", "合计金额", "不含税金额", "金额(不含税)", "销售额", "amount"),
        ),  # fmt: skip
        FieldSpec(
            "amount_incl",
            _l("Amount incl. VAT"),
            v.parse_amount,
            ("含税金额", "金额(含税)", "价税合计", "含税销售额", "amount incl. vat", "gross"),
        ),  # fmt: skip
        FieldSpec("tax_rate", _l("VAT rate"), v.parse_rate, ("税率", "增值税率", "vat", "vat rate", "tax rate")),
        FieldSpec("status", _l("Status"), _text(20), ("状态", "订单状态", "发货状态", "status")),
        FieldSpec("notes", _l("Notes"), _text(2000), ("备注", "说明", "notes", "remarks")),
    ),
}
# Of each group, at least one column must be mapped (on top of the required fields).
ONE_OF: dict[str, tuple[tuple[str, ...], ...]] = {
    "journal_entries": (("account_code", "account_name"), ("debit", "credit")),
    "orders": (("unit_price", "amount", "amount_incl"),),
}

_SPACE = re.compile(r"[\s_:：*＊()（）\[\]【】]+")


def norm_header(text: Any) -> str:
    """Header text as compared: width-folded, lower case, no spaces, colons, stars or brackets."""
    return _SPACE.sub("", v.cell_text(text)).lower()


def fields_of(kind: str) -> tuple[FieldSpec, ...]:
    return FIELDS[kind]


def field_map(kind: str) -> dict[str, FieldSpec]:
    return {f.key: f for f in FIELDS[kind]}


def _synonym_index(kind: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for f in FIELDS[kind]:
        for word in f.synonyms:
            index.setdefault(norm_header(word), f.key)
    return index


def match_header(kind: str, text: Any) -> str | None:
    """The field a header names, or None."""
    key = norm_header(text)
    return _synonym_index(kind).get(key) if key else None


def guess_mapping(kind: str, headers: list[Any], saved: dict[str, str] | None = None) -> dict[str, str]:
    """Column index (as a string, JSON-safe) → field key. A mapping the workspace saved for the same
    header text wins over the synonyms; each field is taken by one column at most (the first)."""
    saved = saved or {}
    known = field_map(kind)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for i, h in enumerate(headers):
        key = norm_header(h)
        if not key:
            continue
        field = saved.get(key) if key in saved else match_header(kind, h)
        if field and field in known and field not in taken:
            out[str(i)] = field
            taken.add(field)
    return out
