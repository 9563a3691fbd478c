"""How many topics each area and tag holds: the stored counts of what every reader sees, kept in
step in the transaction that lists or unlists a topic, and read with the restricted topics this
reader may see added (found by id through indexes: permissions.restricted_topics_maybe_readable,
so the count does not walk every topic under embargo)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select, update

from forum.extensions import db
from forum.models import Category, Tag, Topic
from forum.models.discussions import topic_tags
from forum.permissions import (
    listed_topics,
    readable_categories,
    restricted_topics_maybe_readable,
)


def count_in_area(category_id: int, delta: int) -> None:
    """Add ``delta`` to the stored topic count of one area (one UPDATE, no lost updates)."""
    db.session.execute(
        update(Category)
        .where(Category.id == category_id)
        .values(topic_count=Category.topic_count + delta)
    )


def count_under_tags(tag_ids: Collection[int], delta: int) -> None:
    """Add ``delta`` to the stored topic counts of these tags (nothing when there are none)."""
    if tag_ids:
        db.session.execute(
            update(Tag).where(Tag.id.in_(tag_ids)).values(topic_count=Tag.topic_count + delta)
        )


def count_as_listed(topic: Topic, delta: int) -> None:
    """Add the topic to (+1) or take it from (-1) the stored counts of its area and tags, which
    count what every reader of them sees (Topic.is_listed_to_all). Call it just before a change
    that makes the topic listed or unlisted (restricting, lifting, merging, moving)."""
    count_in_area(topic.category_id, delta)
    count_under_tags([t.id for t in topic.tags], delta)


def area_topic_counts(viewer, categories: Collection[Category]) -> dict[int, int]:
    """How many topics of each area the reader sees: the stored count of what everyone sees,
    plus the restricted topics this reader may read (few, found by id through indexes)."""
    counts = {c.id: c.topic_count for c in categories}
    for category_id, extra in db.session.execute(
        select(Topic.category_id, func.count())
        .where(restricted_topics_maybe_readable(viewer), listed_topics(viewer))
        .group_by(Topic.category_id)
    ):
        if category_id in counts:
            counts[category_id] += extra
    return counts


def listed_total(viewer, category: Category | None = None) -> int:
    """How many topics the reader sees in one area, or in every area they may read (/latest),
    counted as area_topic_counts counts: one statement, no scan of the topics."""
    stored = select(func.coalesce(func.sum(Category.topic_count), 0)).where(
        readable_categories(viewer)
    )
    restricted = (
        select(func.count())
        .select_from(Topic)
        .where(restricted_topics_maybe_readable(viewer), listed_topics(viewer))
    )
    if category is not None:
        stored = stored.where(Category.id == category.id)
        restricted = restricted.where(Topic.category_id == category.id)
    return db.session.scalar(select(stored.scalar_subquery() + restricted.scalar_subquery())) or 0


def tag_topic_counts(viewer, tags: Collection[Tag]) -> dict[int, int]:
    """How many topics carry each tag for this reader, counted as area_topic_counts counts."""
    counts = {t.id: t.topic_count for t in tags}
    for tag_id, extra in db.session.execute(
        select(topic_tags.c.tag_id, func.count())
        .join(Topic, Topic.id == topic_tags.c.topic_id)
        .where(restricted_topics_maybe_readable(viewer), listed_topics(viewer))
        .group_by(topic_tags.c.tag_id)
    ):
        if tag_id in counts:
            counts[tag_id] += extra
    return counts
