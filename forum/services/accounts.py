"""Registering, authenticating and describing members."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from forum.extensions import db
from forum.models import Post, Role, Topic, User
from forum.models.accounts import split_list
from forum.names import TextKind, TextProblem, TextRefused, check_display_name, skeleton
from forum.permissions import can, institution_key, require
from forum.services import institutions, reading

PASSWORD_MIN_LENGTH = 10
# Checked against when no account matches, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password, only for timing")


def hash_password(password: str) -> str:
    """The stored form of a password: Werkzeug's default (scrypt) unless
    FORUM_PASSWORD_HASH_METHOD says otherwise (tests use a cheap one)."""
    return generate_password_hash(password, current_app.config["FORUM_PASSWORD_HASH_METHOD"])


def hash_token(token: str) -> str:
    """The stored form of a secret link's token (an applicant's private page, an invitation):
    only its SHA-256 is kept, so the database alone cannot open the link."""
    return hashlib.sha256(token.encode()).hexdigest()


class EmailTaken(Exception):
    """Another account already uses this email address."""


def handle_base(email: str, display_name: str) -> str:
    """A readable @handle from the email's local part (or the name), in ASCII."""
    for source in (email.split("@")[0], display_name):
        ascii_text = unicodedata.normalize("NFKD", source).encode("ascii", "ignore").decode()
        base = re.sub(r"[^a-z0-9_.-]+", "", ascii_text.lower().replace(" ", "_")).strip("._-")
        if len(base) >= 2:
            return base[:24]
    return "member"


def unique_handle(email: str, display_name: str) -> str:
    """The first free handle among base, base2, base3, ... (one query)."""
    base = handle_base(email, display_name)
    taken = set(db.session.scalars(select(User.handle).where(User.handle.like(f"{base}%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def load_session_user(session_id: str) -> User | None:
    """The member a session or remember cookie names ("<id>:<session version>", User.get_id),
    if that version is still theirs: one query, whatever the page (issue 13)."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return user


def find_user_by_handle(handle: str) -> User | None:
    return db.session.scalar(select(User).where(User.handle == handle.lower()))


def find_user_by_id(user_id: int | None) -> User | None:
    """The member with this id; None for no id (a form field that did not parse) or no member."""
    return db.session.get(User, user_id) if user_id is not None else None


@dataclass
class ProfilePage:
    """A member's profile with their latest topics and replies, as one reader may see them."""

    profile: User
    topics: list[Topic]
    posts: list[Post]


def profile_page(viewer, user_id: int | None) -> ProfilePage | None:
    """None for an id that does not exist and for a profile the reader may not see: both answer
    404, so walking the ids cannot rebuild the member directory (issue 11, item 8)."""
    profile = db.session.get(User, user_id) if user_id is not None else None
    if profile is None or not can(viewer, "view_profile", profile):
        return None
    return ProfilePage(
        profile=profile,
        topics=reading.recent_topics_by(profile, viewer=viewer),
        posts=reading.recent_posts_by(profile, viewer=viewer),
    )


# Longer than any display name (80): SQLite refuses LIKE patterns past 50,000 characters.
MAX_SUGGEST_PREFIX_CHARACTERS = 80


def suggest_handles(prefix: str, *, limit: int = 8) -> list[User]:
    """Members whose handle or display name starts with the typed text (for @mentions)."""
    prefix = prefix.strip().lstrip("@").lower()[:MAX_SUGGEST_PREFIX_CHARACTERS]
    if not prefix:
        return []
    pattern = prefix.replace("\\", "").replace("%", "").replace("_", "\\_") + "%"
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.password_hash.is_not(None),
                (User.handle.like(pattern, escape="\\"))
                | (func.lower(User.display_name).like(pattern, escape="\\")),
            )
            .order_by(User.handle)
            .limit(limit)
        )
    )


def name_looks_taken(name: str, *, other_than: User | None = None) -> bool:
    """Whether a member (other than ``other_than``) has a display name that looks like ``name``:
    the same confusable skeleton (forum/names.py). One query, on users.name_skeleton's index."""
    query = select(User.id).where(User.name_skeleton == skeleton(name))
    if other_than is not None and other_than.id is not None:
        query = query.where(User.id != other_than.id)
    return db.session.scalar(query.limit(1)) is not None


def check_new_display_name(name: str, *, member: User | None = None) -> str:
    """The display name as it will be stored, or TextRefused: the rules of forum/names.py, and no
    other member's name may look the same (issue 13). ``member`` keeping the look of the name
    they have is not refused, even where two members were named alike before the rule."""
    name = check_display_name(name)
    if member is not None and skeleton(name) == member.name_skeleton:
        return name
    if name_looks_taken(name, other_than=member):
        raise TextRefused(TextKind.DISPLAY_NAME, TextProblem.LOOKS_TAKEN)
    return name


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def register_user(
    *,
    email: str,
    display_name: str,
    password: str,
    role: Role = Role.MEMBER,
    affiliation: str = "",
    department: str = "",
    disciplines: str = "",
    bio: str = "",
    locale: str | None = None,
) -> User:
    """Create an account. Raises EmailTaken if the address is in use (any letter case), and
    TextRefused for a display name that breaks forum/names.py's rules or looks like a member's."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValueError("password too short")
    display_name = check_new_display_name(display_name)
    user = User(
        email=normalise_email(email),
        handle=unique_handle(email, display_name),
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        department=department.strip(),
        disciplines=disciplines.strip(),
        bio=bio.strip(),
        locale=locale,
    )
    for _attempt in range(3):
        institutions.link_user(user, affiliation)  # again after a rollback took a proposal
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            if find_user_by_email(email) is not None:
                raise EmailTaken(email) from None
            # Someone took the same @handle at the same moment: pick the next free one.
            user.handle = unique_handle(email, display_name)
        else:
            return user
    raise EmailTaken(email)


def authenticate(email: str, password: str) -> User | None:
    """The account with this email and password, or None."""
    user = find_user_by_email(email)
    if user is None or user.password_hash is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


@dataclass
class ProfileChanges:
    display_name: str
    affiliation: str
    department: str
    disciplines: str
    bio: str
    position: str
    orcid: str
    homepage: str
    timezone: str
    locale: str | None
    # Visitors who are not logged in see the profile only when this is on (issue 11, item 8).
    profile_public: bool


def update_profile(actor: User, profile: User, changes: ProfileChanges) -> User:
    """Save a member's profile; only the member (or an admin) may. TextRefused (nothing saved)
    for a display name that breaks forum/names.py's rules or looks like another member's."""
    require(actor, "edit_profile", profile)
    profile.display_name = check_new_display_name(changes.display_name, member=profile)
    typed = institution_key(changes.affiliation)
    if typed != institution_key(profile.affiliation) or (typed and profile.institution_id is None):
        institutions.link_user(profile, changes.affiliation)
    profile.department = changes.department.strip()
    profile.disciplines = ", ".join(split_list(changes.disciplines))
    profile.bio = changes.bio.strip()
    profile.position = changes.position.strip()
    profile.orcid = changes.orcid.strip()
    profile.homepage = changes.homepage.strip()
    profile.timezone = changes.timezone
    profile.locale = changes.locale or None
    profile.profile_public = changes.profile_public
    db.session.commit()
    return profile


def create_admin(*, email: str, display_name: str, password: str) -> User:
    """Make an admin, or promote the existing account with that email."""
    user = find_user_by_email(email)
    if user is not None:
        user.role = Role.ADMIN
        if password:
            if len(password) < PASSWORD_MIN_LENGTH:
                raise ValueError("password too short")
            user.password_hash = hash_password(password)
            # A new password ends every session of the account (issue 13).
            user.session_version = User.session_version + 1
        db.session.commit()
        return user
    return register_user(email=email, display_name=display_name, password=password, role=Role.ADMIN)


def set_locale(user: User, locale: str) -> None:
    """Remember the language a member chose from the language switch."""
    user.locale = locale
    db.session.commit()
