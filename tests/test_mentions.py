"""@mentions link to the member and notify them exactly once."""

from sqlalchemy import select

from forum.extensions import db
from forum.models import Notification, NotificationKind
from forum.services import posting
from tests.factories import make_post, make_user


def test_a_mention_links_to_the_member_and_notifies_them_once(client, member, topic):
    omar = make_user(email="omar.f@cairo.example", display_name="Omar Farouk")
    assert omar.handle == "omar.f"
    reply = make_post(topic, author=member, body="What do you think, @omar.f? And @OMAR.F again.")
    assert '<a href="/@omar.f" class="mention"' in reply.body_html
    notes = db.session.scalars(select(Notification)).all()
    assert [(n.user_id, n.kind, n.post_id, n.actor_id) for n in notes] == [
        (omar.id, NotificationKind.MENTION, reply.id, member.id)
    ]
    client.login(member)
    response = client.get("/@omar.f")
    assert response.status_code == 302 and response.headers["Location"] == f"/u/{omar.id}"


def test_unknown_handles_and_the_author_get_no_notification(member, topic):
    reply = make_post(topic, author=member, body=f"Hi @nobody-here and me, @{member.handle}")
    assert db.session.scalars(select(Notification)).all() == []
    assert "@nobody-here" in reply.body_html and 'href="/@nobody-here"' not in reply.body_html


def test_mentions_in_code_or_email_addresses_are_not_mentions(member, topic):
    make_user(email="maya2@x.example")
    make_post(topic, author=member, body="Write to maya2@x.example or run `@maya2`")
    assert db.session.scalars(select(Notification)).all() == []


def test_editing_a_post_notifies_only_newly_mentioned_members(member, topic):
    ada = make_user(email="ada@x.example")
    bo = make_user(email="bo@x.example")
    reply = make_post(topic, author=member, body="cc @ada")
    posting.edit_post(member, reply, body="cc @ada and @bo")
    notified = sorted(db.session.scalars(select(Notification.user_id)).all())
    assert notified == sorted([ada.id, bo.id])


def test_mention_suggestions_offer_matching_members(client, member):
    make_user(email="hana.sato@kyoto.example", display_name="Hana Sato")
    client.login(member)
    people = client.get("/api/members/suggest?q=han").get_json()
    assert {"handle": "hana.sato", "name": "Hana Sato"} in people
    client.logout()
    assert client.get("/api/members/suggest?q=han").status_code == 302
