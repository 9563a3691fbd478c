"""Moderators merging one topic into another, and splitting replies off into a topic of their own.

Both keep every post (deleted and hidden ones too) with its author, text, time and votes, and
renumber the topics they touch so that each stays numbered 1..N in the order posts were written,
with paths and depths recomputed from the new numbers (forum/models/discussions.py). The merged
topic keeps its row, with ``merged_into_id`` set, so that its old address can redirect.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from forum.extensions import db
from forum.models import (
    Category,
    Notification,
    Post,
    Topic,
    TopicAccess,
    TopicKind,
    TopicRead,
    User,
)
from forum.models.discussions import PATH_SEGMENT_WIDTH, TITLE_MAX_LENGTH, slugify
from forum.models.types import utcnow
from forum.permissions import is_under_embargo, require
from forum.services import audit, search, topic_counts
from forum.services.moderation import ModerationError

__all__ = ["ModerationError", "merge_topics", "resolve_merged", "split_topic"]

# A topic merged into one that was merged in turn is followed this many times at most.
MAX_MERGE_HOPS = 10
# Posts moving into a topic first take numbers above any it has, so that no two posts of a topic
# ever share a number, not even for one statement (the uq_posts_topic_number constraint).
MOVING_NUMBER_OFFSET = 1_000_000


# --- Renumbering and counting --------------------------------------------------------------------


def _segment(number: int) -> str:
    return f"{number:0{PATH_SEGMENT_WIDTH}d}"


def _renumber(
    topic_id: int,
    *,
    opening_post_id: int | None = None,
    origin_topic_ids: Mapping[int, int] | None = None,
) -> list[Post]:
    """Number a topic's posts 1..N in the order they were written, then recompute their paths
    and depths. Returns the posts in their new order. Flushes; does not commit.

    The opening post (``opening_post_id``, else the post numbered 1) stays number 1. Ties in
    ``created_at`` go to the post from the lower original topic id (``origin_topic_ids`` maps the
    ids of posts that moved in to the topic they came from), then to the lower old number.
    Replies to posts that are not in the topic, and replies to its opening post, become
    top-level replies, as ``post_reply`` files a reply to the opening post.
    """
    posts = list(db.session.scalars(select(Post).where(Post.topic_id == topic_id)))
    if not posts:
        return []
    origins = origin_topic_ids or {}
    if opening_post_id is None:
        opening = next((p for p in posts if p.number == 1), None)
        opening_post_id = opening.id if opening is not None else None
    rest = sorted(
        (p for p in posts if p.id != opening_post_id),
        key=lambda p: (p.created_at, origins.get(p.id, topic_id), p.number),
    )
    ordered = [p for p in posts if p.id == opening_post_id] + rest

    # Two phases: old numbers are all positive and the temporary ones all negative, so each
    # row's UPDATE leaves the topic's numbers unique at every step, on any database.
    for position, post in enumerate(ordered, start=1):
        post.number = -position
    db.session.flush()
    for position, post in enumerate(ordered, start=1):
        post.number = position

    by_id = {p.id: p for p in ordered}
    opening_id = ordered[0].id
    for post in ordered:
        parent = by_id.get(post.parent_id) if post.parent_id is not None else None
        if post.id == opening_id or parent is None or parent.id == opening_id:
            post.parent_id = None
    placed: dict[int, tuple[str, int]] = {}

    def place(post: Post) -> tuple[str, int]:
        # Walk up to the nearest placed ancestor, then down again: no recursion limit to hit.
        chain = [post]
        while chain[-1].parent_id is not None and chain[-1].parent_id not in placed:
            chain.append(by_id[chain[-1].parent_id])
        for link in reversed(chain):
            if link.parent_id is None:
                placed[link.id] = (_segment(link.number), 0)
            else:
                parent_path, parent_depth = placed[link.parent_id]
                placed[link.id] = (f"{parent_path}/{_segment(link.number)}", parent_depth + 1)
        return placed[post.id]

    for post in ordered:
        # Replies are written after what they answer, so a parent's number is always smaller.
        assert post.parent_id is None or by_id[post.parent_id].number < post.number, post
        post.path, post.depth = place(post)
    db.session.flush()
    return ordered


def _recount(topic: Topic) -> None:
    """Recompute a topic's denormalised counters from its posts (deleted posts do not count)."""
    live = (Post.topic_id == topic.id, Post.deleted_at.is_(None))
    # Replies waiting for first-post review are counted when a moderator approves them.
    topic.reply_count = db.session.scalar(
        select(func.count())
        .select_from(Post)
        .where(*live, Post.number > 1, Post.awaiting_review.is_(False))
    )
    topic.vote_count = db.session.scalar(
        select(func.coalesce(func.sum(Post.vote_count), 0)).where(*live)
    )
    topic.last_post_number = db.session.scalar(
        select(func.coalesce(func.max(Post.number), 0)).where(Post.topic_id == topic.id)
    )
    # The latest post still there (a deleted one does not make the topic look active); the
    # opening post when every post is deleted.
    last = db.session.scalar(
        select(Post).where(*live).order_by(Post.number.desc()).limit(1)
    ) or db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.number == 1))
    if last is not None:
        topic.last_post_at = last.created_at
        topic.last_poster_id = last.author_id


def _index(topic: Topic) -> None:
    """Index a topic's title and opening post, leaving out an opening post readers cannot see."""
    opening = db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.number == 1))
    visible = opening is not None and not opening.is_deleted and not opening.is_hidden
    search.index_topic(topic.id, title=topic.title, body=opening.body if visible else "")


def _lock(*topics: Topic) -> None:
    """Lock the topics' rows (in id order, so two surgeries never deadlock) and reload them:
    a reply written meanwhile claims its number after this transaction, never among ours."""
    ids = sorted({t.id for t in topics})
    db.session.scalars(
        select(Topic)
        .where(Topic.id.in_(ids))
        .order_by(Topic.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def _move_posts(posts: list[Post], topic: Topic) -> None:
    """Move posts into a topic, above its own numbers until the topic is renumbered."""
    highest = db.session.scalar(select(func.max(Post.number)).where(Post.topic_id == topic.id))
    if (highest or 0) >= MOVING_NUMBER_OFFSET:
        raise RuntimeError(f"topic {topic.id} has too many posts to renumber")
    moved = [p.id for p in posts]
    for post in posts:
        post.topic_id = topic.id
        post.number += MOVING_NUMBER_OFFSET
    db.session.flush()
    # Mentions and moderation notices about these posts now lead to their new topic.
    if moved:
        db.session.execute(
            update(Notification)
            .where(Notification.post_id.in_(moved))
            .values(topic_id=topic.id)
            .execution_options(synchronize_session=False)
        )


def _posts_of(topic: Topic) -> list[Post]:
    return list(
        db.session.scalars(select(Post).where(Post.topic_id == topic.id).order_by(Post.number))
    )


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
    _lock(source, target)
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
    moving = _posts_of(source)
    origins = {p.id: source.id for p in moving}
    _move_posts(moving, target)
    _renumber(target.id, opening_post_id=target_opening.id, origin_topic_ids=origins)

    # An accepted answer moves only into a question that has none yet.
    if target.accepted_post_id is None and target.is_question:
        target.accepted_post_id = source.accepted_post_id
    source.accepted_post_id = None
    if source.is_listed_to_all:  # about to be merged away: out of the stored counts
        topic_counts.count_as_listed(source, -1)
    source.merged_into_id = target.id
    source.reply_count = source.last_post_number = source.vote_count = 0
    _recount(target)
    # Read marks counted the source's numbers, which no longer exist.
    db.session.execute(delete(TopicRead).where(TopicRead.topic_id == source.id))
    _index(target)
    search.index_topic(source.id, title="", body="")
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
    if len(title) > TITLE_MAX_LENGTH:
        raise ModerationError(
            _("The title can be at most %(count)d characters long.", count=TITLE_MAX_LENGTH)
        )
    chosen = set(post_ids)
    if not chosen:
        raise ModerationError(_("Choose at least one reply to split off."))
    _lock(topic)
    try:
        posts = _posts_of(topic)
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
    _move_posts(moving, new)
    _renumber(new.id, opening_post_id=opening.id)
    _renumber(topic.id)
    if topic.accepted_post_id in moved_ids:
        topic.accepted_post_id = None  # the new topic is a discussion: no accepted answers
    _recount(topic)
    _recount(new)
    # Read marks past the topic's new end would hide the replies written after them.
    db.session.execute(
        update(TopicRead)
        .where(TopicRead.topic_id == topic.id, TopicRead.last_read_number > topic.last_post_number)
        .values(last_read_number=topic.last_post_number)
        .execution_options(synchronize_session=False)
    )
    if new.is_listed_to_all:
        topic_counts.count_as_listed(new, +1)
    _index(topic)
    _index(new)
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
