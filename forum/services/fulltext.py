"""Full-text search: posts, topics and agenda items found by their words, as readers may see them.

The index (forum.models.search: FTS5 on SQLite, tsvector on PostgreSQL) holds the terms
forum.textsearch makes; a query goes through the same terms(), so both databases answer alike.
Every hit is joined to its live post and topic and filtered through the one visibility rule
(forum.permissions.visible_posts and listed_topics): what a reader may not read is never found.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta

from markupsafe import Markup
from sqlalchemy import (
    ColumnElement,
    cast,
    column,
    false,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import aliased, joinedload

from forum.extensions import db
from forum.models import AgendaItem, Category, Post, Tag, Topic, TopicKind, User
from forum.models.discussions import topic_tags
from forum.permissions import can, listed_topics, visible_posts
from forum.services.api_reads import past_key
from forum.services.directory import DirectoryFilters, member_directory
from forum.textsearch import (
    QueryError,
    SearchQuery,
    fts5_query,
    highlight,
    parse_query,
    tsquery_text,
)

RESULTS_PER_PAGE = 20
MEMBERS_SHOWN = 5
# Relevance ranks the newest this many matches a reader may see (after the filters); fewer
# matches are all ranked. Past it, ranking a very common word would read every match (at 1M
# posts, ~4 s for a word in one post in six: docs/performance.md); the date order is exact.
# Walking and ranking a match costs ~10 µs at 1M posts: 200 keep a search near 8 ms of CPU
# (1,000 took ~15 ms), and a reader looking further back orders by date.
MAX_RANKED_MATCHES = 200
# By date, a word with at most this many matches has them all sorted by created_at; past it the
# newest by id bound the walk (_newest_by_date). Sorting costs ~12 µs a match at 1M posts, the
# bound ~0.1 µs per post written since: the two cross near here (docs/performance.md).
SORT_ALL_MATCHES = 500
# The date order's key: the API's cursor, and ix_posts_created_at.
DATE_KEY = (Post.created_at, Post.id)
# A title match says more than a body match (FTS5 bm25 column weights; on PostgreSQL ts_rank's
# weights of {D, C, B, A}: the title's terms carry A, forum.textsearch.tsvector_text).
TITLE_WEIGHT = 3.0
TS_RANK_WEIGHTS = f"CAST('{{0.1, 0.1, 0.1, {0.1 * TITLE_WEIGHT:.1f}}}' AS float4[])"


class SearchOrder(enum.StrEnum):
    RELEVANCE = "relevance"
    DATE = "date"


@dataclass(frozen=True)
class SearchFilters:
    """What narrows a search. Empty strings and None mean "any"."""

    area: str = ""  # a Category slug
    tag: str = ""  # a Tag slug
    kind: str = ""  # a TopicKind value
    author: str = ""  # a member's handle
    since: date | None = None
    until: date | None = None
    answered: str = ""  # "answered" or "unanswered"
    status: str = ""  # an AgendaStatus value: agenda items only

    def active(self) -> list[str]:
        """The names of the filters in use, in the form's order."""
        return [f.name for f in fields(self) if getattr(self, f.name) not in ("", None)]

    def without(self, name: str) -> SearchFilters:
        return replace(self, **{name: None if name in ("since", "until") else ""})


@dataclass
class Hit:
    post: Post
    topic: Topic
    snippet: Markup
    agenda_item: AgendaItem | None = None


@dataclass
class SearchResults:
    text: str
    filters: SearchFilters
    order: SearchOrder
    page: int
    error: str = ""  # a QueryError reason: the page says what was wrong with the query
    hits: list[Hit] = field(default_factory=list)
    has_next: bool = False
    members: list[User] = field(default_factory=list)
    next_key: tuple | None = None  # search_after: where the next page starts

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def _match(query: SearchQuery) -> tuple[object, ColumnElement, ColumnElement, ColumnElement]:
    """The index table, its post id, its condition for the query, and a relevance (higher is
    better)."""
    if db.session.get_bind().dialect.name == "postgresql":
        index = table("post_search", column("post_id"), column("document"))
        asked = cast(tsquery_text(query), TSQUERY)
        return (
            index,
            index.c.post_id,
            index.c.document.op("@@")(asked),
            func.ts_rank(literal_column(TS_RANK_WEIGHTS), index.c.document, asked),
        )
    index = table("post_search", column("rowid"))
    return (
        index,
        index.c.rowid,
        text("post_search MATCH :fts").bindparams(fts=fts5_query(query)),
        -func.bm25(literal_column("post_search"), TITLE_WEIGHT, 1.0),
    )


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _conditions(filters: SearchFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.area:
        conditions.append(
            Topic.category_id.in_(select(Category.id).where(Category.slug == filters.area))
        )
    if filters.tag:
        conditions.append(
            Topic.id.in_(
                select(topic_tags.c.topic_id)
                .join(Tag, Tag.id == topic_tags.c.tag_id)
                .where(Tag.slug == filters.tag)
            )
        )
    if filters.kind:
        conditions.append(Topic.kind == filters.kind)
    if filters.author:
        conditions.append(
            Post.author_id.in_(select(User.id).where(User.handle == filters.author.lower()))
        )
    if filters.since is not None:
        conditions.append(Post.created_at >= _start_of(filters.since))
    if filters.until is not None and filters.until < date.max:  # the last day has no day after
        conditions.append(Post.created_at < _start_of(filters.until + timedelta(days=1)))
    if filters.answered == "answered":
        conditions.append(Topic.accepted_post_id.is_not(None))
    elif filters.answered == "unanswered":
        conditions += [Topic.kind == TopicKind.QUESTION, Topic.accepted_post_id.is_(None)]
    if filters.status:
        conditions += [AgendaItem.status == filters.status, Post.number == 1]
    return conditions


def _older_than(key: tuple) -> ColumnElement[bool]:
    """Posts past ``key`` (created_at, id) in the date order: the API's cursor."""
    return past_key(DATE_KEY, key, descending=True)


def _newest_by_date(base, post_id, index, matches, wanted: int):
    """The ``wanted`` newest rows of ``base`` by created_at, read without sorting every match.

    Ids follow posting order except for imported posts (new ids, old dates), so the newest
    ``wanted`` matches by id bound the answer: every post among the newest ``wanted`` by date
    was written at or after the oldest of them (``oldest``), hence has an id at or above the
    lowest id of any post written since (``since``, read from ix_posts_created_at). The index
    is then walked from that id. A word with at most SORT_ALL_MATCHES matches has them all
    sorted instead (cheaper than the posts written since). Two statements whatever the data.
    """
    raw = select(post_id).select_from(index).where(matches).limit(SORT_ALL_MATCHES + 1)
    raw_count = select(func.count()).select_from(raw.subquery()).scalar_subquery()
    first = db.session.execute(
        base.add_columns(Post.created_at.label("created_at"), raw_count.label("raw_count"))
        .order_by(post_id.desc())
        .limit(wanted)
    ).all()
    bounded = base
    if not first:
        bounded = base.where(false())
    elif first[0].raw_count > SORT_ALL_MATCHES and len(first) < wanted:
        bounded = base.where(post_id >= min(row.post_id for row in first))  # all of them
    elif first[0].raw_count > SORT_ALL_MATCHES:
        oldest = min(row.created_at for row in first)
        later = aliased(Post)
        # "+ 0": min() over the created_at range, not SQLite's walk of the ids from the lowest.
        since = select(func.min(later.id + 0)).where(later.created_at >= oldest)
        bounded = base.where(
            post_id >= since.correlate(None).scalar_subquery(), Post.created_at >= oldest
        )
    return (
        bounded.add_columns(Post.created_at.label("created_at"))
        .order_by(Post.created_at.desc(), post_id.desc())
        .limit(wanted)
        .subquery()
    )


def _find(
    viewer,
    query: SearchQuery,
    filters: SearchFilters,
    order: SearchOrder,
    *,
    skip: int,
    limit: int,
    before: tuple | None = None,
) -> list:
    """Up to ``limit`` + 1 (post, topic, agenda item) rows past the first ``skip`` (and, by
    date, past the key ``before``). One statement by relevance, two by date."""
    index, post_id, matches, relevance = _match(query)
    by_date = order is SearchOrder.DATE
    if by_date:  # no ranking to compute
        relevance = literal_column("0")
    base = (
        select(post_id.label("post_id"), relevance.label("relevance"))
        .select_from(index)
        .join(Post, Post.id == post_id)
        .join(Topic, Topic.id == Post.topic_id)
        .outerjoin(AgendaItem, AgendaItem.topic_id == Topic.id)
        .where(matches, visible_posts(viewer), listed_topics(viewer), *_conditions(filters))
    )
    if by_date:
        if before is not None:
            base = base.where(_older_than(before))
        pool = _newest_by_date(base, post_id, index, matches, skip + limit + 1)
        ordering = [Post.created_at.desc(), Post.id.desc()]
    else:
        # The newest matches the reader may see and the filters keep, walked newest first
        # along the index: the pool that relevance ranks, so a word in a sixth of a million
        # posts costs no more than a rare one.
        pool = base.order_by(post_id.desc()).limit(MAX_RANKED_MATCHES).subquery()
        ordering = [pool.c.relevance.desc(), Post.id.desc()]
    return db.session.execute(
        select(Post, Topic, AgendaItem)
        .join(pool, pool.c.post_id == Post.id)
        .join(Topic, Topic.id == Post.topic_id)
        .outerjoin(AgendaItem, AgendaItem.topic_id == Topic.id)
        .options(joinedload(Post.author), joinedload(Topic.category))
        .order_by(*ordering)
        .limit(limit + 1)
        .offset(skip)
    ).all()


def _hits(rows: list, query: SearchQuery, limit: int) -> list[Hit]:
    return [
        Hit(
            post=post,
            topic=topic,
            snippet=highlight(post.body, query),
            agenda_item=item if post.number == 1 else None,
        )
        for post, topic, item in rows[:limit]
    ]


def search(
    viewer,
    text_: str,
    *,
    filters: SearchFilters | None = None,
    order: SearchOrder = SearchOrder.RELEVANCE,
    page: int = 1,
) -> SearchResults:
    """A page of posts matching ``text_`` (words, "phrases", -exclusions) that ``viewer`` may
    read, with highlighted snippets; on the first page, members whose name matches (for members
    only). One query for the hits by relevance, two by date; two more for members."""
    filters = filters or SearchFilters()
    results = SearchResults(text=text_, filters=filters, order=order, page=max(page, 1))
    try:
        query = parse_query(text_)
    except QueryError as refused:
        results.error = refused.reason
        return results
    skip = (results.page - 1) * RESULTS_PER_PAGE
    rows = _find(viewer, query, filters, order, skip=skip, limit=RESULTS_PER_PAGE)
    results.has_next = len(rows) > RESULTS_PER_PAGE
    results.hits = _hits(rows, query, RESULTS_PER_PAGE)
    if results.page == 1 and can(viewer, "view_directory"):
        name = " ".join(" ".join(phrase) for phrase in query.required)
        words = text_.replace('"', " ").split()
        name = " ".join(w for w in words if not w.startswith("-")) or name
        results.members = member_directory(viewer, DirectoryFilters(q=name)).items[:MEMBERS_SHOWN]
    return results


def search_after(
    viewer,
    text_: str,
    *,
    filters: SearchFilters,
    order: SearchOrder,
    after: tuple | None,
    limit: int,
) -> SearchResults:
    """The read API's page of the same search: ``limit`` hits after the cursor key ``after``
    ((created_at, id) of the last hit by date; (how many came before,) by relevance, within the
    ranked pool). ``next_key`` is the next page's key, None on the last. No members."""
    results = SearchResults(text=text_, filters=filters, order=order, page=1)
    try:
        query = parse_query(text_)
    except QueryError as refused:
        results.error = refused.reason
        return results
    by_date = order is SearchOrder.DATE
    skip = 0 if by_date or after is None else after[0]
    before = after if by_date else None
    rows = _find(viewer, query, filters, order, skip=skip, limit=limit, before=before)
    results.hits = _hits(rows, query, limit)
    results.has_next = len(rows) > limit
    if results.has_next:
        last = results.hits[-1].post
        results.next_key = (last.created_at, last.id) if by_date else (skip + limit,)
    return results
