"""contact name bigrams: a GIN-indexed text[] so a 2-character contact-name search is indexed

Revision ID: 0016_contact_bigrams
Revises: 0015_work_reports
Create Date: 2026-11-28 00:50:00

pg_trgm has no trigram for a two-character term (百川), so the contact-name arm of the
customer search scanned every contact of the workspace. Customers solved this with
search_bigrams (0004_customers); contacts get the same: name_bigrams, declared like
customers.search_bigrams (text[] on PostgreSQL, JSON elsewhere), back-filled here with the
service's own helper (crm.sales.rules.bigrams), and a GIN index with the leakproof opclass
(0003_leakproof_search) so it stays usable under row-level security.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tenants.migration_ops import is_postgres

revision = '0016_contact_bigrams'
down_revision = '0015_work_reports'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade():
    pg = is_postgres(op)
    # A server default only while existing rows are filled in: the app always writes the column.
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'name_bigrams', sa.JSON().with_variant(postgresql.ARRAY(sa.Text()), 'postgresql'),
            nullable=False, server_default=sa.text("'{}'") if pg else sa.text("'[]'"),
        ))
    _backfill(pg)
    if pg:
        op.alter_column('contacts', 'name_bigrams', server_default=None)
        op.execute(
            "CREATE INDEX ix_contacts_name_bigrams ON contacts USING gin (name_bigrams leakproof_text_array_ops)"
        )


def _backfill(pg):
    """Batched by id: compute each name's bigrams in Python, write them with one executemany."""
    from crm.sales.rules import bigrams

    bind = op.get_bind()
    column = sa.column('name_bigrams', postgresql.ARRAY(sa.Text()) if pg else sa.JSON())
    contacts = sa.table('contacts', sa.column('id', sa.Integer()), sa.column('name', sa.String()), column)
    update = (
        sa.update(contacts)
        .where(contacts.c.id == sa.bindparam('b_id'))
        .values(name_bigrams=sa.bindparam('b_grams', type_=column.type))
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(contacts.c.id, contacts.c.name).where(contacts.c.id > last).order_by(contacts.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(update, [{'b_id': cid, 'b_grams': bigrams(name or '')} for cid, name in rows])
        last = rows[-1][0]


def downgrade():
    if is_postgres(op):
        op.execute("DROP INDEX IF EXISTS ix_contacts_name_bigrams")
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('name_bigrams')
