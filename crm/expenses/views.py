"""Office → expense claims and advances (every member), and Finance → claims to pay,
categories and reports (expenses.pay).

Views parse, check, fetch in scope, call a service, render; the services hold the rules. A
refused step (wrong status, self-approval) is flashed on the claim's page; a missing
permission is 403; another workspace's claim is 404."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload

from crm.books.services import today_in
from crm.choices import choices
from crm.db import db
from crm.expenses import services
from crm.expenses.forms import (
    BLANK_LINES,
    LINE_FIELDS,
    AdvanceForm,
    CategoryForm,
    ClaimForm,
    CommentForm,
    PayForm,
    ReceiptForm,
)
from crm.expenses.models import (
    ADVANCE_STATUS_BADGES,
    ADVANCE_STATUS_LABELS,
    CLAIM_STATUS_BADGES,
    CLAIM_STATUS_LABELS,
    EVENT_LABELS,
    ExpenseAdvance,
    ExpenseCategory,
    ExpenseClaim,
    ExpenseClaimLine,
)
from crm.exports.pdf import render_pdf
from crm.exports.xlsx import write_table
from crm.money_words import to_capital
from crm.sales.services import InvalidInput
from crm.scoping import get_in_tenant, get_or_404
from roles.checks import PermissionDenied, can, require

bp = Blueprint("expenses", __name__, url_prefix="/w/<slug>")
OFF = "/office/expenses"
FIN = "/finance/expenses"
PAY = services.PAY


def _report_label(by: str) -> str:
    return {"category": _("Category"), "department": _("Department"), "member": _("Member"),
            "month": _("Month")}[by]  # fmt: skip


def _ctx() -> dict[str, Any]:
    return {
        "claim_labels": CLAIM_STATUS_LABELS, "claim_badges": CLAIM_STATUS_BADGES,
        "advance_labels": ADVANCE_STATUS_LABELS, "advance_badges": ADVANCE_STATUS_BADGES,
        "event_labels": EVENT_LABELS, "cat_label": services.category_label, "may_pay": can(g.member, PAY),
    }  # fmt: skip


def _say(err: InvalidInput) -> None:
    flash(" ".join(str(v) for v in err.errors.values()), "danger")


def _apply(form: FlaskForm, errors: dict[str, str]) -> list[str]:
    general = []
    for key, msg in errors.items():
        if key in form._fields:
            form[key].errors = [msg]
        else:
            general.append(msg)
    return general


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        return None


def _claim(claim_id: int) -> ExpenseClaim:
    claim = get_or_404(ExpenseClaim, claim_id)
    # The lines with their categories in one go (the page reads both for every line).
    db.session.scalars(
        db.select(ExpenseClaim).where(ExpenseClaim.id == claim.id)
        .options(selectinload(ExpenseClaim.lines).selectinload(ExpenseClaimLine.category))
        .execution_options(populate_existing=True)
    ).one()  # fmt: skip
    if not services.can_see_claim(g.member, claim):
        abort(403)
    return claim


def _advance(advance_id: int) -> ExpenseAdvance:
    adv = get_or_404(ExpenseAdvance, advance_id)
    if not services.can_see_advance(g.member, adv):
        abort(403)
    return adv


def _step(fn: Any, done: str, back: str) -> Any:
    """Run a flow step: commit and flash ``done``, or roll back and flash the refusal."""
    try:
        fn()
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    except InvalidInput as err:
        db.session.rollback()
        _say(err)
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(back)


# ---------------------------------------------------------------- office: my claims and advances


@bp.get(OFF)
@require("office.access")
def mine():  # type: ignore[no-untyped-def]
    me = g.member
    return render_template(
        "expenses/index.html", claims=services.my_claims(me), advances=services.my_advances(me),
        to_approve=services.claims_to_approve(me), advances_to_approve=services.advances_to_approve(me), **_ctx(),
    )  # fmt: skip


def line_rows(form_data: Any) -> list[dict[str, Any]]:
    """The filled line rows of a posted claim form (blank rows dropped)."""
    rows: dict[int, dict[str, Any]] = {}
    for key, value in form_data.items():
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() and parts[2] in LINE_FIELDS:
            rows.setdefault(int(parts[1]), {})[parts[2]] = value.strip()
    out = []
    for i in sorted(rows)[: services.MAX_LINES + 1]:
        row = rows[i]
        if any(row.get(k) for k in ("amount", "description", "invoice_number", "input_vat")):
            out.append(row)
    return out


def _prepare(form: ClaimForm, claimant_id: int) -> None:
    depts = services.department_choices()
    form.department_id.choices = choices([(None, "—")] + [(d.id, d.name) for d in depts])
    form.customer_id.choices = choices([(None, "—")] + services.customer_choices(g.member, form.customer_id.data))
    form.opportunity_id.choices = choices([(None, "—")] + services.opportunity_choices(g.member))
    advances = services.open_advances(claimant_id)
    form.advance_id.choices = choices(
        [(None, _("No advance"))] + [(a.id, f"{a.number} · ¥{a.open_amount:,.2f} {a.purpose}") for a in advances]
    )


def _line_errors(errors: dict[str, str]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for key, msg in errors.items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit():
            out.setdefault(int(parts[1]), {})[parts[2]] = msg
    return out


def _claim_form(claim: ExpenseClaim | None):  # type: ignore[no-untyped-def]
    if claim is not None:
        if claim.claimant_id != g.member.id:
            abort(403)
        if not claim.editable:
            flash(_("Only a draft or a rejected claim can be changed."), "warning")
            return redirect(url_for("expenses.claim_show", expense_claim_id=claim.id))
    form = ClaimForm(obj=claim) if request.method == "GET" and claim is not None else ClaimForm()
    categories = services.active_categories()
    rows: list[dict[str, Any]]
    if request.method == "GET":
        rows = [
            {"id": x.id, "expense_date": x.expense_date.isoformat(), "category_id": x.category_id,
             "amount": f"{x.amount:.2f}", "input_vat": f"{x.input_vat:.2f}" if x.input_vat else "",
             "invoice_number": x.invoice_number or "", "description": x.description}
            for x in (claim.lines if claim is not None else [])
        ]  # fmt: skip
    else:
        rows = line_rows(request.form)
    if request.method == "GET" and claim is None:
        form.department_id.data = services.default_department(g.member)
    _prepare(form, claim.claimant_id if claim else g.member.id)
    general: list[str] = []
    line_errors: dict[int, dict[str, str]] = {}
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            data = services.ClaimInput(
                title=form.title.data, department_id=form.department_id.data, customer_id=form.customer_id.data,
                opportunity_id=form.opportunity_id.data, advance_id=form.advance_id.data, lines=rows,
            )  # fmt: skip
            try:
                if claim is None:
                    claim = services.create_claim(g.tenant, g.member, data)
                else:
                    services.update_claim(g.tenant, g.member, claim, data)
                if request.form.get("then") == "submit":
                    services.submit_claim(g.tenant, g.member, claim)
            except PermissionDenied:
                db.session.rollback()
                abort(403)
            except InvalidInput as err:
                db.session.rollback()
                general = _apply(form, {k: v for k, v in err.errors.items() if not k.startswith("lines.")})
                line_errors = _line_errors(err.errors)
            else:
                db.session.commit()
                flash(_("%(number)s saved.", number=claim.number), "success")
                return redirect(url_for("expenses.claim_show", expense_claim_id=claim.id))
    today = today_in(g.tenant).isoformat()
    blanks = [{"expense_date": today} for _i in range(BLANK_LINES)]
    return render_template(
        "expenses/claim_form.html", form=form, claim=claim, rows=rows + blanks, categories=categories,
        general=general, line_errors=line_errors, **_ctx(),
    ), status  # fmt: skip


@bp.route(OFF + "/claims/new", methods=["GET", "POST"])
@require("office.access")
def claim_new():  # type: ignore[no-untyped-def]
    return _claim_form(None)


@bp.route(OFF + "/claims/<int:expense_claim_id>/edit", methods=["GET", "POST"])
@require("office.access")
def claim_edit(expense_claim_id: int):  # type: ignore[no-untyped-def]
    return _claim_form(_claim(expense_claim_id))


@bp.get(OFF + "/claims/<int:expense_claim_id>")
@require("office.access")
def claim_show(expense_claim_id: int):  # type: ignore[no-untyped-def]
    return _render_claim(_claim(expense_claim_id))


def _render_claim(claim: ExpenseClaim, comment_form: CommentForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    me = g.member
    return render_template(
        "expenses/claim.html", claim=claim, events=services.timeline(claim), receipts=services.receipts_of(claim),
        capital=to_capital(claim.total), mine=claim.claimant_id == me.id,
        may_approve=claim.status == "submitted" and claim.claimant_id != me.id
        and services.is_approver(me, claim.claimant_id, claim.approver_id),
        may_review=claim.status == "approved" and claim.claimant_id != me.id and can(me, PAY),
        may_pay_it=claim.status == "reviewed" and claim.claimant_id != me.id and can(me, PAY),
        comment_form=comment_form or CommentForm(formdata=None), receipt_form=ReceiptForm(formdata=None),
        pay_form=_pay_form(), **_ctx(),
    ), status  # fmt: skip


def _back(claim: ExpenseClaim) -> str:
    return url_for("expenses.claim_show", expense_claim_id=claim.id)


@bp.post(OFF + "/claims/<int:expense_claim_id>/submit")
@require("office.access")
def claim_submit(expense_claim_id: int):  # type: ignore[no-untyped-def]
    claim = _claim(expense_claim_id)
    return _step(lambda: services.submit_claim(g.tenant, g.member, claim),
                 _("%(number)s submitted for approval.", number=claim.number), _back(claim))  # fmt: skip


@bp.post(OFF + "/claims/<int:expense_claim_id>/approve")
@require("office.access")
def claim_approve(expense_claim_id: int):  # type: ignore[no-untyped-def]
    claim = _claim(expense_claim_id)
    return _step(lambda: services.approve_claim(g.tenant, g.member, claim),
                 _("%(number)s approved.", number=claim.number), _back(claim))  # fmt: skip


@bp.post(OFF + "/claims/<int:expense_claim_id>/reject")
@require("office.access")
def claim_reject(expense_claim_id: int):  # type: ignore[no-untyped-def]
    claim = _claim(expense_claim_id)
    return _reject(
        lambda comment: services.reject_claim(g.tenant, g.member, claim, comment),
        lambda form: _render_claim(claim, form, 400), _back(claim),
        _("%(number)s rejected; the claimant was told why.", number=claim.number),
    )  # fmt: skip


def _reject(action: Any, render_with: Any, back: str, done: str) -> Any:
    """A rejection with its reason: a missing reason is shown beside the field (400), any other
    refusal is flashed; a claim and an advance are rejected alike."""
    form = CommentForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        action(form.comment.data)
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    except InvalidInput as err:
        db.session.rollback()
        if set(err.errors) == {"comment"}:
            form.comment.errors = [err.errors["comment"]]
            return render_with(form)
        _say(err)
        return redirect(back)
    db.session.commit()
    flash(done, "success")
    return redirect(back)


@bp.post(OFF + "/claims/<int:expense_claim_id>/delete")
@require("office.access")
def claim_delete(expense_claim_id: int):  # type: ignore[no-untyped-def]
    claim = _claim(expense_claim_id)
    number = claim.number
    try:
        services.delete_claim(g.member, claim)
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    except InvalidInput as err:
        db.session.rollback()
        _say(err)
        return redirect(_back(claim))
    db.session.commit()
    flash(_("%(number)s deleted.", number=number), "success")
    return redirect(url_for("expenses.mine"))


@bp.post(OFF + "/claims/<int:expense_claim_id>/lines/<int:expense_line_id>/receipt")
@require("office.access")
def claim_receipt(expense_claim_id: int, expense_line_id: int):  # type: ignore[no-untyped-def]
    claim = _claim(expense_claim_id)
    line = get_in_tenant(ExpenseClaimLine, expense_line_id)
    if line is None or line.claim_id != claim.id:
        abort(404)
    if claim.claimant_id != g.member.id:
        abort(403)
    form = ReceiptForm()
    upload = request.files.get("receipt")
    if not form.validate_on_submit():
        abort(400)
    try:
        from crm.attachments.services import read_limited  # noqa: PLC0415

        data = read_limited(upload.stream) if upload is not None else b""
        services.attach_receipt(g.tenant, g.member, claim, line, upload.filename if upload else "", data)
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    except InvalidInput as err:
        db.session.rollback()
        _say(err)
        return redirect(_back(claim))
    db.session.commit()
    flash(_("Receipt attached."), "success")
    return redirect(_back(claim))


# ---------------------------------------------------------------- office: advances


@bp.route(OFF + "/advances/new", methods=["GET", "POST"])
@require("office.access")
def advance_new():  # type: ignore[no-untyped-def]
    form = AdvanceForm()
    general: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                adv = services.request_advance(g.tenant, g.member, {
                    "amount": form.amount.data, "purpose": form.purpose.data, "needed_by": form.needed_by.data,
                })  # fmt: skip
            except InvalidInput as err:
                db.session.rollback()
                general = _apply(form, err.errors)
            else:
                db.session.commit()
                flash(_("Advance %(number)s requested.", number=adv.number), "success")
                return redirect(url_for("expenses.advance_show", expense_advance_id=adv.id))
    return render_template("expenses/advance_form.html", form=form, general=general, **_ctx()), status


@bp.get(OFF + "/advances/<int:expense_advance_id>")
@require("office.access")
def advance_show(expense_advance_id: int):  # type: ignore[no-untyped-def]
    return _render_advance(_advance(expense_advance_id))


def _render_advance(adv: ExpenseAdvance, comment_form: CommentForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    me = g.member
    boss = services.manager_of(adv.member)
    claims = list(db.session.scalars(db.select(ExpenseClaim).where(ExpenseClaim.advance_id == adv.id)))
    return render_template(
        "expenses/advance.html", adv=adv, events=services.timeline(advance=adv), claims=claims,
        may_approve=adv.status == "requested" and adv.member_id != me.id
        and services.is_approver(me, adv.member_id, boss.id if boss else None),
        may_pay_it=adv.status == "approved" and adv.member_id != me.id and can(me, PAY),
        may_repay=adv.status == "paid" and adv.member_id != me.id and can(me, PAY),
        comment_form=comment_form or CommentForm(formdata=None), pay_form=_pay_form(), **_ctx(),
    ), status  # fmt: skip


def _adv_back(adv: ExpenseAdvance) -> str:
    return url_for("expenses.advance_show", expense_advance_id=adv.id)


@bp.post(OFF + "/advances/<int:expense_advance_id>/approve")
@require("office.access")
def advance_approve(expense_advance_id: int):  # type: ignore[no-untyped-def]
    adv = _advance(expense_advance_id)
    return _step(lambda: services.approve_advance(g.tenant, g.member, adv),
                 _("Advance %(number)s approved.", number=adv.number), _adv_back(adv))  # fmt: skip


@bp.post(OFF + "/advances/<int:expense_advance_id>/reject")
@require("office.access")
def advance_reject(expense_advance_id: int):  # type: ignore[no-untyped-def]
    adv = _advance(expense_advance_id)
    return _reject(
        lambda comment: services.reject_advance(g.tenant, g.member, adv, comment),
        lambda form: _render_advance(adv, form, 400), _adv_back(adv),
        _("Advance %(number)s rejected.", number=adv.number),
    )  # fmt: skip


# ---------------------------------------------------------------- finance: review and pay


def _pay_form() -> PayForm:
    form = PayForm(formdata=None)
    if can(g.member, PAY):
        from crm.settlement.services import cash_accounts  # noqa: PLC0415

        try:
            accounts = cash_accounts()
        except Exception:  # books not set up yet: paying sets them up, the default is the bank
            accounts = []
        form.account_id.choices = choices(
            [(None, _("Bank (default)"))] + [(a.id, f"{a.code} {a.name_zh}") for a in accounts]
        )
    form.on.data = today_in(g.tenant).isoformat()
    return form


@bp.get(FIN)
@require(PAY)
def review():  # type: ignore[no-untyped-def]
    return render_template(
        "expenses/review.html", approved=services.finance_claims(("approved",)),
        reviewed=services.finance_claims(("reviewed",)), advances=services.finance_advances(("approved",)),
        paid=services.finance_claims(("paid",), limit=50), pay_form=_pay_form(), me=g.member, **_ctx(),
    )  # fmt: skip


@bp.post(FIN + "/claims/<int:expense_claim_id>/review")
@require(PAY)
def claim_review(expense_claim_id: int):  # type: ignore[no-untyped-def]
    claim = _claim(expense_claim_id)
    back = request.form.get("next") == "claim" and _back(claim) or url_for("expenses.review")
    return _step(lambda: services.review_claim(g.tenant, g.member, claim),
                 _("%(number)s reviewed; it can be paid now.", number=claim.number), back)  # fmt: skip


def _pay_args() -> tuple[date | None, int | None]:
    on = _date(request.form.get("on"))
    raw = request.form.get("account_id") or ""
    return on, int(raw) if raw.isdigit() else None


@bp.post(FIN + "/pay")
@require(PAY)
def pay():  # type: ignore[no-untyped-def]
    ids = sorted({int(x) for x in request.form.getlist("claim_ids") if x.isdigit()})
    claims = list(db.session.scalars(db.select(ExpenseClaim).where(ExpenseClaim.id.in_(ids)))) if ids else []
    on, account_id = _pay_args()
    back = url_for("expenses.review")
    if len(claims) == 1 and request.form.get("next") == "claim":
        back = _back(claims[0])
    if len(claims) != len(ids):
        abort(404)
    return _step(lambda: services.pay_claims(g.tenant, g.member, claims, on, account_id),
                 _("%(n)d claim(s) paid and posted.", n=len(claims)), back)  # fmt: skip


@bp.post(FIN + "/advances/<int:expense_advance_id>/pay")
@require(PAY)
def advance_pay(expense_advance_id: int):  # type: ignore[no-untyped-def]
    adv = _advance(expense_advance_id)
    on, account_id = _pay_args()
    back = _adv_back(adv) if request.form.get("next") == "advance" else url_for("expenses.review")
    return _step(lambda: services.pay_advance(g.tenant, g.member, adv, on, account_id),
                 _("Advance %(number)s paid and posted.", number=adv.number), back)  # fmt: skip


@bp.post(FIN + "/advances/<int:expense_advance_id>/repay")
@require(PAY)
def advance_repay(expense_advance_id: int):  # type: ignore[no-untyped-def]
    adv = _advance(expense_advance_id)
    on, account_id = _pay_args()
    amount = request.form.get("amount")
    return _step(lambda: services.repay_advance(g.tenant, g.member, adv, amount, on, account_id),
                 _("Repayment of advance %(number)s recorded and posted.", number=adv.number),
                 _adv_back(adv))  # fmt: skip


# ---------------------------------------------------------------- finance: categories


@bp.get(FIN + "/categories")
@require(PAY)
def categories():  # type: ignore[no-untyped-def]
    rows = services.ensure_categories()
    db.session.commit()
    accounts = services.expense_accounts()
    form = CategoryForm(formdata=None)
    form.account_id.choices = choices([(None, "—")] + [(a.id, f"{a.code} {a.name_zh}") for a in accounts])
    return render_template("expenses/categories.html", rows=rows, form=form, **_ctx())


@bp.post(FIN + "/categories/<int:expense_category_id>")
@require(PAY)
def category_map(expense_category_id: int):  # type: ignore[no-untyped-def]
    cat = get_or_404(ExpenseCategory, expense_category_id)
    raw = request.form.get("account_id") or ""
    return _step(lambda: services.map_category(g.tenant, g.member, cat, int(raw) if raw.isdigit() else None),
                 _("%(name)s now posts to the chosen account.", name=services.category_label(cat)),
                 url_for("expenses.categories"))  # fmt: skip


# ---------------------------------------------------------------- finance: reports


def _report_args() -> tuple[str, date | None, date | None]:
    by = request.args.get("by") or "category"
    if by not in services.REPORT_DIMENSIONS:
        by = "category"
    return by, _date(request.args.get("from")), _date(request.args.get("to"))


@bp.get(FIN + "/reports")
@require(PAY)
def reports():  # type: ignore[no-untyped-def]
    by, start, end = _report_args()
    rows = services.report(by, start, end)
    return render_template(
        "expenses/reports.html", rows=rows, by=by, start=start, end=end, dims=services.REPORT_DIMENSIONS,
        dim_label=_report_label, totals=_totals(rows), **_ctx(),
    )  # fmt: skip


def _totals(rows: list[services.ReportRow]) -> dict[str, Any]:
    return {
        "claims": sum(r.claims for r in rows), "amount": sum((r.amount for r in rows), services.ZERO),
        "vat": sum((r.vat for r in rows), services.ZERO), "net": sum((r.net for r in rows), services.ZERO),
    }  # fmt: skip


def _period(start: date | None, end: date | None) -> str:
    return f"{start.isoformat() if start else '…'} – {end.isoformat() if end else '…'}"


@bp.get(FIN + "/reports.xlsx")
@require(PAY)
def reports_xlsx():  # type: ignore[no-untyped-def]
    by, start, end = _report_args()
    rows = services.report(by, start, end)
    t = _totals(rows)
    headers = [_report_label(by), _("Claims"), _("Amount"), _("Deductible VAT"), _("Expense excl. VAT")]
    body: list[list[Any]] = [[r.label, r.claims, r.amount, r.vat, r.net] for r in rows]
    body.append([_("Total"), t["claims"], t["amount"], t["vat"], t["net"]])
    data = write_table(_("Expense claims by %(dim)s", dim=_report_label(by)), headers, body)
    resp = Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp.headers["Content-Disposition"] = f'attachment; filename="expenses-by-{by}.xlsx"'
    return resp


@bp.get(FIN + "/reports.pdf")
@require(PAY)
def reports_pdf():  # type: ignore[no-untyped-def]
    by, start, end = _report_args()
    rows = services.report(by, start, end)
    html = render_template(
        "expenses/report.pdf.html", rows=rows, by=by, dim_label=_report_label, totals=_totals(rows),
        period=_period(start, end), tenant=g.tenant,
    )  # fmt: skip
    resp = Response(render_pdf(html), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="expenses-by-{by}.pdf"'
    return resp
