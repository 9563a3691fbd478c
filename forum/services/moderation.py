"""Moderators' work on posts and members: flags and the queue, hiding and restoring posts,
warnings, suspensions and first-post review; curating topics is in forum/services/topic_curation.py,
restricted topics and private reports in forum/services/disclosure.py.

Every action writes an audit entry in the same transaction (forum/services/audit.py).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Integer, Select, cast, func, null, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import (
    Flag,
    FlagReason,
    Notification,
    NotificationKind,
    Post,
    Topic,
    User,
)
from forum.models.types import utcnow
from forum.permissions import require
from forum.services import audit, form_tokens, search, site_settings

QUEUE_SIZE = 50


class ModerationError(ValueError):
    """An action that cannot be done; the message says why."""


def _resolve_flags(post: Post, resolution: str, now: datetime) -> None:
    db.session.execute(
        update(Flag)
        .where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
        .values(resolved_at=now, resolution=resolution)
    )


def _notify(
    user_id: int,
    kind: NotificationKind,
    *,
    actor: User | None,
    post: Post | None,
    message: str,
    key: str,
    now: datetime,
) -> None:
    db.session.add(
        Notification(
            user_id=user_id,
            kind=kind,
            actor_id=actor.id if actor else None,
            topic_id=post.topic_id if post else None,
            post_id=post.id if post else None,
            message=message,
            dedupe_key=key,
            created_at=now,
        )
    )


# --- Flags ---------------------------------------------------------------------------------------


def flag_post(
    member: User,
    post: Post,
    *,
    reason: FlagReason,
    note: str = "",
    form_token: str | None = None,
    now=None,
) -> bool:
    """Report a post. Once enough different members flag it, it is hidden until reviewed.
    Returns whether the post is now hidden. A second sending of the flag form's ``form_token``
    raises form_tokens.AlreadySent."""
    require(member, "flag_post", post)
    now = now or utcnow()
    sending = form_tokens.take_token(member, form_token, now=now)
    flag = Flag(
        post_id=post.id, user_id=member.id, reason=reason, note=note.strip(), created_at=now
    )
    db.session.add(flag)
    form_tokens.note_made(sending, flag)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ModerationError(_("You have already flagged this post.")) from None
    open_flags = db.session.scalar(
        select(func.count())
        .select_from(Flag)
        .where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
    )
    threshold = site_settings.get_settings().flag_threshold
    hidden_now = False
    if open_flags >= threshold and not post.is_hidden:
        post.hidden_at = now
        post.hidden_reason = _("Hidden after flags from members, until a moderator reviews it.")
        audit.record(
            None,
            "post.autohide",
            target_type="post",
            target_id=post.id,
            public={"flags": open_flags},
            now=now,
        )
        hidden_now = True
    db.session.commit()
    return hidden_now


def flags_among(user_id: int, post_ids: Collection[int]) -> Select:
    """The member's flags among these posts, as rows (post_id, extra=NULL): one part of the
    reader's marks on a topic page (reading.topic_page unites it with votes and bookmarks)."""
    return select(Flag.post_id, cast(null(), Integer).label("extra")).where(
        Flag.user_id == user_id, Flag.post_id.in_(post_ids)
    )


@dataclass
class QueueEntry:
    post: Post
    flags: list[Flag] = field(default_factory=list)

    @property
    def reasons(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for flag in self.flags:
            counts[flag.reason.value] = counts.get(flag.reason.value, 0) + 1
        return counts


def queue(moderator: User) -> tuple[list[QueueEntry], list[Post]]:
    """Open flags grouped by post (most flagged first), and posts waiting for first-post review."""
    require(moderator, "moderate")
    flags = db.session.scalars(
        select(Flag)
        .where(Flag.resolved_at.is_(None))
        .options(joinedload(Flag.user))
        .order_by(Flag.created_at)
        .limit(QUEUE_SIZE * 10)
    ).all()
    by_post: dict[int, QueueEntry] = {}
    post_ids = list(dict.fromkeys(f.post_id for f in flags))
    posts = {
        p.id: p
        for p in db.session.scalars(
            select(Post)
            .where(Post.id.in_(post_ids or [-1]))
            .options(joinedload(Post.author), joinedload(Post.topic))
        )
    }
    for flag in flags:
        by_post.setdefault(flag.post_id, QueueEntry(posts[flag.post_id])).flags.append(flag)
    entries = sorted(by_post.values(), key=lambda e: (-len(e.flags), e.flags[0].created_at))
    waiting = list(
        db.session.scalars(
            select(Post)
            .where(Post.awaiting_review.is_(True), Post.deleted_at.is_(None))
            .options(joinedload(Post.author), joinedload(Post.topic))
            .order_by(Post.created_at)
            .limit(QUEUE_SIZE)
        )
    )
    return entries[:QUEUE_SIZE], waiting


def dismiss_flags(moderator: User, post: Post, *, now=None) -> None:
    """The flags were not warranted: close them (and show the post again if flags hid it)."""
    require(moderator, "moderate_post", post)
    now = now or utcnow()
    _resolve_flags(post, "dismissed", now)
    if post.is_hidden:
        post.hidden_at, post.hidden_reason = None, ""
    audit.record(moderator, "flags.dismiss", target_type="post", target_id=post.id, now=now)
    db.session.commit()


def hide_post(moderator: User, post: Post, *, reason: str, now=None) -> None:
    """Hide a post; readers see the reason in its place."""
    require(moderator, "moderate_post", post)
    now = now or utcnow()
    post.hidden_at = now
    post.hidden_reason = reason.strip()
    _resolve_flags(post, "hidden", now)
    _notify(
        post.author_id,
        NotificationKind.MODERATION,
        actor=moderator,
        post=post,
        message=reason.strip(),
        key=f"hidden:{post.id}:{now.timestamp()}",
        now=now,
    )
    audit.record(
        moderator, "post.hide", target_type="post", target_id=post.id, reason=reason, now=now
    )
    # Its words stay in the full-text index: search finds it for moderators only
    # (forum.permissions.visible_posts), and its topic's title is still the topic's.
    search.follow(post.topic, posts=[post])
    db.session.commit()


def restore_post(moderator: User, post: Post, *, now=None) -> None:
    require(moderator, "moderate_post", post)
    now = now or utcnow()
    post.hidden_at, post.hidden_reason = None, ""
    _resolve_flags(post, "restored", now)
    audit.record(moderator, "post.restore", target_type="post", target_id=post.id, now=now)
    search.follow(post.topic, posts=[post])
    db.session.commit()


def warn_author(moderator: User, post: Post, *, message: str, now=None) -> None:
    """A private warning to the author; the log says a member was warned, not whom (the post
    would name them) nor what it said."""
    require(moderator, "moderate_post", post)
    now = now or utcnow()
    _notify(
        post.author_id,
        NotificationKind.WARNING,
        actor=moderator,
        post=post,
        message=message.strip(),
        key=f"warning:{post.id}:{now.timestamp()}",
        now=now,
    )
    audit.record(
        moderator,
        "member.warn",
        target_type="user",
        target_id=post.author_id,
        private={"post": post.id, "message": message.strip()},
        now=now,
    )
    db.session.commit()


def suspend_member(
    moderator: User, member: User, *, until: datetime, reason: str, now=None
) -> None:
    """Suspend until a date: the member can read but not post, vote or flag; it ends by itself."""
    require(moderator, "suspend", member)
    now = now or utcnow()
    if until <= now:
        raise ModerationError(_("A suspension must end in the future."))
    member.suspended_until = until
    member.suspension_reason = reason.strip()
    audit.record(
        moderator,
        "member.suspend",
        target_type="user",
        target_id=member.id,
        reason=reason,
        public={"until": until.isoformat()},
        now=now,
    )
    db.session.commit()


def approve_post(moderator: User, post: Post, *, now=None) -> None:
    """First-post review: publish a new member's post."""
    require(moderator, "moderate_post", post)
    now = now or utcnow()
    if post.awaiting_review and not post.is_opening_post and not post.is_deleted:
        db.session.execute(
            update(Topic).where(Topic.id == post.topic_id).values(reply_count=Topic.reply_count + 1)
        )
    post.awaiting_review = False
    audit.record(moderator, "post.approve", target_type="post", target_id=post.id, now=now)
    db.session.commit()


def needs_first_post_review(author: User) -> bool:
    """When the setting is on, a member's first few posts wait for a moderator."""
    settings = site_settings.get_settings()
    if not settings.first_post_review or author.is_moderator:
        return False
    published = db.session.scalar(
        select(func.count())
        .select_from(Post)
        .where(Post.author_id == author.id, Post.awaiting_review.is_(False))
    )
    return (published or 0) < settings.first_posts_reviewed
