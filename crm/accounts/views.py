"""Sign-up, sign-in and out, passwords, profile, language, workspace chooser, invitations."""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from crm.accounts import services
from crm.accounts.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ForgotForm,
    LoginForm,
    NewWorkspaceForm,
    ProfileForm,
    ResetForm,
    SignupForm,
)
from crm.audit.services import record
from crm.db import db
from crm.extensions import limiter, login_manager
from crm.i18n import SUPPORTED
from crm.mail import send_mail
from crm.notifications.services import set_user_mail, user_gets_mail
from crm.urls import after_response, safe_next
from tenants import sessions
from tenants.context import tenant_context
from tenants.identity import create_user, normalise_email, user_by_email
from tenants.models import Tenant, User
from tenants.services import (
    InvitationInvalid,
    SlugInvalid,
    SlugTaken,
    accept_invitation,
    create_workspace,
    find_open_invitation,
    memberships_of,
    parse_invitation_token,
)

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    try:
        uid, epoch = (int(x) for x in session_id.split(":", 1))
    except ValueError:
        return None
    user = db.session.get(User, uid)
    if user is None or user.session_epoch != epoch:
        return None  # the password changed since this session began
    if not sessions.is_live(user, session.get("sid")):
        return None  # signed out (or expired) on the server: a copied cookie is dead too
    return user


def _login_message() -> str:
    return _("Please sign in to continue.")


login_manager.localize_callback = lambda msg: _login_message()


def _start_session(user: User, remember: bool = False) -> None:
    """A fresh session at every sign-in, so a planted cookie is never promoted."""
    lang = session.get("lang")
    sessions.close_session(session.get("sid"))
    session.clear()
    if lang:
        session["lang"] = lang
    session["sid"] = sessions.open_session(user, remember, request.headers.get("User-Agent"))
    # "Keep me signed in" lengthens this cookie and its server record; there is no separate
    # remember-me cookie, because one could not be revoked at sign-out.
    session.permanent = remember
    login_user(user)


def _home_for(user: User) -> str:
    members = memberships_of(user)
    if len(members) == 1:
        return url_for("shell.home", slug=members[0].tenant.slug)
    return url_for("accounts.workspaces")


@bp.get("/")
def index() -> Response | str:
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    return render_template("accounts/landing.html")


def _account_key() -> str:
    return "acct:" + normalise_email(request.form.get("email", ""))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"], methods=["POST"], key_func=_account_key)
def login() -> Response | str:
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            db.session.commit()  # keep the failed-sign-in audit entries
            form.password.errors = [_("Wrong e-mail or password.")]
        else:
            _start_session(user, remember=bool(form.remember.data))
            db.session.commit()
            return redirect(safe_next(request.args.get("next")) or _home_for(user))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    sessions.close_session(session.get("sid"))
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> Response | str:
    signed_in = current_user.is_authenticated
    form = NewWorkspaceForm() if signed_in else SignupForm()
    if form.validate_on_submit():
        if not signed_in and user_by_email(form.email.data):
            form.email.errors = [_("An account with this e-mail exists. Sign in first, then create the workspace.")]
        else:
            try:
                owner = current_user if signed_in else create_user(form.email.data, form.name.data, form.password.data)
                tenant, member = create_workspace(form.company.data, form.slug.data, owner)
            except SlugInvalid:
                form.slug.errors = [
                    _("Use 3–40 lower-case letters, digits and single hyphens; some words are reserved.")
                ]
            except SlugTaken:
                form.slug.errors = [_("This address is taken. Try another.")]
            else:
                with tenant_context(tenant, user_id=owner.id):
                    record("workspace.created", tenant, actor=member, object_type="Tenant", summary=tenant.name)
                    db.session.flush()  # inside the tenant: the guard refuses the entry outside it
                if not signed_in:
                    _start_session(owner)
                db.session.commit()
                flash(_("Welcome to %(name)s. Invite your colleagues next.", name=tenant.name), "success")
                return redirect(url_for("shell.home", slug=tenant.slug))
        db.session.rollback()
    return render_template("accounts/signup.html", form=form, signed_in=signed_in)


@bp.get("/workspaces")
@login_required
def workspaces() -> str:
    return render_template("accounts/workspaces.html", memberships=memberships_of(current_user))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_IP"], methods=["POST"])
def forgot_password() -> Response | str:
    form = ForgotForm()
    if form.validate_on_submit():
        user = user_by_email(form.email.data)
        if user is not None:
            link = url_for("accounts.reset_password", token=services.make_reset_token(user), _external=True)
            subject = _("Reset your Taizhang password")
            body = _("Open this link within an hour to choose a new password:\n\n%(link)s", link=link)
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            to = user.email

            # Sent after the response, so a known address answers as fast as an unknown one.
            def _send() -> None:
                with app.app_context():
                    send_mail(to, subject, body)

            after_response(_send)
        flash(_("If that address has an account, a reset link is on its way."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | str:
    user = services.user_for_reset_token(token)
    if user is None:
        return render_template("accounts/reset_invalid.html"), 400  # type: ignore[return-value]
    form = ResetForm()
    if form.validate_on_submit():
        services.reset_password(user, form.password.data)
        sessions.close_all_sessions(user)
        _start_session(user)
        db.session.commit()
        flash(_("Your password has been changed."), "success")
        return redirect(_home_for(user))
    return render_template("accounts/reset.html", form=form)


@bp.route("/account/profile", methods=["GET", "POST"])
@login_required
def profile() -> Response | str:
    form = ProfileForm(obj=current_user)
    if request.method == "GET":
        form.locale.data = current_user.locale or ""
        form.notify_by_mail.data = user_gets_mail(current_user)
    if form.validate_on_submit():
        set_user_mail(current_user, bool(form.notify_by_mail.data))
        current_user.name = form.name.data.strip()
        current_user.locale = form.locale.data or None
        current_user.timezone = form.timezone.data
        if current_user.locale:
            session["lang"] = current_user.locale
        db.session.commit()
        flash(_("Profile saved."), "success")
        return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=form, memberships=memberships_of(current_user))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response | str:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if services.change_password(current_user, form.current.data, form.password.data):
            user = current_user._get_current_object()  # type: ignore[attr-defined]
            sessions.close_all_sessions(user)
            _start_session(user)  # other sessions end: revoked, and their epoch is stale
            db.session.commit()
            flash(_("Password changed. Other devices have been signed out."), "success")
            return redirect(url_for("accounts.profile"))
        db.session.rollback()
        form.current.errors = [_("That is not your current password.")]
    return render_template("accounts/password.html", form=form)


@bp.post("/lang/<code>")
def set_language(code: str) -> Response:
    if code not in SUPPORTED:
        abort(404)
    session["lang"] = code
    if current_user.is_authenticated:
        current_user.locale = code
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("accounts.index"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Response | str:
    try:
        tenant_id, _iid, _secret = parse_invitation_token(token)
    except InvitationInvalid:
        return render_template("accounts/invitation_invalid.html"), 404  # type: ignore[return-value]
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return render_template("accounts/invitation_invalid.html"), 404  # type: ignore[return-value]
    with tenant_context(tenant):
        try:
            inv = find_open_invitation(token)
        except InvitationInvalid:
            return render_template("accounts/invitation_invalid.html"), 404  # type: ignore[return-value]
        existing = user_by_email(inv.email)
        form = AcceptInvitationForm()
        wrong_person = current_user.is_authenticated and not hmac.compare_digest(current_user.email, inv.email)
        if request.method == "POST" and not wrong_person:
            if current_user.is_authenticated:
                user = current_user._get_current_object()  # type: ignore[attr-defined]
            elif existing is None and form.validate_on_submit():
                user = create_user(inv.email, form.name.data, form.password.data)
            else:
                user = None
            if user is not None:
                with tenant_context(tenant, user_id=user.id):
                    member = accept_invitation(inv, user)
                    record(
                        "member.joined",
                        member,
                        actor=member,
                        summary=inv.email,
                        changes={"roles": {"before": None, "after": inv.roles}},
                    )
                if not current_user.is_authenticated:
                    _start_session(user)
                db.session.commit()
                flash(_("You have joined %(name)s.", name=tenant.name), "success")
                return redirect(url_for("shell.home", slug=tenant.slug))
        return render_template(
            "accounts/invitation.html",
            inv=inv,
            tenant=tenant,
            form=form,
            existing=existing,
            wrong_person=wrong_person,
            token=token,
        )
