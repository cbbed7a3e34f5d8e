"""content_version: a token that changes with what the attendee pages show

Revision ID: 0007_content_version
Revises: 0006_capacity
Create Date: 2026-12-03 15:00:00

One row, with a fresh random token (a database restored from an older backup is upgraded
with a new one too, so no process can take it for content it has seen).
"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007_content_version'
down_revision = '0006_capacity'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'content_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_content_version')),
    )
    op.bulk_insert(table, [{'id': 1, 'token': secrets.token_hex(16)}])


def downgrade():
    op.drop_table('content_version')
