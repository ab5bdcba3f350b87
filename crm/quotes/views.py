"""Sales → Quotes: list, form (drafts only), the quote page, send, outcome, re-issue, PDF.

The form's lines are htmx-enhanced: a GET returns one row (blank, or filled from a picked
product), and a POST of the whole form returns the totals preview, priced by the same
arithmetic the save uses. Without JavaScript the same form works through plain submits
("Add line", "Remove") that re-render the page without saving.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from crm.catalog.models import Product
from crm.catalog.services import product_choices
from crm.choices import choices
from crm.db import db
from crm.money_words import to_capital
from crm.pipeline.models import Opportunity
from crm.quotes import services
from crm.quotes.forms import BLANK_LINES, LINE_FIELDS, LineForm, OutcomeForm, QuoteForm
from crm.quotes.models import STATUS_BADGES, STATUS_LABELS, STATUSES, Quote
from crm.quotes.pdf import quote_pdf_response
from crm.sales.models import Customer
from crm.sales.picker import customer_options
from crm.sales.sections import Section, register
from crm.sales.services import InvalidInput
from crm.sales.visibility import can_edit, can_read, readable_customer
from crm.scoping import get_or_404
from roles.checks import PermissionDenied, can, require
from tenants.models import Membership

bp = Blueprint("quotes", __name__, url_prefix="/w/<slug>/sales/quotes")


def _visible_quote(quote_id: int) -> Quote:
    q = get_or_404(Quote, quote_id)
    if not services.can_read_quote(g.member, q):
        abort(404)
    return q


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
        pages=max((total + 49) // 50, 1), status_labels=STATUS_LABELS, badges=STATUS_BADGES, today=date.today(),
    )  # fmt: skip


def _visible_opportunity(opportunity_id: int) -> Opportunity:
    """An opportunity to quote from: in this workspace and on a customer the member can see."""
    opp = get_or_404(Opportunity, opportunity_id)
    if opp.customer.archived_at is not None or not can_read(g.member, opp.customer):
        abort(404)
    return opp


def _prepare(form: QuoteForm, customer: Customer | None) -> None:
    form.customer_id.choices = choices([(None, "—")] + customer_options(g.member, None, customer))
    while len([e for e in form.lines.entries if not e.form.is_blank()]) + BLANK_LINES > len(form.lines.entries):
        form.lines.append_entry()
    products = product_choices()
    for entry in form.lines.entries:
        entry.form.product_id.choices = products


def _line_data(form: QuoteForm) -> list[dict[str, Any]]:
    out = []
    for entry in form.lines.entries:
        f: LineForm = entry.form
        if f.is_blank():
            continue
        out.append({k: f[k].data for k in LINE_FIELDS})
    return out


def _preview_context(form: QuoteForm) -> dict[str, Any]:
    preview = services.preview_totals(_line_data(form), bool(form.prices_include_tax.data))
    return {"preview": preview, "capital": to_capital(preview.total.incl)}


def _line_edit(form: QuoteForm) -> bool:
    """The no-JavaScript "Add line" / "Remove" submits: change the rows, save nothing."""
    if "add_line" in request.form:
        form.lines.append_entry()
        return True
    remove = request.form.get("remove_line", "")
    if remove.isdigit():
        # WTForms renumbers the posted rows 0, 1, …; find the row by its place among the posted indices.
        posted = sorted({int(m.group(1)) for k in request.form for m in [LINE_NAME.match(k)] if m})
        if int(remove) in posted:
            del form.lines.entries[posted.index(int(remove))]
        if not form.lines.entries:
            form.lines.append_entry()
        return True
    return False


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


def _save(form: QuoteForm, quote: Quote | None, customer: Customer | None, opportunity: Opportunity | None = None):
    general: list[str] = []
    if request.method == "POST" and _line_edit(form):
        _prepare(form, customer)
        return _render_form(form, quote, general, opportunity, 200)
    if form.validate_on_submit():
        data = services.QuoteInput(
            lines=_line_data(form), prices_include_tax=form.prices_include_tax.data,
            valid_until=form.valid_until.data, terms=form.terms.data,
            opportunity_id=opportunity.id if opportunity is not None else None,
        )  # fmt: skip
        try:
            if quote is None:
                chosen = readable_customer(g.member, form.customer_id.data)
                target = opportunity.customer if opportunity is not None else chosen
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
    return _render_form(form, quote, general, opportunity, 400 if request.method == "POST" else 200)


def _render_form(
    form: QuoteForm, quote: Quote | None, general: list[str], opportunity: Opportunity | None, status: int
):
    return (
        render_template(
            "quotes/form.html", form=form, quote=quote, general=general, opportunity=opportunity,
            **_preview_context(form),
        ),
        status,
    )  # fmt: skip


def _fill_lines(form: QuoteForm, rows: list[dict[str, Any]]) -> None:
    form.lines.entries = []
    form.lines.last_index = -1
    for row in rows:
        form.lines.append_entry(row)


@bp.route("/new", methods=["GET", "POST"])
@require("sales.access")
def new():
    form = QuoteForm()
    opportunity = None
    if "opportunity_id" in request.args:
        opportunity = _visible_opportunity(request.args.get("opportunity_id", -1, type=int))
        customer: Customer | None = opportunity.customer
        form.customer_id.data = opportunity.customer_id  # the opportunity's customer, always
        if request.method == "GET":
            rows = services.lines_from_opportunity(opportunity) or [
                {"description": opportunity.title, "quantity": "1", "unit_price": f"{opportunity.amount:.2f}",
                 "discount_pct": "0", "tax_rate": f"{services.DEFAULT_RATE:.2f}"}
            ]  # fmt: skip
            _fill_lines(form, rows)
    else:
        customer = readable_customer(g.member, request.args.get("customer_id", type=int))
        if request.method == "GET" and customer is not None:
            form.customer_id.data = customer.id
    _prepare(form, customer)  # choices before validation
    return _save(form, None, customer, opportunity)


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
        _fill_lines(
            form,
            [
                {
                    "product_id": line.product_id, "description": line.description,
                    "specification": line.specification, "unit": line.unit,
                    "quantity": format(line.quantity.normalize(), "f"), "unit_price": f"{line.unit_price:.2f}",
                    "discount_pct": format(line.discount_pct.normalize(), "f"), "tax_rate": f"{line.tax_rate:.2f}",
                }
                for line in q.lines
            ],
        )  # fmt: skip
    form.customer_id.data = q.customer_id  # the customer of a quote does not change
    _prepare(form, q.customer)
    return _save(form, q, q.customer)


LINE_NAME = re.compile(r"^lines-(\d{1,4})-")
MAX_ROWS = 200


@bp.get("/line")
@require("sales.access")
def line_row():
    """One row of the lines table (htmx). ``index`` names the row; without it the row is a new
    blank one after the highest index sent. A picked product fills in its description,
    specification, unit, list price and VAT rate; quantity and discount stay as typed.
    ``remove=1`` answers an empty row (the page deletes it). Each answer asks the totals to refresh."""
    a = request.args
    if a.get("remove"):
        return _line_response("")
    index = a.get("index", type=int)
    if index is None:
        used = [int(m.group(1)) for k in a for m in [LINE_NAME.match(k)] if m]
        index = max(used, default=-1) + 1
    if not 0 <= index < 10 * MAX_ROWS:
        abort(400)
    prefix = f"lines-{index}"
    values = {name: a.get(f"{prefix}-{name}") for name in LINE_FIELDS}
    product_id = a.get(f"{prefix}-product_id", type=int)
    values["product_id"] = product_id
    if product_id is not None:
        product = db.session.scalars(select(Product).where(Product.id == product_id)).one_or_none()
        if product is None:
            abort(404)
        values.update(
            description=product.name, specification=product.specification or "", unit=product.unit or "",
            unit_price=f"{product.list_price:.2f}", tax_rate=f"{product.vat_rate:.2f}",
        )  # fmt: skip
        values["quantity"] = values.get("quantity") or "1"
    lf = LineForm(prefix=prefix, data=values)
    lf.product_id.choices = product_choices()
    return _line_response(render_template("quotes/_line.html", lf=lf, index=index))


def _line_response(body: str) -> Response:
    resp = make_response(body)
    resp.headers["HX-Trigger-After-Swap"] = "quote-lines-changed"
    return resp


@bp.post("/preview")
@require("sales.access")
def preview():
    """The totals of the form as it stands (htmx): excluding tax, tax, including tax, in words."""
    form = QuoteForm()
    return render_template("quotes/_totals.html", **_preview_context(form))


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
