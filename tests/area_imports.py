"""Finance → 凭证导入 (voucher imports) in the role × route matrix and the cross-tenant walk
(tests/areas.py). The Sales → Import rows stay in test_route_matrix.py.

Voucher imports need finance.access (not imports.run): owner, admin and finance may, the sales
manager and the rep may not. World object per workspace: finance's analysed voucher import of a
sheet with one good voucher (dated 2026-02-10) and one unbalanced one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm.db import db
from tests.areas import row

FIN_IMP = "/w/<slug>/finance/imports"
FIN_IMP_ONE = FIN_IMP + "/<int:batch_id>"

FINANCE = row(404, 200, 200, 403, 403, 200)

# fmt: off
#                                                anon owner admin mgr sales finance
ROWS: dict[tuple[str, str], dict[str, int]] = {
    ("GET", FIN_IMP):                            FINANCE,
    ("POST", FIN_IMP):                           row(404, 400, 400, 403, 403, 400),  # no file
    ("GET", FIN_IMP_ONE):                        FINANCE,
    ("POST", FIN_IMP_ONE + "/mapping"):          row(404, 302, 302, 403, 403, 302),  # nothing mapped: refused
    ("POST", FIN_IMP_ONE + "/commit"):           row(404, 302, 302, 403, 403, 302),  # no mode chosen
    ("POST", FIN_IMP_ONE + "/undo"):             row(404, 302, 302, 403, 403, 302),  # not committed
    ("GET", FIN_IMP_ONE + "/rejected"):          FINANCE,
}
# fmt: on

_JOURNAL_BATCH = {"batch_id": lambda w, role: w.journal_import_id["a"]}
RULE_PARAMS = {rule: _JOURNAL_BATCH for (_method, rule) in ROWS if "<int:batch_id>" in rule}


def world_voucher_sheet() -> bytes:
    from tests.imports_factories import xlsx

    day = datetime(2026, 2, 10)
    return xlsx(
        [
            ["日期", "凭证号", "摘要", "科目编码", "借方金额", "贷方金额"],
            [day, "记-1", "世界凭证", "1001", 100, None],
            [day, "记-1", "世界凭证", "1002", None, 100],
            [day, "记-2", "不平", "1001", 100, None],
            [day, "记-2", "不平", "1002", None, 90],
        ]
    )


def build(app: Any, world: Any) -> None:
    from crm.imports import services
    from tenants.context import tenant_context
    from tenants.models import Membership, Tenant

    world.journal_import_id = {}
    with app.app_context():
        for key, t in world.tenants.items():
            fin = t["finance"]
            with tenant_context(t.id, user_id=fin.user_id):
                actor = db.session.get(Membership, fin.id)
                tenant = db.session.get(Tenant, t.id)
                batch = services.upload(tenant, actor, "journal_entries", "世界凭证.xlsx", world_voucher_sheet())
                world.journal_import_id[key] = batch.id
                db.session.commit()
