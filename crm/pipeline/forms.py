from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


def _int_or_none(v: object) -> int | None:
    try:
        return int(v) if v not in (None, "", "None") else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


class OpportunityForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=_int_or_none, validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    amount = DecimalField(
        _l("Amount (¥)"), places=2, validators=[Optional(), NumberRange(min=0)], description=_l("Before tax, in yuan.")
    )
    expected_close = DateField(_l("Expected close date"), validators=[Optional()])
    stage_id = SelectField(_l("Stage"), coerce=_int_or_none, validators=[DataRequired()])
    lost_reason_id = SelectField(
        _l("Lost reason"), coerce=_int_or_none, validators=[Optional()], description=_l("Required for a lost deal.")
    )
    competitor = StringField(_l("Competitor"), validators=[Optional(), Length(max=100)])
    owner_id = SelectField(lazy_pgettext("opportunity", "Owner"), coerce=_int_or_none, validators=[Optional()])
    next_step = StringField(_l("Next step"), validators=[Optional(), Length(max=255)])
    source = StringField(_l("Source"), validators=[Optional(), Length(max=60)])


class MoveForm(FlaskForm):
    """The kanban drop: the same rules as the form, through the same service."""

    stage_id = StringField(validators=[DataRequired()])
    lost_reason_id = StringField(validators=[Optional()])
    competitor = StringField(validators=[Optional(), Length(max=100)])
