"""webhook subscribers: subscriber mode, signing secret, quarantine; delivery channel

Revision ID: f1b9d3c7a2e4
Revises: e8c2f4a61d09
Create Date: 2026-11-25 23:45:00

"""
from alembic import op
import sqlalchemy as sa
import statuspage.types


# revision identifiers, used by Alembic.
revision = 'f1b9d3c7a2e4'
down_revision = 'e8c2f4a61d09'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('subscriber') as batch:
        batch.add_column(
            sa.Column('mode', sa.String(length=16), server_default='email', nullable=False)
        )
        batch.add_column(sa.Column('webhook_secret', sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column('quarantined_at', statuspage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column('quarantine_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('delivery') as batch:
        batch.add_column(
            sa.Column('channel', sa.String(length=16), server_default='email', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('delivery') as batch:
        batch.drop_column('channel')
    with op.batch_alter_table('subscriber') as batch:
        batch.drop_column('quarantine_reason')
        batch.drop_column('quarantined_at')
        batch.drop_column('webhook_secret')
        batch.drop_column('mode')
