"""Helpers for the contract tests: arrange through the real services, read back."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select

from crm.contracts import services as contracts
from crm.contracts.models import Contract
from crm.db import db
from crm.notifications.models import Notification
from crm.sales.models import Customer
from tenants.context import tenant_context
from tenants.models import Membership, Tenant
from tests import factories
from tests.factories import MemberInfo
from tests.helpers import in_tenant


def plan(*amounts: str, start: date | None = None) -> list[dict[str, Any]]:
    start = start or date(2026, 1, 31)
    return [
        {"due_on": start + timedelta(days=30 * i), "amount": a, "note": f"第{i + 1}期"} for i, a in enumerate(amounts)
    ]


def contract_input(amount: str = "120000.00", payments: list[dict[str, Any]] | None = None, **kw: Any):
    values: dict[str, Any] = {
        "title": "年度运维服务合同", "signed_on": date(2026, 1, 5), "starts_on": date(2026, 1, 10),
        "ends_on": date(2026, 12, 31), "amount": amount, "terms": "按季度验收，款到开票。",
        "payments": payments if payments is not None else plan("60000.00", "60000.00"),
    }  # fmt: skip
    values.update(kw)
    return contracts.ContractInput(**values)


def make_contract(rep: Membership, customer_id: int, **kw: Any) -> Contract:
    """Inside an app context; flushes (the caller commits)."""
    with tenant_context(rep.tenant_id, user_id=rep.user_id):
        customer = db.session.get(Customer, customer_id)
        tenant = db.session.get(Tenant, rep.tenant_id)
        c = contracts.create_contract(rep, tenant, customer, contract_input(**kw))
        db.session.flush()
    return c


def contract(app: Flask, rep: MemberInfo, customer_id: int, **kw: Any) -> int:
    with app.app_context():
        with tenant_context(rep.tenant_id):
            row = factories.member_row(rep)
        cid = make_contract(row, customer_id, **kw).id
        db.session.commit()
        return cid


def act(app: Flask, member: MemberInfo, contract_id: int, action: str, *args: Any) -> None:
    """Run a service (submit, approve, reject, terminate, delete, change_end_date) as a member, commit."""
    with in_tenant(app, member.tenant_id, member.user_id):
        row = factories.member_row(member)
        c = db.session.get(Contract, contract_id)
        tenant = db.session.get(Tenant, member.tenant_id)
        fn = getattr(contracts, f"{action}_contract", None) or getattr(contracts, action)
        if action in ("submit", "approve", "reject"):
            fn(row, tenant, c, *args)
        else:
            fn(row, c, *args)
        db.session.commit()


def set_fields(app: Flask, tenant_id: int, contract_id: int, **values: Any) -> None:
    with in_tenant(app, tenant_id):
        c = db.session.get(Contract, contract_id)
        for k, v in values.items():
            setattr(c, k, v)
        db.session.commit()


def read(app: Flask, tenant_id: int, contract_id: int) -> dict[str, Any] | None:
    with in_tenant(app, tenant_id):
        c = db.session.get(Contract, contract_id)
        if c is None:
            return None
        return {
            "number": c.number, "status": c.status, "amount": c.amount, "title": c.title, "ends_on": c.ends_on,
            "quote_id": c.quote_id, "opportunity_id": c.opportunity_id, "customer_id": c.customer_id,
            "approved_by_id": c.approved_by_id, "expiry_reminded_at": c.expiry_reminded_at,
            "termination_reason": c.termination_reason,
            "payments": [(p.due_on, p.amount, p.note) for p in c.payments],
            "reviews": [(r.decision, r.member_id, r.comment) for r in c.reviews],
        }  # fmt: skip


def notes(app: Flask, tenant_id: int, member_id: int, kind: str) -> list[str]:
    with in_tenant(app, tenant_id):
        return list(
            db.session.scalars(
                select(Notification.title)
                .where(Notification.recipient_id == member_id, Notification.kind == kind)
                .order_by(Notification.id)
            )
        )


D = Decimal
