"""work reports, recipients, comments and submission rules

Revision ID: 0015_work_reports
Revises: 0014_knowledge_base
Create Date: 2026-11-28 00:10:00
"""
from alembic import op
import sqlalchemy as sa

import crm.db
from tenants.migration_ops import disable_rls, enable_rls, grant_app_role

TABLES: list[str] = []

revision = '0015_work_reports'
down_revision = '0014_knowledge_base'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
