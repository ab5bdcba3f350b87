"""Business-registration look-up (工商信息): one interface, two providers.

* ``LocalRegistry`` searches the registry table a workspace admin imported (xlsx/csv).
* ``HttpRegistry`` asks a configured HTTP service (REGISTRY_URL, REGISTRY_KEY): GET
  ``{url}?q=<name or code>`` with ``Authorization: Bearer <key>``, answering JSON
  ``{"results": [{"name", "uscc", "legal_representative", "registered_capital",
  "established_on", "address", "status"}]}``. Timeouts and bad answers become
  ``RegistryUnavailable`` with a message a person understands; nothing is cached.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from datetime import date
from typing import Protocol

from flask import current_app
from sqlalchemy import or_, select

from crm.db import db
from crm.registry.models import RegistryEntry
from crm.sales import rules
from tenants.search_sql import icontains

FIELDS = ("name", "uscc", "legal_representative", "registered_capital", "established_on", "address", "status")


@dataclass
class RegistryRecord:
    name: str
    uscc: str | None = None
    legal_representative: str | None = None
    registered_capital: str | None = None
    established_on: date | None = None
    address: str | None = None
    status: str | None = None

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["established_on"] = self.established_on.isoformat() if self.established_on else None
        return d


class RegistryUnavailable(RuntimeError):
    pass


class RegistryProvider(Protocol):
    def lookup(self, query: str, limit: int = 10) -> list[RegistryRecord]: ...


class LocalRegistry:
    def lookup(self, query: str, limit: int = 10) -> list[RegistryRecord]:
        q = rules.fold_width(query).strip()
        if not q:
            return []
        code = rules.normalise_uscc(q)
        stmt = select(RegistryEntry).where(or_(RegistryEntry.uscc == code, icontains(RegistryEntry.name, q)))
        rows = db.session.scalars(stmt.order_by(RegistryEntry.name).limit(limit))
        return [RegistryRecord(**{f: getattr(r, f) for f in FIELDS}) for r in rows]


class HttpRegistry:
    def __init__(self, url: str, key: str | None, timeout: float = 5.0) -> None:
        self.url, self.key, self.timeout = url, key, timeout

    def lookup(self, query: str, limit: int = 10) -> list[RegistryRecord]:
        q = query.strip()
        if not q:
            return []
        target = f"{self.url}{'&' if '?' in self.url else '?'}{urllib.parse.urlencode({'q': q})}"
        req = urllib.request.Request(target, headers={"Accept": "application/json"})  # noqa: S310 (configured URL)
        if self.key:
            req.add_header("Authorization", f"Bearer {self.key}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                payload = json.loads(resp.read().decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise RegistryUnavailable(str(exc)) from exc
        out = []
        for item in (payload.get("results") or [])[:limit] if isinstance(payload, dict) else []:
            if not isinstance(item, dict) or not item.get("name"):
                continue
            est = item.get("established_on")
            try:
                est_date = date.fromisoformat(est) if est else None
            except ValueError:
                est_date = None
            out.append(
                RegistryRecord(
                    name=str(item["name"])[:200],
                    uscc=rules.normalise_uscc(item.get("uscc")),
                    legal_representative=item.get("legal_representative"),
                    registered_capital=item.get("registered_capital"),
                    established_on=est_date,
                    address=item.get("address"),
                    status=item.get("status"),
                )
            )
        return out


def provider() -> RegistryProvider:
    url = current_app.config.get("REGISTRY_URL")
    if url:
        return HttpRegistry(url, current_app.config.get("REGISTRY_KEY"))
    return LocalRegistry()
