"""Moving posts from one topic into another, as merging and splitting do (forum/services/
topic_surgery.py): the topics' rows locked, the posts numbered 1..N again in the order they were
written, paths and depths recomputed from the new numbers (forum/models/discussions.py), and the
topics' counters and search index brought up to date. Each step flushes; none commits.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select, update

from forum.extensions import db
from forum.models import Notification, Post, Topic
from forum.models.discussions import PATH_SEGMENT_WIDTH
from forum.services import search

# Posts moving into a topic first take numbers above any it has, so that no two posts of a topic
# ever share a number, not even for one statement (the uq_posts_topic_number constraint).
MOVING_NUMBER_OFFSET = 1_000_000


def _segment(number: int) -> str:
    return f"{number:0{PATH_SEGMENT_WIDTH}d}"


def renumber_posts(
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


def recount_topic(topic: Topic) -> None:
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


def reindex_topic(topic: Topic) -> None:
    """Reindex a topic whose posts moved: every post's text, and its title and opening post."""
    search.follow(topic)


def lock_topics(*topics: Topic) -> None:
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


def move_posts(posts: list[Post], topic: Topic) -> None:
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


def posts_of(topic: Topic) -> list[Post]:
    """Every post of a topic (deleted and hidden ones too), in number order."""
    return list(
        db.session.scalars(select(Post).where(Post.topic_id == topic.id).order_by(Post.number))
    )
