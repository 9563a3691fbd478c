"""The outbox: the ledger shared by digests and immediate notification emails.

Both kinds of email are recorded in a ledger (DigestDelivery, NotificationBatch) whose rows go
pending -> sending -> sent, or back to pending with a later next_attempt_at after an SMTP error,
or to failed after MAX_ATTEMPTS. A row is taken by one conditional UPDATE (committed before
anything is sent), so two senders running at once never both send it; a row left "sending" by
a crashed sender is taken again once SENDING_LEASE has passed, and because its Message-ID is
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
from sqlalchemy import Row, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from forum import mail
from forum.extensions import db
from forum.models import (
    DeliveryStatus,
    DigestDelivery,
    NotificationBatch,
    User,
    UserState,
)

MAX_ATTEMPTS = 6
FIRST_RETRY_DELAY = timedelta(minutes=5)  # then 10, 20, 40 minutes, ... doubling each time
MAX_RETRY_DELAY = timedelta(hours=6)
# A row "sending" for longer than this was left by a sender that crashed: it is claimed again.
SENDING_LEASE = timedelta(minutes=15)
ID_BATCH = 500  # rows or members read at a time: memory stays bounded however many there are

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
    last_error: str = ""  # why the last failed attempt failed, as the mail server said
    abandoned: int = 0  # rows left "sending" by a sender that stopped (lease run out)
    waiting: int = 0  # after the run: rows still to send (pending, or sending now elsewhere)
    next_attempt_at: datetime | None = None  # after the run: when the first waiting row is due


def mail_domain() -> str:
    sender = parseaddr(current_app.config["FORUM_MAIL_SENDER"])[1]
    return sender.rpartition("@")[2] or "localhost"


def message_id_for(kind: str, user_id: int, key: str | int) -> str:
    """The Message-ID of one member's email for one period (or batch): the same every time it is
    built, so that a resend after a crash is recognisably the same message, not a second one."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    mac = hmac.new(secret, f"{kind}:{user_id}:{key}".encode(), hashlib.sha256).hexdigest()[:16]
    return f"<{kind}.{user_id}.{key}.{mac}@{mail_domain()}>"


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


def take_for_sending(ledger: Ledger, row_id: int, now: datetime) -> Row | None:
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
    report.abandoned = _count_abandoned(ledger, now)
    give_up_abandoned(ledger, now)
    _deliver(ledger, compose, now=now, report=report, limit=limit)
    _count_waiting(ledger, report)
    return report


def _deliver(
    ledger: Ledger,
    compose: Callable[[Row], EmailMessage | None],
    *,
    now: datetime,
    report: Report,
    limit: int | None,
) -> None:
    attempted = 0
    for ids in due_row_ids(ledger, now):
        for row_id in ids:
            if limit is not None and attempted >= limit:
                return
            row = take_for_sending(ledger, row_id, now)
            if row is None:
                continue  # another sender has it, or has sent it
            attempted += 1
            try:
                message = compose(row)
            except Exception as error:  # one member's bad data must not stop everyone's email
                db.session.rollback()
                current_app.logger.exception("could not compose %s %s", ledger.__name__, row_id)
                report.last_error = repr(error)
                _count(report, mark_unsent(ledger, row_id, now, error=repr(error)))
                continue
            if message is None:
                mark_sent(ledger, row_id, now, empty=True)
                report.skipped_empty += 1
                continue
            try:
                mail.send_message(message)
            except mail.MailError as error:
                report.last_error = str(error)
                _count(report, mark_unsent(ledger, row_id, now, error=str(error)))
                if is_server_unreachable(error):
                    report.server_unreachable = True
                    report.pending += _count_due(ledger, now)
                    return
                continue
            mark_sent(ledger, row_id, now)
            report.sent += 1


def _count(report: Report, status: DeliveryStatus) -> None:
    if status == DeliveryStatus.FAILED:
        report.failed += 1
    else:
        report.pending += 1


def _count_abandoned(ledger: Ledger, now: datetime) -> int:
    return (
        db.session.scalar(
            select(func.count()).where(
                ledger.status == DeliveryStatus.SENDING, ledger.next_attempt_at <= now
            )
        )
        or 0
    )


def _count_waiting(ledger: Ledger, report: Report) -> None:
    waiting = ledger.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])
    report.waiting, report.next_attempt_at = db.session.execute(
        select(func.count(), func.min(ledger.next_attempt_at)).where(waiting)
    ).one()


def _count_due(ledger: Ledger, now: datetime) -> int:
    return db.session.scalar(select(func.count()).where(*_claimable(ledger, now))) or 0


def dialect_insert(model):
    """INSERT with ON CONFLICT support on either database."""
    return (pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert)(model)


def claim_once(model, **values) -> int | None:
    """Take a ledger row (reminders, deliveries) before an email goes: the new row's id, or
    None when another run (at once or earlier) has it, by the model's unique constraint.
    Committed at once, so a second sender sees it."""
    claimed = db.session.execute(
        dialect_insert(model)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(model.id)  # rowcount of an ORM insert is not reliable on psycopg
    ).scalar()
    db.session.commit()
    return claimed


def give_back(model, claimed: int) -> None:
    """Undo claim_once for an email that could not be sent, so the next run tries again."""
    db.session.execute(delete(model).where(model.id == claimed))
    db.session.commit()


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
