"""submission.stored_path no longer unique: revisions of the same bytes share the stored file

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 09:00:00

Uploading an earlier revision's file again makes a new revision that points at the file
already stored (and at its normalised PDF) instead of a second copy, so several rows may
share a stored_path. The unique constraint becomes a plain index (lookups by path stay fast).

The downgrade restores the constraint; it fails while two rows share a path.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite: batch mode (render_as_batch in env.py) copies the table without the constraint.
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_constraint('uq_submission_stored_path', type_='unique')
        batch_op.create_index(batch_op.f('ix_submission_stored_path'), ['stored_path'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_stored_path'))
        batch_op.create_unique_constraint('uq_submission_stored_path', ['stored_path'])
