"""knowledge-base categories, articles, versions and links

Revision ID: 0014_knowledge_base
Revises: 0013_announcements
Create Date: 2026-11-28 00:10:00

Written from the models (crm/kb/models.py) in the shape autogenerate gives.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import crm.db
from tenants.migration_ops import disable_rls, enable_rls, grant_app_role, is_postgres

TABLES: list[str] = ["kb_categories", "kb_articles", "kb_article_versions", "kb_links"]
PG_INDEXES = ("ix_kb_articles_title_trgm", "ix_kb_articles_body_trgm", "ix_kb_articles_bigrams")

revision = '0014_knowledge_base'
down_revision = '0013_announcements'
branch_labels = None
depends_on = None


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'), ondelete='CASCADE')


def _member_fk(table, column):
    return sa.ForeignKeyConstraint([column], ['memberships.id'], name=op.f(f'fk_{table}_{column}_memberships'), ondelete='SET NULL')


def _timestamps():
    return [sa.Column('created_at', crm.db.UTCDateTime(), nullable=False),
            sa.Column('updated_at', crm.db.UTCDateTime(), nullable=False)]


def upgrade():
    op.create_table('kb_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    *_timestamps(),
    sa.ForeignKeyConstraint(['parent_id'], ['kb_categories.id'], name=op.f('fk_kb_categories_parent_id_kb_categories'), ondelete='CASCADE'),
    _tenant_fk('kb_categories'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_categories'))
    )
    with op.batch_alter_table('kb_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_categories_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_kb_categories_tenant_parent', ['tenant_id', 'parent_id'], unique=False)

    op.create_table('kb_articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('tags', sa.String(length=500), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('last_editor_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('published_at', crm.db.UTCDateTime(), nullable=True),
    sa.Column('search_bigrams', sa.JSON().with_variant(postgresql.ARRAY(sa.Text()), 'postgresql'), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    *_timestamps(),
    sa.ForeignKeyConstraint(['category_id'], ['kb_categories.id'], name=op.f('fk_kb_articles_category_id_kb_categories'), ondelete='CASCADE'),
    _member_fk('kb_articles', 'author_id'),
    _member_fk('kb_articles', 'last_editor_id'),
    _tenant_fk('kb_articles'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_articles'))
    )
    with op.batch_alter_table('kb_articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_articles_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_kb_articles_tenant_category', ['tenant_id', 'category_id'], unique=False)
        batch_op.create_index('ix_kb_articles_tenant_status', ['tenant_id', 'status', 'updated_at'], unique=False)

    op.create_table('kb_article_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('editor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', crm.db.UTCDateTime(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], name=op.f('fk_kb_article_versions_article_id_kb_articles'), ondelete='CASCADE'),
    _member_fk('kb_article_versions', 'editor_id'),
    _tenant_fk('kb_article_versions'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_article_versions')),
    sa.UniqueConstraint('tenant_id', 'article_id', 'version', name=op.f('uq_kb_article_versions_tenant_id_article_id_version'))
    )
    with op.batch_alter_table('kb_article_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_article_versions_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('kb_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('object_type', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', crm.db.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], name=op.f('fk_kb_links_article_id_kb_articles'), ondelete='CASCADE'),
    _member_fk('kb_links', 'created_by_id'),
    _tenant_fk('kb_links'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_links')),
    sa.UniqueConstraint('tenant_id', 'article_id', 'object_type', 'object_id', name=op.f('uq_kb_links_tenant_id_article_id_object_type_object_id'))
    )
    with op.batch_alter_table('kb_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_links_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_kb_links_tenant_object', ['tenant_id', 'object_type', 'object_id'], unique=False)

    if is_postgres(op):
        # Searches that stay index-backed under RLS: operator classes from 0003_leakproof_search.
        op.execute("CREATE INDEX ix_kb_articles_title_trgm ON kb_articles USING gin (title leakproof_trgm_ops)")
        op.execute("CREATE INDEX ix_kb_articles_body_trgm ON kb_articles USING gin (body leakproof_trgm_ops)")
        op.execute("CREATE INDEX ix_kb_articles_bigrams ON kb_articles USING gin (search_bigrams leakproof_text_array_ops)")

    enable_rls(op, TABLES)
    grant_app_role(op)


def downgrade():
    disable_rls(op, TABLES)
    if is_postgres(op):
        for name in PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    for table in reversed(TABLES):
        op.drop_table(table)
