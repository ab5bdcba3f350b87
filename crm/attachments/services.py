"""Storing and serving attachments.

An upload is checked by its content (magic bytes), not only its name: at most 10 MB, and one
of JPEG, PNG, WebP, PDF, DOCX, XLSX or plain text. Files live under
FILES_DIR/tenants/<tenant id>/attachments/<id>. Who may download one is decided by the
owning record: each context registers a reader for its owner_type.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from crm.attachments.models import Attachment
from crm.audit.services import record
from crm.db import db
from tenants.models import Membership

MAX_SIZE = 10 * 1024 * 1024

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSIONS = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "docx": DOCX,
    "xlsx": XLSX,
    "txt": "text/plain",
}

# owner_type → can this member read the owning record with this id?
Reader = Callable[[Membership, int], bool]
READERS: dict[str, Reader] = {}


class InvalidFile(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def register_owner(owner_type: str, reader: Reader) -> None:
    READERS[owner_type] = reader


def sniff(data: bytes) -> str | None:
    """The type the content really is (None when not one of the allowed types)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return DOCX
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return XLSX
        return None
    if b"\x00" in data:
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return "text/plain"
    return None


def check(filename: str, data: bytes) -> str:
    """The file's type, or InvalidFile with the reason."""
    if not data:
        raise InvalidFile(_("The file is empty."))
    if len(data) > MAX_SIZE:
        raise InvalidFile(_("The file is larger than 10 MB."))
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    claimed = EXTENSIONS.get(ext)
    if claimed is None:
        raise InvalidFile(_("Only images (JPEG, PNG, WebP), PDF, Word, Excel and text files can be attached."))
    actual = sniff(data)
    if actual != claimed:
        raise InvalidFile(_("The file's content does not match its type (.%(ext)s).", ext=ext))
    return actual


def read_limited(stream: IO[bytes]) -> bytes:
    """At most MAX_SIZE + 1 bytes: enough to know a file is too large without reading it all."""
    return stream.read(MAX_SIZE + 1)


def _safe_name(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip().replace("\x00", "")
    return name[-255:] or "file"


def path_of(att: Attachment) -> Path:
    root = Path(current_app.config["FILES_DIR"]).resolve()
    return root / "tenants" / str(int(att.tenant_id)) / "attachments" / str(int(att.id))


def add(actor: Membership, owner_type: str, owner_id: int, filename: str, data: bytes) -> Attachment:
    """Check and store a file for a record the caller has already checked the actor may change."""
    filename = _safe_name(filename)
    mimetype = check(filename, data)
    att = Attachment(
        owner_type=owner_type,
        owner_id=owner_id,
        filename=filename,
        mimetype=mimetype,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=actor.id,
    )
    db.session.add(att)
    db.session.flush()
    target = path_of(att)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    record("attachment.added", att, actor=actor, summary=filename)
    return att


def delete_for(actor: Membership, owner_type: str, owner_id: int) -> None:
    for att in for_owners(owner_type, [owner_id]).get(owner_id, []):
        db.session.delete(att)
        path_of(att).unlink(missing_ok=True)
        record("attachment.deleted", att, actor=actor, summary=att.filename)


def for_owners(owner_type: str, owner_ids: list[int]) -> dict[int, list[Attachment]]:
    """Attachments of many records in one statement."""
    out: dict[int, list[Attachment]] = {}
    if not owner_ids:
        return out
    stmt = (
        select(Attachment)
        .where(Attachment.owner_type == owner_type, Attachment.owner_id.in_(owner_ids))
        .order_by(Attachment.id)
    )
    for att in db.session.scalars(stmt):
        out.setdefault(att.owner_id, []).append(att)
    return out


def can_download(member: Membership, att: Attachment) -> bool:
    reader = READERS.get(att.owner_type)
    return reader is not None and reader(member, att.owner_id)
