"""Creating notifications. (Listing them and emailing them come with the notifications work.)"""

from __future__ import annotations

import re

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import contains_eager, joinedload

from forum.extensions import db
from forum.markup import mentioned_handles
from forum.models import (
    Notification,
    NotificationKind,
    Post,
    Subscription,
    Topic,
    User,
    WatchLevel,
)
from forum.models.types import utcnow
from forum.permissions import ANY_MEMBER, can, can_view_topic, readable_topics

_LINKED_MENTION = re.compile(r'<a href="/@([a-z0-9_.-]+)" class="mention"')


def _readers(topic: Topic, user_ids) -> set[int]:
    """Those of these members who may read the topic (forum.permissions.can_view_topic): a
    restricted topic or a private report tells nobody else, not even that it exists."""
    user_ids = set(user_ids)
    if not user_ids or can_view_topic(ANY_MEMBER, topic):
        return user_ids
    people = db.session.scalars(select(User).where(User.id.in_(user_ids)))
    return {user.id for user in people if can_view_topic(user, topic)}


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
    people = sorted(_readers(post.topic, people))
    if not people:
        return 0
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


def _shown_to(user: User):
    """Notifications the member may still be shown: those about no topic, and those about a
    topic they may read now (an embargo extended or an invitation withdrawn silences them)."""
    return or_(Notification.topic_id.is_(None), readable_topics(user))


def _own(user: User, *conditions):
    return (
        select(Notification)
        .outerjoin(Topic, Topic.id == Notification.topic_id)
        .where(Notification.user_id == user.id, _shown_to(user), *conditions)
    )


def open_notification(user: User, notification_id: int) -> Notification | None:
    """The member's notification, now marked read (the one GET that changes state); None when
    it is missing or the open_notification rule refuses, which the reader cannot tell apart."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or not can(user, "open_notification", notification):
        return None
    mark_read(user, notification)
    return notification


def notifications_for(user: User, *, limit: int = 50) -> list[Notification]:
    """The member's latest notifications, newest first, with what they point at (one query)."""
    return list(
        db.session.scalars(
            _own(user)
            .options(joinedload(Notification.actor), contains_eager(Notification.topic))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


# --- Watching --------------------------------------------------------------------------------


def watch_level(user: User, target_type: str, target_id: int) -> WatchLevel:
    row = db.session.get(Subscription, (user.id, target_type, target_id))
    return row.level if row else WatchLevel.NORMAL


def set_watch(user: User, target_type: str, target_id: int, level: WatchLevel) -> None:
    """Watch, follow normally or mute a topic ("topic") or an area ("category")."""
    row = db.session.get(Subscription, (user.id, target_type, target_id))
    if row is None:
        db.session.add(
            Subscription(user_id=user.id, target_type=target_type, target_id=target_id, level=level)
        )
    else:
        row.level = level
    db.session.commit()


def auto_watch(user: User, topic_id: int) -> None:
    """Watch a topic one created or replied to, unless turned off or already chosen (no commit)."""
    if not user.auto_watch or db.session.get(Subscription, (user.id, "topic", topic_id)):
        return
    db.session.add(
        Subscription(
            user_id=user.id, target_type="topic", target_id=topic_id, level=WatchLevel.WATCHING
        )
    )


def _add(rows: list[dict]) -> None:
    if not rows:
        return
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(Notification)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
    )


def _row(user_id: int, kind: NotificationKind, *, actor_id, topic_id, post_id, key: str) -> dict:
    return {
        "user_id": user_id,
        "kind": kind,
        "actor_id": actor_id,
        "topic_id": topic_id,
        "post_id": post_id,
        "created_at": utcnow(),
        "read_at": None,
        "dedupe_key": key,
        "message": "",
    }


def _watchers(target_type: str, target_id: int, level: WatchLevel) -> set[int]:
    return set(
        db.session.scalars(
            select(Subscription.user_id).where(
                Subscription.target_type == target_type,
                Subscription.target_id == target_id,
                Subscription.level == level,
            )
        )
    )


def notify_reply(post: Post, author: User) -> None:
    """Tell the author of the post replied to, and everyone watching the topic (no commit).
    Muted topics stay quiet; a mention already told its members."""
    mentioned = set(
        db.session.scalars(
            select(Notification.user_id).where(Notification.dedupe_key == f"mention:{post.id}")
        )
    )
    muted = _watchers("topic", post.topic_id, WatchLevel.MUTED)
    told = {author.id} | mentioned | muted
    rows = []
    parent_author = post.parent.author_id if post.parent else post.topic.author_id
    watching = _watchers("topic", post.topic_id, WatchLevel.WATCHING)
    readers = _readers(post.topic, watching | {parent_author})
    if parent_author not in told and parent_author in readers:
        rows.append(
            _row(
                parent_author,
                NotificationKind.REPLY,
                actor_id=author.id,
                topic_id=post.topic_id,
                post_id=post.id,
                key=f"reply:{post.id}",
            )
        )
        told.add(parent_author)
    for user_id in sorted((watching & readers) - told):
        rows.append(
            _row(
                user_id,
                NotificationKind.WATCHED_REPLY,
                actor_id=author.id,
                topic_id=post.topic_id,
                post_id=post.id,
                key=f"reply:{post.id}",
            )
        )
    _add(rows)


def notify_new_topic(topic, author: User) -> None:
    """Tell the members watching the topic's area (no commit)."""
    rows = [
        _row(
            user_id,
            NotificationKind.WATCHED_TOPIC,
            actor_id=author.id,
            topic_id=topic.id,
            post_id=None,
            key=f"topic:{topic.id}",
        )
        for user_id in sorted(
            _readers(topic, _watchers("category", topic.category_id, WatchLevel.WATCHING))
            - {author.id}
        )
    ]
    _add(rows)


def notify_accepted(post: Post, actor: User) -> None:
    if post.author_id != actor.id:
        _add(
            [
                _row(
                    post.author_id,
                    NotificationKind.ACCEPTED,
                    actor_id=actor.id,
                    topic_id=post.topic_id,
                    post_id=post.id,
                    key=f"accepted:{post.id}",
                )
            ]
        )


def notify_members(
    user_ids, kind: NotificationKind, *, key: str, topic_id=None, actor_id=None
) -> None:
    """One notification each for many members (round results, a welcome, a private report, being
    let into a restricted topic); once per member and key. Does not commit."""
    rows = [
        _row(u, kind, actor_id=actor_id, topic_id=topic_id, post_id=None, key=key) for u in user_ids
    ]
    _add(rows)


def notify_bookmark_reminder(bookmark, *, due_at) -> None:
    """A bookmark's reminder, once per bookmark and reminder time (no commit). Dated when it was
    due, so its immediate email does not wait for a burst (it is none); it carries the member's
    own note (Notification.message: shown to them alone)."""
    row = _row(
        bookmark.user_id,
        NotificationKind.BOOKMARK_REMINDER,
        actor_id=None,
        topic_id=bookmark.post.topic_id,
        post_id=bookmark.post_id,
        key=f"bookmark:{bookmark.id}:{int(due_at.timestamp())}",
    )
    _add([{**row, "created_at": due_at, "message": bookmark.note}])


def notify_workshop_seat(user_id: int, *, key: str, title: str) -> None:
    """A member moved off a workshop's waitlist (issue 18): once per registration (no commit).
    It carries the workshop's title (no topic to name); forum.services.workshops reads the key."""
    row = _row(
        user_id, NotificationKind.WORKSHOP_SEAT, actor_id=None, topic_id=None, post_id=None, key=key
    )
    _add([{**row, "message": title}])


def suggestion_key(guideline_id: int, suggestion_id: int, decision: str) -> str:
    return f"guideline:{guideline_id}:suggestion:{suggestion_id}:{decision}"


def notify_suggestion_decided(suggestion, *, actor: User, accepted: bool) -> None:
    """Tell the member who suggested an edit that an editor accepted or declined it (issue 18):
    once per suggestion (no commit). It carries the guideline's title (no topic to name); the
    key names the guideline and the decision (guideline_of_suggestion_notice reads it)."""
    if suggestion.author_id is None or suggestion.author_id == actor.id:
        return
    guideline = suggestion.section.guideline
    row = _row(
        suggestion.author_id,
        NotificationKind.SUGGESTION_DECIDED,
        actor_id=actor.id,
        topic_id=None,
        post_id=None,
        key=suggestion_key(guideline.id, suggestion.id, "accepted" if accepted else "declined"),
    )
    _add([{**row, "message": guideline.title}])


def suggestion_notice(notification: Notification) -> tuple[int, bool] | None:
    """(guideline id, accepted?) of a suggestion_decided notification, read from its key."""
    parts = (notification.dedupe_key or "").split(":")
    if len(parts) != 5 or parts[0] != "guideline" or not parts[1].isdigit():
        return None
    return int(parts[1]), parts[4] == "accepted"


# --- Reading them ----------------------------------------------------------------------------


def unread_count(user: User) -> int:
    """The bell's number: unread notifications the member may still be shown."""
    unread = _own(user, Notification.read_at.is_(None)).subquery()
    return db.session.scalar(select(func.count()).select_from(unread)) or 0


def mark_read(user: User, notification: Notification) -> None:
    if notification.user_id == user.id and notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()


def mark_all_read(user: User) -> None:
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()


def save_email_preferences(user: User, **preferences) -> None:
    for name, value in preferences.items():
        setattr(user, name, value)
    db.session.commit()
