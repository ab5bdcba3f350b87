"""Merge the four branches that grew from 0018_imports in parallel: expense claims, payroll,
the sales ledger and the wider import kinds. No schema change of its own.

Revision ID: 0023_merge_finance_sales
Revises: 0019_expenses, 0020_payroll, 0021_sales_ledger, 0022_import_kinds
"""

revision = "0023_merge_finance_sales"
down_revision = ("0019_expenses", "0020_payroll", "0021_sales_ledger", "0022_import_kinds")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
