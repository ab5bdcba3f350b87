from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Email, Length, Optional

from roles.catalogue import ROLES


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def role_choices() -> list[SelectChoice]:
    return [SelectChoice(r.name, str(r.label)) for r in sorted(ROLES.values(), key=lambda r: -r.rank)]


class _MemberFields(FlaskForm):
    roles = CheckboxesField(_l("Roles"), validators=[DataRequired(message=_l("Choose at least one role."))])
    reports_to = SelectField(
        _l("Reports to"), coerce=lambda v: int(v) if v not in (None, "", "None") else None, validators=[Optional()]
    )

    def set_choices(self, managers: list[tuple[int, str]]) -> None:
        self.roles.choices = role_choices()
        self.reports_to.choices = [SelectChoice("", "—")] + [SelectChoice(str(mid), name) for mid, name in managers]


class InviteForm(_MemberFields):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])


class MemberForm(_MemberFields):
    title = StringField(_l("Job title"), validators=[Optional(), Length(max=100)])


class ExportForm(FlaskForm):
    format = SelectField(_l("Format"), choices=[SelectChoice("xlsx", "Excel (.xlsx)"), SelectChoice("pdf", "PDF")])
