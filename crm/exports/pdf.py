"""PDFs with WeasyPrint, Chinese included (Noto CJK), fetching nothing from the network.

The URL fetcher only serves files under the app's own static folder, and inline
``data:image/png;base64,…`` / ``data:image/jpeg;base64,…`` images (a workspace's letterhead
logo), decoded here without any network; anything else — http(s), file paths elsewhere,
other data: URLs — is refused, so a template that embeds user text can never make the
server fetch a URL.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

# Set on html and @page in every PDF template; listed here for the CSS the code adds.
CJK_FONT_STACK = '"Noto Sans CJK SC", "Noto Sans SC", "Noto Sans", sans-serif'


class ForbiddenFetch(FatalURLFetchingError):
    """Fatal on purpose: WeasyPrint swallows ordinary fetch errors and renders on."""


def is_allowed(url: str, static_root: Path) -> bool:
    parts = urlsplit(url)
    if parts.scheme != "file":
        return False
    path = Path(unquote(parts.path)).resolve()
    return path.is_relative_to(static_root) and path.is_file()


INLINE_IMAGE = re.compile(r"^data:(image/png|image/jpeg);base64,([A-Za-z0-9+/=\s]+)$")


def inline_image(url: str) -> tuple[str, bytes] | None:
    """(media type, bytes) of a base64 PNG or JPEG data: URL; None for any other URL."""
    m = INLINE_IMAGE.match(url)
    if m is None:
        return None
    try:
        return m.group(1), base64.b64decode(m.group(2), validate=False)
    except (binascii.Error, ValueError):
        return None


class StaticOnlyFetcher(URLFetcher):
    def __init__(self, static_root: Path, **kwargs: Any) -> None:
        super().__init__(allowed_protocols=("file",), **kwargs)
        self.static_root = static_root.resolve()

    def fetch(self, url: str, headers: Any = None) -> Any:
        image = inline_image(url)
        if image is not None:
            return URLFetcherResponse(url, image[1], {"Content-Type": image[0]})
        if not is_allowed(url, self.static_root):
            raise ForbiddenFetch(url)
        return super().fetch(url, headers)


def static_only_fetcher() -> StaticOnlyFetcher:
    return StaticOnlyFetcher(Path(current_app.static_folder or ""))


def render_pdf(html: str) -> bytes:
    root = Path(current_app.static_folder or "").resolve()
    return HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=static_only_fetcher()).write_pdf()
