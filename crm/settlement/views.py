"""Finance → Receipts, Payments, Offsets, Write-offs: lists with totals, new, the receipt/payment
page with its allocations, allocate (table → confirm), auto-allocate (preview → confirm), post,
reverse, delete a draft, offsets (应收冲应付), write-offs, undo; and the contract plan fragment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import BigInteger, case, func, or_, select, type_coerce
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from crm.books import services as books
from crm.books.models import Account
from crm.choices import choices
from crm.db import Money, db
from crm.invoicing.models import Invoice, Supplier
from crm.sales.models import Customer
from crm.sales.services import InvalidInput
from crm.scoping import get_or_404
from crm.settlement import services
from crm.settlement.forms import OffsetForm, PaymentForm, ReasonForm, WriteOffForm
from crm.settlement.models import PAYMENT_STATUS_LABELS, SETTLEMENT_KIND_LABELS, Payment, Settlement
from roles.checks import PermissionDenied, can, require

bp = Blueprint("settlement", __name__, url_prefix="/w/<slug>/finance")

PAGE_SIZE = 50
STATUS_BADGES = {"draft": "secondary", "posted": "success", "reversed": "light"}
ZERO = Decimal("0.00")


def _fen_sum(col):  # type: ignore[no-untyped-def]
    return type_coerce(func.coalesce(func.sum(type_coerce(col, BigInteger)), 0), Money())


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _errors_text(err: InvalidInput) -> str:
    return " ".join(str(v) for v in err.errors.values())


def _today() -> date:
    return books.today_in(g.tenant)


def customer_choices() -> list[tuple[int, str]]:
    stmt = select(Customer.id, Customer.name).where(Customer.archived_at.is_(None)).order_by(Customer.name)
    return [(i, n) for i, n in db.session.execute(stmt.limit(500))]


def supplier_choices() -> list[tuple[int, str]]:
    stmt = select(Supplier.id, Supplier.name).where(Supplier.is_active.is_(True)).order_by(Supplier.name)
    return [(i, n) for i, n in db.session.execute(stmt.limit(500))]


def _locale() -> str:
    from flask_babel import get_locale  # noqa: PLC0415

    return str(get_locale() or "")


def _payment(payment_id: int, direction: str | None = None) -> Payment:
    p = get_or_404(Payment, payment_id)
    if direction is not None and p.direction != direction:
        abort(404)
    return p


def _show_url(p: Payment) -> str:
    return url_for("settlement.receipt_show" if p.is_receipt else "settlement.payment_show", payment_id=p.id)


# ---------------------------------------------------------------- lists


@dataclass
class PaymentList:
    rows: list[Payment]
    total: int
    sum_amount: Decimal
    sum_unallocated: Decimal


def list_payments(direction: str, filters: dict[str, Any], page: int) -> PaymentList:
    where = [Payment.direction == direction]
    party_col = Payment.customer_id if direction == "in" else Payment.supplier_id
    if filters.get("party_id"):
        where.append(party_col == filters["party_id"])
    if filters.get("date_from"):
        where.append(Payment.payment_date >= filters["date_from"])
    if filters.get("date_to"):
        where.append(Payment.payment_date <= filters["date_to"])
    if filters.get("open"):
        where += [Payment.status == "posted", Payment.unallocated > 0]
    total, amount, unallocated = db.session.execute(
        select(func.count(Payment.id), _fen_sum(Payment.amount),
               type_coerce(func.coalesce(func.sum(case((Payment.status == "posted",
                                                        type_coerce(Payment.unallocated, BigInteger)), else_=0)), 0),
                           Money())).where(*where)
    ).one()  # fmt: skip
    rows = list(
        db.session.scalars(
            select(Payment).where(*where)
            .options(joinedload(Payment.customer), joinedload(Payment.supplier), joinedload(Payment.account))
            .order_by(Payment.payment_date.desc(), Payment.id.desc())
            .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
        ).unique()
    )  # fmt: skip
    return PaymentList(rows, total or 0, amount or ZERO, unallocated or ZERO)


def _index(direction: str):  # type: ignore[no-untyped-def]
    a = request.args
    page = max(a.get("page", 1, type=int) or 1, 1)
    filters = {"party_id": a.get("party_id", type=int), "date_from": _date_arg("date_from"),
               "date_to": _date_arg("date_to"), "open": a.get("open") == "1" or None}  # fmt: skip
    result = list_payments(direction, filters, page)
    link_args = {k: (v.isoformat() if isinstance(v, date) else ("1" if v is True else v))
                 for k, v in filters.items() if v}  # fmt: skip
    parties = customer_choices() if direction == "in" else supplier_choices()
    return render_template(
        "settlement/index.html", direction=direction, result=result, filters=filters, link_args=link_args,
        page=page, pages=max((result.total + PAGE_SIZE - 1) // PAGE_SIZE, 1), parties=parties,
        status_labels=PAYMENT_STATUS_LABELS, badges=STATUS_BADGES, filtered=any(filters.values()),
    )  # fmt: skip


@bp.get("/receipts")
@require("finance.access")
def receipts():
    return _index("in")


@bp.get("/payments")
@require("finance.access")
def payments():
    return _index("out")


# ---------------------------------------------------------------- new


def _new(direction: str):  # type: ignore[no-untyped-def]
    form = PaymentForm()
    books.ensure_books(g.tenant, g.member)
    if direction == "out":
        form.party_id.label.text = pgettext("party", "Supplier")
    parties = customer_choices() if direction == "in" else supplier_choices()
    form.party_id.choices = choices([(None, "—")] + parties)
    cash = services.cash_accounts()
    form.account_id.choices = choices([(a.id, a.label(_locale())) for a in cash])
    if request.method == "GET":
        form.payment_date.data = _today()
        form.party_id.data = request.args.get("party_id", type=int)
        bank = next((a for a in cash if a.role == "bank"), cash[0] if cash else None)
        form.account_id.data = bank.id if bank else None
    general: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        party = form.party_id.data
        data = services.PaymentInput(
            direction=direction, payment_date=form.payment_date.data, amount=form.amount.data,
            account_id=form.account_id.data, customer_id=party if direction == "in" else None,
            supplier_id=party if direction == "out" else None, reference=form.reference.data, memo=form.memo.data,
        )  # fmt: skip
        try:
            p = services.create_payment(g.tenant, g.member, data, post=bool(form.post.data))
        except InvalidInput as err:
            db.session.rollback()
            for key, msg in err.errors.items():
                key = "party_id" if key in ("customer_id", "supplier_id") else key
                if key in form._fields:
                    form[key].errors = [msg]
                else:
                    general.append(msg)
        else:
            db.session.commit()
            flash(_("%(number)s saved.", number=p.number), "success")
            return redirect(_show_url(p))
    status = 400 if request.method == "POST" else 200
    return render_template("settlement/form.html", form=form, direction=direction, general=general), status


@bp.route("/receipts/new", methods=["GET", "POST"])
@require("finance.access")
def receipt_new():
    return _new("in")


@bp.route("/payments/new", methods=["GET", "POST"])
@require("finance.access")
def payment_new():
    return _new("out")


# ---------------------------------------------------------------- the receipt/payment page


def _allocations_of(p: Payment) -> list[Settlement]:
    stmt = (
        select(Settlement).where(Settlement.payment_id == p.id)
        .options(joinedload(Settlement.invoice)).order_by(Settlement.settled_on, Settlement.id)
    )  # fmt: skip
    return list(db.session.scalars(stmt))


def _show(p: Payment, values: dict[int, str] | None = None, errors: dict[str, str] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    open_docs = services.open_documents_for(p) if p.status == "posted" else []
    preview = {d.id: a for d, a in services.allocation_preview(p)} if p.status == "posted" else {}
    if values is None:
        values = {d.id: (f"{preview[d.id]:.2f}" if d.id in preview else "") for d in open_docs}
    return render_template(
        "settlement/show.html", p=p, allocations=_allocations_of(p), open_docs=open_docs, values=values,
        errors=errors or {}, allocated=services.allocated_of(p), status_labels=PAYMENT_STATUS_LABELS,
        badges=STATUS_BADGES, undo_form=ReasonForm(), today=_today(),
    ), status  # fmt: skip


@bp.get("/receipts/<int:payment_id>")
@require("finance.access")
def receipt_show(payment_id: int):
    return _show(_payment(payment_id, "in"))


@bp.get("/payments/<int:payment_id>")
@require("finance.access")
def payment_show(payment_id: int):
    return _show(_payment(payment_id, "out"))


def _refused(p: Payment, err: Exception):  # type: ignore[no-untyped-def]
    db.session.rollback()
    if isinstance(err, PermissionDenied):
        abort(403)
    assert isinstance(err, InvalidInput)
    flash(_errors_text(err), "danger")
    return redirect(_show_url(p))


@bp.post("/money/<int:payment_id>/post")
@require("finance.access")
def post(payment_id: int):
    p = _payment(payment_id)
    try:
        services.post_payment(g.tenant, g.member, p)
    except (InvalidInput, PermissionDenied) as err:
        return _refused(p, err)
    db.session.commit()
    flash(_("%(number)s posted.", number=p.number), "success")
    return redirect(_show_url(p))


@bp.post("/money/<int:payment_id>/reverse")
@require("finance.access")
def reverse(payment_id: int):
    p = _payment(payment_id)
    try:
        services.reverse_payment(g.tenant, g.member, p, _date_form("on"), request.form.get("reason"))
    except (InvalidInput, PermissionDenied) as err:
        return _refused(p, err)
    db.session.commit()
    flash(_("%(number)s reversed.", number=p.number), "success")
    return redirect(_show_url(p))


@bp.post("/money/<int:payment_id>/delete")
@require("finance.access")
def delete(payment_id: int):
    p = _payment(payment_id)
    number, target = p.number, url_for("settlement.receipts" if p.is_receipt else "settlement.payments")
    try:
        services.delete_payment(g.member, p)
    except (InvalidInput, PermissionDenied) as err:
        return _refused(p, err)
    db.session.commit()
    flash(_("%(number)s deleted.", number=number), "success")
    return redirect(target)


def _date_form(name: str) -> date | None:
    try:
        return date.fromisoformat(request.form.get(name, ""))
    except ValueError:
        return None


@bp.post("/money/<int:payment_id>/allocate")
@require("finance.access")
def allocate(payment_id: int):
    """The amounts per open document (amount-<invoice id>) → a confirmation page → confirm=1 posts."""
    p = _payment(payment_id)
    docs = {d.id: d for d in services.open_documents_for(p)} if p.status == "posted" else {}
    values = {i: (request.form.get(f"amount-{i}") or "").strip() for i in docs}
    on = _date_form("on") or _today()
    errors: dict[str, str] = {}
    chosen: list[tuple[Invoice, Decimal]] = []
    for i, raw in values.items():
        if not raw or raw in ("0", "0.00"):
            continue
        amount = services.parse_amount(raw)
        if amount is None:
            errors[f"amount-{i}"] = _("Enter an amount greater than zero with at most two decimals.")
        else:
            chosen.append((docs[i], amount))
    total = sum((a for _d, a in chosen), ZERO)
    if not errors and not chosen:
        errors["general"] = _("Enter an amount against at least one document.")
    elif not errors and total > p.unallocated:
        errors["general"] = _("Together that is %(total)s, more than the %(free)s not yet allocated.",
                              total=f"{total:,.2f}", free=f"{p.unallocated:,.2f}")  # fmt: skip
    if errors:
        for msg in [errors.pop("general")] if "general" in errors else []:
            flash(msg, "danger")
        return _show(p, values, errors, 400)
    if request.form.get("confirm") != "1":
        return render_template("settlement/confirm.html", p=p, chosen=chosen, total=total, on=on, auto=False)
    try:
        for doc, amount in chosen:
            services.allocate(g.tenant, g.member, p, doc, amount, on)
    except (InvalidInput, PermissionDenied) as err:
        return _refused(p, err)
    db.session.commit()
    flash(_("%(total)s allocated.", total=f"{total:,.2f}"), "success")
    return redirect(_show_url(p))


@bp.route("/money/<int:payment_id>/auto-allocate", methods=["GET", "POST"])
@require("finance.access")
def auto_allocate(payment_id: int):
    p = _payment(payment_id)
    on = _date_form("on") or _today()
    if request.method == "GET":
        chosen = services.allocation_preview(p) if p.status == "posted" else []
        total = sum((a for _d, a in chosen), ZERO)
        return render_template("settlement/confirm.html", p=p, chosen=chosen, total=total, on=on, auto=True)
    try:
        done = services.auto_allocate(g.tenant, g.member, p, on)
    except (InvalidInput, PermissionDenied) as err:
        return _refused(p, err)
    db.session.commit()
    flash(_("%(total)s allocated.", total=f"{sum((s.amount for s in done), ZERO):,.2f}"), "success")
    return redirect(_show_url(p))


# ---------------------------------------------------------------- offsets


@bp.get("/offsets")
@require("finance.access")
def offsets():
    stmt = (
        select(Settlement).where(Settlement.kind == "offset")
        .options(joinedload(Settlement.invoice).joinedload(Invoice.customer),
                 joinedload(Settlement.bill).joinedload(Invoice.supplier))
        .order_by(Settlement.settled_on.desc(), Settlement.id.desc()).limit(200)
    )  # fmt: skip
    rows = list(db.session.scalars(stmt).unique())
    return render_template("settlement/offsets.html", rows=rows, undo_form=ReasonForm(), today=_today())


def _offset_parties() -> list[tuple[int, str]]:
    """Customers that are also a supplier (Supplier.customer_id)."""
    stmt = (
        select(Customer.id, Customer.name).join(Supplier, Supplier.customer_id == Customer.id)
        .distinct().order_by(Customer.name)
    )  # fmt: skip
    return [(i, n) for i, n in db.session.execute(stmt)]


@bp.route("/offsets/new", methods=["GET", "POST"])
@require("finance.access")
def offset_new():
    customer_id = request.args.get("customer", type=int)
    parties = _offset_parties()
    form = OffsetForm()
    open_where = [Invoice.status == "posted", Invoice.entry_id.is_not(None), Invoice.reversed_on.is_(None)]
    invoices = bills = []
    if customer_id:
        invoices = list(db.session.scalars(select(Invoice).where(
            *open_where, Invoice.direction == "receivable", Invoice.customer_id == customer_id
        ).order_by(Invoice.invoice_date, Invoice.id)))  # fmt: skip
        bills = list(db.session.scalars(select(Invoice).join(Supplier, Supplier.id == Invoice.supplier_id).where(
            *open_where, Invoice.direction == "payable", Supplier.customer_id == customer_id
        ).order_by(Invoice.invoice_date, Invoice.id)))  # fmt: skip
    form.invoice_id.choices = choices([(None, "—")] + [(d.id, f"{d.number} · {d.open_amount:,.2f}") for d in invoices])
    form.bill_id.choices = choices([(None, "—")] + [(d.id, f"{d.number} · {d.open_amount:,.2f}") for d in bills])
    if request.method == "GET":
        form.settled_on.data = _today()
    general: list[str] = []
    confirm = False
    if request.method == "POST" and form.validate_on_submit():
        inv = next((d for d in invoices if d.id == form.invoice_id.data), None)
        bill = next((d for d in bills if d.id == form.bill_id.data), None)
        if inv is None or bill is None:
            general.append(_("Choose an open invoice and an open bill of this party."))
        elif request.form.get("confirm") != "1":
            confirm = True
        else:
            try:
                services.offset(g.tenant, g.member, inv, bill, form.amount.data, form.settled_on.data)
            except InvalidInput as err:
                db.session.rollback()
                general.append(_errors_text(err))
            else:
                db.session.commit()
                flash(_("%(a)s offset against %(b)s.", a=inv.number, b=bill.number), "success")
                return redirect(url_for("settlement.offsets"))
    status = 400 if request.method == "POST" and not confirm else 200
    return render_template(
        "settlement/offset_form.html", form=form, parties=parties, customer_id=customer_id, general=general,
        confirm=confirm, has_documents=bool(invoices and bills),
    ), status  # fmt: skip


# ---------------------------------------------------------------- write-offs and undo


@bp.route("/documents/<int:document_id>/write-off", methods=["GET", "POST"])
@require("finance.access", "books.write_off")
def write_off(document_id: int):
    doc = get_or_404(Invoice, document_id)
    form = WriteOffForm()
    form.account_id.choices = choices([(a.id, a.label(_locale())) for a in services.write_off_accounts(doc.direction)])
    if request.method == "GET":
        form.amount.data = f"{doc.open_amount:.2f}"
        form.settled_on.data = _today()
    general: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.write_off(g.tenant, g.member, doc, form.amount.data, form.account_id.data, form.reason.data,
                               form.settled_on.data)  # fmt: skip
        except PermissionDenied:
            db.session.rollback()
            abort(403)
        except InvalidInput as err:
            db.session.rollback()
            for key, msg in err.errors.items():
                if key in form._fields:
                    form[key].errors = [msg]
                else:
                    general.append(msg)
        else:
            db.session.commit()
            flash(_("%(number)s written off.", number=doc.number), "success")
            return redirect(_document_url(doc))
    status = 400 if request.method == "POST" else 200
    return render_template("settlement/write_off.html", form=form, doc=doc, general=general,
                           back=_document_url(doc)), status  # fmt: skip


def _document_url(doc: Invoice) -> str:
    """The invoice/bill page (crm.invoicing), or the settlement list while it is not there."""
    endpoint, var = (
        ("invoicing.invoice_show", "invoice_id") if doc.is_receivable else ("invoicing.bill_show", "bill_id")
    )
    try:
        return url_for(endpoint, **{var: doc.id})
    except BuildError:
        return url_for("settlement.receipts" if doc.is_receivable else "settlement.payments")


@bp.post("/settlements/<int:settlement_id>/undo")
@require("finance.access")
def undo(settlement_id: int):
    s = get_or_404(Settlement, settlement_id)
    back = request.form.get("next") or ""
    if not back.startswith("/w/"):
        back = _show_url(s.payment) if s.payment is not None else url_for("settlement.offsets")
    try:
        services.undo_settlement(g.tenant, g.member, s, _date_form("on"), request.form.get("reason"))
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    except InvalidInput as err:
        db.session.rollback()
        flash(_errors_text(err), "danger")
        return redirect(back)
    db.session.commit()
    flash(_("The settlement is undone; a reversal entry was posted."), "success")
    return redirect(back)


# ---------------------------------------------------------------- fragments for other pages


def document_settlements(document: Invoice) -> dict[str, Any]:
    """What templates/settlement/_document_settlements.html shows (two queries)."""
    stmt = (
        select(Settlement).where(or_(Settlement.invoice_id == document.id, Settlement.bill_id == document.id))
        .options(joinedload(Settlement.payment), joinedload(Settlement.invoice), joinedload(Settlement.bill),
                 joinedload(Settlement.account))
        .order_by(Settlement.settled_on, Settlement.id)
    )  # fmt: skip
    return {"rows": list(db.session.scalars(stmt).unique()), "kind_labels": SETTLEMENT_KIND_LABELS}


def contract_plan(contract: Any) -> list[services.PlanRow] | None:
    """Planned vs received; nothing for a contract without a plan or a visitor without either
    workspace (two queries, whatever the plan's size)."""
    member = g.get("member")
    if not (can(member, "finance.access") or can(member, "sales.access")):
        return None
    return services.plan_progress(contract) or None


@bp.app_context_processor
def _settlement_helpers() -> dict[str, Any]:
    return {"settlement_of_document": document_settlements, "settlement_contract_plan": contract_plan,
            "settlement_kind_labels": SETTLEMENT_KIND_LABELS, "settlement_account_label": _account_label,
            "settlement_today": _today}  # fmt: skip


def _account_label(a: Account | None) -> str:
    return a.label(_locale()) if a is not None else ""
