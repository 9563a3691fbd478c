"""Bookmarks: the posts and topics a member keeps, with a note and a reminder (issue 17, item 6).

A topic's bookmark is its opening post's (forum.models.bookmarks.Bookmark). The member's list
draws its scope from forum.permissions.readable_bookmarks, so a bookmark of a post the member
can no longer see (restricted, hidden, deleted) is neither listed nor counted; the reminders job
asks the Python twin, can_view_bookmark, and drops such a reminder silently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import Bookmark, Post, Topic, User
from forum.models.types import utcnow
from forum.pagination import Page
from forum.permissions import can, readable_bookmarks, require
from forum.services import notifications
from forum.services.outbox import dialect_insert

BOOKMARKS_PER_PAGE = 30
REMINDERS_PER_BATCH = 200  # due reminders handled per transaction by the job
# Later than this is a typing slip (and years past 9999 cannot be stored): refused at the field.
REMINDER_HORIZON = timedelta(days=10 * 366)


class BookmarkProblem(ValueError):
    """What is wrong with a bookmark's reminder, said for the field it concerns."""

    def __init__(self, field: str, message) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


def check_reminder(remind_at: datetime | None, *, now: datetime | None = None) -> None:
    """A reminder is in the future, and within REMINDER_HORIZON; None means no reminder."""
    if remind_at is None:
        return
    now = now or utcnow()
    if remind_at <= now:
        raise BookmarkProblem("remind_at", _l("Choose a time in the future."))
    if remind_at > now + REMINDER_HORIZON:
        raise BookmarkProblem("remind_at", _l("Choose a time within the next ten years."))


def get_bookmark(bookmark_id: int) -> Bookmark | None:
    """A bookmark with its post and topic (what can_view_bookmark reads)."""
    return db.session.scalar(
        select(Bookmark)
        .where(Bookmark.id == bookmark_id)
        .options(joinedload(Bookmark.post).joinedload(Post.topic).joinedload(Topic.category))
    )


def bookmark_of(user: User, post: Post) -> Bookmark | None:
    return db.session.scalar(
        select(Bookmark).where(Bookmark.user_id == user.id, Bookmark.post_id == post.id)
    )


def bookmark_post(
    user: User,
    post: Post,
    *,
    note: str = "",
    remind_at: datetime | None = None,
    now: datetime | None = None,
) -> Bookmark:
    """Bookmark a post (the opening post bookmarks its topic); bookmarking it again keeps the
    one bookmark. BookmarkProblem for a reminder in the past or too far ahead."""
    require(user, "bookmark_post", post)
    check_reminder(remind_at, now=now)
    # ON CONFLICT: a double click (two requests at once) makes one bookmark, not an error.
    db.session.execute(
        dialect_insert(Bookmark)
        .values(
            user_id=user.id,
            post_id=post.id,
            note=note,
            remind_at=remind_at,
            reminded_at=None,
            created_at=now or utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "post_id"])
    )
    bookmark = bookmark_of(user, post)
    db.session.commit()
    return bookmark


def update_bookmark(
    user: User,
    bookmark: Bookmark,
    *,
    note: str,
    remind_at: datetime | None,
    now: datetime | None = None,
) -> None:
    """Change a bookmark's note and reminder; a new reminder time is reminded of again."""
    require(user, "view_bookmark", bookmark)
    if remind_at != bookmark.remind_at:
        check_reminder(remind_at, now=now)
        bookmark.remind_at = remind_at
        bookmark.reminded_at = None
    bookmark.note = note
    db.session.commit()


def remove_bookmark(user: User, bookmark: Bookmark) -> None:
    require(user, "view_bookmark", bookmark)
    db.session.delete(bookmark)
    db.session.commit()


def bookmarks_among(user_id: int, post_ids) -> Select:
    """The member's bookmarks among these posts, as rows (post_id, extra=bookmark id): one part
    of the reader's marks on a topic page (reading.topic_page unites it with votes and flags)."""
    return select(Bookmark.post_id, Bookmark.id.label("extra")).where(
        Bookmark.user_id == user_id, Bookmark.post_id.in_(post_ids)
    )


def bookmarks_page(user: User, *, page: int = 1) -> Page:
    """The member's bookmarks they may still see, newest first, with post, author and topic
    (two queries)."""
    scope = (
        select(Bookmark)
        .join(Post, Post.id == Bookmark.post_id)
        .join(Topic, Topic.id == Post.topic_id)
        .where(readable_bookmarks(user))
    )
    total = db.session.scalar(select(func.count()).select_from(scope.subquery())) or 0
    pages = max(1, -(-total // BOOKMARKS_PER_PAGE))
    page = min(max(page, 1), pages)
    rows = db.session.scalars(
        scope.options(
            joinedload(Bookmark.post).joinedload(Post.author),
            joinedload(Bookmark.post).joinedload(Post.topic),
        )
        .order_by(Bookmark.created_at.desc(), Bookmark.id.desc())
        .limit(BOOKMARKS_PER_PAGE)
        .offset((page - 1) * BOOKMARKS_PER_PAGE)
    ).all()
    return Page(list(rows), page, BOOKMARKS_PER_PAGE, total)


@dataclass
class ReminderReport:
    sent: int = 0  # notifications created
    dropped: int = 0  # reminders of posts the member may no longer see


def send_reminders(*, now: datetime | None = None) -> ReminderReport:
    """Notify each member whose bookmark reminder is due, once (safe to run twice at once: the
    notification is unique per bookmark and reminder time, and each bookmark is marked
    reminded). Emails follow through the immediate emails (notification_emails)."""
    now = now or utcnow()
    report = ReminderReport()
    after = 0
    while True:
        due = db.session.scalars(
            select(Bookmark)
            .where(Bookmark.remind_at <= now, Bookmark.reminded_at.is_(None), Bookmark.id > after)
            .options(joinedload(Bookmark.post).joinedload(Post.topic).joinedload(Topic.category))
            .order_by(Bookmark.id)
            .limit(REMINDERS_PER_BATCH)
        ).all()
        if not due:
            return report
        for bookmark in due:
            member = db.session.get(User, bookmark.user_id)
            if can(member, "view_bookmark", bookmark):
                notifications.notify_bookmark_reminder(bookmark, due_at=bookmark.remind_at)
                report.sent += 1
            else:
                report.dropped += 1
            db.session.execute(
                update(Bookmark)
                .where(
                    Bookmark.id == bookmark.id,
                    Bookmark.remind_at == bookmark.remind_at,
                    Bookmark.reminded_at.is_(None),
                )
                .values(reminded_at=now)
                .execution_options(synchronize_session=False)
            )
        after = due[-1].id
        db.session.commit()
