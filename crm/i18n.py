"""Choosing the language of a request."""

from __future__ import annotations

from flask import has_request_context, request, session
from flask_login import current_user

SUPPORTED = ("zh_Hans_CN", "en")


def normalise_locale(tag: str | None) -> str | None:
    if not tag:
        return None
    t = tag.replace("-", "_").lower()
    if t.startswith("zh"):
        return "zh_Hans_CN"
    if t.startswith("en"):
        return "en"
    return None


def from_accept_language() -> str:
    for value, _q in request.accept_languages:
        loc = normalise_locale(value)
        if loc:
            return loc
    return "zh_Hans_CN"


def locale_for_request() -> str | None:
    """The member's saved choice, else the one picked this session, else the browser's."""
    if not has_request_context():
        # Jobs and commands translate too (service errors); None means the default locale.
        return None
    if current_user and current_user.is_authenticated and current_user.locale in SUPPORTED:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in SUPPORTED:
        return chosen
    return from_accept_language()
