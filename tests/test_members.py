"""Members and invitations: invite, accept, roles, managers, deactivation, owners, ownership."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.db import db, utcnow
from tenants.models import Invitation, Membership, User
from tests import factories
from tests.helpers import in_tenant, login, post, text_of

LINK = re.compile(r"http://localhost(/invitations/[A-Za-z0-9_.\-]+)")


def _members(app, tenant_id):
    with in_tenant(app, tenant_id):
        return {m.user.email: m for m in db.session.scalars(select(Membership))}


def _member(app, m: factories.MemberInfo) -> dict:
    with in_tenant(app, m.tenant_id):
        row = db.session.get(Membership, m.id)
        return {
            "roles": list(row.roles),
            "reports_to_id": row.reports_to_id,
            "is_active": row.is_active,
            "title": row.title,
        }


def _audit(app, tenant_id, action):
    with in_tenant(app, tenant_id):
        return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def _invite(client, slug, email, roles=("sales",), reports_to=""):
    return post(
        client, f"/w/{slug}/settings/members/invite", {"email": email, "roles": list(roles), "reports_to": reports_to}
    )


@pytest.fixture
def owner_client(client, tenant_a):
    login(client, tenant_a["owner"].email)
    return client


# ---------------------------------------------------------------- invitations


def test_invite_shows_the_link_when_mail_is_not_configured(app, owner_client, tenant_a):
    r = _invite(
        owner_client, tenant_a.slug, "New.Person@Alpha.example.com", reports_to=str(tenant_a["sales_manager"].id)
    )
    assert r.status_code == 200
    page = text_of(r)
    m = LINK.search(page)
    assert m, "the invitation link must be shown when mail is not configured"
    assert "Mail is not configured" in page
    with in_tenant(app, tenant_a.id):
        inv = db.session.scalars(select(Invitation)).one()
        assert inv.email == "new.person@alpha.example.com"
        assert inv.roles == ["sales"] and inv.reports_to_id == tenant_a["sales_manager"].id
        assert m.group(1).split("/")[-1] not in inv.token_hash, "only the hash is stored"
    assert [e.summary for e in _audit(app, tenant_a.id, "invitation.created")] == ["new.person@alpha.example.com"]


def test_invite_is_mailed_over_smtp_when_configured(make_app, tenant_a, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout=None):
            self.host, self.port = host, port

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            self.tls = True

        def login(self, user, password):
            self.auth = (user, password)

        def send_message(self, msg):
            sent.append((self.host, self.port, getattr(self, "tls", False), getattr(self, "auth", None), msg))

    monkeypatch.setattr("crm.mail.smtplib.SMTP", FakeSMTP)
    app = make_app(MAIL_SERVER="smtp.example.com", MAIL_PORT=2525, MAIL_USERNAME="bot", MAIL_PASSWORD="pw")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, tenant_a["admin"].email)
    r = _invite(client, tenant_a.slug, "mailed@alpha.example.com", roles=("finance",))
    assert r.status_code == 302, "with mail configured the page does not need to show the link"
    assert len(sent) == 1
    host, port, tls, auth, msg = sent[0]
    assert (host, port, tls, auth) == ("smtp.example.com", 2525, True, ("bot", "pw"))
    assert msg["To"] == "mailed@alpha.example.com"
    body = msg.get_content()
    link = LINK.search(body)
    assert link and tenant_a.name in msg["Subject"] + body
    # The mailed link works.
    newcomer = app.test_client()
    assert newcomer.get(link.group(1)).status_code == 200


def _fresh_link(app, tenant, role="owner", email="invitee@example.com", roles=("sales",), reports_to=None):
    with in_tenant(app, tenant.id):
        actor = db.session.get(Membership, tenant[role].id)
        from tenants.services import create_invitation

        inv, token = create_invitation(email, list(roles), actor, reports_to, 24)
        db.session.commit()
        return inv.id, f"/invitations/{token}"


def test_accept_invitation_as_a_new_person(app, tenant_a):
    _iid, link = _fresh_link(
        app, tenant_a, email="xin@example.com", roles=("sales",), reports_to=tenant_a["sales_manager"].id
    )
    c = app.test_client()
    page = c.get(link)
    assert page.status_code == 200 and "xin@example.com" in text_of(page)
    r = post(c, link, {"name": "新同事", "password": "short"})
    assert r.status_code == 200
    assert "xin@example.com" not in _members(app, tenant_a.id)
    r = post(c, link, {"name": "新同事", "password": "a-fine-new-password"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/w/{tenant_a.slug}/")
    assert c.get(f"/w/{tenant_a.slug}/").status_code == 200
    m = _members(app, tenant_a.id)["xin@example.com"]
    assert m.roles == ["sales"] and m.reports_to_id == tenant_a["sales_manager"].id and m.user.name == "新同事"
    assert _audit(app, tenant_a.id, "member.joined")
    # The link is spent.
    again = app.test_client()
    assert again.get(link).status_code == 404


def test_accept_invitation_as_an_existing_person_signed_in(app, tenant_a, tenant_b, client_as):
    person = tenant_b["finance"]
    _iid, link = _fresh_link(app, tenant_a, email=person.email.upper(), roles=("finance", "sales"))
    c = client_as(person)
    assert c.get(link).status_code == 200
    r = post(c, link)
    assert r.status_code == 302
    assert c.get(f"/w/{tenant_a.slug}/finance/").status_code == 200
    assert c.get(f"/w/{tenant_b.slug}/").status_code == 200, "still a member of their own workspace"
    m = _members(app, tenant_a.id)[person.email]
    assert sorted(m.roles) == ["finance", "sales"]
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.email == person.email)) == 1


def test_existing_person_not_signed_in_must_sign_in_first(app, tenant_a, tenant_b):
    person = tenant_b["sales"]
    _iid, link = _fresh_link(app, tenant_a, email=person.email)
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = text_of(c.get(link))
    assert "Sign in" in page
    r = post(c, link, {"name": "Impostor", "password": "whatever-password"})
    assert r.status_code == 200
    assert person.email not in _members(app, tenant_a.id)
    with app.app_context():
        assert db.session.get(User, person.user_id).name == "Ben Sales"
    r = post(c, f"/login?next={link}", {"email": person.email, "password": factories.PASSWORD})
    assert r.headers["Location"].endswith(link)
    assert post(c, link).status_code == 302
    assert person.email in _members(app, tenant_a.id)


def test_wrong_signed_in_person_cannot_accept(app, tenant_a, client_as):
    iid, link = _fresh_link(app, tenant_a, email="someone.else@example.com")
    c = client_as(tenant_a["admin"])
    r = c.get(link)
    assert r.status_code == 200 and "this invitation is for someone.else@example.com" in text_of(r)
    assert post(c, link).status_code == 200
    assert post(c, link, {"name": "x", "password": "a-fine-new-password"}).status_code == 200
    with in_tenant(app, tenant_a.id):
        inv = db.session.get(Invitation, iid)
        assert inv.status == "pending"
        assert db.session.get(Membership, tenant_a["admin"].id).roles == ["admin"]
    with app.app_context():
        assert db.session.scalars(select(User).where(User.email == "someone.else@example.com")).first() is None


@pytest.mark.parametrize("state", ["expired", "revoked", "used", "tampered", "garbage", "other-tenant"])
def test_invalid_invitation_links_show_the_invalid_page(app, tenant_a, tenant_b, state):
    iid, link = _fresh_link(app, tenant_a, email="late@example.com")
    with in_tenant(app, tenant_a.id):
        inv = db.session.get(Invitation, iid)
        if state == "expired":
            inv.expires_at = utcnow() - timedelta(seconds=1)
        elif state == "revoked":
            inv.revoked_at = utcnow()
        elif state == "used":
            inv.accepted_at = utcnow()
        db.session.commit()
    if state == "tampered":
        link = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    elif state == "garbage":
        link = "/invitations/not-a-token"
    elif state == "other-tenant":
        _t, i, secret = link.removeprefix("/invitations/").split(".", 2)
        link = f"/invitations/{tenant_b.id}.{i}.{secret}"
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    r = c.get(link)
    assert r.status_code == 404
    assert "This invitation is not valid" in text_of(r)
    r = post(c, link, {"name": "Late", "password": "a-fine-new-password"})
    assert r.status_code == 404
    with app.app_context():
        assert db.session.scalars(select(User).where(User.email == "late@example.com")).first() is None


def test_revoking_an_invitation_from_the_members_page(app, owner_client, tenant_a):
    iid, link = _fresh_link(app, tenant_a, email="withdrawn@example.com")
    r = post(owner_client, f"/w/{tenant_a.slug}/settings/members/invitations/{iid}/revoke")
    assert r.status_code == 302
    assert app.test_client().get(link).status_code == 404
    assert _audit(app, tenant_a.id, "invitation.revoked")


def test_a_new_invitation_replaces_the_old_link(app, owner_client, tenant_a):
    first = LINK.search(text_of(_invite(owner_client, tenant_a.slug, "twice@example.com"))).group(1)
    second = LINK.search(text_of(_invite(owner_client, tenant_a.slug, "twice@example.com"))).group(1)
    c = app.test_client()
    assert c.get(first).status_code == 404
    assert c.get(second).status_code == 200


def test_inviting_an_active_member_is_refused(app, owner_client, tenant_a):
    r = _invite(owner_client, tenant_a.slug, tenant_a["sales"].email)
    assert r.status_code == 400
    assert "already a member" in text_of(r)
    with in_tenant(app, tenant_a.id):
        assert db.session.scalar(select(func.count(Invitation.id))) == 0


def test_only_an_owner_can_invite_an_owner(app, client_as, tenant_a):
    admin = client_as(tenant_a["admin"])
    r = _invite(admin, tenant_a.slug, "boss@example.com", roles=("owner",))
    assert r.status_code == 400 and "Only an owner" in text_of(r)
    owner = client_as(tenant_a["owner"])
    assert _invite(owner, tenant_a.slug, "boss@example.com", roles=("owner",)).status_code == 200


def test_invite_refuses_unknown_roles_and_foreign_managers(app, owner_client, tenant_a, tenant_b):
    r = _invite(owner_client, tenant_a.slug, "x@example.com", roles=("emperor",))
    assert r.status_code == 400
    r = _invite(owner_client, tenant_a.slug, "x@example.com", reports_to=str(tenant_b["owner"].id))
    assert r.status_code == 400
    with in_tenant(app, tenant_a.id):
        assert db.session.scalar(select(func.count(Invitation.id))) == 0


# ---------------------------------------------------------------- roles and managers


def _edit(client, tenant, member, roles, reports_to="", title=""):
    return post(
        client,
        f"/w/{tenant.slug}/settings/members/{member.id}/edit",
        {"roles": list(roles), "reports_to": str(reports_to or ""), "title": title},
    )


def test_change_roles_and_manager(app, owner_client, tenant_a):
    rep = tenant_a["sales"]
    r = _edit(
        owner_client, tenant_a, rep, ["sales_manager", "finance"], reports_to=tenant_a["owner"].id, title="区域经理"
    )
    assert r.status_code == 302
    assert _member(app, rep) == {
        "roles": ["sales_manager", "finance"],
        "reports_to_id": tenant_a["owner"].id,
        "is_active": True,
        "title": "区域经理",
    }
    (entry,) = _audit(app, tenant_a.id, "member.roles_changed")
    assert entry.changes["roles"] == {"before": ["sales"], "after": ["sales_manager", "finance"]}
    assert entry.member_id == tenant_a["owner"].id and entry.object_id == rep.id


def test_role_change_takes_effect_for_the_member(app, owner_client, tenant_a, client_as):
    rep_client = client_as(tenant_a["sales"])
    assert rep_client.get(f"/w/{tenant_a.slug}/finance/").status_code == 403
    _edit(owner_client, tenant_a, tenant_a["sales"], ["finance"])
    assert rep_client.get(f"/w/{tenant_a.slug}/finance/").status_code == 200
    assert rep_client.get(f"/w/{tenant_a.slug}/sales/").status_code == 403


def test_reporting_loop_is_refused(app, owner_client, tenant_a):
    mgr, rep = tenant_a["sales_manager"], tenant_a["sales"]
    before = _member(app, mgr)
    r = _edit(owner_client, tenant_a, mgr, ["sales_manager"], reports_to=rep.id)
    assert r.status_code == 400
    assert "reporting loop" in text_of(r)
    assert _member(app, mgr) == before
    # Self-reporting is not even offered.
    r = _edit(owner_client, tenant_a, mgr, ["sales_manager"], reports_to=mgr.id)
    assert r.status_code == 400
    assert _member(app, mgr) == before


def test_longer_reporting_loop_is_refused(app, owner_client, tenant_a):
    mgr, rep = tenant_a["sales_manager"], tenant_a["sales"]
    with in_tenant(app, tenant_a.id):
        extra = factories.add_member(tenant_a, "sales", "junior@alpha.example.com", "小王", reports_to=rep.id)
        db.session.commit()
    r = _edit(owner_client, tenant_a, mgr, ["sales_manager"], reports_to=extra.id)
    assert r.status_code == 400 and "reporting loop" in text_of(r)
    assert _member(app, mgr)["reports_to_id"] is None


def test_manager_of_another_workspace_is_refused(app, owner_client, tenant_a, tenant_b):
    r = _edit(owner_client, tenant_a, tenant_a["sales"], ["sales"], reports_to=tenant_b["owner"].id)
    assert r.status_code == 400
    assert _member(app, tenant_a["sales"])["reports_to_id"] == tenant_a["sales_manager"].id


def test_admin_cannot_grant_or_take_owner(app, client_as, tenant_a):
    admin = client_as(tenant_a["admin"])
    r = _edit(admin, tenant_a, tenant_a["sales"], ["owner"])
    assert r.status_code == 400 and "Only an owner" in text_of(r)
    r = _edit(admin, tenant_a, tenant_a["owner"], ["admin"])
    assert r.status_code == 400
    assert _member(app, tenant_a["owner"])["roles"] == ["owner"]
    assert _member(app, tenant_a["sales"])["roles"] == ["sales"]


# ---------------------------------------------------------------- deactivation and owners


def test_deactivated_member_gets_404_there_but_reaches_other_workspaces(
    app, owner_client, tenant_a, tenant_b, client_as
):
    rep = tenant_a["sales"]
    with app.app_context():
        user = db.session.get(User, rep.user_id)
        factories.make_member(tenant_b.id, user, ["sales"])
        db.session.commit()
    rep_client = client_as(rep)
    assert rep_client.get(f"/w/{tenant_a.slug}/").status_code == 200
    r = post(owner_client, f"/w/{tenant_a.slug}/settings/members/{rep.id}/deactivate")
    assert r.status_code == 302
    assert _member(app, rep)["is_active"] is False
    assert rep_client.get(f"/w/{tenant_a.slug}/").status_code == 404
    assert rep_client.get(f"/w/{tenant_b.slug}/").status_code == 200
    page = text_of(rep_client.get("/workspaces"))
    assert tenant_b.name in page and tenant_a.name not in page
    # A fresh sign-in goes straight to the one workspace left.
    fresh = app.test_client()
    assert login(fresh, rep.email).headers["Location"].endswith(f"/w/{tenant_b.slug}/")
    assert _audit(app, tenant_a.id, "member.deactivated")
    # Reactivated, they are back.
    assert post(owner_client, f"/w/{tenant_a.slug}/settings/members/{rep.id}/reactivate").status_code == 302
    assert rep_client.get(f"/w/{tenant_a.slug}/").status_code == 200


def test_cannot_deactivate_yourself(app, owner_client, tenant_a):
    post(owner_client, f"/w/{tenant_a.slug}/settings/members/{tenant_a['owner'].id}/deactivate")
    assert _member(app, tenant_a["owner"])["is_active"] is True
    assert "You cannot deactivate yourself" in text_of(owner_client.get(f"/w/{tenant_a.slug}/settings/members"))


def test_admin_cannot_deactivate_an_owner(app, client_as, tenant_a):
    admin = client_as(tenant_a["admin"])
    post(admin, f"/w/{tenant_a.slug}/settings/members/{tenant_a['owner'].id}/deactivate")
    assert _member(app, tenant_a["owner"])["is_active"] is True


def test_last_active_owner_cannot_be_demoted(app, owner_client, tenant_a):
    r = _edit(owner_client, tenant_a, tenant_a["owner"], ["admin"])
    assert r.status_code == 400
    assert "at least one active owner" in text_of(r)
    assert _member(app, tenant_a["owner"])["roles"] == ["owner"]


def test_an_inactive_second_owner_does_not_count(app, owner_client, tenant_a):
    with in_tenant(app, tenant_a.id):
        factories.add_member(tenant_a, "owner", "old.owner@alpha.example.com", "老板", active=False)
        db.session.commit()
    r = _edit(owner_client, tenant_a, tenant_a["owner"], ["admin"])
    assert r.status_code == 400
    assert _member(app, tenant_a["owner"])["roles"] == ["owner"]


def test_last_active_owner_cannot_be_deactivated(app, tenant_a):
    """The rule in the service, whoever calls it: no deactivation leaves zero active owners."""
    from crm.members.services import MemberRuleBroken, set_active, update_member
    from roles.checks import PermissionDenied

    with in_tenant(app, tenant_a.id):
        second = factories.add_member(tenant_a, "owner", "co.owner@alpha.example.com", "合伙人")
        owner = db.session.get(Membership, tenant_a["owner"].id)
        co = db.session.get(Membership, second.id)
        set_active(owner, co, False)  # two owners: fine
        db.session.flush()
        # The deactivated co-owner can no longer act; the last owner cannot remove themselves.
        with pytest.raises((MemberRuleBroken, PermissionDenied)):
            set_active(co, owner, False)
        with pytest.raises(MemberRuleBroken):
            set_active(owner, owner, False)
        with pytest.raises(MemberRuleBroken):
            update_member(owner, owner, ["admin"], None, None)
        assert owner.is_active and owner.roles == ["owner"]
        db.session.rollback()


def test_with_two_owners_one_may_step_down(app, owner_client, tenant_a):
    with in_tenant(app, tenant_a.id):
        factories.add_member(tenant_a, "owner", "co.owner@alpha.example.com", "合伙人")
        db.session.commit()
    r = _edit(owner_client, tenant_a, tenant_a["owner"], ["admin"])
    assert r.status_code == 302
    assert _member(app, tenant_a["owner"])["roles"] == ["admin"]


def test_ownership_transfer_keeps_an_owner_and_old_owner_becomes_admin(app, owner_client, tenant_a, client_as):
    target = tenant_a["finance"]
    r = post(owner_client, f"/w/{tenant_a.slug}/settings/members/{target.id}/transfer-ownership")
    assert r.status_code == 302
    assert _member(app, target)["roles"] == ["owner", "finance"]
    assert _member(app, tenant_a["owner"])["roles"] == ["admin"]
    assert _audit(app, tenant_a.id, "ownership.transferred")
    # The old owner can no longer transfer; the new one can.
    assert (
        post(owner_client, f"/w/{tenant_a.slug}/settings/members/{tenant_a['sales'].id}/transfer-ownership").status_code
        == 403
    )
    new_owner = client_as(target)
    assert (
        post(new_owner, f"/w/{tenant_a.slug}/settings/members/{tenant_a['owner'].id}/transfer-ownership").status_code
        == 302
    )
    with in_tenant(app, tenant_a.id):
        owners = [m for m in db.session.scalars(select(Membership)) if "owner" in m.roles and m.is_active]
        assert len(owners) >= 1


def test_ownership_cannot_go_to_an_inactive_member(app, owner_client, tenant_a):
    rep = tenant_a["sales"]
    post(owner_client, f"/w/{tenant_a.slug}/settings/members/{rep.id}/deactivate")
    post(owner_client, f"/w/{tenant_a.slug}/settings/members/{rep.id}/transfer-ownership")
    assert _member(app, rep)["roles"] == ["sales"]
    assert _member(app, tenant_a["owner"])["roles"] == ["owner"]


# ---------------------------------------------------------------- search, notifications, export page


def test_search_finds_members_of_this_workspace_only(app, client_as, tenant_a, tenant_b):
    c = client_as(tenant_a["admin"])
    page = text_of(c.get(f"/w/{tenant_a.slug}/search", query_string={"q": "张"}))
    assert "张伟" in page
    page = text_of(c.get(f"/w/{tenant_a.slug}/search", query_string={"q": "Bill"}))
    assert "Bill Manager" not in page
    # LIKE wildcards are literal.
    page = text_of(c.get(f"/w/{tenant_a.slug}/search", query_string={"q": "%"}))
    assert "王建国" not in page
    frag = c.get(f"/w/{tenant_a.slug}/search", query_string={"q": "陈"}, headers={"HX-Request": "true"})
    assert frag.status_code == 200 and "陈静" in text_of(frag) and "<html" not in text_of(frag)


def test_notifications_bell_counts_unread_and_marks_read(app, client_as, tenant_a):
    with in_tenant(app, tenant_a.id):
        rep = db.session.get(Membership, tenant_a["sales"].id)
        from crm.notifications.services import notify

        notify(rep, "test", "客户王总回电了", link=f"/w/{tenant_a.slug}/office/")
        notify(rep, "test", "Second note")
        notify(db.session.get(Membership, tenant_a["owner"].id), "test", "For the owner")
        db.session.commit()
    c = client_as(tenant_a["sales"])
    bell = text_of(c.get(f"/w/{tenant_a.slug}/notifications/bell", headers={"HX-Request": "true"}))
    m = re.search(r'id="bell-unread"[^>]*>\s*<span[^>]*>(\d+)</span>', bell)
    assert m and m.group(1) == "2", bell[:500]
    assert "客户王总回电了" in bell and "For the owner" not in bell
    with in_tenant(app, tenant_a.id):
        from crm.notifications.models import Notification

        first = db.session.scalars(select(Notification.id).where(Notification.title == "客户王总回电了")).one()
    r = post(c, f"/w/{tenant_a.slug}/notifications/{first}/open")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/w/{tenant_a.slug}/office/")
    bell = text_of(c.get(f"/w/{tenant_a.slug}/notifications/bell"))
    assert re.search(r'id="bell-unread"[^>]*>\s*<span[^>]*>1</span>', bell)
    r = post(c, f"/w/{tenant_a.slug}/notifications/read", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert not re.search(r'id="bell-unread"[^>]*>\s*<span', text_of(r))
    owner = client_as(tenant_a["owner"])
    bell = text_of(owner.get(f"/w/{tenant_a.slug}/notifications/bell"))
    assert re.search(r'id="bell-unread"[^>]*>\s*<span[^>]*>1</span>', bell), "marking read touched another member"


def test_notification_link_cannot_redirect_off_site(app, client_as, tenant_a):
    with in_tenant(app, tenant_a.id):
        note = factories.make_notification(
            db.session.get(Membership, tenant_a["sales"].id), "x", link="https://evil.example/"
        )
        db.session.commit()
        note_id = note.id
    c = client_as(tenant_a["sales"])
    r = post(c, f"/w/{tenant_a.slug}/notifications/{note_id}/open")
    assert "evil" not in r.headers["Location"]


def test_cannot_open_a_colleagues_notification(app, client_as, tenant_a):
    with in_tenant(app, tenant_a.id):
        note = factories.make_notification(db.session.get(Membership, tenant_a["owner"].id), "private")
        db.session.commit()
        note_id = note.id
    c = client_as(tenant_a["sales"])
    assert post(c, f"/w/{tenant_a.slug}/notifications/{note_id}/open").status_code == 404
    with in_tenant(app, tenant_a.id):
        from crm.notifications.models import Notification

        assert db.session.get(Notification, note_id).read_at is None


def test_cannot_revoke_a_colleagues_token(app, client_as, tenant_a, token_for):
    plain = token_for(tenant_a["owner"])
    with in_tenant(app, tenant_a.id):
        from crm.api.models import ApiToken

        token_id = db.session.scalars(select(ApiToken.id)).one()
    c = client_as(tenant_a["admin"])
    assert post(c, f"/w/{tenant_a.slug}/account/tokens/{token_id}/revoke").status_code == 404
    assert c.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 200


def test_reinviting_a_deactivated_member_reactivates_them(app, owner_client, tenant_a, client_as):
    rep = tenant_a["sales"]
    rep_client = client_as(rep)
    post(owner_client, f"/w/{tenant_a.slug}/settings/members/{rep.id}/deactivate")
    assert rep_client.get(f"/w/{tenant_a.slug}/").status_code == 404
    r = _invite(owner_client, tenant_a.slug, rep.email, roles=("finance",))
    assert r.status_code == 200
    link = LINK.search(text_of(r)).group(1)
    assert post(rep_client, link).status_code == 302
    assert _member(app, rep)["is_active"] is True and _member(app, rep)["roles"] == ["finance"]
    assert rep_client.get(f"/w/{tenant_a.slug}/finance/").status_code == 200
    assert len(_members(app, tenant_a.id)) == 5, "re-joining must not add a second membership"


def test_revoked_token_stops_working_at_once(app, client_as, tenant_a):
    c = client_as(tenant_a["sales"])
    page = text_of(post(c, f"/w/{tenant_a.slug}/account/tokens", {"name": "script"}))
    plain = re.search(r'id="new-token" value="([^"]+)"', page).group(1)
    api = app.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    with in_tenant(app, tenant_a.id):
        from crm.api.models import ApiToken

        token_id = db.session.scalars(select(ApiToken.id)).one()
    assert post(c, f"/w/{tenant_a.slug}/account/tokens/{token_id}/revoke").status_code == 302
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 401
    assert _audit(app, tenant_a.id, "api_token.revoked")
