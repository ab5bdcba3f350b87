"""/api/v1/imports: upload (multipart) → dry-run report; re-map; commit as a job; undo."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from flask import g, request, url_for
from flask.views import MethodView
from flask_babel import get_locale
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from crm.api.errors import fail, object_first
from crm.db import db
from crm.imports import services
from crm.imports.models import ImportBatch
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, can
from workers.queue import JobsUnavailable, submit

imports_bp = Blueprint("api_imports", __name__, url_prefix="/imports", description="Excel/CSV imports (导入)")


class ProblemSchema(Schema):
    row = fields.Integer()
    column = fields.String()
    reason = fields.String()
    rule = fields.String(metadata={"description": "vouchers: the books' rule that refuses (period_closed …)"})


class ImportSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "customers, contacts, products or journal_entries"})
    filename = fields.String()
    status = fields.String(metadata={"description": "analysed, committing, committed, failed, undone"})
    header_row = fields.Integer(allow_none=True, metadata={"description": "1-based, as Excel numbers rows"})
    mapping = fields.Dict(keys=fields.String(), values=fields.String(),
                          metadata={"description": "column index (0-based, as a string) → field"})  # fmt: skip
    headers = fields.List(fields.String())
    counts = fields.Dict(metadata={"description": "new, updated, unchanged, duplicate, invalid, totals_skipped"})
    unknown_salespeople = fields.List(fields.String())
    preview = fields.List(fields.Dict(), metadata={"description": "changes to existing records (first 50)"})
    problems = fields.List(fields.Nested(ProblemSchema))
    mode = fields.String()
    job_id = fields.Integer(allow_none=True)
    job_url = fields.String(allow_none=True)
    created_at = fields.DateTime()
    committed_at = fields.DateTime(allow_none=True)
    undone_at = fields.DateTime(allow_none=True)


class ImportPatchSchema(Schema):
    mapping = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True), required=True)


class CommitSchema(Schema):
    mode = fields.String(load_default="good_rows", validate=validate.OneOf(services.MODES))


class JobRefSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String()
    url = fields.String()


def _fail(err: Exception) -> NoReturn:
    fail(err, "You may not run imports.")


def _dict(b: ImportBatch) -> dict[str, Any]:
    counts = dict(b.counts or {})
    return {
        "id": b.id,
        "kind": b.kind,
        "filename": b.filename,
        "status": b.status,
        "header_row": b.header_row,
        "mapping": b.mapping or {},
        "headers": counts.get("headers") or [],
        "counts": {
            k: counts.get(k, 0)
            for k in ("rows", "new", "updated", "unchanged", "duplicate", "invalid", "totals_skipped", "vouchers")
            if k != "vouchers" or b.kind == "journal_entries"
        },  # fmt: skip
        "unknown_salespeople": counts.get("unknown_owners") or [],
        "preview": counts.get("preview") or [],
        "problems": b.problems or [],
        "mode": b.mode,
        "job_id": b.job_id,
        "job_url": url_for("api_jobs.JobResource", job_id=b.job_id) if b.job_id else None,
        "created_at": b.created_at,
        "committed_at": b.committed_at,
        "undone_at": b.undone_at,
    }


def _visible(batch_id: int) -> ImportBatch:
    b = get_in_tenant(ImportBatch, batch_id)
    if b is None:
        abort(404, message="No such import.")
    return b


def _importable(batch_id: int) -> ImportBatch:
    """404 for another workspace's import; then 403 unless the member may import its kind
    (imports.run, or finance.access for vouchers). Every item route runs it before the body is parsed."""
    b = _visible(batch_id)
    _may_import(b.kind)
    return b


def _may_import(kind: str) -> None:
    member = g.get("member")
    if member is None:
        abort(401, message="Sign in first.")
    if not can(member, services.permission_for(kind)):
        abort(403, message="You may not import this kind of file.")


class ImportListArgs(Schema):
    kind = fields.String(
        load_default=None,
        validate=validate.OneOf(services.ACTIVE_KINDS),
        metadata={"description": "journal_entries lists voucher imports (finance.access); without it, the sales "
                                 "kinds (imports.run)"},
    )  # fmt: skip


@imports_bp.route("")
class Imports(MethodView):
    @imports_bp.arguments(ImportListArgs, location="query")
    @imports_bp.response(200, ImportSchema(many=True))
    def get(self, args):  # type: ignore[no-untyped-def]
        from sqlalchemy import select

        kind = args.get("kind")
        _may_import(kind or "customers")
        kinds = [kind] if kind else [k for k in services.ACTIVE_KINDS if k not in services.FINANCE_KINDS]
        rows = db.session.scalars(
            select(ImportBatch).where(ImportBatch.kind.in_(kinds)).order_by(ImportBatch.id.desc()).limit(100)
        )
        return [_dict(b) for b in rows]

    @imports_bp.response(201, ImportSchema)
    @imports_bp.alt_response(422, description="No file, an unreadable file, an unknown kind or a bad mapping")
    def post(self):  # type: ignore[no-untyped-def]
        """Upload a sheet and get its dry-run report.

        A multipart/form-data body (not JSON): ``file`` (xlsx, xls or csv, UTF-8 or GBK), ``kind``
        (customers, contacts, products — imports.run — or journal_entries — finance.access) and optionally
        ``mapping``, a JSON object of column index → field. Voucher problems carry the books' ``rule``
        (period_closed, lock_date, before_books_start, unbalanced) beside row, column and reason.
        """
        kind = request.form.get("kind", "")
        _may_import(kind)
        upload = request.files.get("file")
        if upload is None:
            abort(422, message="Invalid input.", errors={"files": {"file": ["Attach the file (multipart form)."]}})
        mapping = None
        if request.form.get("mapping"):
            try:
                mapping = json.loads(request.form["mapping"])
                if not isinstance(mapping, dict):
                    raise ValueError
            except ValueError:
                abort(422, message="Invalid input.", errors={"form": {"mapping": ["Not a JSON object."]}})
        try:
            b = services.upload(g.tenant, g.member, kind, upload.filename or "upload", upload.read(), mapping)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return _dict(b)


@imports_bp.route("/<int:batch_id>")
class ImportResource(MethodView):
    decorators = [object_first(_importable)]

    @imports_bp.response(200, ImportSchema)
    def get(self, batch_id: int):  # type: ignore[no-untyped-def]
        return _dict(_visible(batch_id))

    @imports_bp.arguments(ImportPatchSchema)
    @imports_bp.response(200, ImportSchema)
    def patch(self, data, batch_id: int):  # type: ignore[no-untyped-def]
        b = _visible(batch_id)
        try:
            services.remap(g.tenant, g.member, b, {str(k): v or "" for k, v in data["mapping"].items()})
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return _dict(b)


@imports_bp.route("/<int:batch_id>/commit")
class ImportCommit(MethodView):
    decorators = [object_first(_importable)]

    @imports_bp.arguments(CommitSchema)
    @imports_bp.response(202, JobRefSchema)
    @imports_bp.alt_response(503, description="The job service (Redis) is unreachable; nothing was started.")
    def post(self, data, batch_id: int):  # type: ignore[no-untyped-def]
        b = _visible(batch_id)
        try:
            services.start_commit(g.tenant, g.member, b, data["mode"])
            job = submit("import_commit", g.member, {"batch_id": b.id, "locale": str(get_locale())})
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        except JobsUnavailable:
            db.session.rollback()
            abort(503, message="The job service is unavailable; nothing was started. Try again shortly.")
        b = _visible(batch_id)
        b.job_id = job.id
        db.session.commit()
        return {"id": job.id, "kind": job.kind, "status": job.status,
                "url": url_for("api_jobs.JobResource", job_id=job.id)}  # fmt: skip


@imports_bp.route("/<int:batch_id>/undo")
class ImportUndo(MethodView):
    decorators = [object_first(_importable)]

    @imports_bp.response(200, ImportSchema)
    def post(self, batch_id: int):  # type: ignore[no-untyped-def]
        b = _visible(batch_id)
        try:
            services.undo(g.tenant, g.member, b)
        except (InvalidInput, PermissionDenied) as err:
            db.session.rollback()
            _fail(err)
        db.session.commit()
        return _dict(b)


blueprints = [imports_bp]
