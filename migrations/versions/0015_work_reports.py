"""work reports, recipients, comments and submission rules

Revision ID: 0015_work_reports
Revises: 0014_knowledge_base
Create Date: 2026-11-28 00:10:00

Written from the models (crm/workreports/models.py) in the shape autogenerate gives. The
submission rules live in tenants.settings["work_reports"], so they need no table.
"""
from alembic import op
import sqlalchemy as sa

import crm.db
from tenants.migration_ops import disable_rls, enable_rls, grant_app_role

TABLES: list[str] = [
    "work_reports", "work_report_recipients", "work_report_comments", "work_report_links", "work_report_reminders",
]

revision = '0015_work_reports'
down_revision = '0014_knowledge_base'
branch_labels = None
depends_on = None


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'), ondelete='CASCADE')


def _fk(table, column, target, ondelete):
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'), ondelete=ondelete)


def upgrade():
    op.create_table('work_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('done', sa.Text(), nullable=True),
    sa.Column('planned', sa.Text(), nullable=True),
    sa.Column('problems', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('submitted_at', crm.db.UTCDateTime(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', crm.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', crm.db.UTCDateTime(), nullable=False),
    _fk('work_reports', 'author_id', 'memberships', 'CASCADE'),
    _tenant_fk('work_reports'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_reports')),
    sa.UniqueConstraint('tenant_id', 'author_id', 'kind', 'period_start',
                        name=op.f('uq_work_reports_tenant_id_author_id_kind_period_start'))
    )
    with op.batch_alter_table('work_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_reports_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_work_reports_tenant_kind_period', ['tenant_id', 'kind', 'period_start'], unique=False)
        batch_op.create_index('ix_work_reports_tenant_author', ['tenant_id', 'author_id'], unique=False)

    op.create_table('work_report_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('read_at', crm.db.UTCDateTime(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    _fk('work_report_recipients', 'report_id', 'work_reports', 'CASCADE'),
    _fk('work_report_recipients', 'member_id', 'memberships', 'CASCADE'),
    _tenant_fk('work_report_recipients'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_report_recipients')),
    sa.UniqueConstraint('tenant_id', 'report_id', 'member_id',
                        name=op.f('uq_work_report_recipients_tenant_id_report_id_member_id'))
    )
    with op.batch_alter_table('work_report_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_report_recipients_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_work_report_recipients_tenant_member', ['tenant_id', 'member_id'], unique=False)

    op.create_table('work_report_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', crm.db.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    _fk('work_report_comments', 'report_id', 'work_reports', 'CASCADE'),
    _fk('work_report_comments', 'member_id', 'memberships', 'SET NULL'),
    _fk('work_report_comments', 'parent_id', 'work_report_comments', 'SET NULL'),
    _tenant_fk('work_report_comments'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_report_comments'))
    )
    with op.batch_alter_table('work_report_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_report_comments_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_work_report_comments_tenant_report', ['tenant_id', 'report_id'], unique=False)

    op.create_table('work_report_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('object_type', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    _fk('work_report_links', 'report_id', 'work_reports', 'CASCADE'),
    _tenant_fk('work_report_links'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_report_links')),
    sa.UniqueConstraint('tenant_id', 'report_id', 'object_type', 'object_id',
                        name=op.f('uq_work_report_links_tenant_id_report_id_object_type_object_id'))
    )
    with op.batch_alter_table('work_report_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_report_links_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_work_report_links_tenant_report', ['tenant_id', 'report_id'], unique=False)

    op.create_table('work_report_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('created_at', crm.db.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    _fk('work_report_reminders', 'member_id', 'memberships', 'CASCADE'),
    _tenant_fk('work_report_reminders'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_report_reminders')),
    sa.UniqueConstraint('tenant_id', 'member_id', 'kind', 'period_start',
                        name=op.f('uq_work_report_reminders_tenant_id_member_id_kind_period_start'))
    )
    with op.batch_alter_table('work_report_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_report_reminders_tenant_id'), ['tenant_id'], unique=False)

    enable_rls(op, TABLES)
    grant_app_role(op)


def downgrade():
    disable_rls(op, TABLES)
    for table in reversed(TABLES):
        op.drop_table(table)
