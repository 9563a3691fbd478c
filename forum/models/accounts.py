"""People: members, moderators and admins."""

from __future__ import annotations

import enum
import re
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, validates

from forum.extensions import db
from forum.models.types import UTCDateTime, utcnow
from forum.names import SKELETON_MAX_LENGTH, skeleton


def split_list(text: str) -> list[str]:
    """Items of a comma-separated list typed on any keyboard (Latin "," or Arabic "،")."""
    return [item.strip() for item in re.split(r"[,،]", text) if item.strip()]


DISPLAY_NAME_MAX_LENGTH = 80


class Role(enum.StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    ADMIN = "admin"


class UserState(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK, so adding a value is a small migration on any database.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased; uniqueness is therefore case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(DISPLAY_NAME_MAX_LENGTH))
    # What the display name looks like (forum.names.skeleton), kept with it by set_name_skeleton:
    # a new name whose skeleton another member's has is refused (issue 13). Not unique: members
    # named before the rule may share one, and the services enforce it.
    name_skeleton: Mapped[str] = mapped_column(
        String(SKELETON_MAX_LENGTH), default="", server_default="", index=True
    )
    # The @handle others mention; unique, lower-case letters, digits, "_", "-" and ".".
    handle: Mapped[str] = mapped_column(String(30), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    affiliation: Mapped[str] = mapped_column(String(200), default="")
    # The institution record the affiliation names (issue 14); affiliation shows its name.
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="SET NULL"), index=True
    )
    department: Mapped[str] = mapped_column(String(200), default="")
    disciplines: Mapped[str] = mapped_column(String(300), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[str] = mapped_column(String(120), default="")
    orcid: Mapped[str] = mapped_column(String(19), default="")
    homepage: Mapped[str] = mapped_column(String(500), default="")
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.MEMBER)
    state: Mapped[UserState] = mapped_column(
        _enum(UserState, "user_state"), default=UserState.ACTIVE
    )
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A suspension ends by itself at suspended_until (state stays "active"; see is_suspended).
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    suspension_reason: Mapped[str] = mapped_column(Text, default="")
    # Email preferences (forum/services/notifications.py, forum/services/digests/).
    email_immediate: Mapped[bool] = mapped_column(default=True)  # mentions and replies, at once
    digest_frequency: Mapped[str] = mapped_column(String(10), default="weekly")  # daily/weekly/off
    digest_hour: Mapped[int] = mapped_column(default=8)  # in the member's own time zone
    digest_weekday: Mapped[int] = mapped_column(default=0)  # 0 = Monday
    auto_watch: Mapped[bool] = mapped_column(default=True)  # watch topics you create or reply to
    # Reminders: the day before a workshop one holds a seat at, before one's papers' deadlines.
    email_reminders: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Whether visitors who are not logged in may open the profile (members always may).
    profile_public: Mapped[bool] = mapped_column(default=False)
    # The member's own picture (forum.services.avatars), kept at avatars/<key>.webp; none: initials.
    avatar_key: Mapped[str | None] = mapped_column(String(22), unique=True)
    # Part of every session's and remember cookie's user id (get_id): raising it ends them all
    # at once, on log-out, a password change or reset, and "log out everywhere" (issue 13).
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # A new address waiting for its owner to confirm it from the link sent there (issue 13).
    pending_email: Mapped[str | None] = mapped_column(String(254))

    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    @validates("display_name")
    def set_name_skeleton(self, key: str, name: str) -> str:
        self.name_skeleton = skeleton(name or "")
        return name

    @property
    def is_active(self) -> bool:  # Flask-Login: suspended members may still log in and read.
        return True

    def get_id(self) -> str:
        """Flask-Login's alternative id: a cookie made before the version was raised is refused."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_moderator(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_suspended(self) -> bool:
        if self.state == UserState.SUSPENDED:
            return True
        return self.suspended_until is not None and self.suspended_until > utcnow()

    @property
    def discipline_list(self) -> list[str]:
        return split_list(self.disciplines)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"
