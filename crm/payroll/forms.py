"""Payroll forms. The fields are plain text where the service does the checking (amounts, ID
numbers, months), so the page shows the service's reason beside the field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from crm.choices import optional_id


class EmployeeForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[Length(max=60)])
    resident_id = StringField(_l("Resident ID number"), validators=[Length(max=30)],
                              description=_l("18 characters; the last is a check digit (X for 10)."))  # fmt: skip
    member_id = SelectField(_l("Member"), coerce=optional_id, validators=[Optional()],
                            description=_l("When the employee signs in: they see their own payslips."))  # fmt: skip
    department_id = SelectField(_l("Department"), coerce=optional_id, validators=[Optional()])
    hire_date = StringField(_l("Hire date"), render_kw={"type": "date"})
    leave_date = StringField(_l("Leaving date"), description=_l("Blank while employed."), render_kw={"type": "date"})
    base_salary = StringField(_l("Base salary (monthly)"))
    allowances = StringField(_l("Recurring allowances (monthly)"))
    deductions = StringField(_l("Recurring deductions (monthly)"), description=_l("Taken off gross pay."))
    si_base = StringField(_l("Social insurance base"))
    hf_base = StringField(_l("Housing fund base"))
    bonus_method = SelectField(_l("Year-end one-off bonus"), default="separate")
    bank_name = StringField(_l("Bank"), validators=[Length(max=120)])
    bank_account = StringField(_l("Bank account number"), validators=[Length(max=40)])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])


class SpecialDeductionForm(FlaskForm):
    period = StringField(_l("In effect from (YYYY-MM)"), render_kw={"type": "month"})
    children = StringField(_l("Children in education"), default="0", description=_l("2,000 a month each"))
    infants = StringField(_l("Children under 3"), default="0", description=_l("2,000 a month each"))
    elderly_support = StringField(_l("Elderly support"), default="0", description=_l("At most 3,000"))
    housing_loan = StringField(_l("Housing-loan interest"), default="0", description=_l("1,000"))
    housing_rent = StringField(_l("Housing rent"), default="0", description=_l("1,500 / 1,100 / 800 by city"))
    continuing_education = StringField(_l("Continuing education"), default="0",
                                       description=_l("400 a month, or 3,600 in a certificate's year"))  # fmt: skip


class BonusForm(FlaskForm):
    period = StringField(_l("Paid with the payroll of (YYYY-MM)"), render_kw={"type": "month"})
    amount = StringField(_l("Amount"), description=_l("0 removes it."))


class RunForm(FlaskForm):
    period = StringField(_l("Month (YYYY-MM)"), render_kw={"type": "month"})


class PayForm(FlaskForm):
    account_id = SelectField(_l("Paid from"), coerce=optional_id, validators=[Optional()])
    on = StringField(_l("Payment date"), description=_l("YYYY-MM-DD; blank: today"))
