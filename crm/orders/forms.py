from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, FieldList, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from crm.choices import optional_id
from crm.quotes.forms import LineForm

BLANK_LINES = 1  # one empty row under the filled ones; "Add line" adds more without a reload


class OrderForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=optional_id, validators=[DataRequired()])
    quote_id = HiddenField()
    contract_id = HiddenField()
    order_date = DateField(_l("Order date"), validators=[DataRequired()])
    owner_id = SelectField(_l("Sales rep"), coerce=optional_id, validators=[Optional()])
    province = StringField(_l("Province"), validators=[Optional(), Length(max=30)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=30)])
    prices_include_tax = BooleanField(_l("Prices include tax"))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    lines = FieldList(FormField(LineForm), min_entries=1)


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(), Length(max=500)], description=_l("Kept in the order's notes.")
    )


class DeliveryForm(FlaskForm):
    """The per-line quantities come as delivered-<line id> fields (see views.delivery)."""
