"""Sales → Contracts: list, form (drafts only), the contract page, submit / approve / reject,
terminate, re-date, delete, PDF, and the Contracts section of the customer 360° page."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from crm.choices import choices
from crm.contracts import services
from crm.contracts.forms import BLANK_PAYMENTS, ContractForm, RedateForm, ReviewForm, TerminateForm
from crm.contracts.models import STATUS_BADGES, STATUS_LABELS, STATUSES, Contract, ContractReview
from crm.contracts.pdf import contract_pdf_response
from crm.db import db
from crm.money_words import to_capital
from crm.orders.models import DELIVERY_LABELS, Order
from crm.quotes.models import Quote
from crm.sales.models import Customer
from crm.sales.picker import customer_options
from crm.sales.sections import Section, register
from crm.sales.services import InvalidInput
from crm.sales.visibility import can_edit, can_read, readable_customer
from crm.scoping import get_in_tenant
from roles.checks import PermissionDenied, can, require
from roles.scopes import visible_member_ids
from tenants.models import Membership

bp = Blueprint("contracts", __name__, url_prefix="/w/<slug>/sales/contracts")

PAGE_SIZE = 50
EXPIRING_DAYS = 30
DECISION_LABELS = {"submitted": _l("Submitted"), "approved": _l("Approved"), "rejected": _l("Rejected")}


def _load(contract_id: int, *, full: bool = False) -> Contract:
    stmt = select(Contract).where(Contract.id == contract_id, Contract.tenant_id == g.tenant.id)
    if full:
        stmt = stmt.options(
            joinedload(Contract.customer), joinedload(Contract.owner), joinedload(Contract.approved_by),
            joinedload(Contract.quote), joinedload(Contract.opportunity), selectinload(Contract.payments),
            selectinload(Contract.reviews).joinedload(ContractReview.member),
        )  # fmt: skip
    c = get_in_tenant(Contract, contract_id) if not full else db.session.scalars(stmt).unique().one_or_none()
    if c is None or not services.can_read_contract(g.member, c):
        abort(404)
    return c


def _owner_choices() -> list[Membership]:
    visible = visible_member_ids(g.member)
    stmt = select(Membership).where(Membership.is_active.is_(True))
    if visible is not None:
        stmt = stmt.where(Membership.id.in_(visible or {-1}))
    rows = list(db.session.scalars(stmt))
    return sorted(rows, key=lambda m: m.user.name)


@bp.get("")
@require("sales.access")
def index():
    a = request.args
    status = a.get("status") if a.get("status") in STATUSES else None
    page = max(a.get("page", 1, type=int) or 1, 1)
    q = (a.get("q") or "").strip()[:100] or None
    owner_id = a.get("owner_id", type=int)
    expiring = a.get("expiring") == "1"
    rows, total = services.list_contracts(
        g.member,
        services.ContractQuery(
            status=status, q=q, owner_id=owner_id, expiring_within_days=EXPIRING_DAYS if expiring else None,
            customer_id=a.get("customer_id", type=int), page=page, page_size=PAGE_SIZE,
        ),
    )  # fmt: skip
    filters = {"status": status, "q": q, "owner_id": owner_id, "expiring": "1" if expiring else None}
    return render_template(
        "contracts/index.html", rows=rows, total=total, page=page, pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        filters=filters, filtered=any(filters.values()), active_filters={k: v for k, v in filters.items() if v},
        owners=_owner_choices(), status_labels=STATUS_LABELS,
        badges=STATUS_BADGES, expiring_days=EXPIRING_DAYS, today=date.today(),
    )  # fmt: skip


def _prepare(form: ContractForm, customer: Customer | None) -> None:
    form.customer_id.choices = choices([(None, "—")] + customer_options(g.member, None, customer))
    filled = len([e for e in form.payments.entries if not e.form.is_blank()])
    while filled + BLANK_PAYMENTS > len(form.payments.entries):
        form.payments.append_entry()


def _payment_data(form: ContractForm) -> list[dict[str, Any]]:
    return [
        {"due_on": e.form.due_on.data, "amount": e.form.amount.data, "note": e.form.note.data}
        for e in form.payments.entries
        if not e.form.is_blank()
    ]


def _apply_errors(form: ContractForm, errors: dict[str, str]) -> list[str]:
    """Put payments.<n>.<field> errors on the row's field (n counts non-blank rows)."""
    filled = [e.form for e in form.payments.entries if not e.form.is_blank()]
    general = []
    for key, msg in errors.items():
        parts = key.split(".")
        if parts[0] == "payments" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(filled):
            filled[int(parts[1])][parts[2]].errors = [msg]
        elif key == "payments":
            form.payments.errors = [msg]  # type: ignore[assignment]
        elif hasattr(form, key):
            getattr(form, key).errors = [msg]
        else:
            general.append(msg)
    return general


def _input(form: ContractForm) -> services.ContractInput:
    return services.ContractInput(
        title=form.title.data, signed_on=form.signed_on.data, starts_on=form.starts_on.data,
        ends_on=form.ends_on.data, amount=form.amount.data, terms=form.terms.data, payments=_payment_data(form),
        quote_id=int(form.quote_id.data) if (form.quote_id.data or "").isdigit() else None,
    )  # fmt: skip


def _save(form: ContractForm, contract: Contract | None, customer: Customer | None, quote: Quote | None):
    general: list[str] = []
    if form.validate_on_submit():
        try:
            if contract is None:
                target = readable_customer(g.member, form.customer_id.data)
                if target is None:
                    raise InvalidInput({"customer_id": _("Choose one of your customers.")})
                contract = services.create_contract(g.member, g.tenant, target, _input(form))
            else:
                services.update_contract(g.member, contract, _input(form))
        except InvalidInput as err:
            db.session.rollback()
            general = _apply_errors(form, err.errors)
        except PermissionDenied:
            db.session.rollback()
            abort(403)
        else:
            db.session.commit()
            flash(_("Contract %(number)s saved.", number=contract.number), "success")
            return redirect(url_for("contracts.show", contract_id=contract.id))
    elif request.method == "POST" and not general:
        general = [_("Check the highlighted fields.")] if any(f.errors for f in form if f.name != "csrf_token") else []
    _prepare(form, customer)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "contracts/form.html", form=form, contract=contract, customer=customer, quote=quote, general=general,
    ), status  # fmt: skip


def _fill_form(form: ContractForm, data: services.ContractInput) -> None:
    form.title.data = data.title
    form.signed_on.data, form.starts_on.data, form.ends_on.data = data.signed_on, data.starts_on, data.ends_on
    form.amount.data = f"{data.amount:.2f}" if data.amount is not None else ""
    form.terms.data = data.terms
    form.quote_id.data = str(data.quote_id) if data.quote_id else ""
    form.payments.entries = []
    form.payments.last_index = -1
    for p in data.payments or []:
        form.payments.append_entry(
            {"due_on": p["due_on"].isoformat() if p["due_on"] else "", "amount": f"{p['amount']:.2f}",
             "note": p.get("note") or ""}
        )  # fmt: skip


@bp.route("/new", methods=["GET", "POST"])
@require("sales.access")
def new():
    form = ContractForm()
    quote = None
    quote_id = request.args.get("quote_id", type=int)
    if quote_id is not None:
        quote = get_in_tenant(Quote, quote_id)
        if quote is None or not can_read(g.member, quote.customer):
            abort(404)
        if quote.status != "accepted":
            flash(_("Only an accepted quote becomes a contract."), "warning")
            return redirect(url_for("quotes.show", quote_id=quote.id))
    customer = quote.customer if quote else readable_customer(g.member, request.args.get("customer_id", type=int))
    if request.method == "GET":
        if quote is not None:
            _fill_form(form, services.prefill_from_quote(quote))
        if customer is not None:
            form.customer_id.data = customer.id
    if quote is not None:
        form.customer_id.data = quote.customer_id  # a contract from a quote is for the quote's customer
    _prepare(form, customer)
    return _save(form, None, customer, quote)


@bp.route("/<int:contract_id>/edit", methods=["GET", "POST"])
@require("sales.access")
def edit(contract_id: int):
    c = _load(contract_id)
    if not can_edit(g.member, c.customer):
        abort(403)
    if not c.editable:
        flash(_("Only drafts can be changed."), "warning")
        return redirect(url_for("contracts.show", contract_id=c.id))
    form = ContractForm()
    if request.method == "GET":
        _fill_form(form, services.input_of(c))
        form.quote_id.data = str(c.quote_id) if c.quote_id else ""
    form.customer_id.data = c.customer_id  # the customer of a contract does not change
    _prepare(form, c.customer)
    return _save(form, c, c.customer, c.quote)


@bp.get("/<int:contract_id>")
@require("sales.access")
def show(contract_id: int):
    c = _load(contract_id, full=True)
    m = g.member
    # Orders follow the contract's customer, which the member can read: no further filter.
    orders = db.session.scalars(select(Order).where(Order.contract_id == c.id).order_by(Order.id)).all()
    return render_template(
        "contracts/show.html", c=c, capital=to_capital(c.amount), plan_total=sum(p.amount for p in c.payments),
        orders=orders, delivery_labels=DELIVERY_LABELS,
        editable=can_edit(m, c.customer), reviewer=services.can_review(m, c),
        self_review=services.submitter_of(c) == m.id and not services.may_approve_own(m),
        can_redate=c.status in ("active", "expired") and can(m, "contracts.approve"),
        status_labels=STATUS_LABELS, badges=STATUS_BADGES, decisions=DECISION_LABELS,
        review_form=ReviewForm(), terminate_form=TerminateForm(), redate_form=RedateForm(),
    )  # fmt: skip


def _act(contract_id: int, action: str):
    c = _load(contract_id)
    back = redirect(url_for("contracts.show", contract_id=c.id))
    number = c.number
    try:
        if action == "submit":
            services.submit_contract(g.member, g.tenant, c)
            msg = _("Contract %(number)s submitted for approval.", number=number)
        elif action == "approve":
            form = ReviewForm()
            if not form.validate_on_submit():
                flash(_("The comment is too long."), "danger")
                return back
            services.approve_contract(g.member, g.tenant, c, form.comment.data)
            msg = _("Contract %(number)s approved; it is now active.", number=number)
        elif action == "reject":
            form = ReviewForm()
            services.reject_contract(g.member, g.tenant, c, form.comment.data if form.validate_on_submit() else "")
            msg = _("Contract %(number)s sent back to its author.", number=number)
        elif action == "terminate":
            tform = TerminateForm()
            services.terminate_contract(g.member, c, tform.reason.data if tform.validate_on_submit() else "")
            msg = _("Contract %(number)s terminated.", number=number)
        elif action == "redate":
            rform = RedateForm()
            services.change_end_date(g.member, c, rform.ends_on.data if rform.validate_on_submit() else None)
            msg = _("Contract %(number)s now ends on %(day)s.", number=number, day=c.ends_on)
        else:  # delete
            services.delete_contract(g.member, c)
            db.session.commit()
            flash(_("Draft contract %(number)s deleted.", number=number), "success")
            return redirect(url_for("contracts.index"))
    except services.SelfApproval:
        db.session.rollback()
        flash(_("You submitted this contract yourself; another manager has to approve it."), "danger")
        return back
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    except InvalidInput as err:
        db.session.rollback()
        flash(" ".join(err.errors.values()), "danger")
        return back
    db.session.commit()
    flash(msg, "success")
    return back


@bp.post("/<int:contract_id>/submit")
@require("sales.access")
def submit(contract_id: int):
    return _act(contract_id, "submit")


@bp.post("/<int:contract_id>/approve")
@require("sales.access", "contracts.approve")
def approve(contract_id: int):
    return _act(contract_id, "approve")


@bp.post("/<int:contract_id>/reject")
@require("sales.access", "contracts.approve")
def reject(contract_id: int):
    return _act(contract_id, "reject")


@bp.post("/<int:contract_id>/terminate")
@require("sales.access")
def terminate(contract_id: int):
    return _act(contract_id, "terminate")


@bp.post("/<int:contract_id>/redate")
@require("sales.access", "contracts.approve")
def redate(contract_id: int):
    return _act(contract_id, "redate")


@bp.post("/<int:contract_id>/delete")
@require("sales.access")
def delete(contract_id: int):
    return _act(contract_id, "delete")


@bp.get("/<int:contract_id>/pdf")
@require("sales.access")
def pdf(contract_id: int):
    return contract_pdf_response(_load(contract_id, full=True))


def _customer_contracts(member: Membership, customer: Customer) -> dict[str, Any] | None:
    """The customer's contracts on its 360° page (one query; the customer is already visible)."""
    if not can(member, "sales.access"):
        return None
    rows = list(
        db.session.scalars(
            select(Contract).where(Contract.customer_id == customer.id).order_by(Contract.id.desc()).limit(20)
        )
    )
    return {"contracts": rows, "status_labels": STATUS_LABELS, "badges": STATUS_BADGES,
            "can_contract": can_edit(member, customer)}  # fmt: skip


register(Section(45, "contracts/_customer_section.html", _customer_contracts))
