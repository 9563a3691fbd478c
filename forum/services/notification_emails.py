"""Immediate emails: the mentions and replies a member was notified of, a burst at a time
(notifications wait IMMEDIATE_DELAY, then one email lists them), sent through the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from forum import mail
from forum.extensions import db
from forum.models import (
    DeliveryStatus,
    Notification,
    NotificationBatch,
    NotificationKind,
    Post,
    Subscription,
    Topic,
    User,
    WatchLevel,
)
from forum.models.notifications import IMMEDIATE_KINDS
from forum.models.types import utcnow
from forum.permissions import visible_posts
from forum.services.outbox import (
    ID_BATCH,
    Report,
    deliver_due,
    dialect_insert,
    due_row_ids,
    is_reachable,
    member_locale,
    message_id_for,
    receives_email,
)
from forum.services.unsubscribe import unsubscribe_headers, unsubscribe_url

# Notifications wait this long before they are emailed, so that a burst becomes one email.
IMMEDIATE_DELAY = timedelta(minutes=2)
NOTIFICATIONS_SHOWN = 20  # per immediate email; the rest are counted ("and 3 more")


def _waiting(now: datetime) -> list:
    """Notifications due to be emailed: of an immediate kind, unread, in no batch yet, and old
    enough that the burst they belong to has probably ended."""
    return [
        Notification.batch_id.is_(None),
        Notification.kind.in_(IMMEDIATE_KINDS),
        Notification.read_at.is_(None),
        Notification.created_at <= now - IMMEDIATE_DELAY,
    ]


def _waiting_per_member(now: datetime) -> Iterator[list[tuple[int, str, int]]]:
    """(user id, email, newest waiting notification id) of members who want immediate emails,
    ID_BATCH members at a time."""
    after = 0
    while True:
        rows = db.session.execute(
            select(User.id, User.email, func.max(Notification.id))
            .join(Notification, Notification.user_id == User.id)
            .where(User.id > after, User.email_immediate.is_(True), *receives_email(now))
            .where(*_waiting(now))
            .group_by(User.id, User.email)
            .order_by(User.id)
            .limit(ID_BATCH)
        ).all()
        if not rows:
            return
        yield [tuple(row) for row in rows]
        after = rows[-1][0]


def _create_batch(user_id: int, upto: int, now: datetime) -> bool:
    """Claim the member's waiting notifications up to `upto` for one email (one transaction).

    The batch row is unique per (member, upto): of two senders that saw the same notifications,
    one inserts it and the other inserts nothing. Notifications already in another batch are
    left there (batch_id IS NULL), so none is emailed twice.
    """
    batch_id = db.session.scalar(
        dialect_insert(NotificationBatch)
        .values(
            user_id=user_id,
            upto_notification_id=upto,
            status=DeliveryStatus.PENDING,
            attempts=0,
            last_error="",
            next_attempt_at=now,
            message_id=message_id_for("notifications", user_id, upto),
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "upto_notification_id"])
        .returning(NotificationBatch.id)
    )
    if batch_id is None:
        db.session.rollback()
        return False
    taken = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.id <= upto, *_waiting(now))
        .values(batch_id=batch_id)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 0:  # another sender took them all a moment ago
        db.session.rollback()
        return False
    db.session.commit()
    return True


def _batch_notifications(user: User, batch_id: int) -> tuple[list[tuple], int]:
    """The notifications of a batch the member may still be told about (the topic readable, the
    post neither hidden, deleted nor awaiting review, the topic not muted): up to
    NOTIFICATIONS_SHOWN of them as (notification, topic), and how many there are in all."""
    muted = select(Subscription.target_id).where(
        Subscription.user_id == user.id,
        Subscription.target_type == "topic",
        Subscription.level == WatchLevel.MUTED,
    )
    conditions = [
        Notification.batch_id == batch_id,
        Topic.id.not_in(muted),
        visible_posts(user),
    ]

    def joined(stmt):
        return stmt.join(Topic, Topic.id == Notification.topic_id).join(
            Post, Post.id == Notification.post_id
        )

    count = joined(select(func.count()).select_from(Notification)).where(*conditions)
    total = db.session.scalar(count)
    rows = db.session.execute(
        joined(select(Notification, Topic))
        .where(*conditions)
        .options(joinedload(Notification.actor))
        .order_by(Notification.id)
        .limit(NOTIFICATIONS_SHOWN)
    ).all()
    return [tuple(row) for row in rows], total or 0


def _notification_line(notification: Notification, topic: Topic) -> str:
    actor = notification.actor.display_name if notification.actor else gettext("Someone")
    if notification.kind == NotificationKind.MENTION:
        return gettext("%(name)s mentioned you in “%(title)s”", name=actor, title=topic.title)
    if notification.kind == NotificationKind.BOOKMARK_REMINDER:
        return gettext("Reminder: your bookmark in “%(title)s”", title=topic.title)
    return gettext("%(name)s replied to your post in “%(title)s”", name=actor, title=topic.title)


def compose_notifications(batch: Row) -> EmailMessage | None:
    """The immediate email for one batch, or None when nothing in it may still be told."""
    user = db.session.get(User, batch.user_id)
    if not user.email_immediate or not is_reachable(user, utcnow()):
        return None  # unsubscribed or suspended since the batch was made
    rows, total = _batch_notifications(user, batch.id)
    if not rows:
        return None
    locale = member_locale(user)
    with force_locale(locale):
        entries = [
            {
                "text": _notification_line(notification, topic),
                "url": mail.external_url("discussions.post", post_id=notification.post_id),
            }
            for notification, topic in rows
        ]
        subject = (
            entries[0]["text"]
            if total == 1
            else ngettext("%(num)d new mention or reply", "%(num)d new mentions and replies", total)
        )
    return mail.build_message(
        to=user.email,
        subject=subject,
        template="notifications",
        locale=locale,
        message_id=batch.message_id,
        headers=unsubscribe_headers(user, "immediate"),
        name=user.display_name,
        entries=entries,
        more=total - len(entries),
        unsubscribe_url=unsubscribe_url(user, "immediate"),
        notifications_url=_notifications_page(),
    )


def _notifications_page() -> str:
    try:
        return mail.external_url("notifications.index")
    except BuildError:  # until the notifications page is wired
        return mail.external_url("discussions.home")


def send_notifications(*, now: datetime | None = None, dry_run: bool = False) -> Report:
    """Email each member who wants immediate emails their waiting mentions and replies, one
    email per burst; retry the emails that failed. Safe to run twice at once, and from cron."""
    now = now or utcnow()
    report = Report()
    for waiting in _waiting_per_member(now):
        for user_id, email, upto in waiting:
            if dry_run:
                report.would_send.append((email, f"notifications-{upto}"))
            else:
                _create_batch(user_id, upto, now)
    if dry_run:
        for ids in due_row_ids(NotificationBatch, now):
            for email, upto in db.session.execute(
                select(User.email, NotificationBatch.upto_notification_id)
                .join(NotificationBatch, NotificationBatch.user_id == User.id)
                .where(NotificationBatch.id.in_(ids))
            ):
                report.would_send.append((email, f"notifications-{upto}"))
        return report
    return deliver_due(NotificationBatch, compose_notifications, now=now, report=report)
