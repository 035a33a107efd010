"""sign-in: directory accounts, a server-side session per sign-in, TOTP second factors
with recovery codes, and API tokens that are scoped and expire (tokens issued before get
every scope and 90 days from the upgrade)

Revision ID: b7e3d1f5a9c2
Revises: c7e2a5d81f36
Create Date: 2026-12-08 09:00:00

"""
from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa

import statuspage.types


# revision identifiers, used by Alembic.
revision = 'b7e3d1f5a9c2'
down_revision = 'c7e2a5d81f36'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sso_issuer', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('sso_subject', sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column(
                'disabled_by_directory', sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.create_unique_constraint(
            batch_op.f('uq_user_sso_issuer_sso_subject'), ['sso_issuer', 'sso_subject']
        )

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'scopes',
                sa.String(length=64),
                server_default='read write subscribers',
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column('expires_at', statuspage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('revoked_reason', sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                'use_recorded_at', statuspage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
    api_token = sa.table(
        'api_token', sa.column('expires_at', statuspage.types.UTCDateTime(timezone=True))
    )
    op.execute(
        api_token.update().values(expires_at=datetime.now(UTC) + timedelta(days=90))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column(
            'expires_at',
            existing_type=statuspage.types.UTCDateTime(timezone=True),
            nullable=False,
        )

    op.create_table(
        'staff_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('signed_in_at', statuspage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            'directory_checked_at', statuspage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column('user_agent', sa.String(length=255), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('ended_at', statuspage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('ended_reason', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'],
            ['user.id'],
            name=op.f('fk_staff_session_user_id_user'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_session')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_staff_session_key_hash')),
    )
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_session_user_id'), ['user_id'], unique=False)

    op.create_table(
        'second_factor',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('created_at', statuspage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', statuspage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_step', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'],
            ['user.id'],
            name=op.f('fk_second_factor_user_id_user'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_second_factor')),
        sa.UniqueConstraint('user_id', name=op.f('uq_second_factor_user_id')),
    )

    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', statuspage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', statuspage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'],
            ['user.id'],
            name=op.f('fk_recovery_code_user_id_user'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')),
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))
    op.drop_table('recovery_code')
    op.drop_table('second_factor')
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_session_user_id'))
    op.drop_table('staff_session')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('use_recorded_at')
        batch_op.drop_column('revoked_reason')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('scopes')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_sso_issuer_sso_subject'), type_='unique')
        batch_op.drop_column('disabled_by_directory')
        batch_op.drop_column('sso_subject')
        batch_op.drop_column('sso_issuer')
