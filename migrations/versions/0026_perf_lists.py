"""Indexes for the list pages (issue 15): restricted topics whose embargo is over (the counts),
a member's topics and replies newest first (the profile)

Revision ID: 0026_perf_lists
Revises: 0027_search_finish
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0026_perf_lists"
down_revision = "0027_search_finish"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_index("ix_topics_author_id")
        batch_op.create_index("ix_topics_author_created", ["author_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_topics_embargo",
            ["embargo_until"],
            unique=False,
            sqlite_where=sa.text("is_restricted IS 1"),
            postgresql_where=sa.text("is_restricted IS true"),
        )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_author_id")
        batch_op.create_index("ix_posts_author_created", ["author_id", "created_at"], unique=False)


def downgrade():
    # Lossless: indexes only; nothing a member wrote is lost.
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_author_created")
        batch_op.create_index("ix_posts_author_id", ["author_id"], unique=False)
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_index("ix_topics_embargo")
        batch_op.drop_index("ix_topics_author_created")
        batch_op.create_index("ix_topics_author_id", ["author_id"], unique=False)
