"""Values as people type them in a spreadsheet: amounts, dates, phones, credit codes.

Every parser returns ``(value, None)`` or ``(None, reason)``: garbage gets a reason a person
understands, never an exception. No database, no request: unit-tested directly.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from crm.sales import rules

CENT = Decimal("0.01")
EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0, with its 1900 leap-year bug folded in
# A serial number taken for a date only inside a plausible range (1954 … 2119).
SERIAL_MIN, SERIAL_MAX = 20000, 80000
TOTAL_WORDS = ("合计", "小计", "总计", "共计", "本月合计", "本期合计", "本年累计", "total", "subtotal", "grand total",
               "sum")  # fmt: skip

_MINUS = {"－": "-", "−": "-", "–": "-", "—": "-"}
_CURRENCY = re.compile(r"(人民币|rmb|cny|¥|￥|元整|元|圆)", re.IGNORECASE)
_DATE_CN = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$")
_DATE_SEP = re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:[ T].*)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def fold(text: str) -> str:
    """Full-width digits, letters, punctuation and spaces to ASCII; trimmed."""
    text = unicodedata.normalize("NFKC", text)
    for k, v in _MINUS.items():
        text = text.replace(k, v)
    return text.replace("\u3000", " ").strip()


def cell_text(value: Any, folded: bool = True) -> str:
    """A cell as text: None → "", whole floats without ".0", dates ISO; folded to ASCII widths unless
    ``folded`` is false (names keep their full-width brackets: 百川科技（北京）有限公司)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return fold(str(value)) if folded else str(value).replace("\u3000", " ").strip()


def is_blank(value: Any) -> bool:
    return cell_text(value) == ""


_TOTALS = frozenset(w.replace(" ", "") for w in TOTAL_WORDS)


def is_total_row(cells: list[Any]) -> bool:
    """A 合计 / 小计 / 总计 row: a total word in one of the first text cells of the row, alone or
    followed by a colon (合计: 12 笔)."""
    seen = 0
    for v in cells:
        t = cell_text(v)
        if not t:
            continue
        low = t.replace(" ", "").lower()
        if low.rstrip(":：") in _TOTALS or low.split(":", 1)[0] in _TOTALS:
            return True
        seen += 1
        if seen >= 3:
            break
    return False


def parse_amount(value: Any) -> tuple[Decimal | None, str | None]:
    """1,234.50 · ¥1234.5 · 1234.5元 · RMB 1234.50 · 1.2万 (= 12,000) · (123.45) → -123.45 ·
    full-width digits and minus. Floats from a spreadsheet cell go through their shortest repr."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, bool):
        return None, _("Not an amount: %(value)s", value=value)
    if isinstance(value, int):
        return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP), None
    if isinstance(value, float):
        d = Decimal(repr(value))
        return d.quantize(CENT, rounding=ROUND_HALF_UP), None
    if isinstance(value, Decimal):
        return value.quantize(CENT, rounding=ROUND_HALF_UP), None
    raw = str(value)
    text = fold(raw).replace(",", "").replace("，", "").replace(" ", "")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    text = _CURRENCY.sub("", text)
    if text.startswith("-"):
        negative, text = not negative, text[1:]
    elif text.startswith("+"):
        text = text[1:]
    text = _CURRENCY.sub("", text)
    factor = Decimal(1)
    if text.endswith("万"):
        factor, text = Decimal(10000), text[:-1]
    elif text.endswith("亿"):
        factor, text = Decimal(100000000), text[:-1]
    if not text or not re.fullmatch(r"\d+(\.\d+)?", text):
        return None, _("Not an amount: %(value)s", value=raw.strip())
    try:
        d = Decimal(text) * factor
    except InvalidOperation:
        return None, _("Not an amount: %(value)s", value=raw.strip())
    d = d.quantize(CENT, rounding=ROUND_HALF_UP)
    return (-d if negative else d), None


def parse_quantity(value: Any) -> tuple[Decimal | None, str | None]:
    """A quantity as typed (1,200 · 1.5万 · full-width digits), to three decimals."""
    if isinstance(value, float):
        return Decimal(repr(value)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP), None
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value), None
    text = fold(cell_text(value)).replace(",", "").replace(" ", "")
    if not text:
        return None, None
    factor = Decimal(10000) if text.endswith("万") else Decimal(1)
    text = text.rstrip("万")
    if not re.fullmatch(r"\d+(\.\d+)?", text):
        return None, _("Not a quantity: %(value)s", value=cell_text(value))
    return (Decimal(text) * factor).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP), None


def _make_date(y: int, m: int, d: int, raw: str) -> tuple[date | None, str | None]:
    try:
        return date(y, m, d), None
    except ValueError:
        return None, _("No such date: %(value)s", value=raw)


def parse_date(value: Any) -> tuple[date | None, str | None]:
    """2026年3月5日 · 2026/3/5 · 2026-03-05 · 2026.3.5 · 20260305 · an Excel serial number ·
    a date or datetime cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    if isinstance(value, bool):
        return None, _("Not a date: %(value)s", value=value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial(float(value), str(value))
    raw = str(value).strip()
    text = fold(raw)
    for pattern in (_DATE_CN, _DATE_SEP, _DATE_COMPACT):
        m = pattern.match(text)
        if m:
            return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), raw)
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return _serial(float(text), raw)
    return None, _("Not a date: %(value)s (write it as 2026-03-05)", value=raw)


def _serial(number: float, raw: str) -> tuple[date | None, str | None]:
    if not SERIAL_MIN <= number <= SERIAL_MAX:
        return None, _("Not a date: %(value)s (write it as 2026-03-05)", value=raw)
    return EXCEL_EPOCH + timedelta(days=int(number)), None


def parse_phone(value: Any) -> tuple[str | None, str | None]:
    """Kept as typed (folded to ASCII); must hold 5 to 20 digits."""
    text = cell_text(value)
    if not text:
        return None, None
    digits = re.sub(r"\D", "", text)
    if not 5 <= len(digits) <= 20:
        return None, _("Not a phone number: %(value)s", value=text)
    return text[:40], None


def parse_uscc(value: Any) -> tuple[str | None, str | None]:
    """A unified social credit code: 18 characters with a valid check character."""
    text = cell_text(value)
    if not text:
        return None, None
    code = rules.normalise_uscc(text)
    if not rules.uscc_is_valid(code):
        return None, _("Not a valid unified social credit code: %(value)s", value=text)
    return code, None


def parse_text(value: Any, max_len: int = 200) -> tuple[str | None, str | None]:
    text = cell_text(value, folded=False)
    if not text:
        return None, None
    if len(text) > max_len:
        return None, _("Too long: at most %(n)d characters.", n=max_len)
    return text, None


def parse_email(value: Any) -> tuple[str | None, str | None]:
    text = cell_text(value)
    if not text:
        return None, None
    if "@" not in text or " " in text or len(text) > 254:
        return None, _("Not an e-mail address: %(value)s", value=text)
    return text.lower(), None


def parse_bool(value: Any) -> tuple[bool | None, str | None]:
    text = cell_text(value).lower()
    if not text:
        return None, None
    if text in {"1", "y", "yes", "true", "是", "对", "√", "✓", "x"}:
        return True, None
    if text in {"0", "n", "no", "false", "否", "不是"}:
        return False, None
    return None, _("Write yes or no, not %(value)s", value=cell_text(value))


def parse_rate(value: Any) -> tuple[Decimal | None, str | None]:
    """A VAT rate: 13%, 13, 0.13."""
    from crm.catalog.services import parse_rate as catalogue_rate

    if is_blank(value):
        return None, None
    text = cell_text(value)
    rate = catalogue_rate(text)
    if rate is None:
        return None, _("Not a VAT rate: %(value)s (use 13%%, 9%%, 6%%, 3%%, 1%% or 0%%)", value=text)
    return rate, None


def parse_id(value: Any) -> tuple[int | None, str | None]:
    text = cell_text(value)
    if not text:
        return None, None
    if not text.isdigit():
        return None, _("Not a record id: %(value)s", value=text)
    return int(text), None
