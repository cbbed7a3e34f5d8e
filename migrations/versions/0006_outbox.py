"""the mail outbox: a mail is written as "waiting" with the action that causes it, and
delivered after the commit

Revision ID: 0006_outbox
Revises: 0005_b15
Create Date: 2026-12-03 12:00:00

mail_log: attachments (JSON, so that a waiting mail carries its check-in code), attempts,
claimed_at (a sender's atomic claim), sent_at; an index on status (the outbox is read by it).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_outbox'
down_revision = '0005_b15'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mail_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachments', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_mail_log_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('mail_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_log_status'))
        batch_op.drop_column('sent_at')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('attachments')
