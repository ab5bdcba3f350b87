"""Member Markdown becomes HTML that cannot run script, leak readers to outside images or link to
javascript:/data: URLs — whatever payload is typed."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from crm.markdown import plain_text, render

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](https://tracker.example/p.png)",
    "![x](//tracker.example/p.png)",
    '<a href="javascript:alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '"><script>alert(1)</script>',
    "<details open ontoggle=alert(1)>",
    "[a](vbscript:msgbox(1))",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]


class Elements(HTMLParser):
    """Every element and attribute the browser would build from the output."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(markup)
    return parser.found


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_come_out_harmless(payload):
    for tag, attrs in elements(str(render(payload))):
        assert tag not in {"script", "iframe", "style", "svg", "math", "details", "div", "object", "embed"}, payload
        assert not any(name.startswith("on") or name == "style" for name in attrs), (payload, attrs)
        for name in ("href", "src"):
            url = (attrs.get(name) or "").strip().lower()
            assert not url.startswith(("javascript:", "vbscript:", "data:", "//")), (payload, url)
            if tag == "img" and name == "src" and url:
                assert url.startswith("/"), (payload, url)


def test_ordinary_markdown_keeps_its_shape_and_chinese_text():
    out = str(
        render("# 销售手册\n\n**重点**：见[官网](https://example.com)。\n\n| 产品 | 价格 |\n|---|---|\n| 甲 | 1 |")
    )
    assert "<h1>销售手册</h1>" in out and "<strong>重点</strong>" in out
    assert 'href="https://example.com"' in out and 'rel="noopener noreferrer nofollow"' in out
    assert "<table>" in out and "<td>甲</td>" in out


def test_images_uploaded_to_the_app_are_kept():
    out = str(render("![图](/w/acme/office/files/3)"))
    assert '<img src="/w/acme/office/files/3" alt="图">' in out


def test_plain_text_is_an_unmarked_excerpt():
    assert plain_text("**粗体** 和 <b>标签</b>") == "粗体 和 <b>标签</b>"  # text: the template escapes it
    assert plain_text("[链接](https://example.com) 正文") == "链接 正文"
    assert plain_text("字" * 300, limit=10) == "字" * 9 + "…"
