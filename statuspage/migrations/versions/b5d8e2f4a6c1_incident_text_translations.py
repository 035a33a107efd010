"""incident text translations: titles and update texts in es/de beside the original, and
when an update's text was corrected

Revision ID: b5d8e2f4a6c1
Revises: c7e2a5d9f3b1
Create Date: 2026-12-07 04:00:00

"""
from alembic import op
import sqlalchemy as sa
import statuspage.types


# revision identifiers, used by Alembic.
revision = 'b5d8e2f4a6c1'
down_revision = 'c7e2a5d9f3b1'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        'incident',
        sa.Column('title_translations', sa.JSON(), server_default='{}', nullable=False),
    )
    op.add_column(
        'incident_update',
        sa.Column('body_translations', sa.JSON(), server_default='{}', nullable=False),
    )
    op.add_column(
        'incident_update',
        sa.Column('edited_at', statuspage.types.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade():
    with op.batch_alter_table('incident_update') as batch:
        batch.drop_column('edited_at')
        batch.drop_column('body_translations')
    with op.batch_alter_table('incident') as batch:
        batch.drop_column('title_translations')
