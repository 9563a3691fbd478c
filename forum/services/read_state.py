"""Where a member stopped reading: the read mark of every topic they opened (one TopicRead row),
raised when they are shown posts or write one, and the post a topic reopens at."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from forum.extensions import db
from forum.models import Post, Topic, TopicRead, User
from forum.models.types import utcnow


def raise_read_mark(user: User, topic_id: int, number: int, now: datetime) -> None:
    """Raise the member's read mark to ``number`` (never lower it); one upsert, no commit."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(TopicRead).values(
        user_id=user.id, topic_id=topic_id, last_read_number=number, updated_at=now
    )
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "topic_id"],
            set_={
                "last_read_number": func.max(TopicRead.last_read_number, number)
                if db.engine.dialect.name == "sqlite"
                else func.greatest(TopicRead.last_read_number, number),
                "updated_at": now,
            },
        )
    )


def last_read_number(user, topic: Topic) -> int | None:
    """The highest post number the member has seen in the topic, or None if never opened (and
    for a visitor)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(TopicRead.last_read_number).where(
            TopicRead.user_id == user.id, TopicRead.topic_id == topic.id
        )
    )


def mark_read(
    user,
    topic: Topic,
    posts: Collection[Post],
    *,
    last_read: int | None = None,
    now: datetime | None = None,
) -> None:
    """Record that a member was shown these posts of a topic (called when a page is viewed).

    ``last_read`` is the mark as read before the page was built (``last_read_number``): a page
    that shows nothing past it writes nothing, so reading an old page takes no write lock."""
    if not getattr(user, "is_authenticated", False) or not posts:
        return
    shown = max(p.number for p in posts)
    if last_read is not None and shown <= last_read:
        return
    raise_read_mark(user, topic.id, shown, now or utcnow())
    db.session.commit()


def _first_unread_post(topic: Topic, last_read: int) -> Post | None:
    """The earliest-written post the member has not seen yet."""
    return db.session.scalar(
        select(Post)
        .where(Post.topic_id == topic.id, Post.number > last_read)
        .order_by(Post.number)
        .limit(1)
    )


def where_to_resume(topic: Topic, last_read: int | None) -> Post | None:
    """The post a member who read part of the topic before (up to ``last_read``, from
    ``last_read_number``), and not all of it, is sent to when they open it without asking for a
    page: the first one they have not seen. None for a topic never opened, or read to its end."""
    if last_read is None or last_read >= topic.last_post_number:
        return None
    unread = _first_unread_post(topic, last_read)
    return unread if unread is not None and last_read > 0 else None
