"""A member's activity page (issue 17, item 6): topics, replies, accepted answers and agenda
items proposed, only as far as the reader may see them."""

from __future__ import annotations

from datetime import timedelta

from forum.extensions import db
from forum.models import TopicKind
from forum.models.types import utcnow
from forum.services import disclosure, moderation, topic_areas, votes
from tests.factories import make_agenda_item, make_post, make_topic, make_user


def activity(client, person, section: str = "") -> str:
    query = f"?section={section}" if section else ""
    response = client.get(f"/u/{person.id}/activity{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def restricted_topic(author, title: str):
    topic = make_topic(topic_areas.get_category("security"), author=author, title=title)
    topic.is_restricted, topic.embargo_until = True, utcnow() + timedelta(days=30)
    db.session.commit()
    return topic


def test_activity_lists_topics_replies_answers_and_agenda_items(client, member, other_member):
    question = make_topic(
        topic_areas.get_category("privacy"),
        author=other_member,
        title="Can DP-SGD stop extraction?",
        kind=TopicKind.QUESTION,
    )
    make_topic(topic_areas.get_category("safety"), author=member, title="Jailbreak taxonomy")
    answer = make_post(question, author=member, body="Partly, at epsilon 8.")
    votes.accept_answer(other_member, answer)
    make_post(question, author=member, body="A follow-up thought.")
    make_agenda_item(member, title="Measure memorisation at scale")
    client.login(other_member)

    assert "Jailbreak taxonomy" in activity(client, member)
    replies = activity(client, member, "replies")
    assert replies.count("Can DP-SGD stop extraction?") == 2
    answers = activity(client, member, "answers")
    assert answers.count("Can DP-SGD stop extraction?") == 1 and "(1)" in answers
    assert "Measure memorisation at scale" in activity(client, member, "agenda")


def test_a_restricted_topic_shows_only_to_members_who_may_read_it(
    client, member, other_member, moderator
):
    secret = restricted_topic(member, "Unpatched extraction attack")
    make_post(secret, author=member, body="the details")
    invited = make_user(display_name="Ines Invited")
    disclosure.invite_member(member, secret, invited)

    client.login(other_member)
    assert "Unpatched extraction attack" not in activity(client, member)
    assert "Unpatched extraction attack" not in activity(client, member, "replies")
    assert "(0)" in activity(client, member, "replies")
    client.logout()
    for reader in (invited, moderator, member):
        client.login(reader)
        assert "Unpatched extraction attack" in activity(client, member), reader.display_name
        assert "Unpatched extraction attack" in activity(client, member, "replies")
        client.logout()


def test_hidden_and_deleted_replies_are_left_out(client, member, other_member, moderator, topic):
    hidden = make_post(topic, author=other_member, body="hidden one")
    moderation.hide_post(moderator, hidden, reason="off topic")
    client.login(member)
    assert "(0)" in activity(client, other_member, "replies")


def test_a_visitor_sees_only_public_activity_of_a_public_profile(client, member, other_member):
    make_topic(topic_areas.get_category("privacy"), author=member, title="Open to everyone")
    members_only = topic_areas.get_category("meta")
    members_only.is_members_only = True
    db.session.commit()
    make_topic(members_only, author=member, title="Only for members")
    restricted_topic(member, "Embargoed finding")

    assert client.get(f"/u/{member.id}/activity").status_code == 404  # profile kept to members
    member.profile_public = True
    db.session.commit()
    page = activity(client, member)
    assert "Open to everyone" in page
    assert "Only for members" not in page and "Embargoed finding" not in page
    client.login(other_member)
    assert "Only for members" in activity(client, member)


def test_odd_ids_pages_and_sections_are_not_errors(client, member):
    client.login(member)
    assert client.get("/u/99999999999999999999/activity").status_code == 404
    assert client.get("/u/-3/activity").status_code == 404
    assert client.get(f"/u/{member.id}/activity?section=%00nope").status_code in (200, 400)
    assert client.get(f"/u/{member.id}/activity?section=x" + "y" * 50_000).status_code == 200
    assert client.get(f"/u/{member.id}/activity?page=99999999999999999999").status_code == 200
