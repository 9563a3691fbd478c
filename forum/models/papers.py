"""Papers in preparation: authors in order, venue, deadlines, status, the agenda items a paper
addresses, and the ledger of deadline reminders (issue 18, item 3)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.accounts import User, _enum
from forum.models.agenda import AgendaItem
from forum.models.types import UTCDateTime, utcnow

PAPER_TITLE_MAX_LENGTH = 300
PAPER_ABSTRACT_MAX_LENGTH = 20_000
PAPER_VENUE_MAX_LENGTH = 200
PAPER_URL_MAX_LENGTH = 500
PAPER_DOI_MAX_LENGTH = 200
PAPER_ARXIV_MAX_LENGTH = 40
AUTHOR_NAME_MAX_LENGTH = 120
ZONE_MAX_LENGTH = 64


class PaperStatus(enum.StrEnum):
    IDEA = "idea"
    DRAFTING = "drafting"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CAMERA_READY = "camera_ready"
    PUBLISHED = "published"


# Before submission a paper is its authors' work in progress (permissions.can_view_paper).
UNSUBMITTED = (PaperStatus.IDEA, PaperStatus.DRAFTING)


class DeadlineKind(enum.StrEnum):
    ABSTRACT = "abstract"
    FULL = "full"


class AuthorState(enum.StrEnum):
    REQUESTED = "requested"  # a member asked to join; the lead author decides
    AUTHOR = "author"


class Paper(db.Model):
    """A paper; its first author (position 0) is the lead author, who alone edits it.

    Each deadline is stored in UTC with the zone the call for papers states it in (an IANA name,
    or "AoE", anywhere on earth, UTC-12), so pages can show both the reader's time and the call's.
    """

    __tablename__ = "papers"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(PAPER_TITLE_MAX_LENGTH))
    abstract: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(PAPER_VENUE_MAX_LENGTH), default="")
    cfp_url: Mapped[str] = mapped_column(String(PAPER_URL_MAX_LENGTH), default="")
    abstract_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    abstract_deadline_zone: Mapped[str] = mapped_column(String(ZONE_MAX_LENGTH), default="")
    full_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    full_deadline_zone: Mapped[str] = mapped_column(String(ZONE_MAX_LENGTH), default="")
    status: Mapped[PaperStatus] = mapped_column(
        _enum(PaperStatus, "paper_status"), default=PaperStatus.IDEA
    )
    url: Mapped[str] = mapped_column(String(PAPER_URL_MAX_LENGTH), default="")
    doi: Mapped[str] = mapped_column(String(PAPER_DOI_MAX_LENGTH), default="")
    arxiv_id: Mapped[str] = mapped_column(String(PAPER_ARXIV_MAX_LENGTH), default="")
    lead_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lead: Mapped[User] = relationship()
    authors: Mapped[list[PaperAuthor]] = relationship(
        cascade="all, delete-orphan", order_by="PaperAuthor.position", back_populates="paper"
    )
    agenda_items: Mapped[list[AgendaItem]] = relationship(
        secondary="paper_agenda_items", order_by="AgendaItem.id"
    )

    __table_args__ = (
        Index("ix_papers_status", "status"),
        Index("ix_papers_abstract_deadline", "abstract_deadline"),
        Index("ix_papers_full_deadline", "full_deadline"),
    )

    @property
    def byline(self) -> list[PaperAuthor]:
        """The authors in order (requests to join are not authors yet)."""
        return [a for a in self.authors if a.state == AuthorState.AUTHOR]

    @property
    def requests(self) -> list[PaperAuthor]:
        return [a for a in self.authors if a.state == AuthorState.REQUESTED]

    def is_author(self, user_id: int | None) -> bool:
        return user_id is not None and any(a.user_id == user_id for a in self.byline)

    def deadline(self, kind: DeadlineKind) -> tuple[datetime | None, str]:
        if kind == DeadlineKind.ABSTRACT:
            return self.abstract_deadline, self.abstract_deadline_zone
        return self.full_deadline, self.full_deadline_zone


class PaperAuthor(db.Model):
    """One author of a paper: a member (``user_id``) or a named outsider (``name`` only); or a
    member's request to join, until the lead author accepts (then placed last) or declines."""

    __tablename__ = "paper_authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(AUTHOR_NAME_MAX_LENGTH), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[AuthorState] = mapped_column(
        _enum(AuthorState, "paper_author_state"), default=AuthorState.AUTHOR
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    paper: Mapped[Paper] = relationship(back_populates="authors")
    user: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("paper_id", "user_id", name="uq_paper_authors_paper_user"),
        Index("ix_paper_authors_user", "user_id"),
    )

    @property
    def display_name(self) -> str:
        return self.user.display_name if self.user is not None else self.name


class PaperAgendaItem(db.Model):
    """A paper addresses an agenda item."""

    __tablename__ = "paper_agenda_items"

    paper_id: Mapped[int] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    agenda_item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_paper_agenda_items_item", "agenda_item_id"),)


class PaperReminder(db.Model):
    """The ledger of deadline reminders, as DigestDelivery is for digests: one row per paper,
    deadline, offset and co-author, claimed before the email goes, so each is sent once."""

    __tablename__ = "paper_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    deadline_kind: Mapped[DeadlineKind] = mapped_column(_enum(DeadlineKind, "deadline_kind"))
    offset_days: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The deadline the reminder was for: a deadline moved later gets reminded of again.
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "paper_id",
            "deadline_kind",
            "offset_days",
            "user_id",
            "deadline_at",
            name="uq_paper_reminders_once",
        ),
    )
