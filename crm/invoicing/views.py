"""Finance → invoices (应收单), bills (应付单), suppliers and the "to invoice" queue.

Invoices and bills share every view and template; the direction comes from the URL (the
endpoints are registered twice: invoice_* with <invoice_id>, bill_* with <bill_id>)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from crm.books.services import today_in
from crm.catalog.services import product_choices
from crm.choices import choices
from crm.contracts.models import Contract
from crm.db import db
from crm.exports.pdf import render_pdf
from crm.invoicing import services
from crm.invoicing.forms import BLANK_LINES, LINE_FIELDS, InvoiceForm, InvoiceLineForm, ReverseForm, SupplierForm
from crm.invoicing.models import STATUS_BADGES, STATUS_LABELS, STATUSES, Invoice, Supplier
from crm.money_words import to_capital
from crm.orders.models import Order
from crm.sales.services import InvalidInput
from crm.scoping import get_or_404
from roles.checks import require

bp = Blueprint("invoicing", __name__, url_prefix="/w/<slug>/finance")

PAGE_SIZE = 50
# "Open" alone is also the verb (查看) on other pages: a document's status says it with a context.
SHOWN_STATUS_LABELS = {**STATUS_LABELS, "posted": lazy_pgettext("document status", "Open")}
KINDS = {
    "receivable": {"prefix": "invoice", "list": "invoicing.invoices", "var": "invoice_id",
                   "title": _l("Invoices"), "one": _l("Invoice"), "new": _l("New invoice")},
    "payable": {"prefix": "bill", "list": "invoicing.bills", "var": "bill_id",
                "title": _l("Bills"), "one": _l("Bill"), "new": _l("New bill")},
}  # fmt: skip


def _ep(direction: str, action: str) -> str:
    return f"invoicing.{KINDS[direction]['prefix']}_{action}"


def doc_url(inv: Invoice, action: str = "show") -> str:
    return url_for(_ep(inv.direction, action), **{KINDS[inv.direction]["var"]: inv.id})


def _load(direction: str, doc_id: int) -> Invoice:
    inv = get_or_404(Invoice, doc_id)
    if inv.direction != direction:
        abort(404)
    return inv


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _ctx(direction: str) -> dict[str, Any]:
    return {
        "direction": direction, "k": KINDS[direction], "ep": lambda action: _ep(direction, action),
        "doc_url": doc_url, "status_labels": SHOWN_STATUS_LABELS, "badges": STATUS_BADGES,
    }  # fmt: skip


# ---------------------------------------------------------------- list


def _index(direction: str):  # type: ignore[no-untyped-def]
    a = request.args
    party_key = "customer_id" if direction == "receivable" else "supplier_id"
    filters: dict[str, Any] = {
        "status": a.get("status") if a.get("status") in STATUSES else None,
        party_key: a.get(party_key, type=int),
        "date_from": _date_arg("date_from"), "date_to": _date_arg("date_to"),
        "overdue": True if a.get("overdue") else None, "q": (a.get("q") or "").strip()[:60] or None,
    }  # fmt: skip
    page = max(a.get("page", 1, type=int) or 1, 1)
    result = services.list_invoices(
        g.tenant,
        services.InvoiceQuery(
            direction=direction, status=filters["status"], customer_id=filters.get("customer_id"),
            supplier_id=filters.get("supplier_id"), date_from=filters["date_from"], date_to=filters["date_to"],
            overdue=bool(filters["overdue"]), q=filters["q"], page=page, page_size=PAGE_SIZE,
        ),
    )  # fmt: skip
    parties = services.customer_choices() if direction == "receivable" else services.supplier_choices()
    link_args = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in filters.items() if v is not None}
    today = today_in(g.tenant)
    return render_template(
        "invoicing/index.html", result=result, filters=filters, party_key=party_key, parties=parties,
        link_args=link_args, page=page, pages=max((result.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        filtered=any(v is not None for v in filters.values()),
        overdue={x.id for x in result.rows if services.is_overdue(g.tenant, x, today)}, **_ctx(direction),
    )  # fmt: skip


# ---------------------------------------------------------------- the form


def _prepare(form: InvoiceForm, direction: str, selected: int | None) -> InvoiceLineForm:
    if direction == "receivable":
        form.customer_id.choices = choices([(None, "—")] + services.customer_choices(selected))
        form.supplier_id.choices = choices([(None, "—")])
    else:
        form.supplier_id.choices = choices([(None, "—")] + services.supplier_choices(selected))
        form.customer_id.choices = choices([(None, "—")])
    while len([e for e in form.lines.entries if not e.form.is_blank()]) + BLANK_LINES > len(form.lines.entries):
        form.lines.append_entry()
    products = product_choices()
    accounts = choices(
        [(None, _("Default account"))] + [(a.id, f"{a.code} {a.name_zh}") for a in services.line_accounts(direction)]
    )
    for entry in form.lines.entries:
        entry.form.product_id.choices = products
        entry.form.account_id.choices = accounts
    template = InvoiceLineForm(prefix="lines-__i__-")
    template.product_id.choices = products
    template.account_id.choices = accounts
    return template


def _fill_lines(form: InvoiceForm, inv: Invoice) -> None:
    form.lines.entries = []
    form.lines.last_index = -1
    for x in inv.lines:
        form.lines.append_entry(
            {
                "product_id": x.product_id,
                "description": x.description,
                "specification": x.specification,
                "unit": x.unit,
                "quantity": format(x.quantity.normalize(), "f"),
                "unit_price": f"{x.unit_price:.2f}",
                "discount_pct": format(x.discount_pct.normalize(), "f"),
                "tax_rate": f"{x.tax_rate:.2f}",
                "account_id": x.account_id,
            }  # fmt: skip
        )


def _line_data(form: InvoiceForm, inv: Invoice | None) -> list[dict[str, Any]]:
    out = []
    keep = {x.position: x.order_line_id for x in inv.lines} if inv is not None else {}
    for e in form.lines.entries:
        if e.form.is_blank():
            continue
        d = {k: e.form[k].data for k in LINE_FIELDS}
        d["order_line_id"] = keep.get(len(out)) if inv is not None and inv.order_id else None
        out.append(d)
    return out


def _apply_errors(form: InvoiceForm, errors: dict[str, str]) -> list[str]:
    filled = [e.form for e in form.lines.entries if not e.form.is_blank()]
    general = []
    for key, msg in errors.items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(filled):
            target = filled[int(parts[1])]
            if parts[2] in target._fields:
                target[parts[2]].errors = [msg]
                continue
            general.append(msg)
        elif key in form._fields and key != "lines":
            form[key].errors = [msg]
        else:
            general.append(msg)
    return general


def _input(form: InvoiceForm, direction: str, inv: Invoice | None) -> services.InvoiceInput:
    return services.InvoiceInput(
        direction=direction, invoice_date=form.invoice_date.data,
        customer_id=form.customer_id.data if direction == "receivable" else None,
        supplier_id=form.supplier_id.data if direction == "payable" else None,
        due_date=form.due_date.data, lines=_line_data(form, inv), prices_include_tax=bool(form.prices_include_tax.data),
        memo=form.memo.data, external_number=form.external_number.data if direction == "payable" else None,
        order_id=inv.order_id if inv else None, contract_id=inv.contract_id if inv else None,
        department_id=inv.department_id if inv else None,
    )  # fmt: skip


def _form(direction: str, inv: Invoice | None):  # type: ignore[no-untyped-def]
    if inv is not None and inv.status != "draft":
        flash(_("A posted document is never edited; reverse it instead."), "warning")
        return redirect(doc_url(inv))
    form = InvoiceForm(obj=inv) if request.method == "GET" and inv is not None else InvoiceForm()
    if request.method == "GET":
        if inv is not None:
            _fill_lines(form, inv)
        else:
            form.invoice_date.data = today_in(g.tenant)
            asked = request.args.get("customer_id" if direction == "receivable" else "supplier_id", type=int)
            (form.customer_id if direction == "receivable" else form.supplier_id).data = asked
    party = form.customer_id.data if direction == "receivable" else form.supplier_id.data
    template = _prepare(form, direction, party)
    general: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                if inv is None:
                    inv = services.create_invoice(g.tenant, g.member, _input(form, direction, None))
                else:
                    services.update_invoice(g.tenant, g.member, inv, _input(form, direction, inv))
            except InvalidInput as err:
                db.session.rollback()
                general = _apply_errors(form, err.errors)
            else:
                db.session.commit()
                flash(_("%(number)s saved.", number=inv.number), "success")
                return redirect(doc_url(inv))
    return render_template(
        "invoicing/form.html", form=form, inv=inv, line_template=template, general=general, **_ctx(direction)
    ), status


# ---------------------------------------------------------------- the document page and its actions


def _show(direction: str, doc_id: int):  # type: ignore[no-untyped-def]
    inv = _load(direction, doc_id)
    has_entries = "books.entry_show" in current_app.view_functions
    return render_template(
        "invoicing/show.html", inv=inv, document=inv, capital=to_capital(inv.total_incl), has_entries=has_entries,
        overdue=services.is_overdue(g.tenant, inv), reverse_form=ReverseForm(formdata=None, on=today_in(g.tenant)),
        **_ctx(direction),
    )  # fmt: skip


def _post(direction: str, doc_id: int):  # type: ignore[no-untyped-def]
    inv = _load(direction, doc_id)
    try:
        services.post_invoice(g.tenant, g.member, inv)
    except InvalidInput as err:
        db.session.rollback()
        flash(" ".join(str(v) for v in err.errors.values()), "danger")
    else:
        db.session.commit()
        flash(_("%(number)s posted.", number=inv.number), "success")
    return redirect(doc_url(inv))


def _reverse(direction: str, doc_id: int):  # type: ignore[no-untyped-def]
    inv = _load(direction, doc_id)
    form = ReverseForm()
    general: list[str] = []
    if request.method == "GET":
        form.on.data = today_in(g.tenant)
    elif form.validate_on_submit():
        try:
            services.reverse_invoice(g.tenant, g.member, inv, form.on.data, form.reason.data)
        except InvalidInput as err:
            db.session.rollback()
            for k, v in err.errors.items():
                if k == "date":
                    form.on.errors = [v]
                else:
                    general.append(v)
        else:
            db.session.commit()
            flash(_("%(number)s reversed.", number=inv.number), "success")
            return redirect(doc_url(inv))
    status = 400 if request.method == "POST" else 200
    return render_template("invoicing/reverse.html", inv=inv, form=form, general=general, **_ctx(direction)), status


def _delete(direction: str, doc_id: int):  # type: ignore[no-untyped-def]
    inv = _load(direction, doc_id)
    number = inv.number
    try:
        services.delete_invoice(g.member, inv)
    except InvalidInput as err:
        db.session.rollback()
        flash(" ".join(str(v) for v in err.errors.values()), "danger")
        return redirect(doc_url(inv))
    db.session.commit()
    flash(_("%(number)s deleted.", number=number), "success")
    return redirect(url_for(KINDS[direction]["list"]))


def _pdf(direction: str, doc_id: int):  # type: ignore[no-untyped-def]
    inv = _load(direction, doc_id)
    html = render_template("invoicing/invoice.pdf.html", inv=inv, tenant=g.tenant, capital=to_capital(inv.total_incl))
    resp = Response(render_pdf(html), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="{inv.number}.pdf"'
    return resp


def _register(direction: str) -> None:
    k = KINDS[direction]
    base, var, prefix = "/" + ("invoices" if direction == "receivable" else "bills"), k["var"], k["prefix"]
    one = f"{base}/<int:{var}>"

    def bind(fn, with_id=True):  # type: ignore[no-untyped-def]
        if with_id:

            def view(slug: str | None = None, **kw: int):  # type: ignore[no-untyped-def]
                return fn(direction, kw[var])
        else:

            def view(slug: str | None = None):  # type: ignore[no-untyped-def]
                return fn(direction)

        return require("finance.access")(view)

    bp.add_url_rule(base, "invoices" if direction == "receivable" else "bills", bind(_index, False), methods=["GET"])
    bp.add_url_rule(f"{base}/new", f"{prefix}_new", bind(lambda d: _form(d, None), False), methods=["GET", "POST"])
    bp.add_url_rule(one, f"{prefix}_show", bind(_show), methods=["GET"])
    bp.add_url_rule(one + "/edit", f"{prefix}_edit", bind(lambda d, i: _form(d, _load(d, i))), methods=["GET", "POST"])
    bp.add_url_rule(one + "/post", f"{prefix}_post", bind(_post), methods=["POST"])
    bp.add_url_rule(one + "/reverse", f"{prefix}_reverse", bind(_reverse), methods=["GET", "POST"])
    bp.add_url_rule(one + "/delete", f"{prefix}_delete", bind(_delete), methods=["POST"])
    bp.add_url_rule(one + "/pdf", f"{prefix}_pdf", bind(_pdf), methods=["GET"])


_register("receivable")
_register("payable")


# ---------------------------------------------------------------- to invoice


@bp.get("/to-invoice")
@require("finance.access")
def queue():
    items = services.revenue_queue(g.tenant, g.member)
    return render_template("invoicing/queue.html", items=items)


@bp.post("/to-invoice/orders/<int:order_id>")
@require("finance.access")
def queue_order(order_id: int):
    return _from_source(lambda: services.invoice_from_order(g.tenant, g.member, get_or_404(Order, order_id)))


@bp.post("/to-invoice/contracts/<int:contract_id>")
@require("finance.access")
def queue_contract(contract_id: int):
    return _from_source(lambda: services.invoice_from_contract(g.tenant, g.member, get_or_404(Contract, contract_id)))


def _from_source(make):  # type: ignore[no-untyped-def]
    try:
        inv = make()
    except InvalidInput as err:
        db.session.rollback()
        flash(" ".join(str(v) for v in err.errors.values()), "danger")
        return redirect(url_for("invoicing.queue"))
    db.session.commit()
    flash(_("Draft invoice %(number)s created; check it and post it.", number=inv.number), "success")
    return redirect(doc_url(inv, "edit"))


# ---------------------------------------------------------------- suppliers


@bp.get("/suppliers")
@require("finance.access")
def suppliers():
    q = (request.args.get("q") or "").strip()[:100] or None
    show = request.args.get("show")
    active = None if show == "all" else (show != "inactive")
    rows = services.list_suppliers(q, active=active)
    return render_template("invoicing/suppliers.html", rows=rows, q=q, show=show)


def _supplier_prepare(form: SupplierForm, selected: int | None) -> None:
    form.customer_id.choices = choices([(None, "—")] + services.customer_choices(selected))


def _supplier_form(s: Supplier | None):  # type: ignore[no-untyped-def]
    form = SupplierForm(obj=s) if request.method == "GET" and s is not None else SupplierForm()
    if request.method == "GET" and s is not None:
        form.payment_terms_days.data = str(s.payment_terms_days)
    _supplier_prepare(form, form.customer_id.data)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            data = {k: form[k].data for k in services.SUPPLIER_FIELDS}
            data["uscc_override_reason"] = form.uscc_override_reason.data
            try:
                if s is None:
                    s = services.create_supplier(g.tenant, g.member, data)
                else:
                    services.update_supplier(g.tenant, g.member, s, data)
            except InvalidInput as err:
                db.session.rollback()
                for k, v in err.errors.items():
                    if k in form._fields:
                        form[k].errors = [v]
            else:
                db.session.commit()
                flash(_("Supplier %(name)s saved.", name=s.name), "success")
                return redirect(url_for("invoicing.supplier_show", supplier_id=s.id))
    return render_template("invoicing/supplier_form.html", form=form, s=s), status


@bp.route("/suppliers/new", methods=["GET", "POST"])
@require("finance.access")
def supplier_new():
    return _supplier_form(None)


@bp.route("/suppliers/<int:supplier_id>/edit", methods=["GET", "POST"])
@require("finance.access")
def supplier_edit(supplier_id: int):
    return _supplier_form(get_or_404(Supplier, supplier_id))


@bp.get("/suppliers/<int:supplier_id>")
@require("finance.access")
def supplier_show(supplier_id: int):
    s = get_or_404(Supplier, supplier_id)
    result = services.list_invoices(
        g.tenant, services.InvoiceQuery(direction="payable", supplier_id=s.id, page_size=100)
    )
    return render_template(
        "invoicing/supplier_show.html", s=s, result=result, open_amount=services.supplier_open_amount(s.id),
        **_ctx("payable"),
    )  # fmt: skip
