from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from crm.choices import choices, optional_id


def status_choices() -> list:
    return choices([("draft", _l("Draft")), ("published", _l("Published"))])


class CategoryForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    parent_id = SelectField(_l("Inside"), coerce=optional_id, validators=[Optional()], validate_choice=False)
    position = IntegerField(_l("Position"), validators=[Optional()], default=0)
    roles = SelectMultipleField(
        _l("Visible to"), validators=[Optional()],
        description=_l("Leave empty for everyone. A sub-category is only visible where its parents are too."),
    )  # fmt: skip


class ArticleForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    category_id = SelectField(_l("Category"), coerce=optional_id, validators=[DataRequired()], validate_choice=False)
    status = SelectField(_l("Status"), choices=status_choices, default="draft")
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=400)], description=_l("Separated by commas."))
    body = TextAreaField(_l("Body (Markdown)"), validators=[Optional(), Length(max=200_000)])
    note = StringField(_l("Change note"), validators=[Optional(), Length(max=200)])
    base_version = HiddenField()


class UploadForm(FlaskForm):
    file = FileField(_l("File"))


class LinkForm(FlaskForm):
    article_id = SelectField(_l("Article"), coerce=optional_id, validators=[DataRequired()], validate_choice=False)
    object_type = HiddenField()
    object_id = HiddenField()
