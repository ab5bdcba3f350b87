"""Sales → follow-ups and tasks: the services, who sees what, tasks from the next follow-up
date, "My tasks" and "My day" ordering, the 360° timeline with its inline form, constant SQL.

Workspace alpha (tests/factories.build_workspace): 王建国 owner, 李秀英 admin, 张伟 sales
manager, 刘洋 sales rep reporting to 张伟, 陈静 finance. `other_rep` is a second rep who
reports to nobody in 刘洋's line.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.activities import services
from crm.activities.models import FollowUp, Task
from crm.audit.models import AuditEntry
from crm.db import db, utcnow
from crm.sales.models import Customer
from tests import factories
from tests import sales_factories as sf
from tests.helpers import in_tenant, post, text_of

TXT = b"meeting notes\n"


def add_activities(app, world) -> None:
    """For each workspace of a World: a follow-up by the sales rep on the rep's customer, with
    a next follow-up date (so a task) and a text attachment. Sets followup_id, task_id and
    attachment_id on the world (dicts keyed like customer_id)."""
    world.followup_id, world.task_id, world.attachment_id = {}, {}, {}
    for key, t in world.tenants.items():
        rep = t["sales"]
        with in_tenant(app, t.id, rep.user_id):
            row = factories.member_row(rep)
            c = db.session.get(Customer, world.customer_id[key])
            f = services.log_followup(
                row,
                c,
                {"kind": "call", "summary": "初次电话", "next_followup_on": date.today() + timedelta(days=3)},
                [("notes.txt", TXT)],
            )
            db.session.commit()
            world.followup_id[key] = f.id
            world.task_id[key] = db.session.scalars(select(Task.id).where(Task.followup_id == f.id)).one()
            from crm.attachments.models import Attachment

            world.attachment_id[key] = db.session.scalars(
                select(Attachment.id).where(Attachment.owner_id == f.id)
            ).one()


def log(app, member, customer_id: int, **values):
    files = values.pop("files", None)
    values.setdefault("kind", "call")
    values.setdefault("summary", "谈了价格")
    with in_tenant(app, member.tenant_id, member.user_id):
        row = factories.member_row(member)
        f = services.log_followup(row, db.session.get(Customer, customer_id), values, files)
        db.session.commit()
        return f.id


def task(app, member, **values):
    with in_tenant(app, member.tenant_id, member.user_id):
        t = services.create_task(factories.member_row(member), values)
        db.session.commit()
        return t.id


@pytest.fixture
def other_rep(app, tenant_a):
    return sf.add_rep(app, tenant_a, "other", "周敏", reports_to=None)


@pytest.fixture
def cust(app, tenant_a):
    return sf.customer(app, tenant_a["sales"], "上海华东机电有限公司", contacts=["王经理"])


# ================================================================ services


def test_logging_a_followup_moves_last_followup_at_and_is_audited(app, tenant_a, cust):
    rep = tenant_a["sales"]
    when = utcnow() - timedelta(hours=2)
    fid = log(app, rep, cust, occurred_at=when, kind="visit", summary="上门拜访")
    with in_tenant(app, tenant_a.id):
        c = db.session.get(Customer, cust)
        assert abs(c.last_followup_at - when) < timedelta(seconds=1)
        f = db.session.get(FollowUp, fid)
        assert (f.kind, f.summary, f.author_id) == ("visit", "上门拜访", rep.id)
        assert (
            db.session.scalar(
                select(func.count(AuditEntry.id)).where(
                    AuditEntry.action == "followup.created", AuditEntry.object_id == fid
                )
            )
            == 1
        )


def test_an_older_followup_does_not_move_last_followup_at_back(app, tenant_a, cust):
    rep = tenant_a["sales"]
    log(app, rep, cust)
    log(app, rep, cust, occurred_at=utcnow() - timedelta(days=30))
    with in_tenant(app, tenant_a.id):
        assert utcnow() - db.session.get(Customer, cust).last_followup_at < timedelta(minutes=1)


def test_deleting_the_latest_followup_recomputes_last_followup_at(app, tenant_a, cust):
    rep = tenant_a["sales"]
    old = utcnow() - timedelta(days=5)
    log(app, rep, cust, occurred_at=old)
    newest = log(app, rep, cust)
    with in_tenant(app, tenant_a.id, rep.user_id):
        services.delete_followup(factories.member_row(rep), db.session.get(FollowUp, newest))
        db.session.commit()
        assert abs(db.session.get(Customer, cust).last_followup_at - old) < timedelta(seconds=1)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"summary": "  "}, "summary"),
        ({"kind": "fax"}, "kind"),
        ({"occurred_at": datetime.now(UTC) + timedelta(days=3)}, "occurred_at"),
        ({"next_followup_on": date.today() - timedelta(days=10)}, "next_followup_on"),
        ({"contact_id": 999999}, "contact_id"),
    ],
)
def test_bad_followup_input_names_the_field_and_changes_nothing(app, tenant_a, cust, raw_rows, values, field):
    with pytest.raises(services.InvalidInput) as err:
        log(app, tenant_a["sales"], cust, **values)
    assert field in err.value.errors
    assert raw_rows("followups") == [] and raw_rows("tasks") == []


def test_a_next_followup_date_creates_a_task_for_the_author(app, tenant_a, cust):
    rep = tenant_a["sales"]
    due = date.today() + timedelta(days=7)
    fid = log(app, rep, cust, next_followup_on=due)
    with in_tenant(app, tenant_a.id):
        t = db.session.scalars(select(Task).where(Task.followup_id == fid)).one()
        assert (t.assignee_id, t.customer_id, t.due_on, t.done) == (rep.id, cust, due, False)
        assert "上海华东机电有限公司" in t.title


def test_a_followup_without_next_date_creates_no_task(app, tenant_a, cust, raw_rows):
    log(app, tenant_a["sales"], cust)
    assert raw_rows("tasks") == []


def test_a_rep_cannot_log_on_another_reps_customer(app, tenant_a, cust, other_rep, raw_rows):
    with pytest.raises(services.PermissionDenied):
        log(app, other_rep, cust)
    assert raw_rows("followups") == []


def test_marking_a_task_done_and_reopening_it(app, tenant_a):
    rep = tenant_a["sales"]
    tid = task(app, rep, title="打电话", due_on=date.today())
    with in_tenant(app, tenant_a.id, rep.user_id):
        row, t = factories.member_row(rep), db.session.get(Task, tid)
        services.set_done(row, t)
        assert t.done_at is not None
        db.session.flush()
        services.set_done(row, t, False)
        assert t.done_at is None
        db.session.commit()
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "Task")).all()
    assert actions == ["task.created", "task.done", "task.updated"]


def test_a_task_cannot_be_assigned_outside_the_team(app, tenant_a, other_rep):
    with pytest.raises(services.InvalidInput) as err:
        task(app, tenant_a["sales"], title="x", assignee_id=other_rep.id)
    assert "assignee_id" in err.value.errors


def test_another_reps_task_is_not_changeable(app, tenant_a, other_rep):
    tid = task(app, tenant_a["sales"], title="x")
    with in_tenant(app, tenant_a.id, other_rep.user_id):
        t = db.session.get(Task, tid)
        assert not services.can_read_task(factories.member_row(other_rep), t)
        with pytest.raises(services.PermissionDenied):
            services.set_done(factories.member_row(other_rep), t)


def test_my_tasks_lists_overdue_first_then_by_due_date_undated_last(app, tenant_a):
    rep = tenant_a["sales"]
    today = date.today()
    ids = {
        "later": task(app, rep, title="later", due_on=today + timedelta(days=5)),
        "undated": task(app, rep, title="undated"),
        "today": task(app, rep, title="today", due_on=today),
        "old": task(app, rep, title="old", due_on=today - timedelta(days=9)),
        "late": task(app, rep, title="late", due_on=today - timedelta(days=1)),
    }
    done = task(app, rep, title="done", due_on=today - timedelta(days=20))
    with in_tenant(app, tenant_a.id, rep.user_id):
        row = factories.member_row(rep)
        services.set_done(row, db.session.get(Task, done))
        db.session.commit()
        titles = [t.title for t in services.my_tasks(row, on=today)]
        day = [t.title for t in services.my_day(row, on=today)]
    assert titles == ["old", "late", "today", "later", "undated"]
    assert day == ["old", "late", "today"]
    assert ids


# ================================================================ UI


def test_the_360_page_shows_the_timeline_newest_first(app, tenant_a, cust, client_as):
    rep = tenant_a["sales"]
    log(app, rep, cust, summary="第一次", occurred_at=utcnow() - timedelta(days=2))
    log(app, rep, cust, summary="第二次", next_followup_on=date.today() + timedelta(days=1))
    page = text_of(client_as(rep).get(sf.url(rep, cust)))
    assert 'id="timeline"' in page
    assert page.index("第二次") < page.index("第一次")
    assert 'data-testid="followup-form"' in page
    assert page.count("/followups/") == 2  # the author may delete each of their follow-ups
    manager_page = text_of(client_as(tenant_a["sales_manager"]).get(sf.url(rep, cust)))
    assert "第二次" in manager_page and "/followups/" not in manager_page.split('id="timeline"')[1]


def test_logging_through_the_inline_htmx_form_returns_the_timeline(app, tenant_a, cust, client_as, raw_rows):
    rep = tenant_a["sales"]
    c = client_as(rep)
    due = (date.today() + timedelta(days=2)).isoformat()
    r = post(
        c,
        sf.url(rep, cust, "followups"),
        {"kind": "wechat", "summary": "微信确认报价", "next_followup_on": due},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    assert "微信确认报价" in text_of(r) and "<html" not in text_of(r)
    assert len(raw_rows("followups")) == 1 and len(raw_rows("tasks")) == 1


def test_the_form_without_htmx_redirects_and_bad_input_is_400(app, tenant_a, cust, client_as, raw_rows):
    rep = tenant_a["sales"]
    c = client_as(rep)
    r = post(c, sf.url(rep, cust, "followups"), {"kind": "call", "summary": "ok"})
    assert r.status_code == 302
    r = post(c, sf.url(rep, cust, "followups"), {"kind": "call", "summary": ""})
    assert r.status_code == 400
    assert len(raw_rows("followups")) == 1


def test_another_rep_gets_404_logging_on_a_customer_they_cannot_see(
    app, tenant_a, cust, other_rep, client_as, raw_rows
):
    c = client_as(other_rep)
    assert c.get(sf.url(other_rep, cust)).status_code == 404
    r = post(c, sf.url(other_rep, cust, "followups"), {"kind": "call", "summary": "x"})
    assert r.status_code == 404
    assert raw_rows("followups") == []


def test_my_tasks_page_and_mark_done_via_htmx(app, tenant_a, client_as, raw_rows):
    rep = tenant_a["sales"]
    task(app, rep, title="明天的事", due_on=date.today() + timedelta(days=1))
    tid = task(app, rep, title="过期的事", due_on=date.today() - timedelta(days=2))
    c = client_as(rep)
    page = text_of(c.get(f"/w/{rep.slug}/sales/tasks"))
    assert page.index("过期的事") < page.index("明天的事")
    r = post(c, f"/w/{rep.slug}/sales/tasks/{tid}/done", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<s>过期的事</s>" in text_of(r)
    assert next(t for t in raw_rows("tasks") if t["id"] == tid)["done_at"] is not None


def test_another_reps_task_is_404_to_mark_done(app, tenant_a, other_rep, client_as):
    tid = task(app, tenant_a["sales"], title="x")
    assert post(client_as(other_rep), f"/w/{other_rep.slug}/sales/tasks/{tid}/done").status_code == 404


def test_my_day_on_the_sales_dashboard_lists_overdue_then_today_only(app, tenant_a, client_as):
    rep = tenant_a["sales"]
    task(app, rep, title="今天回电", due_on=date.today())
    task(app, rep, title="上周欠的", due_on=date.today() - timedelta(days=7))
    task(app, rep, title="下周的事", due_on=date.today() + timedelta(days=7))
    page = text_of(client_as(rep).get(f"/w/{rep.slug}/sales/"))
    assert 'data-testid="my-day"' in page
    assert page.index("上周欠的") < page.index("今天回电")
    assert "下周的事" not in page


def test_the_360_page_issues_the_same_sql_with_1_or_10_followups(app, tenant_a, client_as, count_queries):
    rep = tenant_a["sales"]
    one = sf.customer(app, rep, "一号客户", contacts=["甲"])
    ten = sf.customer(app, rep, "十号客户", contacts=["乙"])
    with in_tenant(app, tenant_a.id):
        contact_one = db.session.get(Customer, one).contacts[0].id
        contact_ten = db.session.get(Customer, ten).contacts[0].id
    log(app, rep, one, contact_id=contact_one, next_followup_on=date.today(), files=[("a.txt", TXT)])
    for i in range(10):
        log(app, rep, ten, summary=f"第{i}次", contact_id=contact_ten, next_followup_on=date.today(),
            files=[(f"{i}.txt", TXT)])  # fmt: skip
    c = client_as(rep)
    c.get(sf.url(rep, one))  # warm caches
    with count_queries() as q1:
        assert c.get(sf.url(rep, one)).status_code == 200
    with count_queries() as q10:
        assert c.get(sf.url(rep, ten)).status_code == 200
    assert q1.count == q10.count, "\n".join(q10.statements)
