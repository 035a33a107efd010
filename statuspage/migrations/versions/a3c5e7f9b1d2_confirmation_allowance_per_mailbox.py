"""confirmation allowance per mailbox: the confirmation-mail throttle moves from each
subscriber row to a table keyed by the mailbox (a +tag or another spelling of an address
shares it); the allowances start afresh

Revision ID: a3c5e7f9b1d2
Revises: f1b7d93c2a54
Create Date: 2026-12-07 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import statuspage.types


# revision identifiers, used by Alembic.
revision = 'a3c5e7f9b1d2'
down_revision = 'f1b7d93c2a54'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'confirmation_allowance',
        sa.Column('mailbox', sa.String(length=64), nullable=False),
        sa.Column('last_sent_at', statuspage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('sent', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('mailbox', name=op.f('pk_confirmation_allowance')),
    )
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.drop_column('confirmations_sent')
        batch_op.drop_column('confirmation_sent_at')


def downgrade():
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'confirmation_sent_at', statuspage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column('confirmations_sent', sa.Integer(), server_default='0', nullable=False)
        )
    op.drop_table('confirmation_allowance')
