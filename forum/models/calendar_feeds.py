"""A member's secret, revocable calendar feeds (issue 18): one per kind of calendar, so a member
can stop the paper deadlines' address working without losing the workshops' one."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.accounts import _enum
from forum.models.types import UTCDateTime, utcnow


class FeedKind(enum.StrEnum):
    WORKSHOPS = "workshops"  # the workshops the member registered for
    PAPER_DEADLINES = "paper_deadlines"  # the upcoming deadlines of papers they may see


class CalendarFeed(db.Model):
    """A member's secret feed of one kind. Only the SHA-256 of the token is kept; making a new
    address replaces it and revoking deletes it, so the old address stops answering. (The table
    kept the name it had when workshops' feeds were the only kind.)"""

    __tablename__ = "workshop_calendar_feeds"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[FeedKind] = mapped_column(_enum(FeedKind, "feed_kind"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
