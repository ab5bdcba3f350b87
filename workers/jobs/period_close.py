"""Close a month of the books (结账): the checks again under the period's row lock, the closing
entries, the month marked closed — all in the job's one transaction."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from crm.books import closing
from crm.books.errors import RuleViolation
from crm.db import db
from tenants.context import current_tenant
from tenants.models import Membership
from workers.models import JobRecord
from workers.runner import JobFailed, Progress


def period_close(record: JobRecord, progress: Progress) -> None:
    year, month = int(record.params["year"]), int(record.params["month"])
    actor = db.session.get(Membership, record.requested_by_id) if record.requested_by_id else None
    # The language of the page (or API call) that asked: a profile's saved language is only a
    # default, and the browser's Accept-Language may have chosen otherwise.
    saved = actor.user.locale if actor and actor.user else None
    locale = record.params.get("locale") or saved or "zh_Hans_CN"
    with force_locale(locale):
        progress(10, _("Checking %(year)04d-%(month)02d", year=year, month=month))
        try:
            row = closing.close_period(current_tenant, actor, year, month)
        except RuleViolation as err:
            raise JobFailed("; ".join(err.errors.values())) from err
        record.message = _("%(month)s is closed.", month=row.key)
        db.session.flush()
