"""job run: the scheduler's record of which process ran which job, and when

Revision ID: b6d2e8f4a1c3
Revises: a3c5e7f9b1d2
Create Date: 2026-12-07 12:00:00

"""
from alembic import op
import sqlalchemy as sa

import statuspage.types


# revision identifiers, used by Alembic.
revision = 'b6d2e8f4a1c3'
down_revision = 'a3c5e7f9b1d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job', sa.String(length=32), nullable=False),
        sa.Column('owner', sa.String(length=120), nullable=False),
        sa.Column('started_at', statuspage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', statuspage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run')),
    )
    op.create_index('ix_job_run_job_started_at', 'job_run', ['job', 'started_at'], unique=False)


def downgrade():
    op.drop_index('ix_job_run_job_started_at', table_name='job_run')
    op.drop_table('job_run')
