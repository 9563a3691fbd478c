"""Workshops (issue 18, item 1): moderators create them; members register, past capacity join a
waitlist in order and move up when someone cancels (told in the app and by email); two members
taking the last seat at once on PostgreSQL get one seat and one first place on the waitlist; the
.ics files parse with the right UTC times across a daylight-saving change."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import select

from forum.extensions import db
from forum.models import (
    AuditEntry,
    FeedKind,
    Notification,
    NotificationKind,
    RegistrationStatus,
    User,
    Workshop,
    WorkshopRegistration,
)
from forum.models.types import utcnow
from forum.services import calendar_feeds, workshops
from forum.services.workshops import Registered, WorkshopDraft
from tests.factories import make_user, make_workshop
from tests.helpers import field_error

BERLIN = ZoneInfo("Europe/Berlin")


def places(workshop) -> list[tuple[str, str]]:
    rows = db.session.scalars(
        select(WorkshopRegistration)
        .where(WorkshopRegistration.workshop_id == workshop.id)
        .order_by(WorkshopRegistration.id)
    ).all()
    return [(r.user.display_name, r.status.value) for r in rows]


def seat_notifications(user) -> list[Notification]:
    return db.session.scalars(
        select(Notification).where(
            Notification.user_id == user.id, Notification.kind == NotificationKind.WORKSHOP_SEAT
        )
    ).all()


# --- Creating and reading --------------------------------------------------------------------


def test_moderator_creates_a_workshop_that_members_see_in_their_time_zone(
    client, moderator, member
):
    client.login(moderator)
    response = client.post(
        "/workshops/new",
        data={
            "title": "Privacy attacks on LLMs",
            "description": "Membership *inference*.",
            "starts_at": "2030-04-02T09:00",
            "ends_at": "2030-04-02T17:00",
            "timezone": "Europe/Berlin",
            "place": "Berlin",
            "capacity": "30",
        },
    )
    assert response.status_code == 302
    workshop = db.session.scalar(select(Workshop))
    assert workshop.starts_at == datetime(2030, 4, 2, 7, 0, tzinfo=UTC)  # CEST: UTC+2
    assert db.session.scalar(select(AuditEntry.action)) == "workshop.create"
    member.timezone = "America/New_York"
    db.session.commit()
    client.logout()
    client.login(member)
    page = client.get(f"/workshops/{workshop.id}").get_data(as_text=True)
    assert "<em>inference</em>" in page
    assert "3:00:00\u202fAM Eastern Daylight Time" in page  # 07:00 UTC is 03:00 in New York
    assert "Privacy attacks on LLMs" in client.get("/workshops").get_data(as_text=True)


def test_a_member_cannot_create_a_workshop(client, member):
    client.login(member)
    assert client.get("/workshops/new").status_code == 403


def test_an_end_before_the_start_is_refused_at_the_field_keeping_what_was_typed(client, moderator):
    client.login(moderator)
    response = client.post(
        "/workshops/new",
        data={
            "title": "Kept title",
            "starts_at": "2030-03-30T09:00",
            "ends_at": "2030-03-30T08:00",
            "timezone": "UTC",
            "place": "Cairo",
            "capacity": "99999999999999999999",
        },
    )
    assert response.status_code == 400
    assert "Kept title" in response.get_data(as_text=True)
    assert "too large" in field_error(response, "capacity")
    assert db.session.scalar(select(Workshop)) is None


def test_a_missing_workshop_and_a_huge_id_are_404(client):
    assert client.get("/workshops/999").status_code == 404
    assert client.get("/workshops/99999999999999999999999").status_code == 404


def test_past_workshops_are_listed_apart_from_upcoming_ones(client, moderator):
    make_workshop(moderator, title="Next month")
    make_workshop(moderator, title="Last year", starts_at=utcnow() - timedelta(days=365))
    upcoming = client.get("/workshops").get_data(as_text=True)
    past = client.get("/workshops?when=past").get_data(as_text=True)
    assert "Next month" in upcoming and "Last year" not in upcoming
    assert "Last year" in past and "Next month" not in past


# --- Registering and the waitlist ------------------------------------------------------------


def test_past_capacity_members_join_the_waitlist_in_order_and_move_up_on_cancellation(
    app, moderator, mail_server
):
    workshop = make_workshop(moderator, capacity=1)
    first, second, third = (make_user(display_name=n) for n in ("Ana", "Ben", "Chen"))
    assert workshops.register(first, workshop) is Registered.SEAT
    assert workshops.register(second, workshop) is Registered.WAITLIST
    assert workshops.register(third, workshop) is Registered.WAITLIST

    promoted = workshops.cancel_registration(first, workshop)

    assert promoted.user_id == second.id
    assert places(workshop) == [("Ben", "registered"), ("Chen", "waitlisted")]
    assert len(seat_notifications(second)) == 1 and seat_notifications(third) == []
    (message,) = mail_server.wait_for(1)
    assert message["To"] == second.email
    assert "Red-teaming open models" in str(message["Subject"])
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions == ["workshop.create", "workshop.promote"]
    log = app.test_client().get("/moderation/log").get_data(as_text=True)
    assert "The forum gave a freed workshop seat to the first member on its waitlist." in log
    assert "Ben" not in log  # who moved up stays private


def test_leaving_the_waitlist_promotes_nobody(app, moderator, mail_server):
    workshop = make_workshop(moderator, capacity=1)
    first, second = make_user(), make_user()
    workshops.register(first, workshop)
    workshops.register(second, workshop)
    assert workshops.cancel_registration(second, workshop) is None
    assert mail_server.messages == []


def test_raising_the_capacity_moves_the_waitlist_up(app, moderator, mail_server):
    workshop = make_workshop(moderator, capacity=1)
    first, second = make_user(), make_user()
    workshops.register(first, workshop)
    workshops.register(second, workshop)
    draft = WorkshopDraft(
        title=workshop.title,
        description=workshop.description,
        starts_at=workshop.starts_at,
        ends_at=workshop.ends_at,
        timezone=workshop.timezone,
        capacity=2,
        place=workshop.place,
    )
    assert len(workshops.update_workshop(moderator, workshop, draft)) == 1
    assert [status for _name, status in places(workshop)] == ["registered", "registered"]


def test_no_registration_after_registration_closes_or_for_a_cancelled_workshop(
    client, moderator, member
):
    closed = make_workshop(moderator, registration_closes_at=utcnow() - timedelta(minutes=1))
    client.login(member)
    response = client.post(f"/workshops/{closed.id}/register")
    assert response.status_code == 403
    assert "Registration for this workshop has closed." in response.get_data(as_text=True)
    cancelled = make_workshop(moderator)
    workshops.cancel_workshop(moderator, cancelled)
    assert client.post(f"/workshops/{cancelled.id}/register").status_code == 403
    assert db.session.scalar(select(WorkshopRegistration)) is None


def test_member_registers_through_the_page_and_then_sees_the_online_link(
    client, moderator, member, other_member
):
    workshop = make_workshop(moderator, capacity=1)
    client.login(member)
    before = client.get(f"/workshops/{workshop.id}").get_data(as_text=True)
    assert "meet.example.org" not in before
    assert client.post(f"/workshops/{workshop.id}/register").status_code == 302
    after = client.get(f"/workshops/{workshop.id}").get_data(as_text=True)
    assert "https://meet.example.org/redteam" in after and "a seat is yours" in after
    client.logout()
    client.login(other_member)
    client.post(f"/workshops/{workshop.id}/register")
    page = client.get(f"/workshops/{workshop.id}").get_data(as_text=True)
    assert "You are number 1 on the waitlist." in page
    assert "meet.example.org" not in page  # the waitlist does not get the link


def test_participants_are_listed_to_others_only_when_they_chose_it(
    client, moderator, member, other_member
):
    workshop = make_workshop(moderator, capacity=5)
    workshops.register(member, workshop, listed=True)
    workshops.register(other_member, workshop, listed=False)
    visitor_page = client.get(f"/workshops/{workshop.id}").get_data(as_text=True)
    assert "Maya Member" in visitor_page and "Omar Other" not in visitor_page
    client.login(moderator)
    organiser_page = client.get(f"/workshops/{workshop.id}").get_data(as_text=True)
    assert "Maya Member" in organiser_page and "Omar Other" in organiser_page


def test_the_seat_notification_opens_the_workshop(client, moderator, member, other_member):
    workshop = make_workshop(moderator, capacity=1)
    workshops.register(other_member, workshop)
    workshops.register(member, workshop)
    workshops.cancel_registration(other_member, workshop)
    client.login(member)
    listed = client.get("/notifications").get_data(as_text=True)
    assert "A seat opened for you at “Red-teaming open models”" in listed
    (note,) = seat_notifications(member)
    response = client.get(f"/notifications/{note.id}")
    assert response.location.endswith(f"/workshops/{workshop.id}")


def test_two_members_taking_the_last_seat_at_once_get_one_seat_and_one_waitlist_place(
    app, backend, moderator
):
    workshop = make_workshop(moderator, capacity=1)
    racers = [make_user().id for _ in range(2)]
    workshop_id = workshop.id
    start = threading.Barrier(2, timeout=30)
    outcomes, errors = {}, []

    def take_seat(user_id: int) -> None:
        with app.app_context():
            try:
                start.wait()
                user = db.session.get(User, user_id)
                outcomes[user_id] = workshops.register(user, workshops.get_workshop(workshop_id))
            except Exception as error:  # collected and reported below
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=take_seat, args=(uid,)) for uid in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(outcomes.values()) == [Registered.SEAT, Registered.WAITLIST]
    rows = db.session.scalars(
        select(WorkshopRegistration).where(WorkshopRegistration.workshop_id == workshop_id)
    ).all()
    assert sorted(r.status for r in rows) == [
        RegistrationStatus.REGISTERED,
        RegistrationStatus.WAITLISTED,
    ]


# --- Calendars -------------------------------------------------------------------------------


def _events(body: bytes):
    return [c for c in Calendar.from_ical(body).walk("VEVENT")]


def test_the_ics_file_keeps_the_right_utc_times_across_a_daylight_saving_change(client, moderator):
    # Berlin leaves CET (UTC+1) for CEST (UTC+2) at 02:00 on 2030-03-31.
    before = make_workshop(
        moderator,
        title="Before",
        starts_at=datetime(2030, 3, 30, 9, 0, tzinfo=BERLIN).astimezone(UTC),
    )
    after = make_workshop(
        moderator,
        title="After",
        starts_at=datetime(2030, 4, 1, 9, 0, tzinfo=BERLIN).astimezone(UTC),
    )
    for workshop, utc_hour in ((before, 8), (after, 7)):
        response = client.get(f"/workshops/{workshop.id}.ics")
        assert response.mimetype == "text/calendar"
        calendar = Calendar.from_ical(response.data)
        assert calendar.walk("VTIMEZONE")  # the zone travels with the times
        (event,) = calendar.walk("VEVENT")
        start = event.decoded("dtstart")
        assert start.astimezone(UTC) == workshop.starts_at
        assert start.astimezone(UTC).hour == utc_hour
        assert start.hour == 9  # 09:00 local on both sides of the change
        assert "meet.example.org" not in str(event.get("location"))  # a visitor


def test_a_members_feed_lists_their_registrations_until_revoked(client, moderator, member):
    mine = make_workshop(moderator, title="Mine")
    make_workshop(moderator, title="Not mine")
    workshops.register(member, mine)
    token = calendar_feeds.renew_feed(member, FeedKind.WORKSHOPS)

    events = _events(client.get(f"/workshops/feed/{token}.ics").data)

    assert [str(e["summary"]) for e in events] == ["Mine"]
    assert "https://meet.example.org/redteam" in str(events[0]["location"])
    calendar_feeds.revoke_feed(member, FeedKind.WORKSHOPS)
    assert client.get(f"/workshops/feed/{token}.ics").status_code == 404


def test_member_makes_a_feed_address_on_the_calendar_page(client, member):
    client.login(member)
    page = client.post("/workshops/calendar", data={"action": "renew"}).get_data(as_text=True)
    assert "/workshops/feed/" in page
    assert client.post("/workshops/calendar", csrf=False).status_code == 400


def test_the_participant_list_query_agrees_with_the_rule_for_one_registration(
    app, moderator, member, other_member
):
    from flask_login import AnonymousUserMixin

    from forum.permissions import can, listed_participants

    workshop = make_workshop(moderator, capacity=1)
    workshops.register(member, workshop, listed=False)
    workshops.register(other_member, workshop, listed=True)
    outsider = make_user()
    for viewer in (AnonymousUserMixin(), member, other_member, outsider, moderator):
        listed = set(
            db.session.scalars(
                select(WorkshopRegistration.id).where(
                    WorkshopRegistration.workshop_id == workshop.id,
                    listed_participants(viewer, workshop),
                )
            )
        )
        allowed = {
            r.id
            for r in db.session.scalars(select(WorkshopRegistration))
            if can(viewer, "see_participant", r)
        }
        assert listed == allowed, viewer
    assert len(allowed) == 2  # the moderator sees both


def test_the_online_link_query_agrees_with_the_rule_for_every_reader(app, moderator, member):
    from flask_login import AnonymousUserMixin

    from forum.models import Role, UserState
    from forum.permissions import can, workshop_link_shown

    organiser = make_user()
    suspended_moderator = make_user(role=Role.MODERATOR)
    seated, waiting, outsider = make_user(), make_user(), make_user()
    closed = make_workshop(moderator, capacity=1, title="Participants only")
    closed.organiser_id = organiser.id
    open_link = make_workshop(moderator, title="Open link", link_for_participants_only=False)
    for workshop in (closed, open_link):
        workshops.register(seated, workshop)
    workshops.register(waiting, closed)
    suspended_moderator.state = UserState.SUSPENDED
    db.session.commit()
    readers = (AnonymousUserMixin(), seated, waiting, outsider, organiser, moderator)
    for viewer in (*readers, suspended_moderator):
        shown = set(db.session.scalars(select(Workshop.id).where(workshop_link_shown(viewer))))
        allowed = {
            w.id
            for w in db.session.scalars(select(Workshop))
            if can(viewer, "see_workshop_link", w)
        }
        assert shown == allowed, viewer
    organiser.state = UserState.SUSPENDED  # a suspended organiser is a reader like any other
    db.session.commit()
    assert set(db.session.scalars(select(Workshop.id).where(workshop_link_shown(organiser)))) == {
        open_link.id
    }
    assert not can(organiser, "see_workshop_link", closed)
    assert not can(waiting, "see_workshop_link", closed)


# --- Organisers an admin appoints ------------------------------------------------------------


def test_a_member_an_admin_lets_organise_creates_and_edits_their_workshop_until_dismissed(
    client, admin, member, other_member, moderator
):
    client.login(admin)
    response = client.post("/workshops/organisers", data={"handle": f"@{member.handle}"})
    assert response.status_code == 302
    client.logout()
    client.login(member)
    assert client.get("/workshops/new").status_code == 200
    mine = make_workshop(member, title="Member-run workshop")
    assert client.get(f"/workshops/{mine.id}/edit").status_code == 200
    theirs = make_workshop(moderator)
    assert client.get(f"/workshops/{theirs.id}/edit").status_code == 403
    client.logout()
    client.login(admin)
    client.post(f"/workshops/organisers/{member.id}/remove")
    client.logout()
    client.login(member)
    assert client.get("/workshops/new").status_code == 403


def test_appointing_an_unknown_handle_is_refused_at_the_field(client, admin):
    client.login(admin)
    response = client.post("/workshops/organisers", data={"handle": "@nobody\x00" + "x" * 50})
    assert response.status_code == 400
    client.get("/workshops/organisers")
    unknown = client.post("/workshops/organisers", data={"handle": "@nobody"})
    assert "No member has this handle." in field_error(unknown, "handle")


def test_only_admins_choose_organisers(client, moderator):
    client.login(moderator)
    assert client.get("/workshops/organisers").status_code == 403
