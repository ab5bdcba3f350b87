"""Small URL helpers shared by views."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask, Response, g


def safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after sign-in (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def after_response(fn: Callable[[], None]) -> None:
    """Run fn once the response has been sent (e.g. mail whose latency must not show)."""
    g.setdefault("_after_response", []).append(fn)


def init_app(app: Flask) -> None:
    @app.after_request
    def _schedule(response: Response) -> Response:
        for fn in g.pop("_after_response", []):
            response.call_on_close(fn)
        return response
