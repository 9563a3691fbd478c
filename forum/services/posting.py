"""Writing: opening topics (with their resource link and tags), replying in threads, editing
posts (each edit keeps the version it replaces as a revision), deleting them, and quoting."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from forum import links
from forum.extensions import db
from forum.markup import check_bounds, render_markdown
from forum.models import (
    Category,
    Post,
    PostRevision,
    Tag,
    Topic,
    TopicAccess,
    TopicKind,
    TopicResourceKey,
    User,
)
from forum.models.discussions import (
    BODY_MAX_LENGTH,
    PATH_SEGMENT_WIDTH,
    TITLE_MAX_LENGTH,
    slugify,
)
from forum.models.types import utcnow
from forum.names import check_title
from forum.permissions import can, require
from forum.services import (
    attachments,
    audit,
    form_tokens,
    moderation,
    notifications,
    read_state,
    search,
    topic_counts,
)

MAX_TAGS_PER_TOPIC = 5


class ContentError(ValueError):
    """User content that breaks a rule the forms also check (length, emptiness)."""


def _check_title(title: str) -> str:
    """The title as stored; TextRefused for one forum/names.py refuses (direction controls,
    invisible characters, nothing visible), ContentError for one too long."""
    title = check_title(title)
    if len(title) > TITLE_MAX_LENGTH:
        raise ContentError("title")
    return title


def _check_body(body: str) -> str:
    if not body.strip() or len(body) > BODY_MAX_LENGTH or check_bounds(body):
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


def _render(body: str) -> str:
    """The post's HTML, with @handles of real members linked (the notifications read those)
    and the forum's own attached images shown."""
    return render_markdown(
        body,
        mention_handles=notifications.mention_candidates(body),
        images=attachments.image_sizes(body),
    )


def preview_body(writer: User, body: str) -> str:
    """The HTML a body the form accepted will have once posted (the composer's previews)."""
    require(writer, "preview_post")
    return _render(body)


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


def set_tags(topic: Topic, tag_ids: Collection[int]) -> None:
    """Give the topic these tags (at most MAX_TAGS_PER_TOPIC), counting it under the tags it
    gains and no longer under those it loses while every reader sees it. Does not commit."""
    ids = list(dict.fromkeys(tag_ids))
    if len(ids) > MAX_TAGS_PER_TOPIC:
        raise ContentError("tags")
    old = {t.id for t in topic.tags}
    topic.tags = list(db.session.scalars(select(Tag).where(Tag.id.in_(ids)))) if ids else []
    new = {t.id for t in topic.tags}
    if not topic.is_listed_to_all:
        return  # counted when it becomes listed (forum.services.topic_counts.count_as_listed)
    topic_counts.count_under_tags(new - old, 1)
    topic_counts.count_under_tags(old - new, -1)


def _after_posting(author: User, topic: Topic, post: Post, now: datetime) -> None:
    """What follows every new post, opening or reply, in its transaction: the members it
    mentions and those following the topic (or, for a new topic, its area) are told, the author
    watches the topic, the counts it adds to grow, and the author has read up to it."""
    notifications.notify_mentions(post, author)
    if not post.is_opening_post:
        notifications.notify_reply(post, author)
    elif not topic.is_private_report:  # a report reaches the moderators its own way
        notifications.notify_new_topic(topic, author)
    notifications.auto_watch(author, topic.id)
    if post.is_opening_post:
        if topic.is_listed_to_all:
            topic_counts.count_in_area(topic.category_id, 1)
    elif not post.awaiting_review:  # counted when approved: a count must not reveal it before
        db.session.execute(
            update(Topic).where(Topic.id == topic.id).values(reply_count=Topic.reply_count + 1)
        )
    read_state.raise_read_mark(author, topic.id, post.number, now)


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
    attachment_keys: Collection[str] = (),
    form_token: str | None = None,
    now: datetime | None = None,
) -> Topic:
    """Open a topic with its first post, leaving the commit to the caller (who may add to the
    same transaction). The author must be allowed to post in the area.

    ``restricted_until``: the topic is created restricted (in the same transaction, so nobody
    else sees it for one request) until that date, to the author, the moderators and the
    ``invited`` members. ``private_report``: a thread between the author and the moderators.
    ``attachment_keys``: the author's uploads waiting for this post (forum.services.attachments).
    ``form_token``: the new-topic form's one-time token; a second sending of it raises
    form_tokens.AlreadySent instead of opening a second topic.
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
    sending = form_tokens.take_token(author, form_token, now=now)
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
    set_tags(topic, tag_ids)
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
    attachments.attach(author, post, attachment_keys)
    search.follow(topic, posts=[post])
    _after_posting(author, topic, post, now)
    if restricted_until is not None:  # who and when, never the content
        audit.record(
            author,
            "topic.restrict",
            target_type="topic",
            target_id=topic.id,
            public={"embargo_until": restricted_until.isoformat()},
            now=now,
        )
    form_tokens.note_made(sending, topic)
    return topic


def post_reply(
    author: User,
    topic: Topic,
    *,
    body: str,
    parent: Post | None = None,
    attachment_keys: Collection[str] = (),
    form_token: str | None = None,
    now: datetime | None = None,
) -> Post:
    """Reply to the topic, or to one of its posts (threaded under it), with the author's
    uploads named by ``attachment_keys``. A second sending of the reply form's ``form_token``
    raises form_tokens.AlreadySent instead of posting twice."""
    require(author, "reply", topic)
    if parent is not None and parent.topic_id != topic.id:
        raise ContentError("parent")
    now = now or utcnow()
    body = _check_body(body)
    sending = form_tokens.take_token(author, form_token, now=now)
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
    attachments.attach(author, post, attachment_keys)
    _after_posting(author, topic, post, now)
    search.follow(topic, posts=[post])
    form_tokens.note_made(sending, post)
    db.session.commit()
    return post


def edit_post(
    editor: User,
    post: Post,
    *,
    body: str,
    title: str | None = None,
    attachment_keys: Collection[str] = (),
    now: datetime | None = None,
) -> Post:
    """Replace a post's text, keeping the version it replaces as a revision, and give it the
    editor's uploads named by ``attachment_keys``."""
    require(editor, "edit_post", post)
    now = now or utcnow()
    body = _check_body(body)
    topic = post.topic
    new_title = _check_title(title) if (title is not None and post.is_opening_post) else None
    added = attachments.attach(editor, post, attachment_keys)
    if body == post.body and (new_title is None or new_title == topic.title):
        if added:
            db.session.commit()
        return post  # the text did not change: no revision, no "edited" mark
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
    search.follow(topic, posts=[post])
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
    search.follow(post.topic, posts=[post])  # its words leave the index
    db.session.commit()
    return post


def quote(post: Post, text: str | None = None) -> str:
    """A Markdown blockquote of a post (or part of it), with attribution and a link back."""
    quoted = (text if text is not None else post.body).strip()
    lines = "\n".join(f"> {line}" if line else ">" for line in quoted.splitlines())
    return f"> **{post.author.display_name}** [wrote](/p/{post.id}):\n>\n{lines}"


def reply_quoting(reader, post: Post) -> str:
    """What the reply box starts with when a reader quotes a post: the quote and a blank line,
    or nothing when the reader may not see the post's body (forum.permissions.can_quote_post)."""
    if not can(reader, "quote_post", post):
        return ""
    return quote(post) + "\n\n"
