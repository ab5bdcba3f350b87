from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

VAT_OPTIONS = (("0.13", "13 %"), ("0.09", "9 %"), ("0.06", "6 %"), ("0.03", "3 %"), ("0.01", "1 %"), ("0.00", "0 %"))


def rate_choices() -> list[SelectChoice]:
    return [SelectChoice(v, label) for v, label in VAT_OPTIONS]


class ProductForm(FlaskForm):
    code = StringField(_l("Product code"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Product name"), validators=[DataRequired(), Length(max=200)])
    specification = StringField(_l("Specification"), validators=[Optional(), Length(max=200)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=20)], description=_l("e.g. 台, 套, 个, 小时"))
    list_price = StringField(
        _l("List price (excluding tax)"), validators=[DataRequired(), Length(max=20)], description=_l("e.g. 1280.00")
    )
    vat_rate = SelectField(_l("VAT rate"), choices=rate_choices, validators=[DataRequired()])
    category = StringField(_l("Category"), validators=[Optional(), Length(max=60)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    active = BooleanField(_l("Active (can be quoted)"), default=True)
