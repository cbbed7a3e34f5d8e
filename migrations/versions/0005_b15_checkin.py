"""check-in at the door: a per-registration nonce for the QR code, the check-in time and who
checked the person in; walk-ins (accounts the Office adds at the door, without a password)

Revision ID: 0005_b15
Revises: 0005_b12a
Create Date: 2026-12-03 08:10:00

registration: checkin_nonce (signed into the person's code; existing rows get a random one),
checked_in_at, checked_in_by_id.
user_account: walk_in.
"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_b15'
down_revision = '0005_b12a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('walk_in', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_nonce', sa.String(length=32), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('checked_in_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('checked_in_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_registration_checked_in_by_id_user_account'), 'user_account',
            ['checked_in_by_id'], ['id'])
    bind = op.get_bind()
    registration = sa.table('registration', sa.column('id', sa.Integer()),
                            sa.column('checkin_nonce', sa.String()))
    for (row_id,) in bind.execute(sa.select(registration.c.id)).all():
        bind.execute(registration.update().where(registration.c.id == row_id)
                     .values(checkin_nonce=secrets.token_hex(8)))


def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_registration_checked_in_by_id_user_account'),
                                 type_='foreignkey')
        batch_op.drop_column('checked_in_by_id')
        batch_op.drop_column('checked_in_at')
        batch_op.drop_column('checkin_nonce')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('walk_in')
