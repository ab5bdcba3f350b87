"""How an area joins the role × route matrix and the cross-tenant walk from a file of its own.

Several areas are built at once; each keeps its rows and objects in ``tests/area_<name>.py``
instead of editing the shared tables in test_route_matrix.py and test_cross_tenant.py. Such a
module may define:

``ROWS``         ``{(method, rule): row(...)}`` — joins MATRIX (test_route_matrix)
``PARAMS``       ``{url variable: fn(world, role)}`` — a value for each new URL variable
``RULE_PARAMS``  ``{rule: {variable: fn(world, role)}}`` — where one rule needs another value
``OBJECTS``      ``{url variable: fn(world)}`` — workspace a's object (test_cross_tenant)
``build(app, world)`` — adds the area's objects to every workspace of ``world.tenants``;
                  called by the world fixtures of both tests.

The inventory tests still fail when a route is in neither MATRIX nor an area's ROWS.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType
from typing import Any

ROLES = ("anonymous", "owner", "admin", "sales_manager", "sales", "finance")
MEMBER_ROLES = ROLES[1:]


def row(anonymous: int, owner: int, admin: int, sales_manager: int, sales: int, finance: int) -> dict[str, int]:
    return dict(zip(ROLES, (anonymous, owner, admin, sales_manager, sales, finance), strict=True))


def everyone(status: int) -> dict[str, int]:
    return row(status, status, status, status, status, status)


def members(status: int, anonymous: int = 404) -> dict[str, int]:
    """Same answer for every member; anonymous gets `anonymous` (404 inside /w/<slug>/)."""
    return row(anonymous, status, status, status, status, status)


@cache
def areas() -> tuple[ModuleType, ...]:
    import tests

    names = sorted(m.name for m in pkgutil.iter_modules(tests.__path__) if m.name.startswith("area_"))
    return tuple(importlib.import_module(f"tests.{name}") for name in names)


def merged(attribute: str) -> dict[Any, Any]:
    """The union of one table over every area; an entry defined twice is a mistake."""
    out: dict[Any, Any] = {}
    for module in areas():
        table = getattr(module, attribute, {})
        clash = set(out) & set(table)
        assert not clash, f"{module.__name__}.{attribute} redefines {sorted(clash)}"
        out.update(table)
    return out


def build_all(app: Any, world: Any) -> None:
    for module in areas():
        build = getattr(module, "build", None)
        if build is not None:
            build(app, world)
