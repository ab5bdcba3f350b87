"""products, quotes, quote lines and per-workspace number sequences

Revision ID: 0008_quotes
Revises: 0005_user_sessions
Create Date: 2026-11-27 22:20:00

Written from the models (crm/catalog/models.py, crm/quotes/models.py, crm/numbering.py),
in the shape autogenerate gives; only these four tables.
"""
from alembic import op
import sqlalchemy as sa

import crm.catalog.models
import crm.db
from tenants.migration_ops import disable_rls, enable_rls, grant_app_role

TABLES = ["number_sequences", "products", "quotes", "quote_lines"]

# revision identifiers, used by Alembic.
revision = '0008_quotes'
down_revision = '0005_user_sessions'
branch_labels = None
depends_on = None


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'), ondelete='CASCADE')


def upgrade():
    op.create_table('number_sequences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('next', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    _tenant_fk('number_sequences'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_number_sequences')),
    sa.UniqueConstraint('tenant_id', 'kind', 'year', name=op.f('uq_number_sequences_tenant_id_kind_year'))
    )
    with op.batch_alter_table('number_sequences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_number_sequences_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('specification', sa.String(length=200), nullable=True),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('list_price', crm.db.Money(), nullable=False),
    sa.Column('vat_rate', crm.catalog.models.Scaled(2), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', crm.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', crm.db.UTCDateTime(), nullable=False),
    _tenant_fk('products'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_products_tenant_id_code'))
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_products_tenant_category', ['tenant_id', 'category'], unique=False)
        batch_op.create_index('ix_products_tenant_name', ['tenant_id', 'name'], unique=False)

    op.create_table('quotes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('prices_include_tax', sa.Boolean(), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('terms', sa.Text(), nullable=True),
    sa.Column('total_excl', crm.db.Money(), nullable=False),
    sa.Column('total_tax', crm.db.Money(), nullable=False),
    sa.Column('total_incl', crm.db.Money(), nullable=False),
    sa.Column('sent_at', crm.db.UTCDateTime(), nullable=True),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', crm.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', crm.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['memberships.id'], name=op.f('fk_quotes_created_by_id_memberships'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_quotes_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['previous_id'], ['quotes.id'], name=op.f('fk_quotes_previous_id_quotes'), ondelete='SET NULL'),
    _tenant_fk('quotes'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotes')),
    sa.UniqueConstraint('tenant_id', 'number', 'version', name=op.f('uq_quotes_tenant_id_number_version'))
    )
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotes_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_quotes_tenant_customer', ['tenant_id', 'customer_id'], unique=False)
        batch_op.create_index('ix_quotes_tenant_status', ['tenant_id', 'status'], unique=False)

    op.create_table('quote_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('specification', sa.String(length=200), nullable=True),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('quantity', crm.catalog.models.Scaled(3), nullable=False),
    sa.Column('unit_price', crm.db.Money(), nullable=False),
    sa.Column('discount_pct', crm.catalog.models.Scaled(2), nullable=False),
    sa.Column('tax_rate', crm.catalog.models.Scaled(2), nullable=False),
    sa.Column('amount_excl', crm.db.Money(), nullable=False),
    sa.Column('tax', crm.db.Money(), nullable=False),
    sa.Column('amount_incl', crm.db.Money(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_quote_lines_product_id_products'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes.id'], name=op.f('fk_quote_lines_quote_id_quotes'), ondelete='CASCADE'),
    _tenant_fk('quote_lines'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_lines'))
    )
    with op.batch_alter_table('quote_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_lines_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_quote_lines_tenant_quote', ['tenant_id', 'quote_id'], unique=False)

    enable_rls(op, TABLES)
    grant_app_role(op)


def downgrade():
    disable_rls(op, TABLES)
    for table in reversed(TABLES):
        op.drop_table(table)
