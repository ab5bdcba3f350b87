"""Forms of the sales ledger: a rep's target, saving a view, starting an export (CSRF on each;
the rules are checked again by crm.ledger.services)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length


class TargetForm(FlaskForm):
    member_id = SelectField(_l("Sales rep"), coerce=str, validators=[DataRequired()])
    period = StringField(_l("Month or quarter"), validators=[DataRequired(), Length(max=7)],
                         description=_l("2026-03 for a month, 2026-Q1 for a quarter"))  # fmt: skip
    amount = StringField(_l("Target (excluding tax)"), validators=[DataRequired(), Length(max=20)])


class ViewForm(FlaskForm):
    name = StringField(_l("Name of the view"), validators=[DataRequired(), Length(max=80)])
    shared = BooleanField(_l("Share with the sales team"))
    params = HiddenField()


class ExportForm(FlaskForm):
    what = HiddenField()
    format = HiddenField()
