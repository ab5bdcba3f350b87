"""Forms for imports: the upload and the commit mode (the mapping form is one select per column,
read straight from the request)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField
from wtforms.validators import DataRequired, InputRequired

from crm.choices import choices
from crm.imports.models import KIND_LABELS
from crm.imports.services import ACTIVE_KINDS


class UploadForm(FlaskForm):
    kind = SelectField(_l("The file holds"), validators=[InputRequired()])
    file = FileField(
        _l("File"),
        validators=[DataRequired()],
        description=_l("xlsx, xls or csv (UTF-8 or GBK), at most 16 MB. The first sheet is read."),
    )

    def __init__(self, *args: Any, kinds: tuple[str, ...] = ACTIVE_KINDS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = choices((k, KIND_LABELS[k]) for k in kinds)


class CommitForm(FlaskForm):
    mode = RadioField(
        _l("Import"),
        default="good_rows",
        validators=[InputRequired()],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mode.choices = choices(
            [
                ("good_rows", _l("The good rows only: rows with problems are left out (download them to fix)")),
                ("all", _l("All rows or nothing: refuse the whole file if any row has a problem")),
            ]
        )
