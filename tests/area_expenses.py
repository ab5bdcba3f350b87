"""Expense claims and advances in the role × route matrix and the cross-tenant walk
(tests/areas.py), and the factories the expense tests share.

Every member files claims (office.access); the claimant's manager approves; finance, the owner
and admins (expenses.pay) review and pay. World objects per workspace:
- the sales rep's submitted claim (its manager — the sales manager — may approve or reject it),
  with one line carrying a receipt;
- the sales rep's draft claim (the rep edits, submits or deletes it);
- the sales manager's reviewed claim (reports to nobody: finance pays it);
- the sales rep's requested advance (the sales manager approves it) and the sales manager's
  approved advance (finance pays it).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from crm.db import db
from tests.areas import members, row

# ---------------------------------------------------------------- factories


def _tenant(actor: Any) -> Any:
    from tenants.models import Tenant

    return db.session.get(Tenant, actor.tenant_id)


def category_id(key: str) -> int:
    from crm.expenses import services

    return next(c.id for c in services.ensure_categories() if c.key == key)


def claim_input(
    amount: str = "100.00", title: str = "出差报销", category: str = "travel", advance_id: int | None = None
) -> Any:
    from crm.expenses import services

    return services.ClaimInput(
        title=title,
        advance_id=advance_id,
        lines=[
            {"expense_date": "2026-03-01", "category_id": category_id(category), "amount": amount,
             "description": "高铁票"},
        ],
    )  # fmt: skip


def make_claim(actor: Any, amount: str = "100.00", category: str = "travel") -> Any:
    """A draft claim of ``actor`` (inside tenant_context; flushes)."""
    from crm.expenses import services

    return services.create_claim(_tenant(actor), actor, claim_input(amount, category=category))


def paid_claim(rep: Any, boss: Any, fin: Any, on: date, claim: Any = None, **kw: Any) -> Any:
    """A claim of ``rep`` submitted, approved by ``boss``, reviewed and paid by ``fin``."""
    from crm.expenses import services

    t = _tenant(rep)
    claim = claim or make_claim(rep, **kw)
    services.submit_claim(t, rep, claim)
    services.approve_claim(t, boss, claim)
    services.review_claim(t, fin, claim)
    services.pay_claims(t, fin, [claim], on)
    return claim


def make_advance(member: Any, approver: Any, payer: Any | None, amount: str, on: date | None = None) -> Any:
    """An advance of ``member``, approved by ``approver`` and, given a payer, paid on ``on``."""
    from crm.expenses import services

    t = _tenant(member)
    adv = services.request_advance(t, member, {"amount": amount, "purpose": "出差借款"})
    services.approve_advance(t, approver, adv)
    if payer is not None:
        services.pay_advance(t, payer, adv, on)
    return adv


# ---------------------------------------------------------------- the matrix

OFF = "/w/<slug>/office/expenses"
CLAIM = OFF + "/claims/<int:expense_claim_id>"
ADV = OFF + "/advances/<int:expense_advance_id>"
FIN = "/w/<slug>/finance/expenses"
API_CLAIM = "/api/v1/expense-claims/<int:expense_claim_id>"
API_ADV = "/api/v1/advances/<int:expense_advance_id>"

PAYERS = row(404, 200, 200, 403, 403, 200)  # expenses.pay: owner, admin, finance
API_PAYERS = row(401, 200, 200, 403, 403, 200)

# fmt: off
#                                                          anon owner admin mgr sales finance
ROWS: dict[tuple[str, str], dict[str, int]] = {
    ("GET", OFF):                                          members(200),
    ("GET", OFF + "/claims/new"):                          members(200),
    ("POST", OFF + "/claims/new"):                         members(400),  # empty form
    # the rep's submitted claim: the rep, their manager and payers see it
    ("GET", CLAIM):                                        row(404, 200, 200, 200, 200, 200),
    ("GET", CLAIM + "/edit"):                              row(404, 403, 403, 403, 302, 403),  # submitted: back to it
    ("POST", CLAIM + "/edit"):                             row(404, 403, 403, 403, 302, 403),
    ("POST", CLAIM + "/submit"):                           row(404, 403, 403, 403, 302, 403),  # refused: flash
    ("POST", CLAIM + "/delete"):                           row(404, 403, 403, 403, 302, 403),  # refused: flash
    ("POST", CLAIM + "/approve"):                          row(404, 403, 403, 302, 302, 403),  # rep: self, refused
    ("POST", CLAIM + "/reject"):                           row(404, 403, 403, 400, 302, 403),  # no reason
    ("POST", CLAIM + "/lines/<int:expense_line_id>/receipt"): row(404, 403, 403, 403, 302, 403),  # locked: flash
    ("GET", OFF + "/advances/new"):                        members(200),
    ("POST", OFF + "/advances/new"):                       members(400),
    ("GET", ADV):                                          row(404, 200, 200, 200, 200, 200),
    ("POST", ADV + "/approve"):                            row(404, 403, 403, 302, 302, 403),
    ("POST", ADV + "/reject"):                             row(404, 403, 403, 400, 302, 403),
    ("GET", FIN):                                          PAYERS,
    ("POST", FIN + "/claims/<int:expense_claim_id>/review"): row(404, 302, 302, 403, 403, 302),  # submitted: refused
    ("POST", FIN + "/pay"):                                row(404, 302, 302, 403, 403, 302),  # none chosen
    ("POST", FIN + "/advances/<int:expense_advance_id>/pay"): row(404, 302, 302, 403, 403, 302),  # requested: refused
    ("POST", FIN + "/advances/<int:expense_advance_id>/repay"): row(404, 302, 302, 403, 403, 302),  # not paid: refused
    ("GET", FIN + "/categories"):                          PAYERS,
    ("POST", FIN + "/categories/<int:expense_category_id>"): row(404, 302, 302, 403, 403, 302),  # none chosen
    ("GET", FIN + "/reports"):                             PAYERS,
    ("GET", FIN + "/reports.xlsx"):                        PAYERS,
    ("GET", FIN + "/reports.pdf"):                         PAYERS,
    ("GET", "/api/v1/expense-claims"):                     row(401, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/expense-claims"):                    row(401, 422, 422, 422, 422, 422),  # empty body
    ("GET", API_CLAIM):                                    row(401, 200, 200, 200, 200, 200),
    ("PATCH", API_CLAIM):                                  row(401, 403, 403, 403, 422, 403),  # submitted: locked
    ("DELETE", API_CLAIM):                                 row(401, 403, 403, 403, 422, 403),
    ("POST", API_CLAIM + "/lines/<int:expense_line_id>/receipt"): row(401, 403, 403, 403, 422, 403),  # no file
    ("POST", API_CLAIM + "/submit"):                       row(401, 403, 403, 403, 422, 403),
    ("POST", API_CLAIM + "/approve"):                      row(401, 403, 403, 200, 422, 403),
    ("POST", API_CLAIM + "/reject"):                       row(401, 403, 403, 422, 422, 403),  # no comment
    ("POST", API_CLAIM + "/review"):                       row(401, 422, 422, 403, 403, 422),  # not approved yet
    ("POST", API_CLAIM + "/pay"):                          row(401, 422, 422, 403, 403, 422),
    ("GET", "/api/v1/expense-categories"):                 row(401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/advances"):                           row(401, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/advances"):                          row(401, 422, 422, 422, 422, 422),
    ("GET", API_ADV):                                      row(401, 200, 200, 200, 200, 200),
    ("POST", API_ADV + "/approve"):                        row(401, 403, 403, 200, 422, 403),
    ("POST", API_ADV + "/reject"):                         row(401, 403, 403, 422, 422, 403),
    ("POST", API_ADV + "/pay"):                            row(401, 422, 422, 403, 403, 422),  # not approved yet
    ("POST", API_ADV + "/repay"):                          row(401, 422, 422, 403, 403, 422),  # no amount
}
# fmt: on

PARAMS = {
    "expense_claim_id": lambda w, role: w.expense_claim_id["a"],
    "expense_advance_id": lambda w, role: w.expense_advance_id["a"],
    "expense_line_id": lambda w, role: w.expense_line_id["a"],
    "expense_category_id": lambda w, role: w.expense_category_id["a"],
}
OBJECTS = {
    "expense_claim_id": lambda w: w.expense_claim_id["a"],
    "expense_advance_id": lambda w: w.expense_advance_id["a"],
    "expense_line_id": lambda w: w.expense_line_id["a"],
    "expense_category_id": lambda w: w.expense_category_id["a"],
}


def build(app: Any, world: Any) -> None:
    """The objects named in the module docstring, in every workspace of the world."""
    from crm.expenses import services
    from crm.expenses.models import ExpenseCategory
    from tenants.context import tenant_context
    from tenants.models import Membership

    world.expense_claim_id, world.expense_advance_id, world.expense_line_id = {}, {}, {}
    world.expense_category_id, world.expense_draft_id, world.expense_reviewed_id = {}, {}, {}
    world.expense_approved_advance_id = {}
    with app.app_context():
        for key, t in world.tenants.items():
            with tenant_context(t.id, user_id=t["owner"].user_id):
                rep = db.session.get(Membership, t["sales"].id)
                boss = db.session.get(Membership, t["sales_manager"].id)
                fin = db.session.get(Membership, t["finance"].id)
                tenant = _tenant(rep)
                claim = make_claim(rep)
                services.attach_receipt(
                    tenant, rep, claim, claim.lines[0], "receipt.png", b"\x89PNG\r\n\x1a\n" + b"0" * 32
                )
                services.submit_claim(tenant, rep, claim)
                draft = make_claim(rep, amount="20.00")
                reviewed = make_claim(boss, amount="30.00")
                services.submit_claim(tenant, boss, reviewed)
                services.approve_claim(tenant, fin, reviewed)
                services.review_claim(tenant, db.session.get(Membership, t["owner"].id), reviewed)
                adv = services.request_advance(tenant, rep, {"amount": "500", "purpose": f"{key} 借款"})
                approved = make_advance(boss, fin, None, "800")
                world.expense_claim_id[key] = claim.id
                world.expense_line_id[key] = claim.lines[0].id
                world.expense_draft_id[key] = draft.id
                world.expense_reviewed_id[key] = reviewed.id
                world.expense_advance_id[key] = adv.id
                world.expense_approved_advance_id[key] = approved.id
                world.expense_category_id[key] = db.session.scalars(
                    select(ExpenseCategory.id).where(ExpenseCategory.key == "travel")
                ).one()
                db.session.commit()
