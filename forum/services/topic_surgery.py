"""Moderators merging one topic into another, and splitting replies off into a topic of their own.

Both keep every post (deleted and hidden ones too) with its author, text, time and votes, and
renumber the topics they touch so that each stays numbered 1..N in the order posts were written,
with paths and depths recomputed from the new numbers (forum/services/post_moves.py). The merged
topic keeps its row, with ``merged_into_id`` set, so that its old address can redirect.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from forum.extensions import db
from forum.models import (
    Category,
    Post,
    Topic,
    TopicAccess,
    TopicKind,
    TopicRead,
    User,
)
from forum.models.discussions import TITLE_MAX_LENGTH, slugify
from forum.models.types import utcnow
from forum.names import TextRefused, check_title
from forum.permissions import is_under_embargo, require
from forum.services import audit, post_moves, topic_counts
from forum.services.moderation import ModerationError

__all__ = ["ModerationError", "merge_topics", "resolve_merged", "split_topic"]

# A topic merged into one that was merged in turn is followed this many times at most.
MAX_MERGE_HOPS = 10


# --- Merging -------------------------------------------------------------------------------------


def merge_topics(
    moderator: User,
    source: Topic,
    target: Topic,
    *,
    reason: str = "",
    now: datetime | None = None,
) -> Topic:
    """Move every post of ``source`` into ``target``, in time order; ``source`` then redirects.

    Refused (ModerationError) for a topic merged into itself, from or into a topic already merged
    away, and for restricted topics under embargo (their posts would show to other readers).
    """
    require(moderator, "moderate")
    now = now or utcnow()
    if source.id == target.id:
        raise ModerationError(_("A topic cannot be merged into itself."))
    post_moves.lock_topics(source, target)
    try:
        _check_merge(source, target)
    except ModerationError:
        db.session.rollback()  # let go of the row locks
        raise
    require(moderator, "moderate_topic", source)  # both live now: may the moderator see them?
    require(moderator, "moderate_topic", target)

    target_opening = db.session.scalar(
        select(Post).where(Post.topic_id == target.id, Post.number == 1)
    )
    moving = post_moves.posts_of(source)
    origins = {p.id: source.id for p in moving}
    post_moves.move_posts(moving, target)
    post_moves.renumber_posts(
        target.id, opening_post_id=target_opening.id, origin_topic_ids=origins
    )

    # An accepted answer moves only into a question that has none yet.
    if target.accepted_post_id is None and target.is_question:
        target.accepted_post_id = source.accepted_post_id
    source.accepted_post_id = None
    if source.is_listed_to_all:  # about to be merged away: out of the stored counts
        topic_counts.count_as_listed(source, -1)
    source.merged_into_id = target.id
    source.reply_count = source.last_post_number = source.vote_count = 0
    post_moves.recount_topic(target)
    # Read marks counted the source's numbers, which no longer exist.
    db.session.execute(delete(TopicRead).where(TopicRead.topic_id == source.id))
    post_moves.reindex_topic(target)
    audit.record(
        moderator,
        "topic.merge",
        target_type="topic",
        target_id=source.id,
        reason=reason,
        public={"into": target.id},
        now=now,
    )
    db.session.commit()
    return target


def _check_merge(source: Topic, target: Topic) -> None:
    if source.merged_into_id is not None:
        raise ModerationError(_("This topic was already merged into another one."))
    if target.merged_into_id is not None:
        raise ModerationError(
            _("That topic was merged into another one: merge into the topic it now belongs to.")
        )
    if is_under_embargo(source) or is_under_embargo(target):
        raise ModerationError(_("A restricted topic cannot be merged until its embargo ends."))


def resolve_merged(topic: Topic) -> Topic:
    """The topic that now holds a merged topic's posts (the topic itself if never merged).

    Follows chains of merges up to MAX_MERGE_HOPS, and stops where a chain would loop back.
    """
    seen = {topic.id}
    for _hop in range(MAX_MERGE_HOPS):
        if topic.merged_into_id is None or topic.merged_into_id in seen:
            break
        following = db.session.get(Topic, topic.merged_into_id)
        if following is None:
            break
        seen.add(following.id)
        topic = following
    return topic


# --- Splitting -----------------------------------------------------------------------------------


def split_topic(
    moderator: User,
    topic: Topic,
    post_ids: Collection[int],
    *,
    title: str,
    category: Category | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Topic:
    """Move the chosen replies, with every reply beneath them, into a new discussion topic.

    The earliest moved post becomes the new topic's opening post and its author the topic's.
    Refused (ModerationError) without a title, without replies chosen, for the opening post,
    for posts of another topic and for a topic merged away. A restricted topic's restriction
    and invited members carry over to the new topic.
    """
    require(moderator, "moderate_topic", topic)
    now = now or utcnow()
    title = title.strip()
    if not title:
        raise ModerationError(_("Give the new topic a title."))
    try:
        title = check_title(title)
    except TextRefused as error:
        raise ModerationError(error.message) from None
    if len(title) > TITLE_MAX_LENGTH:
        raise ModerationError(
            _("The title can be at most %(count)d characters long.", count=TITLE_MAX_LENGTH)
        )
    chosen = set(post_ids)
    if not chosen:
        raise ModerationError(_("Choose at least one reply to split off."))
    post_moves.lock_topics(topic)
    try:
        posts = post_moves.posts_of(topic)
        moving = _check_split(topic, posts, chosen)
    except ModerationError:
        db.session.rollback()  # let go of the row lock
        raise

    category = category or topic.category
    opening = min(moving, key=lambda p: (p.created_at, p.number))
    new = Topic(
        category_id=category.id,
        author_id=opening.author_id,
        title=title,
        slug=slugify(title),
        kind=TopicKind.DISCUSSION,
        created_at=opening.created_at,
        last_post_at=opening.created_at,
        last_poster_id=opening.author_id,
        is_restricted=topic.is_restricted,
        embargo_until=topic.embargo_until,
        is_private_report=topic.is_private_report,
    )
    db.session.add(new)
    db.session.flush()
    invited = db.session.scalars(
        select(TopicAccess.user_id).where(TopicAccess.topic_id == topic.id)
    )
    for user_id in invited.all():
        db.session.add(TopicAccess(topic_id=new.id, user_id=user_id))

    moved_ids = sorted(p.id for p in moving)
    post_moves.move_posts(moving, new)
    post_moves.renumber_posts(new.id, opening_post_id=opening.id)
    post_moves.renumber_posts(topic.id)
    if topic.accepted_post_id in moved_ids:
        topic.accepted_post_id = None  # the new topic is a discussion: no accepted answers
    post_moves.recount_topic(topic)
    post_moves.recount_topic(new)
    # Read marks past the topic's new end would hide the replies written after them.
    db.session.execute(
        update(TopicRead)
        .where(TopicRead.topic_id == topic.id, TopicRead.last_read_number > topic.last_post_number)
        .values(last_read_number=topic.last_post_number)
        .execution_options(synchronize_session=False)
    )
    if new.is_listed_to_all:
        topic_counts.count_as_listed(new, +1)
    post_moves.reindex_topic(topic)
    post_moves.reindex_topic(new)
    audit.record(
        moderator,
        "topic.split",
        target_type="topic",
        target_id=topic.id,
        reason=reason,
        public={"new_topic": new.id, "posts": moved_ids},
        now=now,
    )
    db.session.commit()
    return new


def _check_split(topic: Topic, posts: list[Post], chosen: set[int]) -> list[Post]:
    """The chosen posts and all their descendants, or ModerationError saying what is wrong."""
    if topic.merged_into_id is not None:
        raise ModerationError(_("This topic was merged into another one: split that one instead."))
    by_id = {p.id: p for p in posts}
    if not chosen <= by_id.keys():
        raise ModerationError(_("Only replies of this topic can be split off from it."))
    if any(by_id[i].number == 1 for i in chosen):
        raise ModerationError(
            _("The opening post cannot be split off: choose the replies to move instead.")
        )
    children: dict[int, list[int]] = {}
    for post in posts:
        if post.parent_id is not None:
            children.setdefault(post.parent_id, []).append(post.id)
    moving: set[int] = set()
    waiting = list(chosen)
    while waiting:
        post_id = waiting.pop()
        if post_id not in moving:
            moving.add(post_id)
            waiting.extend(children.get(post_id, ()))
    return [by_id[i] for i in sorted(moving, key=lambda i: by_id[i].number)]
