"""Job kinds and their functions. A job function takes (record, progress) inside its tenant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workers.jobs.members_export import members_export
from workers.jobs.pool_rules import pool_rules

JOBS: dict[str, Callable[..., Any]] = {
    "members_export": members_export,
    "pool_rules": pool_rules,
}
