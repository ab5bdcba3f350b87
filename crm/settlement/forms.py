from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from crm.choices import optional_id


class PaymentForm(FlaskForm):
    party_id = SelectField(_l("Customer"), coerce=optional_id, validators=[DataRequired()])
    payment_date = DateField(_l("Date"), validators=[DataRequired()])
    amount = StringField(_l("Amount"), validators=[DataRequired(), Length(max=20)])
    account_id = SelectField(_l("Bank or cash account"), coerce=optional_id, validators=[DataRequired()])
    reference = StringField(_l("Reference"), validators=[Optional(), Length(max=100)],
                            description=_l("Bank slip or transaction number."))  # fmt: skip
    memo = TextAreaField(_l("Memo"), validators=[Optional(), Length(max=5000)])
    post = BooleanField(_l("Post now"), default=True)


class OffsetForm(FlaskForm):
    invoice_id = SelectField(_l("Customer invoice"), coerce=optional_id, validators=[DataRequired()])
    bill_id = SelectField(_l("Supplier bill"), coerce=optional_id, validators=[DataRequired()])
    amount = StringField(_l("Amount"), validators=[DataRequired(), Length(max=20)])
    settled_on = DateField(_l("Date"), validators=[DataRequired()])


class WriteOffForm(FlaskForm):
    amount = StringField(_l("Amount"), validators=[DataRequired(), Length(max=20)])
    account_id = SelectField(_l("Account"), coerce=optional_id, validators=[DataRequired()])
    settled_on = DateField(_l("Date"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=255)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=255)])
