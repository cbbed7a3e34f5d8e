"""programme times and titles; per-user session version; forced password change

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 08:10:00

seminar: the opening and closing items of the session (title and minutes).
assignment: the presenter's name as printed in the agenda and the paper's minutes; the agenda's
times follow from the session start, the opening, and the papers in order.
user_account: session_version (raised to revoke every session of the account) and
must_change_password (set for generated passwords).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('seminar', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_title', sa.String(length=300), nullable=False,
                                      server_default='Khai mạc tọa đàm'))
        batch_op.add_column(sa.Column('opening_minutes', sa.Integer(), nullable=False,
                                      server_default='15'))
        batch_op.add_column(sa.Column('closing_title', sa.String(length=300), nullable=False,
                                      server_default='Thảo luận, kết luận và bế mạc tọa đàm'))
        batch_op.add_column(sa.Column('closing_minutes', sa.Integer(), nullable=False,
                                      server_default='20'))
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('presenter_name', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('duration_minutes', sa.Integer(), nullable=False,
                                      server_default='25'))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False,
                                      server_default='1'))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('session_version')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_column('duration_minutes')
        batch_op.drop_column('presenter_name')
    with op.batch_alter_table('seminar', schema=None) as batch_op:
        batch_op.drop_column('closing_minutes')
        batch_op.drop_column('closing_title')
        batch_op.drop_column('opening_minutes')
        batch_op.drop_column('opening_title')
