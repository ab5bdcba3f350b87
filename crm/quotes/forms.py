from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from crm.catalog.forms import VAT_OPTIONS
from crm.choices import choices, optional_id

BLANK_LINES = 1  # empty rows offered under the filled ones ("Add line" gives more); empty rows are ignored
LINE_FIELDS = (
    "product_id", "description", "specification", "unit", "quantity", "unit_price", "discount_pct", "tax_rate",
)  # fmt: skip


def line_rate_choices() -> list:
    return choices([(None, "—")] + list(VAT_OPTIONS))


class LineForm(Form):
    product_id = SelectField(_l("Product"), coerce=optional_id, validators=[Optional()], validate_choice=False)
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    specification = StringField(_l("Specification"), validators=[Optional(), Length(max=200)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=20)])
    quantity = StringField(_l("Quantity"), validators=[Optional(), Length(max=20)])
    unit_price = StringField(_l("Unit price"), validators=[Optional(), Length(max=20)])
    discount_pct = StringField(_l("Discount"), validators=[Optional(), Length(max=10)])
    tax_rate = SelectField(_l("VAT rate"), choices=line_rate_choices, validators=[Optional()])

    def is_blank(self) -> bool:
        return not (self.product_id.data or (self.description.data or "").strip())


class QuoteForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=optional_id, validators=[DataRequired()])
    prices_include_tax = BooleanField(_l("Prices include tax"))
    valid_until = DateField(_l("Valid until"), validators=[Optional()])
    terms = TextAreaField(
        _l("Terms"), validators=[Optional(), Length(max=5000)], description=_l("Payment, delivery and warranty terms.")
    )
    lines = FieldList(FormField(LineForm), min_entries=1)


class OutcomeForm(FlaskForm):
    status = SelectField(
        _l("Outcome"),
        choices=lambda: choices(
            [("accepted", _l("Accepted")), ("rejected", _l("Rejected")), ("expired", _l("Expired"))]
        ),
        validators=[DataRequired()],
    )
