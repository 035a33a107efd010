"""incident priority/status index: the open master cases every public page's banner reads

Revision ID: f1b7d93c2a54
Revises: f1b9d3c7a2e4
Create Date: 2026-11-25 23:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f1b7d93c2a54'
down_revision = 'f1b9d3c7a2e4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_incident_priority_status', 'incident', ['priority', 'status'])


def downgrade():
    op.drop_index('ix_incident_priority_status', table_name='incident')
