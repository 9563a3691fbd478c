"""One-click unsubscribe (RFC 8058): signed tokens that turn off one kind of email for one
member, their links, and the List-Unsubscribe headers every email carries."""

from __future__ import annotations

from flask import current_app
from werkzeug.routing import BuildError

from forum import mail
from forum.extensions import db
from forum.models import (
    User,
)
from forum.services import tokens
from forum.services.outbox import mail_domain
from forum.services.tokens import LinkPurpose, LinkState

UNSUBSCRIBE_PURPOSES = {
    "digest": LinkPurpose.UNSUBSCRIBE_DIGEST,
    "immediate": LinkPurpose.UNSUBSCRIBE_IMMEDIATE,
    "reminders": LinkPurpose.UNSUBSCRIBE_REMINDERS,
}
UNSUBSCRIBE_SCOPES = tuple(UNSUBSCRIBE_PURPOSES)


def _address_mark(user: User) -> str:
    return tokens.fingerprint("email", user.id, user.email)


def unsubscribe_token(user: User, scope: str) -> str:
    """A signed token that turns off one kind of email (digest, immediate, reminders) for one
    member.

    The member's id and a keyed fingerprint of their address are inside and signed (never the
    address itself, issue 13): it cannot be forged or used for anyone else, and it stops working
    if the account's email address changes. It does not expire: old emails keep working.
    """
    if scope not in UNSUBSCRIBE_PURPOSES:
        raise ValueError(f"unknown unsubscribe scope {scope!r}")
    return tokens.sign_link(user.id, UNSUBSCRIBE_PURPOSES[scope], fingerprint=_address_mark(user))


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(user id, scope) of a genuine token whose member still has that email; else None."""
    for scope, purpose in UNSUBSCRIBE_PURPOSES.items():
        link = tokens.read_link(token, purpose, max_age=None)
        if link.state == LinkState.VALID:
            user = db.session.get(User, link.user_id)
            if user is None or link.fingerprint != _address_mark(user):
                return None
            return user.id, scope
    return None


def unsubscribe(token: str) -> User | None:
    """Apply a one-click unsubscribe (no login needed: the token is the proof). Safe to repeat."""
    found = read_unsubscribe_token(token)
    if found is None:
        return None
    user_id, scope = found
    user = db.session.get(User, user_id)
    if scope == "digest":
        user.digest_frequency = "off"
    elif scope == "reminders":
        user.email_reminders = False
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
