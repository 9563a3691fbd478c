"""Files attached to posts (images shown in them, other files listed under them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.accounts import User, _enum
from forum.models.discussions import Post
from forum.models.types import UTCDateTime, utcnow
from forum.uploads import UploadKind

ATTACHMENT_KEY_LENGTH = 22  # secrets.token_urlsafe(16): 128 random bits, not guessable


class Attachment(db.Model):
    """An uploaded file. Until its post is written it belongs to its uploader alone (post_id
    empty); then it is as visible as the post's body (forum.permissions.can_view_attachment)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The id in its address (/a/<key>): random, so one address tells nothing of another.
    key: Mapped[str] = mapped_column(String(ATTACHMENT_KEY_LENGTH), unique=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    kind: Mapped[UploadKind] = mapped_column(_enum(UploadKind, "attachment_kind"))
    content_type: Mapped[str] = mapped_column(String(50))
    filename: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)  # bytes of the kept original
    # Images: the size shown in the page; has_display when a smaller copy is kept for it.
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    has_display: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    uploader: Mapped[User] = relationship()
    post: Mapped[Post | None] = relationship()

    @property
    def is_image(self) -> bool:
        return self.kind == UploadKind.IMAGE

    @property
    def original_key(self) -> str:
        return f"attachments/{self.key}/original"

    @property
    def display_key(self) -> str:
        return f"attachments/{self.key}/display" if self.has_display else self.original_key

    def __repr__(self) -> str:
        return f"<Attachment {self.key} of post {self.post_id}>"
