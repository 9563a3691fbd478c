"""Emailing members reliably: the ledger rules shared by digests and immediate notification
emails, the immediate emails themselves, and one-click unsubscribe links (RFC 8058).

Both kinds of email are recorded in a ledger (DigestDelivery, NotificationBatch) whose rows go
pending -> sending -> sent, or back to pending with a later next_attempt_at after an SMTP error,
or to failed after MAX_ATTEMPTS. A row is claimed by one conditional UPDATE (committed before
anything is sent), so two senders running at once never both send it; a row left "sending" by
a crashed sender is claimed again once SENDING_LEASE has passed, and because its Message-ID is
derived from the member and the period, a resend is the same message, not a second one.
"""

from __future__ import annotations

import hashlib
import hmac
import smtplib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr

from flask import current_app
from flask_babel import force_locale, gettext, ngettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Row, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from forum import mail
from forum.extensions import db
from forum.models import (
    DeliveryStatus,
    DigestDelivery,
    Notification,
    NotificationBatch,
    NotificationKind,
    Post,
    Subscription,
    Topic,
    User,
    UserState,
    WatchLevel,
)
from forum.models.notifications import IMMEDIATE_KINDS
from forum.models.types import utcnow
from forum.permissions import visible_posts

MAX_ATTEMPTS = 6
FIRST_RETRY_DELAY = timedelta(minutes=5)  # then 10, 20, 40 minutes, ... doubling each time
MAX_RETRY_DELAY = timedelta(hours=6)
# A row "sending" for longer than this was left by a sender that crashed: it is claimed again.
SENDING_LEASE = timedelta(minutes=15)
# Notifications wait this long before they are emailed, so that a burst becomes one email.
IMMEDIATE_DELAY = timedelta(minutes=2)
NOTIFICATIONS_SHOWN = 20  # per immediate email; the rest are counted ("and 3 more")
ID_BATCH = 500  # rows or members read at a time: memory stays bounded however many there are

UNSUBSCRIBE_SALT = "forum-unsubscribe"
UNSUBSCRIBE_SCOPES = ("digest", "immediate")

Ledger = type[DigestDelivery] | type[NotificationBatch]


@dataclass
class Report:
    """What one run of a sender did (or, in a dry run, would do)."""

    sent: int = 0
    skipped_empty: int = 0  # nothing to tell the member: the period is recorded, no email
    failed: int = 0  # given up on in this run, after MAX_ATTEMPTS
    pending: int = 0  # left for a later run: a retry is scheduled, or the server was unreachable
    would_send: list[tuple[str, str]] = field(default_factory=list)  # dry run: (email, period)
    server_unreachable: bool = False  # the run stopped early because SMTP was unreachable


# --- Message-IDs and unsubscribe links ---------------------------------------------------------


def _mail_domain() -> str:
    sender = parseaddr(current_app.config["FORUM_MAIL_SENDER"])[1]
    return sender.rpartition("@")[2] or "localhost"


def message_id_for(kind: str, user_id: int, key: str | int) -> str:
    """The Message-ID of one member's email for one period (or batch): the same every time it is
    built, so that a resend after a crash is recognisably the same message, not a second one."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    mac = hmac.new(secret, f"{kind}:{user_id}:{key}".encode(), hashlib.sha256).hexdigest()[:16]
    return f"<{kind}.{user_id}.{key}.{mac}@{_mail_domain()}>"


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
    mailto = f"mailto:unsubscribe@{_mail_domain()}?subject=unsubscribe-{token}"
    return {
        "List-Unsubscribe": _ListHeader("List-Unsubscribe", f"<{url}>, <{mailto}>"),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def member_locale(user: User) -> str:
    locale = user.locale or ""
    supported = current_app.config["FORUM_LOCALES"]
    return locale if locale in supported else current_app.config["BABEL_DEFAULT_LOCALE"]


# --- The ledger, shared by digests and immediate emails ----------------------------------------


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the attempts-th failure: 5 min, 10, 20, ... at most 6 hours."""
    return min(FIRST_RETRY_DELAY * 2 ** max(attempts - 1, 0), MAX_RETRY_DELAY)


def _claimable(ledger: Ledger, now: datetime) -> list:
    # Pending and due, or "sending" with its lease run out (its sender crashed).
    return [
        ledger.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
        ledger.next_attempt_at <= now,
        ledger.attempts < MAX_ATTEMPTS,
    ]


def give_up_abandoned(ledger: Ledger, now: datetime) -> int:
    """Rows whose last allowed attempt crashed mid-send (lease run out) are marked failed."""
    result = db.session.execute(
        update(ledger)
        .where(
            ledger.status == DeliveryStatus.SENDING,
            ledger.next_attempt_at <= now,
            ledger.attempts >= MAX_ATTEMPTS,
        )
        .values(status=DeliveryStatus.FAILED, last_error="abandoned while sending")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def due_row_ids(ledger: Ledger, now: datetime) -> Iterator[list[int]]:
    """Ids of the rows that may be sent now, ID_BATCH at a time (keyset pagination: each batch
    is read completely, so no cursor stays open across the commits made while sending)."""
    after = 0
    while True:
        ids = db.session.scalars(
            select(ledger.id)
            .where(ledger.id > after, *_claimable(ledger, now))
            .order_by(ledger.id)
            .limit(ID_BATCH)
        ).all()
        if not ids:
            return
        yield list(ids)
        after = ids[-1]


def claim(ledger: Ledger, row_id: int, now: datetime) -> Row | None:
    """Take one row for sending: it is returned to exactly one of any number of senders running
    at once (None to the others).

    The UPDATE only matches a row that is still claimable, and it is committed before anything
    is sent, so other senders see the row taken.
    """
    claimed = db.session.execute(
        update(ledger)
        .where(ledger.id == row_id, *_claimable(ledger, now))
        .values(
            status=DeliveryStatus.SENDING,
            attempts=ledger.attempts + 1,
            next_attempt_at=now + SENDING_LEASE,
        )
        .returning(*ledger.__table__.columns)
        .execution_options(synchronize_session=False)
    ).first()
    db.session.commit()
    return claimed


def mark_sent(ledger: Ledger, row_id: int, now: datetime, *, empty: bool = False) -> None:
    """Record the email as sent. An empty period or batch is recorded as sent with no Message-ID:
    nothing was sent, and nothing is to be retried."""
    values = {"status": DeliveryStatus.SENT, "sent_at": now, "last_error": ""}
    if empty:
        values["message_id"] = ""
    db.session.execute(
        update(ledger)
        .where(ledger.id == row_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def mark_unsent(ledger: Ledger, row_id: int, now: datetime, *, error: str) -> DeliveryStatus:
    """After a failed attempt: pending again with a growing delay, or failed after the last."""
    attempts = db.session.scalar(select(ledger.attempts).where(ledger.id == row_id)) or 0
    status = DeliveryStatus.FAILED if attempts >= MAX_ATTEMPTS else DeliveryStatus.PENDING
    db.session.execute(
        update(ledger)
        .where(ledger.id == row_id)
        .values(status=status, next_attempt_at=now + retry_delay(attempts), last_error=error[:2000])
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return status


def is_server_unreachable(error: mail.MailError) -> bool:
    """Whether later messages would fail too (no connection, server closing, login refused), as
    opposed to one message refused (its recipient unknown, its content rejected)."""
    cause = error.__cause__
    if isinstance(cause, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _ in cause.recipients.values())
    if isinstance(cause, smtplib.SMTPDataError):
        return cause.smtp_code == 421
    return True


def deliver_due(
    ledger: Ledger,
    compose: Callable[[Row], EmailMessage | None],
    *,
    now: datetime,
    report: Report,
    limit: int | None = None,
) -> Report:
    """Claim, compose and send every due row of the ledger, one at a time.

    `compose` builds the message for a claimed row (its columns), or returns None when there is
    nothing to tell (recorded as sent, with no email). Once the SMTP server is unreachable the run
    stops: the remaining rows stay pending, untouched, for the next run.
    """
    give_up_abandoned(ledger, now)
    attempted = 0
    for ids in due_row_ids(ledger, now):
        for row_id in ids:
            if limit is not None and attempted >= limit:
                return report
            row = claim(ledger, row_id, now)
            if row is None:
                continue  # another sender has it, or has sent it
            attempted += 1
            try:
                message = compose(row)
            except Exception as error:  # one member's bad data must not stop everyone's email
                db.session.rollback()
                current_app.logger.exception("could not compose %s %s", ledger.__name__, row_id)
                _count(report, mark_unsent(ledger, row_id, now, error=repr(error)))
                continue
            if message is None:
                mark_sent(ledger, row_id, now, empty=True)
                report.skipped_empty += 1
                continue
            try:
                mail.send_message(message)
            except mail.MailError as error:
                _count(report, mark_unsent(ledger, row_id, now, error=str(error)))
                if is_server_unreachable(error):
                    report.server_unreachable = True
                    report.pending += _count_due(ledger, now)
                    return report
                continue
            mark_sent(ledger, row_id, now)
            report.sent += 1
    return report


def _count(report: Report, status: DeliveryStatus) -> None:
    if status == DeliveryStatus.FAILED:
        report.failed += 1
    else:
        report.pending += 1


def _count_due(ledger: Ledger, now: datetime) -> int:
    return db.session.scalar(select(func.count()).where(*_claimable(ledger, now))) or 0


def dialect_insert(model):
    """INSERT with ON CONFLICT support on either database."""
    return (pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert)(model)


def is_reachable(user: User, now: datetime) -> bool:
    """The Python twin of receives_email(), for one member already loaded."""
    return (
        user.password_hash is not None
        and user.state == UserState.ACTIVE
        and (user.suspended_until is None or user.suspended_until <= now)
    )


def receives_email(now: datetime) -> list:
    """Conditions on User for members who get email at all: joined (a password is set), and
    neither suspended nor on a suspension that has not ended yet."""
    return [
        User.password_hash.is_not(None),
        User.state == UserState.ACTIVE,
        or_(User.suspended_until.is_(None), User.suspended_until <= now),
    ]


# --- Immediate emails: mentions and replies, a burst at a time ---------------------------------


def _waiting(now: datetime) -> list:
    """Notifications due to be emailed: of an immediate kind, unread, in no batch yet, and old
    enough that the burst they belong to has probably ended."""
    return [
        Notification.batch_id.is_(None),
        Notification.kind.in_(IMMEDIATE_KINDS),
        Notification.read_at.is_(None),
        Notification.created_at <= now - IMMEDIATE_DELAY,
    ]


def _waiting_per_member(now: datetime) -> Iterator[list[tuple[int, str, int]]]:
    """(user id, email, newest waiting notification id) of members who want immediate emails,
    ID_BATCH members at a time."""
    after = 0
    while True:
        rows = db.session.execute(
            select(User.id, User.email, func.max(Notification.id))
            .join(Notification, Notification.user_id == User.id)
            .where(User.id > after, User.email_immediate.is_(True), *receives_email(now))
            .where(*_waiting(now))
            .group_by(User.id, User.email)
            .order_by(User.id)
            .limit(ID_BATCH)
        ).all()
        if not rows:
            return
        yield [tuple(row) for row in rows]
        after = rows[-1][0]


def _create_batch(user_id: int, upto: int, now: datetime) -> bool:
    """Claim the member's waiting notifications up to `upto` for one email (one transaction).

    The batch row is unique per (member, upto): of two senders that saw the same notifications,
    one inserts it and the other inserts nothing. Notifications already in another batch are
    left there (batch_id IS NULL), so none is emailed twice.
    """
    batch_id = db.session.scalar(
        dialect_insert(NotificationBatch)
        .values(
            user_id=user_id,
            upto_notification_id=upto,
            status=DeliveryStatus.PENDING,
            attempts=0,
            last_error="",
            next_attempt_at=now,
            message_id=message_id_for("notifications", user_id, upto),
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "upto_notification_id"])
        .returning(NotificationBatch.id)
    )
    if batch_id is None:
        db.session.rollback()
        return False
    taken = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.id <= upto, *_waiting(now))
        .values(batch_id=batch_id)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 0:  # another sender took them all a moment ago
        db.session.rollback()
        return False
    db.session.commit()
    return True


def _batch_notifications(user: User, batch_id: int) -> tuple[list[tuple], int]:
    """The notifications of a batch the member may still be told about (the topic readable, the
    post neither hidden, deleted nor awaiting review, the topic not muted): up to
    NOTIFICATIONS_SHOWN of them as (notification, topic), and how many there are in all."""
    muted = select(Subscription.target_id).where(
        Subscription.user_id == user.id,
        Subscription.target_type == "topic",
        Subscription.level == WatchLevel.MUTED,
    )
    conditions = [
        Notification.batch_id == batch_id,
        Topic.id.not_in(muted),
        visible_posts(user),
    ]

    def joined(stmt):
        return stmt.join(Topic, Topic.id == Notification.topic_id).join(
            Post, Post.id == Notification.post_id
        )

    total = db.session.scalar(joined(select(func.count()).select_from(Notification)).where(
        *conditions
    ))  # fmt: skip
    rows = db.session.execute(
        joined(select(Notification, Topic))
        .where(*conditions)
        .options(joinedload(Notification.actor))
        .order_by(Notification.id)
        .limit(NOTIFICATIONS_SHOWN)
    ).all()
    return [tuple(row) for row in rows], total or 0


def _notification_line(notification: Notification, topic: Topic) -> str:
    actor = notification.actor.display_name if notification.actor else gettext("Someone")
    if notification.kind == NotificationKind.MENTION:
        return gettext("%(name)s mentioned you in “%(title)s”", name=actor, title=topic.title)
    return gettext("%(name)s replied to your post in “%(title)s”", name=actor, title=topic.title)


def compose_notifications(batch: Row) -> EmailMessage | None:
    """The immediate email for one batch, or None when nothing in it may still be told."""
    user = db.session.get(User, batch.user_id)
    if not user.email_immediate or not is_reachable(user, utcnow()):
        return None  # unsubscribed or suspended since the batch was made
    rows, total = _batch_notifications(user, batch.id)
    if not rows:
        return None
    locale = member_locale(user)
    with force_locale(locale):
        entries = [
            {
                "text": _notification_line(notification, topic),
                "url": mail.external_url("discussions.post", post_id=notification.post_id),
            }
            for notification, topic in rows
        ]
        subject = (
            entries[0]["text"]
            if total == 1
            else ngettext("%(num)d new mention or reply", "%(num)d new mentions and replies", total)
        )
    return mail.build_message(
        to=user.email,
        subject=subject,
        template="notifications",
        locale=locale,
        message_id=batch.message_id,
        headers=unsubscribe_headers(user, "immediate"),
        name=user.display_name,
        entries=entries,
        more=total - len(entries),
        unsubscribe_url=unsubscribe_url(user, "immediate"),
        notifications_url=_notifications_page(),
    )


def _notifications_page() -> str:
    try:
        return mail.external_url("notifications.index")
    except BuildError:  # until the notifications page is wired
        return mail.external_url("discussions.home")


def send_notifications(*, now: datetime | None = None, dry_run: bool = False) -> Report:
    """Email each member who wants immediate emails their waiting mentions and replies, one
    email per burst; retry the emails that failed. Safe to run twice at once, and from cron."""
    now = now or utcnow()
    report = Report()
    for waiting in _waiting_per_member(now):
        for user_id, email, upto in waiting:
            if dry_run:
                report.would_send.append((email, f"notifications-{upto}"))
            else:
                _create_batch(user_id, upto, now)
    if dry_run:
        for ids in due_row_ids(NotificationBatch, now):
            for email, upto in db.session.execute(
                select(User.email, NotificationBatch.upto_notification_id)
                .join(NotificationBatch, NotificationBatch.user_id == User.id)
                .where(NotificationBatch.id.in_(ids))
            ):
                report.would_send.append((email, f"notifications-{upto}"))
        return report
    return deliver_due(NotificationBatch, compose_notifications, now=now, report=report)
