"""delivery batch index: a sender's batch without re-reading a large notice's queue

Revision ID: b81e4c2d7f05
Revises: 7d3b5e1c9a42
Create Date: 2026-11-25 22:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b81e4c2d7f05'
down_revision = '7d3b5e1c9a42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_delivery_batch',
        'delivery',
        ['notice_id', 'status', 'language', 'timezone', 'id'],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_delivery_batch', table_name='delivery')
