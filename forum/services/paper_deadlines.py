"""Papers' deadlines (issue 18, item 3): the upcoming ones a member may see, as a page and an
iCalendar feed, and the reminders a week and a day before, to co-authors only.

Reminders are sent once each: a PaperReminder row per paper, deadline, offset, co-author (and
deadline moment, so a deadline moved later is reminded of again) is claimed with
INSERT ... ON CONFLICT DO NOTHING before the email goes, as DigestDelivery rows are for digests,
so two runs at once, or one after the other, send each reminder once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import force_locale, gettext
from icalendar import Calendar, Event
from sqlalchemy import literal, select, true, union_all

from forum.extensions import db
from forum.mail import MailError, external_url, send_email
from forum.models import AuthorState, DeadlineKind, Paper, PaperReminder, User
from forum.models.types import utcnow
from forum.permissions import readable_papers
from forum.services.outbox import claim_once, give_back, is_reachable
from forum.services.papers import zone_named
from forum.services.unsubscribe import unsubscribe_headers, unsubscribe_url

DEADLINES_SHOWN = 100
# Reminder offsets, farthest first: each is sent while the deadline is nearer than it and
# farther than the next one (a deadline typed in three days ahead gets only the day's reminder
# when its day comes, not a late "a week to go").
REMINDER_OFFSETS = (timedelta(days=7), timedelta(days=1))
PAPERS_PER_REMINDER_RUN = 500


@dataclass(frozen=True)
class UpcomingDeadline:
    paper: Paper
    kind: DeadlineKind
    at: datetime
    zone: str


def _deadline_rows(scope, *, since: datetime, until: datetime | None = None):
    """(paper id, kind, moment) of every deadline in [since, until) of papers in ``scope``."""
    parts = []
    for kind, column in (
        (DeadlineKind.ABSTRACT, Paper.abstract_deadline),
        (DeadlineKind.FULL, Paper.full_deadline),
    ):
        condition = [scope, column >= since]
        if until is not None:
            condition.append(column < until)
        parts.append(
            select(Paper.id.label("paper_id"), column.label("at"))
            .add_columns(literal(kind.value).label("kind"))
            .where(*condition)
        )
    return union_all(*parts).subquery()


def upcoming_deadlines(viewer: User, *, now: datetime | None = None) -> list[UpcomingDeadline]:
    """The next DEADLINES_SHOWN deadlines of papers ``viewer`` may see, soonest first."""
    now = now or utcnow()
    rows = _deadline_rows(readable_papers(viewer), since=now)
    picked = db.session.execute(
        select(rows.c.paper_id, rows.c.kind)
        .order_by(rows.c.at, rows.c.paper_id, rows.c.kind)
        .limit(DEADLINES_SHOWN)
    ).all()
    papers = {
        paper.id: paper
        for paper in db.session.scalars(
            select(Paper).where(Paper.id.in_({row.paper_id for row in picked}))
        )
    }
    found = []
    for row in picked:
        paper, kind = papers[row.paper_id], DeadlineKind(row.kind)
        at, zone = paper.deadline(kind)
        found.append(UpcomingDeadline(paper, kind, at, zone))
    return found


def deadlines_calendar(viewer: User, *, now: datetime | None = None) -> bytes:
    """The upcoming deadlines as an iCalendar file (RFC 5545), times in UTC."""
    calendar = Calendar()
    calendar.add("prodid", "-//forum//papers deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Paper deadlines")
    stamp = now or utcnow()
    host = current_app.config.get("SERVER_NAME") or "forum"
    for deadline in upcoming_deadlines(viewer, now=now):
        event = Event()
        event.add("uid", f"paper-{deadline.paper.id}-{deadline.kind.value}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", deadline.at)
        event.add("dtend", deadline.at)
        label = "Abstract deadline" if deadline.kind == DeadlineKind.ABSTRACT else "Paper deadline"
        venue = f" ({deadline.paper.venue})" if deadline.paper.venue else ""
        event.add("summary", f"{label}: {deadline.paper.title}{venue}")
        event.add("url", external_url("papers.paper", paper_id=deadline.paper.id))
        if deadline.zone:
            event.add("description", f"Stated in {deadline.zone}.")
        calendar.add_component(event)
    return calendar.to_ical()


# --- Reminders ----------------------------------------------------------------------------------


@dataclass
class ReminderReport:
    sent: int = 0
    failed: int = 0  # the mail server refused or was down: tried again on the next run


def _due(now: datetime):
    """(paper id, kind, deadline, offset) of each reminder whose window holds ``now``."""
    for index, offset in enumerate(REMINDER_OFFSETS):
        nearer = REMINDER_OFFSETS[index + 1] if index + 1 < len(REMINDER_OFFSETS) else timedelta()
        rows = _deadline_rows(true(), since=now + nearer, until=now + offset)
        for row in db.session.execute(
            select(rows.c.paper_id, rows.c.kind, rows.c.at).limit(PAPERS_PER_REMINDER_RUN)
        ):
            yield row.paper_id, DeadlineKind(row.kind), row.at, offset


def send_deadline_reminders(*, now: datetime | None = None) -> ReminderReport:
    """Email each co-author (members on the byline who keep reminders on and get email) a week
    and a day before each deadline, once each; safe to run twice at once."""
    now = now or utcnow()
    report = ReminderReport()
    for paper_id, kind, at, offset in list(_due(now)):
        paper = db.session.get(Paper, paper_id)
        coauthors = [
            author.user
            for author in paper.authors
            if author.state == AuthorState.AUTHOR and author.user is not None
        ]
        for member in coauthors:
            wanted = member.email_reminders and is_reachable(member, now)
            claimed = wanted and _claim(paper, kind, at, offset, member, now)
            if not claimed:
                continue
            try:
                _send(member, paper, kind, at, offset)
            except MailError:
                give_back(PaperReminder, claimed)  # not sent: the next run (cron) tries again
                report.failed += 1
                continue
            report.sent += 1
    return report


def _send(member: User, paper: Paper, kind: DeadlineKind, at: datetime, offset) -> None:
    send_email(
        to=member.email,
        subject=_subject(member, paper, kind),
        template="paper_deadline",
        locale=member.locale,
        headers=unsubscribe_headers(member, "reminders"),
        unsubscribe_url=unsubscribe_url(member, "reminders"),
        member=member,
        paper=paper,
        kind=kind.value,
        when=stated_time(at, paper.deadline(kind)[1]),
        days=offset.days,
        paper_url=external_url("papers.paper", paper_id=paper.id),
    )


def stated_time(at: datetime, zone: str) -> str:
    """A deadline as the call for papers states it, and in UTC: "2027-01-10 23:59 AoE (UTC:
    2027-01-11 11:59)"."""
    tzinfo = zone_named(zone) if zone else None
    utc = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    if tzinfo is None:
        return f"{utc} UTC"
    return f"{at.astimezone(tzinfo).strftime('%Y-%m-%d %H:%M')} {zone} (UTC: {utc})"


def _claim(paper: Paper, kind: DeadlineKind, at: datetime, offset, member: User, now) -> int | None:
    """Take this reminder's ledger row (its id); None when another run (or an earlier) has it."""
    return claim_once(
        PaperReminder,
        paper_id=paper.id,
        deadline_kind=kind.value,
        offset_days=offset.days,
        user_id=member.id,
        deadline_at=at,
        sent_at=now,
    )


def _subject(member: User, paper: Paper, kind: DeadlineKind) -> str:
    with force_locale(member.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        if kind == DeadlineKind.ABSTRACT:
            return gettext("Abstract deadline soon: %(title)s", title=paper.title)
        return gettext("Paper deadline soon: %(title)s", title=paper.title)
