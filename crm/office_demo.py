"""Demo data for the Office workspace (`flask seed demo`): announcements, knowledge-base articles
and a work report, through the same services the pages use. Idempotent by title."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from crm.announcements import services as announcements
from crm.announcements.models import Announcement
from crm.db import db, utcnow
from crm.kb import services as kb
from crm.kb.models import KbArticle, KbCategory
from crm.workreports import services as reports
from crm.workreports.models import WorkReport
from tenants.models import Membership, Tenant

ANNOUNCEMENTS = [
    ("2027 年元旦放假安排", "holiday", [], True,
     "各位同事：\n\n**1 月 1 日至 3 日**放假，共 3 天；1 月 4 日（周一）正常上班。\n\n"
     "- 放假前请整理好手头的客户跟进\n- 值班安排见附件"),
    ("十二月销售冲刺目标", "policy", ["sales", "sales_manager"], False,
     "本月团队目标 **300 万**（含税）。\n\n| 小组 | 目标 |\n|---|---|\n"
     "| 华东 | 120 万 |\n| 华南 | 100 万 |\n| 华北 | 80 万 |"),
]  # fmt: skip

ARTICLES = [
    ("销售手册", "大客户拜访流程",
     "## 拜访前\n\n1. 查看客户 360° 页面的跟进记录和商机\n2. 准备报价单草稿\n\n"
     "## 拜访后\n\n当天写跟进记录，约好下次联系时间。"),
    ("销售手册", "报价与合同审批规则",
     "- 折扣超过 **15%** 的报价须经销售经理确认\n"
     "- 合同提交后由销售经理审批，本人不能审批自己提交的合同\n"
     "- 回款计划各期金额之和必须等于合同金额"),
    ("产品资料", "智能仓储系统产品说明",
     "适用于 5,000–50,000 平方米仓库。\n\n**核心模块**：入库、出库、盘点、条码追溯。"),
]  # fmt: skip


def seed_office(tenant: Tenant, members: list[Membership], now: datetime | None = None) -> dict[str, int]:
    """Inside the tenant's context; the caller commits."""
    now = now or utcnow()
    admin = next((m for m in members if "admin" in m.roles), members[0])
    made = {"announcements": 0, "articles": 0, "reports": 0}
    have = set(db.session.scalars(select(Announcement.title)))
    for title, category, roles, pinned, body in ANNOUNCEMENTS:
        if title not in have:
            data = {"title": title, "category": category, "audience_roles": roles, "pinned": pinned, "body": body}
            announcements.create(admin, data, now)
            made["announcements"] += 1
    categories = {c.name: c for c in db.session.scalars(select(KbCategory))}
    have = set(db.session.scalars(select(KbArticle.title)))
    for cat_name, title, body in ARTICLES:
        if cat_name not in categories:
            categories[cat_name] = kb.save_category(admin, {"name": cat_name, "parent_id": None, "roles": []})
        if title not in have:
            kb.create_article(
                admin, kb.ArticleInput(title=title, body=body, category_id=categories[cat_name].id, status="published")
            )
            made["articles"] += 1
    rep = next((m for m in members if "sales" in m.roles and m.reports_to_id), None)
    yesterday = (now - timedelta(days=1)).date()
    if rep is not None and not db.session.scalar(select(WorkReport.id).where(WorkReport.author_id == rep.id)):
        report = reports.create_report(rep, tenant, "daily", yesterday, use_prefill=True)
        if not report.done:  # a fresh seed may have no follow-ups dated yesterday for this rep
            reports.update_report(rep, report, {"done": "- 整理客户资料，准备下周拜访计划"})
        reports.submit_report(rep, report, now=now - timedelta(hours=14))
        made["reports"] += 1
    db.session.flush()
    return made
