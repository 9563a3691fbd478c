"""The public pages admins edit: about, charter, code of conduct, privacy notice (issue 16)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.accounts import User
from forum.models.types import UTCDateTime, utcnow

PAGE_SLUG_LENGTH = 40


class PublicPage(db.Model):
    """A page as an admin last saved it. A page no admin has saved yet has no row: it shows
    its default text (forum/services/pages.py), so a row is always someone's writing."""

    __tablename__ = "public_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(PAGE_SLUG_LENGTH), unique=True)
    body: Mapped[str] = mapped_column(Text)  # Markdown, as the admin typed it
    body_html: Mapped[str] = mapped_column(Text)  # forum/markup.py's rendering of it
    revision: Mapped[int] = mapped_column(Integer, default=1)  # saves so far
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    updated_by: Mapped[User | None] = relationship()
