"""knowledge-base categories, articles, versions and links

Revision ID: 0014_knowledge_base
Revises: 0013_announcements
Create Date: 2026-11-28 00:10:00
"""
from alembic import op
import sqlalchemy as sa

import crm.db
from tenants.migration_ops import disable_rls, enable_rls, grant_app_role

TABLES: list[str] = []

revision = '0014_knowledge_base'
down_revision = '0013_announcements'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
