"""Amounts in Chinese capital numerals (大写金额), exactly, from a Decimal.

Written here rather than taken from cn2an: the rules for 元/角/分 on cheques and invoices
(整 after whole yuan, 零 between a yuan amount and its 分 when 角 is zero, no 零 before 角)
are a dozen lines, and an exact Decimal path avoids any float on the way.

    12345.67 → 壹万贰仟叁佰肆拾伍元陆角柒分
    100.00   → 壹佰元整
    1005.30  → 壹仟零伍元叁角
    0.05     → 伍分
"""

from __future__ import annotations

from decimal import Decimal

from crm.db import to_money

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")
BIG_UNITS = ("", "万", "亿", "万亿")


def _four(n: int) -> str:
    """0 < n < 10000, with 零 for inner gaps (no leading or trailing 零)."""
    out, zero = "", False
    for pos in range(3, -1, -1):
        d = (n // 10**pos) % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += DIGITS[d] + SMALL_UNITS[pos]
    return out


def _integer(n: int) -> str:
    if n == 0:
        return ""
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    if len(groups) > len(BIG_UNITS):
        raise ValueError("amount too large")
    out = ""
    need_zero = False
    for idx in range(len(groups) - 1, -1, -1):
        g = groups[idx]
        if g == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or g < 1000):
            out += "零"
        out += _four(g) + BIG_UNITS[idx]
        need_zero = False
    return out


def to_capital(amount: Decimal | int | str) -> str:
    """The amount (rounded half-up to the fen) in capital numerals; negatives get 负."""
    value = to_money(amount)
    sign = "负" if value < 0 else ""
    fen_total = int(abs(value) * 100)
    yuan, jiao, fen = fen_total // 100, (fen_total // 10) % 10, fen_total % 10
    if fen_total == 0:
        return "零元整"
    out = _integer(yuan)
    if yuan:
        out += "元"
    if jiao == 0 and fen == 0:
        return sign + out + "整"
    if jiao:
        out += DIGITS[jiao] + "角"
    elif yuan:
        out += "零"
    if fen:
        out += DIGITS[fen] + "分"
    return sign + out
