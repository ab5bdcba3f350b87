"""/api/v1/announcements: the same audience, scheduling, read, acknowledgement and receipt rules
as the pages; the rendered html field is sanitised."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.db import utcnow
from tests import announcement_factories as af
from tests.helpers import ApiClient, translated
from tests.test_markdown import PAYLOADS, elements


@pytest.fixture
def api(client, token_for):
    return lambda member: ApiClient(client, token_for(member), "/api/v1/announcements")


def _ids(resp) -> list[int]:
    return [a["id"] for a in resp.get_json()["items"]]


def test_manager_creates_a_scheduled_role_targeted_announcement(app, tenant_a, api):
    admin, rep, fin = api(tenant_a["admin"]), api(tenant_a["sales"]), api(tenant_a["finance"])
    when = (utcnow() + timedelta(hours=2)).isoformat()
    r = admin.post("", {"title": "销售培训", "body": "**周三**培训", "audience_roles": ["sales"], "publish_at": when,
                        "category": "event", "requires_ack": True})  # fmt: skip
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    ann_id = body["id"]
    assert body["status"] == "scheduled" and body["html"] == "<p><strong>周三</strong>培训</p>\n"
    assert _ids(rep.get("")) == [] and rep.get(f"/{ann_id}").status_code == 404
    assert ann_id in _ids(admin.get("?all=1"))
    assert ann_id not in _ids(admin.get(""))  # the admin's own feed: not for admins, not out yet
    af.shift(app, tenant_a.id, ann_id, publish_at=utcnow() - timedelta(seconds=1))
    assert af.publish_due(app, tenant_a.id) == 1
    feed = rep.get("").get_json()
    assert [a["id"] for a in feed["items"]] == [ann_id] and feed["unread"] == 1
    assert _ids(fin.get("")) == [] and fin.get(f"/{ann_id}").status_code == 404
    assert af.notes(app, tenant_a["sales"], "announcement.published") == [af.published_title(app, "销售培训")]


def test_read_and_acknowledge(app, tenant_a, api):
    ann_id = af.announcement(app, tenant_a["owner"], "制度更新", requires_ack=True)
    rep = api(tenant_a["sales"])
    assert rep.get(f"/{ann_id}").get_json()["read_at"] is None  # fetching is not reading
    r = rep.post(f"/{ann_id}/read")
    assert r.status_code == 200 and r.get_json()["read_at"] is not None
    assert rep.get("").get_json()["unread"] == 0
    r = rep.post(f"/{ann_id}/acknowledge")
    assert r.status_code == 200 and r.get_json()["acknowledged_at"] is not None
    plain = af.announcement(app, tenant_a["owner"], "普通通知")
    r = rep.post(f"/{plain}/acknowledge")
    assert r.status_code == 422 and "announcement" in r.get_json()["errors"]["json"]


def test_receipts_and_remind(app, tenant_a, api):
    ann_id = af.announcement(app, tenant_a["owner"], "请查收", audience_roles=["sales", "finance"])
    api(tenant_a["sales"]).post(f"/{ann_id}/read")
    admin = api(tenant_a["admin"])
    r = admin.get(f"/{ann_id}/receipts").get_json()
    assert [x["member_id"] for x in r["read"]] == [tenant_a["sales"].id]
    assert [x["member_id"] for x in r["unread"]] == [tenant_a["finance"].id]
    assert admin.post(f"/{ann_id}/remind").get_json() == {"reminded": 1}
    reminder = translated(app, "Reminder: please read “%(title)s”") % {"title": "请查收"}
    assert af.notes(app, tenant_a["finance"], "announcement.reminder") == [reminder]
    rep = api(tenant_a["sales"])
    assert rep.get(f"/{ann_id}/receipts").status_code == 403
    assert rep.post(f"/{ann_id}/remind").status_code == 403


def test_patch_and_delete_are_for_managers(app, tenant_a, api):
    ann_id = af.announcement(app, tenant_a["owner"], "原标题", files=[("a.txt", af.TXT)])
    rep, admin = api(tenant_a["sales"]), api(tenant_a["admin"])
    assert rep.patch(f"/{ann_id}", {"title": "x"}).status_code == 403
    r = admin.patch(f"/{ann_id}", {"title": "新标题", "pinned": True})
    assert r.status_code == 200 and (r.get_json()["title"], r.get_json()["pinned"]) == ("新标题", True)
    assert [f["filename"] for f in r.get_json()["attachments"]] == ["a.txt"]
    assert rep.delete(f"/{ann_id}").status_code == 403
    assert admin.delete(f"/{ann_id}").status_code == 204
    assert admin.get(f"/{ann_id}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x", "audience_roles": ["king"]}, "audience_roles"),
        ({"title": "x", "category": "gossip"}, "category"),
        ({"title": "x", "publish_at": "2099-01-02T00:00:00+00:00", "expires_at": "2099-01-01T00:00:00+00:00"},
         "expires_at"),
        ({"title": "x", "publish_at": "2099-01-02T00:00:00"}, "publish_at"),  # no time zone
    ],
)  # fmt: skip
def test_bad_input_is_422_with_the_field_and_creates_nothing(app, tenant_a, api, body, field):
    admin = api(tenant_a["admin"])
    r = admin.post("", body)
    assert r.status_code == 422 and field in r.get_json()["errors"]["json"], r.get_json()
    assert _ids(admin.get("?all=1")) == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_rendered_html_field_is_sanitised(app, tenant_a, api, payload):
    admin = api(tenant_a["admin"])
    ann_id = admin.post("", {"title": "xss", "body": payload}).get_json()["id"]
    for item in [api(tenant_a["sales"]).get(f"/{ann_id}").get_json(), admin.get("").get_json()["items"][0]]:
        assert item["body"] == payload  # the source is kept as written
        for tag, attrs in elements(item["html"]):
            assert tag not in {"script", "iframe", "style", "svg", "math", "details", "div", "object", "embed"}
            assert not any(name.startswith("on") or name == "style" for name in attrs), attrs
            for name in ("href", "src"):
                value = (attrs.get(name) or "").strip().lower()
                assert not value.startswith(("javascript:", "vbscript:", "data:", "//")), value
                if tag == "img" and name == "src" and value:
                    assert value.startswith("/"), value


def test_the_api_is_not_stopped_by_a_pending_acknowledgement(app, tenant_a, api):
    af.announcement(app, tenant_a["owner"], "需确认", requires_ack=True)
    assert api(tenant_a["sales"]).get("").status_code == 200
