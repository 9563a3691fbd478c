"""Institutions (issue 14): one record per university or organisation, with the other spellings
it goes by (aliases) and the email domains it owns. Conflict-of-interest rules, the voting
institution cap and turnout group people by the record, never by how a name was typed."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.accounts import _enum
from forum.models.types import UTCDateTime, utcnow

NAME_LENGTH = 200
DOMAIN_LENGTH = 253
BALLOT_KEY_PREFIX = "inst-"  # Ballot.institution holds "inst-<id>": opaque, stable across renames


class InstitutionState(enum.StrEnum):
    PROPOSED = "proposed"  # typed by an applicant or member, waiting for a moderator
    CONFIRMED = "confirmed"  # checked by a moderator; offered in the typeahead


class Institution(db.Model):
    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))  # the canonical name, as shown
    # The name compared loosely (forum.permissions.institution_key): one record per key.
    key: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    state: Mapped[InstitutionState] = mapped_column(
        _enum(InstitutionState, "institution_state"), default=InstitutionState.PROPOSED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When a moderator confirmed it; empty for one migration 0020 took as confirmed.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    aliases: Mapped[list[InstitutionAlias]] = relationship(
        cascade="all, delete-orphan", order_by="InstitutionAlias.name"
    )
    domains: Mapped[list[InstitutionDomain]] = relationship(
        cascade="all, delete-orphan", order_by="InstitutionDomain.domain"
    )

    @property
    def is_confirmed(self) -> bool:
        return self.state == InstitutionState.CONFIRMED

    @property
    def ballot_key(self) -> str:
        return f"{BALLOT_KEY_PREFIX}{self.id}"

    def __repr__(self) -> str:
        return f"<Institution {self.id} {self.name!r}>"


class InstitutionAlias(db.Model):
    """Another spelling of an institution (an old name kept after a merge or a rename)."""

    __tablename__ = "institution_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    key: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)


class InstitutionDomain(db.Model):
    """An email domain the institution owns (its subdomains count too), lower-case."""

    __tablename__ = "institution_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    domain: Mapped[str] = mapped_column(String(DOMAIN_LENGTH), unique=True)
