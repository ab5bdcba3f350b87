"""announcements, their audience, reads and acknowledgements

Revision ID: 0013_announcements
Revises: 0012_contracts_orders
Create Date: 2026-11-28 00:10:00

Written from the models (crm/announcements/models.py) in the shape autogenerate gives.
"""
from alembic import op
import sqlalchemy as sa

import crm.db
from tenants.migration_ops import disable_rls, enable_rls, grant_app_role

TABLES: list[str] = ["announcements", "announcement_reads"]

revision = '0013_announcements'
down_revision = '0012_contracts_orders'
branch_labels = None
depends_on = None


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'), ondelete='CASCADE')


def upgrade():
    op.create_table('announcements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('audience_roles', sa.JSON(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('publish_at', crm.db.UTCDateTime(), nullable=True),
    sa.Column('expires_at', crm.db.UTCDateTime(), nullable=True),
    sa.Column('requires_ack', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('notified_at', crm.db.UTCDateTime(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', crm.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', crm.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['memberships.id'], name=op.f('fk_announcements_author_id_memberships'), ondelete='SET NULL'),
    _tenant_fk('announcements'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcements'))
    )
    with op.batch_alter_table('announcements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcements_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_announcements_tenant_publish', ['tenant_id', 'publish_at'], unique=False)
        batch_op.create_index('ix_announcements_tenant_ack', ['tenant_id', 'requires_ack'], unique=False)

    op.create_table('announcement_reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('read_at', crm.db.UTCDateTime(), nullable=True),
    sa.Column('acknowledged_at', crm.db.UTCDateTime(), nullable=True),
    sa.Column('reminded_at', crm.db.UTCDateTime(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcements.id'], name=op.f('fk_announcement_reads_announcement_id_announcements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['memberships.id'], name=op.f('fk_announcement_reads_member_id_memberships'), ondelete='CASCADE'),
    _tenant_fk('announcement_reads'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement_reads')),
    sa.UniqueConstraint('tenant_id', 'announcement_id', 'member_id', name=op.f('uq_announcement_reads_tenant_id_announcement_id_member_id'))
    )
    with op.batch_alter_table('announcement_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcement_reads_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_announcement_reads_tenant_member', ['tenant_id', 'member_id'], unique=False)

    enable_rls(op, TABLES)
    grant_app_role(op)


def downgrade():
    disable_rls(op, TABLES)
    for table in reversed(TABLES):
        op.drop_table(table)
