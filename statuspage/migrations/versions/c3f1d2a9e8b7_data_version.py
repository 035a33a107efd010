"""data version: one row bumped by every write to published data

Revision ID: c3f1d2a9e8b7
Revises: 9b7e4a40dc3d
Create Date: 2026-11-25 22:40:00

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa
import statuspage.types


# revision identifiers, used by Alembic.
revision = 'c3f1d2a9e8b7'
down_revision = '9b7e4a40dc3d'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('data_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('changed_at', statuspage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_version'))
    )
    op.bulk_insert(table, [{'id': 1, 'version': 0, 'changed_at': datetime.now(UTC)}])


def downgrade():
    op.drop_table('data_version')
