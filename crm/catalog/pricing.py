"""Line pricing shared by every priced document (quotes, orders, …): one implementation.

Rounding order (reference/README.md, half-up at 0.01 at every step):

1. line amount = round(quantity × unit price × (1 − discount % ÷ 100)) — in the document's
   entry basis: excluding tax by default, including tax when ``includes_tax``;
2. entered excluding tax:  excl = line amount;  tax = round(excl × rate);  incl = excl + tax;
   entered including tax:  incl = line amount;  excl = round(incl ÷ (1 + rate));  tax = incl − excl
   (so 1,000.00 including 13 % is 884.96 + 115.04 and the including amount stays exact);
3. totals are the sums of the lines' excl, tax and incl — never recomputed from the totals,
   so the document's total always equals what its lines show, and incl = excl + tax.

``parse_lines`` validates raw line dicts (from a form or the API) and prices them; errors are
keyed ``lines.<n>.<field>`` and raised together as one InvalidInput. Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from crm.catalog.models import Product
from crm.catalog.services import parse_money, parse_rate
from crm.db import db, to_money
from crm.sales.services import InvalidInput

ZERO = Decimal("0.00")
MAX_QTY = Decimal("9999999999.999")
MAX_AMOUNT = Decimal("999999999999.99")


@dataclass(frozen=True)
class LineAmounts:
    excl: Decimal
    tax: Decimal
    incl: Decimal


def line_amounts(
    quantity: Decimal, unit_price: Decimal, rate: Decimal, discount_pct: Decimal = ZERO, *, includes_tax: bool = False
) -> LineAmounts:
    """One line, per the rounding order in this module's docstring."""
    amount = to_money(quantity * unit_price * (Decimal(100) - discount_pct) / Decimal(100))
    if includes_tax:
        excl = to_money(amount / (Decimal(1) + rate))
        return LineAmounts(excl, amount - excl, amount)
    tax = to_money(amount * rate)
    return LineAmounts(amount, tax, amount + tax)


def totals(lines: list[LineAmounts]) -> LineAmounts:
    excl = sum((x.excl for x in lines), ZERO)
    tax = sum((x.tax for x in lines), ZERO)
    return LineAmounts(excl, tax, excl + tax)


@dataclass(frozen=True)
class PricedLine:
    product_id: int | None
    description: str
    specification: str | None
    unit: str | None
    quantity: Decimal
    unit_price: Decimal
    discount_pct: Decimal
    tax_rate: Decimal
    amounts: LineAmounts


def parse_lines(raw: list[dict[str, Any]], *, includes_tax: bool = False) -> list[PricedLine]:
    """Validate and price every line; a product fills in what the line leaves blank."""
    if not raw:
        raise InvalidInput({"lines": _("Add at least one line.")})
    errors: dict[str, str] = {}
    out: list[PricedLine] = []
    for i, data in enumerate(raw):
        key = f"lines.{i}."
        product = None
        if data.get("product_id"):
            product = db.session.scalars(select(Product).where(Product.id == data["product_id"])).one_or_none()
            if product is None:
                errors[key + "product_id"] = _("No such product.")
                continue
        description = (data.get("description") or (product.name if product else "") or "").strip()
        if not description:
            errors[key + "description"] = _("Choose a product or describe the line.")
        qty = parse_money(data.get("quantity", "1"))
        if qty is None or qty <= 0 or qty > MAX_QTY or qty != qty.quantize(Decimal("0.001")):
            errors[key + "quantity"] = _("Enter a quantity above zero (at most three decimals).")
        price_raw = data.get("unit_price")
        price = parse_money(price_raw) if price_raw not in (None, "") else (product.list_price if product else None)
        if price is None or price < 0 or price > MAX_AMOUNT or price != price.quantize(Decimal("0.01")):
            errors[key + "unit_price"] = _("Enter a unit price of zero or more, e.g. 1280.00.")
        disc = parse_money(data.get("discount_pct") or "0")
        if disc is None or disc < 0 or disc > 100:
            errors[key + "discount_pct"] = _("The discount is a percentage from 0 to 100.")
        rate_raw = data.get("tax_rate")
        rate = parse_rate(rate_raw) if rate_raw not in (None, "") else (product.vat_rate if product else None)
        if rate is None:
            errors[key + "tax_rate"] = _("The VAT rate must be 13, 9, 6, 3, 1 or 0 %.")
        if any(k.startswith(key) for k in errors):
            continue
        assert qty is not None and price is not None and disc is not None and rate is not None
        price, disc = to_money(price), disc.quantize(Decimal("0.01"))
        out.append(
            PricedLine(
                product_id=product.id if product else None,
                description=description[:200],
                specification=(data.get("specification") or (product.specification if product else None) or None),
                unit=(data.get("unit") or (product.unit if product else None) or None),
                quantity=qty,
                unit_price=price,
                discount_pct=disc,
                tax_rate=rate,
                amounts=line_amounts(qty, price, rate, disc, includes_tax=includes_tax),
            )
        )
    if errors:
        raise InvalidInput(errors)
    return out


def check_total(lines: list[LineAmounts]) -> LineAmounts:
    """The document totals; too large a total is an error on ``lines``."""
    t = totals(lines)
    if t.incl > MAX_AMOUNT:
        raise InvalidInput({"lines": _("The total is too large.")})
    return t
