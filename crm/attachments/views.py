"""Downloading an attachment: only through the owning record's visibility (else 404)."""

from __future__ import annotations

from flask import Blueprint, abort, g, send_file

from crm.attachments import services
from crm.attachments.models import Attachment
from crm.scoping import get_in_tenant

bp = Blueprint("attachments", __name__, url_prefix="/w/<slug>/files")


def readable_attachment(attachment_id: int) -> Attachment | None:
    att = get_in_tenant(Attachment, attachment_id)
    if att is None or not services.can_download(g.member, att) or not services.path_of(att).is_file():
        return None
    return att


def send(att: Attachment):  # type: ignore[no-untyped-def]
    resp = send_file(
        services.path_of(att), mimetype=att.mimetype, as_attachment=True, download_name=att.filename, etag=att.sha256
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.get("/<int:attachment_id>")
def download(attachment_id: int):  # type: ignore[no-untyped-def]
    if g.get("member") is None:
        abort(404)
    att = readable_attachment(attachment_id)
    if att is None:
        abort(404)
    return send(att)
