"""sales ledger: saved views of the ledger and the reps' sales targets

Revision ID: 0021_sales_ledger
Revises: 0018_imports
Create Date: 2026-11-28 13:10:00.000000

Both tables are tenant-owned: tenant_id first in every index and unique constraint, and the
row-level-security policy on each.
"""
from alembic import op
import sqlalchemy as sa

import crm.db
from tenants.migration_ops import disable_rls, enable_rls, grant_app_role

TABLES: list[str] = ["ledger_views", "sales_targets"]


# revision identifiers, used by Alembic.
revision = '0021_sales_ledger'
down_revision = '0018_imports'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ledger_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['memberships.id'], name=op.f('fk_ledger_views_owner_id_memberships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ledger_views_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_views')),
    sa.UniqueConstraint('tenant_id', 'owner_id', 'name', name=op.f('uq_ledger_views_tenant_id_owner_id_name')),
    )
    with op.batch_alter_table('ledger_views', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_views_tenant_shared', ['tenant_id', 'shared'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_views_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('sales_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('amount', crm.db.Money(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['memberships.id'], name=op.f('fk_sales_targets_member_id_memberships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by_id'], ['memberships.id'], name=op.f('fk_sales_targets_set_by_id_memberships'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sales_targets_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_targets')),
    sa.UniqueConstraint('tenant_id', 'member_id', 'period', name=op.f('uq_sales_targets_tenant_id_member_id_period')),
    )
    with op.batch_alter_table('sales_targets', schema=None) as batch_op:
        batch_op.create_index('ix_sales_targets_tenant_period', ['tenant_id', 'period'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_targets_tenant_id'), ['tenant_id'], unique=False)

    enable_rls(op, TABLES)
    grant_app_role(op)


def downgrade():
    disable_rls(op, TABLES)
    with op.batch_alter_table('sales_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_targets_tenant_id'))
        batch_op.drop_index('ix_sales_targets_tenant_period')
    op.drop_table('sales_targets')
    with op.batch_alter_table('ledger_views', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_views_tenant_id'))
        batch_op.drop_index('ix_ledger_views_tenant_shared')
    op.drop_table('ledger_views')
