"""Flags: members reporting posts for moderators to review."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.accounts import User, _enum
from forum.models.types import UTCDateTime, utcnow


class FlagReason(enum.StrEnum):
    OFF_TOPIC = "off_topic"
    SPAM = "spam"
    HARASSMENT = "harassment"
    MISINFORMATION = "misinformation"  # or: needs a source
    OTHER = "other"


class Flag(db.Model):
    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[FlagReason] = mapped_column(_enum(FlagReason, "flag_reason"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when a moderator acts on the post (dismiss, hide, restore, delete, ...).
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str] = mapped_column(String(30), default="")

    user: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("post_id", "user_id", name="uq_flags_post_user"),
        Index("ix_flags_open", "resolved_at", "post_id"),
    )
