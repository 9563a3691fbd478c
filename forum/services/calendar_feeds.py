"""A member's secret, revocable calendar feed addresses (issue 18), one rule for every kind of
feed (the workshops they registered for, the paper deadlines they may see).

The address carries a random token; only its SHA-256 is stored, so a copy of the database opens
no one's calendar. Making a new address replaces the old one, revoking deletes it: either way
the old address answers 404. A feed opens for its owner only while they are not suspended, and
its content is worked out at each fetch under the owner's rights of that moment."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from forum.extensions import db
from forum.models import CalendarFeed, FeedKind, User
from forum.models.types import utcnow

TOKEN_MAX_CHARS = 100  # longer is no token of ours: refused before hashing


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def renew_feed(member: User, kind: FeedKind) -> str:
    """A new secret address of this kind for the member (the token, shown once); the former
    address of that kind stops answering, the member's other feeds keep working."""
    token = secrets.token_urlsafe(24)
    feed = db.session.get(CalendarFeed, (member.id, kind))
    if feed is None:
        db.session.add(CalendarFeed(user_id=member.id, kind=kind, token_hash=_digest(token)))
    else:
        feed.token_hash, feed.created_at = _digest(token), utcnow()
    db.session.commit()
    return token


def revoke_feed(member: User, kind: FeedKind) -> None:
    feed = db.session.get(CalendarFeed, (member.id, kind))
    if feed is not None:
        db.session.delete(feed)
        db.session.commit()


def has_feed(member: User, kind: FeedKind) -> bool:
    return db.session.get(CalendarFeed, (member.id, kind)) is not None


def feed_owner(token: str, kind: FeedKind) -> User | None:
    """The member whose feed of this kind the token opens, while they are not suspended; else
    None (a token of another kind opens nothing here)."""
    if not token or len(token) > TOKEN_MAX_CHARS:
        return None
    feed = db.session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == _digest(token), CalendarFeed.kind == kind
        )
    )
    if feed is None:
        return None
    member = db.session.get(User, feed.user_id)
    return member if member is not None and not member.is_suspended else None
