"""The Office dashboard: announcements, the reports waiting to be read and one's own, recent articles."""

from __future__ import annotations

from tests import kb_factories as kf
from tests import work_report_factories as wf
from tests.helpers import text_of


def test_the_manager_sees_the_reps_report_to_read_and_published_articles_only(app, tenant_a, client_as):
    cat = kf.category(app, tenant_a["admin"], "销售手册")
    kf.article(app, tenant_a["admin"], cat, "大客户拜访流程")
    kf.article(app, tenant_a["admin"], cat, "未发布的草稿", status="draft")
    wf.report(app, tenant_a["sales"])  # sent to the rep's manager by default
    page = text_of(client_as(tenant_a["sales_manager"]).get(f"/w/{tenant_a.slug}/office/"))
    assert 'data-testid="office-reports"' in page and tenant_a["sales"].name in page
    assert "大客户拜访流程" in page and "未发布的草稿" not in page
    rep_page = text_of(client_as(tenant_a["sales"]).get(f"/w/{tenant_a.slug}/office/"))
    assert "Submitted" in rep_page or "已提交" in rep_page  # their own report, listed as theirs


def test_empty_office_says_what_to_do(app, tenant_a, client_as):
    page = text_of(client_as(tenant_a["sales"]).get(f"/w/{tenant_a.slug}/office/"))
    assert "/office/reports/new" in page


def test_the_dashboard_costs_the_same_statements_with_more_data(app, tenant_a, client_as, count_queries):
    c = client_as(tenant_a["sales_manager"])
    cat = kf.category(app, tenant_a["admin"], "产品资料")
    kf.article(app, tenant_a["admin"], cat, "第一篇")
    wf.report(app, tenant_a["sales"])
    c.get(f"/w/{tenant_a.slug}/office/")
    with count_queries() as few:
        assert c.get(f"/w/{tenant_a.slug}/office/").status_code == 200
    for i in range(5):
        kf.article(app, tenant_a["admin"], cat, f"文章{i}")
    wf.report(app, tenant_a["sales"], kind="weekly")
    with count_queries() as many:
        assert c.get(f"/w/{tenant_a.slug}/office/").status_code == 200
    assert len(many.statements) == len(few.statements)
