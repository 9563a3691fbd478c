"""Lists of topics: by area, by tag, or all; sorted and filtered the ways a reader asks for."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import joinedload, selectinload

from forum.extensions import db
from forum.models import Category, Tag, Topic, TopicKind, TopicRead
from forum.models.discussions import topic_tags
from forum.models.types import utcnow
from forum.pagination import Page, walk_to
from forum.permissions import listed_topics
from forum.services import topic_counts

TOPICS_PER_PAGE = 30
SORTS = ("latest", "newest", "votes", "top")
STATUSES = ("answered", "unanswered")
TOP_PERIODS = {"week": timedelta(days=7), "month": timedelta(days=30), "all": None}
PINNED_ON_HOME = 5


def _walk_pin_index() -> ColumnElement[bool]:
    """Both values of ix_topics_global_pin_activity's first column: always true, but it lets
    SQLite walk that index in the order "forum-wide pins first, then by activity" and stop at
    the page. Without it SQLite (with no ANALYZE statistics) prefers ix_topics_private_report for
    "is_private_report IS 0" and sorts every listed topic in a temporary B-tree."""
    return Topic.is_pinned_globally.in_([True, False])


def _forum_order() -> list[ColumnElement]:
    return [Topic.is_pinned_globally.desc(), Topic.last_post_at.desc()]


@dataclass
class ListQuery:
    """What the reader asked for (from the query string; anything unknown falls back)."""

    sort: str = "latest"
    status: str = ""
    period: str = "week"
    tag: str = ""
    page: int = 1

    def __post_init__(self) -> None:
        self.sort = self.sort if self.sort in SORTS else "latest"
        self.status = self.status if self.status in STATUSES else ""
        self.period = self.period if self.period in TOP_PERIODS else "week"


@dataclass
class TopicList:
    page: Page
    # topic id -> replies the reader has not seen (None: the reader never opened the topic).
    unread: dict[int, int | None] = field(default_factory=dict)
    # The topics pinned where this list is: in their area on an area's list, else forum-wide.
    pinned: set[int] = field(default_factory=set)


def topic_list(viewer, query: ListQuery, *, category: Category | None = None) -> TopicList:
    """A page of topics, with the reader's unread counts: three queries whatever the size."""
    conditions = [listed_topics(viewer)]
    if category is not None:
        conditions.append(Topic.category_id == category.id)
    if query.tag:
        conditions.append(
            Topic.id.in_(
                select(topic_tags.c.topic_id)
                .join(Tag, Tag.id == topic_tags.c.tag_id)
                .where(Tag.slug == query.tag)
            )
        )
    if query.status == "answered":
        conditions.append(Topic.accepted_post_id.is_not(None))
    elif query.status == "unanswered":
        conditions += [Topic.kind == TopicKind.QUESTION, Topic.accepted_post_id.is_(None)]
    if query.sort == "top" and TOP_PERIODS[query.period] is not None:
        conditions.append(Topic.created_at >= utcnow() - TOP_PERIODS[query.period])

    # Every order is descending on these columns, ties broken by the newest id.
    keys = {
        "latest": [Topic.last_post_at],
        "newest": [Topic.created_at],
        "votes": [Topic.vote_count, Topic.last_post_at],
        "top": [Topic.vote_count, Topic.reply_count, Topic.created_at],
    }[query.sort]
    # Pins lead only the default list, each walking its index in order: an area's own pins its
    # list (ix_topics_category_activity), forum-wide pins /latest (ix_topics_global_pin_activity).
    in_index_order = []
    if query.sort == "latest" and not query.tag and not query.status:
        if category is not None:
            keys.insert(0, Topic.is_pinned)
        else:
            keys = [Topic.is_pinned_globally, Topic.last_post_at]
            in_index_order.append(_walk_pin_index())
    keys.append(Topic.id)
    order = [key.desc() for key in keys]

    if query.tag or query.status or (query.sort == "top" and TOP_PERIODS[query.period]):
        total = db.session.scalar(select(func.count()).select_from(Topic).where(*conditions)) or 0
    else:  # the whole area or forum: the stored counts
        total = topic_counts.listed_total(viewer, category)
    pages = max(1, math.ceil(total / TOPICS_PER_PAGE))
    page = min(max(query.page, 1), pages)
    signed_in = getattr(viewer, "is_authenticated", False)
    read = TopicRead.last_read_number if signed_in else None
    # A deferred join: the page's ids are picked first, walking the list's index past the
    # skipped rows with nothing joined, then only those ids are loaded with their authors,
    # areas, tags and read marks. A deep page costs the walk, not the joins for every row.
    # Past the middle from the far end of the index, in the opposite order (walk_to).
    walk = walk_to(page, TOPICS_PER_PAGE, total)
    page_ids = (
        select(Topic.id)
        .where(*conditions, *in_index_order)
        .order_by(*((key.asc() for key in keys) if walk.backwards else order))
        .limit(walk.limit)
        .offset(walk.offset)
    )
    stmt = (select(Topic, read) if signed_in else select(Topic)).where(Topic.id.in_(page_ids))
    if signed_in:
        stmt = stmt.outerjoin(
            TopicRead, and_(TopicRead.topic_id == Topic.id, TopicRead.user_id == viewer.id)
        )
    stmt = stmt.options(
        joinedload(Topic.author),
        joinedload(Topic.last_poster),
        joinedload(Topic.category),
        selectinload(Topic.tags),
    ).order_by(*order)
    unread: dict[int, int | None] = {}
    if signed_in:
        rows = db.session.execute(stmt).unique().all()
        topics = [row[0] for row in rows]
        for topic, last_read in rows:
            unread[topic.id] = (
                None if last_read is None else max(0, topic.last_post_number - last_read)
            )
    else:
        topics = list(db.session.scalars(stmt).unique())
    pinned = {
        t.id for t in topics if (t.is_pinned if category is not None else t.is_pinned_globally)
    }
    return TopicList(Page(topics, page, TOPICS_PER_PAGE, total), unread, pinned)


def pinned_across_forum(viewer, *, limit: int = PINNED_ON_HOME) -> list[Topic]:
    """The topics moderators pinned across the whole forum that the reader may read, most
    active first, with their areas (the home page): one query."""
    # The head of /latest, read down the same index: a filter "is_pinned_globally IS 1" would
    # tie with ix_topics_private_report in SQLite's planner, which then scans every topic.
    head = db.session.scalars(
        select(Topic)
        .where(listed_topics(viewer), _walk_pin_index())
        .options(joinedload(Topic.category))
        .order_by(*_forum_order(), Topic.id.desc())
        .limit(limit)
    )
    return [topic for topic in head if topic.is_pinned_globally]
