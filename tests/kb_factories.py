"""Helpers for the knowledge-base tests: arrange through the real services, read back."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from crm.db import db
from crm.kb import services as kb
from crm.kb.models import KbArticle, KbArticleVersion
from tenants.models import Membership
from tests.factories import MemberInfo
from tests.helpers import in_tenant


def category(
    app: Flask, manager: MemberInfo, name: str, parent_id: int | None = None, roles: list[str] | None = None
) -> int:
    with in_tenant(app, manager.tenant_id, user_id=manager.user_id):
        actor = db.session.get(Membership, manager.id)
        c = kb.save_category(actor, {"name": name, "parent_id": parent_id, "roles": roles or []})
        db.session.commit()
        return c.id


def article(
    app: Flask, manager: MemberInfo, category_id: int, title: str, body: str = "", status: str = "published", **kw: Any
) -> int:
    with in_tenant(app, manager.tenant_id, user_id=manager.user_id):
        actor = db.session.get(Membership, manager.id)
        a = kb.create_article(
            actor, kb.ArticleInput(title=title, body=body, category_id=category_id, status=status, **kw)
        )
        db.session.commit()
        return a.id


def edit(app: Flask, manager: MemberInfo, article_id: int, base: int | None = None, **values: Any) -> int:
    """Save new values on top of ``base`` (default: current); returns the new version."""
    with in_tenant(app, manager.tenant_id, user_id=manager.user_id):
        actor = db.session.get(Membership, manager.id)
        a = db.session.get(KbArticle, article_id)
        kb.update_article(actor, a, kb.ArticleInput(fields_sent=set(values), **values), base)
        db.session.commit()
        return a.version


def link(app: Flask, member: MemberInfo, article_id: int, object_type: str, object_id: int) -> int:
    with in_tenant(app, member.tenant_id, user_id=member.user_id):
        actor = db.session.get(Membership, member.id)
        lk = kb.add_link(actor, db.session.get(KbArticle, article_id), object_type, object_id)
        db.session.commit()
        return lk.id


def read(app: Flask, tenant_id: int, article_id: int) -> dict[str, Any] | None:
    with in_tenant(app, tenant_id):
        a = db.session.get(KbArticle, article_id)
        if a is None:
            return None
        versions = db.session.scalars(
            select(KbArticleVersion).where(KbArticleVersion.article_id == article_id).order_by(KbArticleVersion.version)
        )
        return {
            "title": a.title, "body": a.body, "status": a.status, "version": a.version, "tags": a.tag_list,
            "last_editor_id": a.last_editor_id, "author_id": a.author_id,
            "versions": [(v.version, v.title, v.body) for v in versions],
        }  # fmt: skip


def count(app: Flask, tenant_id: int, model: type) -> int:
    with in_tenant(app, tenant_id):
        return len(list(db.session.scalars(select(model.id))))


def add_kb_objects(app: Flask, world: Any) -> None:
    """Per workspace: a category open to everyone, a published article in it (two versions), and
    a link from that article to the sales rep's customer."""
    world.kb_category_id, world.kb_article_id, world.kb_link_id = {}, {}, {}
    for key, t in world.tenants.items():
        owner = t["owner"]
        cid = category(app, owner, f"{t.slug} 销售手册")
        aid = article(app, owner, cid, f"{t.slug} 报价流程", "第一版")
        edit(app, owner, aid, body="第二版")
        world.kb_category_id[key] = cid
        world.kb_article_id[key] = aid
        world.kb_link_id[key] = link(app, t["sales"], aid, "customer", world.customer_id[key])
