"""delivery claim index with id: the next due delivery in (time, id) order is read off the
index instead of sorting every queued row for each claim

Revision ID: c9e4f1a7d2b6
Revises: b6d2e8f4a1c3
Create Date: 2026-12-07 13:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c9e4f1a7d2b6'
down_revision = 'b6d2e8f4a1c3'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_delivery_claim', table_name='delivery')
    op.create_index(
        'ix_delivery_claim', 'delivery', ['status', 'next_attempt_at', 'id'], unique=False
    )


def downgrade():
    op.drop_index('ix_delivery_claim', table_name='delivery')
    op.create_index('ix_delivery_claim', 'delivery', ['status', 'next_attempt_at'], unique=False)
