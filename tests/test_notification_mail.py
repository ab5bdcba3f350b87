"""Notifications by e-mail: sent when mail is configured, for the kinds that warrant it, in the
recipient's language, after the response (or at once in a job), never to who opted out."""

from __future__ import annotations

import pytest
from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.db import db
from crm.notifications.models import Notification
from crm.notifications.services import MAIL_KINDS, notify
from tenants.models import Membership, Tenant, User
from tests.contract_factories import make_contract
from tests.helpers import in_tenant, post, text_of, translated


@pytest.fixture
def outbox(app, monkeypatch):
    sent: list[tuple[str, str, str]] = []

    def fake_send(to, subject, body):
        sent.append((to, subject, body))
        return True

    monkeypatch.setattr("crm.notifications.services.send_mail", fake_send)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.com")
    return sent


def _notify_in_job(app, member, kind="pool.warning", title="“客户甲” goes back to the pool", **kw):
    """As a job would: an app and tenant context, no request."""
    with in_tenant(app, member.tenant_id):
        m = db.session.get(Membership, member.id)
        notify(m, kind, title, **kw)
        db.session.commit()


def _notes(app, member, kind):
    with in_tenant(app, member.tenant_id):
        return list(
            db.session.scalars(select(Notification).where(Notification.recipient_id == member.id,
                                                          Notification.kind == kind))
        )  # fmt: skip


def test_the_mail_kinds_are_the_agreed_ones():
    assert {
        "announcement.published", "announcement.reminder", "report.comment", "report.reminder",
        "contract.submitted", "contract.approved", "contract.rejected", "pool.warning",
        "expense.submitted", "expense.rejected", "expense.paid",
    } == MAIL_KINDS  # fmt: skip


def test_a_submitted_expense_claim_e_mails_whoever_approves_it(app, tenant_a, outbox):
    from crm.expenses import services as expenses
    from tenants.models import Tenant
    from tests.area_expenses import make_claim
    from tests.books_factories import setup_books

    with in_tenant(app, tenant_a.id, tenant_a["sales"].user_id):
        setup_books(db.session.get(Tenant, tenant_a.id))
        rep = db.session.get(Membership, tenant_a["sales"].id)
        claim = make_claim(rep)
        expenses.submit_claim(db.session.get(Tenant, tenant_a.id), rep, claim)
        db.session.commit()
        ids = set(db.session.scalars(select(Notification.recipient_id)))
        approvers = {db.session.get(Membership, i).user.email for i in ids}
    assert approvers and tenant_a["sales"].email not in approvers
    assert {to for to, _subject, _body in outbox} == approvers


def test_in_a_job_a_mail_kind_is_e_mailed_at_once(app, tenant_a, outbox):
    rep = tenant_a["sales"]
    _notify_in_job(app, rep, body="Follow up before Friday.", link=f"/w/{rep.slug}/sales/customers/1")
    ((to, subject, body),) = outbox
    assert to == rep.email
    assert subject == f"[{tenant_a.name}] “客户甲” goes back to the pool"
    assert "Follow up before Friday." in body and f"/w/{rep.slug}/sales/customers/1" in body
    assert len(_notes(app, rep, "pool.warning")) == 1  # the bell has it too


def test_other_kinds_stay_in_the_app(app, tenant_a, outbox):
    _notify_in_job(app, tenant_a["sales"], kind="pool.returned")
    assert outbox == []
    assert len(_notes(app, tenant_a["sales"], "pool.returned")) == 1


def test_without_mail_server_nothing_is_sent(app, tenant_a, outbox, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    with caplog.at_level("INFO"):
        _notify_in_job(app, tenant_a["sales"])
    assert outbox == []
    assert not [r for r in caplog.records if r.name.startswith("taizhang.")]  # nothing above debug
    assert len(_notes(app, tenant_a["sales"], "pool.warning")) == 1


def test_inside_a_request_the_mail_goes_after_the_response(app, tenant_a, client_as, outbox):
    from tests.factories import make_customer

    with in_tenant(app, tenant_a.id):
        rep = db.session.get(Membership, tenant_a["sales"].id)
        customer, _contact = make_customer(rep, "百川贸易有限公司")
        cid = make_contract(rep, customer.id).id
        db.session.commit()
    c = client_as(tenant_a["sales"])
    r = post(c, f"/w/{tenant_a.slug}/sales/contracts/{cid}/submit")
    assert r.status_code == 302
    r.close()  # the server has sent the response: what was deferred runs now
    to = sorted(m[0] for m in outbox)
    assert to == sorted(tenant_a[role].email for role in ("owner", "admin", "sales_manager"))
    assert all(f"/w/{tenant_a.slug}/sales/contracts/{cid}" in body for _to, _s, body in outbox)
    assert all(body.split("\n")[-1].endswith("/account/profile") for _to, _s, body in outbox)


def test_a_rolled_back_notification_is_not_e_mailed(app, tenant_a, outbox):
    with app.test_request_context(), in_tenant(app, tenant_a.id):
        m = db.session.get(Membership, tenant_a["sales"].id)
        notify(m, "report.reminder", "Submit your weekly report")
        db.session.rollback()
        deferred = g.pop("_after_response", [])
    assert len(deferred) == 1 and outbox == []
    deferred[0]()
    assert outbox == []


def test_the_mail_is_in_the_recipients_language(app, tenant_a, outbox):
    with in_tenant(app, tenant_a.id):
        db.session.get(User, tenant_a["sales"].user_id).locale = "zh_Hans_CN"
        db.session.get(User, tenant_a["finance"].user_id).locale = "en"
        db.session.commit()
    for role in ("sales", "finance"):
        _notify_in_job(app, tenant_a[role], kind="announcement.published", title=_l("Time zone"))
    by_to = {to: subject for to, subject, _b in outbox}
    assert by_to[tenant_a["sales"].email] == f"[{tenant_a.name}] {translated(app, 'Time zone')}"
    assert by_to[tenant_a["finance"].email] == f"[{tenant_a.name}] Time zone"


def _profile_form(client) -> dict:
    import re

    page = text_of(client.get("/account/profile"))
    checked = re.search(r'<input[^>]*id="notify_by_mail"[^>]*>', page).group(0)
    return {"page": page, "checked": "checked" in checked}


def test_opt_out_on_the_profile_stops_the_mail_but_not_the_bell(app, tenant_a, client_as, outbox):
    rep = tenant_a["sales"]
    c = client_as(rep)
    assert _profile_form(c)["checked"] is True
    r = post(c, "/account/profile", {"name": rep.name, "locale": "", "timezone": "Asia/Shanghai"})
    assert r.status_code == 302
    assert _profile_form(c)["checked"] is False
    with in_tenant(app, tenant_a.id):
        assert db.session.get(Tenant, tenant_a.id).settings["mail_optout"] == [rep.id]
    _notify_in_job(app, rep)
    assert outbox == []
    assert len(_notes(app, rep, "pool.warning")) == 1
    _notify_in_job(app, tenant_a["finance"], kind="report.comment")  # others still get theirs
    assert [m[0] for m in outbox] == [tenant_a["finance"].email]
    post(c, "/account/profile", {"name": rep.name, "locale": "", "timezone": "Asia/Shanghai", "notify_by_mail": "y"})
    assert _profile_form(c)["checked"] is True
    _notify_in_job(app, rep)
    assert [m[0] for m in outbox][-1] == rep.email


def test_opt_out_applies_in_every_workspace_of_the_person(app, tenant_a, tenant_b, client_as, outbox):
    from tests import factories

    rep = tenant_a["sales"]
    with in_tenant(app, tenant_b.id):
        other = factories.make_member(tenant_b.id, db.session.get(User, rep.user_id), ["sales"])
        db.session.commit()
        other_id = other.id
    c = client_as(rep)
    post(c, "/account/profile", {"name": rep.name, "locale": "", "timezone": "Asia/Shanghai"})
    with in_tenant(app, tenant_b.id):
        assert db.session.get(Tenant, tenant_b.id).settings["mail_optout"] == [other_id]
        notify(db.session.get(Membership, other_id), "pool.warning", "x")
        db.session.commit()
    assert outbox == []


def test_email_false_overrides_the_kind(app, tenant_a, outbox):
    _notify_in_job(app, tenant_a["sales"], email=False)
    assert outbox == []
    _notify_in_job(app, tenant_a["sales"], kind="custom.kind", email=True)
    assert len(outbox) == 1


def test_a_deactivated_member_gets_no_mail(app, tenant_a, outbox):
    with in_tenant(app, tenant_a.id):
        db.session.get(Membership, tenant_a["sales"].id).is_active = False
        db.session.commit()
    _notify_in_job(app, tenant_a["sales"])
    assert outbox == []
