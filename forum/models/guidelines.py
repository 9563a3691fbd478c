"""Guidelines drafted together (issue 18, item 2): documents of ordered sections, their editors,
immutable versions of the whole text, and members' suggested edits to one section."""

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
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.accounts import User
from forum.models.types import UTCDateTime, utcnow

GUIDELINE_TITLE_MAX_LENGTH = 200
SECTION_HEADING_MAX_LENGTH = 200
# A section's text is diffed word by word (difflib is quadratic in the worst case): bounded.
SECTION_BODY_MAX_LENGTH = 20_000
REASON_MAX_LENGTH = 500


class GuidelineState(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"  # open for comment
    PUBLISHED = "published"


class SuggestionState(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Guideline(db.Model):
    """A document of ordered sections. ``version`` is the number of its newest version (0 before
    any text); every change to its text makes a GuidelineVersion with the next number."""

    __tablename__ = "guidelines"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(GUIDELINE_TITLE_MAX_LENGTH))
    state: Mapped[str] = mapped_column(String(16), default=GuidelineState.DRAFT.value)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    editors: Mapped[list[User]] = relationship(
        secondary="guideline_editors", lazy="selectin", order_by="User.display_name"
    )
    sections: Mapped[list[GuidelineSection]] = relationship(
        back_populates="guideline", order_by="GuidelineSection.position", lazy="selectin"
    )

    __table_args__ = (
        CheckConstraint("state IN ('draft', 'open', 'published')", name="guideline_state"),
        Index("ix_guidelines_updated", "updated_at"),
    )

    @property
    def editor_ids(self) -> set[int]:
        return {editor.id for editor in self.editors}


class GuidelineEditor(db.Model):
    """A member a moderator chose to write one document."""

    __tablename__ = "guideline_editors"

    guideline_id: Mapped[int] = mapped_column(
        ForeignKey("guidelines.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class GuidelineSection(db.Model):
    """One section's current text. ``changed_in`` is the document version in which it last
    changed: the base a suggested edit is made against."""

    __tablename__ = "guideline_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    guideline_id: Mapped[int] = mapped_column(ForeignKey("guidelines.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    heading: Mapped[str] = mapped_column(String(SECTION_HEADING_MAX_LENGTH))
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    changed_in: Mapped[int] = mapped_column(Integer)

    guideline: Mapped[Guideline] = relationship(back_populates="sections")

    __table_args__ = (Index("ix_guideline_sections_guideline", "guideline_id", "position"),)


class GuidelineVersion(db.Model):
    """The whole text of a document at one version, as written then: never changed afterwards
    (an update is refused below). ``text`` is the sections as Markdown, headings included."""

    __tablename__ = "guideline_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    guideline_id: Mapped[int] = mapped_column(ForeignKey("guidelines.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(REASON_MAX_LENGTH), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("guideline_id", "number", name="uq_guideline_versions_number"),
    )


class VersionIsImmutable(RuntimeError):
    """Raised on an attempt to change a version once written."""


@event.listens_for(GuidelineVersion, "before_update")
def _refuse_version_change(mapper, connection, target) -> None:
    raise VersionIsImmutable(f"guideline version {target.number} never changes")


class GuidelineSuggestion(db.Model):
    """A member's proposed new text for one section, against the version it last changed in."""

    __tablename__ = "guideline_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("guideline_sections.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    base_version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(REASON_MAX_LENGTH))
    state: Mapped[str] = mapped_column(String(16), default=SuggestionState.OPEN.value)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_note: Mapped[str] = mapped_column(String(REASON_MAX_LENGTH), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_in: Mapped[int | None] = mapped_column(Integer)  # the version it made
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    section: Mapped[GuidelineSection] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])

    __table_args__ = (
        CheckConstraint(
            "state IN ('open', 'accepted', 'declined')", name="guideline_suggestion_state"
        ),
        Index("ix_guideline_suggestions_section", "section_id", "state"),
    )


class GuidelineRelease(db.Model):
    """A published release (v1.0, v1.1 ...): the document's text, title, editors and changelog
    as they were when it was published, at a stable address; never changed afterwards."""

    __tablename__ = "guideline_releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    guideline_id: Mapped[int] = mapped_column(ForeignKey("guidelines.id", ondelete="CASCADE"))
    major: Mapped[int] = mapped_column(Integer)
    minor: Mapped[int] = mapped_column(Integer)
    version_number: Mapped[int] = mapped_column(Integer)  # the document version released
    title: Mapped[str] = mapped_column(String(GUIDELINE_TITLE_MAX_LENGTH))
    text: Mapped[str] = mapped_column(Text)
    # JSON: the editors' names in order, and the accepted suggestions since the last release.
    editor_names: Mapped[str] = mapped_column(Text, default="[]")
    changelog: Mapped[str] = mapped_column(Text, default="[]")
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    guideline: Mapped[Guideline] = relationship()

    __table_args__ = (
        UniqueConstraint("guideline_id", "major", "minor", name="uq_guideline_releases_number"),
    )

    @property
    def label(self) -> str:
        return f"{self.major}.{self.minor}"


@event.listens_for(GuidelineRelease, "before_update")
def _refuse_release_change(mapper, connection, target) -> None:
    raise VersionIsImmutable(f"guideline release v{target.label} never changes")


class GuidelineEndorsement(db.Model):
    """A member's endorsement of one release."""

    __tablename__ = "guideline_endorsements"

    release_id: Mapped[int] = mapped_column(
        ForeignKey("guideline_releases.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()


class GuidelineSectionAgendaItem(db.Model):
    """A guideline section addresses an agenda item (set by the document's editors on the
    section's edit form; issue 18, item 4). ``created_at`` places it on the item's timeline."""

    __tablename__ = "guideline_section_agenda_items"

    section_id: Mapped[int] = mapped_column(
        ForeignKey("guideline_sections.id", ondelete="CASCADE"), primary_key=True
    )
    agenda_item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_guideline_section_agenda_items_item", "agenda_item_id"),)
