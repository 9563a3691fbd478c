"""Indexes for the big lists (issue 15): the featured topics (the home page) and a member's
topics (the profile)

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.create_index("ix_topics_author_id", ["author_id"], unique=False)
        batch_op.create_index(
            "ix_topics_featured",
            ["last_post_at"],
            unique=False,
            sqlite_where=sa.text("is_featured IS 1"),
            postgresql_where=sa.text("is_featured IS true"),
        )


def downgrade():
    # Lossless: indexes only; nothing a member wrote is lost.
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_index("ix_topics_featured")
        batch_op.drop_index("ix_topics_author_id")
