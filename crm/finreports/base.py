"""What a finance report is, for everyone who shows or exports one: the page, the API, the xlsx
and PDF writers. A builder takes (tenant, actor, params) and returns a Report whose ``rows``
may be a generator streamed from the database, so exporters can write a million lines without
holding them: iterate ``rows`` once.

Builders register themselves in REPORTS under the key the API and exports use
("trial_balance", "general_ledger", "journal", "balance_sheet", "income_statement",
"ar_aging", "ap_aging", "statement").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crm.sales.services import InvalidInput
from tenants.models import Membership, Tenant

# text | money (Decimal) | number (Decimal or int, plain) | date | int
COLUMN_KINDS = ("text", "money", "number", "date", "int")


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # a lazy string: rendered in the reader's language when shown or exported
    kind: str = "text"
    width: int = 14  # in characters, for xlsx and as a hint for the PDF


@dataclass
class Report:
    key: str
    title: Any
    subtitle: str  # the period or as-of date, already formatted
    columns: list[Column]
    rows: Iterable[Sequence[Any]]  # values in column order; may be a one-shot generator
    totals: list[Sequence[Any]] = field(default_factory=list)  # rows shown bold at the bottom
    notes: list[str] = field(default_factory=list)  # lines under the table (e.g. the total in 大写)
    params: dict[str, Any] = field(default_factory=dict)  # the validated parameters, echoed back
    row_count: int | None = None  # when known without iterating (progress of exports)
    # Rows that start a section (e.g. an account heading in the general ledger) have this
    # marker as their last value; writers show them bold and drop the marker.
    section_marker: str | None = None


Builder = Callable[[Tenant, Membership, dict[str, Any]], Report]
REPORTS: dict[str, Builder] = {}


def register(key: str) -> Callable[[Builder], Builder]:
    def deco(fn: Builder) -> Builder:
        REPORTS[key] = fn
        return fn

    return deco


def build(key: str, tenant: Tenant, actor: Membership, params: dict[str, Any]) -> Report:
    """The report named ``key``; InvalidInput for an unknown key or bad parameters."""
    import crm.finreports.builders  # noqa: F401, PLC0415 — registers the builders

    builder = REPORTS.get(key)
    if builder is None:
        raise InvalidInput({"report": f"unknown report {key!r}"})
    return builder(tenant, actor, params)
