"""Sales → Quotes: list, form (drafts only), the quote page, send, outcome, re-issue, PDF."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.catalog.models import Product
from crm.choices import choices
from crm.db import db
from crm.money_words import to_capital
from crm.quotes import services
from crm.quotes.forms import BLANK_LINES, LineForm, OutcomeForm, QuoteForm
from crm.quotes.models import STATUSES, Quote
from crm.quotes.pdf import quote_pdf_response
from crm.sales.models import Customer
from crm.sales.sections import Section, register
from crm.sales.services import CustomerQuery, InvalidInput, list_customers
from crm.sales.visibility import can_edit, can_read
from crm.scoping import get_or_404
from roles.checks import PermissionDenied, can, require
from tenants.models import Membership

bp = Blueprint("quotes", __name__, url_prefix="/w/<slug>/sales/quotes")

STATUS_LABELS = {
    "draft": _l("Draft"),
    "sent": _l("Sent"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
    "expired": _l("Expired"),
    "superseded": _l("Superseded"),
}
STATUS_BADGES = {
    "draft": "secondary", "sent": "primary", "accepted": "success", "rejected": "danger",
    "expired": "warning", "superseded": "light",
}  # fmt: skip


def _visible_quote(quote_id: int) -> Quote:
    q = get_or_404(Quote, quote_id)
    if not services.can_read_quote(g.member, q):
        abort(404)
    return q


def _visible_customer(customer_id: int | None) -> Customer | None:
    if customer_id is None:
        return None
    c = db.session.scalars(select(Customer).where(Customer.id == customer_id)).one_or_none()
    if c is None or c.archived_at is not None or not can_read(g.member, c):
        return None
    return c


@bp.get("")
@require("sales.access")
def index():
    a = request.args
    status = a.get("status") if a.get("status") in STATUSES else None
    page = max(a.get("page", 1, type=int) or 1, 1)
    rows, total = services.list_quotes(
        g.member, services.QuoteQuery(customer_id=a.get("customer_id", type=int), status=status, page=page)
    )
    return render_template(
        "quotes/index.html", rows=rows, total=total, status=status, page=page,
        pages=max((total + 49) // 50, 1), status_labels=STATUS_LABELS, badges=STATUS_BADGES,
    )  # fmt: skip


def _product_choices() -> list[Any]:
    rows = db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.code).limit(500))
    return choices([(None, "—")] + [(p.id, f"{p.code} · {p.name}") for p in rows])


def _prepare(form: QuoteForm, customer: Customer | None) -> None:
    customers = list_customers(g.member, CustomerQuery(sort="name", limit=200))
    pairs = [(c.id, c.name) for c in customers if can_edit(g.member, c)]
    if customer is not None and all(cid != customer.id for cid, _n in pairs):
        pairs.insert(0, (customer.id, customer.name))
    form.customer_id.choices = choices([(None, "—")] + pairs)
    while len([e for e in form.lines.entries if not e.form.is_blank()]) + BLANK_LINES > len(form.lines.entries):
        form.lines.append_entry()
    product_choices = _product_choices()
    for entry in form.lines.entries:
        entry.form.product_id.choices = product_choices


def _line_data(form: QuoteForm) -> list[dict[str, Any]]:
    out = []
    for entry in form.lines.entries:
        f: LineForm = entry.form
        if f.is_blank():
            continue
        out.append({k: f[k].data for k in ("product_id", "description", "specification", "unit", "quantity",
                                            "unit_price", "discount_pct", "tax_rate")})  # fmt: skip
    return out


def _apply_errors(form: QuoteForm, errors: dict[str, str]) -> list[str]:
    """Put lines.<n>.<field> errors on the line's field (n counts non-blank lines)."""
    filled = [e.form for e in form.lines.entries if not e.form.is_blank()]
    general = []
    for key, msg in errors.items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(filled):
            filled[int(parts[1])][parts[2]].errors = [msg]
        elif hasattr(form, key) and key != "lines":
            getattr(form, key).errors = [msg]
        else:
            general.append(msg)
    return general


def _save(form: QuoteForm, quote: Quote | None, customer: Customer | None):
    general: list[str] = []
    if form.validate_on_submit():
        data = services.QuoteInput(
            lines=_line_data(form), prices_include_tax=form.prices_include_tax.data,
            valid_until=form.valid_until.data, terms=form.terms.data,
        )  # fmt: skip
        try:
            if quote is None:
                target = _visible_customer(form.customer_id.data)
                if target is None:
                    raise InvalidInput({"customer_id": _("Choose one of your customers.")})
                quote = services.create_quote(g.member, g.tenant, target, data)
            else:
                services.update_quote(g.member, quote, data)
        except InvalidInput as err:
            db.session.rollback()
            general = _apply_errors(form, err.errors)
        except PermissionDenied:
            db.session.rollback()
            abort(403)
        else:
            db.session.commit()
            flash(_("Quote %(number)s saved.", number=quote.display_number), "success")
            return redirect(url_for("quotes.show", quote_id=quote.id))
    _prepare(form, customer)
    status = 400 if request.method == "POST" else 200
    return render_template("quotes/form.html", form=form, quote=quote, general=general), status


@bp.route("/new", methods=["GET", "POST"])
@require("sales.access")
def new():
    form = QuoteForm()
    customer = _visible_customer(request.args.get("customer_id", type=int))
    if request.method == "GET" and customer is not None:
        form.customer_id.data = customer.id
    _prepare(form, customer)  # choices before validation
    return _save(form, None, customer)


@bp.route("/<int:quote_id>/edit", methods=["GET", "POST"])
@require("sales.access")
def edit(quote_id: int):
    q = _visible_quote(quote_id)
    if not can_edit(g.member, q.customer):
        abort(403)
    if not q.editable:
        flash(_("Only drafts can be changed; re-issue the quote instead."), "warning")
        return redirect(url_for("quotes.show", quote_id=q.id))
    form = QuoteForm(obj=q) if request.method == "GET" else QuoteForm()
    if request.method == "GET":
        form.lines.entries = []
        for line in q.lines:
            form.lines.append_entry(
                {
                    "product_id": line.product_id, "description": line.description,
                    "specification": line.specification, "unit": line.unit, "quantity": str(line.quantity.normalize()),
                    "unit_price": f"{line.unit_price:.2f}", "discount_pct": str(line.discount_pct.normalize()),
                    "tax_rate": f"{line.tax_rate:.2f}",
                }
            )  # fmt: skip
    form.customer_id.data = q.customer_id  # the customer of a quote does not change
    _prepare(form, q.customer)
    return _save(form, q, q.customer)


@bp.get("/<int:quote_id>")
@require("sales.access")
def show(quote_id: int):
    q = _visible_quote(quote_id)
    return render_template(
        "quotes/show.html", q=q, capital=to_capital(q.total_incl), versions=services.versions_of(q),
        editable=can_edit(g.member, q.customer), status_labels=STATUS_LABELS, badges=STATUS_BADGES,
        outcome_form=OutcomeForm(),
    )  # fmt: skip


def _act(quote_id: int, action: str):
    q = _visible_quote(quote_id)
    try:
        if action == "send":
            services.send_quote(g.member, q)
            result, msg = q, _("Quote %(number)s marked as sent.", number=q.display_number)
        elif action == "reissue":
            result = services.reissue_quote(g.member, q)
            msg = _("Quote re-issued as %(number)s.", number=result.display_number)
        else:
            form = OutcomeForm()
            if not form.validate_on_submit():
                flash(_("Choose an outcome."), "danger")
                return redirect(url_for("quotes.show", quote_id=q.id))
            services.set_outcome(g.member, q, form.status.data)
            result, msg = q, _("Quote %(number)s updated.", number=q.display_number)
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    except InvalidInput as err:
        db.session.rollback()
        flash(" ".join(err.errors.values()), "danger")
        return redirect(url_for("quotes.show", quote_id=q.id))
    db.session.commit()
    flash(msg, "success")
    return redirect(url_for("quotes.show", quote_id=result.id))


@bp.post("/<int:quote_id>/send")
@require("sales.access")
def send(quote_id: int):
    return _act(quote_id, "send")


@bp.post("/<int:quote_id>/outcome")
@require("sales.access")
def outcome(quote_id: int):
    return _act(quote_id, "outcome")


@bp.post("/<int:quote_id>/reissue")
@require("sales.access")
def reissue(quote_id: int):
    return _act(quote_id, "reissue")


@bp.get("/<int:quote_id>/pdf")
@require("sales.access")
def pdf(quote_id: int):
    return quote_pdf_response(_visible_quote(quote_id))


def _customer_quotes(member: Membership, customer: Customer) -> dict[str, Any] | None:
    """The customer's quotes on its 360° page (one query; the customer is already visible)."""
    if not can(member, "sales.access"):
        return None
    rows = list(
        db.session.scalars(select(Quote).where(Quote.customer_id == customer.id).order_by(Quote.id.desc()).limit(20))
    )
    return {"quotes": rows, "status_labels": STATUS_LABELS, "badges": STATUS_BADGES,
            "can_quote": can_edit(member, customer)}  # fmt: skip


register(Section(40, "quotes/_customer_section.html", _customer_quotes))
