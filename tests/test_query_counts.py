"""Pages issue a constant number of SQL statements, however many members a workspace has."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.db import db
from tenants.models import Membership
from tests import factories
from tests.helpers import in_tenant

PAGES = [
    "/w/{slug}/",
    "/w/{slug}/settings/members",
    "/w/{slug}/sales/",
    "/w/{slug}/office/",
    "/w/{slug}/notifications/bell",
    "/w/{slug}/search?q=a",
]


def _grow(app, tenant, start: int, upto: int) -> None:
    """More members (some reporting to the manager, some deactivated), invitations, jobs."""
    with in_tenant(app, tenant.id):
        owner = db.session.get(Membership, tenant["owner"].id)
        for i in range(start, upto):
            factories.add_member(
                tenant,
                "sales" if i % 3 else "finance",
                f"person{i}@{tenant.slug}.example.com",
                f"成员{i} a",
                reports_to=tenant["sales_manager"].id if i % 2 else None,
                active=i % 5 != 0,
                title=f"title {i}",
            )
            factories.make_invitation(owner, f"invitee{i}@example.com")
            factories.make_notification(owner, f"note {i}")
        factories.make_job(owner)
        db.session.commit()


@pytest.mark.parametrize("page", PAGES)
def test_constant_queries_with_5_and_30_members(app, tenant_a, client_as, count_queries, page):
    url = page.format(slug=tenant_a.slug)
    client = client_as(tenant_a["owner"])
    _grow(app, tenant_a, 0, 0)
    assert client.get(url).status_code == 200  # warm caches (templates, compiled SQL)
    with count_queries() as small:
        assert client.get(url).status_code == 200
    _grow(app, tenant_a, 5, 30)
    with count_queries() as large:
        assert client.get(url).status_code == 200
    assert small.count == large.count, (
        f"{url}: {small.count} statements with 5 members, {large.count} with 30 (an N+1?)\n"
        + "\n".join(large.statements)
    )
    assert large.count <= 25, f"{url}: {large.count} statements"


def test_api_members_constant_queries(app, tenant_a, client, token_for, count_queries):
    h = {"Authorization": f"Bearer {token_for(tenant_a['owner'])}"}
    client.get("/api/v1/members", headers=h)
    with count_queries() as small:
        client.get("/api/v1/members", headers=h)
    _grow(app, tenant_a, 5, 30)
    with count_queries() as large:
        assert client.get("/api/v1/members?page_size=200", headers=h).get_json()["total"] == 30
    assert small.count == large.count, "\n".join(large.statements)


# ================================================================ sales pages: 1 row vs 20 rows of each child
#
# A page's statement count may depend on which kinds of rows exist (no follow-ups, no query for
# their attachments), never on how many: each test compares one row of every kind with twenty.

TXT = b"meeting notes\n"


def _team(app, tenant, n: int) -> list:
    """n reps reporting to the sales manager, each a possible owner, collaborator or assignee."""
    from tests import sales_factories as sf

    return [sf.add_rep(app, tenant, f"rep{i}", f"销售{i}号", reports_to=tenant["sales_manager"].id) for i in range(n)]


def _collaborators(app, owner, customer_id: int, members: list, can_edit: bool = False) -> None:
    """Set a new customer's collaborators in one call (through the service)."""
    from crm.sales import services
    from crm.sales.models import Customer

    with in_tenant(app, owner.tenant_id, owner.user_id):
        c = db.session.get(Customer, customer_id)
        services.set_collaborators(factories.member_row(owner), c, [(m.id, can_edit) for m in members])
        db.session.commit()


def _customer_with_children(app, tenant, owner, name: str, n: int, reps: list) -> int:
    """A customer of ``owner`` with n of each child the 360° page shows: contacts, follow-ups
    (each with an attachment and a next date, so a task), tasks, opportunities with two lines,
    quotes and collaborators (the reps)."""
    from datetime import date, timedelta

    from crm.activities import services as activities
    from crm.pipeline.services import LineInput, OpportunityInput, create_opportunity
    from crm.sales.models import Customer
    from tests import quote_factories as qf
    from tests import sales_factories as sf

    cid = sf.customer(app, owner, name, contacts=[f"联系人{i}" for i in range(n)], tags=[f"标签{i}" for i in range(n)])
    _collaborators(app, owner, cid, reps[:n])
    with in_tenant(app, tenant.id, owner.user_id):
        row = factories.member_row(owner)
        c = db.session.get(Customer, cid)
        contacts = [x.id for x in c.contacts]
        for i in range(n):
            activities.log_followup(
                row,
                c,
                {
                    "kind": "call",
                    "summary": f"第{i}次跟进",
                    "contact_id": contacts[i],
                    "next_followup_on": date.today() + timedelta(days=i),
                },
                [(f"{i}.txt", TXT)],
            )
            activities.create_task(row, {"title": f"任务{i}", "customer_id": cid, "due_on": date.today()})
            create_opportunity(
                row,
                OpportunityInput(
                    values={"customer_id": cid, "title": f"商机{i}"},
                    lines=[LineInput("实施服务", 1, "600.00"), LineInput("年度维保", 2, "200.00")],
                ),
            )
        db.session.commit()
    for _ in range(n):
        qf.quote(app, owner, cid)
    return cid


@pytest.mark.parametrize("viewer", ["sales_manager", "admin"])
def test_the_360_page_issues_the_same_statements_with_1_and_20_of_each_child(
    app, tenant_a, client_as, count_queries, viewer
):
    reps = _team(app, tenant_a, 20)
    owner = reps[0]
    one = _customer_with_children(app, tenant_a, owner, "一号客户有限公司", 1, reps[1:])
    many = _customer_with_children(app, tenant_a, owner, "二十号客户有限公司", 20, reps[1:])
    client = client_as(tenant_a[viewer])
    url = "/w/{}/sales/customers/{}".format
    assert client.get(url(tenant_a.slug, one)).status_code == 200  # warm caches
    with count_queries() as small:
        assert client.get(url(tenant_a.slug, one)).status_code == 200
    with count_queries() as large:
        page = client.get(url(tenant_a.slug, many))
    assert page.status_code == 200
    assert "商机19" in page.get_data(as_text=True)  # the twenty are really on the page
    assert small.count == large.count, (
        f"360° page: {small.count} statements with 1 of each child, {large.count} with 20 (an N+1?)\n"
        + "\n".join(large.statements)
    )


def _grow_customers(app, tenant, reps: list, start: int, upto: int) -> None:
    """Customers owned by different reps of the team, with tags, collaborators, a contact and a follow-up."""
    from tests import sales_factories as sf

    for i in range(start, upto):
        owner = reps[i % len(reps)]
        cid = sf.customer(
            app, owner, f"北京百川科技{i}号有限公司", contacts=[f"百川联系人{i}"], tags=[f"标签{i}", "重点客户"]
        )
        _collaborators(app, owner, cid, [reps[(i + 1) % len(reps)]], can_edit=i % 2 == 0)


@pytest.mark.parametrize("viewer", ["sales_manager", "sales", "admin"])
@pytest.mark.parametrize("query", ["", "?q=百川", "?q=bjbc", "?sort=name"])
def test_the_customer_list_and_searches_issue_the_same_statements_with_1_and_20_customers(
    app, tenant_a, client_as, count_queries, viewer, query
):
    reps = [tenant_a["sales"], *_team(app, tenant_a, 19)]
    _grow_customers(app, tenant_a, reps, 0, 1)
    url = f"/w/{tenant_a.slug}/sales/customers{query}"
    client = client_as(tenant_a[viewer])
    assert client.get(url).status_code == 200
    with count_queries() as small:
        assert client.get(url).status_code == 200
    _grow_customers(app, tenant_a, reps, 1, 20)
    with count_queries() as large:
        assert client.get(url).status_code == 200
    assert small.count == large.count, (
        f"{url} as {viewer}: {small.count} statements with 1 customer, {large.count} with 20 (an N+1?)\n"
        + "\n".join(large.statements)
    )


@pytest.mark.parametrize("viewer", ["sales_manager", "sales"])
@pytest.mark.parametrize("path", ["search?q=百川", "sales/customers/options?q=百川", "sales/customers/options"])
def test_the_search_box_and_customer_picker_issue_the_same_statements_with_1_and_20_customers(
    app, tenant_a, client_as, count_queries, viewer, path
):
    """They load customers through the list's path (only the columns shown): nothing lazy per row."""
    reps = [tenant_a["sales"], *_team(app, tenant_a, 19)]
    _grow_customers(app, tenant_a, reps, 0, 1)
    url = f"/w/{tenant_a.slug}/{path}"
    client = client_as(tenant_a[viewer])
    assert client.get(url).status_code == 200
    with count_queries() as small:
        assert client.get(url).status_code == 200
    _grow_customers(app, tenant_a, reps, 1, 20)
    with count_queries() as large:
        assert client.get(url).status_code == 200
    assert small.count == large.count, (
        f"{url} as {viewer}: {small.count} statements with 1 customer, {large.count} with 20 (an N+1?)\n"
        + "\n".join(large.statements)
    )


def _grow_opportunities(app, tenant, reps: list, start: int, upto: int) -> None:
    """Opportunities of different reps on different customers, with lines, spread over the stages."""
    from crm.pipeline.models import Stage
    from crm.pipeline.services import LineInput, OpportunityInput, create_opportunity, ensure_default_pipeline
    from tests import sales_factories as sf

    for i in range(start, upto):
        owner = reps[i % len(reps)]
        cid = sf.customer(app, owner, f"看板客户{i}有限公司")
        with in_tenant(app, tenant.id, owner.user_id):
            row = factories.member_row(owner)
            pipe = ensure_default_pipeline(row)
            stages = db.session.scalars(select(Stage.id).where(Stage.pipeline_id == pipe.id).order_by(Stage.position))
            create_opportunity(
                row,
                OpportunityInput(
                    values={"customer_id": cid, "title": f"看板商机{i}"},
                    stage_id=list(stages)[i % 4],
                    lines=[LineInput("实施服务", 1, f"{600 + i}.00")],
                ),
            )
            db.session.commit()


@pytest.mark.parametrize("viewer", ["sales_manager", "sales", "admin"])
def test_the_kanban_board_issues_the_same_statements_with_1_and_20_opportunities(
    app, tenant_a, client_as, count_queries, viewer
):
    reps = [tenant_a["sales"], *_team(app, tenant_a, 19)]
    _grow_opportunities(app, tenant_a, reps, 0, 1)
    client = client_as(tenant_a[viewer])
    board = client.get(f"/w/{tenant_a.slug}/sales/pipeline")
    assert board.status_code == 302
    url = board.headers["Location"]
    assert client.get(url).status_code == 200
    with count_queries() as small:
        assert client.get(url).status_code == 200
    _grow_opportunities(app, tenant_a, reps, 1, 20)
    with count_queries() as large:
        page = client.get(url)
    assert page.status_code == 200
    assert small.count == large.count, (
        f"kanban as {viewer}: {small.count} statements with 1 opportunity, {large.count} with 20 (an N+1?)\n"
        + "\n".join(large.statements)
    )


def _grow_tasks(app, tenant, assignee, others: list, start: int, upto: int) -> None:
    """Tasks of ``assignee`` on customers other reps own and ``assignee`` collaborates on (the
    path where reading a task needs the customer's collaborators), plus one without a customer."""
    from datetime import date, timedelta

    from crm.activities import services as activities
    from tests import sales_factories as sf

    for i in range(start, upto):
        owner = others[i % len(others)]
        cid = sf.customer(app, owner, f"任务客户{i}有限公司")
        _collaborators(app, owner, cid, [assignee])
        with in_tenant(app, tenant.id, assignee.user_id):
            row = factories.member_row(assignee)
            due = date.today() + timedelta(days=i - 10)
            activities.create_task(row, {"title": f"客户任务{i}", "customer_id": cid, "due_on": due})
            activities.create_task(row, {"title": f"自己的任务{i}", "due_on": due})
            db.session.commit()


@pytest.mark.parametrize("viewer", ["sales", "sales_manager"])
def test_my_tasks_issues_the_same_statements_with_1_and_20_tasks_on_collaborated_customers(
    app, tenant_a, client_as, count_queries, viewer
):
    from tests import sales_factories as sf

    me = tenant_a[viewer]
    # Reps outside the viewer's line: their customers are readable only as a collaborator.
    others = [sf.add_rep(app, tenant_a, f"outsider{i}", f"外部销售{i}", reports_to=None) for i in range(5)]
    _grow_tasks(app, tenant_a, me, others, 0, 1)
    url = f"/w/{tenant_a.slug}/sales/tasks"
    client = client_as(me)
    assert client.get(url).status_code == 200
    with count_queries() as small:
        assert client.get(url).status_code == 200
    _grow_tasks(app, tenant_a, me, others, 1, 20)
    with count_queries() as large:
        page = client.get(url).get_data(as_text=True)
    assert "客户任务19" in page and "自己的任务19" in page  # collaborated customers' tasks are listed
    assert small.count == large.count, (
        f"My tasks as {viewer}: {small.count} statements with 1 task, {large.count} with 20 (an N+1?)\n"
        + "\n".join(large.statements)
    )


def test_my_tasks_filtered_in_sql_still_hides_tasks_on_archived_or_no_longer_shared_customers(app, tenant_a, client_as):
    from crm.sales import services as sales
    from crm.sales.models import Customer
    from tests import sales_factories as sf

    me = tenant_a["sales"]
    outsider = sf.add_rep(app, tenant_a, "outsider", "外部销售", reports_to=None)
    _grow_tasks(app, tenant_a, me, [outsider], 0, 3)  # 任务客户0..2, shared with me
    with in_tenant(app, tenant_a.id, outsider.user_id):
        row = factories.member_row(outsider)
        customers = {c.name: c for c in db.session.scalars(select(Customer))}
        sales.archive_customer(row, customers["任务客户0有限公司"])
        sales.set_collaborators(row, customers["任务客户1有限公司"], [])  # no longer shared with me
        db.session.commit()
    page = client_as(me).get(f"/w/{tenant_a.slug}/sales/tasks").get_data(as_text=True)
    assert "客户任务2" in page and "自己的任务0" in page
    assert "客户任务0" not in page and "客户任务1" not in page
