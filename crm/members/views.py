"""Settings → Members: invite, change roles and managers, deactivate, transfer ownership, export."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from crm.db import db
from crm.members import services
from crm.members.forms import ExportForm, InviteForm, MemberForm
from crm.scoping import get_or_404
from roles.checks import require
from tenants.models import Invitation, Membership
from workers.queue import JobsUnavailable, submit

bp = Blueprint("members", __name__, url_prefix="/w/<slug>/settings/members")


def _manager_choices(exclude: int | None = None) -> list[tuple[int, str]]:
    return [(m.id, m.user.name) for m in services.list_members(include_inactive=False) if m.id != exclude]


def _render_index(
    invite_form: InviteForm | None = None, sent: services.InvitationSent | None = None, status: int = 200
):
    form = invite_form or InviteForm()
    if invite_form is None:
        form.set_choices(_manager_choices())
    return (
        render_template(
            "members/index.html",
            members=services.list_members(),
            invitations=services.pending_invitations(),
            form=form,
            export_form=ExportForm(),
            sent=sent,
        ),
        status,
    )


@bp.get("")
@require("members.manage")
def index():
    return _render_index()


@bp.post("/invite")
@require("members.manage")
def invite():
    form = InviteForm()
    form.set_choices(_manager_choices())
    if not form.validate_on_submit():
        return _render_index(form, status=400)
    try:
        sent = services.invite(g.member, form.email.data, form.roles.data, form.reports_to.data)
    except services.MemberRuleBroken as err:
        db.session.rollback()
        getattr(form, err.field, form.email).errors = [err.message]
        return _render_index(form, status=400)
    db.session.commit()
    if sent.mailed:
        flash(_("Invitation e-mailed to %(email)s.", email=sent.invitation.email), "success")
        return redirect(url_for("members.index"))
    flash(_("Mail is not configured, so copy the invitation link below and send it yourself."), "warning")
    fresh = InviteForm(formdata=None)
    fresh.set_choices(_manager_choices())
    return _render_index(fresh, sent=sent)


@bp.route("/<int:member_id>/edit", methods=["GET", "POST"])
@require("members.manage")
def edit(member_id: int):
    member = get_or_404(Membership, member_id)
    form = MemberForm(obj=member)
    form.set_choices(_manager_choices(exclude=member.id))
    if request.method == "GET":
        form.roles.data = list(member.roles)
        form.reports_to.data = member.reports_to_id
    if form.validate_on_submit():
        try:
            services.update_member(g.member, member, form.roles.data, form.reports_to.data, form.title.data)
        except services.MemberRuleBroken as err:
            db.session.rollback()
            getattr(form, err.field, form.roles).errors = [err.message]
        else:
            db.session.commit()
            flash(_("%(name)s updated.", name=member.user.name), "success")
            return redirect(url_for("members.index"))
    return render_template("members/edit.html", form=form, member=member), (400 if form.errors else 200)


def _member_action(member_id: int, fn, done_message: str) -> Response:
    member = get_or_404(Membership, member_id)
    try:
        fn(member)
    except services.MemberRuleBroken as err:
        db.session.rollback()
        flash(err.message, "danger")
        return redirect(url_for("members.index"))
    db.session.commit()
    flash(done_message % {"name": member.user.name}, "success")
    return redirect(url_for("members.index"))


@bp.post("/<int:member_id>/deactivate")
@require("members.manage")
def deactivate(member_id: int) -> Response:
    return _member_action(
        member_id, lambda m: services.set_active(g.member, m, False), _("%(name)s can no longer sign in here.")
    )


@bp.post("/<int:member_id>/reactivate")
@require("members.manage")
def reactivate(member_id: int) -> Response:
    return _member_action(member_id, lambda m: services.set_active(g.member, m, True), _("%(name)s is active again."))


@bp.post("/<int:member_id>/transfer-ownership")
@require("ownership.transfer")
def transfer(member_id: int) -> Response:
    return _member_action(
        member_id,
        lambda m: services.transfer_ownership(g.member, m),
        _("%(name)s is now an owner; you stay an administrator."),
    )


@bp.post("/invitations/<int:invitation_id>/revoke")
@require("members.manage")
def revoke(invitation_id: int) -> Response:
    inv = get_or_404(Invitation, invitation_id)
    try:
        services.revoke_invitation(g.member, inv)
    except services.MemberRuleBroken as err:
        db.session.rollback()
        flash(err.message, "danger")
        return redirect(url_for("members.index"))
    db.session.commit()
    flash(_("Invitation to %(email)s revoked.", email=inv.email), "success")
    return redirect(url_for("members.index"))


@bp.post("/export")
@require("members.export")
def export():
    form = ExportForm()
    if not form.validate_on_submit():
        flash(_("Choose a format."), "danger")
        return redirect(request.referrer or url_for("shell.home"))
    try:
        job = submit("members_export", g.member, {"format": form.format.data, "locale": str(get_locale())})
    except JobsUnavailable:
        db.session.rollback()
        flash(
            _("The job service is unavailable right now, so nothing was started. Please try again shortly."), "danger"
        )
        return redirect(request.referrer or url_for("shell.home"))
    return redirect(url_for("jobs.show", job_id=job.id))
