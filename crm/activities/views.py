"""Sales → follow-ups on the customer 360° page, and "My tasks"."""

from __future__ import annotations

from datetime import UTC

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import to_utc

from crm.activities import services
from crm.activities.forms import KIND_LABELS, FollowUpForm
from crm.activities.models import FollowUp, Task
from crm.attachments import services as attachments
from crm.choices import choices
from crm.db import db
from crm.sales.models import Customer
from crm.sales.sections import Section, register
from crm.sales.visibility import can_read
from crm.scoping import get_or_404
from roles.checks import PermissionDenied, require
from tenants.models import Membership

bp = Blueprint("activities", __name__, url_prefix="/w/<slug>/sales")


def _visible_customer(customer_id: int) -> Customer:
    c = get_or_404(Customer, customer_id)
    if c.archived_at is not None or not can_read(g.member, c):
        abort(404)
    return c


def followup_form(customer: Customer, bind: bool = False) -> FollowUpForm:
    """A fresh form, or (bind) one filled from the request's form and files."""
    form = FollowUpForm() if bind else FollowUpForm(formdata=None)
    form.contact_id.choices = choices([(None, "—")] + [(x.id, x.name) for x in customer.contacts])
    return form


def _timeline_context(member: Membership, customer: Customer, form: FollowUpForm | None = None) -> dict[str, object]:
    return {
        "items": services.timeline(member, customer),
        "form": form or followup_form(customer),
        "kind_labels": KIND_LABELS,
        "c": customer,
        "today": services.today(),
    }


def _timeline_section(member: Membership, customer: Customer) -> dict[str, object] | None:
    return _timeline_context(member, customer)


register(Section(30, "sales/activities/_timeline_section.html", _timeline_section))


def _is_htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


@bp.post("/customers/<int:customer_id>/followups")
@require("sales.access")
def log(customer_id: int):  # type: ignore[no-untyped-def]
    c = _visible_customer(customer_id)
    form = followup_form(c, bind=True)
    if form.validate_on_submit():
        values = {k: getattr(form, k).data for k in ("kind", "summary", "contact_id", "next_followup_on")}
        if form.occurred_at.data is not None:
            values["occurred_at"] = to_utc(form.occurred_at.data).replace(tzinfo=UTC)
        upload = form.attachment.data
        files = [(upload.filename or "", attachments.read_limited(upload.stream))] if upload else []
        try:
            services.log_followup(g.member, c, values, files)
        except services.InvalidInput as err:
            db.session.rollback()
            for fld, msg in err.errors.items():
                if hasattr(form, fld):
                    getattr(form, fld).errors = [msg]
        except PermissionDenied:
            db.session.rollback()
            abort(404)
        else:
            db.session.commit()
            if _is_htmx():
                return render_template("sales/activities/_timeline.html", s=_timeline_context(g.member, c))
            flash(_("Follow-up logged."), "success")
            return redirect(url_for("customers.show", customer_id=c.id) + "#timeline")
    ctx = _timeline_context(g.member, c, form)
    if _is_htmx():
        # htmx swaps only 2xx answers: the form comes back with its errors beside the fields.
        return render_template("sales/activities/_timeline.html", s=ctx)
    return render_template("sales/activities/followup_form.html", s=ctx, c=c), 400


def _followup(followup_id: int) -> FollowUp:
    f = get_or_404(FollowUp, followup_id)
    if not services.can_read_followup(g.member, f):
        abort(404)
    return f


@bp.post("/followups/<int:followup_id>/delete")
@require("sales.access")
def delete_followup(followup_id: int):  # type: ignore[no-untyped-def]
    f = _followup(followup_id)
    customer_id = f.customer_id
    try:
        services.delete_followup(g.member, f)
    except PermissionDenied:
        abort(403)
    db.session.commit()
    flash(_("Follow-up deleted."), "success")
    return redirect(url_for("customers.show", customer_id=customer_id) + "#timeline")


@bp.get("/tasks")
@require("sales.access")
def tasks():  # type: ignore[no-untyped-def]
    show_done = request.args.get("done") == "1"
    rows = services.my_tasks(g.member, include_done=show_done)
    return render_template("sales/activities/tasks.html", tasks=rows, today=services.today(), show_done=show_done)


@bp.post("/tasks/<int:task_id>/done")
@require("sales.access")
def task_done(task_id: int):  # type: ignore[no-untyped-def]
    task = get_or_404(Task, task_id)
    if not services.can_read_task(g.member, task):
        abort(404)
    try:
        services.set_done(g.member, task, request.form.get("undo") != "1")
    except PermissionDenied:
        abort(403)
    db.session.commit()
    if _is_htmx():
        return render_template("sales/activities/_task_row.html", t=task, today=services.today())
    flash(_("Task updated."), "success")
    return redirect(url_for("activities.tasks"))
