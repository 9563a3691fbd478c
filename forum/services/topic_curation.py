"""Moderators curating topics: pinning, locking, moving to another area, featuring on the home
page and closing as a duplicate; merging and splitting are in forum/services/topic_surgery.py.

Every action writes an audit entry in the same transaction (forum/services/audit.py).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import Category, Topic, User
from forum.models.types import utcnow
from forum.permissions import listed_topics, require
from forum.services import audit
from forum.services.moderation import ModerationError


def _topic_action(
    moderator: User, topic: Topic, action: str, *, reason: str = "", now=None, **public
) -> None:
    require(moderator, "moderate_topic", topic)
    audit.record(
        moderator,
        action,
        target_type="topic",
        target_id=topic.id,
        reason=reason,
        public=public or None,
        now=now or utcnow(),
    )
    db.session.commit()


def pin_topic(moderator: User, topic: Topic, *, globally: bool = False) -> None:
    require(moderator, "moderate_topic", topic)  # before anything changes
    topic.is_pinned = True
    topic.is_pinned_globally = globally
    _topic_action(moderator, topic, "topic.pin", scope="forum" if globally else "area")


def unpin_topic(moderator: User, topic: Topic) -> None:
    require(moderator, "moderate_topic", topic)  # before anything changes
    topic.is_pinned = topic.is_pinned_globally = False
    _topic_action(moderator, topic, "topic.unpin")


def lock_topic(moderator: User, topic: Topic, *, note: str) -> None:
    require(moderator, "moderate_topic", topic)  # before anything changes
    topic.is_locked = True
    topic.lock_note = note.strip()
    _topic_action(moderator, topic, "topic.lock", reason=note)


def unlock_topic(moderator: User, topic: Topic) -> None:
    require(moderator, "moderate_topic", topic)  # before anything changes
    topic.is_locked = False
    topic.lock_note = ""
    _topic_action(moderator, topic, "topic.unlock")


def move_topic(moderator: User, topic: Topic, category: Category) -> None:
    require(moderator, "moderate_topic", topic)  # before anything changes
    if category.id == topic.category_id:
        raise ModerationError(_("The topic is already in that area."))
    old = topic.category_id
    if topic.is_listed_to_all:  # the stored counts hold only what every reader sees
        db.session.execute(
            update(Category).where(Category.id == old).values(topic_count=Category.topic_count - 1)
        )
        db.session.execute(
            update(Category)
            .where(Category.id == category.id)
            .values(topic_count=Category.topic_count + 1)
        )
    topic.category_id = category.id
    _topic_action(moderator, topic, "topic.move", **{"from": old, "to": category.id})


def feature_topic(moderator: User, topic: Topic, *, summary: str) -> None:
    require(moderator, "moderate_topic", topic)  # before anything changes
    topic.is_featured = True
    topic.featured_summary = summary.strip()
    _topic_action(moderator, topic, "topic.feature")


def unfeature_topic(moderator: User, topic: Topic) -> None:
    require(moderator, "moderate_topic", topic)  # before anything changes
    topic.is_featured = False
    topic.featured_summary = ""
    _topic_action(moderator, topic, "topic.unfeature")


def close_as_duplicate(moderator: User, topic: Topic, original: Topic, *, note: str = "") -> None:
    require(moderator, "moderate_topic", topic)  # before anything changes
    if original.id == topic.id:
        raise ModerationError(_("A topic cannot duplicate itself."))
    topic.duplicate_of_id = original.id
    topic.is_locked = True
    topic.lock_note = note.strip() or _("Closed as a duplicate.")
    _topic_action(moderator, topic, "topic.duplicate", reason=note, of=original.id)


def featured_topics(viewer, limit: int = 5) -> list[Topic]:
    """Featured topics the reader may read, most active first (the home page)."""
    return list(
        db.session.scalars(
            select(Topic)
            .where(Topic.is_featured.is_(True), listed_topics(viewer))
            .options(joinedload(Topic.category))
            .order_by(Topic.last_post_at.desc())
            .limit(limit)
        )
    )
