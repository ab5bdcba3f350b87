"""contracts with payment plans and reviews, orders with lines; quotes link to their opportunity

Revision ID: 0012_contracts_orders
Revises: 0011_merge_sales
Create Date: 2026-11-27 23:45:00

Written from the models (crm/contracts/models.py, crm/orders/models.py) in the shape
autogenerate gives.
"""
from alembic import op
import sqlalchemy as sa

import crm.catalog.models
import crm.db
from tenants.migration_ops import disable_rls, enable_rls, grant_app_role

TABLES = ["contracts", "contract_payments", "contract_reviews", "orders", "order_lines"]

revision = '0012_contracts_orders'
down_revision = '0011_merge_sales'
branch_labels = None
depends_on = None


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'), ondelete='CASCADE')


def _fk(table, column, target, ondelete):
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'), ondelete=ondelete)


def _timestamps():
    return [sa.Column('created_at', crm.db.UTCDateTime(), nullable=False),
            sa.Column('updated_at', crm.db.UTCDateTime(), nullable=False)]


def upgrade():
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opportunity_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_quotes_opportunity_id_opportunities'), 'opportunities',
                                    ['opportunity_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_quotes_tenant_opportunity', ['tenant_id', 'opportunity_id'], unique=False)

    op.create_table('contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=True),
    sa.Column('opportunity_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('amount', crm.db.Money(), nullable=False),
    sa.Column('terms', sa.Text(), nullable=True),
    sa.Column('submitted_at', crm.db.UTCDateTime(), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', crm.db.UTCDateTime(), nullable=True),
    sa.Column('terminated_at', crm.db.UTCDateTime(), nullable=True),
    sa.Column('termination_reason', sa.String(length=255), nullable=True),
    sa.Column('expiry_reminded_at', crm.db.UTCDateTime(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    *_timestamps(),
    _fk('contracts', 'customer_id', 'customers', 'CASCADE'),
    _fk('contracts', 'quote_id', 'quotes', 'SET NULL'),
    _fk('contracts', 'opportunity_id', 'opportunities', 'SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['memberships.id'], name=op.f('fk_contracts_owner_id_memberships'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['memberships.id'], name=op.f('fk_contracts_created_by_id_memberships'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['approved_by_id'], ['memberships.id'], name=op.f('fk_contracts_approved_by_id_memberships'), ondelete='SET NULL'),
    _tenant_fk('contracts'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_contracts_tenant_id_number'))
    )
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contracts_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_contracts_tenant_customer', ['tenant_id', 'customer_id'], unique=False)
        batch_op.create_index('ix_contracts_tenant_status_end', ['tenant_id', 'status', 'ends_on'], unique=False)
        batch_op.create_index('ix_contracts_tenant_owner', ['tenant_id', 'owner_id'], unique=False)

    op.create_table('contract_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount', crm.db.Money(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    _fk('contract_payments', 'contract_id', 'contracts', 'CASCADE'),
    _tenant_fk('contract_payments'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_payments'))
    )
    with op.batch_alter_table('contract_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_payments_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_contract_payments_tenant_contract', ['tenant_id', 'contract_id'], unique=False)

    op.create_table('contract_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=12), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', crm.db.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    _fk('contract_reviews', 'contract_id', 'contracts', 'CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['memberships.id'], name=op.f('fk_contract_reviews_member_id_memberships'), ondelete='SET NULL'),
    _tenant_fk('contract_reviews'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_reviews'))
    )
    with op.batch_alter_table('contract_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_reviews_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_contract_reviews_tenant_contract', ['tenant_id', 'contract_id'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('quote_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('order_date', sa.Date(), nullable=False),
    sa.Column('province', sa.String(length=30), nullable=True),
    sa.Column('city', sa.String(length=30), nullable=True),
    sa.Column('delivery_status', sa.String(length=12), nullable=False),
    sa.Column('prices_include_tax', sa.Boolean(), nullable=False),
    sa.Column('total_excl', crm.db.Money(), nullable=False),
    sa.Column('total_tax', crm.db.Money(), nullable=False),
    sa.Column('total_incl', crm.db.Money(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    *_timestamps(),
    _fk('orders', 'customer_id', 'customers', 'CASCADE'),
    _fk('orders', 'contract_id', 'contracts', 'SET NULL'),
    _fk('orders', 'quote_id', 'quotes', 'SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['memberships.id'], name=op.f('fk_orders_owner_id_memberships'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['memberships.id'], name=op.f('fk_orders_created_by_id_memberships'), ondelete='SET NULL'),
    _tenant_fk('orders'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_orders_tenant_id_number'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_orders_tenant_customer', ['tenant_id', 'customer_id'], unique=False)
        batch_op.create_index('ix_orders_tenant_date', ['tenant_id', 'order_date'], unique=False)
        batch_op.create_index('ix_orders_tenant_owner', ['tenant_id', 'owner_id'], unique=False)
        batch_op.create_index('ix_orders_tenant_contract', ['tenant_id', 'contract_id'], unique=False)

    op.create_table('order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('specification', sa.String(length=200), nullable=True),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('quantity', crm.catalog.models.Scaled(3), nullable=False),
    sa.Column('delivered_quantity', crm.catalog.models.Scaled(3), nullable=False),
    sa.Column('unit_price', crm.db.Money(), nullable=False),
    sa.Column('discount_pct', crm.catalog.models.Scaled(2), nullable=False),
    sa.Column('tax_rate', crm.catalog.models.Scaled(2), nullable=False),
    sa.Column('amount_excl', crm.db.Money(), nullable=False),
    sa.Column('tax', crm.db.Money(), nullable=False),
    sa.Column('amount_incl', crm.db.Money(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    _fk('order_lines', 'order_id', 'orders', 'CASCADE'),
    _fk('order_lines', 'product_id', 'products', 'SET NULL'),
    _tenant_fk('order_lines'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_lines'))
    )
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_lines_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_order_lines_tenant_order', ['tenant_id', 'order_id'], unique=False)
        batch_op.create_index('ix_order_lines_tenant_product', ['tenant_id', 'product_id'], unique=False)

    enable_rls(op, TABLES)
    grant_app_role(op)


def downgrade():
    disable_rls(op, TABLES)
    for table in reversed(TABLES):
        op.drop_table(table)
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.drop_index('ix_quotes_tenant_opportunity')
        batch_op.drop_constraint(batch_op.f('fk_quotes_opportunity_id_opportunities'), type_='foreignkey')
        batch_op.drop_column('opportunity_id')
