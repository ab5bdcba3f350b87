"""Expense forms. Amounts, dates and lines are plain text checked by the services, so the page
shows the service's reason beside the field. A claim's lines are rows named
``lines-<i>-<field>`` read by the view (crm.expenses.views.line_rows)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from crm.choices import optional_id

LINE_FIELDS = ("id", "expense_date", "category_id", "amount", "input_vat", "invoice_number", "description")
BLANK_LINES = 3


class ClaimForm(FlaskForm):
    title = StringField(_l("What the expenses were for"), validators=[Length(max=200)])
    department_id = SelectField(_l("Department"), coerce=optional_id, validators=[Optional()])
    customer_id = SelectField(_l("Customer"), coerce=optional_id, validators=[Optional()])
    opportunity_id = SelectField(_l("Opportunity"), coerce=optional_id, validators=[Optional()])
    advance_id = SelectField(
        _l("Set off against my advance"), coerce=optional_id, validators=[Optional()],
        description=_l("Finance deducts the claim from this open advance before paying you the rest."),
    )  # fmt: skip


class AdvanceForm(FlaskForm):
    amount = StringField(_l("Amount"))
    purpose = StringField(_l("Purpose"), validators=[Length(max=255)])
    needed_by = StringField(_l("Needed by"), render_kw={"type": "date"})


class CommentForm(FlaskForm):
    comment = TextAreaField(_l("Reason"), validators=[Length(max=2000)])


class ReceiptForm(FlaskForm):
    receipt = FileField(_l("Receipt (image or PDF)"))


class PayForm(FlaskForm):
    on = StringField(_l("Payment date"), render_kw={"type": "date"})
    account_id = SelectField(_l("Paid from"), coerce=optional_id, validators=[Optional()])


class CategoryForm(FlaskForm):
    account_id = SelectField(_l("Expense account"), coerce=optional_id, validators=[Optional()])
