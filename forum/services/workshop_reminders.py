"""The day-before reminder of a workshop (issue 18, item 1), to each member holding a seat.

Sent by `flask workshops remind` (cron hourly) to members who keep reminders on
(User.email_reminders) and get email at all; the waitlist is not reminded (they have no seat).
Each reminder is sent once: a WorkshopReminder row per workshop, member and start is claimed
with INSERT ... ON CONFLICT DO NOTHING before the email goes, as DigestDelivery rows are for
digests, so two runs at once, or one after the other, send it once; a workshop moved later is
reminded of again. A mail failure gives the row back, so the next run tries again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.dates import format_date, format_time, get_timezone_name
from flask_babel import force_locale, gettext
from sqlalchemy import select

from forum.extensions import db
from forum.mail import MailError, external_url, send_email
from forum.models import (
    RegistrationStatus,
    User,
    Workshop,
    WorkshopRegistration,
    WorkshopReminder,
    WorkshopSession,
)
from forum.models.types import utcnow
from forum.permissions import can
from forum.services.digests.schedule import zone_of
from forum.services.outbox import claim_once, give_back, member_locale, receives_email
from forum.services.unsubscribe import unsubscribe_headers, unsubscribe_url

AHEAD = timedelta(days=1)  # a workshop starting within this is reminded of
REMINDERS_PER_RUN = 2000


@dataclass
class ReminderReport:
    sent: int = 0
    failed: int = 0  # the mail server refused or was down: tried again on the next run


def _due(now: datetime) -> list[tuple[int, int]]:
    """(workshop id, member id) of each seat at a workshop starting within AHEAD whose holder
    wants reminders and gets email, not reminded yet of this start."""
    reminded = select(WorkshopReminder.id).where(
        WorkshopReminder.workshop_id == Workshop.id,
        WorkshopReminder.user_id == User.id,
        WorkshopReminder.starts_at == Workshop.starts_at,
    )
    return [
        (row.workshop_id, row.user_id)
        for row in db.session.execute(
            select(WorkshopRegistration.workshop_id, WorkshopRegistration.user_id)
            .join(Workshop, Workshop.id == WorkshopRegistration.workshop_id)
            .join(User, User.id == WorkshopRegistration.user_id)
            .where(
                WorkshopRegistration.status == RegistrationStatus.REGISTERED,
                Workshop.cancelled_at.is_(None),
                Workshop.starts_at > now,
                Workshop.starts_at <= now + AHEAD,
                User.email_reminders.is_(True),
                *receives_email(now),
                ~reminded.exists(),
            )
            .order_by(Workshop.starts_at, WorkshopRegistration.id)
            .limit(REMINDERS_PER_RUN)
        )
    ]


def send_workshop_reminders(*, now: datetime | None = None) -> ReminderReport:
    """Email each seat holder the day before their workshop starts, once; safe to run twice."""
    now = now or utcnow()
    report = ReminderReport()
    for workshop_id, user_id in _due(now):
        workshop, member = db.session.get(Workshop, workshop_id), db.session.get(User, user_id)
        claimed = claim_once(
            WorkshopReminder,
            workshop_id=workshop.id,
            user_id=member.id,
            starts_at=workshop.starts_at,
            sent_at=now,
        )
        if claimed is None:
            continue
        try:
            _send(member, workshop)
        except MailError:
            give_back(WorkshopReminder, claimed)
            report.failed += 1
            continue
        report.sent += 1
    return report


def _send(member: User, workshop: Workshop) -> None:
    locale = member_locale(member)
    zone = zone_of(member.timezone)

    def when(value: datetime) -> str:  # "Tuesday, June 3, 2031, 4:00 PM (Japan Standard Time)"
        local = value.astimezone(zone)
        return "{}, {} ({})".format(
            format_date(local, "full", locale=locale),
            format_time(local, "short", locale=locale),
            get_timezone_name(local, "long", locale=locale),
        )

    with force_locale(locale):
        subject = gettext("Tomorrow: %(title)s", title=workshop.title)
    sessions = sorted(
        db.session.scalars(
            select(WorkshopSession).where(WorkshopSession.workshop_id == workshop.id)
        ),
        key=lambda s: (s.starts_at, s.id),
    )
    send_email(
        to=member.email,
        subject=subject,
        template="workshop_reminder",
        locale=locale,
        headers=unsubscribe_headers(member, "reminders"),
        name=member.display_name,
        workshop=workshop,
        starts=when(workshop.starts_at),
        ends=when(workshop.ends_at),
        online_url=workshop.online_url
        if workshop.online_url and can(member, "see_workshop_link", workshop)
        else "",
        sessions=[
            {"title": s.title, "starts": when(s.starts_at), "room": s.room} for s in sessions
        ],
        workshop_url=external_url("workshops.show", workshop_id=workshop.id),
        ics_url=external_url("workshops.ics", workshop_id=workshop.id),
        unsubscribe_url=unsubscribe_url(member, "reminders"),
    )
