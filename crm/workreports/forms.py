"""Forms for work reports: the report, a comment, an attachment, the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from crm.choices import choices
from roles.catalogue import ROLES

KIND_CHOICES = (("daily", _l("Daily report")), ("weekly", _l("Weekly report")), ("monthly", _l("Monthly report")))
WEEKDAYS = (
    (1, _l("Monday")), (2, _l("Tuesday")), (3, _l("Wednesday")), (4, _l("Thursday")), (5, _l("Friday")),
    (6, _l("Saturday")), (7, _l("Sunday")),
)  # fmt: skip
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class ReportForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=choices(KIND_CHOICES), validators=[InputRequired()])
    day = DateField(_l("Day in the period"), validators=[InputRequired()])
    # Pre-filled text runs to a dozen lines: a two-line box would hide most of it.
    done = TextAreaField(_l("Done"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 10},
                         description=_l("Markdown: **bold**, lists with “- ”, links."))  # fmt: skip
    planned = TextAreaField(_l("Planned next"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 5})
    problems = TextAreaField(
        _l("Problems and help needed"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 4}
    )
    recipient_ids = SelectMultipleField(
        _l("Recipients"), coerce=int, validate_choice=False,
        description=_l("Your manager by default; add others who should read it."),
    )  # fmt: skip
    links = SelectMultipleField(_l("Linked customers and opportunities"), validate_choice=False)


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=5000)])
    parent_id = HiddenField()


class AttachmentForm(FlaskForm):
    file = FileField(_l("File"), validators=[DataRequired()])


def role_choices():  # type: ignore[no-untyped-def]
    return choices((name, role.label) for name, role in ROLES.items())


class RulesForm(FlaskForm):
    daily_roles = SelectMultipleField(_l("Roles that submit daily reports"), validate_choice=True)
    daily_time = StringField(_l("Daily deadline (HH:MM)"), validators=[InputRequired(), Regexp(HHMM)])
    weekly_roles = SelectMultipleField(_l("Roles that submit weekly reports"), validate_choice=True)
    weekly_weekday = SelectField(_l("Weekly deadline: day"), choices=choices(WEEKDAYS), coerce=int)
    weekly_time = StringField(_l("Weekly deadline (HH:MM)"), validators=[InputRequired(), Regexp(HHMM)])
    monthly_roles = SelectMultipleField(_l("Roles that submit monthly reports"), validate_choice=True)
    monthly_day = SelectField(
        _l("Monthly deadline: day of the month"), coerce=int,
        choices=choices([(0, _l("Last day of the month"))] + [(d, str(d)) for d in range(1, 29)]),
    )  # fmt: skip
    monthly_time = StringField(_l("Monthly deadline (HH:MM)"), validators=[InputRequired(), Regexp(HHMM)])

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        for f in (self.daily_roles, self.weekly_roles, self.monthly_roles):
            f.choices = role_choices()
