"""The full-text index kept in step with the text it describes, and similar topics found in it.

The index (forum.models.search: FTS5 on SQLite, a tsvector on PostgreSQL) holds one row per post,
fed by forum.textsearch (Snowball stemming, Arabic normalisation) and updated through ``follow``
wherever a post or topic changes. The search page queries it (forum.services.fulltext), and so
do the similar-topics suggestions shown to a member writing a new topic: titles that hold most
of the words of the title being written.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

from sqlalchemy import bindparam, cast, column, select, table, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import Post, Topic
from forum.permissions import listed_topics
from forum.textsearch import index_text, terms, tsvector_text

MAX_SIMILAR_TOPICS = 5
# A topic is suggested when its title holds at least this many of the words of the title being
# written (or its only one): one word in common ("privacy", "jailbreak") is a neighbouring
# subject, not the same question...
MIN_MATCHED_TERMS = 2
# ...and at least this share of them, so a long title is not matched by two passing words.
MIN_SCORE_SHARE = 0.4
# The words of the title being written that are looked up (the first ones; a title is short).
# The lookup asks for any MIN_MATCHED_TERMS of them: 28 pairs of 8 words.
MAX_QUERY_TERMS = 8
# The newest this many titles holding enough of the words (that the reader may see) are ranked:
# the work is bounded however common the words are (docs/performance.md, "Search").
SIMILAR_POOL = 50
# Scores (shares of the question's words) are compared after rounding, so that both databases
# and every platform tie alike; ties fall back to the older topic.
SCORE_DECIMALS = 6
REINDEX_BATCH_SIZE = 2_000


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _remove_posts(post_ids: list[int]) -> None:
    if not post_ids:
        return
    column_ = "post_id" if _is_postgresql() else "rowid"
    db.session.execute(
        text(f"DELETE FROM post_search WHERE {column_} IN :ids").bindparams(
            bindparam("ids", expanding=True)
        ),
        {"ids": post_ids},
    )


def _write_posts(rows: list[tuple[int, str, str]]) -> None:
    """Replace the full-text rows of these (post id, title, body): one DELETE, one INSERT."""
    _remove_posts([post_id for post_id, _title, _body in rows])
    if not rows:
        return
    # Within one batch the same text is stemmed once (titles of a reindex, quoted boilerplate).
    cache: dict[tuple[str, str], object] = {}

    def once(make, *args):
        key = (make.__name__, *args)
        if key not in cache:
            cache[key] = make(*args)
        return cache[key]

    if _is_postgresql():
        statement = text(
            "INSERT INTO post_search (post_id, document) VALUES (:id, CAST(:document AS tsvector))"
        )
        values = [{"id": i, "document": once(tsvector_text, t, b)} for i, t, b in rows]
    else:
        statement = text("INSERT INTO post_search (rowid, title, body) VALUES (:id, :title, :body)")
        values = [
            {"id": i, "title": once(index_text, t), "body": once(index_text, b)} for i, t, b in rows
        ]
    db.session.execute(statement, values)


def _index_rows(posts: list[Post], title: str) -> None:
    """Index the posts that are there (hidden ones too: moderators search them, and the
    visibility rule keeps them from everyone else); a deleted post's words leave the index."""
    gone = [p.id for p in posts if p.deleted_at is not None]
    _remove_posts(gone)
    _write_posts(
        [(p.id, title if p.number == 1 else "", p.body) for p in posts if p.deleted_at is None]
    )


def follow(topic: Topic, *, posts: list[Post] | None = None) -> None:
    """Keep the index in step with a topic that changed: the rows of ``posts`` (every post of
    the topic when None: after a move, merge, split or title change). Does not commit.

    Restriction, embargo, area and merges need no rewrite beyond this: search and similar topics
    join each row to the live topic and filter it through forum.permissions.
    """
    db.session.flush()
    if posts is None:
        posts = list(db.session.scalars(select(Post).where(Post.topic_id == topic.id)))
    _index_rows(posts, topic.title)


def _title_match(groups: list[tuple[str, ...]]) -> tuple[Any, Any, Any]:
    """The index, its post id, and the condition "the title holds every word of one group".

    On SQLite the FTS5 title column; on PostgreSQL the title's lexemes, which carry weight A
    (forum.textsearch.tsvector_text). Terms are letters, digits and marks only, so quoting them
    is enough for either syntax.
    """
    if _is_postgresql():
        index = table("post_search", column("post_id"), column("document"))
        asked = " | ".join("(" + " & ".join(f"'{t}':A" for t in g) + ")" for g in groups)
        return index, index.c.post_id, index.c.document.op("@@")(cast(asked, TSQUERY))
    index = table("post_search", column("rowid"))
    asked = " OR ".join("(" + " AND ".join(f'"{t}"' for t in g) + ")" for g in groups)
    condition = text("post_search MATCH :similar").bindparams(similar=f"title : ({asked})")
    return index, index.c.rowid, condition


def similar_topics(
    title: str,
    *,
    limit: int = MAX_SIMILAR_TOPICS,
    viewer: Any,
    exclude_topic_id: int | None = None,
) -> list[tuple[Topic, float]]:
    """Existing topics whose titles look like ``title``, best first, with their scores.

    A topic scores the share of the title's words (forum.textsearch.terms) that its own title
    holds; it needs MIN_MATCHED_TERMS of them and MIN_SCORE_SHARE. One query: the newest
    SIMILAR_POOL titles in the full-text index holding enough of the words, among the topics
    ``viewer`` may read that are listed (forum.permissions.listed_topics), with their author and
    area; callers pass the topic being edited in exclude_topic_id.
    """
    asked = list(dict.fromkeys(terms(title)))[:MAX_QUERY_TERMS]
    if not asked or limit <= 0:
        return []
    needed = min(MIN_MATCHED_TERMS, len(asked))
    index, post_id, matches = _title_match(list(combinations(asked, needed)))
    stmt = (
        select(Topic)
        .select_from(index)
        .join(Post, Post.id == post_id)
        .join(Topic, Topic.id == Post.topic_id)
        .where(matches, Post.number == 1, listed_topics(viewer))
        .options(joinedload(Topic.author), joinedload(Topic.category))
        .order_by(post_id.desc())
        .limit(SIMILAR_POOL)
    )
    if exclude_topic_id is not None:
        stmt = stmt.where(Topic.id != exclude_topic_id)
    scored = []
    for topic in db.session.scalars(stmt).unique():
        held = set(terms(topic.title))
        shared = sum(term in held for term in asked)
        score = round(shared / len(asked), SCORE_DECIMALS)
        if shared >= needed and score >= MIN_SCORE_SHARE:
            scored.append((topic, score))
    scored.sort(key=lambda found: (-found[1], found[0].id))
    return scored[:limit]


def similar_to_draft(viewer: Any, *, title: str) -> list[Topic]:
    """The topics shown to a member writing a new one: those like it that the member may read
    and that are listed (the SQL rule of similar_topics), best first, at most MAX_SIMILAR_TOPICS."""
    return [topic for topic, _score in similar_topics(title, viewer=viewer)]


def reindex_posts(*, batch_size: int = REINDEX_BATCH_SIZE) -> int:
    """Rebuild the full-text index from every post that is not deleted; returns how many posts.

    Empties the index first and commits after each batch (search finds less until it is done).
    """
    db.session.execute(text("DELETE FROM post_search"))
    db.session.commit()
    count = 0
    last_id = 0
    while True:
        rows = db.session.execute(
            select(Post.id, Post.number, Post.body, Topic.title)
            .join(Topic, Topic.id == Post.topic_id)
            .where(Post.id > last_id, Post.deleted_at.is_(None))
            .order_by(Post.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return count
        _write_posts([(r.id, r.title if r.number == 1 else "", r.body) for r in rows])
        db.session.commit()
        count += len(rows)
        last_id = rows[-1].id
