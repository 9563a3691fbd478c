"""The research agenda: open questions (agenda items) and the rounds in which members rank them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.accounts import User, _enum
from forum.models.discussions import Topic
from forum.models.types import UTCDateTime, utcnow


class AgendaArea(enum.StrEnum):
    PRIVACY = "privacy"
    SAFETY = "safety"
    SECURITY = "security"
    MODEL_IMPROVEMENT = "model-improvement"
    OTHER = "other"


class AgendaStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ON_BALLOT = "on_ballot"
    PRIORITISED = "prioritised"
    IN_PROGRESS = "in_progress"
    ADDRESSED = "addressed"
    DECLINED = "declined"


class VotingMethod(enum.StrEnum):
    APPROVAL = "approval"
    BUDGET = "budget"  # dot voting
    RANKED = "ranked"  # Schulze
    QUADRATIC = "quadratic"


class AgendaItem(db.Model):
    """An open research question the community may take on."""

    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text)
    area: Mapped[AgendaArea] = mapped_column(_enum(AgendaArea, "agenda_area"))
    status: Mapped[AgendaStatus] = mapped_column(
        _enum(AgendaStatus, "agenda_status"), default=AgendaStatus.PROPOSED
    )
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    proposer: Mapped[User] = relationship()
    topic: Mapped[Topic] = relationship()
    evidence: Mapped[list[AgendaEvidence]] = relationship(
        cascade="all, delete-orphan", order_by="AgendaEvidence.id"
    )

    __table_args__ = (Index("ix_agenda_items_status_area", "status", "area"),)


class AgendaEvidence(db.Model):
    """A link that supports an agenda item: a paper, a dataset, a topic of the forum."""

    __tablename__ = "agenda_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))


class AgendaStatusChange(db.Model):
    """One step of an item's history: who moved it from what to what, and why."""

    __tablename__ = "agenda_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[AgendaStatus | None] = mapped_column(_enum(AgendaStatus, "from_status"))
    to_status: Mapped[AgendaStatus] = mapped_column(_enum(AgendaStatus, "to_status"))
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship()


class VotingRound(db.Model):
    """A vote on some agenda items, open between two moments, by one method."""

    __tablename__ = "voting_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    method: Mapped[VotingMethod] = mapped_column(_enum(VotingMethod, "voting_method"))
    budget: Mapped[int] = mapped_column(Integer, default=10)
    per_item_cap: Mapped[int] = mapped_column(Integer, default=5)
    credits: Mapped[int] = mapped_column(Integer, default=100)
    show_running_tally: Mapped[bool] = mapped_column(Boolean, default=False)
    late_joiners_may_vote: Mapped[bool] = mapped_column(Boolean, default=True)
    # At most this share of an item's total may come from one institution (None: no cap).
    institution_share: Mapped[float | None] = mapped_column(Float)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set once, by whoever closes the round first (close-rounds is safe to run twice at once).
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    results: Mapped[dict | None] = mapped_column(JSON)
    # Frozen with the results: the ballot file anyone downloads (deferred: it can be large, and
    # only the download reads it), and the SHA-256 of it and of the results JSON, as the audit
    # log's round.close entry records them.
    ballots_file: Mapped[str | None] = mapped_column(Text, deferred=True)
    ballots_sha256: Mapped[str | None] = mapped_column(String(64))
    results_sha256: Mapped[str | None] = mapped_column(String(64))
    # Set once each by close-rounds: members told the round opened / reminded before it closes.
    opening_announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User] = relationship()
    items: Mapped[list[AgendaItem]] = relationship(
        secondary="round_items", order_by="AgendaItem.id", viewonly=True
    )

    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        CheckConstraint("budget > 0 AND per_item_cap > 0 AND credits > 0", name="positive_limits"),
        Index("ix_voting_rounds_closes_at", "closes_at"),
    )


class RoundItem(db.Model):
    """An agenda item on a round's ballot."""

    __tablename__ = "round_items"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("voting_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id"), primary_key=True)


class Ballot(db.Model):
    """One member's ballot in one round (never shown to anyone but that member)."""

    __tablename__ = "ballots"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("voting_rounds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The ballot's id in the public export: random, so the file says nothing about who voted.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    receipt: Mapped[str] = mapped_column(String(64))
    institution: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    entries: Mapped[list[BallotEntry]] = relationship(
        cascade="all, delete-orphan", order_by="BallotEntry.item_id"
    )

    __table_args__ = (UniqueConstraint("round_id", "user_id", name="uq_ballots_round_user"),)


class BallotEntry(db.Model):
    """A ballot's value for one item: 1 (approval), points, votes, or rank (1 = first)."""

    __tablename__ = "ballot_entries"

    ballot_id: Mapped[int] = mapped_column(
        ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id"), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("value > 0", name="positive_value"),)


class RoundResult(db.Model):
    """An item's frozen place in a closed round (for the agenda's priority order and history)."""

    __tablename__ = "round_results"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("voting_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    supporters: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_round_results_item_id", "item_id"),)


class AddressedByKind(enum.StrEnum):
    """What an item marked "addressed" was addressed by (issue 18, item 4)."""

    SESSION = "session"  # a workshop session that took it up
    SECTION = "section"  # a guideline section that addresses it
    PAPER = "paper"  # a paper that addresses it


class AgendaAddressedBy(db.Model):
    """One of the things a status change to "addressed" names as having addressed the item.
    ``target_id`` is a WorkshopSession, GuidelineSection or Paper id as ``kind`` says (no
    foreign key: one column for three tables; a deleted target simply stops being shown)."""

    __tablename__ = "agenda_addressed_by"

    status_change_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_status_changes.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[AddressedByKind] = mapped_column(
        _enum(AddressedByKind, "addressed_by_kind"), primary_key=True
    )
    target_id: Mapped[int] = mapped_column(Integer, primary_key=True)
