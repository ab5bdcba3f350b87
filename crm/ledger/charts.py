"""The ledger's charts as Chart.js configurations: the trend of sales per month (or per week for
a short range), sales by region, and each product's share. The page puts each configuration in
a data-chart attribute (no inline script: the CSP forbids it); static/js/app.js draws them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from crm.ledger import services
from tenants.models import Membership

PALETTE = ["#0d6efd", "#198754", "#ffc107", "#dc3545", "#6f42c1", "#20c997", "#fd7e14", "#0dcaf0", "#6c757d"]
TOP_PRODUCTS = 8


@dataclass
class LedgerCharts:
    trend: dict[str, Any]
    regions: dict[str, Any]
    products: dict[str, Any]
    has_data: bool
    period: str


def build(actor: Membership, f: services.LedgerFilter, today: date | None = None) -> LedgerCharts:
    short = f.date_from is not None and f.date_to is not None and (f.date_to - f.date_from).days <= 92
    period = "week" if short else "month"
    trend = services.growth(actor, f, period=period, measure="amount", today=today)
    by_region = services.summarize(actor, f, "region")
    by_product = services.summarize(actor, f, "product")

    keys = by_product.row_keys
    top, rest = keys[:TOP_PRODUCTS], keys[TOP_PRODUCTS:]
    product_labels = [by_product.row_labels[k] for k in top]
    product_values = [by_product.row_totals[k].amount for k in top]
    if rest:
        product_labels.append(_("Other products"))
        product_values.append(sum((by_product.row_totals[k].amount for k in rest), Decimal("0.00")))

    return LedgerCharts(
        trend={
            "type": "line",
            "data": {
                "labels": [trend.bucket_labels[b] for b in trend.buckets],
                "datasets": [{
                    "label": _("Amount excluding tax"), "data": [str(trend.totals[b].value) for b in trend.buckets],
                    "borderColor": "#0d6efd", "backgroundColor": "rgba(13,110,253,.15)", "fill": True,
                    "tension": 0.25,
                }],
            },
            "options": {"scales": {"y": {"beginAtZero": True}}},
        },
        regions={
            "type": "bar",
            "data": {
                "labels": [by_region.row_labels[k] for k in by_region.row_keys],
                "datasets": [{
                    "label": _("Amount excluding tax"),
                    "data": [str(by_region.row_totals[k].amount) for k in by_region.row_keys],
                    "backgroundColor": "#198754",
                }],
            },
            "options": {"indexAxis": "y", "scales": {"x": {"beginAtZero": True}}},
        },
        products={
            "type": "doughnut",
            "data": {
                "labels": product_labels,
                "datasets": [{"data": [str(v) for v in product_values],
                              "backgroundColor": PALETTE[: len(product_values)]}],
            },
            "options": {"plugins": {"legend": {"display": True, "position": "bottom"}}},
        },
        has_data=not by_region.is_empty,
        period=period,
    )  # fmt: skip
