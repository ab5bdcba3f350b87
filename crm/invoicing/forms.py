from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, FieldList, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from crm.choices import optional_id
from crm.quotes.forms import LineForm

BLANK_LINES = 1  # one empty row under the filled ones; "Add line" adds more (JS), empty rows are ignored
LINE_FIELDS = (
    "product_id", "description", "specification", "unit", "quantity", "unit_price", "discount_pct", "tax_rate",
    "account_id",
)  # fmt: skip


class InvoiceLineForm(LineForm):
    account_id = SelectField(_l("Account"), coerce=optional_id, validators=[Optional()], validate_choice=False)


class InvoiceForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=optional_id, validators=[Optional()])
    # "Supplier" alone is 供方, the seller in a contract; a finance party is a 供应商.
    supplier_id = SelectField(lazy_pgettext("party", "Supplier"), coerce=optional_id, validators=[Optional()])
    external_number = StringField(
        _l("Supplier's invoice no."), validators=[Optional(), Length(max=60)],
        description=_l("The number on the supplier's VAT invoice (发票号码)."),
    )  # fmt: skip
    invoice_date = DateField(_l("Date"), validators=[DataRequired()])
    due_date = DateField(
        _l("Due date"), validators=[Optional()], description=_l("Blank: the date plus the payment terms.")
    )
    prices_include_tax = BooleanField(_l("Prices include tax"))
    memo = TextAreaField(_l("Memo"), validators=[Optional(), Length(max=5000)])
    lines = FieldList(FormField(InvoiceLineForm), min_entries=1)


class ReverseForm(FlaskForm):
    on = DateField(_l("Reversal date"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=200)])


class SupplierForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=30)])
    uscc_override_reason = StringField(
        _l("Reason to keep a code that fails its check"), validators=[Optional(), Length(max=200)],
        description=_l("Some genuine early codes fail the check; say why this one is right."),
    )  # fmt: skip
    contact_name = StringField(_l("Contact"), validators=[Optional(), Length(max=60)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=120)])
    bank_account = StringField(_l("Bank account"), validators=[Optional(), Length(max=60)])
    payment_terms_days = StringField(
        _l("Payment terms (days)"), validators=[Optional(), Length(max=5)], description=_l("0 to 365; blank: 30.")
    )
    customer_id = SelectField(
        _l("Also a customer"), coerce=optional_id, validators=[Optional()],
        description=_l("When this supplier is also one of your customers (for offsetting receivables)."),
    )  # fmt: skip
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    is_active = BooleanField(_l("Active"), default=True)
