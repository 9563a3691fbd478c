"""The day-before workshop reminder (issue 18, item 1) and the reminders preference: seat holders
are reminded once each (a ledger, as for digests), the waitlist and members who turned reminders
off are not; paper deadline reminders follow the same preference; the emails' one-click link
turns reminders off; seat emails follow the at-once preference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import PaperStatus, WorkshopReminder
from forum.models.types import utcnow
from forum.services import paper_deadlines, papers, workshop_reminders, workshops
from forum.services.papers import Deadline, PaperDetails
from forum.services.unsubscribe import read_unsubscribe_token, unsubscribe
from tests.factories import make_session, make_user, make_workshop

remind = workshop_reminders.send_workshop_reminders


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def reminders_sent() -> int:
    return db.session.scalar(select(func.count()).select_from(WorkshopReminder))


def test_seat_holders_are_reminded_once_the_day_before_in_their_zone(
    app, mail_server, moderator, member, other_member
):
    starts = datetime(2031, 6, 3, 7, 0, tzinfo=UTC)  # 09:00 in Berlin (summer time)
    workshop = make_workshop(moderator, title="Alignment audits", starts_at=starts, capacity=1)
    make_session(moderator, workshop)
    member.timezone = "Asia/Tokyo"
    db.session.commit()
    workshops.register(member, workshop)
    workshops.register(other_member, workshop)  # full: the waitlist has no seat to be reminded of

    early = remind(now=starts - timedelta(days=2))
    due = remind(now=starts - timedelta(hours=23))
    again = remind(now=starts - timedelta(hours=22))
    after = remind(now=starts + timedelta(minutes=5))

    assert (early.sent, due.sent, again.sent, after.sent) == (0, 1, 0, 0)
    [message] = mail_server.wait_for(1)
    assert message["To"] == member.email
    assert message["Subject"] == "Tomorrow: Alignment audits"
    body = plain(message)
    assert "starts tomorrow, and you hold a seat" in body
    # 07:00 UTC read in Tokyo
    assert "Tuesday, June 3, 2031, 4:00\u202fPM (Japan Standard Time)" in body
    assert "Room 101, Berlin" in body
    assert "https://meet.example.org/redteam" in body  # a seat holder sees the online link
    assert f"/workshops/{workshop.id}" in body and f"/workshops/{workshop.id}.ics" in body
    assert reminders_sent() == 1


def test_a_workshop_moved_later_is_reminded_of_again_and_a_cancelled_one_never(
    app, mail_server, moderator, member
):
    starts = utcnow() + timedelta(hours=10)
    moved = make_workshop(moderator, title="Moved", starts_at=starts)
    called_off = make_workshop(moderator, title="Called off", starts_at=starts)
    workshops.register(member, moved)
    workshops.register(member, called_off)
    workshops.cancel_workshop(moderator, called_off)

    assert remind().sent == 1
    later = starts + timedelta(days=1)
    draft = workshops.WorkshopDraft(
        title=moved.title, description=moved.description, starts_at=later,
        ends_at=later + timedelta(hours=2), timezone=moved.timezone, capacity=moved.capacity,
        place=moved.place,
    )  # fmt: skip
    workshops.update_workshop(moderator, moved, draft)

    assert remind().sent == 0  # more than a day ahead now
    assert remind(now=later - timedelta(hours=3)).sent == 1
    messages = mail_server.wait_for(2)
    assert [m["Subject"] for m in messages] == ["Tomorrow: Moved", "Tomorrow: Moved"]


def test_members_who_turned_reminders_off_or_are_suspended_get_none(
    app, client, mail_server, moderator, member, other_member
):
    starts = utcnow() + timedelta(hours=5)
    workshop = make_workshop(moderator, starts_at=starts, capacity=3)
    suspended = make_user(display_name="Sam Suspended")
    for who in (member, other_member, suspended):
        workshops.register(who, workshop)
    suspended.suspended_until = utcnow() + timedelta(days=3)
    db.session.commit()
    client.login(other_member)
    response = client.post(
        "/settings/email",
        data={"digest_frequency": "weekly", "digest_hour": "8", "digest_weekday": "0"},
    )  # every box unticked: reminders off
    assert response.status_code == 302
    db.session.refresh(other_member)
    assert other_member.email_reminders is False

    assert remind().sent == 1
    [message] = mail_server.wait_for(1)
    assert message["To"] == member.email


def test_the_reminders_link_turns_off_workshop_and_paper_reminders(
    app, mail_server, moderator, member
):
    starts = utcnow() + timedelta(hours=5)
    workshops.register(member, make_workshop(moderator, starts_at=starts))
    assert remind().sent == 1
    [message] = mail_server.wait_for(1)
    url = message["List-Unsubscribe"].split(",")[0].strip("<> ")
    token = url.rsplit("/", 1)[1]
    assert read_unsubscribe_token(token) == (member.id, "reminders")
    assert url in plain(message)

    assert unsubscribe(token) == member
    assert member.email_reminders is False and member.email_immediate is True
    assert member.digest_frequency == "weekly"

    # Paper deadlines follow the same choice.
    deadline = datetime.now(UTC) + timedelta(hours=6)
    papers.create_paper(
        member,
        PaperDetails(
            title="Quiet paper",
            status=PaperStatus.DRAFTING,
            full_deadline=Deadline(deadline.replace(tzinfo=None, microsecond=0), "UTC"),
        ),
    )
    assert paper_deadlines.send_deadline_reminders().sent == 0
    assert remind(now=starts - timedelta(hours=1)).sent == 0
    assert len(mail_server.messages) == 1


def test_the_remind_command_runs_twice_and_sends_once(app, runner, mail_server, moderator, member):
    workshops.register(member, make_workshop(moderator, starts_at=utcnow() + timedelta(hours=2)))
    first = runner.invoke(args=["workshops", "remind"])
    second = runner.invoke(args=["workshops", "remind"])
    assert "1 workshop reminders sent, 0 to try again." in first.output
    assert "0 workshop reminders sent, 0 to try again." in second.output
    mail_server.wait_for(1)


def test_a_reminder_the_mail_server_refused_is_sent_on_the_next_run(
    app, mail_server, moderator, member
):
    workshops.register(member, make_workshop(moderator, starts_at=utcnow() + timedelta(hours=2)))
    port = app.config["FORUM_MAIL_PORT"]
    app.config["FORUM_MAIL_PORT"] = 9  # nothing listens there
    down = remind()
    app.config["FORUM_MAIL_PORT"] = port
    assert (down.sent, down.failed) == (0, 1) and reminders_sent() == 0
    assert remind().sent == 1
    mail_server.wait_for(1)


def test_a_seat_from_the_waitlist_is_emailed_only_to_those_keeping_emails_at_once(
    app, mail_server, moderator, member, other_member
):
    workshop = make_workshop(moderator, capacity=1)
    first, quiet = make_user(display_name="First"), make_user(display_name="Quiet")
    quiet.email_immediate = False
    db.session.commit()
    workshops.register(first, workshop)
    workshops.register(quiet, workshop)
    workshops.register(member, workshop)

    workshops.cancel_registration(first, workshop)  # the seat goes to Quiet: told in the app only
    workshops.cancel_registration(quiet, workshop)  # then to Maya, who keeps emails at once on

    [message] = mail_server.wait_for(1)
    assert message["To"] == member.email
    assert read_unsubscribe_token(
        message["List-Unsubscribe"].split(",")[0].strip("<> ").rsplit("/", 1)[1]
    ) == (member.id, "immediate")
