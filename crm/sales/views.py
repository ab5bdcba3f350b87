"""Sales → Customers: the list with live search and filters, the form, the 360° page, contacts, merge."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.audit.models import AuditEntry
from crm.choices import choices
from crm.db import db
from crm.sales import services
from crm.sales.forms import STATUS_LABELS, ContactForm, CustomerForm, MergeForm
from crm.sales.models import Contact, Customer, CustomerCollaborator
from crm.sales.sections import render_sections
from crm.sales.visibility import can_edit, can_read
from crm.scoping import get_or_404
from roles.catalogue import permissions_of
from roles.checks import PermissionDenied, can, require
from roles.scopes import visible_member_ids
from tenants.models import Membership, User

bp = Blueprint("customers", __name__, url_prefix="/w/<slug>/sales/customers")


def _visible_customer(customer_id: int) -> Customer:
    c = get_or_404(Customer, customer_id)
    if c.archived_at is not None or not can_read(g.member, c):
        abort(404)  # out of scope reads like a foreign id: nothing is disclosed
    return c


def _owner_choices(include_pool: bool = True) -> list[tuple[int | None, str]]:
    visible = visible_member_ids(g.member)
    # Columns, not entities: every list page builds this dropdown, and loading each member with
    # its user as ORM objects cost more than the query itself (bench/sales.py). The rows are
    # active members, so can(m, "sales.access") reduces to the roles' permissions.
    stmt = (
        select(Membership.id, Membership.roles, User.name)
        .join(User, User.id == Membership.user_id)
        .where(Membership.is_active.is_(True))
        .order_by(Membership.id)
    )
    if visible is not None:
        stmt = stmt.where(Membership.id.in_(visible))
    out: list[tuple[int | None, str]] = [(None, _("Public pool (no owner)"))] if include_pool else []
    rows = db.session.execute(stmt).all()
    return out + [(mid, name) for mid, roles, name in rows if "sales.access" in permissions_of(roles)]


def _decode_cursor(token: str | None, sort: str) -> tuple[Any, int] | None:
    try:
        return services.decode_cursor(token, sort)
    except services.InvalidCursor:
        abort(400)


def _query_from_args() -> services.CustomerQuery:
    a = request.args
    sort = a.get("sort") if a.get("sort") in ("created", "name", "last_followup") else "created"

    def _int(name: str) -> int | None:
        try:
            return int(a[name]) if a.get(name) else None
        except ValueError:
            abort(400)

    return services.CustomerQuery(
        q=(a.get("q") or "").strip()[:100] or None,
        owner_id=None if a.get("owner") == "pool" else _int("owner"),  # the filter's "Public pool" option
        pool=a.get("owner") == "pool",
        level=a.get("level") or None,
        province=a.get("province") or None,
        status=a.get("status") or None,
        tag=a.get("tag") or None,
        idle_days=_int("idle_days"),
        sort=sort,
        after=_decode_cursor(a.get("after"), sort),
    )


@bp.get("")
@require("sales.access")
def index():
    query = _query_from_args()
    rows = services.list_rows(g.member, query)
    next_cursor = services.encode_cursor(rows[-1], query.sort) if len(rows) == query.limit else None
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    ctx = {
        "rows": rows,
        "query": query,
        "next_url": url_for("customers.index", **args, after=next_cursor) if next_cursor else None,
        "owners": _owner_choices(),
        # Translated once here, not once per row (each lazy string looks up its translation).
        "status_labels": {k: str(v) for k, v in STATUS_LABELS.items()},
        "filtered": bool(args),
    }
    target = request.headers.get("HX-Target") if request.headers.get("HX-Request") else None
    if target == "load-more":
        return render_template("sales/customers/_rows.html", **ctx)
    if target == "customer-table":
        return render_template("sales/customers/_table.html", **ctx)
    return render_template("sales/customers/index.html", **ctx)


def _form_input(form: CustomerForm) -> services.CustomerInput:
    values = {k: getattr(form, k).data for k in services.CUSTOMER_FIELDS if hasattr(form, k)}
    tags = [t for t in (form.tags.data or "").replace("，", ",").split(",") if t.strip()]
    return services.CustomerInput(
        values=values,
        tags=tags,
        uscc_override_reason=form.uscc_override_reason.data,
        confirm_duplicates=form.confirm_duplicates.data == "1",
    )


def _save(form: CustomerForm, customer: Customer | None):
    duplicates = None
    if form.validate_on_submit():
        try:
            data = _form_input(form)
            if customer is None:
                customer = services.create_customer(g.member, data)
            else:
                services.update_customer(g.member, customer, data)
        except services.InvalidInput as err:
            db.session.rollback()
            for fld, msg in err.errors.items():
                if hasattr(form, fld):
                    getattr(form, fld).errors = [msg]
        except services.DuplicatesFound as dup:
            db.session.rollback()
            duplicates = dup.duplicates
            form.confirm_duplicates.data = "1" if all(d.reason != "uscc" for d in duplicates) else ""
        else:
            db.session.commit()
            flash(_("Customer “%(name)s” saved.", name=customer.name), "success")
            return redirect(url_for("customers.show", customer_id=customer.id))
    status = 400 if request.method == "POST" else 200
    return render_template("sales/customers/form.html", form=form, customer=customer, duplicates=duplicates), status


@bp.get("/options")
@require("sales.access")
def options():
    """The customer picker's options for what was typed (htmx swaps them into the select)."""
    from crm.sales.picker import customer_options

    selected_id = request.args.get("selected", type=int)
    selected = db.session.get(Customer, selected_id) if selected_id else None
    if selected is not None and not can_edit(g.member, selected):
        selected = None
    pairs = customer_options(g.member, request.args.get("q"), selected)
    return render_template("sales/_customer_options.html", pairs=pairs, selected_id=selected.id if selected else None)


@bp.route("/new", methods=["GET", "POST"])
@require("sales.access")
def new():
    form = CustomerForm()
    form.owner_id.choices = choices(_owner_choices())
    if request.method == "GET":
        form.owner_id.data = g.member.id
        form.status.data = "potential"
    return _save(form, None)


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@require("sales.access")
def edit(customer_id: int):
    c = _visible_customer(customer_id)
    if not can_edit(g.member, c):
        abort(403)
    form = CustomerForm(obj=c)
    owners = _owner_choices()
    if c.owner is not None and all(mid != c.owner_id for mid, _label in owners):
        # The current owner may be outside the editor's scope (a collaborator with edit
        # access) or deactivated: keeping them must stay a valid choice.
        owners.append((c.owner_id, c.owner.user.name))
    form.owner_id.choices = choices(owners)
    if request.method == "GET":
        form.tags.data = ", ".join(c.tag_names)
    return _save(form, c)


@bp.get("/<int:customer_id>")
@require("sales.access")
def show(customer_id: int):
    c = _visible_customer(customer_id)
    # The collaborators card names each one: load them with their members and users in one
    # statement, not one lazy load per collaborator (the ORM guard's criteria bypass the identity map).
    db.session.scalars(
        select(Customer)
        .where(Customer.id == c.id)
        .options(selectinload(Customer.collaborators).joinedload(CustomerCollaborator.member))
        .execution_options(populate_existing=True)
    ).one()
    history = list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "Customer", AuditEntry.object_id == c.id)
            .order_by(AuditEntry.id.desc())
            .limit(30)
        )
    )
    return render_template(
        "sales/customers/show.html",
        c=c,
        chart=services.org_chart(c),
        history=history,
        editable=can_edit(g.member, c),
        status_labels=STATUS_LABELS,
        field_labels={f.name: f.label.text for f in CustomerForm(formdata=None, meta={"csrf": False})},
        sections=render_sections(g.member, c),
        colleagues=[(mid, name) for mid, name in _owner_choices(include_pool=False) if mid != c.owner_id],
        access={x.member_id: ("edit" if x.can_edit else "read") for x in c.collaborators},
    )


@bp.post("/<int:customer_id>/collaborators")
@require("sales.access")
def collaborators(customer_id: int):
    """Set who besides the owner reads (or edits) this customer: one select per colleague."""
    c = _visible_customer(customer_id)
    if not can_edit(g.member, c):
        abort(403)
    chosen: list[tuple[int, bool]] = []
    for key, access in request.form.items():
        if key.startswith("access-") and access in ("read", "edit"):
            try:
                chosen.append((int(key.removeprefix("access-")), access == "edit"))
            except ValueError:
                abort(400)
    services.set_collaborators(g.member, c, chosen)
    db.session.commit()
    flash(_("Collaborators saved."), "success")
    return redirect(url_for("customers.show", customer_id=c.id) + "#collaborators")


@bp.post("/<int:customer_id>/archive")
@require("sales.access")
def archive(customer_id: int):
    c = _visible_customer(customer_id)
    try:
        services.archive_customer(g.member, c)
    except PermissionDenied:
        abort(403)
    db.session.commit()
    flash(_("Customer “%(name)s” archived.", name=c.name), "success")
    return redirect(url_for("customers.index"))


def _contact_form(c: Customer, contact: Contact | None) -> ContactForm:
    form = ContactForm(obj=contact)
    form.reports_to_id.choices = choices(
        [(None, "—")]
        + [(x.id, f"{x.name} · {x.title or ''}") for x in c.contacts if contact is None or x.id != contact.id]
    )
    return form


def _save_contact(c: Customer, contact: Contact | None):
    if not can_edit(g.member, c):
        abort(403)
    form = _contact_form(c, contact)
    if form.validate_on_submit():
        values = {k: getattr(form, k).data for k in services.CONTACT_FIELDS}
        try:
            services.save_contact(g.member, c, values, contact)
        except services.InvalidInput as err:
            db.session.rollback()
            for fld, msg in err.errors.items():
                getattr(form, fld).errors = [msg]
        else:
            db.session.commit()
            flash(_("Contact saved."), "success")
            return redirect(url_for("customers.show", customer_id=c.id) + "#contacts")
    status = 400 if request.method == "POST" else 200
    return render_template("sales/customers/contact_form.html", form=form, c=c, contact=contact), status


@bp.route("/<int:customer_id>/contacts/new", methods=["GET", "POST"])
@require("sales.access")
def contact_new(customer_id: int):
    return _save_contact(_visible_customer(customer_id), None)


def _contact_of(c: Customer, contact_id: int) -> Contact:
    contact = get_or_404(Contact, contact_id)
    if contact.customer_id != c.id:
        abort(404)
    return contact


@bp.route("/<int:customer_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@require("sales.access")
def contact_edit(customer_id: int, contact_id: int):
    c = _visible_customer(customer_id)
    return _save_contact(c, _contact_of(c, contact_id))


@bp.post("/<int:customer_id>/contacts/<int:contact_id>/delete")
@require("sales.access")
def contact_delete(customer_id: int, contact_id: int):
    c = _visible_customer(customer_id)
    contact = _contact_of(c, contact_id)
    try:
        services.delete_contact(g.member, c, contact)
    except PermissionDenied:
        abort(403)
    db.session.commit()
    flash(_("Contact deleted."), "success")
    return redirect(url_for("customers.show", customer_id=c.id) + "#contacts")


@bp.route("/merge", methods=["GET", "POST"])
@require("customers.merge")
def merge():
    form = MergeForm()
    keep_id = request.values.get("keep_id", type=int)
    candidates = services.list_customers(
        g.member, services.CustomerQuery(q=request.args.get("q"), limit=200), only=services.LIST_COLUMNS
    )
    options = [(c.id, f"{c.name} (#{c.id})") for c in candidates]
    form.keep_id.choices = choices(options)
    form.drop_id.choices = choices(options)
    if request.method == "GET" and keep_id:
        form.keep_id.data = keep_id
    if form.validate_on_submit():
        keep = get_or_404(Customer, form.keep_id.data)
        drop = get_or_404(Customer, form.drop_id.data)
        try:
            services.merge_customers(g.member, keep, drop)
        except services.InvalidInput as err:
            db.session.rollback()
            form.drop_id.errors = list(err.errors.values())
        else:
            db.session.commit()
            flash(_("“%(drop)s” was merged into “%(keep)s”.", drop=drop.name, keep=keep.name), "success")
            return redirect(url_for("customers.show", customer_id=keep.id))
    return render_template("sales/customers/merge.html", form=form), 400 if form.errors else 200


def _search_provider(member: Membership, q: str, limit: int) -> list[Any]:
    """Customers in the global search box, within the member's scope."""
    from crm.search import SearchHit

    if not can(member, "sales.access"):
        return []
    rows = services.list_rows(member, services.CustomerQuery(q=q, limit=limit))
    return [
        SearchHit(
            _("Customer"),
            c.name,
            " · ".join(filter(None, [c.owner_name if c.owner_id else _("Public pool"), c.city])),
            url_for("customers.show", customer_id=c.id),
        )
        for c in rows
    ]


def _register_search() -> None:
    from crm.search import PROVIDERS

    if _search_provider not in PROVIDERS:
        PROVIDERS.append(_search_provider)


_register_search()
