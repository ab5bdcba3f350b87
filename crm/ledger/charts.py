"""The ledger's charts as Chart.js configurations: the trend of sales per month (or per week for
a short range), sales by region, and each product's share. The page puts each configuration in
a data-chart attribute (no inline script: the CSP forbids it); static/js/app.js draws them."""

from __future__ import annotations

import dataclasses
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
    """Two aggregate statements over the range (without dates: the twelve months to today): by
    month (or week, for three months or less), and by region × product for the bar and the
    doughnut."""
    if f.date_from is None and f.date_to is None:
        last = today or date.today()
        first = services.shift("month", last.replace(day=1), -11)
        f = dataclasses.replace(f, date_from=first, date_to=last)
    first, last = f.date_from or date(2000, 1, 1), f.date_to or (today or date.today())
    short = (last - first).days <= 92
    period = "week" if short else "month"
    by_time = services.summarize(actor, f, period)
    mix = services.summarize(actor, f, "region", "product")
    zero = Decimal("0.00")
    buckets = services.buckets_between(period, first, last) if (last - first).days <= 3700 else by_time.row_keys
    trend = [str(by_time.row_totals[b].amount if b in by_time.row_totals else zero) for b in buckets]
    keys = mix.col_keys
    top, rest = keys[:TOP_PRODUCTS], keys[TOP_PRODUCTS:]
    product_labels = [mix.col_labels[k] for k in top]
    product_values = [mix.col_totals[k].amount for k in top]
    if rest:
        product_labels.append(_("Other products"))
        product_values.append(sum((mix.col_totals[k].amount for k in rest), zero))

    return LedgerCharts(
        trend={
            "type": "line",
            "data": {
                "labels": [services.bucket_label(period, b) for b in buckets],
                "datasets": [{
                    "label": _("Amount excluding tax"), "data": trend,
                    "borderColor": "#0d6efd", "backgroundColor": "rgba(13,110,253,.15)", "fill": True,
                    "tension": 0.25,
                }],
            },
            "options": {"scales": {"y": {"beginAtZero": True}}},
        },
        regions={
            "type": "bar",
            "data": {
                "labels": [mix.row_labels[k] for k in mix.row_keys],
                "datasets": [{
                    "label": _("Amount excluding tax"),
                    "data": [str(mix.row_totals[k].amount) for k in mix.row_keys],
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
        has_data=not mix.is_empty,
        period=period,
    )  # fmt: skip
