"""A workshop's sessions (issue 18): organisers add them with time, room, chairs and the agenda
items and topics they take up; readers see only the items and topics they may see; each session
has an .ics file with its own times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from sqlalchemy import select

from forum.extensions import db
from forum.models import WorkshopSession
from forum.models.types import utcnow
from tests.factories import make_agenda_item, make_topic, make_workshop
from tests.helpers import field_error


def _berlin(day: datetime) -> str:
    return day.strftime("%Y-%m-%dT%H:%M")


def test_organiser_adds_a_session_that_the_workshop_page_and_its_ics_show(
    client, moderator, member, safety
):
    workshop = make_workshop(
        moderator, starts_at=datetime(2030, 4, 2, 7, 0, tzinfo=UTC)
    )  # 09:00 in Berlin
    item = make_agenda_item(member, title="Do refusals survive paraphrase?")
    topic = make_topic(safety, author=member, title="Paraphrase attacks")
    client.login(moderator)

    response = client.post(
        f"/workshops/{workshop.id}/sessions",
        data={
            "title": "Morning: attacks",
            "starts_at": "2030-04-02T10:00",  # typed in the workshop's zone (Berlin, CEST)
            "ends_at": "2030-04-02T11:30",
            "room": "Hall B",
            "chairs": f"@{member.handle}",
            "agenda_items": f"/agenda/{item.id}",
            "topics": f"https://forum.example/t/{topic.id}/{topic.slug}",
        },
    )

    assert response.status_code == 302
    session = db.session.scalar(select(WorkshopSession))
    assert session.starts_at == datetime(2030, 4, 2, 8, 0, tzinfo=UTC)
    client.logout()
    page = client.get(f"/workshops/{workshop.id}").get_data(as_text=True)
    assert "Morning: attacks" in page and "Hall B" in page and "Maya Member" in page
    assert "Do refusals survive paraphrase?" in page and "Paraphrase attacks" in page
    ics = client.get(f"/workshops/{workshop.id}/sessions/{session.id}.ics")
    (event,) = Calendar.from_ical(ics.data).walk("VEVENT")
    assert event.decoded("dtstart").astimezone(UTC) == datetime(2030, 4, 2, 8, 0, tzinfo=UTC)
    assert "Hall B" in str(event["location"])


def test_a_session_outside_the_workshop_or_with_an_unknown_chair_is_refused_at_its_field(
    client, moderator
):
    workshop = make_workshop(moderator, starts_at=datetime(2030, 4, 2, 7, 0, tzinfo=UTC))
    client.login(moderator)
    data = {"title": "Kept", "starts_at": "2030-04-03T10:00", "ends_at": "2030-04-03T11:00"}
    outside = client.post(f"/workshops/{workshop.id}/sessions", data=data)
    assert outside.status_code == 400
    assert "within the workshop" in field_error(outside, "starts_at")
    data |= {"starts_at": "2030-04-02T10:00", "ends_at": "2030-04-02T11:00", "chairs": "@nobody"}
    unknown = client.post(f"/workshops/{workshop.id}/sessions", data=data)
    assert "@nobody" in field_error(unknown, "chairs")
    assert 'value="Kept"' in unknown.get_data(as_text=True)
    assert db.session.scalar(select(WorkshopSession)) is None


def test_a_restricted_topic_taken_up_by_a_session_is_not_shown_to_a_visitor(
    client, moderator, safety
):
    workshop = make_workshop(moderator, starts_at=utcnow() + timedelta(days=5))
    hidden = make_topic(safety, author=moderator, title="Working jailbreak details")
    hidden.is_restricted, hidden.embargo_until = True, utcnow() + timedelta(days=30)
    db.session.commit()
    client.login(moderator)
    start = workshop.starts_at.astimezone(workshop_zone(workshop)) + timedelta(hours=1)
    response = client.post(
        f"/workshops/{workshop.id}/sessions",
        data={
            "title": "Embargoed findings",
            "starts_at": _berlin(start),
            "ends_at": _berlin(start + timedelta(hours=1)),
            "topics": str(hidden.id),
        },
    )
    assert response.status_code == 302
    assert "Working jailbreak details" in client.get(f"/workshops/{workshop.id}").get_data(
        as_text=True
    )
    client.logout()
    page = client.get(f"/workshops/{workshop.id}").get_data(as_text=True)
    assert "Embargoed findings" in page and "Working jailbreak details" not in page


def test_a_member_cannot_add_a_session(client, moderator, member):
    workshop = make_workshop(moderator)
    client.login(member)
    response = client.post(f"/workshops/{workshop.id}/sessions", data={"title": "x"})
    assert response.status_code == 403


def workshop_zone(workshop):
    from zoneinfo import ZoneInfo

    return ZoneInfo(workshop.timezone)
