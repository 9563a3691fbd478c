"""Invitations: the single-use links an approved applicant sets their password with."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from forum import mail
from forum.database import claim
from forum.extensions import db
from forum.models import AccountToken, Application, TokenPurpose, User
from forum.models.types import utcnow
from forum.permissions import require
from forum.services.accounts import hash_password, hash_token
from forum.services.applications import MembershipError, mail_applicant

INVITATION_LIFETIME = timedelta(hours=72)


class InvalidLink(MembershipError):
    pass


def new_account_token(user: User, now: datetime) -> str:
    """A fresh set-password link's token for ``user`` (added to the session, not committed)."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            user_id=user.id,
            purpose=TokenPurpose.SET_PASSWORD,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
    )
    return token


def send_invitation(application: Application, token: str) -> bool:
    """Email the applicant their set-password link (after commit). Returns whether it went out."""
    return mail_applicant(
        application,
        "invitation",
        url=mail.external_url("membership.set_password", token=token),
        hours=int(INVITATION_LIFETIME.total_seconds() // 3600),
    )


def check_account_token(token: str, *, now: datetime | None = None) -> AccountToken:
    """The token's row if it can still be used; else InvalidLink saying why (nothing changes)."""
    now = now or utcnow()
    row = db.session.scalar(
        select(AccountToken).where(AccountToken.token_hash == hash_token(token))
    )
    if row is None:
        raise InvalidLink(_("This link is not valid. Check that you copied all of it."))
    if row.used_at is not None:
        raise InvalidLink(_("This link has already been used. Log in with your password instead."))
    if row.expires_at <= now:
        raise InvalidLink(_("This link has expired. Ask a moderator to send you a new invitation."))
    return row


def set_password_with_token(token: str, *, password: str, now: datetime | None = None) -> User:
    """Redeem an invitation: set the member's password, once."""
    now = now or utcnow()
    row = check_account_token(token, now=now)
    if not claim(AccountToken, row.id, AccountToken.used_at.is_(None), used_at=now):
        # used a moment ago in another request
        db.session.rollback()
        raise InvalidLink(_("This link has already been used. Log in with your password instead."))
    user = db.session.get(User, row.user_id)
    user.password_hash = hash_password(password)
    db.session.commit()
    return user


def resend_invitation(reviewer: User, application: Application, *, now=None) -> bool:
    """A fresh 72-hour link for an approved applicant who has not set a password yet."""
    require(reviewer, "review_applications")
    now = now or utcnow()
    member = db.session.get(User, application.user_id) if application.user_id else None
    if member is None or member.password_hash is not None:
        raise MembershipError(_("This member has already set a password."))
    token = new_account_token(member, now)
    db.session.commit()
    return send_invitation(application, token)
