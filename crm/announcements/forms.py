from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional

from crm.choices import choices
from roles.catalogue import ROLES

CATEGORY_LABELS = {
    "general": _l("General"),
    "policy": _l("Policy"),
    "event": _l("Event"),
    "holiday": _l("Holiday"),
    "system": _l("System"),
}


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def role_choices() -> list:
    return choices([(r.name, r.label) for r in sorted(ROLES.values(), key=lambda r: -r.rank)])


def to_utc(local: datetime | None) -> datetime | None:
    """A wall-clock time typed by the member, in their time zone, as UTC."""
    if local is None:
        return None
    tz = get_timezone()
    aware = tz.localize(local) if hasattr(tz, "localize") else local.replace(tzinfo=tz)  # pytz or zoneinfo
    return aware.astimezone(UTC)


def to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(get_timezone()).replace(tzinfo=None, second=0, microsecond=0)


class AnnouncementForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Give the announcement a title.")),
                                                 Length(max=200)])  # fmt: skip
    category = SelectField(_l("Category"), choices=lambda: choices(CATEGORY_LABELS.items()), default="general")
    body = TextAreaField(
        _l("Text"), validators=[Optional(), Length(max=50_000)],
        description=_l("Markdown: **bold**, lists, links, tables. Images only from files uploaded here."),
        render_kw={"rows": 12},
    )  # fmt: skip
    audience_roles = CheckboxesField(
        _l("Audience"), choices=role_choices, validators=[Optional()],
        description=_l("Leave every role unticked to address everyone in the workspace."),
    )  # fmt: skip
    pinned = BooleanField(_l("Pin to the top"))
    requires_ack = BooleanField(_l("Requires acknowledgement (members must confirm they have read it)"))
    publish_at = DateTimeLocalField(
        _l("Publish at"), format="%Y-%m-%dT%H:%M", validators=[Optional()],
        description=_l("Leave empty to publish now."),
    )  # fmt: skip
    expires_at = DateTimeLocalField(
        _l("Expires at"), format="%Y-%m-%dT%H:%M", validators=[Optional()],
        description=_l("Leave empty to keep it in the feed."),
    )  # fmt: skip
    attachment = FileField(_l("Attachment"), description=_l("Up to 10 MB: images, PDF, Word, Excel or text."))

    def service_data(self) -> dict:
        return {
            "title": self.title.data, "category": self.category.data, "body": self.body.data or "",
            "audience_roles": list(self.audience_roles.data or []), "pinned": bool(self.pinned.data),
            "requires_ack": bool(self.requires_ack.data), "publish_at": to_utc(self.publish_at.data),
            "expires_at": to_utc(self.expires_at.data),
        }  # fmt: skip


class AcknowledgeForm(FlaskForm):
    pass
