"""Reading topics and posts: a topic and its page of posts in thread order, a post and the page
that shows it, outlines, revisions, a member's latest writing, and topics sharing a link.

Callers check visibility of what they fetch by id (forum.views.visible_topic_or_404); the lists
here draw their scope from forum.permissions (listed_topics, visible_posts)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import joinedload, selectinload

from forum import links
from forum.extensions import db
from forum.models import Post, PostRevision, Topic, TopicResourceKey, User, WatchLevel
from forum.pagination import Page, walk_to
from forum.permissions import listed_topics, visible_posts
from forum.services import bookmarks, disclosure, moderation, notifications, votes
from forum.services.posting import Resource

POSTS_PER_PAGE = 20


def get_topic(topic_id: int) -> Topic | None:
    return db.session.scalar(
        select(Topic)
        .where(Topic.id == topic_id)
        .options(
            joinedload(Topic.category),
            joinedload(Topic.author),
            joinedload(Topic.accepted_post).joinedload(Post.author),
            selectinload(Topic.tags),
        )
    )


def get_post(post_id: int) -> Post | None:
    return db.session.scalar(
        select(Post)
        .where(Post.id == post_id)
        .options(joinedload(Post.topic), joinedload(Post.author))
    )


def topic_posts(topic: Topic, *, page: int = 1) -> Page:
    """One page of a topic's posts in thread order (depth-first by path). One query."""
    total = topic.last_post_number  # posts are numbered 1..N and never removed from the table
    pages = max(1, math.ceil(total / POSTS_PER_PAGE))
    page = min(max(page, 1), pages)
    # The page's ids first, from ix_posts_topic_path alone (it holds the id), then those
    # posts with their authors: the last page of a long topic joins nothing for skipped rows.
    # Past the middle from the topic's end, backwards (walk_to): the last page of a
    # 5,000-post topic skips nothing.
    walk = walk_to(page, POSTS_PER_PAGE, total)
    page_ids = (
        select(Post.id)
        .where(Post.topic_id == topic.id)
        .order_by(Post.path.desc() if walk.backwards else Post.path)
        .limit(walk.limit)
        .offset(walk.offset)
    )
    posts = (
        db.session.scalars(
            select(Post)
            .where(Post.id.in_(page_ids))
            .options(
                joinedload(Post.author),
                joinedload(Post.parent).joinedload(Post.author),
                joinedload(Post.attachments),
            )
            .order_by(Post.path)
        )
        .unique()
        .all()
    )
    return Page(list(posts), page, POSTS_PER_PAGE, total)


@dataclass
class TopicPage:
    """What a topic's page shows a reader besides the topic itself."""

    posts: Page
    voted: set[int]  # the posts on this page the reader upvoted
    bookmarked: dict[int, int]  # post id -> the reader's bookmark of it, for the posts shown
    flagged: set[int]  # the posts on this page the reader flagged (they see "You flagged this")
    watching: WatchLevel | None  # None for a visitor
    accepted: Post | None  # the accepted answer, shown above the replies on the first page
    panel: disclosure.Panel


def _reader_marks(reader, posts) -> tuple[set[int], dict[int, int], set[int]]:
    """The reader's upvotes, bookmarks (post id -> bookmark id) and flags among the shown posts,
    in one statement: each service says what its mark is, this unites them (none for a visitor)."""
    if not getattr(reader, "is_authenticated", False) or not posts:
        return set(), {}, set()
    ids = [post.id for post in posts]
    parts = {
        "vote": votes.votes_among(reader.id, ids),
        "bookmark": bookmarks.bookmarks_among(reader.id, ids),
        "flag": moderation.flags_among(reader.id, ids),
    }
    marks = union_all(
        *(part.add_columns(literal(kind).label("kind")) for kind, part in parts.items())
    )
    voted: set[int] = set()
    bookmarked: dict[int, int] = {}
    flagged: set[int] = set()
    for post_id, extra, kind in db.session.execute(marks):
        if kind == "vote":
            voted.add(post_id)
        elif kind == "bookmark":
            bookmarked[post_id] = extra
        else:
            flagged.add(post_id)
    return voted, bookmarked, flagged


def topic_page(reader, topic: Topic, *, page: int = 1) -> TopicPage:
    """One page of a topic the reader may see (the caller checked), with what goes around it."""
    posts = topic_posts(topic, page=page)
    signed_in = getattr(reader, "is_authenticated", False)
    accepted = topic.accepted_post if posts.page == 1 else None
    voted, bookmarked, flagged = _reader_marks(reader, [*posts.items, *filter(None, [accepted])])
    return TopicPage(
        posts=posts,
        voted=voted,
        bookmarked=bookmarked,
        flagged=flagged,
        watching=notifications.watch_level(reader, "topic", topic.id) if signed_in else None,
        accepted=accepted,
        panel=disclosure.panel(reader, topic),
    )


def page_of_post(post: Post) -> int:
    """The page of its topic on which a post is shown (posts before it, in thread order)."""
    before = db.session.scalar(
        select(func.count())
        .select_from(Post)
        .where(Post.topic_id == post.topic_id, Post.path < post.path)
    )
    return (before or 0) // POSTS_PER_PAGE + 1


def thread_outline(topic: Topic, *, limit: int = 500) -> list[Post]:
    """A topic's posts in thread order, for moderators choosing replies to split off."""
    return list(
        db.session.scalars(
            select(Post)
            .where(Post.topic_id == topic.id)
            .options(joinedload(Post.author))
            .order_by(Post.path)
            .limit(limit)
        )
    )


def post_revisions(post: Post) -> list[PostRevision]:
    """The versions an edited post replaced, newest first, with who replaced each."""
    return list(
        db.session.scalars(
            select(PostRevision)
            .where(PostRevision.post_id == post.id)
            .options(joinedload(PostRevision.editor))
            .order_by(PostRevision.number.desc())
        )
    )


def recent_posts_by(user: User, *, viewer=None, limit: int = 10) -> list[Post]:
    """A member's latest replies (not the opening posts of their topics), newest first."""
    return list(
        db.session.scalars(
            select(Post)
            .join(Post.topic)
            .where(Post.author_id == user.id, Post.number > 1, visible_posts(viewer))
            .where(listed_topics(viewer))
            .options(joinedload(Post.topic))
            .order_by(Post.created_at.desc())
            .limit(limit)
        )
    )


def recent_topics_by(user: User, *, viewer=None, limit: int = 10) -> list[Topic]:
    """The topics a member opened that the reader sees, newest first."""
    return list(
        db.session.scalars(
            select(Topic)
            .where(Topic.author_id == user.id, listed_topics(viewer))
            .options(joinedload(Topic.category))
            .order_by(Topic.created_at.desc())
            .limit(limit)
        )
    )


def find_shared_resource(
    resource: Resource, *, viewer, exclude_topic_id: int | None = None
) -> list[Topic]:
    """Topics the reader may read that already share this URL or DOI (in any of its trivially
    different forms)."""
    keys = links.resource_key(resource.url.strip() or None, resource.doi.strip() or None)
    if not keys:
        return []
    stmt = (
        select(Topic)
        .join(TopicResourceKey, TopicResourceKey.topic_id == Topic.id)
        .where(TopicResourceKey.key.in_(keys), listed_topics(viewer))
        .options(joinedload(Topic.category))
        .distinct()
        .order_by(Topic.id)
        .limit(5)
    )
    if exclude_topic_id is not None:
        stmt = stmt.where(Topic.id != exclude_topic_id)
    return list(db.session.scalars(stmt))
