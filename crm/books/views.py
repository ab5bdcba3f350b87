"""Finance → the books: set-up, chart of accounts, departments, journal entries (记账凭证),
the lock date and the periods (结账 / 反结账)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from crm.attachments import services as attachments
from crm.books import closing
from crm.books import services as books
from crm.books.forms import AttachmentForm
from crm.books.models import (
    ACCOUNT_TYPE_LABELS,
    ACCOUNT_TYPES,
    ENTRY_STATUS_LABELS,
    ENTRY_STATUSES,
    PARTY_LABELS,
    STANDARD_LABELS,
    STANDARDS,
    Account,
    Department,
    FiscalPeriod,
    JournalEntry,
    JournalLine,
)
from crm.db import db
from crm.money_words import to_capital
from crm.sales.services import InvalidInput
from crm.scoping import get_or_404
from roles.checks import PermissionDenied, can, require
from tenants.models import Membership, User

bp = Blueprint("books", __name__, url_prefix="/w/<slug>/finance/books")


def _entry_reader(member: Membership, entry_id: int) -> bool:
    """Attachments of journal entries: finance members of the workspace only."""
    return can(member, "finance.access") and db.session.get(JournalEntry, entry_id) is not None


attachments.register_owner("journal_entry", _entry_reader)

PAGE_SIZE = 50
BLANK_ROWS = 4
ENTRY_ID = "<int:entry_id>"

# source_type → the endpoint of the document page and its id argument; links appear once the
# context that serves the page is registered.
SOURCE_ENDPOINTS = {
    "invoice": ("invoicing.invoice_show", "invoice_id"),
    "bill": ("invoicing.bill_show", "bill_id"),
    "receipt": ("settlement.receipt_show", "payment_id"),
    "payment": ("settlement.payment_show", "payment_id"),
    "period": ("books.period_show", None),
}


def source_url(entry: JournalEntry, periods: dict[int, str] | None = None) -> str | None:
    if not entry.source_type or not entry.source_id:
        return None
    endpoint, arg = SOURCE_ENDPOINTS.get(entry.source_type, (None, None))
    if endpoint is None or endpoint not in current_app.view_functions:
        return None
    try:
        if entry.source_type == "period":
            key = (periods or {}).get(entry.source_id)
            if key is None:
                row = db.session.get(FiscalPeriod, entry.source_id)
                key = row.key if row else None
            return url_for(endpoint, period_key=key) if key else None
        return url_for(endpoint, **{arg: entry.source_id})  # type: ignore[dict-item]
    except Exception:  # noqa: BLE001 — a document page with other arguments: no link rather than a 500
        return None


def _lang() -> str:
    return str(get_locale() or "zh")


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def books_ready(view):  # type: ignore[no-untyped-def]
    """Every books page but the set-up sends to the set-up while the books are not set up."""

    @wraps(view)
    def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not books.is_set_up(g.tenant):
            if any(k.endswith("_id") for k in kwargs):
                abort(404)  # no books, so no such object (and another workspace's id stays a 404)
            if request.method == "GET":
                flash(_("Set up the books first: choose the accounting standard and the first month."), "info")
            return redirect(url_for("books.setup"))
        return view(*args, **kwargs)

    return wrapped


# ---------------------------------------------------------------- set-up and settings


@bp.route("/setup", methods=["GET", "POST"])
@require("finance.access")
def setup():
    tenant = g.tenant
    if books.is_set_up(tenant):
        return redirect(url_for("books.settings"))
    errors: dict[str, str] = {}
    today = books.today_in(tenant)
    values = {"standard": "small", "start": today.strftime("%Y-%m")}
    if request.method == "POST":
        values = {"standard": request.form.get("standard", ""), "start": request.form.get("start", "").strip()}
        start = _date(values["start"] + "-01") if len(values["start"]) == 7 else _date(values["start"])
        if start is None:
            errors["start"] = _("Choose the first month of the books.")
        if values["standard"] not in STANDARDS:
            errors["standard"] = _("Choose one of the two accounting standards.")
        if not errors:
            try:
                books.set_up_books(tenant, g.member, values["standard"], start)
            except InvalidInput as err:
                errors = dict(err.errors)
            else:
                db.session.commit()
                flash(_("The books are set up."), "success")
                return redirect(url_for("books.accounts"))
    status = 400 if errors else 200
    return render_template("books/setup.html", errors=errors, values=values, standards=STANDARD_LABELS), status


@bp.route("/settings", methods=["GET", "POST"])
@require("finance.access")
@books_ready
def settings():
    tenant = g.tenant
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not can(g.member, "books.post_locked"):
            abort(403)
        raw = request.form.get("lock_date", "").strip()
        value = _date(raw)
        if raw and value is None:
            errors["lock_date"] = _("Enter a date like 2026-03-31, or leave it empty for no lock.")
        else:
            books.set_lock_date(tenant, g.member, value)
            db.session.commit()
            flash(_("The lock date is saved."), "success")
            return redirect(url_for("books.settings"))
    return render_template(
        "books/settings.html", errors=errors, standard=STANDARD_LABELS.get(books.standard_of(tenant)),
        start=books.books_start(tenant), lock=books.lock_date(tenant), may_lock=can(g.member, "books.post_locked"),
    ), (400 if errors else 200)  # fmt: skip


# ---------------------------------------------------------------- chart of accounts


def _account_tree(accounts: list[Account]) -> dict[str, list[tuple[Account, int]]]:
    """type → [(account, depth)] in code order, children under their parent."""
    by_parent: dict[int | None, list[Account]] = {}
    for a in sorted(accounts, key=lambda x: x.code):
        by_parent.setdefault(a.parent_id, []).append(a)
    out: dict[str, list[tuple[Account, int]]] = {t: [] for t in ACCOUNT_TYPES}

    def walk(a: Account, depth: int) -> None:
        out.setdefault(a.type, []).append((a, depth))
        for child in by_parent.get(a.id, []):
            walk(child, depth + 1)

    for root in by_parent.get(None, []):
        walk(root, 0)
    return out


@bp.route("/accounts", methods=["GET", "POST"])
@require("finance.access")
@books_ready
def accounts():
    errors: dict[str, str] = {}
    form = {}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("parent_id", "code", "name_zh", "name_en")}
        parent = db.session.get(Account, int(form["parent_id"])) if form["parent_id"].isdigit() else None
        if parent is None:
            errors["parent"] = _("Choose the parent account.")
        else:
            try:
                books.add_sub_account(g.tenant, g.member, parent, form["code"], form["name_zh"], form["name_en"])
            except InvalidInput as err:
                db.session.rollback()
                errors = dict(err.errors)
            else:
                db.session.commit()
                flash(_("Sub-account %(code)s added.", code=form["code"].strip()), "success")
                return redirect(url_for("books.accounts"))
    rows = list(db.session.scalars(select(Account)))
    show_inactive = request.args.get("inactive") == "1"
    tree = _account_tree(rows if show_inactive else [a for a in rows if a.is_active])
    return render_template(
        "books/accounts.html", tree=tree, type_labels=ACCOUNT_TYPE_LABELS, errors=errors, form=form,
        parents=[a for a in sorted(rows, key=lambda x: x.code) if a.is_active], lang=_lang(),
        show_inactive=show_inactive, inactive_count=sum(1 for a in rows if not a.is_active),
    ), (400 if errors else 200)  # fmt: skip


@bp.post("/accounts/<int:account_id>")
@require("finance.access")
@books_ready
def account_update(account_id: int):
    account = get_or_404(Account, account_id)
    action = request.form.get("action", "rename")
    try:
        if action == "deactivate":
            books.set_account_active(g.member, account, False)
            msg = _("%(code)s is no longer in use.", code=account.code)
        elif action == "activate":
            books.set_account_active(g.member, account, True)
            msg = _("%(code)s is in use again.", code=account.code)
        else:
            books.rename_account(g.member, account, request.form.get("name_zh", ""), request.form.get("name_en", ""))
            msg = _("%(code)s renamed.", code=account.code)
    except InvalidInput as err:
        db.session.rollback()
        for reason in err.errors.values():
            flash(reason, "danger")
        return redirect(url_for("books.accounts"))
    db.session.commit()
    flash(msg, "success")
    return redirect(url_for("books.accounts"))


# ---------------------------------------------------------------- departments


@bp.route("/departments", methods=["GET", "POST"])
@require("finance.access")
@books_ready
def departments():
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            books.save_department(g.member, request.form.get("name", ""))
        except InvalidInput as err:
            db.session.rollback()
            errors = dict(err.errors)
        else:
            db.session.commit()
            flash(_("Department added."), "success")
            return redirect(url_for("books.departments"))
    rows = list(db.session.scalars(select(Department).order_by(Department.is_active.desc(), Department.name)))
    return render_template("books/departments.html", rows=rows, errors=errors), (400 if errors else 200)


@bp.post("/departments/<int:department_id>")
@require("finance.access")
@books_ready
def department_update(department_id: int):
    dept = get_or_404(Department, department_id)
    action = request.form.get("action", "rename")
    try:
        if action in ("deactivate", "activate"):
            books.save_department(g.member, dept.name, dept, active=action == "activate")
        else:
            books.save_department(g.member, request.form.get("name", ""), dept)
    except InvalidInput as err:
        db.session.rollback()
        for reason in err.errors.values():
            flash(reason, "danger")
        return redirect(url_for("books.departments"))
    db.session.commit()
    flash(_("Department saved."), "success")
    return redirect(url_for("books.departments"))


# ---------------------------------------------------------------- journal entries


@bp.get("/entries")
@require("finance.access")
@books_ready
def entries():
    a = request.args
    status = a.get("status") if a.get("status") in ENTRY_STATUSES else None
    filters: dict[str, Any] = {
        "status": status, "q": (a.get("q") or "").strip()[:100] or None,
        "account_id": a.get("account_id", type=int), "date_from": _date(a.get("date_from")),
        "date_to": _date(a.get("date_to")),
    }  # fmt: skip
    page = max(a.get("page", 1, type=int) or 1, 1)
    stmt = entry_query(**filters)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(
        db.session.scalars(
            stmt.order_by(JournalEntry.entry_date.desc(), JournalEntry.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
    )
    period_ids = {e.source_id for e in rows if e.source_type == "period" and e.source_id}
    periods = (
        {p.id: p.key for p in db.session.scalars(select(FiscalPeriod).where(FiscalPeriod.id.in_(period_ids)))}
        if period_ids
        else {}
    )
    links = {e.id: source_url(e, periods) for e in rows}
    link_args = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in filters.items() if v is not None}
    accounts = list(db.session.scalars(select(Account).order_by(Account.code)))
    return render_template(
        "books/entries.html", rows=rows, total=total, page=page, pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        filters=filters, link_args=link_args, filtered=any(v is not None for v in filters.values()),
        status_labels=ENTRY_STATUS_LABELS, links=links, accounts=accounts, lang=_lang(),
    )  # fmt: skip


def entry_query(
    status: str | None = None, q: str | None = None, account_id: int | None = None,
    date_from: date | None = None, date_to: date | None = None,
):  # type: ignore[no-untyped-def]  # fmt: skip
    stmt = select(JournalEntry)
    if status:
        stmt = stmt.where(JournalEntry.status == status)
    if date_from:
        stmt = stmt.where(JournalEntry.entry_date >= date_from)
    if date_to:
        stmt = stmt.where(JournalEntry.entry_date <= date_to)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(JournalEntry.memo.ilike(like), JournalEntry.number.ilike(like)))
    if account_id:
        stmt = stmt.where(JournalEntry.id.in_(select(JournalLine.entry_id).where(JournalLine.account_id == account_id)))
    return stmt


def _form_choices() -> dict[str, Any]:
    from crm.invoicing.models import Supplier  # noqa: PLC0415 — parties live in contexts above the books
    from crm.sales.models import Customer  # noqa: PLC0415

    accounts = list(db.session.scalars(select(Account).where(Account.is_active.is_(True)).order_by(Account.code)))
    parents = books.has_children(a.id for a in accounts)
    grouped: dict[str, list[Account]] = {t: [] for t in ACCOUNT_TYPES}
    for acc in accounts:
        if acc.id not in parents:
            grouped.setdefault(acc.type, []).append(acc)
    customers = db.session.execute(
        select(Customer.id, Customer.name).where(Customer.archived_at.is_(None)).order_by(Customer.name).limit(300)
    ).all()
    suppliers = db.session.execute(
        select(Supplier.id, Supplier.name).where(Supplier.is_active.is_(True)).order_by(Supplier.name)
    ).all()
    employees = db.session.execute(
        select(Membership.id, User.name).join(User, User.id == Membership.user_id)
        .where(Membership.is_active.is_(True)).order_by(User.name)
    ).all()  # fmt: skip
    parties = [
        (str(PARTY_LABELS["customer"]), [(f"customer:{i}", n) for i, n in customers]),
        (str(PARTY_LABELS["supplier"]), [(f"supplier:{i}", n) for i, n in suppliers]),
        (str(PARTY_LABELS["employee"]), [(f"employee:{i}", n) for i, n in employees]),
    ]
    depts = list(db.session.scalars(select(Department).where(Department.is_active.is_(True)).order_by(Department.name)))
    return {"grouped_accounts": grouped, "type_labels": ACCOUNT_TYPE_LABELS, "parties": parties, "departments": depts,
            "lang": _lang()}  # fmt: skip


def _rows_from_form() -> list[dict[str, str]]:
    """The filled rows of the posted form (lines-<n>-<field>, whatever the gaps), in order."""
    indices = sorted(
        {int(k.split("-")[1]) for k in request.form if k.startswith("lines-") and k.split("-")[1].isdigit()}
    )
    rows = []
    for n in indices:
        row = {f: request.form.get(f"lines-{n}-{f}", "").strip()
               for f in ("account", "debit", "credit", "party", "department", "memo")}  # fmt: skip
        if row["account"] or row["debit"] or row["credit"]:
            rows.append(row)
    return rows


def _line_inputs(rows: list[dict[str, str]]) -> tuple[list[books.LineInput], dict[str, str]]:
    lines, errors = [], {}
    for i, r in enumerate(rows):
        party_type, party_id = None, None
        if r["party"]:
            kind, _sep, pid = r["party"].partition(":")
            if pid.isdigit():
                party_type, party_id = kind, int(pid)
            else:
                errors[f"lines.{i}.party"] = _("Choose a customer, supplier or employee of this workspace.")
        lines.append(
            books.LineInput(
                int(r["account"]) if r["account"].isdigit() else None, r["debit"] or None, r["credit"] or None,
                party_type, party_id, int(r["department"]) if r["department"].isdigit() else None, r["memo"] or None,
            )
        )  # fmt: skip
    return lines, errors


def _entry_rows(entry: JournalEntry) -> list[dict[str, str]]:
    return [
        {"account": str(x.account_id), "debit": f"{x.debit:.2f}" if x.debit else "",
         "credit": f"{x.credit:.2f}" if x.credit else "",
         "party": f"{x.party_type}:{x.party_id}" if x.party_type and x.party_id else "",
         "department": str(x.department_id or ""), "memo": x.memo or ""}
        for x in entry.lines
    ]  # fmt: skip


def _sum(rows: list[dict[str, str]], key: str) -> Decimal:
    total = Decimal("0.00")
    for r in rows:
        amount = books._amount(r[key])  # noqa: SLF001 — the same parsing as the service
        total += amount or Decimal("0.00")
    return total


def _entry_form(entry: JournalEntry | None):  # type: ignore[no-untyped-def]
    tenant = g.tenant
    errors: dict[str, str] = {}
    if request.method == "POST":
        rows = _rows_from_form()
        values = {"entry_date": request.form.get("entry_date", ""), "memo": request.form.get("memo", "")}
        if "add_line" not in request.form:
            lines, errors = _line_inputs(rows)
            entry_date = _date(values["entry_date"])
            data = books.EntryInput(entry_date, values["memo"], lines)
            if not errors:
                is_new = entry is None
                try:
                    if entry is None:
                        entry = books.create_entry(tenant, g.member, data)
                    else:
                        books.update_draft(tenant, g.member, entry, data)
                    if "post" in request.form:
                        books.post_entry(tenant, g.member, entry)
                except InvalidInput as err:
                    db.session.rollback()
                    errors = dict(err.errors)
                    if is_new:  # created, then refused (a closed month): rolled back, so still a new entry
                        entry = None
                else:
                    db.session.commit()
                    if entry.is_posted:
                        flash(_("Entry %(number)s posted.", number=entry.number), "success")
                    else:
                        flash(_("Draft saved."), "success")
                    return redirect(url_for("books.entry_show", entry_id=entry.id))
        blank = 1 if "add_line" in request.form else 0
    else:
        values = {"entry_date": (entry.entry_date if entry else books.today_in(tenant)).isoformat(),
                  "memo": entry.memo if entry else ""}  # fmt: skip
        rows = _entry_rows(entry) if entry else []
        blank = max(BLANK_ROWS - len(rows), 1)
    empty = {"account": "", "debit": "", "credit": "", "party": "", "department": "", "memo": ""}
    shown = rows + [dict(empty) for _ in range(blank)]
    debit, credit = _sum(rows, "debit"), _sum(rows, "credit")
    general = [v for k, v in errors.items() if not k.startswith("lines.") or k.count(".") < 2]
    return render_template(
        "books/entry_form.html", entry=entry, values=values, rows=shown, errors=errors, general=general,
        totals={"debit": debit, "credit": credit, "diff": debit - credit}, **_form_choices(),
    ), (400 if errors else 200)  # fmt: skip


@bp.route("/entries/new", methods=["GET", "POST"])
@require("finance.access")
@books_ready
def entry_new():
    return _entry_form(None)


def _entry(entry_id: int) -> JournalEntry:
    return get_or_404(JournalEntry, entry_id)


@bp.route(f"/entries/{ENTRY_ID}/edit", methods=["GET", "POST"])
@require("finance.access")
@books_ready
def entry_edit(entry_id: int):
    entry = _entry(entry_id)
    if entry.is_posted:
        flash(_("A posted entry is never edited; reverse it instead."), "warning")
        return redirect(url_for("books.entry_show", entry_id=entry.id))
    return _entry_form(entry)


@bp.get(f"/entries/{ENTRY_ID}")
@require("finance.access")
@books_ready
def entry_show(entry_id: int):
    entry = db.session.scalars(
        select(JournalEntry)
        .where(JournalEntry.id == entry_id)
        .options(selectinload(JournalEntry.lines).selectinload(JournalLine.account))
    ).one_or_none()
    if entry is None:
        abort(404)
    return render_template("books/entry_show.html", entry=entry, **_show_context(entry))


def _party_names(entry: JournalEntry) -> dict[tuple[str, int], str]:
    from crm.invoicing.models import Supplier  # noqa: PLC0415
    from crm.sales.models import Customer  # noqa: PLC0415

    out: dict[tuple[str, int], str] = {}
    wanted: dict[str, set[int]] = {}
    for x in entry.lines:
        if x.party_type and x.party_id:
            wanted.setdefault(x.party_type, set()).add(x.party_id)
    if wanted.get("customer"):
        for i, n in db.session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(wanted["customer"]))):
            out[("customer", i)] = n
    if wanted.get("supplier"):
        for i, n in db.session.execute(select(Supplier.id, Supplier.name).where(Supplier.id.in_(wanted["supplier"]))):
            out[("supplier", i)] = n
    if wanted.get("employee"):
        stmt = select(Membership.id, User.name).join(User, User.id == Membership.user_id)
        for i, n in db.session.execute(stmt.where(Membership.id.in_(wanted["employee"]))):
            out[("employee", i)] = n
    return out


def _show_context(entry: JournalEntry) -> dict[str, Any]:
    return {
        "source_link": source_url(entry), "parties": _party_names(entry), "party_labels": PARTY_LABELS,
        "status_labels": ENTRY_STATUS_LABELS, "lang": _lang(), "today": books.today_in(g.tenant),
        "capital": to_capital(entry.total) if entry.total else "",
        "files": attachments.for_owners("journal_entry", [entry.id]).get(entry.id, []),
        "attachment_form": AttachmentForm(),
    }  # fmt: skip


def _refused(err: InvalidInput, entry: JournalEntry) -> Response:
    db.session.rollback()
    for reason in err.errors.values():
        flash(reason, "danger")
    return redirect(url_for("books.entry_show", entry_id=entry.id))


@bp.post(f"/entries/{ENTRY_ID}/post")
@require("finance.access")
@books_ready
def entry_post(entry_id: int):
    entry = _entry(entry_id)
    try:
        books.post_entry(g.tenant, g.member, entry)
    except InvalidInput as err:
        return _refused(err, entry)
    db.session.commit()
    flash(_("Entry %(number)s posted.", number=entry.number), "success")
    return redirect(url_for("books.entry_show", entry_id=entry.id))


@bp.post(f"/entries/{ENTRY_ID}/delete")
@require("finance.access")
@books_ready
def entry_delete(entry_id: int):
    entry = _entry(entry_id)
    try:
        books.delete_draft(g.member, entry)
    except InvalidInput as err:
        return _refused(err, entry)
    db.session.commit()
    flash(_("Draft deleted."), "success")
    return redirect(url_for("books.entries"))


@bp.post(f"/entries/{ENTRY_ID}/reverse")
@require("finance.access")
@books_ready
def entry_reverse(entry_id: int):
    entry = _entry(entry_id)
    when = _date(request.form.get("date"))
    try:
        if when is None:
            raise InvalidInput({"date": _("Enter the reversal's date.")})
        rev = books.reverse_entry(g.tenant, g.member, entry, when, request.form.get("memo", "").strip() or None)
    except InvalidInput as err:
        return _refused(err, entry)
    db.session.commit()
    flash(_("Entry %(number)s reversed by %(reversal)s.", number=entry.number, reversal=rev.number), "success")
    return redirect(url_for("books.entry_show", entry_id=rev.id))


@bp.post(f"/entries/{ENTRY_ID}/attachments")
@require("finance.access")
@books_ready
def entry_attach(entry_id: int):
    """Attach a file (the invoice scan, the bank slip) — to drafts and posted entries alike."""
    entry = _entry(entry_id)
    form = AttachmentForm()
    if not form.validate_on_submit() or not form.file.data:
        flash(_("Choose a file to attach."), "danger")
        return redirect(url_for("books.entry_show", entry_id=entry.id))
    data = attachments.read_limited(form.file.data.stream)
    try:
        attachments.add(g.member, "journal_entry", entry.id, form.file.data.filename or "file", data)
    except attachments.InvalidFile as err:
        db.session.rollback()
        flash(err.reason, "danger")
    else:
        db.session.commit()
        flash(_("File attached."), "success")
    return redirect(url_for("books.entry_show", entry_id=entry.id))


@bp.get(f"/entries/{ENTRY_ID}/voucher.pdf")
@require("finance.access")
@books_ready
def entry_pdf(entry_id: int):
    from crm.exports.pdf import render_pdf  # noqa: PLC0415 — WeasyPrint loads on demand

    entry = _entry(entry_id)
    html = render_template("books/voucher_pdf.html", entry=entry, tenant=g.tenant, **_show_context(entry))
    name = f"{entry.number or 'draft-' + str(entry.id)}.pdf"
    resp = Response(render_pdf(html), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{_quote(name)}"
    return resp


def _quote(name: str) -> str:
    from urllib.parse import quote  # noqa: PLC0415

    return quote(name)


# ---------------------------------------------------------------- periods


def _period_key_or_404(period_key: str) -> tuple[int, int]:
    parsed = closing.parse_key(period_key)
    if parsed is None:
        abort(404)
    return parsed


@bp.get("/periods")
@require("finance.access")
@books_ready
def periods():
    rows = closing.months(g.tenant)
    # The month to close next: the earliest open one.
    next_open = next((r for r in reversed(rows) if r.status != "closed"), None)
    latest_closed = next((r for r in rows if r.status == "closed"), None)
    entry_ids = [r.period.closing_entry_id for r in rows if r.period and r.period.closing_entry_id]
    stmt = select(JournalEntry.id, JournalEntry.number).where(JournalEntry.id.in_(entry_ids))
    numbers = dict(db.session.execute(stmt).all()) if entry_ids else {}  # type: ignore[arg-type]
    db.session.scalars(
        select(Membership).options(selectinload(Membership.user))
        .where(Membership.id.in_({r.period.closed_by_id for r in rows if r.period and r.period.closed_by_id}))
    ).all()  # fmt: skip
    return render_template(
        "books/periods.html", rows=rows, next_open=next_open, latest_closed=latest_closed, numbers=numbers,
        may_close=can(g.member, "periods.close"), may_reopen=can(g.member, "periods.reopen"),
    )  # fmt: skip


@bp.get("/periods/<period_key>")
@require("finance.access")
@books_ready
def period_show(period_key: str):
    year, month = _period_key_or_404(period_key)
    row = books.period_row(year, month)
    checks = closing.close_checklist(g.tenant, year, month) if not row or row.status != "closed" else []
    entries = list(
        db.session.scalars(
            select(JournalEntry)
            .where(JournalEntry.source_type == "period", JournalEntry.source_id == row.id)
            .order_by(JournalEntry.id)
        )
    ) if row else []  # fmt: skip
    job_id = request.args.get("job", type=int)
    return render_template(
        "books/period_show.html", key=period_key, row=row, checks=checks, entries=entries, job_id=job_id,
        may_close=can(g.member, "periods.close"), may_reopen=can(g.member, "periods.reopen"),
    )  # fmt: skip


@bp.post("/periods/<period_key>/close")
@require("periods.close")
@books_ready
def period_close(period_key: str):
    from workers.queue import JobsUnavailable, submit  # noqa: PLC0415

    year, month = _period_key_or_404(period_key)
    try:
        closing.precheck_close(g.tenant, g.member, year, month)
    except InvalidInput as err:
        db.session.rollback()
        for reason in err.errors.values():
            flash(reason, "danger")
        return redirect(url_for("books.period_show", period_key=period_key))
    try:
        job = submit(
            "period_close", g.member, {"year": year, "month": month, "locale": str(get_locale() or "zh_Hans_CN")}
        )
    except JobsUnavailable:
        db.session.rollback()
        flash(_("The job service is unavailable; nothing was started. Try again shortly."), "danger")
        return redirect(url_for("books.period_show", period_key=period_key))
    flash(_("Closing %(month)s: you can follow it here.", month=period_key), "info")
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.post("/periods/<period_key>/reopen")
@require("periods.reopen")
@books_ready
def period_reopen(period_key: str):
    year, month = _period_key_or_404(period_key)
    try:
        closing.reopen_period(g.tenant, g.member, year, month, request.form.get("reason", ""))
    except PermissionDenied:
        abort(403)
    except InvalidInput as err:
        db.session.rollback()
        for reason in err.errors.values():
            flash(reason, "danger")
        return redirect(url_for("books.period_show", period_key=period_key))
    db.session.commit()
    flash(_("%(month)s is open again; its closing entries are reversed.", month=period_key), "success")
    return redirect(url_for("books.period_show", period_key=period_key))
