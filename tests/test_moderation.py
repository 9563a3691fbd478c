"""Moderation: flags and the queue, hiding, suspensions, first-post review, topic tools,
restricted topics, and the public log; who may use which moderation URL."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import AuditEntry, Flag, Notification, NotificationKind, Post, Role, Topic
from forum.models.types import utcnow
from forum.services import disclosure, moderation, reading, site_settings, topic_areas
from tests.factories import make_post, make_topic, make_user

# Every moderation URL, by the rule in the app's URL map, and who gets what. A new moderation
# route without an entry here fails test_every_moderation_route_is_in_the_matrix.
ROLES = ["anonymous", "member", "author", "moderator", "admin", "suspended"]
LOGIN = 302
FORBIDDEN = 403
OK = {200, 302}
MODERATORS = {
    "anonymous": LOGIN,
    "member": FORBIDDEN,
    "author": FORBIDDEN,
    "moderator": OK,
    "admin": OK,
    "suspended": FORBIDDEN,
}
POST_TOOLS = ["dismiss", "hide", "restore", "delete", "approve", "warn", "suspend"]
TOPIC_TOOLS = ["pin", "unpin", "lock", "unlock", "move", "feature", "unfeature", "duplicate"]
TOPIC_TOOLS += ["merge", "split"]
EXPECTED = {
    "/moderation": MODERATORS,
    "/moderation/log": {role: OK for role in ROLES},  # public: visitors too
    "/moderation/log.jsonl": {role: OK for role in ROLES},
    **{f"/moderation/posts/<int:post_id>/{tool}": MODERATORS for tool in POST_TOOLS},
    "/t/<int:topic_id>/moderate": MODERATORS,
    **{f"/t/<int:topic_id>/moderate/{tool}": MODERATORS for tool in TOPIC_TOOLS},
    "/p/<int:post_id>/flag": {
        "anonymous": LOGIN,
        "member": OK,
        "author": FORBIDDEN,
        "moderator": OK,
        "admin": OK,
        "suspended": FORBIDDEN,
    },
}


def moderation_rules(app) -> list:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("moderation.")]


def test_every_moderation_route_is_in_the_matrix(app):
    assert {rule.rule for rule in moderation_rules(app)} == set(EXPECTED)


@pytest.fixture
def people(app):
    author = make_user(display_name="Author")
    suspended = make_user()
    suspended.suspended_until = utcnow() + timedelta(days=3)
    db.session.commit()
    return {
        "member": make_user(),
        "author": author,
        "moderator": make_user(role=Role.MODERATOR),
        "admin": make_user(role=Role.ADMIN),
        "suspended": suspended,
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_answer_from_every_moderation_url(
    app, client, people, role, safety
):
    topic = make_topic(safety, author=people["author"])
    post = make_post(topic, author=people["author"], body="flag me")
    if role != "anonymous":
        client.login(people[role])
    for rule in moderation_rules(app):
        path = rule.rule.replace("<int:post_id>", str(post.id))
        path = path.replace("<int:topic_id>", str(topic.id))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"reason": "spam"}
            response = client.post(path, data=data) if method == "POST" else client.get(path)
            expected = EXPECTED[rule.rule][role]
            if isinstance(expected, set):
                assert response.status_code in expected, (role, method, path)
            else:
                assert response.status_code == expected, (role, method, path)
            if expected == LOGIN:
                assert "/login" in response.headers["Location"]


def test_three_flags_from_different_members_hide_a_post_until_review(
    client, member, safety, moderator
):
    author = make_user()
    topic = make_topic(safety, author=author)
    post = make_post(topic, author=author, body="Buy cheap pills")
    flaggers = [make_user() for _ in range(3)]
    for n, flagger in enumerate(flaggers):
        hidden = moderation.flag_post(flagger, post, reason=moderation.FlagReason.SPAM)
        assert hidden is (n == 2)
    with pytest.raises(moderation.ModerationError, match="already flagged"):
        moderation.flag_post(flaggers[0], post, reason=moderation.FlagReason.SPAM)
    page = client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(as_text=True)
    assert "Buy cheap pills" not in page and "Hidden after flags from members" in page
    entries, _waiting = moderation.queue(moderator)
    assert [(e.post.id, e.reasons) for e in entries] == [(post.id, {"spam": 3})]
    moderation.restore_post(moderator, post)
    assert "Buy cheap pills" in client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(
        as_text=True
    )
    assert db.session.scalar(select(Flag.resolution).limit(1)) == "restored"


def test_the_flag_threshold_is_a_setting(member, other_member, safety):
    site_settings.get_settings().flag_threshold = 1
    db.session.commit()
    post = make_post(make_topic(safety, author=member), author=member)
    assert moderation.flag_post(other_member, post, reason=moderation.FlagReason.OFF_TOPIC)


def test_hidden_posts_never_leak_their_body(client, member, other_member, moderator, safety):
    topic = make_topic(safety, author=member, title="Secret recipe topic", body="SECRET BODY TEXT")
    opening = db.session.scalar(select(Post).where(Post.topic_id == topic.id))
    reply = make_post(topic, author=member, body="ANOTHER SECRET")
    moderation.hide_post(moderator, opening, reason="Shares a working exploit")
    moderation.hide_post(moderator, reply, reason="Personal data")
    client.login(other_member)
    for url in (
        f"/t/{topic.id}/{topic.slug}?page=1",
        f"/p/{opening.id}/history",
        f"/t/{topic.id}/reply?quote={reply.id}",
        f"/u/{member.id}",
        "/api/topics/similar?title=Secret recipe topic&body=SECRET",
    ):
        page = client.get(url, follow_redirects=True).get_data(as_text=True)
        assert "SECRET BODY TEXT" not in page and "ANOTHER SECRET" not in page, url
    page = client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(as_text=True)
    assert "Shares a working exploit" in page and "Personal data" in page
    client.logout()
    client.login(moderator)
    assert "SECRET BODY TEXT" in client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(
        as_text=True
    )


def test_restricted_topics_stay_hidden_until_the_embargo_then_open_by_themselves(
    client, member, other_member, moderator, app
):
    security = topic_areas.get_category("security")
    topic = make_topic(
        security, author=member, title="Working jailbreak on Model X", body="STEP ONE OF THE ATTACK"
    )
    disclosure.restrict_topic(member, topic, embargo_until=utcnow() + timedelta(days=30))
    client.login(other_member)
    places = [f"/t/{topic.id}/{topic.slug}?page=1", f"/p/{topic.id}", "/c/security", "/latest"]
    places += ["/", f"/u/{member.id}", "/api/topics/similar?title=Working jailbreak on Model X"]
    for url in places:
        response = client.get(url, follow_redirects=True)
        page = response.get_data(as_text=True)
        assert (
            "STEP ONE OF THE ATTACK" not in page and "Working jailbreak on Model X" not in page
        ), url
    disclosure.invite_member(member, topic, other_member)
    assert "STEP ONE OF THE ATTACK" in client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(
        as_text=True
    )
    client.logout()
    topic.embargo_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert "STEP ONE OF THE ATTACK" in client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(
        as_text=True
    )
    runner = app.test_cli_runner()
    assert runner.invoke(args=["lift-embargoes"]).exit_code == 0
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert "topic.restrict" in actions and "topic.embargo_end" in actions


def test_only_security_and_safety_topics_can_be_restricted(member, safety):
    meta = make_topic(topic_areas.get_category("meta"), author=member)
    with pytest.raises(Exception, match="sensitive areas"):
        disclosure.restrict_topic(member, meta, embargo_until=utcnow() + timedelta(days=1))


def test_suspended_member_reads_but_cannot_post_and_sees_why_until_when(
    client, member, moderator, topic
):
    reply = make_post(topic, author=member)
    moderation.suspend_member(moderator, member, until=utcnow() + timedelta(days=7), reason="Spam")
    client.login(member)
    page = client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(as_text=True)
    assert "Your account is suspended until" in page and "Spam" in page
    assert client.post(f"/t/{topic.id}/reply", data={"body": "hi"}).status_code == 403
    member.suspended_until = utcnow() - timedelta(seconds=1)  # the suspension ends by itself
    db.session.commit()
    assert client.post(f"/t/{topic.id}/reply", data={"body": "back again"}).status_code == 302
    assert reply.id


def test_a_warning_reaches_only_the_author_and_the_log_withholds_its_text(
    client, member, moderator, topic
):
    post = make_post(topic, author=member)
    moderation.warn_author(moderator, post, message="Please cite your sources.")
    note = db.session.scalar(
        select(Notification).where(Notification.kind == NotificationKind.WARNING)
    )
    assert note.user_id == member.id and note.message == "Please cite your sources."
    client.login(make_user())
    log = client.get("/moderation/log").get_data(as_text=True)
    assert "warned a member." in log and "Please cite your sources." not in log


def test_first_posts_of_new_members_wait_for_review(client, moderator, safety):
    settings = site_settings.get_settings()
    settings.first_post_review = True
    settings.first_posts_reviewed = 1
    db.session.commit()
    newcomer = make_user()
    topic = make_topic(safety, author=make_user(role=Role.MODERATOR))
    waiting = make_post(topic, author=newcomer, body="My very first post")
    assert waiting.awaiting_review
    reader = make_user()
    client.login(reader)
    assert "My very first post" not in client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(
        as_text=True
    )
    moderation.approve_post(moderator, waiting)
    assert "My very first post" in client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(
        as_text=True
    )
    assert not make_post(topic, author=newcomer, body="second").awaiting_review


def test_topic_tools_pin_lock_move_feature_and_duplicate(client, moderator, member, safety):
    topic = make_topic(safety, author=member, title="Curated topic")
    original = make_topic(safety, author=member, title="The original")
    client.login(moderator)
    base = f"/t/{topic.id}/moderate"
    client.post(f"{base}/pin", data={"scope": "forum"})
    client.post(f"{base}/lock", data={"note": "Resolved: see the summary."})
    client.post(f"{base}/feature", data={"summary": "The clearest account of refusal drift."})
    client.post(f"{base}/move", data={"category": "privacy"})
    db.session.refresh(topic)
    assert topic.is_pinned and topic.is_pinned_globally and topic.is_locked and topic.is_featured
    assert topic.category.slug == "privacy"
    assert "The clearest account of refusal drift." in client.get("/").get_data(as_text=True)
    client.logout()
    client.login(make_user())
    assert client.post(f"/t/{topic.id}/reply", data={"body": "x"}).status_code == 403
    client.logout()
    client.login(moderator)
    client.post(f"/t/{original.id}/moderate/duplicate", data={"topic_id": str(topic.id)})
    assert reading.get_topic(original.id).duplicate_of_id == topic.id
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert {"topic.pin", "topic.lock", "topic.feature", "topic.move", "topic.duplicate"} <= set(
        actions
    )


def test_a_merged_topics_old_address_redirects_to_the_merged_topic(
    client, moderator, member, safety
):
    source = make_topic(safety, author=member, title="Old thread")
    target = make_topic(safety, author=member, title="Main thread")
    make_post(source, author=member, body="moved reply")
    client.login(moderator)
    response = client.post(f"/t/{source.id}/moderate/merge", data={"topic_id": str(target.id)})
    assert response.status_code == 302
    old = client.get(f"/t/{source.id}/{source.slug}")
    assert old.status_code == 301 and old.headers["Location"] == f"/t/{target.id}/{target.slug}"
    page = client.get(f"/t/{target.id}/{target.slug}?page=1").get_data(as_text=True)
    assert "moved reply" in page
    assert "Old thread" not in client.get("/c/safety").get_data(as_text=True)
    assert db.session.get(Topic, source.id).merged_into_id == target.id


def test_a_moderator_posting_to_a_tool_that_does_not_exist_gets_not_found(
    client, moderator, member, safety
):
    topic = make_topic(safety, author=member)
    post = make_post(topic, author=member)
    client.login(moderator)
    assert client.post(f"/moderation/posts/{post.id}/promote").status_code == 404
    assert client.post(f"/t/{topic.id}/moderate/archive").status_code == 404
