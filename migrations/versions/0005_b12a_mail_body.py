"""the body of every mail, for the Office's mail log and resending

Revision ID: 0005_b12a
Revises: 0005_b13
Create Date: 2026-12-03 08:10:00

mail_log.body: the plain-text body of the mail as it was sent (or tried), so that the Office
reads it at /office/mail and a failed mail can be sent again unchanged.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_b12a'
down_revision = '0005_b13'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mail_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('html', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('lang', sa.String(length=8), nullable=False,
                                      server_default='vi'))


def downgrade():
    with op.batch_alter_table('mail_log', schema=None) as batch_op:
        batch_op.drop_column('lang')
        batch_op.drop_column('html')
        batch_op.drop_column('body')
