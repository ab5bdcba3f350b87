"""Sections of the customer 360° page, contributed by each sales context.

A context registers ``(order, template, loader)``; the loader takes (member, customer) and
returns the template's context (or None to hide the section). Each loader must issue a
constant number of SQL statements and respect the member's scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crm.sales.models import Customer
from tenants.models import Membership

Loader = Callable[[Membership, Customer], dict[str, Any] | None]


@dataclass(frozen=True)
class Section:
    order: int
    template: str
    loader: Loader
    column: str = "main"  # main (left, wide) or side (right)


SECTIONS: list[Section] = []


def register(section: Section) -> None:
    if all(s.template != section.template for s in SECTIONS):
        SECTIONS.append(section)
        SECTIONS.sort(key=lambda s: s.order)


def render_sections(member: Membership, customer: Customer) -> list[tuple[Section, dict[str, Any]]]:
    out = []
    for s in SECTIONS:
        ctx = s.loader(member, customer)
        if ctx is not None:
            out.append((s, ctx))
    return out
