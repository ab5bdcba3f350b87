"""Products: create, update, deactivate, list. Managed with products.manage, read with sales.access.

Services take (actor, data), check permission, flush and audit; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from crm.audit.services import changes_of, record
from crm.catalog.models import VAT_RATES, Product
from crm.db import db, to_money
from crm.sales.services import InvalidInput
from roles.checks import ensure
from tenants.models import Membership

PRODUCT_FIELDS = (
    "code",
    "name",
    "specification",
    "unit",
    "list_price",
    "vat_rate",
    "category",
    "description",
    "active",
)
MAX_PRICE = Decimal("999999999999.99")


def parse_rate(value: Any) -> Decimal | None:
    """A VAT rate given as 0.13, "13", "13%" or Decimal → Decimal("0.13"); None if not allowed."""
    if value is None or value == "":
        return None
    try:
        text = str(value).strip().rstrip("%").strip()
        rate = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if rate >= 1:
        rate = rate / 100
    rate = rate.quantize(Decimal("0.01"))
    return rate if rate in VAT_RATES else None


def parse_money(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, float | bool):
        return None
    try:
        d = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite():
        return None
    return d


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in PRODUCT_FIELDS:
        if key in values:
            v = values[key]
            if isinstance(v, str):
                v = v.strip() or None
            out[key] = v
    return out


def _validate(values: dict[str, Any], current: Product | None) -> None:
    errors: dict[str, str] = {}
    if "code" in values or current is None:
        if not values.get("code"):
            errors["code"] = _("A product needs a code.")
        else:
            stmt = select(Product.id).where(func.lower(Product.code) == values["code"].lower())
            if current is not None:
                stmt = stmt.where(Product.id != current.id)
            if db.session.scalars(stmt).first() is not None:
                errors["code"] = _("Another product already uses this code.")
    if ("name" in values or current is None) and not values.get("name"):
        errors["name"] = _("A product needs a name.")
    if "list_price" in values or current is None:
        price = parse_money(values.get("list_price", "0"))
        if price is None or price < 0 or price > MAX_PRICE:
            errors["list_price"] = _("Enter a price of zero or more, e.g. 1280.00.")
        else:
            values["list_price"] = to_money(price)
    if "vat_rate" in values or current is None:
        rate = parse_rate(values.get("vat_rate", "0.13"))
        if rate is None:
            errors["vat_rate"] = _("The VAT rate must be 13, 9, 6, 3, 1 or 0 %.")
        else:
            values["vat_rate"] = rate
    if "active" in values and values["active"] is None:
        values["active"] = False
    if errors:
        raise InvalidInput(errors)


def create_product(actor: Membership, values: dict[str, Any]) -> Product:
    ensure(actor, "products.manage")
    values = _clean(values)
    values.setdefault("active", True)
    _validate(values, None)
    p = Product(**values)
    db.session.add(p)
    db.session.flush()
    record("product.created", p, actor=actor, summary=f"{p.code} {p.name}")
    return p


def update_product(actor: Membership, p: Product, values: dict[str, Any]) -> Product:
    ensure(actor, "products.manage")
    values = _clean(values)
    _validate(values, p)
    for k, v in values.items():
        setattr(p, k, v)
    changes = changes_of(p)
    db.session.flush()
    if changes:
        record("product.updated", p, actor=actor, summary=f"{p.code} {p.name}", changes=changes)
    return p


def deactivate_product(actor: Membership, p: Product) -> Product:
    """Products are never deleted: quotes keep pointing at them."""
    ensure(actor, "products.manage")
    if p.active:
        p.active = False
        db.session.flush()
        record("product.deactivated", p, actor=actor, summary=f"{p.code} {p.name}")
    return p


@dataclass
class ProductQuery:
    q: str | None = None
    category: str | None = None
    active: bool | None = True
    page: int = 1
    page_size: int = 50


def list_products(actor: Membership, query: ProductQuery) -> tuple[list[Product], int]:
    ensure(actor, "sales.access")
    stmt = select(Product)
    if query.q:
        like = f"%{query.q.lower()}%"
        stmt = stmt.where(
            or_(func.lower(Product.code).like(like), func.lower(Product.name).like(like),
                func.lower(Product.specification).like(like))
        )  # fmt: skip
    if query.category:
        stmt = stmt.where(Product.category == query.category)
    if query.active is not None:
        stmt = stmt.where(Product.active.is_(query.active))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(
        stmt.order_by(Product.code, Product.id).offset((query.page - 1) * query.page_size).limit(query.page_size)
    )
    return list(rows), total


def categories() -> list[str]:
    rows = db.session.scalars(select(Product.category).where(Product.category.is_not(None)).distinct())
    return sorted(r for r in rows if r)


def product_choices(limit: int = 500) -> list[Any]:
    """Active products for a line's product select, by code (blank first: a typed line)."""
    from crm.choices import choices

    rows = db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.code).limit(limit))
    return choices([(None, "—")] + [(p.id, f"{p.code} · {p.name}") for p in rows])
