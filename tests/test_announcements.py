"""Office → Announcements (公告): audience, scheduling, expiry, unread marks, read receipts and
reminders, the acknowledgement stop, attachments, XSS, both languages, statement counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.announcements import services
from crm.announcements.models import Announcement
from crm.attachments.models import Attachment
from crm.audit.models import AuditEntry
from crm.db import db, utcnow
from tests import announcement_factories as af
from tests.helpers import html_lang, in_tenant, post, text_of, translated
from tests.test_markdown import PAYLOADS, elements

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def url(tenant, tail: str = "") -> str:
    return f"/w/{tenant.slug}/office/announcements{tail}"


def _ids_in_feed(html: str) -> set[int]:
    return {int(x) for x in re.findall(r"/office/announcements/(\d+)\"", html)}


def _members_of(app, tenant, ann_id: int) -> list[int]:
    with in_tenant(app, tenant.id):
        ann = db.session.get(Announcement, ann_id)
        return [m.id for m in services.audience_members(ann)]


# ================================================================ writing through the UI


def test_admin_posts_a_scheduled_role_targeted_announcement_with_an_attachment(app, tenant_a, client_as):
    admin, rep, fin = tenant_a["admin"], tenant_a["sales"], tenant_a["finance"]
    c = client_as(admin)
    r = post(
        c, url(tenant_a, "/new"),
        {"title": "销售季度会议", "category": "event", "body": "周五 **下午三点**，三楼会议室。",
         "audience_roles": ["sales", "sales_manager"], "publish_at": "2099-01-05T09:00",
         "attachment": (__import__("io").BytesIO(b"agenda\n"), "agenda.txt")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert r.status_code == 302, text_of(r)[:800]
    ann_id = int(r.headers["Location"].rsplit("/", 1)[-1])
    with in_tenant(app, tenant_a.id):
        ann = db.session.get(Announcement, ann_id)
        # 09:00 in Asia/Shanghai (the admin's time zone) is 01:00 UTC.
        assert (ann.publish_at.hour, ann.publish_at.minute, ann.audience_roles) == (1, 0, ["sales", "sales_manager"])
        assert ann.notified_at is None
        files = db.session.scalars(select(Attachment).where(Attachment.owner_type == "announcement")).all()
        assert [f.filename for f in files] == ["agenda.txt"]
        file_id = files[0].id
    # Scheduled: nobody sees it or its file yet; the admin sees it as scheduled in "all".
    rep_client = client_as(rep)
    assert ann_id not in _ids_in_feed(text_of(rep_client.get(url(tenant_a))))
    assert rep_client.get(url(tenant_a, f"/{ann_id}")).status_code == 404
    assert rep_client.get(f"/w/{tenant_a.slug}/files/{file_id}").status_code == 404
    page = text_of(c.get(url(tenant_a, "?all=1")))
    assert ann_id in _ids_in_feed(page) and "Scheduled" in page
    assert af.notes(app, rep, "announcement.published") == []
    # Its time comes: the scheduler publishes it, the sales roles are notified once, finance never.
    af.shift(app, tenant_a.id, ann_id, publish_at=utcnow() - timedelta(minutes=1))
    assert af.publish_due(app, tenant_a.id) == 1
    assert af.publish_due(app, tenant_a.id) == 0
    assert af.notes(app, rep, "announcement.published") == [af.published_title(app, "销售季度会议")]
    expected = [af.published_title(app, "销售季度会议")]
    assert af.notes(app, tenant_a["sales_manager"], "announcement.published") == expected
    assert af.notes(app, fin, "announcement.published") == []
    assert ann_id in _ids_in_feed(text_of(rep_client.get(url(tenant_a))))
    dl = rep_client.get(f"/w/{tenant_a.slug}/files/{file_id}")
    assert dl.status_code == 200 and dl.data == b"agenda\n"
    assert client_as(fin).get(f"/w/{tenant_a.slug}/files/{file_id}").status_code == 404
    # The admin's receipts: the audience, split into read / not read.
    assert rep_client.get(url(tenant_a, f"/{ann_id}")).status_code == 200
    receipts = text_of(c.get(url(tenant_a, f"/{ann_id}/receipts")))
    read_part, unread_part = receipts.split('data-testid="receipts-unread"')
    assert rep.name in read_part and tenant_a["sales_manager"].name in unread_part
    assert fin.name not in receipts


def test_invalid_form_changes_nothing_and_shows_the_error_beside_the_field(app, tenant_a, client_as):
    c = client_as(tenant_a["admin"])
    r = post(c, url(tenant_a, "/new"), {"title": "x", "category": "general", "publish_at": "2099-01-05T09:00",
                                         "expires_at": "2099-01-04T09:00"})  # fmt: skip
    assert r.status_code == 400
    assert 'id="expires_at-error"' in text_of(r) and "must expire after" in text_of(r)
    r = post(c, url(tenant_a, "/new"), {"title": "x", "attachment": (__import__("io").BytesIO(b"MZ\x00\x01"),
                                        "tool.exe")}, content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 400 and 'id="attachment-error"' in text_of(r)
    with in_tenant(app, tenant_a.id):
        assert db.session.scalars(select(Announcement)).all() == []


def test_edit_and_delete_are_audited_and_delete_removes_the_files(app, tenant_a, client_as):
    owner = tenant_a["owner"]
    ann_id = af.announcement(app, owner, "旧标题", files=[("a.txt", af.TXT)])
    c = client_as(owner)
    r = post(c, url(tenant_a, f"/{ann_id}/edit"), {"title": "新标题", "category": "policy", "body": "正文"})
    assert r.status_code == 302
    assert post(c, url(tenant_a, f"/{ann_id}/delete")).status_code == 302
    with in_tenant(app, tenant_a.id):
        assert db.session.get(Announcement, ann_id) is None
        assert db.session.scalars(select(Attachment)).all() == []
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("announcement.%"))).all()
    assert {"announcement.created", "announcement.updated", "announcement.deleted"} <= set(actions)


# ================================================================ who sees what, and when


def test_scheduled_announcement_is_hidden_until_publish_at_then_notified_once(app, tenant_a):
    admin, rep = tenant_a["admin"], tenant_a["sales"]
    now = utcnow()
    ann_id = af.announcement(app, admin, "下周停电", now=now, publish_at=now + timedelta(hours=2))
    with in_tenant(app, tenant_a.id):
        row = db.session.get(type(db.session.get(Announcement, ann_id).author), rep.id)
        assert [i.announcement.id for i in services.feed(row, now)] == []
        assert [i.announcement.id for i in services.feed(row, now + timedelta(hours=3))] == [ann_id]
        assert services.publish_due(now + timedelta(hours=1)) == 0
        assert services.publish_due(now + timedelta(hours=2)) == 1
        assert services.publish_due(now + timedelta(hours=3)) == 0
        db.session.commit()
    # Everyone but the author is told, once.
    assert af.notes(app, rep, "announcement.published") == [af.published_title(app, "下周停电")]
    assert af.notes(app, tenant_a["finance"], "announcement.published") == [af.published_title(app, "下周停电")]
    assert af.notes(app, admin, "announcement.published") == []


def test_immediate_announcement_notifies_its_audience_at_once(app, tenant_a):
    af.announcement(app, tenant_a["owner"], "财务报销新规", audience_roles=["finance"])
    assert af.notes(app, tenant_a["finance"], "announcement.published") == [af.published_title(app, "财务报销新规")]
    assert af.notes(app, tenant_a["sales"], "announcement.published") == []


def test_audience_by_role(app, tenant_a, client_as):
    ann_id = af.announcement(app, tenant_a["owner"], "销售专用", audience_roles=["sales"])
    everyone_id = af.announcement(app, tenant_a["owner"], "全员通知")
    rep, fin = client_as(tenant_a["sales"]), client_as(tenant_a["finance"])
    assert _ids_in_feed(text_of(rep.get(url(tenant_a)))) == {ann_id, everyone_id}
    assert _ids_in_feed(text_of(fin.get(url(tenant_a)))) == {everyone_id}
    assert fin.get(url(tenant_a, f"/{ann_id}")).status_code == 404
    assert _members_of(app, tenant_a, ann_id) == [tenant_a["sales"].id]


def test_expired_announcement_leaves_the_feed(app, tenant_a, client_as):
    ann_id = af.announcement(app, tenant_a["owner"], "已过期", expires_at=utcnow() + timedelta(hours=1))
    rep = client_as(tenant_a["sales"])
    assert ann_id in _ids_in_feed(text_of(rep.get(url(tenant_a))))
    af.shift(app, tenant_a.id, ann_id, expires_at=utcnow() - timedelta(seconds=1))
    assert ann_id not in _ids_in_feed(text_of(rep.get(url(tenant_a))))
    assert rep.get(url(tenant_a, f"/{ann_id}")).status_code == 404
    # Managers still find it under "all", marked expired.
    page = text_of(client_as(tenant_a["admin"]).get(url(tenant_a, "?all=1")))
    assert ann_id in _ids_in_feed(page) and "Expired" in page


def test_feed_puts_pinned_first_then_newest_and_filters_by_category(app, tenant_a, client_as):
    now = utcnow()
    old_pinned = af.announcement(app, tenant_a["owner"], "置顶", pinned=True, publish_at=now - timedelta(days=3))
    older = af.announcement(app, tenant_a["owner"], "较早", category="holiday", publish_at=now - timedelta(days=2))
    newer = af.announcement(app, tenant_a["owner"], "较新", publish_at=now - timedelta(days=1))
    html = text_of(client_as(tenant_a["sales"]).get(url(tenant_a)))
    order = [int(x) for x in re.findall(r"/office/announcements/(\d+)\"", html)]
    assert order == [old_pinned, newer, older]
    html = text_of(client_as(tenant_a["sales"]).get(url(tenant_a, "?category=holiday")))
    assert _ids_in_feed(html) == {older}


# ================================================================ unread, read on open, receipts


def test_unread_count_in_the_megaphone_and_opening_marks_read(app, tenant_a, client_as):
    first = af.announcement(app, tenant_a["owner"], "第一条")
    af.announcement(app, tenant_a["owner"], "第二条")
    rep = client_as(tenant_a["sales"])
    home = text_of(rep.get(f"/w/{tenant_a.slug}/"))
    assert 'data-testid="megaphone"' in home and url(tenant_a, "/unread") in home
    assert re.search(r'data-testid="announcement-unread">2<', text_of(rep.get(url(tenant_a, "/unread"))))
    assert text_of(rep.get(url(tenant_a))).count('data-unread="1"') == 2
    assert af.copy_of(app, tenant_a["sales"], first) is None
    assert rep.get(url(tenant_a, f"/{first}")).status_code == 200
    assert af.copy_of(app, tenant_a["sales"], first).read_at is not None
    assert re.search(r'data-testid="announcement-unread">1<', text_of(rep.get(url(tenant_a, "/unread"))))
    assert text_of(rep.get(url(tenant_a))).count('data-unread="1"') == 1
    # Someone else's count is theirs alone.
    assert re.search(r">2<", text_of(client_as(tenant_a["finance"]).get(url(tenant_a, "/unread"))))


def test_manager_previewing_an_announcement_not_for_them_leaves_no_read_mark(app, tenant_a, client_as):
    ann_id = af.announcement(app, tenant_a["owner"], "仅财务", audience_roles=["finance"])
    assert client_as(tenant_a["admin"]).get(url(tenant_a, f"/{ann_id}")).status_code == 200
    assert af.copy_of(app, tenant_a["admin"], ann_id) is None


def test_remind_notifies_only_those_who_have_not_read(app, tenant_a, client_as):
    ann_id = af.announcement(app, tenant_a["owner"], "请阅读", audience_roles=["sales", "finance"])
    client_as(tenant_a["sales"]).get(url(tenant_a, f"/{ann_id}"))
    admin = client_as(tenant_a["admin"])
    page = text_of(admin.get(url(tenant_a, f"/{ann_id}/receipts")))
    assert "1 of 2 have read it." in page
    r = post(admin, url(tenant_a, f"/{ann_id}/remind"))
    assert r.status_code == 302
    assert "Reminded 1 member." in text_of(admin.get(r.headers["Location"]))
    reminder = translated(app, "Reminder: please read “%(title)s”") % {"title": "请阅读"}
    assert af.notes(app, tenant_a["finance"], "announcement.reminder") == [reminder]
    assert af.notes(app, tenant_a["sales"], "announcement.reminder") == []
    assert af.copy_of(app, tenant_a["finance"], ann_id).reminded_at is not None
    assert af.copy_of(app, tenant_a["finance"], ann_id).read_at is None


def test_reminding_a_scheduled_announcement_is_refused(app, tenant_a, client_as):
    ann_id = af.announcement(app, tenant_a["owner"], "未发布", publish_at=utcnow() + timedelta(days=1))
    admin = client_as(tenant_a["admin"])
    r = post(admin, url(tenant_a, f"/{ann_id}/remind"), follow_redirects=True)
    assert "Only a published announcement" in text_of(r)
    assert af.notes(app, tenant_a["sales"], "announcement.reminder") == []


# ================================================================ acknowledgement


def test_acknowledgement_stops_the_member_until_they_confirm(app, tenant_a, client_as):
    ann_id = af.announcement(app, tenant_a["owner"], "安全制度", requires_ack=True, audience_roles=["sales"])
    rep = client_as(tenant_a["sales"])
    target = f"/w/{tenant_a.slug}/sales/customers?q=abc"
    r = rep.get(target)
    assert r.status_code == 302
    assert r.headers["Location"].startswith(url(tenant_a, f"/{ann_id}/acknowledge"))
    ack_page = rep.get(r.headers["Location"])
    assert ack_page.status_code == 200 and "I have read it" in text_of(ack_page)
    assert rep.get(f"/w/{tenant_a.slug}/").status_code == 302  # every page, until confirmed
    # Not stopped: htmx fragments, the API, POSTs, members outside the audience.
    assert rep.get(url(tenant_a, "/unread"), headers={"HX-Request": "true"}).status_code == 200
    assert client_as(tenant_a["finance"]).get(f"/w/{tenant_a.slug}/").status_code == 200
    # Confirming (POST, CSRF) records the time and returns the member where they were.
    assert rep.post(url(tenant_a, f"/{ann_id}/acknowledge"), data={"next": target}).status_code == 400  # no CSRF
    r = post(rep, url(tenant_a, f"/{ann_id}/acknowledge"), {"next": target})
    assert r.status_code == 302 and r.headers["Location"] == target
    assert af.copy_of(app, tenant_a["sales"], ann_id).acknowledged_at is not None
    assert rep.get(target).status_code == 200
    with in_tenant(app, tenant_a.id):
        assert "announcement.acknowledged" in db.session.scalars(select(AuditEntry.action)).all()


def test_acknowledgement_goes_oldest_first_and_never_to_an_outside_next(app, tenant_a, client_as):
    now = utcnow()
    old = af.announcement(app, tenant_a["owner"], "旧", requires_ack=True, publish_at=now - timedelta(days=2))
    new = af.announcement(app, tenant_a["owner"], "新", requires_ack=True, publish_at=now - timedelta(days=1))
    rep = client_as(tenant_a["sales"])
    assert f"/{old}/acknowledge" in rep.get(f"/w/{tenant_a.slug}/").headers["Location"]
    r = post(rep, url(tenant_a, f"/{old}/acknowledge"), {"next": "https://evil.example/"})
    assert r.headers["Location"].endswith(url(tenant_a))
    assert f"/{new}/acknowledge" in rep.get(f"/w/{tenant_a.slug}/").headers["Location"]


def test_scheduled_or_expired_acknowledgements_do_not_stop_anyone(app, tenant_a, client_as):
    now = utcnow()
    af.announcement(app, tenant_a["owner"], "未来", requires_ack=True, publish_at=now + timedelta(days=1))
    gone = af.announcement(app, tenant_a["owner"], "过去", requires_ack=True, expires_at=now + timedelta(hours=1))
    af.shift(app, tenant_a.id, gone, expires_at=now - timedelta(hours=1))
    assert client_as(tenant_a["sales"]).get(f"/w/{tenant_a.slug}/").status_code == 200


def test_acknowledgement_stop_costs_one_statement_however_many_announcements(app, tenant_a, client_as, count_queries):
    rep = client_as(tenant_a["sales"])
    page = f"/w/{tenant_a.slug}/"
    assert rep.get(page).status_code == 200
    with count_queries() as none:
        assert rep.get(page).status_code == 200
    for i in range(15):
        ann = af.announcement(app, tenant_a["owner"], f"确认{i}", requires_ack=True)
        post(rep, url(tenant_a, f"/{ann}/acknowledge"))
        af.announcement(app, tenant_a["owner"], f"财务确认{i}", requires_ack=True, audience_roles=["finance"])
    with count_queries() as many:
        assert rep.get(page).status_code == 200
    assert none.count == many.count, "\n".join(many.statements)
    assert sum("announcement" in s for s in many.statements) == 1


# ================================================================ XSS


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_payloads_are_neutralised_on_the_page(app, tenant_a, client_as, payload):
    admin = client_as(tenant_a["admin"])
    r = post(admin, url(tenant_a, "/new"), {"title": payload[:200], "category": "general", "body": payload})
    assert r.status_code == 302
    ann_id = int(r.headers["Location"].rsplit("/", 1)[-1])
    for page in (url(tenant_a, f"/{ann_id}"), url(tenant_a), f"/w/{tenant_a.slug}/office/"):
        html = text_of(client_as(tenant_a["sales"]).get(page))
        if "<" in payload:
            assert payload not in html, page  # the title comes back escaped, never as markup
        for tag, attrs in elements(html):
            # The page's own markup: scripts from /static, Bootstrap icons as inline <svg class="bi">.
            if tag == "script":
                assert (attrs.get("src") or "").startswith(("/static/", "/bootstrap/static/")), (page, payload, attrs)
            if tag == "svg":
                assert "bi" in (attrs.get("class") or "").split(), (page, payload, attrs)
            assert tag not in {"iframe", "style", "math", "details", "object", "embed"}, (page, payload, tag)
            assert not any(name.startswith("on") or name == "style" for name in attrs), (page, payload, attrs)
            for name in ("href", "src", "xlink:href"):
                value = (attrs.get(name) or "").strip().lower()
                assert not value.startswith(("javascript:", "vbscript:", "data:", "//")), (page, payload, value)
                if tag == "img" and name == "src" and value:
                    assert value.startswith("/"), (page, payload, value)


# ================================================================ the Office dashboard, languages, counts


def test_office_dashboard_shows_pinned_and_latest_with_unread_markers(app, tenant_a, client_as):
    rep = client_as(tenant_a["sales"])
    empty = text_of(rep.get(f"/w/{tenant_a.slug}/office/"))
    assert "No announcements yet" in empty
    pinned = af.announcement(app, tenant_a["owner"], "置顶制度", pinned=True)
    latest = af.announcement(app, tenant_a["owner"], "最新消息")
    rep.get(url(tenant_a, f"/{pinned}"))
    html = text_of(rep.get(f"/w/{tenant_a.slug}/office/"))
    card = html.split('data-testid="office-announcements"', 1)[1]
    assert card.index("置顶制度") < card.index("最新消息")
    assert card.count('data-unread="1"') == 1 and "1 unread" in card
    assert f"/office/announcements/{latest}" in card


@pytest.mark.parametrize(("accept", "lang"), [("en", "en"), ("zh-CN", "zh")])
def test_pages_render_in_both_languages(app, tenant_a, client_as, accept, lang):
    ann_id = af.announcement(app, tenant_a["owner"], "双语公告", requires_ack=True, audience_roles=["sales"])
    admin = client_as(tenant_a["admin"], Accept_Language=accept)
    rep = client_as(tenant_a["sales"], Accept_Language=accept)
    for c, page in [(rep, url(tenant_a, f"/{ann_id}/acknowledge")), (admin, url(tenant_a)),
                    (admin, url(tenant_a, "/new")), (admin, url(tenant_a, f"/{ann_id}/receipts")),
                    (admin, url(tenant_a, f"/{ann_id}/edit")), (admin, f"/w/{tenant_a.slug}/office/")]:  # fmt: skip
        r = c.get(page)
        assert r.status_code == 200, page
        assert (html_lang(text_of(r)) or "").startswith(lang), page


@pytest.mark.parametrize("page", ["", "/{id}", "/{id}/receipts", "/unread", "OFFICE"])
def test_pages_issue_a_constant_number_of_statements(app, tenant_a, client_as, count_queries, page):
    admin = client_as(tenant_a["admin"])
    first = af.announcement(app, tenant_a["owner"], "第0条", files=[("a.txt", af.TXT)])
    target = f"/w/{tenant_a.slug}/office/" if page == "OFFICE" else url(tenant_a, page.format(id=first))
    assert admin.get(target).status_code == 200
    with count_queries() as small:
        assert admin.get(target).status_code == 200
    for i in range(1, 20):
        af.announcement(app, tenant_a["owner"], f"第{i}条", pinned=i % 4 == 0, files=[("b.txt", af.TXT)],
                        audience_roles=["sales"] if i % 2 else [])  # fmt: skip
        client_as(tenant_a["sales"]).get(url(tenant_a, f"/{first + i}"))
    with count_queries() as large:
        assert admin.get(target).status_code == 200
    assert small.count == large.count, "\n".join(large.statements)
    assert large.count <= 25


def test_each_member_is_notified_in_their_own_language(app, tenant_a):
    from tenants.models import User

    with in_tenant(app, tenant_a.id):
        db.session.get(User, tenant_a["sales"].user_id).locale = "en"
        db.session.commit()
    af.announcement(app, tenant_a["admin"], "年终总结会")
    assert af.notes(app, tenant_a["sales"], "announcement.published") == ["Announcement: 年终总结会"]
    assert af.notes(app, tenant_a["finance"], "announcement.published") == [af.published_title(app, "年终总结会")]
