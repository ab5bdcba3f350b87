"""Pages issue a constant number of SQL statements, however many members a workspace has."""

from __future__ import annotations

import pytest

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
