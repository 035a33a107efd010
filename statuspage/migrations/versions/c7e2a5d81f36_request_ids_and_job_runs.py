"""request ids and job runs: the request (or job run) that caused a notice, carried into its
deliveries; and each scheduled job's latest run, the scheduler's heartbeat

Revision ID: c7e2a5d81f36
Revises: a3c5e7f9b1d2
Create Date: 2026-12-08 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import statuspage.types


# revision identifiers, used by Alembic.
revision = 'c7e2a5d81f36'
down_revision = 'a3c5e7f9b1d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_run',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('interval_seconds', sa.Float(), nullable=False),
        sa.Column('last_run_at', statuspage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_success_at', statuspage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_duration_seconds', sa.Float(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_job_run')),
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=64), nullable=True))
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_column('request_id')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_column('request_id')
    op.drop_table('job_run')
