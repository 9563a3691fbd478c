"""Drop two columns nothing uses: users.last_seen_at (never written) and posts.deleted_by_id
(written on deletion, never read by any page, export or check)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_posts_deleted_by_id_users'), type_='foreignkey')
        batch_op.drop_column('deleted_by_id')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')


def downgrade():
    # Lossless: adds back, empty, the two columns upgrade() dropped; nothing is removed.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_posts_deleted_by_id_users'), 'users', ['deleted_by_id'], ['id']
        )
