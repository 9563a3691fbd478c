"""Workshops and their registrations with a waitlist (issue 18, item 1)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.accounts import User, _enum
from forum.models.agenda import AgendaItem
from forum.models.discussions import Topic
from forum.models.types import UTCDateTime, utcnow

WORKSHOP_TITLE_MAX_LENGTH = 200
WORKSHOP_DESCRIPTION_MAX_LENGTH = 20_000
WORKSHOP_PLACE_MAX_LENGTH = 300
WORKSHOP_LINK_MAX_LENGTH = 500
WORKSHOP_CAPACITY_MAX = 10_000


class Workshop(db.Model):
    """An event members register for. Times are stored in UTC; ``timezone`` is the organiser's
    IANA zone the times were typed in (the .ics files carry it, so a calendar keeps the local
    time across a daylight-saving change)."""

    __tablename__ = "workshops"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(WORKSHOP_TITLE_MAX_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    description_html: Mapped[str] = mapped_column(Text, default="")  # through forum/markup.py
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    place: Mapped[str] = mapped_column(String(WORKSHOP_PLACE_MAX_LENGTH), default="")
    online_url: Mapped[str] = mapped_column(String(WORKSHOP_LINK_MAX_LENGTH), default="")
    # The online link is shown only to registered participants (and organisers) when set.
    link_for_participants_only: Mapped[bool] = mapped_column(Boolean, default=True)
    capacity: Mapped[int] = mapped_column(Integer)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organiser: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint("capacity >= 1", name="workshop_capacity"),
        CheckConstraint("ends_at > starts_at", name="workshop_ends_after_start"),
        Index("ix_workshops_starts_at", "starts_at"),
    )

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class RegistrationStatus(enum.StrEnum):
    REGISTERED = "registered"  # holds a seat
    WAITLISTED = "waitlisted"  # waits, in order of registration (id), for a seat


class WorkshopRegistration(db.Model):
    """One member's place at a workshop: a seat or a place on the waitlist. Cancelling deletes
    the row; the waitlist's order is the order of ``id`` (the order members registered in)."""

    __tablename__ = "workshop_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[RegistrationStatus] = mapped_column(
        _enum(RegistrationStatus, "registration_status")
    )
    # The participant chose to appear on the public list of participants.
    listed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
    workshop: Mapped[Workshop] = relationship()

    __table_args__ = (
        UniqueConstraint("workshop_id", "user_id", name="uq_workshop_registrations_member"),
        Index("ix_workshop_registrations_queue", "workshop_id", "status", "id"),
        Index("ix_workshop_registrations_user", "user_id"),
    )


WORKSHOP_ROOM_MAX_LENGTH = 200


def _link_table(name: str, column: str, target: str) -> Table:
    return Table(
        name,
        db.metadata,
        Column(
            "session_id",
            ForeignKey("workshop_sessions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column(column, ForeignKey(target, ondelete="CASCADE"), primary_key=True, index=True),
    )


session_chairs = _link_table("workshop_session_chairs", "user_id", "users.id")
session_agenda_items = _link_table(
    "workshop_session_agenda_items", "agenda_item_id", "agenda_items.id"
)
session_topics = _link_table("workshop_session_topics", "topic_id", "topics.id")


class WorkshopSession(db.Model):
    """One part of a workshop: its time (UTC, typed in the workshop's zone), room, chairs, and
    the agenda items and discussion topics it takes up."""

    __tablename__ = "workshop_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(WORKSHOP_TITLE_MAX_LENGTH))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    room: Mapped[str] = mapped_column(String(WORKSHOP_ROOM_MAX_LENGTH), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Notes and outcomes, written by the organisers once the session has started (Markdown).
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    notes_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    notes_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    workshop: Mapped[Workshop] = relationship()
    chairs: Mapped[list[User]] = relationship(secondary=session_chairs, order_by=User.id)
    agenda_items: Mapped[list[AgendaItem]] = relationship(
        secondary=session_agenda_items, order_by=AgendaItem.id
    )
    topics: Mapped[list[Topic]] = relationship(secondary=session_topics, order_by=Topic.id)

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="session_ends_after_start"),
        Index("ix_workshop_sessions_workshop_starts", "workshop_id", "starts_at"),
    )


class WorkshopOrganiser(db.Model):
    """A member an admin lets create workshops (and organise the ones they create)."""

    __tablename__ = "workshop_organisers"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()


class WorkshopReminder(db.Model):
    """The ledger of day-before reminders, as DigestDelivery is for digests: one row per
    workshop, member and start (a workshop moved later is reminded of again), claimed before the
    email goes, so each reminder is sent once however many runs there are."""

    __tablename__ = "workshop_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("workshop_id", "user_id", "starts_at", name="uq_workshop_reminders_once"),
        Index("ix_workshop_reminders_user", "user_id"),
    )


SESSION_NOTES_MAX_LENGTH = 20_000
SESSION_OUTCOMES_MAX = 30


class OutcomeKind(enum.StrEnum):
    SECTION = "section"  # a guideline section
    PAPER = "paper"
    STATUS_CHANGE = "status_change"  # an agenda item's status change


class WorkshopSessionOutcome(db.Model):
    """Something that came out of a session: a guideline section, a paper or an agenda status
    change (``target_id`` is its id, as ``kind`` says; one that is deleted is no longer shown).
    Readers see only those they may see (forum.services.session_outcomes)."""

    __tablename__ = "workshop_session_outcomes"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("workshop_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[OutcomeKind] = mapped_column(
        _enum(OutcomeKind, "session_outcome_kind"), primary_key=True
    )
    target_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # in the order the organiser typed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_workshop_session_outcomes_target", "kind", "target_id"),)
