"""Joining the community: applications, reviews, messages, invitations and site settings."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.accounts import User, _enum
from forum.models.institutions import Institution
from forum.models.types import UTCDateTime, utcnow


class RegistrationMode(enum.StrEnum):
    APPLICATION = "application"  # only approved applicants become members (the default)
    OPEN = "open"  # anyone may register


class ApplicationState(enum.StrEnum):
    SUBMITTED = "submitted"
    INFO_REQUESTED = "info_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


PENDING_STATES = (ApplicationState.SUBMITTED, ApplicationState.INFO_REQUESTED)


class SiteSettings(db.Model):
    """The one row of settings admins change in the browser (id is always 1)."""

    __tablename__ = "site_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_mode: Mapped[RegistrationMode] = mapped_column(
        _enum(RegistrationMode, "registration_mode"), default=RegistrationMode.APPLICATION
    )
    applications_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    applications_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The zone the admin thinks in; the deadline is shown in it when the reader's zone is unknown.
    applications_timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Moderation: posts are hidden when this many members flag them; new members' first posts
    # wait for review when first_post_review is on.
    flag_threshold: Mapped[int] = mapped_column(default=3)
    first_post_review: Mapped[bool] = mapped_column(default=False)
    first_posts_reviewed: Mapped[int] = mapped_column(default=2)

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class Application(db.Model):
    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    institution: Mapped[str] = mapped_column(String(200))  # as the applicant typed it
    # The institution record it names (issue 14): what reviews and conflicts go by.
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[str] = mapped_column(String(120))
    department: Mapped[str] = mapped_column(String(200), default="")
    disciplines_other: Mapped[str] = mapped_column(String(200), default="")
    ai_experience: Mapped[str] = mapped_column(Text)
    statement: Mapped[str] = mapped_column(Text)
    homepage: Mapped[str] = mapped_column(String(500), default="")
    orcid: Mapped[str] = mapped_column(String(19), default="")
    locale: Mapped[str] = mapped_column(String(10), default="en")
    state: Mapped[ApplicationState] = mapped_column(
        _enum(ApplicationState, "application_state"), default=ApplicationState.SUBMITTED
    )
    # SHA-256 of the applicant's private link token; the token itself is only ever emailed.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    institution_record: Mapped[Institution | None] = relationship()
    disciplines: Mapped[list[ApplicationDiscipline]] = relationship(
        cascade="all, delete-orphan", order_by="ApplicationDiscipline.discipline"
    )

    __table_args__ = (
        # One pending application per email address, on every database (a partial index).
        Index(
            "uq_applications_pending_email",
            "email",
            unique=True,
            sqlite_where=text("state IN ('submitted', 'info_requested')"),
            postgresql_where=text("state IN ('submitted', 'info_requested')"),
        ),
        Index("ix_applications_state_submitted_at", "state", "submitted_at"),
        Index("ix_applications_institution", "institution"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    @property
    def is_pending(self) -> bool:
        return self.state in PENDING_STATES

    @property
    def discipline_keys(self) -> list[str]:
        return [d.discipline for d in self.disciplines]


class ApplicationDiscipline(db.Model):
    """One research discipline an applicant named (a row each, so the queue can count them)."""

    __tablename__ = "application_disciplines"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True
    )
    discipline: Mapped[str] = mapped_column(String(40), primary_key=True)

    __table_args__ = (Index("ix_application_disciplines_discipline", "discipline"),)


class ApplicationReview(db.Model):
    """One reviewer's scores (1-5) and comments on one application."""

    __tablename__ = "application_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    relevance: Mapped[int] = mapped_column(Integer)
    relevance_comment: Mapped[str] = mapped_column(Text, default="")
    fit: Mapped[int] = mapped_column(Integer)
    fit_comment: Mapped[str] = mapped_column(Text, default="")
    breadth: Mapped[int] = mapped_column(Integer)
    breadth_comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    reviewer: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("application_id", "reviewer_id", name="uq_application_reviews_reviewer"),
        CheckConstraint(
            "relevance BETWEEN 1 AND 5 AND fit BETWEEN 1 AND 5 AND breadth BETWEEN 1 AND 5",
            name="scores_in_range",
        ),
    )


class ApplicationMessage(db.Model):
    """A reviewer's request for more information, or the applicant's answer."""

    __tablename__ = "application_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    # None when the applicant wrote it (through their private link; they have no account yet).
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User | None] = relationship()


class TokenPurpose(enum.StrEnum):
    SET_PASSWORD = "set_password"


class AccountToken(db.Model):
    """A single-use emailed link, e.g. an invitation to set a password (only its SHA-256 kept)."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(_enum(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
