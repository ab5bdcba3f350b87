"""How every /api/v1 resource turns a service's refusal into a response: one mapping, so a
client sees the same shape everywhere (422 with per-field errors, 403 with a sentence)."""

from __future__ import annotations

from typing import NoReturn

from flask_smorest import abort

from crm.sales.services import InvalidInput
from roles.checks import PermissionDenied


def fail(err: Exception, forbidden: str = "You may not do this.") -> NoReturn:
    """Abort for InvalidInput (422) and PermissionDenied (403); anything else is re-raised."""
    if isinstance(err, InvalidInput):
        rule = getattr(err, "rule", None)  # crm.books.errors.RuleViolation names the rule that refused
        extra = {"rule": rule} if rule else {}
        abort(422, message="Invalid input.", errors={"json": {k: [v] for k, v in err.errors.items()}}, **extra)
    if isinstance(err, PermissionDenied):
        abort(403, message=forbidden)
    raise err
