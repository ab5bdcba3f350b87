from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from crm.choices import optional_id

BLANK_PAYMENTS = 1  # empty rows offered under the filled ones (more are added in the browser)


class PaymentForm(Form):
    due_on = StringField(_l("Due on"), validators=[Optional(), Length(max=10)], render_kw={"type": "date"})
    amount = StringField(_l("Amount"), validators=[Optional(), Length(max=20)], render_kw={"inputmode": "decimal"})
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])

    def is_blank(self) -> bool:
        return not any((f.data or "").strip() for f in (self.due_on, self.amount, self.note))


class ContractForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=optional_id, validators=[DataRequired()])
    quote_id = HiddenField()
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    signed_on = DateField(_l("Signed on"), validators=[Optional()])
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    amount = StringField(
        _l("Amount incl. tax"), validators=[Optional(), Length(max=20)], render_kw={"inputmode": "decimal"}
    )
    terms = TextAreaField(
        _l("Terms"), validators=[Optional(), Length(max=20000)],
        description=_l("Scope, delivery, acceptance, warranty and payment terms."),
    )  # fmt: skip
    payments = FieldList(FormField(PaymentForm), min_entries=1)


class ReviewForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])


class TerminateForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=255)])


class RedateForm(FlaskForm):
    ends_on = DateField(_l("New end date"), validators=[Optional()])
