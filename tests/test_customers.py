"""Sales → Customers through the UI: the form, duplicates, edits and their audit, tags,
archive, contacts and the org chart, merge, who sees what, constant SQL, the demo seed.

Workspace alpha (tests/factories.build_workspace): 王建国 owner, 李秀英 admin, 张伟 sales
manager, 刘洋 sales rep reporting to 张伟, 陈静 finance. The `team` fixture adds a junior
under 刘洋, a colleague of 刘洋 under 张伟, and a second manager 赵强 with his rep 孙丽.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from crm.db import db
from crm.sales import services
from crm.sales.models import Contact, Customer
from tenants.models import Tenant
from tests import sales_factories as sf
from tests.helpers import csrf_from_page, in_tenant, post, text_of

VALID = sf.VALID_USCC


@pytest.fixture
def team(app, tenant_a):
    t = tenant_a
    return {
        "junior": sf.add_rep(app, t, "junior", "小李", reports_to=t["sales"].id),
        "colleague": sf.add_rep(app, t, "colleague", "周敏", reports_to=t["sales_manager"].id),
        "mgr2": (mgr2 := sf.add_rep(app, t, "mgr2", "赵强", role="sales_manager")),
        "rep2": sf.add_rep(app, t, "rep2", "孙丽", reports_to=mgr2.id),
    }


def error_of(page: str, field: str) -> str | None:
    """The error shown beside a form field (macros/forms.html: <div id="<field>-error">)."""
    m = re.search(rf'<div class="invalid-feedback" id="{field}-error">(.*?)</div>', page, re.S)
    return html.unescape(m.group(1)).strip() if m else None


def form_data(**values):
    base = {
        "name": "",
        "short_name": "",
        "uscc": "",
        "uscc_override_reason": "",
        "industry": "",
        "level": "",
        "source": "",
        "province": "",
        "city": "",
        "address": "",
        "phone": "",
        "email": "",
        "website": "",
        "owner_id": "",
        "status": "potential",
        "tags": "",
        "notes": "",
        "confirm_duplicates": "",
    }
    base.update({k: ("" if v is None else str(v)) for k, v in values.items()})
    return base


def audit_count(app, tenant_id: int) -> int:
    from crm.audit.models import AuditEntry

    with in_tenant(app, tenant_id):
        return db.session.scalar(select(func.count(AuditEntry.id)))


# ================================================================ create through the form


def test_new_customer_form_renders_with_csrf_and_the_rep_as_owner(tenant_a, client_as):
    rep = tenant_a["sales"]
    r = client_as(rep).get(sf.url(rep, "new"))
    assert r.status_code == 200
    page = text_of(r)
    assert csrf_from_page(page)
    assert re.search(rf'<option selected value="{rep.id}">|<option value="{rep.id}" selected', page)


def test_create_through_the_form_saves_every_field(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    client = client_as(rep)
    r = post(
        client,
        sf.url(rep, "new"),
        form_data(
            name="北京百川科技有限公司",
            short_name="百川科技",
            uscc=" 91110000600037341l ",
            industry="软件和信息技术",
            level="A",
            source="展会",
            province="北京市",
            city="北京",
            address="海淀区中关村大街1号",
            phone="+86 138-0013-8000",
            email="Zhang.Wei@BaiChuan.COM",
            website="https://baichuan.example.com",
            owner_id=rep.id,
            status="active",
            tags="重点客户，华东, 重点客户",
            notes="年底续约",
        ),
    )
    assert r.status_code == 302, text_of(r)
    (cid,) = sf.customer_ids_named(app, tenant_a.id, "北京百川科技有限公司")
    assert r.headers["Location"].endswith(sf.url(rep, cid))
    got = sf.read(app, tenant_a.id, cid)
    assert got["short_name"] == "百川科技"
    assert got["uscc"] == VALID and got["uscc_override_reason"] is None
    assert (got["industry"], got["level"], got["source"]) == ("软件和信息技术", "A", "展会")
    assert (got["province"], got["city"], got["address"]) == ("北京市", "北京", "海淀区中关村大街1号")
    assert got["phone"] == "+86 138-0013-8000"
    assert got["email"] == "zhang.wei@baichuan.com"
    assert got["website"] == "https://baichuan.example.com"
    assert got["owner_id"] == rep.id and got["status"] == "active"
    assert got["tags"] == ["华东", "重点客户"]
    assert got["notes"] == "年底续约"
    assert got["name_normalized"] == "北京百川科技"
    with in_tenant(app, tenant_a.id):
        c = db.session.get(Customer, cid)
        assert c.phone_normalized == "13800138000"
        assert (c.pinyin_initials or "").startswith("bjbckj")
    (entry,) = sf.audit(app, tenant_a.id, "Customer", cid)
    assert entry.action == "customer.created" and entry.member_id == rep.id
    # The 360° page shows it.
    page = text_of(client.get(sf.url(rep, cid)))
    for shown in ("北京百川科技有限公司", VALID, "软件和信息技术", "海淀区中关村大街1号", "重点客户", "刘洋"):
        assert shown in page


def test_a_name_is_required_and_nothing_is_saved(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    r = post(client_as(rep), sf.url(rep, "new"), form_data(name="  ", owner_id=rep.id))
    assert r.status_code == 400
    assert error_of(text_of(r), "name")
    assert sf.count_customers(app, tenant_a.id) == 0


def test_posting_without_csrf_token_changes_nothing(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    client = client_as(rep)
    r = client.post(sf.url(rep, "new"), data=form_data(name="无令牌有限公司", owner_id=rep.id))
    assert r.status_code in (400, 403)
    assert sf.count_customers(app, tenant_a.id) == 0


def test_failing_uscc_is_refused_beside_the_field_and_nothing_saved(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    client = client_as(rep)
    audits = audit_count(app, tenant_a.id)
    r = post(client, sf.url(rep, "new"), form_data(name="校验失败有限公司", uscc=VALID[:17] + "A", owner_id=rep.id))
    assert r.status_code == 400
    page = text_of(r)
    msg = error_of(page, "uscc")
    assert msg and "check character" in msg
    assert 'aria-describedby="uscc-error"' in page
    # The other fields keep what was typed.
    assert "校验失败有限公司" in page
    assert sf.count_customers(app, tenant_a.id) == 0
    assert audit_count(app, tenant_a.id) == audits


@pytest.mark.parametrize("code", ["91110000600037341I", "9111000060003734OL", "91110000600037341"])
def test_malformed_uscc_is_refused(app, tenant_a, client_as, code):
    rep = tenant_a["sales"]
    r = post(client_as(rep), sf.url(rep, "new"), form_data(name="格式错误有限公司", uscc=code, owner_id=rep.id))
    assert r.status_code == 400 and error_of(text_of(r), "uscc")
    assert sf.count_customers(app, tenant_a.id) == 0


def test_failing_uscc_is_kept_when_a_reason_is_given(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    client = client_as(rep)
    bad = VALID[:17] + "A"
    r = post(
        client,
        sf.url(rep, "new"),
        form_data(name="老代码有限公司", uscc=bad, uscc_override_reason="2015 年前的营业执照", owner_id=rep.id),
    )
    assert r.status_code == 302, text_of(r)
    (cid,) = sf.customer_ids_named(app, tenant_a.id, "老代码有限公司")
    got = sf.read(app, tenant_a.id, cid)
    assert got["uscc"] == bad and got["uscc_override_reason"] == "2015 年前的营业执照"
    assert "check failed, kept" in text_of(client.get(sf.url(rep, cid)))


def test_a_blank_reason_does_not_override(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    r = post(
        client_as(rep),
        sf.url(rep, "new"),
        form_data(name="空理由有限公司", uscc=VALID[:17] + "A", uscc_override_reason="   ", owner_id=rep.id),
    )
    assert r.status_code == 400 and error_of(text_of(r), "uscc")
    assert sf.count_customers(app, tenant_a.id) == 0


def test_same_uscc_is_refused_outright_even_when_confirmed(app, tenant_a, team, client_as):
    rep = tenant_a["sales"]
    sf.customer(app, team["rep2"], "原有客户有限公司", uscc=VALID)
    client = client_as(rep)
    for confirm in ("", "1"):
        r = post(
            client,
            sf.url(rep, "new"),
            form_data(name="完全不同的名字有限公司", uscc=VALID.lower(), owner_id=rep.id, confirm_duplicates=confirm),
        )
        assert r.status_code == 400
        page = text_of(r)
        assert 'data-testid="duplicates"' in page and "alert-danger" in page
        assert "same unified social credit code" in page and "孙丽" in page
        assert "Save again to create it anyway" not in page
        # Saving again must not be offered: the hidden confirm flag stays empty.
        hidden = re.search(r'<input[^>]*name="confirm_duplicates"[^>]*>', page)
        assert hidden and 'value=""' in hidden.group(0)
    assert sf.count_customers(app, tenant_a.id) == 1


def test_uscc_of_an_archived_customer_is_refused_cleanly(app, tenant_a, client_as):
    """The credit code stays unique across archived customers too: a clear refusal, not a 500."""
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "已归档有限公司", uscc=VALID)
    client = client_as(rep)
    assert post(client, sf.url(rep, cid, "archive")).status_code == 302
    r = post(
        client,
        sf.url(rep, "new"),
        form_data(name="新公司有限公司", uscc=VALID, owner_id=rep.id, confirm_duplicates="1"),
    )
    assert r.status_code == 400
    assert "same unified social credit code" in text_of(r)
    assert sf.count_customers(app, tenant_a.id) == 1


DUPLICATE_CASES = {
    # reason: (existing customer's values, the new customer's values)
    "name": ({"name": "北京百川科技有限责任公司"}, {"name": "北京百川（科技）有限公司"}),
    "phone": (
        {"name": "甲公司有限公司", "phone": "010-6552-9988"},
        {"name": "乙公司有限公司", "phone": "+86 (010) 65529988"},
    ),
    "email": (
        {"name": "丙公司有限公司", "email": "Sales@BaiChuan.com"},
        {"name": "丁公司有限公司", "email": "sales@baichuan.com"},
    ),
}


@pytest.mark.parametrize("reason", list(DUPLICATE_CASES))
def test_possible_duplicate_warns_with_owner_name_but_no_link_out_of_scope(app, tenant_a, team, client_as, reason):
    rep = tenant_a["sales"]
    theirs, ours = DUPLICATE_CASES[reason]
    other_id = sf.customer(app, team["rep2"], notes="只有孙丽能看的备注", address="保密路 8 号", **theirs)
    client = client_as(rep)
    data = form_data(owner_id=rep.id, **ours)
    r = post(client, sf.url(rep, "new"), data)
    assert r.status_code == 400
    page = text_of(r)
    box = re.search(r'data-testid="duplicates">(.*?)</ul>', page, re.S)
    assert box, page
    assert "already owned by 孙丽" in box.group(1)
    assert {"name": "same name", "phone": "same phone", "email": "same e-mail"}[reason] in page
    # Nothing of the other customer itself: no link, no name, no content.
    assert sf.url(rep, other_id) not in page
    assert "只有孙丽能看的备注" not in page and "保密路" not in page
    if reason != "name":
        assert theirs["name"] not in page
    assert "Save again to create it anyway" in page
    hidden = re.search(r'<input[^>]*name="confirm_duplicates"[^>]*>', page)
    assert hidden and 'value="1"' in hidden.group(0)  # set for the next submit
    assert sf.count_customers(app, tenant_a.id) == 1
    # Saving again confirms and creates it.
    r = post(client, sf.url(rep, "new"), {**data, "confirm_duplicates": "1"})
    assert r.status_code == 302, text_of(r)
    assert sf.count_customers(app, tenant_a.id) == 2


def test_possible_duplicate_links_to_it_when_the_actor_may_see_it(app, tenant_a, client_as):
    mgr, rep = tenant_a["sales_manager"], tenant_a["sales"]
    theirs = sf.customer(app, rep, "上海远航物流有限公司")
    r = post(client_as(mgr), sf.url(mgr, "new"), form_data(name="上海远航物流股份有限公司", owner_id=mgr.id))
    assert r.status_code == 400
    page = text_of(r)
    assert "already owned by 刘洋" in page
    assert f'href="{sf.url(mgr, theirs)}"' in page


def test_duplicate_in_the_public_pool_says_so(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    sf.customer(app, tenant_a["sales_manager"], "公海客户有限公司", owner_id=None)
    r = post(client_as(rep), sf.url(rep, "new"), form_data(name="公海客户有限公司", owner_id=rep.id))
    assert r.status_code == 400 and "in the public pool" in text_of(r)


def test_duplicates_ignore_other_workspaces(app, tenant_a, tenant_b, client_as):
    sf.customer(app, tenant_b["sales"], "北京百川科技有限公司", uscc=VALID, phone="13800138000")
    rep = tenant_a["sales"]
    r = post(
        client_as(rep),
        sf.url(rep, "new"),
        form_data(name="北京百川科技有限公司", uscc=VALID, phone="13800138000", owner_id=rep.id),
    )
    assert r.status_code == 302, text_of(r)


def test_a_rep_cannot_assign_a_new_customer_outside_their_scope(app, tenant_a, team, client_as):
    rep = tenant_a["sales"]
    r = post(client_as(rep), sf.url(rep, "new"), form_data(name="越权有限公司", owner_id=team["rep2"].id))
    assert r.status_code == 400
    assert error_of(text_of(r), "owner_id")
    assert sf.count_customers(app, tenant_a.id) == 0


# ================================================================ update, tags, archive


def test_update_audits_before_and_after(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "华信贸易有限公司", level="B", phone="021-5555-0000", city="上海", tags=["华东"])
    client = client_as(rep)
    page = text_of(client.get(sf.url(rep, cid, "edit")))
    assert 'value="华东"' in page  # tags come back into the form
    r = post(
        client,
        sf.url(rep, cid, "edit"),
        form_data(
            name="华信贸易有限公司", level="A", phone="021-5555-0001", city="上海", owner_id=rep.id, tags="华东, 续约"
        ),
    )
    assert r.status_code == 302, text_of(r)
    got = sf.read(app, tenant_a.id, cid)
    assert (got["level"], got["phone"], got["tags"]) == ("A", "021-5555-0001", ["华东", "续约"])
    entries = sf.audit(app, tenant_a.id, "Customer", cid)
    assert [e.action for e in entries] == ["customer.created", "customer.updated"]
    changes = entries[-1].changes
    assert changes["level"] == {"before": "B", "after": "A"}
    assert changes["phone"] == {"before": "021-5555-0000", "after": "021-5555-0001"}
    assert changes["tags"] == {"before": ["华东"], "after": ["华东", "续约"]}
    assert "city" not in changes and "name" not in changes
    assert entries[-1].member_id == rep.id
    # The change history on the 360° page shows it.
    show = text_of(client.get(sf.url(rep, cid)))
    assert "Level: B → A" in show  # field labels, not column names


def test_saving_an_unchanged_customer_records_nothing(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "不变有限公司", level="C", email="a@b.cn", tags=["续约"])
    r = post(
        client_as(rep),
        sf.url(rep, cid, "edit"),
        form_data(name="不变有限公司", level="C", email="a@b.cn", owner_id=rep.id, tags="续约"),
    )
    assert r.status_code == 302
    assert [e.action for e in sf.audit(app, tenant_a.id, "Customer", cid)] == ["customer.created"]


def test_update_with_a_bad_value_changes_nothing(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "稳定有限公司", level="B")
    before = sf.read(app, tenant_a.id, cid)
    r = post(
        client_as(rep),
        sf.url(rep, cid, "edit"),
        form_data(name="稳定有限公司", level="B", uscc="123", owner_id=rep.id, tags="新标签"),
    )
    assert r.status_code == 400 and error_of(text_of(r), "uscc")
    assert sf.read(app, tenant_a.id, cid) == before
    assert len(sf.audit(app, tenant_a.id, "Customer", cid)) == 1


def test_update_into_a_duplicate_name_warns_then_confirms(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    sf.customer(app, rep, "重名有限公司")
    cid = sf.customer(app, rep, "原名有限公司")
    client = client_as(rep)
    data = form_data(name="重名有限责任公司", owner_id=rep.id)
    r = post(client, sf.url(rep, cid, "edit"), data)
    assert r.status_code == 400 and "same name" in text_of(r)
    assert sf.read(app, tenant_a.id, cid)["name"] == "原名有限公司"
    assert post(client, sf.url(rep, cid, "edit"), {**data, "confirm_duplicates": "1"}).status_code == 302
    assert sf.read(app, tenant_a.id, cid)["name"] == "重名有限责任公司"


def test_a_rep_cannot_reassign_their_customer(app, tenant_a, team, client_as):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "不可转移有限公司")
    # Only managers and administrators assign customers (customers.assign).
    with in_tenant(app, tenant_a.id):
        row = sf.actor(rep)
        c = db.session.get(Customer, cid)
        with pytest.raises(services.InvalidInput) as err:
            services.update_customer(row, c, services.CustomerInput(values={"owner_id": tenant_a["sales_manager"].id}))
        assert "owner_id" in err.value.errors
        db.session.rollback()
    assert sf.read(app, tenant_a.id, cid)["owner_id"] == rep.id


def test_an_unchanged_deactivated_owner_stays_valid_on_save(app, tenant_a, team, client_as):
    """The owner select keeps the current owner even when they are no longer offered."""
    mgr = tenant_a["sales_manager"]
    cid = sf.customer(app, team["colleague"], "离职同事的客户有限公司", level="C")
    from tenants.models import Membership

    with in_tenant(app, tenant_a.id):
        db.session.get(Membership, team["colleague"].id).is_active = False
        db.session.commit()
    client = client_as(mgr)
    page = text_of(client.get(sf.url(mgr, cid, "edit")))
    assert "周敏" in page
    r = post(
        client,
        sf.url(mgr, cid, "edit"),
        form_data(name="离职同事的客户有限公司", level="B", owner_id=team["colleague"].id),
    )
    assert r.status_code == 302, text_of(r)
    got = sf.read(app, tenant_a.id, cid)
    assert (got["level"], got["owner_id"]) == ("B", team["colleague"].id)
    # Handing it to an active rep of the team works; back to the deactivated one does not.
    assert (
        post(
            client, sf.url(mgr, cid, "edit"), form_data(name="离职同事的客户有限公司", owner_id=tenant_a["sales"].id)
        ).status_code
        == 302
    )
    r = post(client, sf.url(mgr, cid, "edit"), form_data(name="离职同事的客户有限公司", owner_id=team["colleague"].id))
    assert r.status_code == 400 and error_of(text_of(r), "owner_id")


def test_a_manager_reassigns_within_the_team(app, tenant_a, team, client_as):
    mgr, rep = tenant_a["sales_manager"], tenant_a["sales"]
    cid = sf.customer(app, rep, "转给同事有限公司")
    client = client_as(mgr)
    r = post(client, sf.url(mgr, cid, "edit"), form_data(name="转给同事有限公司", owner_id=team["colleague"].id))
    assert r.status_code == 302, text_of(r)
    assert sf.read(app, tenant_a.id, cid)["owner_id"] == team["colleague"].id
    changes = sf.audit(app, tenant_a.id, "Customer", cid)[-1].changes
    assert changes["owner_id"] == {"before": rep.id, "after": team["colleague"].id}
    # ... but not to another manager's team: that owner is not even offered.
    r = post(client, sf.url(mgr, cid, "edit"), form_data(name="转给同事有限公司", owner_id=team["rep2"].id))
    assert r.status_code == 400 and error_of(text_of(r), "owner_id")
    assert sf.read(app, tenant_a.id, cid)["owner_id"] == team["colleague"].id


def test_tags_are_trimmed_deduplicated_and_removable(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "标签有限公司", tags=["甲", "乙"])
    client = client_as(rep)
    post(
        client, sf.url(rep, cid, "edit"), form_data(name="标签有限公司", owner_id=rep.id, tags=" 乙 ，丙,丙,， ,ＶＩＰ")
    )
    assert sf.read(app, tenant_a.id, cid)["tags"] == sorted(["乙", "丙", "VIP"])
    post(client, sf.url(rep, cid, "edit"), form_data(name="标签有限公司", owner_id=rep.id, tags=""))
    assert sf.read(app, tenant_a.id, cid)["tags"] == []
    changes = sf.audit(app, tenant_a.id, "Customer", cid)[-1].changes
    assert changes["tags"]["after"] == []


def test_archive_hides_the_customer_from_the_list_and_keeps_its_history(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "要归档有限公司", contacts=["归档联系人"])
    keep = sf.customer(app, rep, "留下有限公司")
    client = client_as(rep)
    r = post(client, sf.url(rep, cid, "archive"))
    assert r.status_code == 302 and r.headers["Location"].endswith(sf.url(rep))
    got = sf.read(app, tenant_a.id, cid)
    assert got["archived_at"] is not None
    assert [x["name"] for x in got["contacts"]] == ["归档联系人"]
    assert [e.action for e in sf.audit(app, tenant_a.id, "Customer", cid)] == ["customer.created", "customer.archived"]
    # Its pages answer 404 like the API's, as if it were gone; the rows and history stay.
    assert client.get(sf.url(rep, cid)).status_code == 404
    page = text_of(client.get(sf.url(rep)))
    assert f'href="{sf.url(rep, cid)}"' not in page and f'href="{sf.url(rep, keep)}"' in page
    assert sf.read(app, tenant_a.id, keep)["archived_at"] is None


def test_archive_is_a_post(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "只读归档有限公司")
    assert client_as(rep).get(sf.url(rep, cid, "archive")).status_code == 405
    assert sf.read(app, tenant_a.id, cid)["archived_at"] is None


# ================================================================ contacts


def test_contacts_create_edit_delete_through_the_forms(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "联系人有限公司")
    client = client_as(rep)
    assert client.get(sf.url(rep, cid, "contacts", "new")).status_code == 200
    r = post(
        client,
        sf.url(rep, cid, "contacts", "new"),
        {
            "name": "王总",
            "title": "总经理",
            "department": "总经办",
            "reports_to_id": "",
            "mobile": "13900001111",
            "phone": "010-1234-5678",
            "email": "wang@example.com",
            "wechat": "wang_zong",
            "birthday": "1975-06-01",
            "is_primary": "y",
            "notes": "喜欢喝茶",
        },
    )
    assert r.status_code == 302, text_of(r)
    assert r.headers["Location"].endswith(sf.url(rep, cid) + "#contacts")
    (boss,) = sf.contact_rows(app, tenant_a.id, cid)
    assert (boss.name, boss.title, boss.department, boss.mobile, boss.phone) == (
        "王总",
        "总经理",
        "总经办",
        "13900001111",
        "010-1234-5678",
    )
    assert (boss.email, boss.wechat, str(boss.birthday), boss.is_primary, boss.notes) == (
        "wang@example.com",
        "wang_zong",
        "1975-06-01",
        True,
        "喜欢喝茶",
    )
    r = post(
        client, sf.url(rep, cid, "contacts", "new"), {"name": "李经理", "title": "采购经理", "reports_to_id": boss.id}
    )
    assert r.status_code == 302, text_of(r)
    boss_id, buyer_id = (x.id for x in sf.contact_rows(app, tenant_a.id, cid))
    assert sf.contact_rows(app, tenant_a.id, cid)[1].reports_to_id == boss_id
    # Edit: the new primary takes over from the old one.
    r = post(
        client,
        sf.url(rep, cid, "contacts", buyer_id, "edit"),
        {"name": "李经理", "title": "采购总监", "reports_to_id": boss_id, "is_primary": "y"},
    )
    assert r.status_code == 302, text_of(r)
    rows = {x.id: x for x in sf.contact_rows(app, tenant_a.id, cid)}
    assert rows[buyer_id].title == "采购总监" and rows[buyer_id].is_primary and not rows[boss_id].is_primary
    entries = sf.audit(app, tenant_a.id, "Contact", buyer_id)
    assert [e.action for e in entries] == ["contact.created", "contact.updated"]
    assert entries[-1].changes["title"] == {"before": "采购经理", "after": "采购总监"}
    # Delete the boss: the buyer now reports to the boss's boss (nobody).
    r = post(client, sf.url(rep, cid, "contacts", boss_id, "delete"))
    assert r.status_code == 302
    (left,) = sf.contact_rows(app, tenant_a.id, cid)
    assert left.id == buyer_id and left.reports_to_id is None
    assert [e.action for e in sf.audit(app, tenant_a.id, "Contact", boss_id)][-1] == "contact.deleted"


def test_deleting_a_middle_manager_moves_their_reports_up(app, tenant_a):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "三层有限公司")
    top = sf.contact(app, rep, cid, name="甲")
    mid = sf.contact(app, rep, cid, name="乙", reports_to_id=top)
    low = sf.contact(app, rep, cid, name="丙", reports_to_id=mid)
    with in_tenant(app, tenant_a.id, rep.user_id):
        c = db.session.get(Customer, cid)
        services.delete_contact(sf.actor(rep), c, db.session.get(Contact, mid))
        db.session.commit()
    rows = {x.id: x.reports_to_id for x in sf.contact_rows(app, tenant_a.id, cid)}
    assert rows == {top: None, low: top}


def test_contact_without_a_name_is_refused(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "无名联系人有限公司")
    r = post(client_as(rep), sf.url(rep, cid, "contacts", "new"), {"name": " ", "title": "经理"})
    assert r.status_code == 400 and error_of(text_of(r), "name")
    assert sf.contact_rows(app, tenant_a.id, cid) == []


def test_reports_to_loop_is_refused_and_nothing_changes(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "循环有限公司")
    a = sf.contact(app, rep, cid, name="甲")
    b = sf.contact(app, rep, cid, name="乙", reports_to_id=a)
    c = sf.contact(app, rep, cid, name="丙", reports_to_id=b)
    client = client_as(rep)
    r = post(client, sf.url(rep, cid, "contacts", a, "edit"), {"name": "甲", "reports_to_id": c})
    assert r.status_code == 400
    assert "loop" in (error_of(text_of(r), "reports_to_id") or "")
    rows = {x.id: x.reports_to_id for x in sf.contact_rows(app, tenant_a.id, cid)}
    assert rows == {a: None, b: a, c: b}
    # Nor can a contact report to itself (service level: the form does not even offer it).
    with in_tenant(app, tenant_a.id, rep.user_id):
        cust = db.session.get(Customer, cid)
        with pytest.raises(services.InvalidInput) as err:
            services.save_contact(sf.actor(rep), cust, {"name": "甲", "reports_to_id": a}, db.session.get(Contact, a))
        assert "reports_to_id" in err.value.errors
        db.session.rollback()


def test_reports_to_a_contact_of_another_customer_is_refused(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    mine = sf.customer(app, rep, "我的客户有限公司")
    other = sf.customer(app, rep, "另一家有限公司", contacts=["外人"])
    (outsider,) = sf.contact_rows(app, tenant_a.id, other)
    client = client_as(rep)
    r = post(client, sf.url(rep, mine, "contacts", "new"), {"name": "内人", "reports_to_id": outsider.id})
    assert r.status_code == 400 and error_of(text_of(r), "reports_to_id")
    assert sf.contact_rows(app, tenant_a.id, mine) == []
    with in_tenant(app, tenant_a.id, rep.user_id):
        with pytest.raises(services.InvalidInput) as err:
            services.save_contact(
                sf.actor(rep), db.session.get(Customer, mine), {"name": "内人", "reports_to_id": outsider.id}
            )
        assert list(err.value.errors) == ["reports_to_id"]
        db.session.rollback()
    assert sf.contact_rows(app, tenant_a.id, mine) == []


def test_a_contact_is_reached_only_through_its_own_customer(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    mine = sf.customer(app, rep, "甲方有限公司")
    other = sf.customer(app, rep, "乙方有限公司", contacts=["乙方联系人"])
    (theirs,) = sf.contact_rows(app, tenant_a.id, other)
    client = client_as(rep)
    assert client.get(sf.url(rep, mine, "contacts", theirs.id, "edit")).status_code == 404
    assert post(client, sf.url(rep, mine, "contacts", theirs.id, "edit"), {"name": "改名"}).status_code == 404
    assert post(client, sf.url(rep, mine, "contacts", theirs.id, "delete")).status_code == 404
    assert [x.name for x in sf.contact_rows(app, tenant_a.id, other)] == ["乙方联系人"]


def test_org_chart_order_and_depth(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "组织架构有限公司")
    # Created out of order on purpose.
    buyer = sf.contact(app, rep, cid, name="采购专员小赵", department="采购部", title="专员")
    ceo = sf.contact(app, rep, cid, name="总经理老王", department="总经办", title="总经理", is_primary=True)
    sf.contact(app, rep, cid, name="财务总监钱", department="财务部", title="总监", reports_to_id=ceo)
    head = sf.contact(app, rep, cid, name="采购经理孙", department="采购部", title="经理", reports_to_id=ceo)
    sf.contact(app, rep, cid, name="外部顾问", department="", title="顾问")
    with in_tenant(app, tenant_a.id, rep.user_id):
        services.save_contact(
            sf.actor(rep),
            db.session.get(Customer, cid),
            {"name": "采购专员小赵", "reports_to_id": head},
            db.session.get(Contact, buyer),
        )
        db.session.commit()
        chart = [(x.name, depth) for x, depth in services.org_chart(db.session.get(Customer, cid))]
    # Roots: the primary contact first, then by department and name; reports right under
    # their boss, siblings by department (codepoint order: 财 U+8D22 before 采 U+91C7).
    assert chart == [
        ("总经理老王", 0),
        ("财务总监钱", 1),
        ("采购经理孙", 1),
        ("采购专员小赵", 2),
        ("外部顾问", 0),
    ]
    page = text_of(client_as(rep).get(sf.url(rep, cid)))
    positions = [page.index(name) for name, _ in chart]
    assert positions == sorted(positions), "the 360° page lists contacts in org-chart order"


# ================================================================ merge


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 200), ("admin", 200), ("sales_manager", 403), ("sales", 403), ("finance", 403)]
)
def test_merge_page_is_for_administrators(app, tenant_a, client_as, role, status):
    member = tenant_a[role]
    rep = tenant_a["sales"]
    keep = sf.customer(app, rep, "保留有限公司")
    drop = sf.customer(app, rep, "保留有限责任公司")
    client = client_as(member)
    assert client.get(sf.url(member, "merge")).status_code == status
    r = post(client, sf.url(member, "merge"), {"keep_id": keep, "drop_id": drop})
    assert r.status_code == (302 if status == 200 else 403)
    assert (sf.read(app, tenant_a.id, drop)["archived_at"] is None) == (status != 200)


def test_merge_repoints_contacts_keeps_both_histories_and_archives_the_dropped(app, tenant_a, team, client_as):
    admin, rep, mgr = tenant_a["admin"], tenant_a["sales"], tenant_a["sales_manager"]
    keep = sf.customer(app, rep, "北京百川科技有限公司", contacts=["王总"], tags=["重点客户"], level="A")
    drop = sf.customer(
        app,
        mgr,
        "北京百川（科技）有限公司",
        contacts=["李经理", "赵专员"],
        tags=["华东"],
        phone="010-6552-9988",
        city="北京",
        uscc=VALID,
    )
    sf.collaborate(app, mgr, drop, team["colleague"], True)
    (li, zhao) = (x.id for x in sf.contact_rows(app, tenant_a.id, drop))
    with in_tenant(app, tenant_a.id, mgr.user_id):
        x = db.session.get(Contact, zhao)
        x.reports_to_id = li
        db.session.commit()
    client = client_as(admin)
    page = text_of(client.get(sf.url(admin, "merge")))
    assert "北京百川科技有限公司" in page and "北京百川（科技）有限公司" in page
    r = post(client, sf.url(admin, "merge"), {"keep_id": keep, "drop_id": drop})
    assert r.status_code == 302 and r.headers["Location"].endswith(sf.url(admin, keep))
    kept, dropped = sf.read(app, tenant_a.id, keep), sf.read(app, tenant_a.id, drop)
    assert [x["name"] for x in kept["contacts"]] == ["王总", "李经理", "赵专员"]
    assert {x["id"]: x["reports_to_id"] for x in kept["contacts"]}[zhao] == li
    assert dropped["contacts"] == []
    assert kept["tags"] == ["华东", "重点客户"]
    assert kept["collaborators"] == [(team["colleague"].id, True)]
    # Blank fields of the kept customer are filled from the dropped; its own stay.
    assert (kept["phone"], kept["city"], kept["level"], kept["owner_id"]) == ("010-6552-9988", "北京", "A", rep.id)
    assert kept["uscc"] is None and dropped["uscc"] == VALID  # a credit code is unique: it stays put
    assert dropped["archived_at"] is not None and dropped["merged_into_id"] == keep
    assert kept["archived_at"] is None
    keep_actions = [e.action for e in sf.audit(app, tenant_a.id, "Customer", keep)]
    drop_actions = [e.action for e in sf.audit(app, tenant_a.id, "Customer", drop)]
    assert keep_actions[0] == "customer.created" and keep_actions[-1] == "customer.merged"
    assert drop_actions[0] == "customer.created" and "customer.collaborators" in drop_actions
    assert drop_actions[-1] == "customer.merged_away"
    merged = sf.audit(app, tenant_a.id, "Customer", keep)[-1]
    assert merged.changes["merged_from"]["after"] == drop and merged.changes["contacts_moved"]["after"] == 2
    assert merged.member_id == admin.id
    # The contacts' own histories are untouched.
    assert [e.action for e in sf.audit(app, tenant_a.id, "Contact", li)] == ["contact.created"]
    # The 360° page of the kept customer shows the moved contacts.
    show = text_of(client.get(sf.url(admin, keep)))
    assert "李经理" in show and "赵专员" in show
    # The dropped one has left the list.
    listing = text_of(client.get(sf.url(admin)))
    assert sf.url(admin, drop) not in listing and sf.url(admin, keep) in listing


def test_merging_a_customer_into_itself_is_refused(app, tenant_a, client_as):
    owner = tenant_a["owner"]
    cid = sf.customer(app, owner, "自己有限公司", contacts=["甲"])
    r = post(client_as(owner), sf.url(owner, "merge"), {"keep_id": cid, "drop_id": cid})
    assert r.status_code == 400
    assert error_of(text_of(r), "drop_id")
    assert sf.read(app, tenant_a.id, cid)["archived_at"] is None


def test_merge_service_refuses_a_sales_manager(app, tenant_a):
    mgr, rep = tenant_a["sales_manager"], tenant_a["sales"]
    keep, drop = sf.customer(app, rep, "甲有限公司"), sf.customer(app, rep, "乙有限公司")
    from roles.checks import PermissionDenied

    with in_tenant(app, tenant_a.id, mgr.user_id):
        with pytest.raises(PermissionDenied):
            services.merge_customers(sf.actor(mgr), db.session.get(Customer, keep), db.session.get(Customer, drop))
        db.session.rollback()


# ================================================================ visibility


@pytest.fixture
def book(app, tenant_a, team):
    """One customer per kind of relation to the rep 刘洋."""
    t = tenant_a
    ids = {
        "own": sf.customer(app, t["sales"], "自己的客户有限公司", contacts=["自己联系人"]),
        "junior": sf.customer(app, team["junior"], "下属的客户有限公司", contacts=["下属联系人"]),
        "colleague": sf.customer(app, team["colleague"], "同事的客户有限公司", contacts=["同事联系人"]),
        "manager": sf.customer(app, t["sales_manager"], "经理的客户有限公司"),
        "pool": sf.customer(app, t["sales_manager"], "公海的客户有限公司", owner_id=None),
        "other_team": sf.customer(app, team["rep2"], "别组的客户有限公司", contacts=["别组联系人"]),
        "collab_ro": sf.customer(app, team["rep2"], "只读协作有限公司"),
        "collab_rw": sf.customer(app, team["rep2"], "可编辑协作有限公司"),
        "admin": sf.customer(app, t["admin"], "管理员的客户有限公司"),
    }
    sf.collaborate(app, team["rep2"], ids["collab_ro"], t["sales"], False)
    sf.collaborate(app, team["rep2"], ids["collab_rw"], t["sales"], True)
    return ids


def _listed(client, member) -> set[str]:
    page = text_of(client.get(sf.url(member)))
    return set(re.findall(r'href="/w/[^/]+/sales/customers/(\d+)"', page))


VISIBLE = {
    # A rep's scope is their own: not even the junior who reports to them (scope "own").
    "sales": {"own", "pool", "collab_ro", "collab_rw"},
    "sales_manager": {"own", "junior", "colleague", "manager", "pool"},
    "admin": {"own", "junior", "colleague", "manager", "pool", "other_team", "collab_ro", "collab_rw", "admin"},
    "owner": {"own", "junior", "colleague", "manager", "pool", "other_team", "collab_ro", "collab_rw", "admin"},
}


@pytest.mark.parametrize("role", list(VISIBLE))
def test_list_shows_exactly_the_customers_in_scope(app, tenant_a, book, client_as, role):
    member = tenant_a[role]
    expected = VISIBLE[role]
    got = _listed(client_as(member), member)
    assert got == {str(book[k]) for k in expected}


def test_a_sales_manager_sees_the_team_transitively(app, tenant_a, team, book, client_as):
    mgr = tenant_a["sales_manager"]
    client = client_as(mgr)
    # The junior reports to the rep, who reports to the manager.
    assert client.get(sf.url(mgr, book["junior"])).status_code == 200
    assert client.get(sf.url(mgr, book["junior"], "edit")).status_code == 200
    assert client.get(sf.url(mgr, book["other_team"])).status_code == 404
    # The second manager sees his rep's customers, not the first team's.
    mgr2 = team["mgr2"]
    got = _listed(client_as(mgr2), mgr2)
    assert got == {str(book[k]) for k in ("other_team", "collab_ro", "collab_rw", "pool")}


OUT_OF_SCOPE_PAGES = [
    ("GET", ()),
    ("GET", ("edit",)),
    ("POST", ("edit",)),
    ("POST", ("archive",)),
    ("GET", ("contacts", "new")),
    ("POST", ("contacts", "new")),
]


@pytest.mark.parametrize("target", ["colleague", "other_team", "admin"])
@pytest.mark.parametrize(("method", "parts"), OUT_OF_SCOPE_PAGES)
def test_other_reps_customers_answer_404_not_403(app, tenant_a, book, client_as, raw_rows, target, method, parts):
    rep = tenant_a["sales"]
    cid = book[target]
    before = raw_rows("customers", "id = :id", {"id": cid}), raw_rows("contacts", "customer_id = :id", {"id": cid})
    client = client_as(rep)
    u = sf.url(rep, cid, *parts)
    r = client.get(u) if method == "GET" else post(client, u, form_data(name="改名有限公司", owner_id=rep.id))
    assert r.status_code == 404
    assert "同事" not in text_of(r) and "别组" not in text_of(r)
    after = raw_rows("customers", "id = :id", {"id": cid}), raw_rows("contacts", "customer_id = :id", {"id": cid})
    assert after == before


def test_other_reps_contacts_answer_404(app, tenant_a, book, client_as):
    rep = tenant_a["sales"]
    (theirs,) = sf.contact_rows(app, tenant_a.id, book["colleague"])
    client = client_as(rep)
    assert client.get(sf.url(rep, book["colleague"], "contacts", theirs.id, "edit")).status_code == 404
    assert post(client, sf.url(rep, book["colleague"], "contacts", theirs.id, "edit"), {"name": "x"}).status_code == 404
    assert post(client, sf.url(rep, book["colleague"], "contacts", theirs.id, "delete")).status_code == 404
    assert [x.name for x in sf.contact_rows(app, tenant_a.id, book["colleague"])] == ["同事联系人"]


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_admins_and_owners_open_every_customer(app, tenant_a, book, client_as, role):
    member = tenant_a[role]
    client = client_as(member)
    for cid in book.values():
        assert client.get(sf.url(member, cid)).status_code == 200
        assert client.get(sf.url(member, cid, "edit")).status_code == 200


@pytest.mark.parametrize(("method", "parts"), [("GET", ()), ("GET", ("new",)), ("GET", ("{own}",)), ("POST", ("new",))])
def test_finance_has_no_sales_access(app, tenant_a, book, client_as, method, parts):
    fin = tenant_a["finance"]
    client = client_as(fin)
    u = sf.url(fin, *[p.format(**{k: v for k, v in book.items()}) for p in parts])
    r = client.get(u) if method == "GET" else post(client, u, form_data(name="财务建的有限公司"))
    assert r.status_code == 403


def test_read_only_collaborator_views_but_cannot_edit(app, tenant_a, book, client_as, raw_rows):
    rep = tenant_a["sales"]
    cid = book["collab_ro"]
    client = client_as(rep)
    page = text_of(client.get(sf.url(rep, cid)))
    assert "只读协作有限公司" in page
    assert sf.url(rep, cid, "edit") not in page  # no edit button
    before = raw_rows("customers", "id = :id", {"id": cid})
    assert client.get(sf.url(rep, cid, "edit")).status_code == 403
    assert post(client, sf.url(rep, cid, "edit"), form_data(name="改不了有限公司", owner_id=rep.id)).status_code == 403
    assert post(client, sf.url(rep, cid, "archive")).status_code == 403
    assert client.get(sf.url(rep, cid, "contacts", "new")).status_code == 403
    assert post(client, sf.url(rep, cid, "contacts", "new"), {"name": "加不了"}).status_code == 403
    assert raw_rows("customers", "id = :id", {"id": cid}) == before
    assert sf.contact_rows(app, tenant_a.id, cid) == []


def test_collaborator_with_edit_access_can_edit(app, tenant_a, team, book, client_as):
    rep = tenant_a["sales"]
    cid = book["collab_rw"]
    client = client_as(rep)
    assert sf.url(rep, cid, "edit") in text_of(client.get(sf.url(rep, cid)))
    assert client.get(sf.url(rep, cid, "edit")).status_code == 200
    # The owner stays the other rep's (a collaborator edits, they do not take the customer).
    r = post(
        client, sf.url(rep, cid, "edit"), form_data(name="可编辑协作有限公司", level="A", owner_id=team["rep2"].id)
    )
    assert r.status_code == 302, text_of(r)
    got = sf.read(app, tenant_a.id, cid)
    assert got["level"] == "A" and got["owner_id"] == team["rep2"].id
    assert post(client, sf.url(rep, cid, "contacts", "new"), {"name": "协作加的人"}).status_code == 302


def test_pool_customer_is_visible_to_a_rep_but_not_editable(app, tenant_a, book, client_as):
    rep = tenant_a["sales"]
    client = client_as(rep)
    assert client.get(sf.url(rep, book["pool"])).status_code == 200
    assert client.get(sf.url(rep, book["pool"], "edit")).status_code == 403
    mgr = tenant_a["sales_manager"]
    assert client_as(mgr).get(sf.url(mgr, book["pool"], "edit")).status_code == 200


def test_another_workspaces_customer_is_404(app, tenant_a, tenant_b, client_as, raw_rows):
    theirs = sf.customer(app, tenant_b["sales"], "Beta Customer Ltd", contacts=["Bob Contact"])
    (contact,) = sf.contact_rows(app, tenant_b.id, theirs)
    before = (
        raw_rows("customers", "tenant_id = :t", {"t": tenant_b.id}),
        raw_rows("contacts", "tenant_id = :t", {"t": tenant_b.id}),
    )
    owner = tenant_a["owner"]
    client = client_as(owner)
    for method, parts in [
        *OUT_OF_SCOPE_PAGES,
        ("GET", ("contacts", contact.id, "edit")),
        ("POST", ("contacts", contact.id, "delete")),
    ]:
        u = sf.url(owner, theirs, *parts)
        r = client.get(u) if method == "GET" else post(client, u, form_data(name="x"))
        assert r.status_code == 404, u
    r = post(client, sf.url(owner, "merge"), {"keep_id": theirs, "drop_id": theirs})
    assert r.status_code in (400, 404)
    after = (
        raw_rows("customers", "tenant_id = :t", {"t": tenant_b.id}),
        raw_rows("contacts", "tenant_id = :t", {"t": tenant_b.id}),
    )
    assert after == before


# ================================================================ constant SQL


def _grow_customers(app, tenant, team, start: int, upto: int) -> int:
    owners = [tenant["sales"], tenant["sales_manager"], team["colleague"], team["junior"], None]
    rows = []
    for i in range(start, upto):
        o = owners[i % len(owners)]
        rows.append(
            {
                "name": f"常量客户{i:03d}有限公司",
                "owner_id": o.id if o else None,
                "level": "ABC"[i % 3],
                "province": "广东省",
                "city": "深圳",
                "tags": [f"标签{i % 4}", "共同"],
            }
        )
    return len(sf.bulk_customers(app, tenant.id, rows))


def test_customer_list_issues_constant_statements(app, tenant_a, team, client_as, count_queries):
    member = tenant_a["sales_manager"]
    client = client_as(member)
    _grow_customers(app, tenant_a, team, 0, 5)
    url = sf.url(member)
    assert client.get(url).status_code == 200  # warm up
    with count_queries() as small:
        assert client.get(url).status_code == 200
    _grow_customers(app, tenant_a, team, 5, 40)
    with count_queries() as large:
        r = client.get(url)
        assert r.status_code == 200
    assert len(re.findall(r'href="/w/[^/]+/sales/customers/\d+"', text_of(r))) == 40
    assert small.count == large.count, (
        f"{small.count} statements with 5 customers, {large.count} with 40\n" + "\n".join(large.statements)
    )
    # The htmx fragment too.
    with count_queries() as frag:
        client.get(url, headers={"HX-Request": "true", "HX-Target": "customer-table"})
    _grow_customers(app, tenant_a, team, 40, 45)
    with count_queries() as frag2:
        client.get(url, headers={"HX-Request": "true", "HX-Target": "customer-table"})
    assert frag.count == frag2.count


def test_customer_360_page_issues_constant_statements(app, tenant_a, client_as, count_queries):
    rep = tenant_a["sales"]
    cid = sf.customer(app, rep, "常量三六零有限公司", tags=["甲", "乙"], contacts=["第一人"])
    client = client_as(rep)
    url = sf.url(rep, cid)
    assert client.get(url).status_code == 200
    with count_queries() as small:
        assert client.get(url).status_code == 200
    (first,) = sf.contact_rows(app, tenant_a.id, cid)
    boss = first.id
    for i in range(7):
        made = sf.contact(
            app, rep, cid, name=f"联系人{i}", department=f"部门{i % 3}", reports_to_id=boss if i % 2 else None
        )
        boss = made if i % 3 == 0 else boss
    with count_queries() as large:
        r = client.get(url)
        assert r.status_code == 200
    assert "联系人6" in text_of(r)
    assert small.count == large.count, f"{small.count} statements with 1 contact, {large.count} with 8\n" + "\n".join(
        large.statements
    )


# ================================================================ demo seed


def test_seed_demo_creates_customers_with_contacts_and_is_idempotent(app):
    runner = app.test_cli_runner()

    def counts():
        with app.app_context():
            tenant = db.session.scalars(select(Tenant).where(Tenant.slug == "demo")).one()
            with in_tenant(app, tenant.id):
                customers = db.session.scalars(select(Customer).order_by(Customer.id)).all()
                return (
                    tenant.id,
                    [(c.name, c.owner_id, len(c.contacts), sorted(c.tag_names)) for c in customers],
                    db.session.scalar(select(func.count(Contact.id))),
                )

    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    tid, first, contacts = counts()
    assert len(first) >= 20
    assert all(n >= 2 for _name, _owner, n, _tags in first), "every demo customer has contacts"
    assert contacts == sum(n for _name, _owner, n, _tags in first)
    assert any(owner is None for _name, owner, _n, _tags in first), "some demo customers are in the pool"
    assert any(tags for *_rest, tags in first)
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    assert counts() == (tid, first, contacts)
    # Demo customers are searchable and open in the UI.
    from crm.cli import DEMO_PASSWORD
    from tests.helpers import login

    client = app.test_client()
    login(client, "owner@demo.taizhang.local", DEMO_PASSWORD)
    page = text_of(client.get("/w/demo/sales/customers?q=百川"))
    assert "百川" in page


def test_collaborators_set_on_the_360_page_open_the_customer_to_a_colleague(app, tenant_a, client_as):
    from crm.sales.models import Customer
    from tests.helpers import post

    rep, colleague = tenant_a["sales"], tenant_a["sales_manager"]
    owner_client = client_as(rep)
    r = post(
        owner_client,
        f"/w/{tenant_a.slug}/sales/customers/new",
        {"name": "协作测试有限公司", "status": "potential", "owner_id": str(rep.id)},
    )
    assert r.status_code == 302
    cid = int(r.headers["Location"].rstrip("/").split("/")[-1])
    # The finance member has no sales access, so is not offered; the manager gets edit access.
    r = post(
        owner_client, f"/w/{tenant_a.slug}/sales/customers/{cid}/collaborators", {f"access-{colleague.id}": "edit"}
    )
    assert r.status_code == 302
    with app.app_context():
        from crm.db import db
        from tenants.context import tenant_context

        with tenant_context(tenant_a.id):
            c = db.session.get(Customer, cid)
            assert [(x.member_id, x.can_edit) for x in c.collaborators] == [(colleague.id, True)]
    page = owner_client.get(f"/w/{tenant_a.slug}/sales/customers/{cid}").get_data(as_text=True)
    assert "can edit" in page
