"""booklet_build: the claim on the one booklet build running at a time, across processes

Revision ID: 0006_booklet_build
Revises: 0006_outbox
Create Date: 2026-12-03 12:10:00

One row (id 1): who builds (owner token, host, pid), when it started, its heartbeat, its
stage and fraction (what the progress file held), and how it ended (running, failed with a
reason, finished).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_booklet_build'
down_revision = '0006_outbox'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'booklet_build',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner', sa.String(length=32), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('draft', sa.Boolean(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
        sa.Column('stage', sa.String(length=32), nullable=False),
        sa.Column('fraction', sa.Float(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('error_code', sa.String(length=32), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('booklet_id', sa.Integer(), nullable=True),
        sa.Column('pages', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_booklet_build')),
    )


def downgrade():
    op.drop_table('booklet_build')
