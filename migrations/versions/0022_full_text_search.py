"""Full-text search: an FTS5 table on SQLite, a tsvector with a GIN index on PostgreSQL (issue 16)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04

Both hold the terms forum/textsearch.py makes from each post (stemmed and normalised in Python,
so both databases answer alike); forum/models/search.py describes them. The index starts empty:
`flask --app forum search reindex` fills it from the posts.
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE post_search (post_id INTEGER PRIMARY KEY REFERENCES posts (id) "
            "ON DELETE CASCADE, document TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_post_search_document ON post_search USING gin (document)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE post_search USING fts5(title, body, tokenize='ascii')"
        )


def downgrade():
    # Lossless: the index holds only terms derived from the posts, which stay; `flask search
    # reindex` rebuilds it.
    op.execute("DROP TABLE IF EXISTS post_search")
