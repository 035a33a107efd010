"""scheduler run: the scheduler's record of which process ran which job, and when (the
exclusivity check; job_run keeps each job's latest run for the heartbeat)

Revision ID: b6d2e8f4a1c3
Revises: b5d8e2f4a6c1
Create Date: 2026-12-07 12:00:00

"""
from alembic import op
import sqlalchemy as sa

import statuspage.types


# revision identifiers, used by Alembic.
revision = 'b6d2e8f4a1c3'
down_revision = 'b5d8e2f4a6c1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'scheduler_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job', sa.String(length=32), nullable=False),
        sa.Column('owner', sa.String(length=120), nullable=False),
        sa.Column('started_at', statuspage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', statuspage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduler_run')),
    )
    op.create_index('ix_scheduler_run_job_started_at', 'scheduler_run', ['job', 'started_at'], unique=False)


def downgrade():
    op.drop_index('ix_scheduler_run_job_started_at', table_name='scheduler_run')
    op.drop_table('scheduler_run')
