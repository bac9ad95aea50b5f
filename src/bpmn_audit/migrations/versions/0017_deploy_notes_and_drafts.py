"""A note with each deployed version, and the modeller's drafts (one per process and file).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 21:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deployments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.String(length=2000), nullable=True))
    op.create_table(
        'process_drafts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('process_key', sa.String(length=200), nullable=False),
        sa.Column('file_name', sa.String(length=300), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('saved_by', sa.String(length=200), nullable=False),
        sa.Column('saved_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('process_key', 'file_name', name='uq_process_drafts_file'),
    )


def downgrade() -> None:
    op.drop_table('process_drafts')
    with op.batch_alter_table('deployments', schema=None) as batch_op:
        batch_op.drop_column('note')
