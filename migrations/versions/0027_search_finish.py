"""Search finished (issue 16): similar topics come from the full-text index; topic_terms goes

Revision ID: 0027_search_finish
Revises: 0024
Create Date: 2026-12-04

The similar-topics suggestions now ask the full-text index (post_search) for titles, so the
tf-idf table topic_terms, which nothing reads any more, is dropped. On PostgreSQL the index's
title terms carry weight A from now on (forum/textsearch.py, tsvector_text); rows written before
do not, so run `flask --app forum search reindex` once after upgrading there (until then similar
topics finds only topics written or edited since).
"""

import sqlalchemy as sa
from alembic import op

revision = "0027_search_finish"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("topic_terms", schema=None) as batch_op:
        batch_op.drop_index("ix_topic_terms_term_topic_weight")
    op.drop_table("topic_terms")


def downgrade():
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
