"""What members are told about: mentions now; more kinds arrive with the notifications work."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.accounts import User, _enum
from forum.models.types import UTCDateTime, utcnow


class NotificationKind(enum.StrEnum):
    MENTION = "mention"
    WARNING = "warning"  # a moderator's private warning about the member's content
    MODERATION = "moderation"  # the member's post was hidden, restored, approved, ...


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
    # Text a moderator wrote to this member (a warning): private, shown only to them.
    message: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])

    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key", name="uq_notifications_user_dedupe"),
        Index("ix_notifications_user_unread", "user_id", "read_at", "created_at"),
    )
