"""Settings → API tokens: create (shown once), list with last use, revoke."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from crm.api import tokens
from crm.api.models import ApiToken
from crm.db import db
from crm.scoping import get_or_404
from roles.checks import require

bp = Blueprint("tokens", __name__, url_prefix="/w/<slug>/account/tokens")


class TokenForm(FlaskForm):
    name = StringField(_l("What is it for?"), validators=[DataRequired(), Length(max=100)])


@bp.route("", methods=["GET", "POST"])
@require("workspace.view")
def index():
    form = TokenForm()
    plain = None
    if form.validate_on_submit():
        _token, plain = tokens.create_token(g.member, form.name.data)
        db.session.commit()
        form = TokenForm(formdata=None)
    return render_template("account/tokens.html", form=form, tokens=tokens.tokens_of(g.member), plain=plain)


@bp.post("/<int:token_id>/revoke")
@require("workspace.view")
def revoke(token_id: int):
    token = get_or_404(ApiToken, token_id)
    if token.member_id != g.member.id:
        from flask import abort

        abort(404)
    tokens.revoke_token(g.member, token)
    db.session.commit()
    flash(_("Token “%(name)s” revoked.", name=token.name), "success")
    return redirect(url_for("tokens.index"))
