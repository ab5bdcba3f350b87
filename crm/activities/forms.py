from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, DateTimeLocalField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from crm.choices import optional_id

KIND_LABELS = {
    "call": _l("Call"),
    "visit": _l("Visit"),
    "wechat": _l("WeChat"),
    "email": _l("E-mail"),
    "meeting": _l("Meeting"),
}


def kind_choices() -> list[SelectChoice]:
    return [SelectChoice(k, label) for k, label in KIND_LABELS.items()]


class FollowUpForm(FlaskForm):
    kind = SelectField(_l("Type"), choices=kind_choices, validators=[DataRequired()])
    occurred_at = DateTimeLocalField(_l("When"), validators=[Optional()], description=_l("Empty means now."))
    contact_id = SelectField(_l("Contact"), coerce=optional_id, validators=[Optional()])
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=5000)])
    next_followup_on = DateField(
        _l("Next follow-up"), validators=[Optional()], description=_l("Creates a task for you on that day.")
    )
    attachment = FileField(_l("Attachment"), description=_l("Up to 10 MB: images, PDF, Word, Excel or text."))
