"""import kinds: room for "journal_entries" and a CHECK on the kinds an import batch may hold

Revision ID: 0022_import_kinds
Revises: 0018_imports
Create Date: 2026-11-28 13:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022_import_kinds"
down_revision = "0018_imports"
branch_labels = None
depends_on = None

KINDS = "kind IN ('customers', 'contacts', 'products', 'orders', 'journal_entries')"


def upgrade():
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.alter_column(
            "kind", existing_type=sa.String(length=12), type_=sa.String(length=20), existing_nullable=False
        )
        batch_op.create_check_constraint(op.f("ck_import_batches_kind"), KINDS)


def downgrade():
    op.execute("DELETE FROM import_batches WHERE kind = 'journal_entries'")
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_import_batches_kind"), type_="check")
        batch_op.alter_column(
            "kind", existing_type=sa.String(length=20), type_=sa.String(length=12), existing_nullable=False
        )
