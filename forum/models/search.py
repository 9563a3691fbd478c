"""The search index: the full-text rows of every post that is not deleted (issue 16)."""

from __future__ import annotations

from sqlalchemy import event

from forum.extensions import db

# One row per post that is not deleted: its topic's title (opening posts only) and its body, as
# the space-separated terms forum.textsearch makes, so stemming and Arabic normalisation are ours
# and both databases answer alike. Not a model: on SQLite an FTS5 virtual table (rowid = post
# id; the "ascii" tokenizer splits on ASCII spaces and punctuation only, so each of our terms is
# one token, Arabic included), on PostgreSQL a tsvector with a GIN index, built from the same
# terms and positions ('simple' parsing is never applied: the text is cast, not parsed).
# PostgreSQL's title terms carry weight A (since 0027_search_finish), so similar topics can ask
# for title words there as in FTS5's title column. Migration 0022 creates it; the metadata
# hooks below create it where tests build the schema from the models.
POST_SEARCH_TABLE = "post_search"
SQLITE_INDEX_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS post_search USING fts5(title, body, tokenize='ascii')",
)
POSTGRES_INDEX_DDL = (
    "CREATE TABLE IF NOT EXISTS post_search (post_id INTEGER PRIMARY KEY REFERENCES posts (id) "
    "ON DELETE CASCADE, document TSVECTOR NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_post_search_document ON post_search USING gin (document)",
)


def is_search_index_table(name: str | None) -> bool:
    """The index's table and FTS5's own shadow tables, which the models do not describe."""
    return name is not None and (name == POST_SEARCH_TABLE or name.startswith("post_search_"))


def _create_index(target, connection, **kw) -> None:
    ddl = POSTGRES_INDEX_DDL if connection.dialect.name == "postgresql" else SQLITE_INDEX_DDL
    for statement in ddl:
        connection.exec_driver_sql(statement)


def _drop_index(target, connection, **kw) -> None:
    connection.exec_driver_sql("DROP TABLE IF EXISTS post_search")


event.listen(db.metadata, "after_create", _create_index)
event.listen(db.metadata, "before_drop", _drop_index)
