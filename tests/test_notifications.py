"""In-app notifications: who is told about what, the bell, reading them, watching levels."""

from sqlalchemy import select

from forum.extensions import db
from forum.models import Notification, NotificationKind, TopicKind, WatchLevel
from forum.services import notifications, votes, voting
from tests.factories import make_post, make_topic, make_user


def kinds_for(user) -> list[str]:
    return [
        n.kind.value
        for n in db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    ]


def test_a_reply_tells_the_author_of_the_post_replied_to(member, other_member, topic):
    first = make_post(topic, author=other_member, body="first")
    third = make_user()
    make_post(topic, author=third, body="answer", parent=first)
    assert kinds_for(other_member) == ["reply"]


def test_watchers_hear_of_every_reply_and_muted_members_of_none(member, other_member, topic):
    watcher, muter = make_user(), make_user()
    notifications.set_watch(watcher, "topic", topic.id, WatchLevel.WATCHING)
    notifications.set_watch(muter, "topic", topic.id, WatchLevel.MUTED)
    notifications.set_watch(member, "topic", topic.id, WatchLevel.MUTED)  # the author mutes it
    make_post(topic, author=other_member, body="news")
    assert kinds_for(watcher) == ["watched_reply"]
    assert kinds_for(muter) == [] and kinds_for(member) == []


def test_creating_or_replying_watches_the_topic_unless_turned_off(member, other_member, topic):
    make_post(topic, author=other_member)
    assert notifications.watch_level(other_member, "topic", topic.id) == WatchLevel.WATCHING
    quiet = make_user()
    quiet.auto_watch = False
    db.session.commit()
    make_post(topic, author=quiet)
    assert notifications.watch_level(quiet, "topic", topic.id) == WatchLevel.NORMAL


def test_a_new_topic_in_a_watched_area_tells_its_watchers(member, other_member, safety):
    notifications.set_watch(other_member, "category", safety.id, WatchLevel.WATCHING)
    make_topic(safety, author=member, title="Fresh question")
    assert kinds_for(other_member) == ["watched_topic"]


def test_an_accepted_answer_tells_its_author(member, other_member, safety):
    question = make_topic(safety, author=member, kind=TopicKind.QUESTION)
    answer = make_post(question, author=other_member)
    votes.accept_answer(member, answer)
    assert "accepted" in kinds_for(other_member)


def test_the_bell_counts_unread_and_opening_one_marks_it_read(client, member, other_member, topic):
    make_post(topic, author=other_member, body="a")
    make_post(topic, author=other_member, body="b")
    client.login(member)
    page = client.get("/").get_data(as_text=True)
    assert '<span class="bell-count" aria-hidden="true">2</span>' in page
    listing = client.get("/notifications").get_data(as_text=True)
    assert "replied to your post in “Evaluating refusal robustness”" in listing
    note = db.session.scalars(select(Notification).order_by(Notification.id)).first()
    response = client.get(f"/notifications/{note.id}")
    assert response.status_code == 302 and response.headers["Location"] == f"/p/{note.post_id}"
    assert '<span class="bell-count" aria-hidden="true">1</span>' in client.get("/").get_data(
        as_text=True
    )
    client.post("/notifications/read-all")
    assert 'class="bell-count"' not in client.get("/").get_data(as_text=True)


def test_nobody_opens_another_members_notification(client, member, other_member, topic):
    make_post(topic, author=other_member)
    note = db.session.scalar(select(Notification))
    client.login(other_member)
    assert client.get(f"/notifications/{note.id}").status_code == 404


def test_members_choose_their_watch_level_on_topics_and_areas(client, member, topic, safety):
    client.login(member)
    client.post(f"/t/{topic.id}/watch", data={"level": "muted"})
    client.post("/c/safety/watch", data={"level": "watching"})
    assert notifications.watch_level(member, "topic", topic.id) == WatchLevel.MUTED
    assert notifications.watch_level(member, "category", safety.id) == WatchLevel.WATCHING
    assert client.post(f"/t/{topic.id}/watch", data={"level": "loud"}).status_code == 400


def test_email_preferences_are_saved(client, member):
    client.login(member)
    preferences = {
        "digest_frequency": "daily",
        "digest_hour": "18",
        "digest_weekday": "4",
        "auto_watch": "y",
    }
    response = client.post("/settings/email", data=preferences)
    assert response.status_code == 302
    db.session.refresh(member)
    assert (member.email_immediate, member.digest_frequency, member.digest_hour) == (
        False,
        "daily",
        18,
    )
    assert member.digest_weekday == 4 and member.auto_watch


def test_round_results_tell_the_voters(member, moderator):
    from tests.factories import close_round, make_agenda_item, make_round

    items = [make_agenda_item(member) for _ in range(2)]
    round_ = make_round(moderator, items, method="approval")
    voting.cast_ballot(member, round_, entries={items[0].id: 1})
    close_round(round_)
    assert NotificationKind.ROUND_RESULT.value in kinds_for(member)


def test_members_hear_a_round_opened_and_non_voters_are_reminded_once(member, moderator, runner):
    from datetime import timedelta

    from tests.factories import make_agenda_item, make_round

    voter, idle = make_user(), make_user()
    items = [make_agenda_item(member) for _ in range(2)]
    round_ = make_round(moderator, items, method="approval", closes_in=timedelta(hours=20))
    voting.cast_ballot(voter, round_, entries={items[0].id: 1})
    for _ in range(2):  # cron may run twice: each member is told once
        assert runner.invoke(args=["close-rounds"]).exit_code == 0
    assert kinds_for(idle) == ["round_open", "round_reminder"]
    assert kinds_for(voter) == ["round_open"]
