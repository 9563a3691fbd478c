"""Personal read tokens for the API (issue 16): making one, listing and revoking them, and
finding the member a request's token reads as.

A token is shown once, when it is made; the table keeps only its SHA-256 (a stolen copy of the
database reads nothing). A token only reads: the API has no writes, and no other route looks at
the ``Authorization`` header.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import ApiToken, User
from forum.models.api_tokens import API_TOKEN_NAME_MAX_LENGTH
from forum.models.types import utcnow
from forum.names import TextRefused, check_title
from forum.permissions import can, require

TOKEN_PREFIX = "forum_"  # lets secret scanners, and the member, tell what the string is
TOKEN_BYTES = 32
TOKENS_PER_MEMBER = 20
# "Last used" is written at most this often: a script reading every second costs one write a
# minute, not one a request.
LAST_USED_STEP = timedelta(minutes=1)


class TokenProblem(ValueError):
    """A token that cannot be made; the message says why."""


class TokenRefusal(enum.StrEnum):
    UNKNOWN = "unknown"  # never made, or revoked
    SUSPENDED = "suspended"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def active_tokens(member: User) -> list[ApiToken]:
    """The member's tokens that still read, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == member.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def create_token(member: User, *, name: str, now: datetime | None = None) -> tuple[ApiToken, str]:
    """A new read token for ``member``; returns the row and the token, which is never kept."""
    require(member, "create_api_token")
    try:
        name = check_title(name)
    except TextRefused as error:
        raise TokenProblem(error.message) from None
    if not name or len(name) > API_TOKEN_NAME_MAX_LENGTH:
        raise TokenProblem(
            _("Give the token a name of at most %(num)d characters.", num=API_TOKEN_NAME_MAX_LENGTH)
        )
    if len(active_tokens(member)) >= TOKENS_PER_MEMBER:
        raise TokenProblem(
            _(
                "You have %(num)d tokens already: revoke one you no longer use first.",
                num=TOKENS_PER_MEMBER,
            )
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(
        user_id=member.id, name=name, token_hash=hash_token(secret), created_at=now or utcnow()
    )
    db.session.add(token)
    db.session.commit()
    return token, secret


def get_token(token_id: int) -> ApiToken | None:
    return db.session.get(ApiToken, token_id)


def revoke_token(member: User, token: ApiToken, *, now: datetime | None = None) -> None:
    """The token stops reading at once; its row stays (revoked), for the member's own record."""
    require(member, "revoke_api_token", token)
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        db.session.commit()


def reader_for_token(secret: str, *, now: datetime | None = None) -> User | TokenRefusal:
    """The member a token reads as, or why it does not read. One query, plus one write a
    minute at most (the token's "last used")."""
    if not secret or len(secret) > 200:
        return TokenRefusal.UNKNOWN
    token = db.session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None))
        .options(joinedload(ApiToken.user))
    )
    if token is None:
        return TokenRefusal.UNKNOWN
    if not can(token.user, "read_with_token"):
        return TokenRefusal.SUSPENDED
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_STEP:
        token.last_used_at = now
        db.session.commit()
    return token.user
