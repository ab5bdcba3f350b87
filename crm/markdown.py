"""Markdown written by members (announcements, knowledge-base articles, reports) to safe HTML.

Two walls, so that neither alone has to be perfect: markdown-it renders with raw HTML switched
off (a typed <script> comes out as text), then nh3 keeps only the tags and attributes below.
Links may only be http(s) or mailto (no javascript:, no data:); images only from this app
(a path on this host, as uploads are served), never from elsewhere — an outside image would
tell its owner who read the page and when.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])

TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def _same_app_only(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src":
        # A path on this host ("/w/acme/…"), not a scheme-relative "//evil.example/x.png".
        return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else None
    return value


def render(text: str | None) -> Markup:
    html = _md.render(text or "")
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_same_app_only,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 — sanitised just above


def plain_text(text: str | None, limit: int = 200) -> str:
    """A one-line excerpt for lists and notifications: the rendered text without any markup."""
    # Text, not HTML: the template escapes it again when it shows it.
    words = " ".join(html.unescape(nh3.clean(_md.render(text or ""), tags=set())).split())
    return words if len(words) <= limit else words[: limit - 1] + "…"
