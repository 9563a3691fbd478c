"""Opening topics, replying in threads, editing and deleting posts, and reading them back."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.i18n import N_
from forum.markup import render_markdown
from forum.models import Category, Post, PostRevision, Topic, TopicKind, User
from forum.models.discussions import BODY_MAX_LENGTH, PATH_SEGMENT_WIDTH, TITLE_MAX_LENGTH, slugify
from forum.models.types import utcnow
from forum.permissions import require

TOPICS_PER_PAGE = 30
POSTS_PER_PAGE = 20
LATEST_TOPICS_PER_AREA = 4
MEMBER_TOPIC_KINDS = (TopicKind.QUESTION, TopicKind.RESOURCE, TopicKind.DISCUSSION)

# The topic areas every forum starts with (also created by the 0002 migration).
# Names are stored in English and translated when shown (forum.i18n.category_name).
DEFAULT_CATEGORIES = [
    (
        "privacy",
        N_("Privacy"),
        N_("Memorisation, membership inference, data extraction, unlearning."),
    ),
    ("safety", N_("Safety"), N_("Harmful outputs, alignment, evaluations, red-teaming for harm.")),
    ("security", N_("Security"), N_("Prompt injection, jailbreaks, model theft, supply chain.")),
    (
        "model-improvement",
        N_("Model improvement"),
        N_("Training and fine-tuning methods that fix problems."),
    ),
    (
        "research-agenda",
        N_("Research agenda"),
        N_("Which open questions the community takes on next."),
    ),
    ("workshops", N_("Workshops"), N_("Planning and reports of the community's workshops.")),
    ("announcements", N_("Announcements"), N_("News from the organisers.")),
    ("meta", N_("Meta"), N_("About this forum: how it works and how to improve it.")),
]


class ContentError(ValueError):
    """User content that breaks a rule the forms also check (length, emptiness)."""


def _check_title(title: str) -> str:
    title = title.strip()
    if not title or len(title) > TITLE_MAX_LENGTH:
        raise ContentError("title")
    return title


def _check_body(body: str) -> str:
    if not body.strip() or len(body) > BODY_MAX_LENGTH:
        raise ContentError("body")
    return body


def _segment(number: int) -> str:
    return f"{number:0{PATH_SEGMENT_WIDTH}d}"


def _claim_post_number(topic: Topic, now: datetime, author: User) -> int:
    # One atomic UPDATE ... RETURNING: concurrent replies never get the same number.
    return db.session.execute(
        update(Topic)
        .where(Topic.id == topic.id)
        .values(
            last_post_number=Topic.last_post_number + 1,
            last_post_at=now,
            last_poster_id=author.id,
        )
        .returning(Topic.last_post_number)
    ).scalar_one()


# --- Writing ------------------------------------------------------------------------------------


def create_topic(
    author: User,
    category: Category,
    *,
    title: str,
    body: str,
    kind: TopicKind = TopicKind.DISCUSSION,
    now: datetime | None = None,
) -> Topic:
    """Open a topic with its first post. The author must be allowed to post in the area."""
    require(author, "create_topic", category)
    now = now or utcnow()
    title = _check_title(title)
    body = _check_body(body)
    topic = Topic(
        category=category,
        author=author,
        title=title,
        slug=slugify(title),
        kind=kind,
        created_at=now,
        last_post_at=now,
        last_poster_id=author.id,
        last_post_number=1,
        reply_count=0,
    )
    db.session.add(topic)
    db.session.flush()
    db.session.add(
        Post(
            topic=topic,
            author=author,
            number=1,
            path=_segment(1),
            depth=0,
            body=body,
            body_html=render_markdown(body),
            created_at=now,
        )
    )
    db.session.execute(
        update(Category)
        .where(Category.id == category.id)
        .values(topic_count=Category.topic_count + 1)
    )
    db.session.commit()
    return topic


def post_reply(
    author: User,
    topic: Topic,
    *,
    body: str,
    parent: Post | None = None,
    now: datetime | None = None,
) -> Post:
    """Reply to the topic, or to one of its posts (threaded under it)."""
    require(author, "reply", topic)
    if parent is not None and parent.topic_id != topic.id:
        raise ContentError("parent")
    now = now or utcnow()
    body = _check_body(body)
    number = _claim_post_number(topic, now, author)
    # A reply to the opening post is a top-level reply, like a reply to the topic itself.
    if parent is None or parent.is_opening_post:
        parent_id, path, depth = None, _segment(number), 0
    else:
        parent_id = parent.id
        path = f"{parent.path}/{_segment(number)}"
        depth = parent.depth + 1
    post = Post(
        topic_id=topic.id,
        author=author,
        parent_id=parent_id,
        number=number,
        path=path,
        depth=depth,
        body=body,
        body_html=render_markdown(body),
        created_at=now,
    )
    db.session.add(post)
    db.session.execute(
        update(Topic).where(Topic.id == topic.id).values(reply_count=Topic.reply_count + 1)
    )
    db.session.commit()
    return post


def edit_post(
    editor: User,
    post: Post,
    *,
    body: str,
    title: str | None = None,
    now: datetime | None = None,
) -> Post:
    """Replace a post's text, keeping the version it replaces as a revision."""
    require(editor, "edit_post", post)
    now = now or utcnow()
    body = _check_body(body)
    topic = post.topic
    new_title = _check_title(title) if (title is not None and post.is_opening_post) else None
    if body == post.body and (new_title is None or new_title == topic.title):
        return post  # nothing changed: no revision, no "edited" mark
    post.revision_count += 1
    db.session.add(
        PostRevision(
            post_id=post.id,
            number=post.revision_count,
            title=topic.title if post.is_opening_post else None,
            body=post.body,
            body_html=post.body_html,
            created_at=post.edited_at or post.created_at,
            replaced_at=now,
            editor_id=editor.id,
        )
    )
    post.body = body
    post.body_html = render_markdown(body)
    post.edited_at = now
    if new_title is not None:
        topic.title = new_title
        topic.slug = slugify(new_title)
    db.session.commit()
    return post


def delete_post(actor: User, post: Post, *, now: datetime | None = None) -> Post:
    """Soft-delete a post: its place in the thread stays, with a placeholder."""
    require(actor, "delete_post", post)
    post.deleted_at = now or utcnow()
    post.deleted_by_id = actor.id
    if not post.is_opening_post:
        db.session.execute(
            update(Topic).where(Topic.id == post.topic_id).values(reply_count=Topic.reply_count - 1)
        )
    db.session.commit()
    return post


# --- Reading -------------------------------------------------------------------------------------


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def list_categories(*, viewer=None) -> list[Category]:
    """The topic areas in their order; members-only ones only for logged-in members."""
    stmt = select(Category).order_by(Category.position, Category.id)
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        stmt = stmt.where(Category.is_members_only.is_(False))
    return list(db.session.scalars(stmt))


def get_category(slug: str) -> Category | None:
    return db.session.scalar(select(Category).where(Category.slug == slug))


def category_topics(category: Category, *, page: int = 1) -> Page:
    """One page of an area's topics: pinned first, then by last activity. One query."""
    total = category.topic_count
    pages = max(1, math.ceil(total / TOPICS_PER_PAGE))
    page = min(max(page, 1), pages)
    topics = db.session.scalars(
        select(Topic)
        .where(Topic.category_id == category.id)
        .options(joinedload(Topic.author), joinedload(Topic.last_poster))
        .order_by(Topic.is_pinned.desc(), Topic.last_post_at.desc(), Topic.id.desc())
        .limit(TOPICS_PER_PAGE)
        .offset((page - 1) * TOPICS_PER_PAGE)
    ).all()
    return Page(list(topics), page, TOPICS_PER_PAGE, total)


def latest_topics_by_category(
    limit: int = LATEST_TOPICS_PER_AREA, *, viewer=None
) -> dict[int, list[Topic]]:
    """The few most active topics of every area, in one query (a window function)."""
    rank = (
        func.row_number()
        .over(partition_by=Topic.category_id, order_by=(Topic.last_post_at.desc(), Topic.id.desc()))
        .label("rank")
    )
    ranked = select(Topic.id, rank).where(*_readable_topics(viewer)).subquery()
    topics = db.session.scalars(
        select(Topic)
        .join(ranked, ranked.c.id == Topic.id)
        .where(ranked.c.rank <= limit)
        .options(joinedload(Topic.author), joinedload(Topic.last_poster))
        .order_by(Topic.category_id, ranked.c.rank)
    ).all()
    by_category: dict[int, list[Topic]] = {}
    for topic in topics:
        by_category.setdefault(topic.category_id, []).append(topic)
    return by_category


def get_topic(topic_id: int) -> Topic | None:
    return db.session.scalar(
        select(Topic)
        .where(Topic.id == topic_id)
        .options(joinedload(Topic.category), joinedload(Topic.author))
    )


def topic_posts(topic: Topic, *, page: int = 1) -> Page:
    """One page of a topic's posts in thread order (depth-first by path). One query."""
    total = topic.last_post_number  # posts are numbered 1..N and never removed from the table
    pages = max(1, math.ceil(total / POSTS_PER_PAGE))
    page = min(max(page, 1), pages)
    posts = db.session.scalars(
        select(Post)
        .where(Post.topic_id == topic.id)
        .options(joinedload(Post.author), joinedload(Post.parent).joinedload(Post.author))
        .order_by(Post.path)
        .limit(POSTS_PER_PAGE)
        .offset((page - 1) * POSTS_PER_PAGE)
    ).all()
    return Page(list(posts), page, POSTS_PER_PAGE, total)


def get_post(post_id: int) -> Post | None:
    return db.session.scalar(
        select(Post)
        .where(Post.id == post_id)
        .options(joinedload(Post.topic), joinedload(Post.author))
    )


def page_of_post(post: Post) -> int:
    """The page of its topic on which a post is shown (posts before it, in thread order)."""
    before = db.session.scalar(
        select(func.count())
        .select_from(Post)
        .where(Post.topic_id == post.topic_id, Post.path < post.path)
    )
    return (before or 0) // POSTS_PER_PAGE + 1


def post_revisions(post: Post) -> list[PostRevision]:
    return list(
        db.session.scalars(
            select(PostRevision)
            .where(PostRevision.post_id == post.id)
            .options(joinedload(PostRevision.editor))
            .order_by(PostRevision.number.desc())
        )
    )


def _readable_topics(viewer) -> list:
    """Conditions that keep members-only areas out of what an anonymous visitor is shown."""
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        return []
    members_only = select(Category.id).where(Category.is_members_only)
    return [Topic.category_id.not_in(members_only)]


def recent_posts_by(user: User, *, viewer=None, limit: int = 10) -> list[Post]:
    """A member's latest replies (not the opening posts of their topics), newest first."""
    return list(
        db.session.scalars(
            select(Post)
            .join(Post.topic)
            .where(Post.author_id == user.id, Post.deleted_at.is_(None), Post.number > 1)
            .where(*_readable_topics(viewer))
            .options(joinedload(Post.topic))
            .order_by(Post.created_at.desc())
            .limit(limit)
        )
    )


def recent_topics_by(user: User, *, viewer=None, limit: int = 10) -> list[Topic]:
    return list(
        db.session.scalars(
            select(Topic)
            .where(Topic.author_id == user.id, *_readable_topics(viewer))
            .options(joinedload(Topic.category))
            .order_by(Topic.created_at.desc())
            .limit(limit)
        )
    )


def ensure_default_categories() -> list[Category]:
    """Create the standard topic areas that are missing (idempotent)."""
    existing = {c.slug for c in db.session.scalars(select(Category))}
    for position, (slug, name, description) in enumerate(DEFAULT_CATEGORIES):
        if slug not in existing:
            db.session.add(
                Category(slug=slug, name=name, description=description, position=position)
            )
    db.session.commit()
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.id)))
