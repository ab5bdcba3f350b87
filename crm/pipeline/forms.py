from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, FieldList, Form, FormField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from crm.choices import choices, optional_id

BLANK_LINES = 2  # empty line rows offered under the filled ones (without JavaScript); empty rows are ignored


class LineForm(Form):
    product_id = SelectField(_l("Product"), coerce=optional_id, validators=[Optional()], validate_choice=False)
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    quantity = StringField(_l("Quantity"), validators=[Optional(), Length(max=20)])
    unit_price = StringField(_l("Unit price"), validators=[Optional(), Length(max=20)])

    def is_blank(self) -> bool:
        return not (
            self.product_id.data
            or (self.description.data or "").strip()
            or (self.quantity.data or "").strip()
            or (self.unit_price.data or "").strip()
        )


class OpportunityForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=optional_id, validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    amount = DecimalField(
        _l("Amount (¥)"),
        places=2,
        validators=[Optional(), NumberRange(min=0)],
        description=_l("Before tax, in yuan. With product lines, the amount is their sum."),
    )
    expected_close = DateField(_l("Expected close date"), validators=[Optional()])
    stage_id = SelectField(_l("Stage"), coerce=optional_id, validators=[DataRequired()])
    lost_reason_id = SelectField(
        _l("Lost reason"), coerce=optional_id, validators=[Optional()], description=_l("Required for a lost deal.")
    )
    competitor = StringField(_l("Competitor"), validators=[Optional(), Length(max=100)])
    owner_id = SelectField(lazy_pgettext("opportunity", "Owner"), coerce=optional_id, validators=[Optional()])
    next_step = StringField(_l("Next step"), validators=[Optional(), Length(max=255)])
    source = StringField(_l("Source"), validators=[Optional(), Length(max=60)])
    lines = FieldList(FormField(LineForm), min_entries=0)


class MoveForm(FlaskForm):
    """The kanban drop: the same rules as the form, through the same service."""

    stage_id = StringField(validators=[DataRequired()])
    lost_reason_id = StringField(validators=[Optional()])
    competitor = StringField(validators=[Optional(), Length(max=100)])


# --- settings -----------------------------------------------------------------------------


class PipelineForm(FlaskForm):
    name = StringField(_l("Pipeline name"), validators=[DataRequired(), Length(max=100)])


def stage_kind_choices() -> list:
    return choices(
        [("open", lazy_pgettext("stage kind", "Open")), ("won", _l("Won (final)")), ("lost", _l("Lost (final)"))]
    )


class StageForm(FlaskForm):
    name = StringField(_l("Stage name"), validators=[DataRequired(), Length(max=60)])
    probability = IntegerField(
        _l("Win probability (%)"),
        validators=[Optional(), NumberRange(min=0, max=100)],
        description=_l("Won stages are at 100%, lost stages at 0%."),
    )
    rot_days = IntegerField(
        _l("Days to rot"),
        validators=[Optional(), NumberRange(min=1, max=3650)],
        description=_l("A deal idle longer than this is marked; empty: never."),
    )
    kind = SelectField(_l("Kind"), choices=stage_kind_choices, validators=[DataRequired()])


class DeleteStageForm(FlaskForm):
    move_to = SelectField(
        _l("Move its opportunities to"), coerce=optional_id, validators=[Optional()], validate_choice=False
    )
