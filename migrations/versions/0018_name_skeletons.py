"""users.name_skeleton: what each display name looks like (Unicode TR39 skeleton, forum/names.py),
so that a name looking the same as another member's is refused (issue 13, point 5); existing
members' skeletons are filled in

The index is not unique: two members named alike before this rule keep their names (the
services refuse only new look-alikes). The skeletons are computed with forum.names.skeleton as
it is when this runs; a later change to that function needs a migration that recomputes them.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from forum.names import skeleton

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BATCH = 1000

users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("display_name", sa.String),
    sa.column("name_skeleton", sa.String),
)


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name_skeleton", sa.String(length=300), server_default="", nullable=False)
        )
    connection = op.get_bind()
    last_id = 0
    while True:  # in batches of ids, so a large members table is never held in memory at once
        rows = connection.execute(
            sa.select(users.c.id, users.c.display_name)
            .where(users.c.id > last_id)
            .order_by(users.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            users.update()
            .where(users.c.id == sa.bindparam("row_id"))
            .values(name_skeleton=sa.bindparam("skeleton")),
            [{"row_id": row.id, "skeleton": skeleton(row.display_name or "")} for row in rows],
        )
        last_id = rows[-1].id
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index("ix_users_name_skeleton", ["name_skeleton"], unique=False)


def downgrade():
    # Lossless: the skeleton is computed from display_name, which stays.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_name_skeleton")
        batch_op.drop_column("name_skeleton")
