"""Attachments: checked by content and size, stored per tenant, served only to members who
may read the owning record (anyone else, and any other workspace, gets 404)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from crm.attachments import services as attachments
from crm.attachments.models import Attachment
from crm.db import db
from tests import sales_factories as sf
from tests.helpers import bearer, in_tenant, post, text_of
from tests.test_activities import TXT, log

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


def office(kind: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml" if kind == "docx" else "xl/workbook.xml", "<x/>")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "mimetype"),
    [
        ("a.png", PNG, "image/png"),
        ("a.JPG", b"\xff\xd8\xff\xe0" + b"x" * 10, "image/jpeg"),
        ("a.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        ("a.pdf", PDF, "application/pdf"),
        ("a.docx", office("docx"), attachments.DOCX),
        ("a.xlsx", office("xlsx"), attachments.XLSX),
        ("纪要.txt", "会议纪要".encode(), "text/plain"),
    ],
)
def test_allowed_types_are_recognised_by_their_content(name, data, mimetype):
    assert attachments.check(name, data) == mimetype


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("evil.exe", b"MZ\x90\x00"),
        ("fake.png", b"<script>alert(1)</script>"),
        ("fake.pdf", PNG),
        ("page.html", b"<html></html>"),
        ("fake.docx", office("xlsx")),
        ("binary.txt", b"\x00\x01\x02"),
        ("noext", b"hello"),
        ("empty.txt", b""),
    ],
)
def test_other_types_and_mismatched_content_are_refused(name, data):
    with pytest.raises(attachments.InvalidFile):
        attachments.check(name, data)


def test_a_file_over_10_mb_is_refused():
    with pytest.raises(attachments.InvalidFile):
        attachments.check("big.txt", b"a" * (attachments.MAX_SIZE + 1))
    assert attachments.check("ok.txt", b"a" * attachments.MAX_SIZE) == "text/plain"


def test_a_refused_upload_logs_nothing(app, tenant_a, raw_rows):
    rep = tenant_a["sales"]
    cust = sf.customer(app, rep, "客户甲")
    from crm.activities.services import InvalidInput

    with pytest.raises(InvalidInput) as err:
        log(app, rep, cust, files=[("x.pdf", b"not a pdf")])
    assert "attachment" in err.value.errors
    assert raw_rows("followups") == [] and raw_rows("attachments") == []


def test_an_upload_is_stored_under_its_tenant_and_downloads_for_the_owner(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    cust = sf.customer(app, rep, "客户甲")
    log(app, rep, cust, files=[("纪要.txt", TXT)])
    with in_tenant(app, tenant_a.id):
        att = db.session.scalars(select(Attachment)).one()
        path = attachments.path_of(att)
        assert path == Path(app.config["FILES_DIR"]).resolve() / "tenants" / str(tenant_a.id) / "attachments" / str(
            att.id
        )
        assert att.size == len(TXT) and att.mimetype == "text/plain"
    r = client_as(rep).get(f"/w/{rep.slug}/files/{att.id}")
    assert r.status_code == 200 and r.data == TXT
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in r.headers["Content-Disposition"]


def test_uploading_through_the_form(app, tenant_a, client_as, raw_rows):
    rep = tenant_a["sales"]
    cust = sf.customer(app, rep, "客户甲")
    c = client_as(rep)
    r = post(c, sf.url(rep, cust, "followups"),
             {"kind": "call", "summary": "附件", "attachment": (io.BytesIO(PDF), "报价.pdf")},
             content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 302
    assert [a["filename"] for a in raw_rows("attachments")] == ["报价.pdf"]
    r = post(c, sf.url(rep, cust, "followups"),
             {"kind": "call", "summary": "坏附件", "attachment": (io.BytesIO(b"MZ"), "x.exe")},
             content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 400 and "Only images" in text_of(r)
    assert len(raw_rows("followups")) == 1


def test_out_of_scope_and_other_workspace_downloads_are_404(app, tenant_a, tenant_b, client_as, token_for):
    rep = tenant_a["sales"]
    cust = sf.customer(app, rep, "客户甲")
    log(app, rep, cust, files=[("a.txt", TXT)])
    with in_tenant(app, tenant_a.id):
        att_id = db.session.scalars(select(Attachment.id)).one()
    other = sf.add_rep(app, tenant_a, "other", "周敏")
    assert client_as(other).get(f"/w/{rep.slug}/files/{att_id}").status_code == 404
    assert client_as(tenant_a["finance"]).get(f"/w/{rep.slug}/files/{att_id}").status_code == 404
    b_owner = tenant_b["owner"]
    assert client_as(b_owner).get(f"/w/{b_owner.slug}/files/{att_id}").status_code == 404
    r = app.test_client().get(f"/api/v1/attachments/{att_id}", headers=bearer(token_for(b_owner)))
    assert r.status_code == 404 and r.is_json
    r = app.test_client().get(f"/api/v1/attachments/{att_id}", headers=bearer(token_for(other)))
    assert r.status_code == 404
    r = app.test_client().get(f"/api/v1/attachments/{att_id}", headers=bearer(token_for(rep)))
    assert r.status_code == 200 and r.data == TXT


def test_the_manager_of_the_rep_downloads_it(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    cust = sf.customer(app, rep, "客户甲")
    log(app, rep, cust, files=[("a.txt", TXT)])
    with in_tenant(app, tenant_a.id):
        att_id = db.session.scalars(select(Attachment.id)).one()
    assert client_as(tenant_a["sales_manager"]).get(f"/w/{rep.slug}/files/{att_id}").status_code == 200


def test_deleting_the_followup_deletes_its_files(app, tenant_a, client_as, raw_rows):
    rep = tenant_a["sales"]
    cust = sf.customer(app, rep, "客户甲")
    fid = log(app, rep, cust, files=[("a.txt", TXT)])
    with in_tenant(app, tenant_a.id):
        path = attachments.path_of(db.session.scalars(select(Attachment)).one())
    assert path.is_file()
    assert post(client_as(rep), f"/w/{rep.slug}/sales/followups/{fid}/delete").status_code == 302
    assert raw_rows("attachments") == [] and not path.exists()
