"""Compute a month's payroll run (crm.payroll): one line per employee employed that month,
cumulative income-tax withholding from the confirmed earlier months, with progress.

params: {"run_id": int}. The run must still be a draft; its lines are replaced, so running
the same month again never duplicates anything.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from crm.books.errors import RuleViolation
from crm.db import db
from crm.payroll import services
from crm.payroll.models import PayrollRun
from roles.checks import PermissionDenied
from tenants.context import current_tenant
from tenants.models import Membership
from workers.models import JobRecord
from workers.runner import JobFailed, Progress


def payroll_run(record: JobRecord, progress: Progress) -> None:
    actor = db.session.get(Membership, record.requested_by_id) if record.requested_by_id else None
    locale = record.params.get("locale") or (actor.user.locale if actor and actor.user else None) or "zh_Hans_CN"
    with force_locale(locale):
        run = db.session.get(PayrollRun, int(record.params["run_id"]))
        if run is None:
            raise JobFailed(_("This payroll run no longer exists."))
        progress(2, _("Reading employees and earlier months"))
        try:
            run = services.compute_run(current_tenant, actor, run, progress)
        except RuleViolation as err:
            raise JobFailed("; ".join(err.errors.values())) from err
        except PermissionDenied as err:
            raise JobFailed(_("You may no longer run payroll.")) from err
        record.message = _("Payroll %(month)s computed for %(count)d employees.", month=run.key,
                           count=run.employee_count)  # fmt: skip
        db.session.flush()
