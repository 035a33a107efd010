"""incident update etr: an estimated time of resolution given instead of scheduled updates

Revision ID: e8c2f4a61d09
Revises: d4a7e1c9b2f3
Create Date: 2026-11-25 23:30:00

"""
from alembic import op
import sqlalchemy as sa
import statuspage.types


# revision identifiers, used by Alembic.
revision = 'e8c2f4a61d09'
down_revision = 'd4a7e1c9b2f3'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        'incident_update',
        sa.Column('etr', statuspage.types.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade():
    with op.batch_alter_table('incident_update') as batch:
        batch.drop_column('etr')
