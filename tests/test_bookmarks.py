"""Bookmarks (issue 17, item 6): members keep posts and topics with a note and a reminder; the
reminder notifies once, in the app and by email as their settings say; bookmarks of what a
member can no longer see are neither listed nor reminded of."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Bookmark, Notification, NotificationKind, Post, Topic
from forum.models.types import utcnow
from forum.permissions import can, readable_bookmarks
from forum.services import bookmarks, moderation, posting
from forum.services.notification_emails import send_notifications
from tests.factories import make_post, make_user
from tests.helpers import field_error


def restrict(topic: Topic) -> None:
    topic.is_restricted, topic.embargo_until = True, utcnow() + timedelta(days=30)
    db.session.commit()


def reminders_of(user) -> list[Notification]:
    return db.session.scalars(
        select(Notification).where(
            Notification.user_id == user.id,
            Notification.kind == NotificationKind.BOOKMARK_REMINDER,
        )
    ).all()


def opening_post(topic: Topic) -> Post:
    return db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.number == 1))


# --- Bookmarking from the topic and the bookmarks page ------------------------------------------


def test_member_bookmarks_a_reply_and_finds_it_on_their_bookmarks_page(
    client, topic, member, other_member
):
    reply = make_post(topic, author=member, body="Refusals break under paraphrase.")
    client.login(other_member)

    response = client.post(f"/p/{reply.id}/bookmark")

    assert response.status_code == 302 and response.location.endswith(f"/p/{reply.id}")
    page = client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(as_text=True)
    assert page.count('aria-pressed="true"') == 1  # only that post shows "Bookmarked"
    assert ">Bookmarked</button>" in page
    listed = client.get("/bookmarks").get_data(as_text=True)
    assert "Refusals break under paraphrase." in listed and topic.title in listed
    assert "1 bookmark" in listed


def test_bookmarking_the_opening_post_bookmarks_the_topic_once(client, topic, other_member):
    client.login(other_member)
    first = opening_post(topic)
    client.post(f"/p/{first.id}/bookmark")
    client.post(f"/p/{first.id}/bookmark")  # a double click keeps one bookmark

    assert db.session.scalar(select(func.count()).select_from(Bookmark)) == 1
    listed = client.get("/bookmarks").get_data(as_text=True)
    assert '<span class="badge">Topic</span>' in listed


def test_pressing_bookmarked_again_removes_the_bookmark(client, topic, other_member):
    client.login(other_member)
    first = opening_post(topic)
    client.post(f"/p/{first.id}/bookmark")
    [bookmark] = db.session.scalars(select(Bookmark)).all()

    response = client.post(f"/bookmarks/{bookmark.id}/remove", data={"next": f"/p/{first.id}"})

    assert response.status_code == 302 and response.location.endswith(f"/p/{first.id}")
    assert db.session.scalar(select(func.count()).select_from(Bookmark)) == 0
    assert "No bookmarks yet" in client.get("/bookmarks").get_data(as_text=True)


def test_a_bookmark_without_the_csrf_token_is_refused(client, topic, other_member):
    client.login(other_member)
    response = client.post(f"/p/{opening_post(topic).id}/bookmark", csrf=False)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Bookmark)) == 0


def test_removing_without_the_csrf_token_is_refused(client, topic, other_member):
    bookmark = bookmarks.bookmark_post(other_member, opening_post(topic))
    client.login(other_member)
    assert client.post(f"/bookmarks/{bookmark.id}/remove", csrf=False).status_code == 400
    assert db.session.get(Bookmark, bookmark.id) is not None


def test_visitors_are_asked_to_log_in(client, topic):
    assert "/login" in client.get("/bookmarks").location
    response = client.post(f"/p/{opening_post(topic).id}/bookmark")
    assert response.status_code == 302 and "/login" in response.location
    assert "Bookmark</button>" not in client.get(f"/t/{topic.id}/{topic.slug}?page=1").text


def test_someone_elses_bookmark_and_odd_ids_are_missing(client, topic, member, other_member):
    theirs = bookmarks.bookmark_post(member, opening_post(topic), note="mine")
    client.login(other_member)

    assert client.get(f"/bookmarks/{theirs.id}/edit").status_code == 404
    assert client.post(f"/bookmarks/{theirs.id}/edit", data={"note": "x"}).status_code == 404
    assert client.post(f"/bookmarks/{theirs.id}/remove").status_code == 404
    for odd in ("99999999999999999999999", "-1", str(2**31), "0"):
        assert client.get(f"/bookmarks/{odd}/edit").status_code == 404, odd
        assert client.post(f"/bookmarks/{odd}/remove").status_code == 404, odd
        assert client.post(f"/p/{odd}/bookmark").status_code == 404, odd
    assert db.session.get(Bookmark, theirs.id).note == "mine"


def test_a_bookmark_of_a_post_one_cannot_see_is_refused_as_missing(
    client, topic, member, other_member
):
    restrict(topic)
    client.login(other_member)
    assert client.post(f"/p/{opening_post(topic).id}/bookmark").status_code == 404


# --- Notes and reminders ----------------------------------------------------------------------


def test_reminder_is_typed_in_the_members_time_zone_and_stored_in_utc(client, topic, member):
    member.timezone = "Asia/Tokyo"
    db.session.commit()
    client.login(member)
    first = opening_post(topic)
    response = client.post(
        f"/p/{first.id}/bookmark",
        data={"note": "Reread before the workshop", "remind_at": "2031-01-10T09:00"},
    )
    assert response.status_code == 302
    [bookmark] = db.session.scalars(select(Bookmark)).all()
    assert bookmark.remind_at == datetime(2031, 1, 10, 0, 0, tzinfo=UTC)  # Tokyo is UTC+9
    assert bookmark.note == "Reread before the workshop"

    form = client.get(f"/bookmarks/{bookmark.id}/edit").get_data(as_text=True)
    assert 'value="2031-01-10T09:00"' in form  # shown back in the member's zone
    listed = client.get("/bookmarks").get_data(as_text=True)
    assert "Reminder:" in listed and "Japan Standard Time" in listed


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("next tuesday", "Give a day and time like 2030-03-01 09:30."),
        ("٢٠٣٠-٠١-٠١T09:00", "Give a day and time like 2030-03-01 09:30."),
        ("2020-01-01T09:00", "Choose a time in the future."),
        ("0001-01-01T00:00", "Choose a time in the future."),
        ("2045-01-01T09:00", "Choose a time within the next ten years."),
        # Five hours west of UTC: in UTC it would be the year 10000, which no date holds.
        ("9999-12-31T23:59", "Give a day and time like 2030-03-01 09:30."),
        ("2031-02-30T09:00", "Give a day and time like 2030-03-01 09:30."),
    ],
)
def test_a_bad_reminder_date_is_explained_at_the_field_and_the_note_kept(
    client, topic, member, typed, message
):
    member.timezone = "America/New_York"
    db.session.commit()
    bookmark = bookmarks.bookmark_post(member, opening_post(topic))
    client.login(member)

    response = client.post(
        f"/bookmarks/{bookmark.id}/edit", data={"note": "keep this note", "remind_at": typed}
    )

    assert response.status_code == 400
    assert field_error(response, "remind_at") == message
    assert "keep this note" in response.get_data(as_text=True)
    assert db.session.get(Bookmark, bookmark.id).remind_at is None


def test_a_huge_note_is_refused_with_a_message(client, topic, member):
    client.login(member)
    response = client.post(
        f"/p/{opening_post(topic).id}/bookmark", data={"note": "n" * 50_000, "remind_at": ""}
    )
    assert response.status_code == 400
    assert field_error(response, "note") == "Keep the note under 500 characters."
    assert db.session.scalar(select(func.count()).select_from(Bookmark)) == 0


def test_reminder_notifies_once_in_the_app_and_by_email(app, mail_server, topic, other_member):
    now = utcnow()
    due = now + timedelta(hours=1)
    bookmarks.bookmark_post(
        other_member, opening_post(topic), note="check the new baseline", remind_at=due, now=now
    )

    before = bookmarks.send_reminders(now=due - timedelta(minutes=1))
    send_notifications(now=due - timedelta(minutes=1))
    assert before.sent == 0 and reminders_of(other_member) == []

    after = bookmarks.send_reminders(now=due + timedelta(minutes=5))
    emailed = send_notifications(now=due + timedelta(minutes=5))
    again = bookmarks.send_reminders(now=due + timedelta(minutes=10))
    emailed_again = send_notifications(now=due + timedelta(minutes=10))

    assert (after.sent, again.sent) == (1, 0)
    [reminder] = reminders_of(other_member)
    assert reminder.post_id == opening_post(topic).id
    assert reminder.message == "check the new baseline"
    assert (emailed.sent, emailed_again.sent) == (1, 0)
    [message] = mail_server.wait_for(1)
    assert message["To"] == other_member.email
    assert message["Subject"] == f"Reminder: your bookmark in “{topic.title}”"
    assert f"/p/{reminder.post_id}" in message.get_body(("plain",)).get_content()


def test_reminder_shows_in_the_notifications_with_the_note(client, topic, other_member):
    now = utcnow()
    bookmarks.bookmark_post(
        other_member,
        opening_post(topic),
        note="my note",
        remind_at=now + timedelta(minutes=1),
        now=now,
    )
    bookmarks.send_reminders(now=now + timedelta(minutes=2))
    client.login(other_member)
    page = client.get("/notifications").get_data(as_text=True)
    assert f"Reminder: your bookmark in “{topic.title}”" in page
    assert "my note" in page


def test_member_without_immediate_emails_gets_the_notification_only(
    app, mail_server, topic, other_member
):
    other_member.email_immediate = False
    db.session.commit()
    now = utcnow()
    due = now + timedelta(minutes=30)
    bookmarks.bookmark_post(other_member, opening_post(topic), remind_at=due, now=now)

    bookmarks.send_reminders(now=due + timedelta(minutes=5))
    report = send_notifications(now=due + timedelta(minutes=5))

    assert len(reminders_of(other_member)) == 1
    assert report.sent == 0 and mail_server.messages == []


def test_changing_the_reminder_time_reminds_again(app, topic, other_member):
    now = utcnow()
    bookmark = bookmarks.bookmark_post(
        other_member, opening_post(topic), remind_at=now + timedelta(minutes=5), now=now
    )
    bookmarks.send_reminders(now=now + timedelta(minutes=10))
    later = now + timedelta(days=1)
    bookmarks.update_bookmark(
        other_member, bookmark, note="", remind_at=later, now=now + timedelta(minutes=11)
    )
    bookmarks.send_reminders(now=later + timedelta(minutes=1))
    assert len(reminders_of(other_member)) == 2


def test_reminder_of_a_post_the_member_can_no_longer_see_is_dropped_silently(
    app, topic, member, other_member
):
    now = utcnow()
    reply = make_post(topic, author=member)
    kept = bookmarks.bookmark_post(
        other_member, reply, remind_at=now + timedelta(minutes=5), now=now
    )
    restrict(topic)

    report = bookmarks.send_reminders(now=now + timedelta(minutes=10))

    assert (report.sent, report.dropped) == (0, 1)
    assert reminders_of(other_member) == []
    assert db.session.get(Bookmark, kept.id).reminded_at is not None  # not tried again


def test_the_notifications_job_notifies_and_emails_due_reminders(
    app, runner, mail_server, topic, other_member
):
    earlier = utcnow() - timedelta(hours=2)
    bookmarks.bookmark_post(
        other_member, opening_post(topic), remind_at=earlier + timedelta(hours=1), now=earlier
    )
    result = runner.invoke(args=["send-notifications"])
    assert result.exit_code == 0, result.output
    assert "1 bookmark reminders notified" in result.output
    assert len(reminders_of(other_member)) == 1
    [message] = mail_server.wait_for(1)
    assert message["Subject"] == f"Reminder: your bookmark in “{topic.title}”"


# --- What the list shows ------------------------------------------------------------------------


def test_bookmarks_of_a_topic_that_becomes_restricted_leave_the_list_and_the_count(
    client, topic, member, other_member
):
    reply = make_post(topic, author=member, body="a reply in the soon restricted topic")
    bookmarks.bookmark_post(other_member, opening_post(topic))
    bookmarks.bookmark_post(other_member, reply)
    client.login(other_member)
    assert "2 bookmarks" in client.get("/bookmarks").get_data(as_text=True)

    restrict(topic)

    listed = client.get("/bookmarks").get_data(as_text=True)
    assert "0 bookmarks" in listed and topic.title not in listed
    assert db.session.scalar(select(func.count()).select_from(Bookmark)) == 2  # kept, unseen


def test_bookmarks_are_listed_newest_first_thirty_a_page(client, topic, member, other_member):
    start = utcnow() - timedelta(days=1)
    for i in range(31):
        post = make_post(topic, author=member, body=f"Reply number {i:02d}")
        bookmarks.bookmark_post(other_member, post, now=start + timedelta(minutes=i))
    client.login(other_member)
    first = client.get("/bookmarks").get_data(as_text=True)
    second = client.get("/bookmarks?page=2").get_data(as_text=True)
    assert first.index("Reply number 30") < first.index("Reply number 29")
    assert "Reply number 00" not in first and "Reply number 00" in second
    assert client.get("/bookmarks?page=99999999999999999999").status_code == 200


def test_suspended_members_keep_and_remove_their_bookmarks(client, topic, moderator, other_member):
    bookmark_id = bookmarks.bookmark_post(other_member, opening_post(topic)).id
    moderation.suspend_member(
        moderator, other_member, until=utcnow() + timedelta(days=3), reason="cool down"
    )
    client.login(other_member)
    assert topic.title in client.get("/bookmarks").get_data(as_text=True)
    assert client.post(f"/bookmarks/{bookmark_id}/remove").status_code == 302
    assert db.session.get(Bookmark, bookmark_id) is None


def test_the_bookmark_rule_and_its_sql_twin_agree(app, topic, member, other_member, moderator):
    """can_view_bookmark and readable_bookmarks say the same of every bookmark, for its owner
    and for others, as its post is restricted, hidden or deleted."""
    replies = [make_post(topic, author=member, body=f"reply {i}") for i in range(3)]
    other_topic = posting.create_topic(
        member, topic.category, title="Another topic", body="Body", kind=topic.kind
    )
    for reader in (member, other_member, moderator):
        for post in [*replies, opening_post(other_topic)]:
            bookmarks.bookmark_post(reader, post)
    moderation.hide_post(moderator, replies[1], reason="off topic")
    posting.delete_post(member, replies[2])
    restrict(other_topic)
    everyone = [member, other_member, moderator, make_user()]
    all_bookmarks = db.session.scalars(select(Bookmark)).all()
    for reader in everyone:
        by_sql = set(
            db.session.scalars(
                select(Bookmark.id)
                .join(Post, Post.id == Bookmark.post_id)
                .join(Topic, Topic.id == Post.topic_id)
                .where(readable_bookmarks(reader))
            )
        )
        by_python = {b.id for b in all_bookmarks if can(reader, "view_bookmark", b)}
        assert by_sql == by_python, reader.display_name
    assert by_sql == set()  # the new member owns none
