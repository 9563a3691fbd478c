"""Forms sent after the page changed (issue 17, item 7): a stale form is shown again with what
was typed and why, a form sent twice creates one thing, and a failed flag stays open in place."""

from __future__ import annotations

import html
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Flag, Post, Topic
from forum.models.types import utcnow
from forum.services import (
    form_tokens,
    moderation,
    posting,
    site_settings,
    topic_areas,
    topic_curation,
)
from tests.factories import close_round, make_agenda_item, make_post, make_round

_TOKEN = re.compile(r'name="form_token"[^>]*value="([^"]+)"')


def form_token(response) -> str:
    """The one-time token of the (first) create form on a page."""
    match = _TOKEN.search(response.get_data(as_text=True))
    assert match, "no form token on the page"
    return match.group(1)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def topics_titled(title: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Topic).where(Topic.title == title))


# --- Stale forms -------------------------------------------------------------------------------


def test_reply_to_a_topic_locked_meanwhile_shows_the_typed_text_and_the_reason(
    client, member, moderator, topic
):
    client.login(member)
    token = form_token(client.get(f"/t/{topic.id}/reply"))
    topic_curation.lock_topic(moderator, topic, note="Settled")
    response = client.post(
        f"/t/{topic.id}/reply", data={"body": "My long considered answer", "form_token": token}
    )
    assert response.status_code == 403
    page = text_of(response)
    assert "<textarea" in page and "My long considered answer</textarea>" in page
    assert re.search(r'role="alert">This topic is locked: it takes no new replies\.', page)
    assert db.session.scalar(select(func.count()).select_from(Post)) == 1  # no reply made


def test_edit_of_a_post_deleted_meanwhile_keeps_the_new_text_and_says_why(client, member, topic):
    reply = make_post(topic, author=member, body="First version")
    client.login(member)
    posting.delete_post(member, db.session.get(Post, reply.id))
    response = client.post(f"/p/{reply.id}/edit", data={"body": "Second, better version"})
    assert response.status_code == 403
    page = text_of(response)
    assert "Second, better version</textarea>" in page
    assert "A deleted post cannot be edited." in page


def test_new_topic_in_an_area_closed_to_the_member_meanwhile_keeps_title_and_body(
    client, member, moderator
):
    client.login(member)
    form = client.get("/c/privacy/new")
    moderation.suspend_member(
        moderator, member, until=utcnow() + timedelta(days=3), reason="Cooling off"
    )
    response = client.post(
        "/c/privacy/new",
        data={
            "title": "Membership inference on small models",
            "kind": "discussion",
            "body": "A body I wrote for an hour",
            "form_token": form_token(form),
        },
    )
    assert response.status_code == 403
    page = text_of(response)
    assert 'value="Membership inference on small models"' in page
    assert "A body I wrote for an hour</textarea>" in page
    assert "Your account is suspended until" in page
    assert topics_titled("Membership inference on small models") == 0


def test_ballot_sent_after_the_round_closed_shows_the_ranking_the_reason_and_the_results(
    client, member, moderator
):
    items = [make_agenda_item(moderator, title=f"Question {n}") for n in (1, 2, 3)]
    round_ = make_round(moderator, items, method="ranked")
    client.login(member)
    close_round(round_)
    response = client.post(
        f"/rounds/{round_.id}/ballot",
        data={f"item-{items[0].id}": "2", f"item-{items[2].id}": "1"},
    )
    assert response.status_code == 403
    page = text_of(response)
    assert "Your ballot was not saved" in page
    assert re.search(r'role="alert">This round is closed\.', page)
    typed = page[page.index("typed-ballot") :]
    assert re.search(r"<bdi>Question 1</bdi> <strong[^>]*>2</strong>", typed)
    assert re.search(r"<bdi>Question 3</bdi> <strong[^>]*>1</strong>", typed)
    assert "Question 2</bdi>" not in typed
    assert f'href="/rounds/{round_.id}#results-heading"' in page


def test_ballot_of_a_member_suspended_while_the_round_is_open_is_shown_with_why(
    client, member, moderator
):
    items = [make_agenda_item(moderator, title=f"Question {n}") for n in (1, 2)]
    round_ = make_round(moderator, items, method="budget", budget=10, per_item_cap=10)
    client.login(member)
    moderation.suspend_member(
        moderator, member, until=utcnow() + timedelta(days=3), reason="Cooling off"
    )
    response = client.post(f"/rounds/{round_.id}/ballot", data={f"item-{items[1].id}": "7"})
    assert response.status_code == 403
    page = text_of(response)
    assert "Your ballot was not saved" in page and "Your account is suspended until" in page
    assert re.search(r"<bdi>Question 2</bdi> <strong[^>]*>7</strong>", page)
    assert "See the results" not in page  # the round is still open


def test_a_flag_sent_after_the_post_was_deleted_shows_the_topic_and_why(
    client, member, other_member, topic
):
    reply = make_post(topic, author=member, body="Soon gone")
    client.login(other_member)
    posting.delete_post(member, db.session.get(Post, reply.id))
    response = client.post(f"/p/{reply.id}/flag", data={"reason": "spam", "note": ""})
    assert response.status_code == 403
    page = text_of(response)
    assert "This post is already deleted." in page and "Evaluating refusal robustness" in page
    assert db.session.scalar(select(func.count()).select_from(Flag)) == 0


def test_a_visitor_sending_a_reply_is_still_sent_to_log_in(client, topic):
    response = client.post(f"/t/{topic.id}/reply", data={"body": "hello"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- One-time form tokens ----------------------------------------------------------------------


def test_a_new_topic_sent_again_with_the_back_button_makes_no_second_topic(client, member):
    client.login(member)
    data = {
        "title": "Canaries in training data",
        "kind": "discussion",
        "body": "Do canaries survive deduplication?",
        "form_token": form_token(client.get("/c/privacy/new")),
    }
    first = client.post("/c/privacy/new", data=data)
    assert first.status_code == 302
    again = client.post("/c/privacy/new", data=data)
    assert again.status_code == 302
    topic = db.session.scalar(select(Topic).where(Topic.title == data["title"]))
    assert again.headers["Location"] == f"/t/{topic.id}"
    landed = client.get(again.headers["Location"], follow_redirects=True)
    assert "This was already posted: here it is." in text_of(landed)
    assert topics_titled(data["title"]) == 1


def test_a_reply_sent_twice_is_posted_once_and_leads_to_it(client, member, topic):
    client.login(member)
    data = {
        "body": "Posted once only",
        "form_token": form_token(client.get(f"/t/{topic.id}", follow_redirects=True)),
    }
    first = client.post(f"/t/{topic.id}/reply", data=data)
    again = client.post(f"/t/{topic.id}/reply", data=data)
    replies = db.session.scalars(select(Post).where(Post.body == "Posted once only")).all()
    assert len(replies) == 1
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == f"/p/{replies[0].id}"


def test_an_agenda_item_proposed_twice_is_made_once(client, member):
    client.login(member)
    data = {
        "title": "Can unlearning be verified?",
        "area": "privacy",
        "statement": "We lack tests that unlearning removed a person's data.",
        "rationale": "Deletion requests depend on it.",
        "form_token": form_token(client.get("/agenda/new")),
    }
    assert client.post("/agenda/new", data=data).status_code == 302
    assert client.post("/agenda/new", data=data).status_code == 302
    assert topics_titled("Can unlearning be verified?") == 1


def test_two_sendings_at_once_make_one_topic(app, member):
    """Two requests past the first check at once (a double click): the token's key lets one
    commit; the other waits on it, fails, and is answered with the topic the first made."""
    # A running forum has its settings row (the first request makes it, committing then).
    site_settings.get_settings()
    area = topic_areas.get_category("privacy")
    token = form_tokens.new_token()
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def send() -> None:
        with app.app_context():
            author = db.session.get(type(member), member.id)
            place = db.session.get(type(area), area.id)
            start.wait()
            try:
                made = posting.create_topic(
                    author, place, title="Raced", body="Sent twice at once", form_token=token
                )
                outcomes.append(made.id)
            except form_tokens.AlreadySent as sent:
                outcomes.append(("again", sent.submission.target_id))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    db.session.expire_all()
    assert topics_titled("Raced") == 1
    made = [o for o in outcomes if isinstance(o, int)]
    assert len(made) == 1 and outcomes.count(("again", made[0])) == 1, outcomes


def test_two_posts_of_one_form_at_once_through_http_make_one_topic(app, member):
    site_settings.get_settings()
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        c.login(member)
    data = {
        "title": "Double click",
        "kind": "discussion",
        "body": "Clicked twice",
        "form_token": form_token(clients[0].get("/c/privacy/new")),
    }
    start = threading.Barrier(2)
    answers: list[str] = []

    def send(c) -> None:
        start.wait()
        answers.append(c.post("/c/privacy/new", data=data).headers.get("Location", ""))

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    db.session.expire_all()
    assert topics_titled("Double click") == 1
    topic = db.session.scalar(select(Topic).where(Topic.title == "Double click"))
    assert sorted(answers) == [f"/t/{topic.id}", f"/t/{topic.id}/double-click"]


@pytest.mark.parametrize("token", ["x" * 50_000, "bad\x00token-and-long-enough", "short"])
def test_a_mangled_form_token_is_ignored_not_an_error(client, member, token):
    client.login(member)
    data = {"title": "Odd token", "kind": "discussion", "body": "Body", "form_token": token}
    response = client.post("/c/privacy/new", data=data)
    assert response.status_code in (302, 400)
    assert topics_titled("Odd token") == (1 if response.status_code == 302 else 0)


# --- The flag box ------------------------------------------------------------------------------


def test_a_failed_flag_stays_open_at_the_post_with_the_error_and_the_choice(
    client, other_member, topic
):
    reply = make_post(topic, author=topic.author, body="A doubtful claim")
    client.login(other_member)
    token = form_tokens.new_token()
    response = client.post(
        f"/p/{reply.id}/flag", data={"reason": "other", "note": "", "form_token": token}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    box = page[page.index(f'id="flag-{reply.id}"') :]
    box = box[: box.index("</details>")]
    assert box.startswith(f'id="flag-{reply.id}" open>')
    assert re.search(r'value="other" required checked', box)
    assert f'id="flag-note-{reply.id}-error">Say what is wrong with the post.</p>' in box
    assert 'aria-invalid="true"' in box
    assert 'class="flash' not in page  # the error is at the field, not at the top
    assert f'action="/p/{reply.id}/flag#flag-{reply.id}"' in box
    tokens = re.findall(r'name="form_token"[^>]*value="([^"]+)"', page)
    assert tokens.count(token) == 1  # the flag box keeps its token; the reply box has its own
    assert db.session.scalar(select(func.count()).select_from(Flag)) == 0


def test_after_flagging_the_member_sees_you_flagged_this(client, member, other_member, topic):
    reply = make_post(topic, author=member, body="Buy cheap pills")
    client.login(other_member)
    token = form_token(
        client.get(f"/t/{topic.id}/{topic.slug}?page=1")
    )  # the reply box's; any fresh one
    assert (
        client.post(
            f"/p/{reply.id}/flag", data={"reason": "spam", "note": "", "form_token": token}
        ).status_code
        == 302
    )
    page = client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(as_text=True)
    post = page[page.index(f'id="post-{reply.id}"') :]
    post = post[: post.index("</article>")]
    assert "You flagged this" in post and "Send flag" not in post
    client.logout()
    client.login(member)  # the author, and everyone else, see no such note
    assert "You flagged this" not in client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(
        as_text=True
    )
