"""What the read API lists (issue 16): topics, a topic's posts, agenda items and rounds, each a
page at a time after a sort key (keyset pagination: forum/cursors.py makes the key opaque).

The scopes are the pages' own, from forum.permissions (listed_topics, readable_posts,
readable_agenda_items); one item by id is the pages' services' (reading.get_topic,
agenda.get_item, voting.get_round) and the caller checks it with ``can``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, joinedload, selectinload

from forum.extensions import db
from forum.models import (
    AgendaArea,
    AgendaItem,
    AgendaStatus,
    Category,
    Post,
    Tag,
    Topic,
    TopicKind,
    VotingRound,
)
from forum.models.discussions import topic_tags
from forum.permissions import listed_topics, readable_agenda_items, readable_posts

DEFAULT_LIMIT = 30
MAX_LIMIT = 100

# Each list's orderings: the columns of its key, all descending (or all ascending), the id last.
TOPIC_SORTS: dict[str, tuple[InstrumentedAttribute, ...]] = {
    "latest": (Topic.last_post_at, Topic.id),
    "newest": (Topic.created_at, Topic.id),
    "votes": (Topic.vote_count, Topic.last_post_at, Topic.id),
}
POST_KEY = (Post.path, Post.id)  # thread order, as the topic's page
AGENDA_KEY = (AgendaItem.id,)  # oldest first, as the agenda page
ROUND_KEY = (VotingRound.closes_at, VotingRound.id)  # newest first, as the agenda page


def key_types(columns: Sequence[InstrumentedAttribute]) -> tuple[type, ...]:
    """The Python type of each key column (what a cursor must hold for this ordering)."""
    # A TypeDecorator (UTCDateTime) answers "object": its impl knows.
    return tuple(getattr(column.type, "impl", column.type).python_type for column in columns)


def key_of(row: Any, columns: Sequence[InstrumentedAttribute]) -> tuple:
    return tuple(getattr(row, column.key) for column in columns)


def past_key(columns: Sequence[InstrumentedAttribute], key: Sequence, *, descending: bool):
    """Rows strictly past ``key`` in the ordering (row-value comparison spelt out, as SQLite
    and PostgreSQL both take it and use the index's leading column)."""
    clauses: list[ColumnElement[bool]] = []
    for i, column in enumerate(columns):
        equal = [columns[j] == key[j] for j in range(i)]
        past = column < key[i] if descending else column > key[i]
        clauses.append(and_(*equal, past))
    return or_(*clauses)


@dataclass
class Slice:
    """One page of a list: its rows, and the key to ask for the next page after (None: last)."""

    items: list
    next_key: tuple | None


def _slice(rows: list, limit: int, columns: Sequence[InstrumentedAttribute]) -> Slice:
    if len(rows) > limit:
        rows = rows[:limit]
        return Slice(rows, key_of(rows[-1], columns))
    return Slice(rows, None)


def _order(columns: Sequence[InstrumentedAttribute], *, descending: bool) -> list:
    return [c.desc() if descending else c.asc() for c in columns]


@dataclass(frozen=True)
class TopicQuery:
    sort: str = "latest"
    area: Category | None = None
    tag: Tag | None = None
    kind: TopicKind | None = None


def topics(viewer, query: TopicQuery, *, after: tuple | None, limit: int) -> Slice:
    """Topics the reader may see in lists (the lists' own filters: area, tag, kind), past
    ``after`` in the sort: one query for the page and one for its tags."""
    columns = TOPIC_SORTS[query.sort]
    conditions = [listed_topics(viewer)]
    if query.area is not None:
        conditions.append(Topic.category_id == query.area.id)
    if query.tag is not None:
        tagged = select(topic_tags.c.topic_id).where(topic_tags.c.tag_id == query.tag.id)
        conditions.append(Topic.id.in_(tagged))
    if query.kind is not None:
        conditions.append(Topic.kind == query.kind)
    if after is not None:
        conditions.append(past_key(columns, after, descending=True))
    rows = db.session.scalars(
        select(Topic)
        .where(*conditions)
        .options(joinedload(Topic.author), joinedload(Topic.category), selectinload(Topic.tags))
        .order_by(*_order(columns, descending=True))
        .limit(limit + 1)
    ).unique()
    return _slice(list(rows), limit, columns)


def topic_posts(viewer, topic: Topic, *, after: tuple | None, limit: int) -> Slice:
    """The posts of a topic the reader may see (the caller checked the topic), in thread order;
    deleted and hidden ones are there, as on the page, and ``can_see_post_body`` says whether
    their body is."""
    conditions = [Post.topic_id == topic.id, readable_posts(viewer)]
    if after is not None:
        conditions.append(past_key(POST_KEY, after, descending=False))
    rows = db.session.scalars(
        select(Post)
        .join(Topic, Post.topic)
        .where(*conditions)
        .options(joinedload(Post.author))
        .order_by(*_order(POST_KEY, descending=False))
        .limit(limit + 1)
    )
    return _slice(list(rows), limit, POST_KEY)


def agenda_items(
    viewer,
    *,
    area: AgendaArea | None = None,
    status: AgendaStatus | None = None,
    after: tuple | None,
    limit: int,
) -> Slice:
    """Agenda items whose discussion the reader may read, oldest first: one query."""
    conditions = [readable_agenda_items(viewer)]
    if area is not None:
        conditions.append(AgendaItem.area == area)
    if status is not None:
        conditions.append(AgendaItem.status == status)
    if after is not None:
        conditions.append(past_key(AGENDA_KEY, after, descending=False))
    rows = db.session.scalars(
        select(AgendaItem)
        .join(Topic, AgendaItem.topic)
        .where(*conditions)
        .options(joinedload(AgendaItem.proposer))
        .order_by(*_order(AGENDA_KEY, descending=False))
        .limit(limit + 1)
    )
    return _slice(list(rows), limit, AGENDA_KEY)


def rounds(*, after: tuple | None, limit: int) -> Slice:
    """Voting rounds (everyone sees them, as on the agenda page), latest closing first, with
    their ballots' items: two queries."""
    conditions = []
    if after is not None:
        conditions.append(past_key(ROUND_KEY, after, descending=True))
    rows = db.session.scalars(
        select(VotingRound)
        .where(*conditions)
        .options(selectinload(VotingRound.items))
        .order_by(*_order(ROUND_KEY, descending=True))
        .limit(limit + 1)
    )
    return _slice(list(rows), limit, ROUND_KEY)
