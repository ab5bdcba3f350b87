"""announcements, their audience, reads and acknowledgements

Revision ID: 0013_announcements
Revises: 0012_contracts_orders
Create Date: 2026-11-28 00:10:00
"""
from alembic import op
import sqlalchemy as sa

import crm.db
from tenants.migration_ops import disable_rls, enable_rls, grant_app_role

TABLES: list[str] = []

revision = '0013_announcements'
down_revision = '0012_contracts_orders'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
