"""Responsible disclosure: topics restricted until an embargo date, and private reports."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import (
    AuditEntry,
    Notification,
    NotificationKind,
    Role,
    Subscription,
    Topic,
    TopicAccess,
    WatchLevel,
)
from forum.models.types import utcnow
from forum.services import audit, disclosure, reading, topic_areas
from tests.factories import make_post, make_topic, make_user

SECRET_TITLE = "Working jailbreak on Model X"
SECRET_BODY = "STEP ONE OF THE ATTACK: ask it to role-play."


def in_days(days: int) -> str:
    """A day as the date field sends it, ``days`` from today."""
    return (date.today() + timedelta(days=days)).isoformat()


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def security(app):
    return topic_areas.get_category("security")


@pytest.fixture
def outsider(app):
    return make_user(display_name="Olu Outsider")


@pytest.fixture
def restricted(member, other_member, security):
    """Maya's topic in Security, restricted for 30 days, with Omar let in."""
    return disclosure.open_restricted_topic(
        member,
        security,
        restricted_until=utcnow() + timedelta(days=30),
        invited=[other_member],
        title=SECRET_TITLE,
        body=SECRET_BODY,
    )


def topic_url(topic: Topic) -> str:
    return f"/t/{topic.id}/{topic.slug}?page=1"


def reload(thing):
    """The row as it is now in the database (after requests that changed it)."""
    db.session.expire_all()
    return db.session.get(type(thing), thing.id)


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def opening_post_id(topic: Topic) -> int:
    return reading.topic_posts(topic).items[0].id


def assert_no_trace(client, topic: Topic) -> None:
    """For a reader who may not see the topic: not there by its address, nor anywhere listed."""
    post_id = opening_post_id(topic)
    for url in (topic_url(topic), f"/t/{topic.id}", f"/p/{post_id}", f"/t/{topic.id}/reply"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/t/{topic.id}/reply", data={"body": "Let me in"}).status_code == 404
    for url in ("/latest", "/c/security", "/", "/notifications", f"/u/{topic.author_id}"):
        page = text(client.get(url))
        assert SECRET_TITLE not in page and "STEP ONE" not in page, url
    similar = client.get("/api/topics/similar", query_string={"title": SECRET_TITLE})
    assert similar.status_code == 200 and json.loads(similar.data) == []


# --- Restricted from its first moment ------------------------------------------------------------


def test_author_opens_a_restricted_topic_and_only_the_invited_member_reads_and_replies(
    client, member, other_member, outsider, moderator, security
):
    member.timezone = "Asia/Riyadh"  # UTC+3: the day typed begins three hours before UTC's
    db.session.commit()
    listed_before = security.topic_count
    client.login(member)
    form = text(client.get("/c/security/new"))
    assert "Restricted until a date: only moderators and the members I invite" in form
    response = client.post(
        "/c/security/new",
        data={
            "title": SECRET_TITLE,
            "kind": "discussion",
            "body": SECRET_BODY,
            "restricted": "y",
            "restricted_until": "2031-05-01",
            "invite": f"@{other_member.handle}",
        },
    )
    assert response.status_code == 302
    topic = db.session.scalar(select(Topic).where(Topic.title == SECRET_TITLE))
    assert topic.is_restricted and not topic.is_listed_to_all
    assert topic.embargo_until == datetime(2031, 4, 30, 21, 0, tzinfo=UTC)
    assert db.session.get(TopicAccess, (topic.id, other_member.id)) is not None
    assert reload(security).topic_count == listed_before  # not counted while restricted
    assert "topic.restrict" in actions()
    page = text(client.get(topic_url(topic)))
    assert "Members let in" in page and other_member.display_name in page
    assert "Extend the embargo" in page and "Lift the embargo now" not in page
    client.logout()

    client.login(other_member)  # the invited member is told, reads and replies
    notes = text(client.get("/notifications"))
    assert f"{member.display_name} let you into the restricted topic “{SECRET_TITLE}”" in notes
    page = client.get(topic_url(topic))
    assert page.status_code == 200 and "STEP ONE OF THE ATTACK" in text(page)
    assert "Let in a member" not in text(page)  # reading is not managing
    reply = client.post(f"/t/{topic.id}/reply", data={"body": "Reproduced on version 2."})
    assert reply.status_code == 302
    client.logout()

    client.login(outsider)
    assert_no_trace(client, topic)
    client.logout()
    client.login(moderator)
    assert "Lift the embargo now" in text(client.get(topic_url(topic)))


def test_restriction_is_offered_only_in_sensitive_areas(client, member):
    client.login(member)
    assert "Restricted until" in text(client.get("/c/safety/new"))
    assert "Restricted until" not in text(client.get("/c/meta/new"))
    assert "Report privately to the moderators" in text(client.get("/c/meta/new"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"restricted": "y", "restricted_until": "2001-01-01"}, "Choose a date after today."),
        ({"restricted": "y", "restricted_until": in_days(0)}, "Choose a date after today."),
        ({"restricted": "y", "restricted_until": ""}, "Give the day the restriction ends."),
        ({"restricted": "y", "restricted_until": "next tuesday"}, "Give a date like 2030-03-01."),
        ({"restricted": "y", "restricted_until": "٢٠٣٠-٠١-٠١"}, "Give a date like 2030-03-01."),
        ({"restricted": "y", "restricted_until": "9" * 50_000}, "Give a date like 2030-03-01."),
        (
            {"restricted": "y", "restricted_until": in_days(30), "invite": "@nobody-here"},
            "No member has the handle @nobody-here.",
        ),
        (
            {"restricted": "y", "restricted_until": in_days(30), "invite": "@" + "x" * 50_000},
            "Keep the list under 1000 characters.",
        ),
        ({"restricted_until": in_days(30)}, "Tick “Restricted” above, or leave this empty."),
        ({"invite": "@someone"}, "Tick “Restricted” above, or leave this empty."),
    ],
)
def test_bad_restriction_input_reshows_the_form_with_a_message_and_keeps_what_was_typed(
    client, member, fields, message
):
    client.login(member)
    data = {"title": "Careful title", "kind": "discussion", "body": "Careful body", **fields}
    response = client.post("/c/security/new", data=data)
    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert 'value="Careful title"' in page and "Careful body" in page
    if fields.get("restricted"):
        assert re.search(r'id="restricted"[^>]* checked|checked[^>]* id="restricted"', page)
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 0


def test_nul_bytes_and_huge_fields_never_break_the_new_topic_form(client, member, other_member):
    client.login(member)
    response = client.post(
        "/c/security/new",
        data={
            "title": "Nul\x00 title",
            "kind": "discussion",
            "body": "Body with a\x00 NUL",
            "restricted": "y",
            "restricted_until": in_days(10),
            "invite": f"@{other_member.handle}\x00",
        },
    )
    assert response.status_code == 400 and "control character" in text(response)
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 0
    huge = client.post(
        "/c/security/new",
        data={
            "title": "t" * 50_000,
            "kind": "discussion",
            "body": "b" * 50_001,
            "restricted": "y",
            "restricted_until": in_days(10),
        },
    )
    assert huge.status_code == 400 and "Keep the title under" in text(huge)


# --- The embargo date ----------------------------------------------------------------------------


def test_after_its_date_lift_embargoes_logs_it_and_everyone_reads_it(
    client, runner, restricted, outsider, security
):
    listed_before = reload(security).topic_count
    restricted.embargo_until = utcnow() - timedelta(minutes=1)
    db.session.commit()
    result = runner.invoke(args=["lift-embargoes"])
    assert result.exit_code == 0 and f"Embargo ended: topic {restricted.id}" in result.output
    assert actions()[-1] == "topic.embargo_end"
    topic = reload(restricted)
    assert not topic.is_restricted and topic.is_listed_to_all
    assert reload(security).topic_count == listed_before + 1
    assert runner.invoke(args=["lift-embargoes"]).output == ""  # once only
    assert actions().count("topic.embargo_end") == 1
    client.login(outsider)
    assert "STEP ONE OF THE ATTACK" in text(client.get(topic_url(topic)))
    assert SECRET_TITLE in text(client.get("/latest")) and SECRET_TITLE in text(
        client.get("/c/security")
    )
    client.logout()
    assert client.get(topic_url(topic)).status_code == 200  # visitors too


def test_author_extends_the_embargo_but_cannot_bring_it_nearer(client, member, restricted):
    before = restricted.embargo_until
    client.login(member)
    later = client.post(f"/t/{restricted.id}/embargo", data={"embargo_until": in_days(60)})
    assert later.status_code == 302
    extended = reload(restricted).embargo_until
    assert extended > before and actions()[-1] == "topic.embargo_extend"
    nearer = client.post(
        f"/t/{restricted.id}/embargo", data={"embargo_until": in_days(5)}, follow_redirects=True
    )
    assert "Only moderators can shorten or lift an embargo." in text(nearer)
    assert reload(restricted).embargo_until == extended
    assert client.post(f"/t/{restricted.id}/embargo/lift").status_code == 403
    assert reload(restricted).is_restricted


def test_moderator_brings_the_embargo_nearer_then_lifts_it(
    client, moderator, outsider, restricted, security
):
    listed_before = reload(security).topic_count
    client.login(moderator)
    response = client.post(f"/t/{restricted.id}/embargo", data={"embargo_until": in_days(3)})
    assert response.status_code == 302
    assert reload(restricted).embargo_until < utcnow() + timedelta(days=4)
    assert actions()[-1] == "topic.embargo_shorten"
    past = client.post(
        f"/t/{restricted.id}/embargo", data={"embargo_until": "2020-02-02"}, follow_redirects=True
    )
    assert "Choose a date after today." in text(past)
    lifted = client.post(f"/t/{restricted.id}/embargo/lift", follow_redirects=True)
    assert "The embargo is lifted" in text(lifted)
    assert not reload(restricted).is_restricted and actions()[-1] == "topic.embargo_lift"
    assert reload(security).topic_count == listed_before + 1
    again = client.post(f"/t/{restricted.id}/embargo/lift")  # no longer under embargo
    assert again.status_code == 403 and reload(security).topic_count == listed_before + 1
    client.logout()
    client.login(outsider)
    assert client.get(topic_url(restricted)).status_code == 200


def test_people_who_may_not_see_the_topic_cannot_reach_its_controls(
    client, outsider, other_member, restricted
):
    client.login(outsider)
    for url, data in [
        (f"/t/{restricted.id}/access", {"handle": outsider.handle}),
        (f"/t/{restricted.id}/access/remove", {"user_id": str(other_member.id)}),
        (f"/t/{restricted.id}/embargo", {"embargo_until": in_days(90)}),
        (f"/t/{restricted.id}/embargo/lift", {}),
        (f"/t/{restricted.id}/embargo/restrict", {"embargo_until": in_days(90)}),
    ]:
        assert client.post(url, data=data).status_code == 404, url
    client.logout()
    client.login(other_member)  # let in to read, not to decide who else reads
    assert (
        client.post(f"/t/{restricted.id}/access", data={"handle": outsider.handle}).status_code
        == 403
    )
    client.post(f"/t/{restricted.id}/embargo", data={"embargo_until": in_days(90)})
    assert db.session.get(TopicAccess, (restricted.id, outsider.id)) is None
    assert reload(restricted).embargo_until < utcnow() + timedelta(days=31)
    assert (
        client.post(f"/t/{restricted.id}/access", data={"handle": "x"}, csrf=False).status_code
        == 400
    )


# --- Who is let in -------------------------------------------------------------------------------


def test_removing_an_invitee_hides_the_topic_and_their_notifications_about_it(
    client, member, other_member, restricted
):
    reply = make_post(restricted, author=other_member, body="My notes on the attack.")
    make_post(restricted, author=member, body="Thanks, confirmed.", parent=reply)
    client.login(other_member)
    assert SECRET_TITLE in text(client.get("/notifications"))
    client.logout()

    client.login(member)
    removed = client.post(
        f"/t/{restricted.id}/access/remove",
        data={"user_id": str(other_member.id)},
        follow_redirects=True,
    )
    assert f"{other_member.display_name} no longer sees this topic." in text(removed)
    assert db.session.get(TopicAccess, (restricted.id, other_member.id)) is None
    entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    assert entry.action == "topic.revoke_access"
    assert json.loads(entry.private_details) == {"member": other_member.id}
    again = client.post(
        f"/t/{restricted.id}/access/remove",
        data={"user_id": str(other_member.id)},
        follow_redirects=True,
    )
    assert "was not let in" in text(again)
    client.logout()

    client.login(other_member)
    assert client.get(topic_url(restricted)).status_code == 404
    page = text(client.get("/notifications"))
    assert SECRET_TITLE not in page and 'class="bell-count"' not in page
    assert db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == other_member.id)
    )  # still stored: they come back if the member is let in again or the embargo ends


def test_author_lets_in_a_member_by_handle_who_is_told(client, member, outsider, restricted):
    client.login(member)
    response = client.post(
        f"/t/{restricted.id}/access",
        data={"handle": f"@{outsider.handle.upper()}"},
        follow_redirects=True,
    )
    assert f"{outsider.display_name} is let in and told." in text(response)
    assert db.session.get(TopicAccess, (restricted.id, outsider.id)) is not None
    told = db.session.scalar(select(Notification).where(Notification.user_id == outsider.id))
    assert told.kind == NotificationKind.TOPIC_ACCESS and told.topic_id == restricted.id
    twice = client.post(
        f"/t/{restricted.id}/access", data={"handle": outsider.handle}, follow_redirects=True
    )
    assert "is let in already" in text(twice)
    for handle, message in [
        ("@nobody-at-all", "No member has that @handle."),
        ("", "Give the member&#39;s @handle."),
        ("h" * 50_000, "No member has that @handle."),
        (member.handle, "opened this topic and sees it already."),
    ]:
        page = client.post(
            f"/t/{restricted.id}/access", data={"handle": handle}, follow_redirects=True
        )
        assert page.status_code == 200 and message in text(page), handle
    client.logout()
    client.login(outsider)
    assert client.get(topic_url(restricted)).status_code == 200


def test_every_change_is_logged_with_who_and_when_but_never_the_content(
    client, member, other_member, outsider, moderator, security
):
    client.login(member)
    client.post(
        "/c/security/new",
        data={
            "title": SECRET_TITLE,
            "kind": "discussion",
            "body": SECRET_BODY,
            "restricted": "y",
            "restricted_until": in_days(20),
            "invite": other_member.handle,
        },
    )
    topic = db.session.scalar(select(Topic).where(Topic.title == SECRET_TITLE))
    client.post(f"/t/{topic.id}/access", data={"handle": outsider.handle})
    client.post(f"/t/{topic.id}/access/remove", data={"user_id": str(outsider.id)})
    client.post(f"/t/{topic.id}/embargo", data={"embargo_until": in_days(40)})
    client.logout()
    client.login(moderator)
    client.post(f"/t/{topic.id}/embargo", data={"embargo_until": in_days(10)})
    client.post(f"/t/{topic.id}/embargo/lift")
    entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert [e.action for e in entries] == [
        "topic.restrict",
        "topic.grant_access",
        "topic.revoke_access",
        "topic.embargo_extend",
        "topic.embargo_shorten",
        "topic.embargo_lift",
    ]
    assert [e.actor_id for e in entries] == [member.id] * 4 + [moderator.id] * 2
    for entry in entries:
        assert entry.target_type == "topic" and entry.target_id == topic.id
        assert entry.created_at is not None
        stored = " ".join([entry.reason, entry.public_details, entry.private_details])
        assert "jailbreak" not in stored.lower() and "STEP ONE" not in stored
    # The entries name the topic only to those who may read it: once lifted, that is everyone.
    client.logout()
    log = text(client.get("/moderation/log"))
    assert "Model X" in log and "STEP ONE" not in log
    assert "A member restricted" in log  # the author, a member, is not named
    assert "Maya" not in log and outsider.display_name not in log
    assert audit.verify_audit().ok


# --- Restricting a topic that exists --------------------------------------------------------


def test_author_restricts_their_topic_and_moderators_restrict_from_topic_tools(
    client, member, moderator, outsider, security
):
    mine = make_topic(security, author=member, title=SECRET_TITLE, body=SECRET_BODY)
    other = make_topic(security, author=outsider, title="Model theft via API")
    listed = reload(security).topic_count
    client.login(member)
    assert "Restrict this topic (hazardous finding)" in text(client.get(topic_url(mine)))
    assert (
        client.post(
            f"/t/{mine.id}/embargo/restrict", data={"embargo_until": in_days(14)}
        ).status_code
        == 302
    )
    assert reload(mine).is_restricted and reload(security).topic_count == listed - 1
    again = client.post(
        f"/t/{mine.id}/embargo/restrict", data={"embargo_until": in_days(30)}, follow_redirects=True
    )
    assert "This topic is restricted already" in text(again)
    assert reload(security).topic_count == listed - 1
    assert (
        client.post(
            f"/t/{other.id}/embargo/restrict", data={"embargo_until": in_days(14)}
        ).status_code
        == 403
    )
    client.logout()

    client.login(moderator)
    tools = text(client.get(f"/t/{other.id}/moderate"))
    assert f'action="/t/{other.id}/embargo/restrict"' in tools
    assert (
        client.post(
            f"/t/{other.id}/moderate/restrict", data={"embargo_until": in_days(9)}
        ).status_code
        == 404
    )
    done = client.post(
        f"/t/{other.id}/embargo/restrict",
        data={"embargo_until": in_days(9), "next": f"/t/{other.id}/moderate"},
    )
    assert done.status_code == 302 and reload(other).is_restricted
    assert reload(security).topic_count == listed - 2
    bad = client.post(f"/t/{mine.id}/embargo/lift")
    assert bad.status_code == 302 and not reload(mine).is_restricted


# --- Private reports ---------------------------------------------------------------------------


@pytest.fixture
def report(client, member):
    client.login(member)
    response = client.post(
        "/reports/new",
        data={
            "title": "Training data leaks through the API",
            "category": "privacy",
            "body": "Prompt X returns verbatim emails.",
        },
    )
    assert response.status_code == 302
    client.logout()
    return db.session.scalar(select(Topic).where(Topic.is_private_report.is_(True)))


def test_member_reports_privately_and_only_they_and_the_moderators_read_it(
    client, member, moderator, admin, outsider, report
):
    assert report.author_id == member.id and report.category.slug == "privacy"
    for staff in (moderator, admin):
        note = db.session.scalar(select(Notification).where(Notification.user_id == staff.id))
        assert note.kind == NotificationKind.PRIVATE_REPORT and note.topic_id == report.id
        watch = db.session.get(Subscription, (staff.id, "topic", report.id))
        assert watch.level == WatchLevel.WATCHING
    client.login(member)
    page = text(client.get(topic_url(report)))
    assert "Private report: only you and the moderators see this." in page
    assert "Training data leaks through the API" in text(client.get("/reports"))
    assert "Training data leaks" not in text(client.get("/latest"))
    assert client.get("/moderation/reports").status_code == 403
    client.logout()
    client.login(outsider)
    assert client.get(topic_url(report)).status_code == 404
    assert client.get(f"/p/{opening_post_id(report)}").status_code == 404
    assert "Training data leaks" not in text(client.get("/reports"))
    assert "Training data leaks" not in text(client.get("/c/privacy"))
    client.logout()
    client.login(moderator)
    assert "Prompt X returns verbatim emails." in text(client.get(topic_url(report)))
    assert "Training data leaks through the API" in text(client.get("/moderation/reports"))
    notes = text(client.get("/notifications"))
    assert f"{member.display_name} reported something privately" in notes


def test_a_moderator_reply_notifies_the_reporter_and_the_reporter_reply_the_moderators(
    client, member, moderator, admin, report
):
    client.login(moderator)
    assert (
        client.post(f"/t/{report.id}/reply", data={"body": "Thanks, looking."}).status_code == 302
    )
    client.logout()
    to_reporter = db.session.scalars(
        select(Notification.kind).where(Notification.user_id == member.id)
    ).all()
    assert NotificationKind.REPLY in to_reporter
    client.login(member)
    client.post(f"/t/{report.id}/reply", data={"body": "It also works on model Y."})
    kinds = db.session.scalars(
        select(Notification.kind).where(
            Notification.user_id == admin.id, Notification.kind == NotificationKind.WATCHED_REPLY
        )
    ).all()
    assert len(kinds) == 2  # the moderator's reply and the reporter's


def test_suspended_moderators_are_not_told_of_reports(client, member, app):
    suspended = make_user(display_name="Sus Pended", role=Role.MODERATOR)
    suspended.suspended_until = utcnow() + timedelta(days=3)
    db.session.commit()
    client.login(member)
    client.post("/reports/new", data={"title": "Leak", "category": "privacy", "body": "Body"})
    assert (
        db.session.scalar(select(Notification).where(Notification.user_id == suspended.id)) is None
    )


def test_moderator_turns_a_report_into_a_restricted_topic(
    client, member, moderator, outsider, report
):
    client.login(member)
    convert = {"category": "security", "embargo_until": in_days(30)}
    assert client.post(f"/t/{report.id}/convert", data=convert).status_code == 403
    client.logout()
    client.login(moderator)
    page = text(client.get(topic_url(report)))
    assert "Turn into a restricted topic" in page
    refused = client.post(
        f"/t/{report.id}/convert",
        data={"category": "meta", "embargo_until": in_days(30)},
        follow_redirects=True,
    )
    assert "Not a valid choice" in text(refused) and reload(report).is_private_report
    past = client.post(
        f"/t/{report.id}/convert",
        data={"category": "security", "embargo_until": "1999-12-31"},
        follow_redirects=True,
    )
    assert "Choose a date after today." in text(past) and reload(report).is_private_report
    done = client.post(
        f"/t/{report.id}/convert",
        data={"category": "security", "embargo_until": in_days(30)},
        follow_redirects=True,
    )
    assert "The report is now a restricted topic" in text(done)
    topic = reload(report)
    assert not topic.is_private_report and topic.is_restricted
    assert topic.category.slug == "security" and topic.author_id == member.id
    assert actions()[-1] == "report.convert"
    client.logout()
    client.login(member)  # the reporter, now the author, may let co-investigators in
    assert "Members let in" in text(client.get(topic_url(topic)))
    client.post(f"/t/{topic.id}/access", data={"handle": outsider.handle})
    client.logout()
    client.login(outsider)
    assert client.get(topic_url(topic)).status_code == 200


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "", "body": "Body"}, "Give the topic a title."),
        ({"title": "T" * 50_000, "body": "Body"}, "Keep the title under"),
        ({"title": "Leak", "body": "b" * 50_001}, "Keep it under"),
        ({"title": "Leak", "body": " \n\t "}, "Write something before posting."),
        ({"title": "Leak", "body": "Body", "category": "no-such-area"}, "Not a valid choice"),
        ({"title": "Leak", "body": "Body", "category": "x\x00" * 30_000}, "control character"),
    ],
)
def test_bad_report_input_reshows_the_form_and_never_fails(client, member, fields, message):
    client.login(member)
    response = client.post("/reports/new", data={"category": "security", **fields})
    assert response.status_code == 400 and message in text(response)
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 0


def test_visitors_are_asked_to_log_in_to_report(client):
    response = client.get("/reports/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- Which areas are sensitive -------------------------------------------------------------


def test_admin_marks_which_areas_are_sensitive(client, admin, member):
    meta, security = topic_areas.get_category("meta"), topic_areas.get_category("security")
    client.login(admin)
    page = text(client.get("/admin/settings"))
    assert "Sensitive areas" in page
    response = client.post(
        "/admin/settings",
        data={
            "registration_mode": "application",
            "applications_timezone": "UTC",
            "sensitive": [str(meta.id)],
        },
    )
    assert response.status_code == 302
    assert reload(meta).is_sensitive and not reload(security).is_sensitive
    client.logout()
    client.login(member)
    assert "Restricted until" in text(client.get("/c/meta/new"))
    assert "Restricted until" not in text(client.get("/c/security/new"))
