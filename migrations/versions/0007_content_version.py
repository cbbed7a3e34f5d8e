"""seminar.content_version: a token that changes with what the attendee pages show

Revision ID: 0007_content_version
Revises: 0006_capacity
Create Date: 2026-12-03 15:00:00

Every seminar gets a fresh random token (a database restored from an older backup is upgraded
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
    with op.batch_alter_table('seminar', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_version', sa.String(length=32), nullable=False,
                                      server_default=''))
    seminar = sa.table('seminar', sa.column('id', sa.Integer()),
                       sa.column('content_version', sa.String()))
    bind = op.get_bind()
    for (seminar_id,) in bind.execute(sa.select(seminar.c.id)).all():
        bind.execute(seminar.update().where(seminar.c.id == seminar_id)
                     .values(content_version=secrets.token_hex(16)))


def downgrade():
    with op.batch_alter_table('seminar', schema=None) as batch_op:
        batch_op.drop_column('content_version')
