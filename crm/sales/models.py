"""Sales: customers, their contacts, collaborators and tags."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from crm.db import Model, Timestamps, UTCDateTime, utcnow
from crm.sales.rules import bigrams
from tenants.models import Membership, TenantScoped
from tenants.search_sql import bigram_index, trigram_index

# A text[] under GIN on PostgreSQL; JSON elsewhere (SQLite searches fall back to LIKE).
Bigrams = JSON().with_variant(postgresql.ARRAY(Text()), "postgresql")

LEVELS = ("A", "B", "C")
STATUSES = ("potential", "active", "dormant", "lost")


class Customer(TenantScoped, Timestamps, Model):
    __tablename__ = "customers"
    __table_args__ = (
        # Keyset pagination of the list: newest first within a tenant.
        Index("ix_customers_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_customers_tenant_owner", "tenant_id", "owner_id"),
        Index("ix_customers_tenant_name_norm", "tenant_id", "name_normalized"),
        Index("ix_customers_tenant_phone", "tenant_id", "phone_normalized"),
        Index("ix_customers_tenant_email", "tenant_id", "email"),
        Index("ix_customers_tenant_pinyin_initials", "tenant_id", "pinyin_initials"),
        Index("ix_customers_tenant_last_followup", "tenant_id", "last_followup_at"),
        # For ON DELETE SET NULL of merged_into_id: PostgreSQL's foreign-key trigger looks rows up
        # by that column alone, so without it every customer delete scans the table and undoing a
        # 100,000-row import is quadratic. Partial: only merged customers have one.
        Index("ix_customers_merged_into", "merged_into_id", postgresql_where=text("merged_into_id IS NOT NULL")),
        UniqueConstraint("tenant_id", "uscc"),
        # Searches that stay index-backed under row-level security (tenants.search_sql).
        bigram_index("ix_customers_bigrams", "search_bigrams"),
        trigram_index("ix_customers_name_trgm", "name"),
        trigram_index("ix_customers_pinyin_trgm", "pinyin_full"),
        trigram_index("ix_customers_initials_trgm", "pinyin_initials"),
        trigram_index("ix_customers_phone_trgm", "phone_normalized"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    short_name: Mapped[str | None] = mapped_column(String(100))
    uscc: Mapped[str | None] = mapped_column(String(18))
    uscc_override_reason: Mapped[str | None] = mapped_column(String(255))
    industry: Mapped[str | None] = mapped_column(String(60))
    level: Mapped[str | None] = mapped_column(String(1))
    source: Mapped[str | None] = mapped_column(String(60))
    province: Mapped[str | None] = mapped_column(String(30))
    city: Mapped[str | None] = mapped_column(String(30))
    address: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(255))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="potential", nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    last_followup_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Never returned to the public pool by the workspace's rules.
    locked: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # When the current owner got it (created, claimed or assigned): the pool rules' clock.
    owned_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))

    # Search keys, maintained by the service on every write.
    name_normalized: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    phone_normalized: Mapped[str | None] = mapped_column(String(40))
    pinyin_full: Mapped[str | None] = mapped_column(String(600))
    pinyin_initials: Mapped[str | None] = mapped_column(String(200))
    search_bigrams: Mapped[list[str]] = mapped_column(Bigrams, default=list, nullable=False)

    owner: Mapped[Membership | None] = relationship(foreign_keys=[owner_id])
    tags: Mapped[list[CustomerTag]] = relationship(cascade="all, delete-orphan", order_by="CustomerTag.tag")
    collaborators: Mapped[list[CustomerCollaborator]] = relationship(cascade="all, delete-orphan")
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Contact.id"
    )

    @property
    def tag_names(self) -> list[str]:
        return [t.tag for t in self.tags]


class CustomerTag(TenantScoped, Model):
    __tablename__ = "customer_tags"
    __table_args__ = (
        UniqueConstraint("tenant_id", "customer_id", "tag"),
        Index("ix_customer_tags_tenant_tag", "tenant_id", "tag"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False)
    tag: Mapped[str] = mapped_column(String(40), nullable=False)


class CustomerCollaborator(TenantScoped, Model):
    __tablename__ = "customer_collaborators"
    __table_args__ = (
        UniqueConstraint("tenant_id", "customer_id", "member_id"),
        Index("ix_customer_collaborators_tenant_member", "tenant_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False)
    member_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), nullable=False)
    can_edit: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    member: Mapped[Membership] = relationship()


class Contact(TenantScoped, Timestamps, Model):
    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_tenant_customer", "tenant_id", "customer_id"),
        Index("ix_contacts_tenant_name", "tenant_id", "name"),
        trigram_index("ix_contacts_name_trgm", "name"),
        # A two-character name (百川) has no trigram: its bigrams are looked up instead.
        bigram_index("ix_contacts_name_bigrams", "name_bigrams"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    title: Mapped[str | None] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(100))
    reports_to_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    mobile: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    wechat: Mapped[str | None] = mapped_column(String(60))
    birthday: Mapped[date | None] = mapped_column(Date)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    # Search key, kept in step with the name by _name_changed (whoever sets the name).
    name_bigrams: Mapped[list[str]] = mapped_column(Bigrams, default=list, nullable=False)

    customer: Mapped[Customer] = relationship(back_populates="contacts")
    reports_to: Mapped[Contact | None] = relationship(remote_side=[id])

    @validates("name")
    def _name_changed(self, _key: str, name: str | None) -> str | None:
        self.name_bigrams = bigrams(name or "")
        return name


POOL_ACTIONS = ("claim", "release", "assign", "return", "warn")


class PoolEvent(TenantScoped, Model):
    """A customer entering or leaving the public pool (公海), or a warning that it soon will."""

    __tablename__ = "pool_events"
    __table_args__ = (
        Index("ix_pool_events_tenant_member_time", "tenant_id", "member_id", "action", "created_at"),
        Index("ix_pool_events_tenant_customer", "tenant_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False)
    # Who acted (None for the daily rules) and, for claim/assign/return/warn, whose it was or became.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(10), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
