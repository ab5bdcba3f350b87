"""Commit an analysed import: every good row (or nothing), in batches, with the undo log."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from crm.db import db
from crm.imports import services
from crm.imports.models import ImportBatch
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from tenants.context import current_tenant
from tenants.models import Membership
from workers.models import JobRecord
from workers.runner import JobFailed, Progress


def import_commit(record: JobRecord, progress: Progress) -> None:
    locale = record.params.get("locale") or "zh_Hans_CN"
    with force_locale(locale):
        batch = get_in_tenant(ImportBatch, record.params.get("batch_id"))
        actor = db.session.get(Membership, record.requested_by_id) if record.requested_by_id else None
        if batch is None or actor is None:
            raise JobFailed(_("The import is gone."))
        batch_id = batch.id
        try:
            services.commit(current_tenant, actor, batch, progress)
        except InvalidInput as exc:
            reason = "; ".join(exc.errors.values())
            _fail(batch_id, reason, keep_report=True)  # refused before writing: keep the fresh dry run
            raise JobFailed(reason) from exc
        except Exception:
            _fail(batch_id, _("The import stopped on an unexpected error; nothing was imported."))
            raise


def _fail(batch_id: int, reason: str, keep_report: bool = False) -> None:
    if not keep_report:
        db.session.rollback()
    batch = get_in_tenant(ImportBatch, batch_id)
    if batch is not None:
        services.mark_failed(batch, reason)
        db.session.commit()
