"""One-time form tokens: what the first sending of a create form made (issue 17, item 7)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.types import UTCDateTime, utcnow

FORM_TOKEN_MAX_LENGTH = 64


class FormSubmission(db.Model):
    """A create form's one-time token, recorded in the transaction that made the thing it names.

    The token is the primary key: two sendings of one form (the Back button, a second tab, a
    double click) cannot both record it, so only one of them creates anything; the other is led
    to what the first made (``target_kind``, ``target_id``).
    """

    __tablename__ = "form_submissions"

    token: Mapped[str] = mapped_column(String(FORM_TOKEN_MAX_LENGTH), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target_kind: Mapped[str] = mapped_column(String(20), default="")
    target_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
