"""A member's bookmarks of posts, each with an optional note and reminder (issue 17, item 6)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.discussions import Post
from forum.models.types import UTCDateTime, utcnow

BOOKMARK_NOTE_MAX_LENGTH = 500


class Bookmark(db.Model):
    """One member's bookmark of one post.

    A topic is bookmarked by bookmarking its opening post (number 1), as Discourse did before
    its polymorphic bookmarks: one kind of row, one visibility rule (the post's), and the list
    shows it as the topic. ``remind_at`` is when to notify the member (UTC, typed in their time
    zone); ``reminded_at`` is set once the reminder went out (or was dropped because the post can
    no longer be seen), so a reminder is sent exactly once; changing the time clears it.
    """

    __tablename__ = "bookmarks"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(String(BOOKMARK_NOTE_MAX_LENGTH), default="")
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    post: Mapped[Post] = relationship()

    __table_args__ = (
        UniqueConstraint("user_id", "post_id", name="uq_bookmarks_user_post"),
        Index("ix_bookmarks_user_created", "user_id", "created_at"),
        # The reminders job's scan: due reminders not yet sent.
        Index("ix_bookmarks_remind_at", "remind_at"),
    )

    @property
    def is_topic(self) -> bool:
        """A bookmark of the topic (its opening post) rather than of one reply."""
        return self.post.number == 1

    @property
    def reminder_pending(self) -> bool:
        return self.remind_at is not None and self.reminded_at is None
