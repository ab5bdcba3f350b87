"""The public-pool rules run now for one workspace (the pool rules page's "run now"); the nightly
run is part of workers/jobs/sales_daily.py."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from crm.sales.pool import apply_rules
from workers.models import JobRecord
from workers.runner import Progress


def pool_rules(record: JobRecord, progress: Progress) -> None:
    with force_locale(record.params.get("locale") or "zh_Hans_CN"):
        progress(10, _("Checking idle customers"))
        counts = apply_rules()
        record.message = _("%(returned)d returned to the pool, %(warned)d owners warned.", **counts)[:255]
