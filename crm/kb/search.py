"""The knowledge base in the top-bar search: articles the member may read, by title or body."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.db import db
from crm.kb import services
from crm.kb.models import KbArticle
from crm.markdown import plain_text
from crm.search import SearchHit, provider
from roles.checks import can
from tenants.models import Membership


@provider
def kb_provider(member: Membership, q: str, limit: int) -> list[SearchHit]:
    if not can(member, "office.access") or not q.strip():
        return []
    rows = db.session.scalars(
        select(KbArticle)
        .where(services.article_filter(member), services.search_condition(q, db.session.get_bind().dialect.name))
        .order_by(KbArticle.updated_at.desc(), KbArticle.id.desc())
        .limit(limit)
    )
    return [
        SearchHit(_l("Article"), a.title, plain_text(a.body, 120), url_for("kb.show", article_id=a.id)) for a in rows
    ]
