"""A person's private calendar feed link (the digest of its secret).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 20:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_digest', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_users_calendar_digest', ['calendar_digest'])


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_calendar_digest', type_='unique')
        batch_op.drop_column('calendar_digest')
