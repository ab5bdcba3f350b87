"""PDFs with WeasyPrint, Chinese included (Noto CJK), fetching nothing from the network.

The URL fetcher only serves files under the app's own static folder; anything else —
http(s), file paths elsewhere, data the template did not ask for — is refused.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app
from weasyprint import HTML, default_url_fetcher

# Set on html and @page in every PDF template; listed here for the CSS the code adds.
CJK_FONT_STACK = '"Noto Sans CJK SC", "Noto Sans SC", "Noto Sans", sans-serif'


class ForbiddenFetch(ValueError):
    pass


def _static_root() -> Path:
    return Path(current_app.static_folder or "").resolve()


def static_only_fetcher(url: str, *args, **kwargs):  # type: ignore[no-untyped-def]
    parts = urlsplit(url)
    root = _static_root()
    if parts.scheme == "file":
        path = Path(unquote(parts.path)).resolve()
        if path.is_relative_to(root):
            return default_url_fetcher(url, *args, **kwargs)
    raise ForbiddenFetch(url)


def render_pdf(html: str) -> bytes:
    base = _static_root().as_uri() + "/"
    return HTML(string=html, base_url=base, url_fetcher=static_only_fetcher).write_pdf()
