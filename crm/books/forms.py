"""The books' upload form; the other pages read their fields straight from the request (line rows
come as lines-<n>-<field>, whatever the gaps between the indices)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms.validators import DataRequired


class AttachmentForm(FlaskForm):
    file = FileField(_l("File"), validators=[DataRequired()])
