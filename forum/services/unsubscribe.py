"""One-click unsubscribe (RFC 8058): signed tokens that turn off one kind of email for one
member, their links, and the List-Unsubscribe headers every email carries."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.routing import BuildError

from forum import mail
from forum.extensions import db
from forum.models import (
    User,
)
from forum.services.outbox import mail_domain

UNSUBSCRIBE_SALT = "forum-unsubscribe"
UNSUBSCRIBE_SCOPES = ("digest", "immediate")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user: User, scope: str) -> str:
    """A signed token that turns off one kind of email ("digest" or "immediate") for one member.

    The member's id and email are inside and signed: it cannot be forged or used for anyone
    else, and it stops working if the account's email address changes.
    """
    if scope not in UNSUBSCRIBE_SCOPES:
        raise ValueError(f"unknown unsubscribe scope {scope!r}")
    return _serializer().dumps({"u": user.id, "s": scope, "e": user.email})


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(user id, scope) of a genuine token whose member still has that email; else None."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    user_id, scope, email = payload.get("u"), payload.get("s"), payload.get("e")
    if not isinstance(user_id, int) or scope not in UNSUBSCRIBE_SCOPES:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.email != email:
        return None
    return user_id, scope


def unsubscribe(token: str) -> User | None:
    """Apply a one-click unsubscribe (no login needed: the token is the proof). Safe to repeat."""
    found = read_unsubscribe_token(token)
    if found is None:
        return None
    user_id, scope = found
    user = db.session.get(User, user_id)
    if scope == "digest":
        user.digest_frequency = "off"
    else:
        user.email_immediate = False
    db.session.commit()
    return user


def unsubscribe_url(user: User, scope: str) -> str:
    """The one-click unsubscribe address for this member and kind of email."""
    token = unsubscribe_token(user, scope)
    try:
        return mail.external_url("notifications.unsubscribe", token=token)
    except BuildError:
        # Only until the notifications.unsubscribe route is registered: the same address.
        return f"{current_app.config['FORUM_BASE_URL'].rstrip('/')}/unsubscribe/{token}"


class _ListHeader(str):
    """A header value that is folded only between its <...> entries and never RFC 2047-encoded.

    The email package encodes any header word longer than a line (as a signed URL is), which
    would hide the URLs of List-Unsubscribe from mail clients (RFC 2369 wants them as written).
    """

    name: str

    def __new__(cls, name: str, value: str) -> _ListHeader:
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy) -> str:
        return f"{self.name}: " + f",{policy.linesep} ".join(self.split(", ")) + policy.linesep


def unsubscribe_headers(user: User, scope: str) -> dict[str, str]:
    """List-Unsubscribe (RFC 2369) with one-click unsubscribe by POST (RFC 8058)."""
    token = unsubscribe_token(user, scope)
    url = unsubscribe_url(user, scope)
    mailto = f"mailto:unsubscribe@{mail_domain()}?subject=unsubscribe-{token}"
    return {
        "List-Unsubscribe": _ListHeader("List-Unsubscribe", f"<{url}>, <{mailto}>"),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
