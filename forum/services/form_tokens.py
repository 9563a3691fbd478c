"""One-time form tokens (issue 17, item 7): a create form sent twice creates one thing.

Each create form carries a random token (forum.forms.one_time.OneTimeForm). The service that
creates takes the token first, in its own transaction, and notes what it made before it
commits: the token is the table's primary key, so of two sendings at once (the Back button,
a second tab, a double click) only one can commit; the other waits for it on the key (the row
lock on PostgreSQL, the write lock on SQLite), fails, and raises ``AlreadySent`` with what the
first made. A sending after the first has committed is recognised before anything is checked
(``refuse_if_used``). forum/errors.py turns ``AlreadySent`` into a redirect to that thing.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.models import (
    Flag,
    FormSubmission,
    Guideline,
    GuidelineSection,
    GuidelineSuggestion,
    Paper,
    Post,
    Topic,
)
from forum.models.form_tokens import FORM_TOKEN_MAX_LENGTH
from forum.models.types import utcnow

# Long enough for the Back button days later; the rows are deleted after it.
FORM_TOKEN_LIFETIME = timedelta(days=7)
_TOKEN_BYTES = 18  # 24 URL-safe characters
_TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

# What a sending made, by the kind its row records.
# What a form's first sending made, as (kind, id) of the page a second sending is sent to.
_KINDS: dict[type, tuple[str, Any]] = {
    Topic: ("topic", lambda made: made.id),
    Post: ("post", lambda made: made.id),
    Flag: ("flag", lambda made: made.post_id),
    Paper: ("paper", lambda made: made.id),
    # A guideline, one of its sections or a suggested edit: the guideline's page (issue 18).
    Guideline: ("guideline", lambda made: made.id),
    GuidelineSection: ("guideline", lambda made: made.guideline_id),
    GuidelineSuggestion: ("guideline", lambda made: made.section.guideline_id),
}


class AlreadySent(Exception):
    """This form was sent before: ``submission`` names what that sending made."""

    def __init__(self, submission: FormSubmission):
        super().__init__(submission.token)
        self.submission = submission


def new_token() -> str:
    return secrets.token_urlsafe(_TOKEN_BYTES)


def well_formed(value: Any) -> str | None:
    """The token as sent, or None for anything no form of ours holds (empty, too long, or with
    other characters): such a sending is handled as one without a token."""
    if not isinstance(value, str) or not 16 <= len(value) <= FORM_TOKEN_MAX_LENGTH:
        return None
    return value if set(value) <= _TOKEN_ALPHABET else None


def _earlier(token: str, now: datetime) -> FormSubmission | None:
    return db.session.scalar(
        select(FormSubmission).where(
            FormSubmission.token == token,
            FormSubmission.created_at > now - FORM_TOKEN_LIFETIME,
        )
    )


def refuse_if_used(token: str | None, *, now: datetime | None = None) -> None:
    """Raise AlreadySent when a sending with this token has already created its thing."""
    if token is None:
        return
    earlier = _earlier(token, now or utcnow())
    if earlier is not None:
        raise AlreadySent(earlier)


def take_token(
    user: Any, token: str | None, *, now: datetime | None = None
) -> FormSubmission | None:
    """Claim the token in the caller's transaction, before it writes anything else; raise
    AlreadySent (the transaction rolled back) when another sending holds it. None without a
    token. The caller notes what it made with ``note_made`` and commits. (Should anything commit
    in between, as site_settings.get_settings does once, on a database without its settings
    row, the token is kept without its target, and a second sending is led to the home page.)"""
    if token is None:
        return None
    now = now or utcnow()
    submission = FormSubmission(
        token=token,
        user_id=getattr(user, "id", None),
        target_kind="",
        created_at=now,
    )
    db.session.add(submission)
    try:
        db.session.flush()  # waits here while another sending of the form holds the key
    except IntegrityError:
        db.session.rollback()
        earlier = _earlier(token, now)
        if earlier is None:  # an expired row holds the key: it is stale; the form is too
            earlier = db.session.get(FormSubmission, token)
        raise AlreadySent(earlier) from None
    db.session.execute(
        delete(FormSubmission).where(FormSubmission.created_at <= now - FORM_TOKEN_LIFETIME)
    )
    return submission


def note_made(submission: FormSubmission | None, made: Any) -> None:
    """Note what the sending made (a topic, a reply or a flag), in the same transaction."""
    if submission is None:
        return
    kind, target_id = _KINDS[type(made)]
    submission.target_kind, submission.target_id = kind, target_id(made)
