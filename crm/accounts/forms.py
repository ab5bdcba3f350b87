from __future__ import annotations

import email_validator
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp

from tenants.identity import MIN_PASSWORD_LENGTH

# Company intranets often use .local mail domains (and tests use .test); email-validator
# refuses these "special use" names by default, which would lock such people out.
for _special in ("local", "test"):
    if _special in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        email_validator.SPECIAL_USE_DOMAIN_NAMES.remove(_special)

_pw_msg = _l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH)


def _new_password(label: object) -> PasswordField:
    return PasswordField(label, validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256, message=_pw_msg)])


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me signed in"))


class SignupForm(FlaskForm):
    company = StringField(_l("Company name"), validators=[DataRequired(), Length(max=120)])
    slug = StringField(
        _l("Workspace address"),
        validators=[
            DataRequired(),
            Length(min=3, max=40),
            Regexp(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$", message=_l("Lower-case letters, digits and hyphens.")),
        ],
        description=_l("Your workspace will live at /w/your-address/."),
    )
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = _new_password(_l("Password"))


class NewWorkspaceForm(FlaskForm):
    """Sign-up for someone already signed in: they become the owner."""

    company = SignupForm.company
    slug = SignupForm.slug


class ForgotForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])


class ResetForm(FlaskForm):
    password = _new_password(_l("New password"))
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[EqualTo("password", message=_l("The passwords differ."))]
    )


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = _new_password(_l("New password"))
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[EqualTo("password", message=_l("The passwords differ."))]
    )


TIMEZONES = [
    SelectChoice("Asia/Shanghai", _l("China Standard Time (Asia/Shanghai)")),
    SelectChoice("Asia/Hong_Kong", _l("Hong Kong (Asia/Hong_Kong)")),
    SelectChoice("Asia/Taipei", _l("Taipei (Asia/Taipei)")),
    SelectChoice("Asia/Singapore", _l("Singapore (Asia/Singapore)")),
    SelectChoice("Asia/Tokyo", _l("Tokyo (Asia/Tokyo)")),
    SelectChoice("Europe/London", _l("London (Europe/London)")),
    SelectChoice("Europe/Berlin", _l("Central Europe (Europe/Berlin)")),
    SelectChoice("America/New_York", _l("US Eastern (America/New_York)")),
    SelectChoice("America/Los_Angeles", _l("US Pacific (America/Los_Angeles)")),
    SelectChoice("UTC", _l("UTC")),
]


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    locale = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("", _l("Follow my browser")),
            SelectChoice("zh_Hans_CN", "简体中文"),
            SelectChoice("en", "English"),
        ],
        validators=[Optional()],
    )
    timezone = SelectField(_l("Time zone"), choices=TIMEZONES)
    notify_by_mail = BooleanField(
        _l("E-mail me notifications"),
        description=_l("Announcements, report comments and reminders, contract approvals — in every workspace."),
    )


class AcceptInvitationForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    password = _new_password(_l("Choose a password"))
