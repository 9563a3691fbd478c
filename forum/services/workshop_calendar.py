"""Workshops as iCalendar (RFC 5545, the icalendar package): one workshop's .ics file, and a
member's secret, revocable feed of the workshops they registered for (issue 18).

Times go out in the organiser's zone with its VTIMEZONE, so a calendar keeps 09:00 local on
both sides of a daylight-saving change; the stored UTC moment is what they mean."""

from __future__ import annotations

from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import select

from forum import mail
from forum.extensions import db
from forum.markup import plain_summary
from forum.models import User, Workshop, WorkshopRegistration, WorkshopSession
from forum.permissions import can, workshop_link_shown

FEED_WORKSHOPS_MAX = 500  # the newest registrations a feed carries
PRODID = "-//forum//workshops//EN"


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    return calendar


def _host() -> str:
    return urlsplit(mail.external_url("discussions.home")).netloc


def _event(workshop: Workshop, *, with_link: bool) -> Event:
    zone = ZoneInfo(workshop.timezone)
    event = Event()
    event.add("uid", f"workshop-{workshop.id}@{_host()}")
    event.add("summary", workshop.title)
    event.add("dtstart", workshop.starts_at.astimezone(zone))
    event.add("dtend", workshop.ends_at.astimezone(zone))
    event.add("dtstamp", workshop.updated_at)
    url = mail.external_url("workshops.show", workshop_id=workshop.id)
    event.add("url", url)
    place = [workshop.place] if workshop.place else []
    if workshop.online_url and with_link:
        place.append(workshop.online_url)
    if place:
        event.add("location", " · ".join(place))
    description = plain_summary(workshop.description_html, limit=2000)
    event.add("description", f"{description}\n\n{url}".strip())
    event.add("status", "CANCELLED" if workshop.is_cancelled else "CONFIRMED")
    return event


def workshop_ics(viewer: User, workshop: Workshop) -> bytes:
    """One workshop's .ics (its online link only for a reader who may see it)."""
    calendar = _calendar(workshop.title)
    calendar.add_component(
        _event(workshop, with_link=bool(can(viewer, "see_workshop_link", workshop)))
    )
    calendar.add_missing_timezones()
    return calendar.to_ical()


def session_ics(viewer: User, session: WorkshopSession) -> bytes:
    """One session's .ics: its own times and room, within its workshop."""
    workshop = session.workshop
    zone = ZoneInfo(workshop.timezone)
    event = _event(workshop, with_link=bool(can(viewer, "see_workshop_link", workshop)))
    for name in ("uid", "summary", "dtstart", "dtend", "location"):
        event.pop(name, None)
    event.add("uid", f"workshop-{workshop.id}-session-{session.id}@{_host()}")
    event.add("summary", f"{session.title} ({workshop.title})")
    event.add("dtstart", session.starts_at.astimezone(zone))
    event.add("dtend", session.ends_at.astimezone(zone))
    place = ", ".join(p for p in (session.room, workshop.place) if p)
    if place:
        event.add("location", place)
    calendar = _calendar(session.title)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


# --- A member's feed (its address: forum/services/calendar_feeds.py) ----------------------------


def feed_ics(member: User) -> bytes:
    """The workshops the member holds a seat at or waits for, as one calendar."""
    rows = db.session.execute(
        select(Workshop, workshop_link_shown(member).label("with_link"))
        .join(WorkshopRegistration, WorkshopRegistration.workshop_id == Workshop.id)
        .where(WorkshopRegistration.user_id == member.id)
        .order_by(Workshop.starts_at.desc())
        .limit(FEED_WORKSHOPS_MAX)
    ).all()
    calendar = _calendar("Workshops")
    for workshop, with_link in rows:  # one statement, the link rule's SQL twin in it
        calendar.add_component(_event(workshop, with_link=bool(with_link)))
    calendar.add_missing_timezones()
    return calendar.to_ical()
