"""Imports every module that registers a report builder (crm.finreports.base.build imports this)."""

from __future__ import annotations

import crm.finreports.aging  # noqa: F401
import crm.finreports.ledger  # noqa: F401
import crm.finreports.statements  # noqa: F401
