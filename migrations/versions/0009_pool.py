"""public pool: pool events and the owner clock on customers

Revision ID: 0009_pool
Revises: 0005_user_sessions
"""

import sqlalchemy as sa
from alembic import op

import crm.db
from tenants.migration_ops import disable_rls, enable_rls, grant_app_role

revision = "0009_pool"
down_revision = "0005_user_sessions"
branch_labels = None
depends_on = None

TABLES = ["pool_events"]


def upgrade():
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owned_since", crm.db.UTCDateTime(), nullable=True))
    # Customers owned before this revision start their clock at creation.
    op.execute("UPDATE customers SET owned_since = created_at WHERE owner_id IS NOT NULL")
    op.create_table(
        "pool_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("created_at", crm.db.UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["memberships.id"], name=op.f("fk_pool_events_actor_id_memberships"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_pool_events_customer_id_customers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["memberships.id"], name=op.f("fk_pool_events_member_id_memberships"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_pool_events_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_events")),
    )
    with op.batch_alter_table("pool_events", schema=None) as batch_op:
        batch_op.create_index("ix_pool_events_tenant_customer", ["tenant_id", "customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pool_events_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "ix_pool_events_tenant_member_time", ["tenant_id", "member_id", "action", "created_at"], unique=False
        )
    enable_rls(op, TABLES)
    grant_app_role(op)


def downgrade():
    disable_rls(op, TABLES)
    op.drop_table("pool_events")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("owned_since")
