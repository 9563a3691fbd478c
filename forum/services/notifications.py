"""Creating notifications. (Listing them and emailing them come with the notifications work.)"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from forum.extensions import db
from forum.markup import mentioned_handles
from forum.models import Notification, NotificationKind, Post, User
from forum.models.types import utcnow

_LINKED_MENTION = re.compile(r'<a href="/@([a-z0-9_.-]+)" class="mention"')


def mention_candidates(text: str) -> set[str]:
    """The @handles in a text that belong to members (one query); render_markdown links these."""
    handles = mentioned_handles(text)
    if not handles:
        return set()
    return set(db.session.scalars(select(User.handle).where(User.handle.in_(handles))))


def notify_mentions(post: Post, author: User) -> int:
    """One notification per member linked as @handle in the post, never the author, never twice
    for the same post (so editing a post does not notify again). Does not commit."""
    handles = set(_LINKED_MENTION.findall(post.body_html)) - {author.handle}
    if not handles:
        return 0
    people = db.session.scalars(select(User.id).where(User.handle.in_(handles))).all()
    rows = [
        {
            "user_id": user_id,
            "kind": NotificationKind.MENTION,
            "actor_id": author.id,
            "topic_id": post.topic_id,
            "post_id": post.id,
            "created_at": utcnow(),
            "read_at": None,
            "dedupe_key": f"mention:{post.id}",
        }
        for user_id in people
    ]
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(Notification)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
    )
    return len(rows)


def notifications_for(user: User) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(50)
        )
    )
