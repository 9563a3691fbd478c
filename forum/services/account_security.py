"""Keeping an account safe (issue 13): resetting a forgotten password, changing the password or
the email address, and ending sessions.

Every session and remember cookie names the member's session_version (User.get_id); raising
it ends them all at once. Emailed links are signed tokens (services/tokens.py) holding a keyed
fingerprint of what they rely on, so a reset link dies with the password it replaces and an
address-confirmation link with the address it confirms.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from forum import mail
from forum.database import claim
from forum.extensions import db
from forum.i18n import N_
from forum.models import User
from forum.models.types import utcnow
from forum.services import tokens
from forum.services.accounts import (
    PASSWORD_MIN_LENGTH,
    EmailTaken,
    authenticate,
    find_user_by_email,
    hash_password,
    normalise_email,
)
from forum.services.outbox import member_locale
from forum.services.tokens import LinkPurpose, LinkState

log = logging.getLogger(__name__)

RESET_LINK_LIFETIME = timedelta(hours=1)
CONFIRM_EMAIL_LIFETIME = timedelta(hours=24)

SUBJECTS = {
    "password_reset": N_("Reset your password"),
    "confirm_email": N_("Confirm your new email address"),
    "email_changed": N_("Your email address was changed"),
}


class WrongPassword(Exception):
    """The current password given to confirm a change is not the member's."""


class InvalidLink(Exception):
    """An emailed link that cannot be used; its message says why, for the member."""


def _nobody() -> User:
    """Signed for and rendered (never sent) when nobody has the address: both answers cost the
    same work, so the time taken does not tell whether an account exists."""
    return User(id=0, email="nobody@invalid", display_name="", password_hash="", locale=None)


def _hours(lifetime: timedelta) -> int:
    return int(lifetime.total_seconds() // 3600)


def _build(user: User, template: str, *, to: str | None = None, **context):
    locale = member_locale(user)
    with force_locale(locale):
        subject = _(SUBJECTS[template])
    return mail.build_message(
        to=to or user.email, subject=subject, template=template, locale=locale, user=user, **context
    )


def _send(message, template: str, user: User) -> bool:
    """Send after the change is committed; a mail failure never undoes it."""
    try:
        mail.send_message(message)
    except mail.MailError:
        log.exception("could not email member %s (%s)", user.id, template)
        return False
    return True


def _send_unattached(message, template: str, user_id: int) -> None:
    # Runs after the request (no session or member object to lean on): logs by id only.
    try:
        mail.send_message(message)
    except mail.MailError:
        log.exception("could not email member %s (%s)", user_id, template)


def _raise_version(user: User) -> None:
    user.session_version = User.session_version + 1


# --- Sessions ----------------------------------------------------------------------------------


def end_sessions(user: User) -> None:
    """End every session and remember cookie of the member (log-out, "log out everywhere").
    A caller who keeps the member logged in here logs them in again afterwards."""
    _raise_version(user)
    db.session.commit()
    db.session.refresh(user)


# --- Changing the password ---------------------------------------------------------------------


def _check_password(user: User, password: str) -> None:
    if authenticate(user.email, password) is None:
        raise WrongPassword


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    """Set a new password after checking the current one; ends every session of the member
    (the caller logs the current one in again)."""
    if len(new_password) < PASSWORD_MIN_LENGTH:
        raise ValueError("password too short")
    _check_password(user, current_password)
    user.password_hash = hash_password(new_password)
    _raise_version(user)
    db.session.commit()
    db.session.refresh(user)


# --- Resetting a forgotten password ------------------------------------------------------------


def _password_mark(user: User) -> str:
    # A new hash (new salt) every time the password is set: a used link never works again.
    return tokens.fingerprint("password", user.id, user.password_hash)


def request_password_reset(email: str, *, now: datetime | None = None) -> Callable[[], None]:
    """Prepare a one-hour reset link for the member with this address, if there is one, and
    return the sending of it. Whether a member has the address is never told: both branches
    sign a token and render the email. The caller runs the sending once its answer has gone
    (views: after the response), so the SMTP conversation's time tells nothing either."""
    user = find_user_by_email(email)
    if user is None or user.password_hash is None:  # invited but never joined: no password yet
        user, real = _nobody(), False
    else:
        real = True
    token = tokens.sign_link(
        user.id, LinkPurpose.RESET_PASSWORD, fingerprint=_password_mark(user), now=now
    )
    message = _build(
        user,
        "password_reset",
        url=mail.external_url("accounts.reset_password", token=token),
        hours=_hours(RESET_LINK_LIFETIME),
    )
    if not real:
        return lambda: None
    user_id = user.id
    return lambda: _send_unattached(message, "password_reset", user_id)


def check_reset_link(token: str, *, now: datetime | None = None) -> User:
    """The member a reset link is for, if it can still be used; else InvalidLink saying why."""
    link = tokens.read_link(
        token, LinkPurpose.RESET_PASSWORD, max_age=RESET_LINK_LIFETIME, now=now or utcnow()
    )
    if link.state == LinkState.EXPIRED:
        raise InvalidLink(_("This link has expired: links to reset a password work for an hour."))
    user = db.session.get(User, link.user_id) if link.state == LinkState.VALID else None
    if user is None:
        raise InvalidLink(_("This link is not valid. Check that you copied all of it."))
    if user.password_hash is None or link.fingerprint != _password_mark(user):
        raise InvalidLink(_("This link has already been used, or the password changed since."))
    return user


def reset_password(token: str, *, password: str, now: datetime | None = None) -> User:
    """Set a forgotten password from a reset link, once; ends every session of the member."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValueError("password too short")
    user = check_reset_link(token, now=now)
    # Conditional on the old hash: of two requests with the same link, only one sets it.
    if not claim(
        User,
        user.id,
        User.password_hash == user.password_hash,
        password_hash=hash_password(password),
        session_version=User.session_version + 1,
    ):
        db.session.rollback()
        raise InvalidLink(_("This link has already been used, or the password changed since."))
    db.session.commit()
    db.session.refresh(user)
    return user


# --- Changing the email address ----------------------------------------------------------------


def _address_mark(user: User) -> str:
    return tokens.fingerprint("new-email", user.id, user.email, user.pending_email)


def request_email_change(
    user: User, *, new_email: str, password: str, now: datetime | None = None
) -> bool:
    """Remember the new address and email it a 24-hour confirmation link; the address changes
    only once that link is opened. Raises WrongPassword or EmailTaken. Returns whether it went."""
    _check_password(user, password)
    new_email = normalise_email(new_email)
    if new_email == user.email or find_user_by_email(new_email) is not None:
        raise EmailTaken(new_email)
    user.pending_email = new_email
    db.session.commit()
    token = tokens.sign_link(
        user.id, LinkPurpose.CONFIRM_EMAIL, fingerprint=_address_mark(user), now=now
    )
    message = _build(
        user,
        "confirm_email",
        to=new_email,
        url=mail.external_url("accounts.confirm_email", token=token),
        hours=_hours(CONFIRM_EMAIL_LIFETIME),
    )
    return _send(message, "confirm_email", user)


def check_email_link(token: str, *, now: datetime | None = None) -> User:
    """The member an address-confirmation link is for, if it can still be used; else
    InvalidLink saying why (nothing changes)."""
    link = tokens.read_link(
        token, LinkPurpose.CONFIRM_EMAIL, max_age=CONFIRM_EMAIL_LIFETIME, now=now or utcnow()
    )
    if link.state == LinkState.EXPIRED:
        raise InvalidLink(_("This link has expired. Ask for a new one from your account settings."))
    user = db.session.get(User, link.user_id) if link.state == LinkState.VALID else None
    if user is None:
        raise InvalidLink(_("This link is not valid. Check that you copied all of it."))
    if user.pending_email is None or link.fingerprint != _address_mark(user):
        raise InvalidLink(_("This link has already been used, or a newer one was sent since."))
    return user


def confirm_email_change(token: str, *, now: datetime | None = None) -> User:
    """Make the confirmed address the member's, once, and tell the old address it changed."""
    user = check_email_link(token, now=now)
    old_email, new_email = user.email, user.pending_email
    # Conditional on the address still pending: of two requests with the link, only one wins.
    try:
        changed = claim(
            User,
            user.id,
            User.email == old_email,
            User.pending_email == new_email,
            email=new_email,
            pending_email=None,
        )
        db.session.commit()
    except IntegrityError:  # someone registered the address since it was asked for
        db.session.rollback()
        raise InvalidLink(_("Another account uses this address now.")) from None
    if not changed:
        raise InvalidLink(_("This link has already been used, or a newer one was sent since."))
    db.session.refresh(user)
    _send(
        _build(user, "email_changed", to=old_email, old_email=old_email, new_email=new_email),
        "email_changed",
        user,
    )
    return user
