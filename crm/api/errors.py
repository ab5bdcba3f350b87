"""How every /api/v1 resource turns a service's refusal into a response: one mapping, so a
client sees the same shape everywhere (422 with per-field errors, 403 with a sentence)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

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


def object_first(loader: Callable[[int], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Look the URL's object up (``loader`` answers 404 / 403) before flask-smorest parses the
    body, so another workspace's id is 404 and never a validation error about the body.

    Stack it above ``@bp.arguments(...)`` (or list it in a MethodView's ``decorators``, which
    runs it before every method); the view's one ``*_id`` URL variable is passed on. A loader
    that needs more than the id closes over it, e.g. ``object_first(lambda settlement_id:
    _settlement(settlement_id, "offset"))``, or checks a permission after the lookup (403).
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            loader(next(v for k, v in kwargs.items() if k.endswith("_id")))
            return view(*args, **kwargs)

        return wrapped

    return decorator
