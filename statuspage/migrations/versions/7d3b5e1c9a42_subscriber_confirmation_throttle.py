"""subscriber confirmation throttle: when the last confirmation mail was queued, and how many

Revision ID: 7d3b5e1c9a42
Revises: 5e2a9c41b7d0
Create Date: 2026-11-26 12:00:00

"""
from alembic import op
import sqlalchemy as sa

import statuspage.types


# revision identifiers, used by Alembic.
revision = '7d3b5e1c9a42'
down_revision = '5e2a9c41b7d0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'confirmation_sent_at', statuspage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column('confirmations_sent', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.drop_column('confirmations_sent')
        batch_op.drop_column('confirmation_sent_at')
