"""the capacity's lower bound is one seat, in the database as in the service and the form

Revision ID: 0006_capacity
Revises: 0006_booklet_build
Create Date: 2026-12-03 12:00:00

seminar: the check constraint capacity >= 0 becomes capacity >= 1 (a capacity of 0, which
no page or command could set, becomes 1).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_capacity'
down_revision = '0006_booklet_build'
branch_labels = None
depends_on = None


def upgrade():
    seminar = sa.table('seminar', sa.column('capacity', sa.Integer()))
    op.get_bind().execute(seminar.update().where(seminar.c.capacity < 1).values(capacity=1))
    with op.batch_alter_table('seminar', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_seminar_capacity_not_negative'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_seminar_capacity_at_least_one'),
                                         'capacity >= 1')


def downgrade():
    with op.batch_alter_table('seminar', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_seminar_capacity_at_least_one'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_seminar_capacity_not_negative'),
                                         'capacity >= 0')
