"""A restricted topic leaves no trace for those not let in: no notification, bell, email, count.

Issue 11, items 3 and 4: counts are the counts the reader can see; notifications are checked
when they are made, shown and sent, so losing access silences them.
"""

import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from forum.extensions import db
from forum.models import Notification, TopicAccess, WatchLevel
from forum.models.types import utcnow
from forum.services import moderation, notifications, posting
from forum.services.notification_emails import send_notifications
from tests.factories import make_post, make_topic, make_user

TITLE = "ZQX working jailbreak of the refusal layer"


@pytest.fixture
def invited(app):
    return make_user(display_name="Ines Invited")


@pytest.fixture
def outsider(app):
    return make_user(display_name="Uma Uninvited")


@pytest.fixture
def finding(member, invited, safety):
    """A topic in Safety restricted for a month, with one member let in."""
    return posting.create_topic(
        member,
        safety,
        title=TITLE,
        body="The steps, which must not leak.",
        restricted_until=utcnow() + timedelta(days=30),
        invited=[invited],
    )


def bell(client) -> str:
    page = client.get("/").get_data(as_text=True)
    marker = '<span class="bell-count" aria-hidden="true">'
    return page.split(marker)[1].split("<")[0] if marker in page else "0"


def test_mentioning_an_uninvited_member_in_a_restricted_topic_tells_them_nothing(
    member, invited, outsider, finding
):
    make_post(finding, author=member, body=f"@{outsider.handle} and @{invited.handle}, look")

    told = db.session.scalars(select(Notification.user_id)).all()
    assert outsider.id not in told
    assert invited.id in told


def test_area_watchers_hear_of_a_restricted_topic_only_if_let_in(member, invited, outsider, safety):
    for person in (invited, outsider):
        notifications.set_watch(person, "category", safety.id, WatchLevel.WATCHING)
    posting.create_topic(
        member,
        safety,
        title=TITLE,
        body="Steps.",
        restricted_until=utcnow() + timedelta(days=3),
        invited=[invited],
    )
    told = set(db.session.scalars(select(Notification.user_id)))
    assert told == {invited.id}


def test_a_member_taken_off_the_list_stops_seeing_its_notifications(
    client, member, invited, finding
):
    make_post(finding, author=member, body=f"@{invited.handle} what do you make of this?")
    client.login(invited)
    assert bell(client) == "1"
    assert TITLE in client.get("/notifications").get_data(as_text=True)
    note = db.session.scalar(select(Notification).where(Notification.user_id == invited.id))

    db.session.execute(delete(TopicAccess).where(TopicAccess.user_id == invited.id))
    db.session.commit()

    assert bell(client) == "0"
    assert TITLE not in client.get("/notifications").get_data(as_text=True)
    assert client.get(f"/notifications/{note.id}").status_code == 404


def test_a_mention_from_a_topic_one_lost_access_to_is_not_emailed(
    app, mail_server, member, invited, finding
):
    make_post(finding, author=member, body=f"@{invited.handle} SECRET-STEPS here")
    db.session.execute(delete(TopicAccess).where(TopicAccess.user_id == invited.id))
    db.session.commit()

    report = send_notifications(now=utcnow() + timedelta(minutes=3))

    assert report.sent == 0
    time.sleep(0.2)
    assert mail_server.messages == []


def test_area_and_tag_counts_are_what_each_reader_can_see(
    client, member, invited, outsider, moderator, finding, safety
):
    from forum.services import tags

    tag = tags.create_tag(moderator, name="jailbreaks")
    public = make_topic(safety, author=outsider, title="A public question")
    posting.set_tags(public, [tag.id])
    posting.set_tags(finding, [tag.id])
    db.session.commit()

    def counts(person) -> tuple[str, str]:
        if person is None:
            client.logout()
        else:
            client.login(person)
        home = client.get("/").get_data(as_text=True)
        area = home.split('href="/c/safety"')[1].split('class="area-count">')[1].split("<")[0]
        page = client.get("/tags").get_data(as_text=True)
        tagged = page.split('href="/tags/jailbreaks"')[1].split('class="muted">')[1].split("<")[0]
        return area, tagged

    assert counts(None) == ("1 topic", "1 topic")
    assert counts(outsider) == ("1 topic", "1 topic")
    assert counts(invited) == ("2 topics", "2 topics")
    assert counts(member) == ("2 topics", "2 topics")
    assert counts(moderator) == ("2 topics", "2 topics")


def test_a_reply_waiting_for_review_is_counted_once_approved(client, member, moderator, topic, app):
    from forum.services.site_settings import get_settings

    settings = get_settings()
    settings.first_post_review = True
    db.session.commit()
    newcomer = make_user()
    waiting = make_post(topic, author=newcomer, body="My first reply")
    db.session.refresh(topic)
    assert topic.reply_count == 0  # nobody but its author and moderators knows it is there
    moderation.approve_post(moderator, waiting)
    db.session.refresh(topic)
    assert topic.reply_count == 1


def test_a_merged_topic_redirects_only_readers_of_where_it_went(
    client, member, moderator, outsider, finding, safety
):
    from forum.services import topic_surgery

    source = make_topic(safety, author=member, title="Early notes")
    finding.embargo_until = utcnow() - timedelta(minutes=1)  # merging waits for the embargo
    db.session.commit()
    topic_surgery.merge_topics(moderator, source, finding)
    finding.embargo_until = utcnow() + timedelta(days=5)  # and the author extended it again
    db.session.commit()

    client.login(outsider)
    response = client.get(f"/t/{source.id}")
    assert response.status_code == 404
    assert finding.slug not in response.headers.get("Location", "")
    client.login(member)
    assert client.get(f"/t/{source.id}").status_code == 301
