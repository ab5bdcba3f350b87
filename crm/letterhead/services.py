"""The workspace's letterhead, kept in tenant.settings["letterhead"] and read by the PDF macro
(templates/exports/_letterhead.html): legal_name, address, phone, tax_id (统一社会信用代码),
bank, bank_account, and logo — a PNG or JPEG checked by its content (Pillow), at most 512 KB,
stored as a ``data:`` URI so rendering the PDF never fetches anything.

Services take (actor, tenant, …), check the permission, validate everything before changing
anything, flush and audit; the caller commits.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from crm.audit.services import record
from crm.db import db
from crm.sales.rules import normalise_uscc, uscc_is_valid
from crm.sales.services import InvalidInput
from roles.checks import ensure
from tenants.models import Membership, Tenant

LOGO_MAX_BYTES = 512 * 1024
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
TEXT_FIELDS: dict[str, int] = {
    "legal_name": 200,
    "address": 255,
    "phone": 40,
    "tax_id": 18,
    "bank": 100,
    "bank_account": 40,
}


def letterhead_of(tenant: Tenant) -> dict[str, Any]:
    return dict((tenant.settings or {}).get("letterhead") or {})


def logo_data_uri(data: bytes) -> str:
    """A data: URI for an uploaded logo, or InvalidInput naming the field ``logo``."""
    if not data:
        raise InvalidInput({"logo": _("The file is empty.")})
    if len(data) > LOGO_MAX_BYTES:
        raise InvalidInput({"logo": _("The logo may be at most 512 KB.")})
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format
            img.verify()  # a truncated or forged file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        fmt = None
    if fmt not in LOGO_FORMATS:
        raise InvalidInput({"logo": _("The logo must be a PNG or JPEG image.")})
    return f"data:{LOGO_FORMATS[fmt]};base64,{base64.b64encode(data).decode('ascii')}"


def _clean(values: dict[str, Any]) -> dict[str, str | None]:
    errors: dict[str, str] = {}
    out: dict[str, str | None] = {}
    for name, limit in TEXT_FIELDS.items():
        text = " ".join(str(values.get(name) or "").split())
        if name == "tax_id" and text:
            code = normalise_uscc(text) or ""
            if not uscc_is_valid(code):
                errors[name] = _("Enter the 18-character unified social credit code (统一社会信用代码).")
            text = code
        if len(text) > limit:
            errors[name] = _("At most %(n)d characters.", n=limit)
        out[name] = text or None
    if errors:
        raise InvalidInput(errors)
    return out


def _save(actor: Membership, tenant: Tenant, new: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    changes = {}
    for key in (*TEXT_FIELDS, "logo"):
        was, now = before.get(key), new.get(key)
        if was != now:
            if key == "logo":  # the audit log keeps that it changed, not the image
                was, now = ("set" if was else None), ("set" if now else None)
            changes[key] = {"before": was, "after": now}
    if changes:
        tenant.settings = {**(tenant.settings or {}), "letterhead": new}
        db.session.flush()
        record("settings.letterhead", tenant, actor=actor, summary=_("Letterhead changed"), changes=changes)
    return new


def save_letterhead(actor: Membership, tenant: Tenant, values: dict[str, Any], logo: bytes | None = None) -> dict:
    """Replace the text fields; a logo upload (bytes) replaces the logo, None keeps it."""
    ensure(actor, "settings.manage")
    before = letterhead_of(tenant)
    new = {k: v for k, v in _clean(values).items() if v is not None}
    uri = logo_data_uri(logo) if logo is not None else before.get("logo")
    if uri:
        new["logo"] = uri
    return _save(actor, tenant, new, before)


def remove_logo(actor: Membership, tenant: Tenant) -> bool:
    ensure(actor, "settings.manage")
    before = letterhead_of(tenant)
    if not before.get("logo"):
        return False
    _save(actor, tenant, {k: v for k, v in before.items() if k != "logo"}, before)
    return True
