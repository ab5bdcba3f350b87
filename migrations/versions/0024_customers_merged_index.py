"""An index for customers.merged_into_id, the column a customer delete's foreign-key check
(ON DELETE SET NULL) searches by itself; without it deleting or undoing a large customer import
scans the whole table once per deleted row.

Revision ID: 0024_customers_merged_index
Revises: 0023_merge_finance_sales
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_customers_merged_index"
down_revision = "0023_merge_finance_sales"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_customers_merged_into",
        "customers",
        ["merged_into_id"],
        postgresql_where=sa.text("merged_into_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_customers_merged_into", table_name="customers")
