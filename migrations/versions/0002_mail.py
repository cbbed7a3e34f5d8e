"""mail: the log of sent and failed mail, and the reminders already sent

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 04:59:54

mail_log: every mail the portal sent or tried to send (the Office's /office/mail page).
reminder_sent: one row per (assignment, deadline, Vietnam calendar day) a reminder went out,
so that `flask remind` never sends twice the same day.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('transport', sa.String(length=8), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_mail_log_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_log'))
    )
    with op.batch_alter_table('mail_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_log_at'), ['at'], unique=False)

    op.create_table('reminder_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_reminder_sent_assignment_id_assignment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_sent')),
    sa.UniqueConstraint('assignment_id', 'deadline', 'day', name='uq_reminder_sent_assignment_deadline_day')
    )
    with op.batch_alter_table('reminder_sent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_sent_assignment_id'), ['assignment_id'], unique=False)



def downgrade():
    with op.batch_alter_table('reminder_sent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_sent_assignment_id'))

    op.drop_table('reminder_sent')
    with op.batch_alter_table('mail_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_log_at'))

    op.drop_table('mail_log')
