"""Signed links sent by email: unsubscribing, resetting a password, confirming a new address.

Every token holds a member id, a purpose and the time it was made, signed with the app's
SECRET_KEY and a salt per purpose (itsdangerous), so a token for one purpose never works for
another. No email address is ever inside (issue 13): the token carries only a keyed fingerprint
of what must not have changed since it was made (the address, the password hash), and the
service that reads it compares the fingerprint with the member as they are now.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer


class LinkPurpose(enum.StrEnum):
    UNSUBSCRIBE_DIGEST = "unsubscribe-digest"
    UNSUBSCRIBE_IMMEDIATE = "unsubscribe-immediate"
    UNSUBSCRIBE_REMINDERS = "unsubscribe-reminders"
    RESET_PASSWORD = "reset-password"
    CONFIRM_EMAIL = "confirm-email"
    # The applicant's private page, in later emails (the first one carries the random token):
    # the id is the application's, the fingerprint that of its token (issue 14).
    APPLICATION_STATUS = "application-status"


class LinkState(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"  # tampered with, cut short, or made for another purpose


@dataclass(frozen=True)
class SignedLink:
    """What a token says, once its signature is checked: whose it is and what it vouches for."""

    state: LinkState
    user_id: int | None = None
    fingerprint: str = ""


class _ClockSigner(TimestampSigner):
    """A TimestampSigner that reads `now` from its caller, so tests pass time in as now=."""

    def __init__(self, *args, now: datetime | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.now = now

    def get_timestamp(self) -> int:
        return int(self.now.timestamp()) if self.now is not None else super().get_timestamp()


def _serializer(purpose: LinkPurpose, now: datetime | None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"],
        salt=f"forum-{purpose.value}",
        signer=_ClockSigner,
        signer_kwargs={"now": now},
    )


def fingerprint(*parts: str | int | None) -> str:
    """A short keyed hash of the given values: tells whether they changed, never what they are."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    message = "\x1f".join("" if part is None else str(part) for part in parts).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:24]


def sign_link(
    user_id: int, purpose: LinkPurpose, *, fingerprint: str, now: datetime | None = None
) -> str:
    """A URL-safe token for `purpose`, made at `now` (default: the current time)."""
    return _serializer(purpose, now).dumps({"u": user_id, "p": purpose.value, "f": fingerprint})


def read_link(
    token: str,
    purpose: LinkPurpose,
    *,
    max_age: timedelta | None,
    now: datetime | None = None,
) -> SignedLink:
    """Check a token's signature and age (None: it never expires); say who it is for."""
    serializer = _serializer(purpose, now or datetime.now(UTC))
    max_seconds = int(max_age.total_seconds()) if max_age is not None else None
    try:
        payload = serializer.loads(token, max_age=max_seconds)
    except SignatureExpired:
        return SignedLink(LinkState.EXPIRED)
    except BadSignature:
        return SignedLink(LinkState.INVALID)
    if not isinstance(payload, dict) or payload.get("p") != purpose.value:
        return SignedLink(LinkState.INVALID)
    user_id, mark = payload.get("u"), payload.get("f")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not isinstance(mark, str):
        return SignedLink(LinkState.INVALID)
    return SignedLink(LinkState.VALID, user_id=user_id, fingerprint=mark)
