"""The search indexes, kept in step with the text they describe, and similar topics ranked in SQL.

Two indexes, both fed by forum.textsearch (Snowball stemming, Arabic normalisation) and both
updated through ``follow`` wherever a post or topic changes:

- the full-text index (forum.models.search: FTS5 on SQLite, a tsvector on PostgreSQL), one row
  per post, which the search page queries (forum.services.fulltext);
- the similar-topics terms (forum.models.search.TopicTerm), tf-idf over an ordinary table of each
  topic's title and opening post. A member writing a new topic is shown existing topics that look
  like the same question; its thresholds compare scores, and FTS5's bm25 and PostgreSQL's
  ts_rank score differently, so this ranking stays in plain SQL to give both databases the same
  topics in the same order.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Numeric, bindparam, case, cast, delete, exists, func, insert, select, text
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import Post, Topic
from forum.models.search import TopicTerm
from forum.permissions import listed_topics
from forum.textsearch import index_text, term_weights, tsvector_text

MAX_SIMILAR_TOPICS = 5
# A topic is suggested only when it earns this share of the score that a topic identical to the
# question would earn (a relative bar, so long and short questions are judged alike). On a trial
# corpus of LLM-privacy topics the same question in other words scored 0.7 to 1.3, neighbouring
# subjects sharing a few words 0.34 to 0.71, and one word alone up to 0.6: 0.4 keeps out the
# loosest neighbours, and the next rule keeps out single words.
MIN_SCORE_SHARE = 0.4
# ...and shares at least this many of the question's terms (or its only one): a single word in
# common ("privacy", "jailbreak") is a neighbouring subject, not the same question.
MIN_MATCHED_TERMS = 2
# The question's most telling terms (query weight × idf) that are looked up; a long draft body
# would otherwise turn the lookup into a scan of the index for every common word.
MAX_QUERY_TERMS = 32
# Scores are compared after rounding, so that float sums added up in a different order on
# PostgreSQL and SQLite still tie, and ties fall back to the older topic on both.
SCORE_DECIMALS = 6
REINDEX_BATCH_SIZE = 500


def _term_rows(topic_id: int, title: str, body: str) -> list[dict]:
    return [
        {"topic_id": topic_id, "term": term, "weight": weight}
        for term, weight in term_weights(title, body).items()
    ]


def index_topic(topic_id: int, *, title: str, body: str) -> None:
    """Replace a topic's terms with those of its title and opening post. Does not commit."""
    db.session.execute(delete(TopicTerm).where(TopicTerm.topic_id == topic_id))
    rows = _term_rows(topic_id, title, body)
    if rows:
        db.session.execute(insert(TopicTerm), rows)


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _remove_posts(post_ids: list[int]) -> None:
    if not post_ids:
        return
    column = "post_id" if _is_postgresql() else "rowid"
    db.session.execute(
        text(f"DELETE FROM post_search WHERE {column} IN :ids").bindparams(
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
    """Keep both indexes in step with a topic that changed: the full-text rows of ``posts``
    (every post of the topic when None: after a move, merge, split or title change) and, when
    its opening post is among them, the similar-topics terms. Does not commit.

    Restriction, embargo, area and merges need no rewrite beyond this: search joins each row to
    the live topic and filters it through forum.permissions.
    """
    db.session.flush()
    whole_topic = posts is None
    if posts is None:
        posts = list(db.session.scalars(select(Post).where(Post.topic_id == topic.id)))
    _index_rows(posts, topic.title)
    if topic.merged_into_id is not None:
        db.session.execute(delete(TopicTerm).where(TopicTerm.topic_id == topic.id))
        return
    opening = next((p for p in posts if p.number == 1), None)
    if opening is None and not whole_topic:
        return  # a reply: the similar-topics terms describe the opening post only
    visible = opening is not None and not opening.is_deleted and not opening.is_hidden
    index_topic(topic.id, title=topic.title, body=opening.body if visible else "")


def _idf(indexed_topics: int, topics_with_term: int) -> float:
    # log(1 + N/df): never negative, and a word in every topic still counts a little.
    return math.log(1 + indexed_topics / topics_with_term)


def similar_topics(
    title: str,
    body: str = "",
    *,
    limit: int = MAX_SIMILAR_TOPICS,
    viewer: Any,
    exclude_topic_id: int | None = None,
) -> list[tuple[Topic, float]]:
    """Existing topics that look like the question asked, best first, with their scores.

    A topic scores the sum, over the terms it shares with the question, of query weight × stored
    weight × idf. Two queries: document frequencies, then the ranked topics with their author and
    area. Only topics ``viewer`` may read (forum.permissions.readable_topics) and that are listed
    (not private reports); callers pass the topic being edited in exclude_topic_id.
    """
    query = term_weights(title, body)
    if not query or limit <= 0:
        return []

    indexed_topics = (
        select(func.count())
        .select_from(Topic)
        .where(exists().where(TopicTerm.topic_id == Topic.id))
        .scalar_subquery()
    )
    frequencies = db.session.execute(
        select(TopicTerm.term, func.count(), indexed_topics)
        .where(TopicTerm.term.in_(query))
        .group_by(TopicTerm.term)
    ).all()
    if not frequencies:
        return []
    n = frequencies[0][2]
    df = {term: count for term, count, _ in frequencies}
    # A word no topic has yet weighs as if one topic had it: the identical topic we compare with.
    idf = {term: _idf(n, df.get(term, 1)) for term in query}
    perfect_score = sum(w * w * idf[term] for term, w in query.items())
    min_score = round(MIN_SCORE_SHARE * perfect_score, SCORE_DECIMALS)
    min_matches = min(MIN_MATCHED_TERMS, len(query))

    telling = sorted(df, key=lambda term: (-query[term] * idf[term], term))[:MAX_QUERY_TERMS]
    factor = case({term: query[term] * idf[term] for term in telling}, value=TopicTerm.term)
    score = func.sum(TopicTerm.weight * factor)
    rounded = func.round(cast(score, Numeric), SCORE_DECIMALS)
    ranking = rounded.label("ranking")
    ranked = (
        select(TopicTerm.topic_id, score.label("score"), ranking)
        .join(Topic, Topic.id == TopicTerm.topic_id)
        .where(TopicTerm.term.in_(telling), listed_topics(viewer))
        .group_by(TopicTerm.topic_id)
        .having(rounded >= min_score, func.count() >= min_matches)
        .order_by(ranking.desc(), TopicTerm.topic_id)
        .limit(limit)
    )
    if exclude_topic_id is not None:
        ranked = ranked.where(TopicTerm.topic_id != exclude_topic_id)
    ranked = ranked.subquery()

    rows = db.session.execute(
        select(Topic, ranked.c.score)
        .join(ranked, ranked.c.topic_id == Topic.id)
        .options(joinedload(Topic.author), joinedload(Topic.category))
        .order_by(ranked.c.ranking.desc(), Topic.id)
    ).all()
    return [(topic, round(score, SCORE_DECIMALS)) for topic, score in rows]


def similar_to_draft(viewer: Any, *, title: str, body: str = "") -> list[Topic]:
    """The topics shown to a member writing a new one: those like it that the member may read
    and that are listed (the SQL rule of similar_topics), best first, at most MAX_SIMILAR_TOPICS."""
    return [topic for topic, _score in similar_topics(title, body, viewer=viewer)]


def reindex_all(*, batch_size: int = REINDEX_BATCH_SIZE) -> int:
    """Rebuild every topic's terms from its title and opening post; returns how many topics.

    Commits after each batch, so the index stays usable while a large forum is reindexed. The
    text of a deleted opening post is not searchable, so such a topic is indexed by its title.
    """
    count = 0
    last_id = 0
    while True:
        rows = db.session.execute(
            select(Topic.id, Topic.title, Post.body, Post.deleted_at)
            .outerjoin(Post, (Post.topic_id == Topic.id) & (Post.number == 1))
            .where(Topic.id > last_id)
            .order_by(Topic.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return count
        topic_ids = [row.id for row in rows]
        terms = [
            term
            for topic_id, title, body, deleted_at in rows
            for term in _term_rows(topic_id, title, "" if deleted_at else body or "")
        ]
        db.session.execute(delete(TopicTerm).where(TopicTerm.topic_id.in_(topic_ids)))
        if terms:
            db.session.execute(insert(TopicTerm), terms)
        db.session.commit()
        count += len(rows)
        last_id = rows[-1].id


def reindex_posts(*, batch_size: int = REINDEX_BATCH_SIZE * 4) -> int:
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
