"""Opening topics, replying in threads, editing and deleting posts, and reading them back."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from forum import links
from forum.extensions import db
from forum.i18n import N_
from forum.markup import render_markdown
from forum.models import (
    Category,
    Post,
    PostRevision,
    PostVote,
    Tag,
    Topic,
    TopicAccess,
    TopicKind,
    TopicRead,
    TopicResourceKey,
    User,
)
from forum.models.discussions import (
    BODY_MAX_LENGTH,
    PATH_SEGMENT_WIDTH,
    TITLE_MAX_LENGTH,
    slugify,
    topic_tags,
)
from forum.models.types import utcnow
from forum.pagination import Page
from forum.permissions import listed_topics, require, visible_posts
from forum.services import audit, moderation, notifications, search

TOPICS_PER_PAGE = 30
POSTS_PER_PAGE = 20
LATEST_TOPICS_PER_AREA = 4
MAX_TAGS_PER_TOPIC = 5
MEMBER_TOPIC_KINDS = (TopicKind.QUESTION, TopicKind.RESOURCE, TopicKind.DISCUSSION)

# Areas where authors may restrict a new topic until an embargo date (admins mark others).
SENSITIVE_AREAS = frozenset({"security", "safety"})

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


def _render(body: str) -> str:
    """The post's HTML, with @handles of real members linked (the notifications read those)."""
    return render_markdown(body, mention_handles=notifications.mention_candidates(body))


@dataclass
class Resource:
    """What a resource topic shares: a URL and/or a DOI (at least one)."""

    url: str = ""
    doi: str = ""


def _check_resource(kind: TopicKind, resource: Resource | None) -> Resource:
    resource = resource or Resource()
    url = resource.url.strip()
    doi = links.normalise_doi(resource.doi) if resource.doi.strip() else ""
    if resource.doi.strip() and doi is None:
        raise ContentError("doi")
    if url and links.canonical_url(url) is None:
        raise ContentError("url")
    if kind == TopicKind.RESOURCE and not (url or doi):
        raise ContentError("resource")
    return Resource(url=url, doi=doi or "")


def _store_resource_keys(topic: Topic, resource: Resource) -> None:
    db.session.execute(delete(TopicResourceKey).where(TopicResourceKey.topic_id == topic.id))
    for key in links.resource_key(resource.url or None, resource.doi or None):
        db.session.add(TopicResourceKey(topic_id=topic.id, key=key))


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


def count_as_listed(topic: Topic, delta: int) -> None:
    """Add the topic to (+1) or take it from (-1) the stored counts of its area and tags, which
    count what every reader of them sees (Topic.is_listed_to_all). Call it just before a change
    that makes the topic listed or unlisted (restricting, lifting, merging, moving)."""
    db.session.execute(
        update(Category)
        .where(Category.id == topic.category_id)
        .values(topic_count=Category.topic_count + delta)
    )
    tag_ids = [t.id for t in topic.tags]
    if tag_ids:
        db.session.execute(
            update(Tag).where(Tag.id.in_(tag_ids)).values(topic_count=Tag.topic_count + delta)
        )


def _set_tags(topic: Topic, tag_ids: Collection[int]) -> None:
    ids = list(dict.fromkeys(tag_ids))
    if len(ids) > MAX_TAGS_PER_TOPIC:
        raise ContentError("tags")
    old = {t.id for t in topic.tags}
    topic.tags = list(db.session.scalars(select(Tag).where(Tag.id.in_(ids)))) if ids else []
    new = {t.id for t in topic.tags}
    if not topic.is_listed_to_all:
        return  # counted when it becomes listed (forum.services.discussions.count_as_listed)
    for tag_ids_changed, delta in ((new - old, 1), (old - new, -1)):
        if tag_ids_changed:
            db.session.execute(
                update(Tag)
                .where(Tag.id.in_(tag_ids_changed))
                .values(topic_count=Tag.topic_count + delta)
            )


def create_topic(author: User, category: Category, **fields) -> Topic:
    """Open a topic with its first post (start_topic), in one transaction."""
    topic = start_topic(author, category, **fields)
    db.session.commit()
    return topic


def start_topic(
    author: User,
    category: Category,
    *,
    title: str,
    body: str,
    kind: TopicKind = TopicKind.DISCUSSION,
    resource: Resource | None = None,
    tag_ids: Collection[int] = (),
    restricted_until: datetime | None = None,
    invited: Collection[User] = (),
    private_report: bool = False,
    now: datetime | None = None,
) -> Topic:
    """Open a topic with its first post, leaving the commit to the caller (who may add to the
    same transaction). The author must be allowed to post in the area.

    ``restricted_until``: the topic is created restricted (in the same transaction, so nobody
    else sees it for one request) until that date, to the author, the moderators and the
    ``invited`` members. ``private_report``: a thread between the author and the moderators.
    """
    require(author, "create_topic", category)
    now = now or utcnow()
    if restricted_until is not None:
        require(author, "create_restricted_topic", category)
        if restricted_until <= now:
            raise ContentError("embargo")
    if private_report:
        require(author, "report_privately")
    title = _check_title(title)
    body = _check_body(body)
    resource = _check_resource(kind, resource)
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
        resource_url=resource.url,
        doi=resource.doi,
        is_restricted=restricted_until is not None,
        embargo_until=restricted_until,
        is_private_report=private_report,
    )
    db.session.add(topic)
    db.session.flush()
    for member in {m.id: m for m in invited if m.id != author.id}.values():
        db.session.add(TopicAccess(topic_id=topic.id, user_id=member.id))
    if invited:
        db.session.flush()
    _set_tags(topic, tag_ids)
    _store_resource_keys(topic, resource)
    post = Post(
        topic=topic,
        author=author,
        number=1,
        path=_segment(1),
        depth=0,
        body=body,
        body_html=_render(body),
        created_at=now,
        awaiting_review=moderation.needs_first_post_review(author),
    )
    db.session.add(post)
    db.session.flush()
    notifications.notify_mentions(post, author)
    if not private_report:  # a report reaches the moderators its own way
        notifications.notify_new_topic(topic, author)
    notifications.auto_watch(author, topic.id)
    search.index_topic(topic.id, title=title, body=body)
    _mark_read(author, topic.id, 1, now)
    if topic.is_listed_to_all:
        db.session.execute(
            update(Category)
            .where(Category.id == category.id)
            .values(topic_count=Category.topic_count + 1)
        )
    if restricted_until is not None:  # who and when, never the content
        audit.record(
            author,
            "topic.restrict",
            target_type="topic",
            target_id=topic.id,
            public={"embargo_until": restricted_until.isoformat()},
            now=now,
        )
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
        body_html=_render(body),
        created_at=now,
        awaiting_review=moderation.needs_first_post_review(author),
    )
    db.session.add(post)
    db.session.flush()
    notifications.notify_mentions(post, author)
    notifications.notify_reply(post, author)
    notifications.auto_watch(author, topic.id)
    if not post.awaiting_review:  # counted when approved: a count must not reveal it before
        db.session.execute(
            update(Topic).where(Topic.id == topic.id).values(reply_count=Topic.reply_count + 1)
        )
    _mark_read(author, topic.id, number, now)
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
    post.body_html = _render(body)
    post.edited_at = now
    if new_title is not None:
        topic.title = new_title
        topic.slug = slugify(new_title)
    db.session.flush()
    notifications.notify_mentions(post, post.author)  # only newly mentioned members
    if post.is_opening_post:
        search.index_topic(topic.id, title=topic.title, body=body)
    db.session.commit()
    return post


def delete_post(actor: User, post: Post, *, now: datetime | None = None) -> Post:
    """Soft-delete a post: its place in the thread stays, with a placeholder."""
    require(actor, "delete_post", post)
    post.deleted_at = now or utcnow()
    changes = {"vote_count": Topic.vote_count - post.vote_count}
    if not post.is_opening_post and not post.awaiting_review:
        changes["reply_count"] = Topic.reply_count - 1
    db.session.execute(update(Topic).where(Topic.id == post.topic_id).values(**changes))
    if post.topic.accepted_post_id == post.id:
        post.topic.accepted_post_id = None
    if post.is_opening_post:  # its words no longer make the topic look like a new question
        search.index_topic(post.topic_id, title=post.topic.title, body="")
    db.session.commit()
    return post


def quote(post: Post, text: str | None = None) -> str:
    """A Markdown blockquote of a post (or part of it), with attribution and a link back."""
    quoted = (text if text is not None else post.body).strip()
    lines = "\n".join(f"> {line}" if line else ">" for line in quoted.splitlines())
    return f"> **{post.author.display_name}** [wrote](/p/{post.id}):\n>\n{lines}"


# --- Votes and accepted answers ---------------------------------------------------------------


def set_vote(voter: User, post: Post, *, up: bool, now: datetime | None = None) -> bool:
    """Upvote a post (``up``) or take the vote back. Returns whether the member now votes for it.

    The form says which state the member wants, so repeating a request changes nothing, and the
    (post, member) primary key makes a second vote impossible even from two requests at the
    same moment: the later insert fails and nothing is counted twice.
    """
    require(voter, "vote", post)
    if up:
        db.session.add(PostVote(post_id=post.id, user_id=voter.id, created_at=now or utcnow()))
        try:
            db.session.flush()
        except IntegrityError:  # already voted (perhaps a moment ago, in another request)
            db.session.rollback()
            return True
        delta = 1
    else:
        removed = db.session.execute(
            delete(PostVote).where(PostVote.post_id == post.id, PostVote.user_id == voter.id)
        )
        if removed.rowcount == 0:
            db.session.rollback()
            return False
        delta = -1
    db.session.execute(
        update(Post).where(Post.id == post.id).values(vote_count=Post.vote_count + delta)
    )
    db.session.execute(
        update(Topic).where(Topic.id == post.topic_id).values(vote_count=Topic.vote_count + delta)
    )
    db.session.commit()
    return delta == 1


def voted_post_ids(user, posts: Collection[Post]) -> set[int]:
    """Which of these posts the member has upvoted (one query)."""
    if not getattr(user, "is_authenticated", False) or not posts:
        return set()
    return set(
        db.session.scalars(
            select(PostVote.post_id).where(
                PostVote.user_id == user.id, PostVote.post_id.in_([p.id for p in posts])
            )
        )
    )


def accept_answer(actor: User, post: Post) -> None:
    """Mark a reply as the question's accepted answer (replacing any earlier one)."""
    require(actor, "accept_answer", post)
    post.topic.accepted_post_id = post.id
    notifications.notify_accepted(post, actor)
    db.session.commit()


def unaccept_answer(actor: User, post: Post) -> None:
    require(actor, "accept_answer", post)
    if post.topic.accepted_post_id == post.id:
        post.topic.accepted_post_id = None
    db.session.commit()


# --- Where a member stopped reading ----------------------------------------------------------


def _mark_read(user: User, topic_id: int, number: int, now: datetime) -> None:
    """Raise the member's read mark to ``number`` (never lower it); one upsert."""
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


def mark_read(user, topic: Topic, posts: Collection[Post], *, now: datetime | None = None) -> None:
    """Record that a member was shown these posts of a topic (called when a page is viewed)."""
    if not getattr(user, "is_authenticated", False) or not posts:
        return
    _mark_read(user, topic.id, max(p.number for p in posts), now or utcnow())
    db.session.commit()


def last_read_number(user, topic: Topic) -> int | None:
    """The highest post number the member has seen in the topic, or None if never opened."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(TopicRead.last_read_number).where(
            TopicRead.user_id == user.id, TopicRead.topic_id == topic.id
        )
    )


def first_unread_post(topic: Topic, last_read: int) -> Post | None:
    """The earliest-written post the member has not seen yet."""
    return db.session.scalar(
        select(Post)
        .where(Post.topic_id == topic.id, Post.number > last_read)
        .order_by(Post.number)
        .limit(1)
    )


# --- Reading -------------------------------------------------------------------------------------


def area_topic_counts(viewer, categories: Collection[Category]) -> dict[int, int]:
    """How many topics of each area the reader sees: the stored count of what everyone sees,
    plus the restricted topics this reader may read (few, found through ix_topics_restricted)."""
    counts = {c.id: c.topic_count for c in categories}
    for category_id, extra in db.session.execute(
        select(Topic.category_id, func.count())
        .where(Topic.is_restricted.is_(True), listed_topics(viewer))
        .group_by(Topic.category_id)
    ):
        if category_id in counts:
            counts[category_id] += extra
    return counts


def tag_topic_counts(viewer, tags: Collection[Tag]) -> dict[int, int]:
    """How many topics carry each tag for this reader, counted as area_topic_counts counts."""
    counts = {t.id: t.topic_count for t in tags}
    for tag_id, extra in db.session.execute(
        select(topic_tags.c.tag_id, func.count())
        .join(Topic, Topic.id == topic_tags.c.topic_id)
        .where(Topic.is_restricted.is_(True), listed_topics(viewer))
        .group_by(topic_tags.c.tag_id)
    ):
        if tag_id in counts:
            counts[tag_id] += extra
    return counts


def list_categories(*, viewer=None) -> list[Category]:
    """The topic areas in their order; members-only ones only for logged-in members."""
    stmt = select(Category).order_by(Category.position, Category.id)
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        stmt = stmt.where(Category.is_members_only.is_(False))
    return list(db.session.scalars(stmt))


def get_category(slug: str) -> Category | None:
    return db.session.scalar(select(Category).where(Category.slug == slug))


def latest_topics_by_category(
    limit: int = LATEST_TOPICS_PER_AREA, *, viewer=None
) -> dict[int, list[Topic]]:
    """The few most active topics of every area, in one query (a window function)."""
    rank = (
        func.row_number()
        .over(partition_by=Topic.category_id, order_by=(Topic.last_post_at.desc(), Topic.id.desc()))
        .label("rank")
    )
    ranked = select(Topic.id, rank).where(listed_topics(viewer)).subquery()
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
        .options(
            joinedload(Topic.category),
            joinedload(Topic.author),
            joinedload(Topic.accepted_post).joinedload(Post.author),
            selectinload(Topic.tags),
        )
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
    return list(
        db.session.scalars(
            select(Topic)
            .where(Topic.author_id == user.id, listed_topics(viewer))
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
                Category(
                    slug=slug,
                    name=name,
                    description=description,
                    position=position,
                    is_sensitive=slug in SENSITIVE_AREAS,
                )
            )
    db.session.commit()
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.id)))
