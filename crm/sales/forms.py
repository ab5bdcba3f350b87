from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from crm.choices import optional_id

LEVEL_CHOICES = [SelectChoice("", "—"), SelectChoice("A", "A"), SelectChoice("B", "B"), SelectChoice("C", "C")]


def status_choices() -> list[SelectChoice]:
    return [
        SelectChoice("potential", _l("Potential")),
        SelectChoice("active", _l("Active")),
        SelectChoice("dormant", _l("Dormant")),
        SelectChoice("lost", _l("Lost")),
    ]


STATUS_LABELS = {
    "potential": _l("Potential"),
    "active": _l("Active"),
    "dormant": _l("Dormant"),
    "lost": _l("Lost"),
}


class CustomerForm(FlaskForm):
    name = StringField(_l("Customer name"), validators=[DataRequired(), Length(max=200)])
    short_name = StringField(_l("Short name"), validators=[Optional(), Length(max=100)])
    uscc = StringField(
        _l("Unified social credit code"),
        validators=[Optional(), Length(max=30)],
        description=_l("18 characters, e.g. 91110000600037341L"),
    )
    uscc_override_reason = StringField(
        _l("Reason to keep a code that fails its check"), validators=[Optional(), Length(max=255)]
    )
    industry = StringField(_l("Industry"), validators=[Optional(), Length(max=60)])
    level = SelectField(_l("Level"), choices=LEVEL_CHOICES, validators=[Optional()])
    source = StringField(_l("Source"), validators=[Optional(), Length(max=60)])
    province = StringField(_l("Province"), validators=[Optional(), Length(max=30)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=30)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=255)])
    owner_id = SelectField(lazy_pgettext("customer", "Owner"), coerce=optional_id, validators=[Optional()])
    status = SelectField(_l("Status"), choices=status_choices, validators=[DataRequired()])
    tags = StringField(
        _l("Tags"), validators=[Optional(), Length(max=400)], description=_l("Separate tags with commas.")
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    confirm_duplicates = HiddenField(default="")


class ContactForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    title = StringField(_l("Job title"), validators=[Optional(), Length(max=100)])
    department = StringField(_l("Department"), validators=[Optional(), Length(max=100)])
    reports_to_id = SelectField(_l("Reports to"), coerce=optional_id, validators=[Optional()])
    mobile = StringField(_l("Mobile"), validators=[Optional(), Length(max=40)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    wechat = StringField(_l("WeChat"), validators=[Optional(), Length(max=60)])
    birthday = DateField(_l("Birthday"), validators=[Optional()])
    is_primary = BooleanField(_l("Primary contact"))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class MergeForm(FlaskForm):
    keep_id = SelectField(_l("Customer to keep"), coerce=optional_id, validators=[DataRequired()])
    drop_id = SelectField(_l("Duplicate to merge and archive"), coerce=optional_id, validators=[DataRequired()])
