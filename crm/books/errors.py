"""Refusals by the books' rules. Each names its rule, so the UI and the API can say which rule
refused (``unbalanced``, ``period_closed``, ``over_allocation`` …), and carries per-field
reasons like any InvalidInput: nothing was changed."""

from __future__ import annotations

from crm.sales.services import InvalidInput


class RuleViolation(InvalidInput):
    def __init__(self, rule: str, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.rule = rule
