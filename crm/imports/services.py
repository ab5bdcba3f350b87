"""Imports: upload → analyse (dry run) → commit (a job, batched inserts) → undo.

One evaluation (``plan``) serves the dry run and the commit, so what the report promised is what
the commit does: the commit reuses the dry run's plan while nothing it read has changed
(crm.imports.kept_plan) and evaluates the file again against the data as it is otherwise. Services take
(tenant, actor, ...), validate first, flush and audit; the caller commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, select
from sqlalchemy.orm.attributes import flag_modified

from crm.audit.services import record
from crm.catalog.models import Product
from crm.catalog.services import MAX_PRICE
from crm.db import db, utcnow
from crm.imports import kept_plan, parsing
from crm.imports import mapping as mp
from crm.imports.models import KINDS, ImportBatch, ImportChange
from crm.imports.values import cell_text, is_blank, is_total_row
from crm.sales import rules
from crm.sales.models import LEVELS, Contact, Customer
from crm.sales.services import InvalidInput, _refresh_search_keys
from roles.checks import ensure
from roles.scopes import visible_member_ids
from tenants.models import Membership, Tenant, User

ACTIVE_KINDS = ("customers", "contacts", "products", "orders", "journal_entries")
# What importing each kind needs; the sales kinds need imports.run. Vouchers go into the books,
# so they need the books' own permission and are shown to those who have it (Finance → 凭证导入).
KIND_PERMISSIONS = {"journal_entries": "finance.access"}
FINANCE_KINDS = ("journal_entries",)
# Kinds written through their own context's services, record by record (not bulk inserts).
SERVICE_KINDS = ("journal_entries", "orders")
MODES = ("all", "good_rows")
BATCH_SIZE = 1000
PREVIEW_ROWS = 50
MAX_STORED_PROBLEMS = 5000

# Fields each kind compares and writes (the FieldSpec keys that are model columns).
COLUMNS = {
    "customers": ("name", "short_name", "uscc", "industry", "level", "source", "province", "city", "address",
                  "phone", "email", "website", "notes", "owner_id"),
    "contacts": ("name", "title", "department", "mobile", "phone", "email", "wechat", "birthday", "notes"),
    "products": ("code", "name", "specification", "unit", "list_price", "vat_rate", "category", "description"),
}  # fmt: skip
MODELS: dict[str, Any] = {"customers": Customer, "contacts": Contact, "products": Product}
OBJECT_TYPES = {"customers": "customer", "contacts": "contact", "products": "product"}


# ---------------------------------------------------------------- files


def _imports_dir(tenant_id: int) -> Path:
    root = Path(current_app.config["FILES_DIR"]).resolve()
    path = root / "tenants" / str(int(tenant_id)) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store(tenant_id: int, data: bytes, ext: str) -> str:
    name = f"{uuid.uuid4().hex}.{ext}"
    (_imports_dir(tenant_id) / name).write_bytes(data)
    return name


def file_bytes(batch: ImportBatch) -> bytes:
    if not batch.stored_path:
        raise InvalidInput({"file": _("The uploaded file is no longer kept. Upload it again.")})
    path = (_imports_dir(batch.tenant_id) / batch.stored_path).resolve()
    if not path.is_relative_to(_imports_dir(batch.tenant_id)) or not path.is_file():
        raise InvalidInput({"file": _("The uploaded file is no longer kept. Upload it again.")})
    return path.read_bytes()


# ---------------------------------------------------------------- saved mappings


def saved_mapping(tenant: Tenant, kind: str) -> dict[str, str]:
    return dict(((tenant.settings or {}).get("imports") or {}).get("mappings", {}).get(kind) or {})


def save_mapping(tenant: Tenant, kind: str, headers: list[Any], mapping: dict[str, str]) -> None:
    """Remember, by header text, which field each column was mapped to ("" for ignored)."""
    saved = saved_mapping(tenant, kind)
    for i, h in enumerate(headers):
        key = mp.norm_header(h)
        if key:
            saved[key] = mapping.get(str(i), "")
    settings = dict(tenant.settings or {})
    imports = dict(settings.get("imports") or {})
    mappings = dict(imports.get("mappings") or {})
    mappings[kind] = saved
    imports["mappings"] = mappings
    settings["imports"] = imports
    tenant.settings = settings
    flag_modified(tenant, "settings")


# ---------------------------------------------------------------- the plan


@dataclass
class RowPlan:
    number: int  # as Excel numbers rows
    cells: list[Any]
    action: str = "new"  # new | updated | unchanged | duplicate | invalid
    values: dict[str, Any] = field(default_factory=dict)
    target_id: int | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Plan:
    headers: list[Any]
    header_row: int
    mapping: dict[str, str]
    rows: list[RowPlan]
    totals_skipped: int = 0
    unknown_owners: list[str] = field(default_factory=list)
    existing: dict[int, Any] = field(default_factory=dict)  # id → loaded object (updates)
    extra: dict[str, Any] = field(default_factory=dict)  # what a kind's planner keeps for its commit

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    def column_of(self, fkey: str) -> str:
        """The header of the column mapped to ``fkey`` ("" when none is)."""
        return _col(self, fkey)


def permission_for(kind: str) -> str:
    return KIND_PERMISSIONS.get(kind, "imports.run")


def kinds_for(member: Membership | None, kinds: tuple[str, ...] = ACTIVE_KINDS) -> tuple[str, ...]:
    """The kinds of ``kinds`` this member may import."""
    from roles.checks import can

    return tuple(k for k in kinds if can(member, permission_for(k)))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _member_names() -> tuple[dict[str, int], dict[str, int], dict[int, str]]:
    rows = db.session.execute(
        select(Membership.id, User.name).join(User, User.id == Membership.user_id).where(Membership.is_active.is_(True))
    ).all()
    exact: dict[str, int] = {}
    loose: dict[str, int] = {}
    names: dict[int, str] = {}
    for mid, name in rows:
        exact.setdefault(name, mid)
        loose.setdefault(rules.fold_width(name).replace(" ", "").lower(), mid)
        names[mid] = name
    return exact, loose, names


def plan(tenant: Tenant, actor: Membership, batch: ImportBatch, data: bytes | None = None,
         parsed: parsing.Sheet | None = None) -> Plan:  # fmt: skip
    """Read the batch's file (unless ``parsed`` is it, read already) and decide, row by row, what
    committing would do."""
    sheet = (
        parsed
        if parsed is not None
        else parsing.read(data if data is not None else file_bytes(batch), batch.filename, batch.sheet)
    )
    saved = saved_mapping(tenant, batch.kind)
    idx = parsing.find_header(batch.kind, sheet, saved)
    if idx is None:
        raise InvalidInput(
            {
                "file": _(
                    "No header row found in the first %(n)d rows: name the columns (e.g. 客户名称, 电话) and "
                    "try again.",
                    n=parsing.HEADER_SCAN_ROWS,
                )
            }
        )
    header_number, _first = sheet.rows[idx]
    headers, idx = parsing.merge_subheader(batch.kind, sheet, idx)
    mapping = dict(batch.mapping) if batch.mapping else mp.guess_mapping(batch.kind, headers, saved)
    specs = mp.field_map(batch.kind)
    mapping = {k: f for k, f in mapping.items() if f in specs and k.isdigit() and int(k) < len(headers)}
    p = Plan(headers=headers, header_row=header_number, mapping=mapping, rows=[])
    missing = [str(specs[f].label) for f, s in specs.items() if s.required and f not in mapping.values()]
    for group in mp.ONE_OF.get(batch.kind, ()):
        if not set(group) & set(mapping.values()):
            missing.append(" / ".join(str(specs[f].label) for f in group))
    if missing:
        raise InvalidInput({"mapping": _("Map a column to: %(fields)s.", fields=", ".join(missing))})
    for number, cells in sheet.rows[idx + 1 :]:
        if all(is_blank(c) for c in cells):
            continue
        if is_total_row(cells):
            p.totals_skipped += 1
            continue
        r = RowPlan(number=number, cells=cells)
        for col, fkey in mapping.items():
            i = int(col)
            raw = cells[i] if i < len(cells) else None
            value, reason = specs[fkey].parse(raw)
            if reason:
                r.problems.append({"row": number, "column": cell_text(headers[i]), "reason": reason})
            elif value is not None:
                r.values[fkey] = value
        for fkey, spec in specs.items():
            if spec.required and fkey in mapping.values() and fkey not in r.values and not r.problems:
                col = next(c for c, f in mapping.items() if f == fkey)
                r.problems.append(
                    {"row": number, "column": cell_text(headers[int(col)]), "reason": _("This cell is required.")}
                )
        p.rows.append(r)
    _PLANNERS[batch.kind](actor, p)
    for r in p.rows:
        if r.problems and r.action != "duplicate":
            r.action = "invalid"
    return p


def _col(p: Plan, fkey: str) -> str:
    col = next((c for c, f in p.mapping.items() if f == fkey), None)
    return cell_text(p.headers[int(col)]) if col is not None else ""


def _problem(p: Plan, r: RowPlan, fkey: str, reason: str) -> None:
    r.problems.append({"row": r.number, "column": _col(p, fkey), "reason": reason})


def _diff(p: Plan, r: RowPlan, obj: Any, columns: tuple[str, ...]) -> None:
    for k in columns:
        if k in r.values and r.values[k] != getattr(obj, k):
            r.changes[k] = (getattr(obj, k), r.values[k])
    r.action = "updated" if r.changes else "unchanged"
    p.existing[obj.id] = obj


def _load(model: Any, ids: set[int]) -> dict[int, Any]:
    out: dict[int, Any] = {}
    id_list = sorted(ids)
    for i in range(0, len(id_list), BATCH_SIZE):
        for obj in db.session.scalars(select(model).where(model.id.in_(id_list[i : i + BATCH_SIZE]))):
            out[obj.id] = obj
    return out


def _plan_customers(actor: Membership, p: Plan) -> None:
    by_uscc: dict[str, int] = {}
    by_name: dict[str, int] = {}
    all_ids: set[int] = set()
    for cid, uscc, norm, archived in db.session.execute(
        select(Customer.id, Customer.uscc, Customer.name_normalized, Customer.archived_at)
    ):
        all_ids.add(cid)
        if uscc:
            by_uscc[uscc] = cid
        if norm and archived is None:
            by_name.setdefault(norm, cid)
    exact, loose, _names = _member_names()
    visible = visible_member_ids(actor)
    unknown: dict[str, None] = {}
    seen: dict[str, int] = {}
    targets: dict[int, int] = {}  # row index → customer id
    for i, r in enumerate(p.rows):
        owner_name = r.values.pop("owner", None)
        if owner_name:
            mid = exact.get(owner_name) or loose.get(rules.fold_width(owner_name).replace(" ", "").lower())
            if mid is None:
                unknown.setdefault(owner_name)
                _problem(p, r, "owner", _("Unknown salesperson %(name)s: no active member has this name.",
                                          name=owner_name))  # fmt: skip
            elif visible is not None and mid not in visible:
                _problem(p, r, "owner", _("You can only assign customers within your team."))
            else:
                r.values["owner_id"] = mid
        if r.values.get("level"):
            r.values["level"] = r.values["level"].upper()
            if r.values["level"] not in LEVELS:
                _problem(p, r, "level", _("Level must be A, B or C."))
        record_id = r.values.pop("id", None)
        name = r.values.get("name")
        norm = rules.normalise_company_name(name) if name else None
        uscc = r.values.get("uscc")
        target = None
        if uscc and uscc in by_uscc:
            target = by_uscc[uscc]
        elif record_id is not None and record_id in all_ids:
            target = record_id
        elif norm and norm in by_name:
            target = by_name[norm]
        elif record_id is not None:
            _problem(p, r, "id", _("No customer with id %(id)s in this workspace.", id=record_id))
        keys = [k for k in (f"c{target}" if target else None, f"u{uscc}" if uscc else None,
                            f"n{norm}" if norm else None) if k]  # fmt: skip
        first = next((seen[k] for k in keys if k in seen), None)
        if first is not None:
            r.action = "duplicate"
            r.problems.append({"row": r.number, "column": _col(p, "name"),
                               "reason": _("Same customer as row %(row)d.", row=first)})  # fmt: skip
            continue
        for k in keys:
            seen[k] = r.number
        if target:
            targets[i] = target
    loaded = _load(Customer, set(targets.values()))
    for i, cid in targets.items():
        r = p.rows[i]
        c = loaded[cid]
        if visible is not None and c.owner_id is not None and c.owner_id not in visible:
            _problem(p, r, "name", _("This customer belongs to someone outside your team."))
            continue
        r.target_id = cid
        if "uscc" in r.values and c.uscc and r.values["uscc"] != c.uscc:
            _problem(p, r, "uscc", _("This customer already has another credit code (%(code)s).", code=c.uscc))
            continue
        if r.values.get("uscc") and by_uscc.get(r.values["uscc"], cid) != cid:
            _problem(p, r, "uscc", _("Another customer already has this credit code."))
            continue
        _diff(p, r, c, COLUMNS["customers"])
    p.unknown_owners = list(unknown)


def _plan_contacts(actor: Membership, p: Plan) -> None:
    by_uscc: dict[str, int] = {}
    by_name: dict[str, int] = {}
    for cid, uscc, norm in db.session.execute(
        select(Customer.id, Customer.uscc, Customer.name_normalized).where(Customer.archived_at.is_(None))
    ):
        if uscc:
            by_uscc[uscc] = cid
        by_name.setdefault(norm, cid)
    seen: dict[tuple[int, str], int] = {}
    rows_by_customer: dict[int, list[int]] = {}
    for i, r in enumerate(p.rows):
        uscc = r.values.pop("customer_uscc", None)
        cname = r.values.pop("customer", None)
        cid = by_uscc.get(uscc) if uscc else None
        if cid is None and cname:
            cid = by_name.get(rules.normalise_company_name(cname))
        if cid is None:
            if cname or uscc:
                _problem(p, r, "customer", _("No customer named %(name)s. Import the customers first.",
                                             name=cname or uscc))  # fmt: skip
            continue
        r.values["customer_id"] = cid
        if "name" not in r.values:
            continue
        key = (cid, rules.fold_width(r.values["name"]).replace(" ", "").lower())
        if key in seen:
            r.action = "duplicate"
            r.problems.append({"row": r.number, "column": _col(p, "name"),
                               "reason": _("Same contact as row %(row)d.", row=seen[key])})  # fmt: skip
            continue
        seen[key] = r.number
        rows_by_customer.setdefault(cid, []).append(i)
    customers = _load(Customer, set(rows_by_customer))
    from crm.sales.visibility import can_edit

    existing: dict[tuple[int, str], Contact] = {}
    ids = sorted(rows_by_customer)
    for j in range(0, len(ids), BATCH_SIZE):
        for x in db.session.scalars(select(Contact).where(Contact.customer_id.in_(ids[j : j + BATCH_SIZE]))):
            existing.setdefault((x.customer_id, rules.fold_width(x.name).replace(" ", "").lower()), x)
    for cid, indexes in rows_by_customer.items():
        editable = can_edit(actor, customers[cid])
        for i in indexes:
            r = p.rows[i]
            if not editable:
                _problem(p, r, "customer", _("You may not change this customer's contacts."))
                continue
            x = existing.get((cid, rules.fold_width(r.values["name"]).replace(" ", "").lower()))
            if x is not None:
                r.target_id = x.id
                _diff(p, r, x, COLUMNS["contacts"])


def _plan_products(actor: Membership, p: Plan) -> None:
    by_code: dict[str, int] = {}
    by_name: dict[str, int] = {}
    for pid, code, name in db.session.execute(select(Product.id, Product.code, Product.name)):
        by_code[code.lower()] = pid
        by_name.setdefault(rules.fold_width(name).replace(" ", "").lower(), pid)
    seen: dict[str, int] = {}
    targets: dict[int, int] = {}
    for i, r in enumerate(p.rows):
        price = r.values.get("list_price")
        if price is not None and not Decimal(0) <= price <= MAX_PRICE:
            _problem(p, r, "list_price", _("Enter a price of zero or more, e.g. 1280.00."))
        code = r.values.get("code")
        name_key = rules.fold_width(r.values.get("name") or "").replace(" ", "").lower()
        target = by_code.get(code.lower()) if code else by_name.get(name_key) if name_key else None
        if target is None and not code and not r.problems:
            _problem(p, r, "code", _("A new product needs a code."))
        key = f"p{target}" if target else f"c{(code or '').lower()}"
        if key in seen:
            r.action = "duplicate"
            r.problems.append({"row": r.number, "column": _col(p, "code") or _col(p, "name"),
                               "reason": _("Same product as row %(row)d.", row=seen[key])})  # fmt: skip
            continue
        seen[key] = r.number
        if target:
            targets[i] = target
    loaded = _load(Product, set(targets.values()))
    for i, pid in targets.items():
        p.rows[i].target_id = pid
        _diff(p, p.rows[i], loaded[pid], COLUMNS["products"])


_PLANNERS: dict[str, Callable[[Membership, Plan], None]] = {
    "customers": _plan_customers,
    "contacts": _plan_contacts,
    "products": _plan_products,
    "journal_entries": lambda actor, p: _journal().plan_rows(actor, p),
    "orders": lambda actor, p: _orders().plan_rows(actor, p),
}


def _orders() -> Any:
    from crm.imports import orders

    return orders


def _journal() -> Any:
    from crm.imports import journal

    return journal


# ---------------------------------------------------------------- report


def _report(batch: ImportBatch, p: Plan) -> None:
    problems = [x for r in p.rows for x in r.problems]
    preview = [
        {
            "row": r.number,
            "id": r.target_id,
            "changes": {k: [_jsonable(b), _jsonable(a)] for k, (b, a) in r.changes.items()},
        }
        for r in p.rows
        if r.action == "updated"
    ][:PREVIEW_ROWS]
    if any("owner_id" in x["changes"] for x in preview):
        _exact, _loose, names = _member_names()
        for x in preview:
            if "owner_id" in x["changes"]:
                x["changes"]["owner_id"] = [names.get(i, "") if i else None for i in x["changes"]["owner_id"]]
    batch.header_row = p.header_row
    batch.mapping = p.mapping
    batch.counts = {
        "rows": len(p.rows),
        "new": p.count("new"),
        "updated": p.count("updated"),
        "unchanged": p.count("unchanged"),
        "duplicate": p.count("duplicate"),
        "invalid": p.count("invalid"),
        "totals_skipped": p.totals_skipped,
        "unknown_owners": p.unknown_owners,
        "vouchers": len(p.extra.get("vouchers") or []) if batch.kind == "journal_entries" else None,
        "headers": [cell_text(h) for h in p.headers],
        "samples": [[cell_text(c)[:60] for c in r.cells[: len(p.headers)]] for r in p.rows[:3]],
        "preview": preview,
        "problem_count": len(problems),
    }
    batch.problems = problems[:MAX_STORED_PROBLEMS]
    flag_modified(batch, "counts")
    flag_modified(batch, "problems")
    flag_modified(batch, "mapping")


def rejected_rows(batch: ImportBatch) -> set[int]:
    return {int(x["row"]) for x in batch.problems or []}


# ---------------------------------------------------------------- upload, re-map


def upload(tenant: Tenant, actor: Membership, kind: str, filename: str, data: bytes,
           mapping: dict[str, str] | None = None, sheet: str | None = None) -> ImportBatch:  # fmt: skip
    ensure(actor, permission_for(kind))
    if kind not in ACTIVE_KINDS:
        raise InvalidInput({"kind": _("Choose what the file holds: customers, contacts, products or vouchers.")})
    filename = (filename or "upload").strip()[-255:] or "upload"
    try:
        ext = parsing.file_type(data, filename) if data else "csv"
        parsed = parsing.read(data, filename, sheet)  # refuse unreadable files before storing anything
    except parsing.UnreadableFile as exc:
        raise InvalidInput({"file": str(exc)}) from exc
    batch = ImportBatch(kind=kind, filename=filename, stored_path=_store(tenant.id, data, ext), sheet=sheet,
                        mapping={}, counts={}, problems=[], created_by_id=actor.id, status="uploaded")  # fmt: skip
    db.session.add(batch)
    db.session.flush()
    if mapping:
        batch.mapping = {str(k): v for k, v in mapping.items() if v}
    analyse(tenant, actor, batch, data, parsed)
    record("import.uploaded", batch, actor=actor, summary=f"{kind}: {filename}")
    return batch


def analyse(tenant: Tenant, actor: Membership, batch: ImportBatch, data: bytes | None = None,
            parsed: parsing.Sheet | None = None) -> Plan:  # fmt: skip
    keep = batch.kind in kept_plan.READS and bool(batch.stored_path)
    if keep:
        kept_plan.discard(_imports_dir(tenant.id), batch.stored_path)
        state = kept_plan.fingerprint(batch.kind, tenant.id)
    try:
        p = plan(tenant, actor, batch, data, parsed)
    except parsing.UnreadableFile as exc:
        raise InvalidInput({"file": str(exc)}) from exc
    _report(batch, p)
    batch.status = "analysed"
    db.session.flush()
    if keep:
        key = kept_plan.key(batch.kind, actor.id, batch.sheet, batch.mapping, state)
        writes = [r for r in p.rows if r.action in ("new", "updated")]
        bad = p.count("invalid") + p.count("duplicate")
        kept_plan.save(_imports_dir(tenant.id), batch.stored_path, key, writes, bad)  # type: ignore[arg-type]
    return p


def _kept(tenant: Tenant, actor: Membership, batch: ImportBatch) -> tuple[Plan, int] | None:
    """The dry run's plan when nothing it read has changed since (crm.imports.kept_plan); the rows
    it does not write are left out, and the batch already holds its report."""
    if batch.kind not in kept_plan.READS or not batch.stored_path:
        return None
    state = kept_plan.fingerprint(batch.kind, tenant.id)
    key = kept_plan.key(batch.kind, actor.id, batch.sheet, batch.mapping, state)
    found = kept_plan.load(_imports_dir(tenant.id), batch.stored_path, key)
    if found is None:
        return None
    rows, bad = found
    p = Plan(headers=list((batch.counts or {}).get("headers") or []), header_row=batch.header_row or 0,
             mapping=dict(batch.mapping), rows=[])  # fmt: skip
    for number, action, values, target, changes in rows:
        p.rows.append(RowPlan(number=number, cells=[], action=action, values=values, target_id=target, changes=changes))
    updated = {r.target_id for r in p.rows if r.action == "updated" and r.target_id is not None}
    p.existing = _load(MODELS[batch.kind], updated)
    if len(p.existing) != len(updated):
        return None
    return p, bad


def remap(tenant: Tenant, actor: Membership, batch: ImportBatch, mapping: dict[str, str]) -> Plan:
    """The user's corrected mapping: checked, saved for the workspace, and the dry run redone."""
    ensure(actor, permission_for(batch.kind))
    _editable(batch)
    specs = mp.field_map(batch.kind)
    headers = batch.counts.get("headers") or []
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    for col, fkey in mapping.items():
        col = str(col)
        if not fkey:
            continue
        if fkey not in specs:
            errors[col] = _("Unknown field %(field)s.", field=fkey)
        elif fkey in clean.values():
            errors[col] = _("Two columns are mapped to %(field)s.", field=str(specs[fkey].label))
        elif not col.isdigit() or int(col) >= len(headers):
            errors[col] = _("No such column.")
        else:
            clean[col] = fkey
    if errors:
        raise InvalidInput(errors)
    batch.mapping = clean
    p = analyse(tenant, actor, batch)
    save_mapping(tenant, batch.kind, p.headers, clean)
    return p


def _editable(batch: ImportBatch) -> None:
    if batch.status not in ("uploaded", "analysed", "failed"):
        raise InvalidInput({"status": _("This import has already been committed.")})


# ---------------------------------------------------------------- commit


def start_commit(tenant: Tenant, actor: Membership, batch: ImportBatch, mode: str) -> None:
    """Checks before the job is enqueued (the caller submits it and sets batch.job_id)."""
    ensure(actor, permission_for(batch.kind))
    if mode not in MODES:
        raise InvalidInput({"mode": _("Choose all rows or good rows only.")})
    _editable(batch)
    counts = batch.counts or {}
    if mode == "all" and (counts.get("invalid") or counts.get("duplicate")):
        raise InvalidInput(
            {
                "mode": _(
                    "%(n)d rows have problems, so importing all rows would import nothing. Fix the file, or import "
                    "the good rows only.",
                    n=(counts.get("invalid") or 0) + (counts.get("duplicate") or 0),
                )
            }
        )
    if not (counts.get("new") or counts.get("updated")):
        raise InvalidInput({"mode": _("Nothing to import: no new or changed rows.")})
    batch.mode = mode
    batch.status = "committing"
    save_mapping(tenant, batch.kind, counts.get("headers") or [], batch.mapping)
    record("import.commit_started", batch, actor=actor, summary=f"{batch.kind}: {batch.filename} ({mode})")


def commit(tenant: Tenant, actor: Membership, batch: ImportBatch, progress: Callable[[int, str], None]) -> Plan:
    """The job's work: the dry run's plan (or a new one if the data changed since), then insert the
    new rows in batches and update the changed ones.
    Mode "all" with any bad row writes nothing (InvalidInput); "good_rows" writes exactly the good."""
    report_progress = progress
    if db.engine.dialect.name == "sqlite":
        # SQLite locks the whole file while this transaction writes: progress (on its own connection)
        # would wait for it, so the embedded default shows progress up to the first write only.
        def report_progress(percent: int, message: str) -> None:
            return None

    progress(5, _("Reading the file"))
    kept = _kept(tenant, actor, batch)
    if kept is not None:
        p, bad = kept
    else:
        p = plan(tenant, actor, batch)
        _report(batch, p)
        bad = p.count("invalid") + p.count("duplicate")
    if batch.mode == "all" and bad:
        raise InvalidInput({"mode": _("%(n)d rows have problems; nothing was imported.", n=bad)})
    if batch.kind in SERVICE_KINDS:
        return _commit_through_services(tenant, actor, batch, p, report_progress)
    otype = OBJECT_TYPES[batch.kind]
    now = utcnow()
    new_rows = [r for r in p.rows if r.action == "new"]
    changes: list[dict[str, Any]] = []
    for r, oid in _bulk_create(batch.kind, tenant.id, actor.id, new_rows, now, report_progress):
        changes.append({"tenant_id": tenant.id, "batch_id": batch.id, "row_number": r.number,
                        "object_type": otype, "object_id": oid, "action": "created", "before": None})  # fmt: skip
    updated = [r for r in p.rows if r.action == "updated"]
    for n, r in enumerate(updated, start=1):
        obj = p.existing[r.target_id]  # type: ignore[index]
        before = {k: _jsonable(b) for k, (b, _a) in r.changes.items()}
        for k, (_b, a) in r.changes.items():
            setattr(obj, k, a)
        if batch.kind == "customers":
            if "owner_id" in r.changes:
                obj.owned_since = now
            _refresh_search_keys(obj)
        changes.append({"tenant_id": tenant.id, "batch_id": batch.id, "row_number": r.number,
                        "object_type": otype, "object_id": obj.id, "action": "updated", "before": before})  # fmt: skip
        if n % BATCH_SIZE == 0:
            db.session.flush()
            report_progress(70 + int(20 * n / len(updated)), _("Updating records"))
    db.session.flush()
    for start in range(0, len(changes), BATCH_SIZE):
        db.session.execute(insert(ImportChange), changes[start : start + BATCH_SIZE])
    kept_plan.discard(_imports_dir(tenant.id), batch.stored_path)
    batch.status = "committed"
    batch.committed_at = utcnow()
    record(
        "import.committed",
        batch,
        actor=actor,
        summary=f"{batch.kind}: {batch.filename}",
        changes={
            "created": {"before": None, "after": len(new_rows)},
            "updated": {"before": None, "after": len(updated)},
        },
    )
    db.session.flush()
    report_progress(95, _("Done"))
    return p


def _bulk_create(kind: str, tenant_id: int, owner_id: int, rows: list[RowPlan], now: Any,
                 progress: Callable[[int, str], None]) -> list[tuple[RowPlan, int]]:  # fmt: skip
    """Insert the new rows in batches; each row paired with its new id.

    A worker thread prepares the next batch (search keys: pinyin, bigrams — pure Python) while
    the database writes this one, so the two overlap on a two-core machine. On PostgreSQL the ids
    are taken from the sequence first and the batch is a plain multi-row INSERT: RETURNING in
    parameter order made the database's part half as slow again."""
    model = MODELS[kind]
    chunks = [rows[i : i + BATCH_SIZE] for i in range(0, len(rows), BATCH_SIZE)]
    out: list[tuple[RowPlan, int]] = []

    def prepare(chunk: list[RowPlan]) -> list[dict[str, Any]]:
        return _uniform(kind, [_insert_values(kind, tenant_id, owner_id, r.values, now) for r in chunk])

    # Core, not the ORM's bulk path: the rows are complete dicts already (tenant_id included, same
    # keys in each), and the ORM's per-row bookkeeping held the GIL the preparing thread needs.
    plain = insert(model.__table__)
    returning = insert(model).returning(model.id, sort_by_parameter_order=True).execution_options(render_nulls=True)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-prepare") as pool:
        pending = pool.submit(prepare, chunks[0]) if chunks else None
        for n, chunk in enumerate(chunks):
            payload = pending.result()  # type: ignore[union-attr]
            if n + 1 < len(chunks):
                pending = pool.submit(prepare, chunks[n + 1])
            ids = _reserve_ids(model, len(payload))
            if ids is None:
                ids = list(db.session.scalars(returning, payload))
            else:
                for row, oid in zip(payload, ids, strict=True):
                    row["id"] = oid
                db.session.execute(plain, payload)
            out.extend(zip(chunk, ids, strict=True))
            progress(10 + int(60 * (n + 1) / len(chunks)), _("Adding new records"))
    return out


def _reserve_ids(model: Any, n: int) -> list[int] | None:
    """``n`` ids from the table's sequence (PostgreSQL); None elsewhere (SQLite: use RETURNING)."""
    if db.engine.dialect.name != "postgresql":
        return None
    seq = func.pg_get_serial_sequence(model.__tablename__, "id")
    return list(db.session.scalars(select(func.nextval(seq)).select_from(func.generate_series(1, n))))


def _commit_through_services(tenant: Tenant, actor: Membership, batch: ImportBatch, p: Plan,
                             progress: Callable[[int, str], None]) -> Plan:  # fmt: skip
    """Vouchers and orders are written one by one through their own context's services (posting
    gate, numbering, pricing, audit), never by bulk insert; what those services refuse at this
    moment (a month closed since the dry run) is reported like any rejected row."""
    writer = _journal().commit_vouchers if batch.kind == "journal_entries" else _orders().commit_orders
    try:
        changes = writer(tenant, actor, batch, p, progress)
    except InvalidInput:
        _report(batch, p)
        raise
    _report(batch, p)
    for start in range(0, len(changes), BATCH_SIZE):
        db.session.execute(insert(ImportChange), changes[start : start + BATCH_SIZE])
    batch.status = "committed"
    batch.committed_at = utcnow()
    created = sum(1 for c in changes if c["action"] == "created")
    record("import.committed", batch, actor=actor, summary=f"{batch.kind}: {batch.filename}",
           changes={"created": {"before": None, "after": created},
                    "updated": {"before": None, "after": len(changes) - created}})  # fmt: skip
    db.session.flush()
    progress(95, _("Done"))
    return p


def _undo_through_services(tenant: Tenant, actor: Membership, batch: ImportBatch) -> dict[str, int]:
    """Vouchers are reversed (crm.books.services.reverse_entry), orders deleted or restored."""
    if batch.kind == "journal_entries":
        result = _journal().undo_entries(tenant, actor, batch)
    else:
        result = _orders().undo_orders(tenant, actor, batch)
    batch.status = "undone"
    batch.undone_at = utcnow()
    batch.undone_by_id = actor.id
    counts = dict(batch.counts or {})
    counts["undo"] = result
    batch.counts = counts
    db.session.flush()
    record("import.undone", batch, actor=actor, summary=f"{batch.kind}: {batch.filename}",
           changes={k: {"before": None, "after": v} for k, v in result.items()})  # fmt: skip
    return result


def _insert_values(kind: str, tenant_id: int, owner_id: int, values: dict[str, Any], now: Any) -> dict[str, Any]:
    row = {k: v for k, v in values.items() if k in COLUMNS[kind] or k == "customer_id"}
    row.update(tenant_id=tenant_id, created_at=now, updated_at=now)
    if kind == "customers":
        row.setdefault("owner_id", owner_id)
        row["owned_since"] = now if row.get("owner_id") else None
        row.setdefault("status", "potential")
        row.setdefault("locked", False)
        # The search keys the customer service maintains on every write.
        row.update(rules.customer_search_keys(row["name"], row.get("short_name"), row.get("phone"), row.get("email")))
    elif kind == "contacts":
        row["name_bigrams"] = rules.bigrams(row["name"])
        row.setdefault("is_primary", False)
    elif kind == "products":
        row.setdefault("list_price", Decimal("0.00"))
        row.setdefault("vat_rate", Decimal("0.13"))
        row.setdefault("active", True)
    return row


def _uniform(kind: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of one bulk insert with the same keys: SQLAlchemy batches only consecutive rows with
    the same key set, so a column left blank in some rows (a remark on one row in seven) split
    100,000 rows into tens of thousands of statements instead of 100. A missing key becomes its
    column's default, or NULL."""
    table = MODELS[kind].__table__
    keys: set[str] = set().union(*rows) if rows else set()
    fill: dict[str, Any] = {}
    for k in keys:
        col = table.c[k]
        if col.default is None and col.server_default is None and col.nullable:
            fill[k] = None
        elif col.default is not None and col.default.is_scalar:
            fill[k] = col.default.arg
    for row in rows:
        for k in fill.keys() - row.keys():
            row[k] = fill[k]
    return rows


def mark_failed(batch: ImportBatch, reason: str) -> None:
    batch.status = "failed"
    counts = dict(batch.counts or {})
    counts["error"] = reason
    batch.counts = counts


# ---------------------------------------------------------------- undo

# Rows that do not keep a created record alive (they go with it).
_DEPENDENTS = {"customer_tags", "customer_collaborators", "pool_events", "import_changes", "audit_entries"}


def _referenced(table_name: str, ids: list[int], ignore: tuple[str, ...] = ()) -> set[int]:
    """Ids of ``table_name`` that some other row points at (foreign keys read from the metadata);
    tables in ``ignore`` are parts of the record itself (an order's lines)."""
    found: set[int] = set()
    if not ids:
        return found
    for table in db.metadata.sorted_tables:
        if table.name in _DEPENDENTS or table.name in ignore:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name != table_name or fk.column.name != "id":
                continue
            col = fk.parent
            for i in range(0, len(ids), BATCH_SIZE):
                chunk = ids[i : i + BATCH_SIZE]
                stmt = select(col).where(col.in_(chunk)).distinct()
                if table.name == table_name:  # self-reference (merged_into, reports_to) among the created
                    stmt = stmt.where(table.c.id.notin_(chunk))
                found |= {v for v in db.session.execute(stmt).scalars() if v is not None}
    return found


def _restore(kind: str, key: str, raw: Any) -> Any:
    if raw is None:
        return None
    if kind == "products" and key in ("list_price", "vat_rate"):
        return Decimal(raw)
    if kind == "contacts" and key == "birthday":
        return date.fromisoformat(raw)
    return raw


def undo(tenant: Tenant, actor: Membership, batch: ImportBatch) -> dict[str, int]:
    """Take a committed import back: created records deleted (archived — customers — or deactivated —
    products — when something refers to them since), updated fields restored."""
    ensure(actor, permission_for(batch.kind))
    if batch.status != "committed":
        raise InvalidInput({"status": _("Only a committed import can be undone.")})
    if batch.kind in SERVICE_KINDS:
        return _undo_through_services(tenant, actor, batch)
    model = MODELS[batch.kind]
    changes = list(db.session.scalars(select(ImportChange).where(ImportChange.batch_id == batch.id)))
    created = [c.object_id for c in changes if c.action == "created"]
    kept = _referenced(model.__tablename__, created)
    result = {"deleted": 0, "kept": 0, "restored": 0}
    objects = _load(model, {c.object_id for c in changes})
    now = utcnow()
    for ch in changes:
        obj = objects.get(ch.object_id)
        if obj is None:
            continue
        if ch.action == "created":
            if ch.object_id in kept:
                result["kept"] += 1
                if batch.kind == "customers" and obj.archived_at is None:
                    obj.archived_at = now
                elif batch.kind == "products":
                    obj.active = False
            else:
                db.session.delete(obj)
                result["deleted"] += 1
        else:
            for k, raw in (ch.before or {}).items():
                setattr(obj, k, _restore(batch.kind, k, raw))
            if batch.kind == "customers":
                _refresh_search_keys(obj)
            result["restored"] += 1
    batch.status = "undone"
    batch.undone_at = now
    batch.undone_by_id = actor.id
    counts = dict(batch.counts or {})
    counts["undo"] = result
    batch.counts = counts
    db.session.flush()
    record("import.undone", batch, actor=actor, summary=f"{batch.kind}: {batch.filename}",
           changes={k: {"before": None, "after": v} for k, v in result.items()})  # fmt: skip
    return result


def rejected_xlsx(batch: ImportBatch) -> bytes:
    """The rows the dry run (or the commit) refused: their original cells and the reasons beside."""
    from crm.exports.xlsx import write_table

    sheet = parsing.read(file_bytes(batch), batch.filename, batch.sheet)
    reasons: dict[int, list[str]] = {}
    for x in batch.problems or []:
        reasons.setdefault(int(x["row"]), []).append(f"{x.get('column') or ''}: {x['reason']}".lstrip(": "))
    headers = [cell_text(h) for h in batch.counts.get("headers") or []]
    out = []
    for number, cells in sheet.rows:
        if number in reasons:
            padded = [cell_text(c) for c in cells] + [""] * (len(headers) - len(cells))
            out.append([number, "; ".join(reasons[number]), *padded])
    return write_table(_("Rejected rows"), [_("Row"), _("Reason"), *headers], out)


__all__ = ["KINDS", "ACTIVE_KINDS", "MODES", "upload", "analyse", "remap", "start_commit", "commit", "undo"]
