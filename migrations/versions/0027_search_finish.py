"""Search finished (issue 16): similar topics from the full-text index, no topic_terms; date index

Revision ID: 0027_search_finish
Revises: 0028_attachments
Create Date: 2026-12-04

The similar-topics suggestions now ask the full-text index (post_search) for titles, so the
tf-idf table topic_terms, which nothing reads any more, is dropped. On PostgreSQL the index's
title terms carry weight A from now on (forum/textsearch.py, tsvector_text); rows written before
do not, so run `flask --app forum search reindex` once after upgrading there (until then similar
topics finds only topics written or edited since).

Search by date orders by the posts' created_at (not their ids, which imported posts do not
follow); ix_posts_created_at finds the posts written since a moment.
"""

import sqlalchemy as sa
from alembic import op

revision = "0027_search_finish"
down_revision = "0028_attachments"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("topic_terms", schema=None) as batch_op:
        batch_op.drop_index("ix_topic_terms_term_topic_weight")
    op.drop_table("topic_terms")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index("ix_posts_created_at", ["created_at", "id"], unique=False)


def downgrade():
    # Lossless: an index only.
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_created_at")
    # Lossless: topic_terms held only terms derived from topic titles and opening posts, which
    # stay; the older release's `flask --app forum search reindex` rebuilds it.
    op.create_table(
        "topic_terms",
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_topic_terms_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic_id", "term", name=op.f("pk_topic_terms")),
    )
    with op.batch_alter_table("topic_terms", schema=None) as batch_op:
        batch_op.create_index(
            "ix_topic_terms_term_topic_weight", ["term", "topic_id", "weight"], unique=False
        )
