"""merge the sales branches (activities, pipeline, quotes, pool, registry), built in parallel

Revision ID: 0011_merge_sales
Revises: 0006_activities, 0007_pipeline, 0008_quotes, 0009_pool, 0010_registry
"""

revision = "0011_merge_sales"
down_revision = ("0006_activities", "0007_pipeline", "0008_quotes", "0009_pool", "0010_registry")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
