"""Sales → Public pool (公海): the pool list, claim / release / assign, the rules and their preview."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from crm.db import db
from crm.sales import pool, services
from crm.sales.forms import STATUS_LABELS
from crm.sales.models import Customer
from crm.sales.visibility import can_read
from crm.scoping import get_or_404
from roles.checks import PermissionDenied, can, require
from workers.queue import JobsUnavailable, submit

bp = Blueprint("pool", __name__, url_prefix="/w/<slug>/sales/pool")


def _customer(customer_id: int) -> Customer:
    c = get_or_404(Customer, customer_id)
    if c.archived_at is not None or not can_read(g.member, c):
        abort(404)
    return c


def _back(c: Customer):
    return redirect(
        request.form.get("next")
        if request.form.get("next", "").startswith("/w/")
        else url_for("customers.show", customer_id=c.id)
    )


@bp.get("")
@require("sales.access")
def index():
    rows = services.list_customers(
        g.member, services.CustomerQuery(pool=True, q=(request.args.get("q") or "").strip()[:100] or None, limit=100)
    )
    rules = pool.pool_rules()
    due = pool.due_for_return(member=g.member) if can(g.member, "customers.assign") else []
    return render_template(
        "sales/pool/index.html",
        rows=rows,
        rules=rules,
        claimed=pool.claims_today(g.member),
        limit=pool._limit(rules, "claim_limit", g.member),
        due=due,
        status_labels=STATUS_LABELS,
        q=request.args.get("q", ""),
    )


@bp.post("/<int:customer_id>/claim")
@require("sales.access")
def claim(customer_id: int):
    c = _customer(customer_id)
    try:
        pool.claim(g.member, c)
    except services.InvalidInput as err:
        db.session.rollback()
        flash(" ".join(err.errors.values()), "danger")
        return redirect(url_for("pool.index"))
    db.session.commit()
    flash(_("“%(name)s” is yours now.", name=c.name), "success")
    return redirect(url_for("customers.show", customer_id=c.id))


@bp.post("/<int:customer_id>/release")
@require("sales.access")
def release(customer_id: int):
    c = _customer(customer_id)
    try:
        pool.release(g.member, c, request.form.get("reason"))
    except PermissionDenied:
        abort(403)
    except services.InvalidInput as err:
        db.session.rollback()
        flash(" ".join(err.errors.values()), "danger")
        return redirect(url_for("customers.show", customer_id=c.id)), 400  # type: ignore[return-value]
    db.session.commit()
    flash(_("“%(name)s” is back in the public pool.", name=c.name), "success")
    return redirect(url_for("pool.index"))


@bp.post("/<int:customer_id>/assign")
@require("customers.assign")
def assign(customer_id: int):
    c = _customer(customer_id)
    try:
        pool.assign(g.member, c, request.form.get("member_id", type=int) or 0)
    except PermissionDenied:
        abort(403)
    except services.InvalidInput as err:
        db.session.rollback()
        flash(" ".join(err.errors.values()), "danger")
        return redirect(url_for("customers.show", customer_id=c.id)), 400  # type: ignore[return-value]
    db.session.commit()
    flash(_("“%(name)s” assigned.", name=c.name), "success")
    return redirect(url_for("customers.show", customer_id=c.id))


@bp.route("/rules", methods=["GET", "POST"])
@require("settings.manage")
def rules():
    from roles.catalogue import ROLES

    errors: dict[str, str] = {}
    current = pool.pool_rules()
    if request.method == "POST":

        def num(name: str) -> int | None:
            try:
                return int(request.form.get(name, ""))
            except ValueError:
                return None

        values = {
            "return_after_idle_days": num("return_after_idle_days"),
            "warn_days": num("warn_days"),
            # An older form (or a script) that leaves the no-win rule out keeps its current value.
            "return_after_no_win_days": num("return_after_no_win_days")
            if "return_after_no_win_days" in request.form
            else current["return_after_no_win_days"],
            "claim_limit": {r: n for r in ROLES if (n := num(f"claim_limit-{r}")) is not None},
            "max_owned": {r: n for r in ROLES if (n := num(f"max_owned-{r}")) is not None},
        }
        try:
            pool.save_rules(g.member, values)
        except services.InvalidInput as err:
            db.session.rollback()
            errors = err.errors
            current = {**current, **{k: v for k, v in values.items() if v is not None}}
        else:
            db.session.commit()
            flash(_("Pool rules saved."), "success")
            return redirect(url_for("pool.rules"))
    sales_roles = [r for r in ROLES.values() if "sales.access" in r.permissions and r.name not in ("owner", "admin")]
    return render_template("sales/pool/rules.html", rules=current, errors=errors, sales_roles=sales_roles), (
        400 if errors else 200
    )


@bp.post("/run")
@require("settings.manage")
def run_now():
    try:
        job = submit("pool_rules", g.member, {"locale": str(get_locale())})
    except JobsUnavailable:
        db.session.rollback()
        flash(
            _("The job service is unavailable right now, so nothing was started. Please try again shortly."), "danger"
        )
        return redirect(url_for("pool.rules"))
    return redirect(url_for("jobs.show", job_id=job.id))
