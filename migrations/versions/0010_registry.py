"""business registration records imported per workspace

Revision ID: 0010_registry
Revises: 0005_user_sessions
"""

import sqlalchemy as sa
from alembic import op

import crm.db
from tenants.migration_ops import disable_rls, enable_rls, grant_app_role, is_postgres

revision = "0010_registry"
down_revision = "0005_user_sessions"
branch_labels = None
depends_on = None

TABLES = ["registry_entries"]


def upgrade():
    op.create_table(
        "registry_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("legal_representative", sa.String(length=60), nullable=True),
        sa.Column("registered_capital", sa.String(length=60), nullable=True),
        sa.Column("established_on", sa.Date(), nullable=True),
        sa.Column("address", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", crm.db.UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_registry_entries_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_entries")),
        sa.UniqueConstraint("tenant_id", "uscc", name=op.f("uq_registry_entries_tenant_id_uscc")),
    )
    with op.batch_alter_table("registry_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registry_entries_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_registry_entries_tenant_name", ["tenant_id", "name"], unique=False)
    if is_postgres(op):
        op.execute("CREATE INDEX ix_registry_entries_name_trgm ON registry_entries USING gin (name leakproof_trgm_ops)")
    enable_rls(op, TABLES)
    grant_app_role(op)


def downgrade():
    disable_rls(op, TABLES)
    op.drop_table("registry_entries")
