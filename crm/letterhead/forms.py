from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import Length, Optional


class LetterheadForm(FlaskForm):
    legal_name = StringField(
        _l("Legal name"), validators=[Optional(), Length(max=200)],
        description=_l("As registered, e.g. 上海百川科技有限公司. Empty: the workspace name."),
    )  # fmt: skip
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    tax_id = StringField(
        _l("Taxpayer ID"), validators=[Optional(), Length(max=40)],
        description=_l("The 18-character unified social credit code (统一社会信用代码)."),
    )  # fmt: skip
    bank = StringField(_l("Bank"), validators=[Optional(), Length(max=100)], description=_l("e.g. 招商银行上海分行"))
    bank_account = StringField(_l("Bank account"), validators=[Optional(), Length(max=40)])
    logo = FileField(_l("Logo"), description=_l("PNG or JPEG, at most 512 KB. Leave empty to keep the current logo."))
