"""What members are told about: mentions now; more kinds arrive with the notifications work."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from forum.extensions import db
from forum.models.accounts import User, _enum
from forum.models.discussions import Topic
from forum.models.types import UTCDateTime, utcnow


class NotificationKind(enum.StrEnum):
    MENTION = "mention"
    REPLY = "reply"  # a reply to one of your posts
    WATCHED_REPLY = "watched_reply"  # a reply in a topic you watch
    WATCHED_TOPIC = "watched_topic"  # a new topic in an area you watch
    ACCEPTED = "accepted"  # your answer was accepted
    ROUND_OPEN = "round_open"
    ROUND_REMINDER = "round_reminder"  # a round closes soon and you have not voted
    ROUND_RESULT = "round_result"
    APPLICATION = "application"  # a decision on your application (welcome)
    WARNING = "warning"  # a moderator's private warning about the member's content
    MODERATION = "moderation"  # the member's post was hidden, restored, approved, ...
    PRIVATE_REPORT = "private_report"  # for moderators: a member reported something privately
    TOPIC_ACCESS = "topic_access"  # you were let into a restricted topic
    BOOKMARK_REMINDER = "bookmark_reminder"  # a reminder you set on a bookmark is due
    WORKSHOP_SEAT = "workshop_seat"  # you moved off a workshop's waitlist: a seat is yours
    SUGGESTION_DECIDED = "suggestion_decided"  # an editor accepted or declined your suggested edit


# Kinds that may be emailed at once (when the member keeps immediate emails on).
IMMEDIATE_KINDS = frozenset(
    {NotificationKind.MENTION, NotificationKind.REPLY, NotificationKind.BOOKMARK_REMINDER}
)


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(_enum(NotificationKind, "notification_kind"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    # A short, already-rendered reason ("mentioned you in ...") is built when shown, not stored.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The same event never notifies one member twice (e.g. a mention kept when a post is edited).
    dedupe_key: Mapped[str] = mapped_column(String(100))
    # Text a moderator wrote to this member (a warning), or the member's own note on a bookmark
    # whose reminder this is: private, shown only to them.
    message: Mapped[str] = mapped_column(Text, default="")

    # Set when an immediate email included it (the NotificationBatch that did).
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_batches.id", ondelete="SET NULL")
    )

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    topic: Mapped[Topic | None] = relationship("Topic")

    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key", name="uq_notifications_user_dedupe"),
        Index("ix_notifications_user_unread", "user_id", "read_at", "created_at"),
    )


class WatchLevel(enum.StrEnum):
    WATCHING = "watching"  # told about every reply (topic) or new topic (area)
    NORMAL = "normal"  # told only about replies to you and mentions
    MUTED = "muted"  # never told, and left out of digests


class Subscription(db.Model):
    """How closely a member follows a topic or an area."""

    __tablename__ = "subscriptions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    target_type: Mapped[str] = mapped_column(String(10), primary_key=True)  # "topic" / "category"
    target_id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[WatchLevel] = mapped_column(_enum(WatchLevel, "watch_level"))

    __table_args__ = (Index("ix_subscriptions_target", "target_type", "target_id", "level"),)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the maximum number of attempts


class OutboxEntry:
    """The columns every outbox ledger row shares (services/outbox.py moves them along
    pending -> sending -> sent or failed). Each ledger names its own status type, so that
    its CHECK constraint keeps the name its migration gave it."""

    __status_type__: ClassVar[str]

    # sort_order keeps id and user_id first, ahead of each ledger's own columns, as migration 0007
    # created the tables.
    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-2)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), sort_order=-1)

    @declared_attr
    def status(cls) -> Mapped[DeliveryStatus]:
        return mapped_column(
            _enum(DeliveryStatus, cls.__status_type__), default=DeliveryStatus.PENDING
        )

    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Derived from the member and the period, so a resend is the same message, not another one.
    message_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DigestDelivery(OutboxEntry, db.Model):
    """The ledger that makes digests idempotent: one row per member per digest period."""

    __tablename__ = "digest_deliveries"
    __status_type__ = "delivery_status"

    period: Mapped[str] = mapped_column(String(20))  # "2026-11-26" (daily) or "2026-W48" (weekly)
    covers_from: Mapped[datetime] = mapped_column(UTCDateTime())
    covers_to: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("user_id", "period", name="uq_digest_deliveries_user_period"),
        Index("ix_digest_deliveries_due", "status", "next_attempt_at"),
    )


class NotificationBatch(OutboxEntry, db.Model):
    """One immediate email: the notifications it carries are marked with its id (the ledger)."""

    __tablename__ = "notification_batches"
    __status_type__ = "batch_status"

    # The newest notification id it covers: unique per member, so two senders cannot both
    # create a batch for the same notifications.
    upto_notification_id: Mapped[int] = mapped_column()

    __table_args__ = (
        UniqueConstraint(
            "user_id", "upto_notification_id", name="uq_notification_batches_user_upto"
        ),
        Index("ix_notification_batches_due", "status", "next_attempt_at"),
    )
