"""series revision: the SEQUENCE of a series' calendar entries, bumped by every change

Revision ID: d4a7e1c9b2f3
Revises: b81e4c2d7f05
Create Date: 2026-11-26 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4a7e1c9b2f3'
down_revision = 'b81e4c2d7f05'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        'maintenance_series',
        sa.Column('revision', sa.Integer(), server_default='0', nullable=False),
    )
    # Start above every SEQUENCE the calendars published before: the series' own (its
    # sequence plus its EXDATEs, at most one per changed occurrence) and its occurrences'
    # (its sequence plus theirs).
    op.execute(
        'UPDATE maintenance_series SET revision = sequence + COALESCE('
        '(SELECT SUM(w.sequence) FROM maintenance_window w '
        'WHERE w.series_id = maintenance_series.id), 0)'
    )


def downgrade():
    with op.batch_alter_table('maintenance_series') as batch:
        batch.drop_column('revision')
