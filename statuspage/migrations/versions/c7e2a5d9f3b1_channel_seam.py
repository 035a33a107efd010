"""channel seam: what any channel may need of a subscriber and a delivery. A subscriber a
provider was told to stop (SMS STOP) and the wrong codes typed since its last code; a
delivery's release by staff past its channel's ceiling, and the provider's message id and
its later status (a status callback)

Revision ID: c7e2a5d9f3b1
Revises: b7e3d1f5a9c2
Create Date: 2026-12-08 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import statuspage.types


# revision identifiers, used by Alembic.
revision = 'c7e2a5d9f3b1'
down_revision = 'b7e3d1f5a9c2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('stopped_at', statuspage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column('verification_failures', sa.Integer(), server_default='0', nullable=False)
        )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('released_at', statuspage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('provider_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('provider_status', sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                'provider_status_at', statuspage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index(batch_op.f('ix_delivery_provider_id'), ['provider_id'], unique=False)


def downgrade():
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_provider_id'))
        batch_op.drop_column('provider_status_at')
        batch_op.drop_column('provider_status')
        batch_op.drop_column('provider_id')
        batch_op.drop_column('released_at')
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.drop_column('verification_failures')
        batch_op.drop_column('stopped_at')
