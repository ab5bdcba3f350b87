"""row-level security on every tenant-owned table; grants for the app role

Revision ID: 0002_rls
Revises: 0001_platform
"""

from alembic import op

from tenants.migration_ops import disable_rls, enable_rls, grant_app_role

revision = "0002_rls"
down_revision = "0001_platform"
branch_labels = None
depends_on = None

TABLES = ["memberships", "invitations", "api_tokens", "audit_entries", "notifications", "job_records"]


def upgrade():
    enable_rls(op, TABLES)
    grant_app_role(op)


def downgrade():
    disable_rls(op, TABLES)
