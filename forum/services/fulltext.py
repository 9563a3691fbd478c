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
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import AgendaItem, Category, Post, Tag, Topic, TopicKind, User
from forum.models.discussions import topic_tags
from forum.permissions import can, listed_topics, visible_posts
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
MAX_RANKED_MATCHES = 1_000
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
    if filters.until is not None:
        conditions.append(Post.created_at < _start_of(filters.until + timedelta(days=1)))
    if filters.answered == "answered":
        conditions.append(Topic.accepted_post_id.is_not(None))
    elif filters.answered == "unanswered":
        conditions += [Topic.kind == TopicKind.QUESTION, Topic.accepted_post_id.is_(None)]
    if filters.status:
        conditions += [AgendaItem.status == filters.status, Post.number == 1]
    return conditions


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
    only). One query for the hits, two more for members."""
    filters = filters or SearchFilters()
    results = SearchResults(text=text_, filters=filters, order=order, page=max(page, 1))
    try:
        query = parse_query(text_)
    except QueryError as refused:
        results.error = refused.reason
        return results

    index, post_id, matches, relevance = _match(query)
    by_date = order is SearchOrder.DATE
    if by_date:  # no ranking to compute: the page itself is the pool
        relevance = literal_column("0")
    # The newest matches the reader may see and the filters keep, walked newest first along the
    # index (post ids are given in posting order): the date order as it stands, and the pool
    # that relevance ranks, so a word in a sixth of a million posts costs no more than a rare one.
    newest = (
        select(post_id.label("post_id"), relevance.label("relevance"))
        .select_from(index)
        .join(Post, Post.id == post_id)
        .join(Topic, Topic.id == Post.topic_id)
        .outerjoin(AgendaItem, AgendaItem.topic_id == Topic.id)
        .where(matches, visible_posts(viewer), listed_topics(viewer), *_conditions(filters))
        .order_by(post_id.desc())
        .limit(results.page * RESULTS_PER_PAGE + 1 if by_date else MAX_RANKED_MATCHES)
        .subquery()
    )
    ordering = [Post.id.desc()] if by_date else [newest.c.relevance.desc(), Post.id.desc()]
    rows = db.session.execute(
        select(Post, Topic, AgendaItem, newest.c.relevance)
        .join(newest, newest.c.post_id == Post.id)
        .join(Topic, Topic.id == Post.topic_id)
        .outerjoin(AgendaItem, AgendaItem.topic_id == Topic.id)
        .options(joinedload(Post.author), joinedload(Topic.category))
        .order_by(*ordering)
        .limit(RESULTS_PER_PAGE + 1)
        .offset((results.page - 1) * RESULTS_PER_PAGE)
    ).all()
    results.has_next = len(rows) > RESULTS_PER_PAGE
    for post, topic, item, _relevance in rows[:RESULTS_PER_PAGE]:
        results.hits.append(
            Hit(
                post=post,
                topic=topic,
                snippet=highlight(post.body, query),
                agenda_item=item if post.number == 1 else None,
            )
        )
    if results.page == 1 and can(viewer, "view_directory"):
        name = " ".join(" ".join(phrase) for phrase in query.required)
        words = text_.replace('"', " ").split()
        name = " ".join(w for w in words if not w.startswith("-")) or name
        results.members = member_directory(viewer, DirectoryFilters(q=name)).items[:MEMBERS_SHOWN]
    return results
