"""Settings → Letterhead: company details and logo, validated, audited, printed on the quote PDF."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess

import pytest
from PIL import Image
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.db import db
from tenants.models import Tenant
from tests import quote_factories as qf
from tests import sales_factories as sf
from tests.helpers import in_tenant, post, text_of

USCC = sf.valid_uscc("91310115MA1K4ABCD")


def _url(tenant, tail: str = "") -> str:
    return f"/w/{tenant.slug}/settings/letterhead{tail}"


def _image(fmt: str, size=(40, 20)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (31, 111, 92)).save(buf, fmt)
    return buf.getvalue()


def _letterhead(app, tenant_id: int) -> dict:
    with in_tenant(app, tenant_id):
        return dict((db.session.get(Tenant, tenant_id).settings or {}).get("letterhead") or {})


def _save(client, tenant, logo: tuple[bytes, str] | None = None, **fields):
    data = {"legal_name": "", "address": "", "phone": "", "tax_id": "", "bank": "", "bank_account": "", **fields}
    if logo is not None:
        data["logo"] = (io.BytesIO(logo[0]), logo[1])
    return post(client, _url(tenant), data, content_type="multipart/form-data")


FULL = {
    "legal_name": "阿尔法科技（上海）有限公司",
    "address": "上海市浦东新区张江路 88 号",
    "phone": "021-5888 6666",
    "tax_id": USCC,
    "bank": "招商银行上海张江支行",
    "bank_account": "1219 0888 0010 666",
}


def test_owner_saves_the_letterhead_with_a_png_logo_and_it_is_audited(app, tenant_a, client_as):
    c = client_as(tenant_a["owner"])
    assert c.get(_url(tenant_a)).status_code == 200
    r = _save(c, tenant_a, logo=(_image("PNG"), "logo.png"), **FULL)
    assert r.status_code == 302, text_of(r)
    lh = _letterhead(app, tenant_a.id)
    assert {k: lh[k] for k in FULL} == FULL
    assert lh["logo"].startswith("data:image/png;base64,")
    page = text_of(c.get(_url(tenant_a)))
    assert 'data-testid="letterhead-logo"' in page and FULL["legal_name"] in page
    with in_tenant(app, tenant_a.id):
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "settings.letterhead")).one()
        assert entry.member_id == tenant_a["owner"].id
        assert entry.changes["logo"] == {"before": None, "after": "set"}  # never the image itself
        assert entry.changes["legal_name"]["after"] == FULL["legal_name"]


def test_saving_again_without_a_file_keeps_the_logo_and_jpeg_is_accepted(app, tenant_a, client_as):
    c = client_as(tenant_a["admin"])
    assert _save(c, tenant_a, logo=(_image("JPEG"), "logo.jpg")).status_code == 302
    assert _letterhead(app, tenant_a.id)["logo"].startswith("data:image/jpeg;base64,")
    assert _save(c, tenant_a, legal_name="新名称").status_code == 302
    lh = _letterhead(app, tenant_a.id)
    assert lh["legal_name"] == "新名称" and lh["logo"].startswith("data:image/jpeg;base64,")


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (_image("GIF"), "logo.png"),  # a GIF calling itself PNG
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.png"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "logo.png"),  # PNG magic, broken body
        (_image("BMP"), "logo.jpg"),
        (b"", "logo.png"),
    ],
)
def test_a_logo_that_is_not_png_or_jpeg_by_content_is_refused_and_nothing_changes(app, tenant_a, client_as, content,
                                                                                  name):  # fmt: skip
    c = client_as(tenant_a["owner"])
    r = _save(c, tenant_a, logo=(content, name), legal_name="不应保存")
    assert r.status_code == 400
    assert re.search(r'name="logo"[^>]*is-invalid|is-invalid[^>]*name="logo"', text_of(r))
    assert _letterhead(app, tenant_a.id) == {}


def test_a_logo_over_512_kb_is_refused(app, tenant_a, client_as):
    buf = io.BytesIO()
    Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3)).save(buf, "PNG")  # noise does not compress
    big = buf.getvalue()
    assert len(big) > 512 * 1024
    r = _save(client_as(tenant_a["owner"]), tenant_a, logo=(big, "big.png"))
    assert r.status_code == 400 and "512 KB" in text_of(r)
    assert _letterhead(app, tenant_a.id) == {}


@pytest.mark.parametrize("bad", ["91310115MA1K4ABCD0", "12345", "91310115MA1K4ABCDIO"])
def test_the_taxpayer_id_must_be_a_valid_uscc(app, tenant_a, client_as, bad):
    if bad == "91310115MA1K4ABCD0" and USCC.endswith("0"):
        bad = bad[:-1] + "1"
    c = client_as(tenant_a["owner"])
    r = _save(c, tenant_a, tax_id=bad)
    assert r.status_code == 400
    assert re.search(r'name="tax_id"[^>]*is-invalid|is-invalid[^>]*name="tax_id"', text_of(r))
    assert _letterhead(app, tenant_a.id) == {}
    # Lower case and full-width spaces around it are normalised.
    assert _save(c, tenant_a, tax_id=f"  {USCC.lower()} ").status_code == 302
    assert _letterhead(app, tenant_a.id)["tax_id"] == USCC


def test_remove_logo(app, tenant_a, client_as):
    c = client_as(tenant_a["owner"])
    _save(c, tenant_a, logo=(_image("PNG"), "logo.png"), legal_name="阿尔法")
    assert post(c, _url(tenant_a, "/logo/remove")).status_code == 302
    assert _letterhead(app, tenant_a.id) == {"legal_name": "阿尔法"}
    with in_tenant(app, tenant_a.id):
        last = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last.action == "settings.letterhead" and last.changes == {"logo": {"before": "set", "after": None}}


def test_only_settings_managers_open_it_and_the_sidebar_shows_it_to_them(app, tenant_a, client_as):
    for role in ("sales_manager", "sales", "finance"):
        c = client_as(tenant_a[role])
        assert c.get(_url(tenant_a)).status_code == 403
        assert _save(c, tenant_a, legal_name="x").status_code == 403
    assert _letterhead(app, tenant_a.id) == {}
    home = text_of(client_as(tenant_a["admin"]).get(_url(tenant_a)))
    assert f'href="{_url(tenant_a)}"' in home


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_page_renders_in_both_languages(app, tenant_a, client_as, lang):
    r = client_as(tenant_a["owner"], **{"Accept-Language": lang}).get(_url(tenant_a))
    assert r.status_code == 200 and 'enctype="multipart/form-data"' in text_of(r)


# ================================================================ the PDF


def test_pdf_fetcher_lets_inline_png_and_jpeg_through_and_nothing_else(app):
    from crm.exports.pdf import ForbiddenFetch, inline_image, static_only_fetcher

    png = _image("PNG")
    import base64

    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    assert inline_image(uri) == ("image/png", png)
    with app.app_context():
        fetcher = static_only_fetcher()
        assert fetcher.fetch(uri).read() == png
        for url in ("data:text/html;base64,PGI+", "data:image/svg+xml;base64,PHN2Zy8+", "data:image/png,raw"):
            with pytest.raises(ForbiddenFetch):
                fetcher.fetch(url)


def test_quote_pdf_prints_the_letterhead_in_chinese_with_the_logo(app, tenant_a, client_as, monkeypatch, tmp_path):
    pdftotext = shutil.which("pdftotext")
    if not pdftotext:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    c = client_as(tenant_a["owner"])
    assert _save(c, tenant_a, logo=(_image("PNG", (120, 60)), "logo.png"), **FULL).status_code == 302
    customer = sf.customer(app, tenant_a["sales"], "上海百川科技有限公司")
    qid = qf.quote(app, tenant_a["sales"], customer)

    def no_network(*a, **kw):
        raise AssertionError("the PDF renderer opened a network connection")

    monkeypatch.setattr("socket.create_connection", no_network)
    r = client_as(tenant_a["sales"]).get(f"/w/{tenant_a.slug}/sales/quotes/{qid}/pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert b"/Subtype /Image" in r.data or b"/Subtype/Image" in r.data  # the logo is embedded
    pdf = tmp_path / "q.pdf"
    pdf.write_bytes(r.data)
    out = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [pdftotext, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    squashed = re.sub(r"\s+", "", out)
    for expected in (FULL["legal_name"], "上海市浦东新区张江路88号", USCC, "招商银行上海张江支行", "报价单"):
        assert expected in squashed, f"{expected} missing from the PDF text:\n{out}"
