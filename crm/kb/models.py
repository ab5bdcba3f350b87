"""Office → Knowledge base (知识库): nested categories with role visibility, versioned articles, links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Model, Timestamps, UTCDateTime, utcnow
from crm.sales.models import Bigrams
from tenants.models import Membership, TenantScoped
from tenants.search_sql import bigram_index, trigram_index

STATUSES = ("draft", "published")
LINK_TYPES = ("customer", "opportunity")


class KbCategory(TenantScoped, Timestamps, Model):
    __tablename__ = "kb_categories"
    __table_args__ = (Index("ix_kb_categories_tenant_parent", "tenant_id", "parent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("kb_categories.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # Role names that may read the category; empty = everyone with office.access.
    roles: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)


class KbArticle(TenantScoped, Timestamps, Model):
    __tablename__ = "kb_articles"
    __table_args__ = (
        Index("ix_kb_articles_tenant_category", "tenant_id", "category_id"),
        Index("ix_kb_articles_tenant_status", "tenant_id", "status", "updated_at"),
        # Searches that stay index-backed under row-level security (tenants.search_sql).
        trigram_index("ix_kb_articles_title_trgm", "title"),
        trigram_index("ix_kb_articles_body_trgm", "body"),
        bigram_index("ix_kb_articles_bigrams", "search_bigrams"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("kb_categories.id", ondelete="CASCADE"), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(12), default="draft", nullable=False)
    # Normalised ",tag1,tag2," so one LIKE finds a tag on every backend.
    tags: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    last_editor_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    # Compare-and-swap counter: every save is UPDATE … WHERE version = <the version the editor started from>.
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    search_bigrams: Mapped[list[str]] = mapped_column(Bigrams, default=list, nullable=False)

    category: Mapped[KbCategory] = relationship()
    author: Mapped[Membership | None] = relationship(foreign_keys=[author_id])
    last_editor: Mapped[Membership | None] = relationship(foreign_keys=[last_editor_id])

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]


class KbArticleVersion(TenantScoped, Model):
    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("tenant_id", "article_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    note: Mapped[str | None] = mapped_column(String(200))

    editor: Mapped[Membership | None] = relationship()


class KbLink(TenantScoped, Model):
    __tablename__ = "kb_links"
    __table_args__ = (
        UniqueConstraint("tenant_id", "article_id", "object_type", "object_id"),
        Index("ix_kb_links_tenant_object", "tenant_id", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), nullable=False)
    object_type: Mapped[str] = mapped_column(String(20), nullable=False)
    object_id: Mapped[int] = mapped_column(Integer, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    article: Mapped[KbArticle] = relationship()
