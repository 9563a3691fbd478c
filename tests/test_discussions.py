"""Opening topics, threaded replies, permalinks, editing with history and soft deletion."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from forum.extensions import db
from forum.models import Post, PostRevision, Topic
from forum.services import reading, topic_areas
from tests.factories import make_post, make_topic, make_user

TOPIC = {
    "title": "Do refusal classifiers transfer across languages?",
    "kind": "question",
    "body": "We see **lower** refusal rates in Swahili.",
}


def test_member_opens_a_topic_in_an_area(client, member):
    client.login(member)
    response = client.post("/c/safety/new", data=TOPIC)
    assert response.status_code == 302
    topic = db.session.scalar(select(Topic))
    assert topic.title == TOPIC["title"] and topic.kind.value == "question"
    assert topic.category.slug == "safety"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert TOPIC["title"] in page
    assert "<strong>lower</strong>" in page
    assert 'dir="auto"' in page


def test_anonymous_visitor_who_tries_to_post_is_sent_to_log_in(client, topic):
    response = client.get("/c/safety/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/c/safety/new")
    response = client.post("/c/safety/new", data=TOPIC)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post(f"/t/{topic.id}/reply", data={"body": "hello"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 1
    assert db.session.scalar(select(func.count()).select_from(Post)) == 1


def test_post_without_csrf_token_is_refused(client, member):
    client.login(member)
    response = client.post("/c/safety/new", data=TOPIC, csrf=False)
    assert response.status_code == 400
    assert db.session.scalar(select(Topic)) is None


@pytest.mark.parametrize(
    ("title", "body", "message"),
    [
        ("", "A body that must be kept", "Give the topic a title."),
        ("   ", "A body that must be kept", "Give the topic a title."),
        ("x" * 201, "A body that must be kept", "Keep the title under 200 characters."),
        ("A fine title", "y" * 50_001, "Keep it under 50,000 characters."),
    ],
    ids=["empty-title", "blank-title", "201-char-title", "50001-char-body"],
)
def test_invalid_topic_is_refused_at_the_field_with_the_body_kept(
    client, member, title, body, message
):
    client.login(member)
    response = client.post("/c/safety/new", data={"title": title, "body": body, "kind": "question"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert (
        f'class="field-message" id="{"body" if "50" in message else "title"}-error">{message}'
        in page
    )
    assert f"{body}</textarea>" in page
    assert '<option selected value="question">' in page
    assert db.session.scalar(select(Topic)) is None


def test_a_title_of_exactly_200_characters_is_fine(client, member):
    client.login(member)
    response = client.post("/c/safety/new", data={**TOPIC, "title": "t" * 200})
    assert response.status_code == 302


def test_empty_reply_is_refused_and_nothing_is_posted(client, member, topic):
    client.login(member)
    response = client.post(f"/t/{topic.id}/reply", data={"body": "   "})
    assert response.status_code == 400
    assert "Write something before posting." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Post)) == 1


def test_replies_nest_under_their_parent(client, member, other_member, topic):
    client.login(other_member)
    first = client.post(f"/t/{topic.id}/reply", data={"body": "First reply"})
    parent = db.session.scalar(select(Post).where(Post.number == 2))
    assert first.headers["Location"].endswith(f"#post-{parent.id}")
    client.post(f"/t/{topic.id}/reply", data={"body": "Reply to the reply", "parent_id": parent.id})
    child = db.session.scalar(select(Post).where(Post.number == 3))
    assert child.parent_id == parent.id and child.depth == 1
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert page.index(f'id="post-{parent.id}"') < page.index(f'id="post-{child.id}"')
    assert f'class="post depth-1" id="post-{child.id}"' in page
    db.session.refresh(topic)
    assert topic.reply_count == 2 and topic.last_poster_id == other_member.id


def test_thread_order_is_depth_first_whatever_the_posting_order(member, topic):
    a = make_post(topic, author=member, body="a")
    b = make_post(topic, author=member, body="b")
    a1 = make_post(topic, author=member, body="a1", parent=a)
    b1 = make_post(topic, author=member, body="b1", parent=b)
    a2 = make_post(topic, author=member, body="a2", parent=a)
    a1x = make_post(topic, author=member, body="a1x", parent=a1)
    page = reading.topic_posts(topic)
    assert [p.body for p in page.items[1:]] == ["a", "a1", "a1x", "a2", "b", "b1"]
    assert [p.id for p in page.items[1:]] == [a.id, a1.id, a1x.id, a2.id, b.id, b1.id]


def test_replies_deeper_than_four_levels_show_flat_with_in_reply_to(client, member, topic):
    parent = None
    chain = []
    for depth in range(7):
        parent = make_post(topic, author=member, body=f"level {depth}", parent=parent)
        chain.append(parent)
    assert [p.depth for p in chain] == [0, 1, 2, 3, 4, 5, 6]
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert f'class="post depth-4" id="post-{chain[4].id}"' in page
    assert f'class="post depth-4" id="post-{chain[5].id}"' in page
    deep = page[page.index(f'id="post-{chain[5].id}"') :]
    assert f'In reply to <a href="/p/{chain[4].id}#post-{chain[4].id}">' in deep
    shallow = page[page.index(f'id="post-{chain[3].id}"') : page.index(f'id="post-{chain[4].id}"')]
    assert "In reply to" not in shallow


def test_permalink_finds_a_post_on_a_later_page(client, member, topic):
    posts = [make_post(topic, author=member, body=f"reply {i}") for i in range(45)]
    target = posts[30]  # post number 32 in thread order: page 2 of 20 a page
    response = client.get(f"/p/{target.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/t/{topic.id}/{topic.slug}?page=2#post-{target.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'id="post-{target.id}"' in page and "reply 30" in page
    assert "Page 2 of 3" in page


def test_permalink_of_a_nested_reply_accounts_for_thread_order(client, member, topic):
    first = make_post(topic, author=member, body="first")
    others = [make_post(topic, author=member, body=f"later {i}") for i in range(25)]
    nested = make_post(topic, author=member, body="nested late", parent=first)
    assert reading.page_of_post(nested) == 1  # shown right under "first", on page 1
    assert reading.page_of_post(others[-1]) == 2


def test_unknown_topic_post_and_area_are_404_pages(client):
    for url in ("/t/999", "/p/999", "/c/nowhere", "/u/999"):
        response = client.get(url)
        assert response.status_code == 404
        assert "Page not found" in response.get_data(as_text=True)


def test_topic_address_with_old_slug_redirects_to_the_current_one(client, topic):
    response = client.get(f"/t/{topic.id}/old-title")
    assert response.status_code == 301
    assert response.headers["Location"] == f"/t/{topic.id}/{topic.slug}"


def test_author_edits_a_post_and_the_old_version_is_kept(client, member, topic):
    reply = make_post(topic, author=member, body="Original *text*")
    client.login(member)
    response = client.post(f"/p/{reply.id}/edit", data={"body": "Corrected **text**"})
    assert response.status_code == 302
    db.session.refresh(reply)
    assert reply.body == "Corrected **text**" and "<strong>text</strong>" in reply.body_html
    assert reply.edited_at is not None
    revision = db.session.scalar(select(PostRevision))
    assert revision.body == "Original *text*" and revision.editor_id == member.id
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert f'href="/p/{reply.id}/history">edited</a>' in page
    history = client.get(f"/p/{reply.id}/history").get_data(as_text=True)
    assert "<em>text</em>" in history and "<strong>text</strong>" in history


def test_editing_the_opening_post_can_change_the_title(client, member, topic):
    opening = db.session.scalar(select(Post).where(Post.topic_id == topic.id))
    client.login(member)
    client.post(f"/p/{opening.id}/edit", data={"title": "A sharper title", "body": "New body"})
    db.session.refresh(topic)
    assert topic.title == "A sharper title" and topic.slug == "a-sharper-title"
    assert db.session.scalar(select(PostRevision)).title == "Evaluating refusal robustness"


def test_saving_an_unchanged_post_makes_no_revision(client, member, topic):
    reply = make_post(topic, author=member, body="Same")
    client.login(member)
    client.post(f"/p/{reply.id}/edit", data={"body": "Same"})
    assert db.session.scalar(select(PostRevision)) is None


def test_invalid_edit_keeps_what_was_typed(client, member, topic):
    reply = make_post(topic, author=member, body="Original")
    client.login(member)
    response = client.post(f"/p/{reply.id}/edit", data={"body": "z" * 50_001})
    assert response.status_code == 400
    assert "z" * 50_001 + "</textarea>" in response.get_data(as_text=True)
    db.session.refresh(reply)
    assert reply.body == "Original"


def test_member_cannot_edit_or_delete_another_members_post(client, member, other_member, topic):
    reply = make_post(topic, author=member, body="Mine")
    client.login(other_member)
    assert client.get(f"/p/{reply.id}/edit").status_code == 403
    response = client.post(f"/p/{reply.id}/edit", data={"body": "Vandalised"})
    assert response.status_code == 403
    assert "Only the author or a moderator can edit this post." in response.get_data(as_text=True)
    assert client.post(f"/p/{reply.id}/delete").status_code == 403
    db.session.refresh(reply)
    assert reply.body == "Mine" and not reply.is_deleted


def test_moderator_may_edit_any_post(client, member, moderator, topic):
    reply = make_post(topic, author=member, body="Typo")
    client.login(moderator)
    assert client.post(f"/p/{reply.id}/edit", data={"body": "Fixed"}).status_code == 302
    assert db.session.scalar(select(PostRevision)).editor_id == moderator.id


def test_deleted_post_leaves_a_placeholder_and_keeps_its_replies(
    client, member, other_member, topic
):
    reply = make_post(topic, author=member, body="Soon gone")
    answer = make_post(topic, author=other_member, body="Answer stays", parent=reply)
    client.login(member)
    response = client.post(f"/p/{reply.id}/delete")
    assert response.status_code == 302
    page = client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(as_text=True)
    assert "Soon gone" not in page
    assert "This post was deleted." in page
    assert "Answer stays" in page and f'id="post-{answer.id}"' in page
    db.session.refresh(topic)
    assert topic.reply_count == 1
    assert client.post(f"/p/{reply.id}/edit", data={"body": "back"}).status_code == 403


def test_area_lists_topics_by_last_activity_thirty_a_page(client, member, safety):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    topics = [
        make_topic(
            safety, author=member, title=f"Topic number {i:02d}", now=start + timedelta(hours=i)
        )
        for i in range(32)
    ]
    make_post(topics[0], author=member, body="bump", now=start + timedelta(days=5))
    page = client.get("/c/safety").get_data(as_text=True)
    assert (
        page.index("Topic number 00")
        < page.index("Topic number 31")
        < page.index("Topic number 30")
    )
    assert "Topic number 01" not in page and "Page 1 of 2" in page
    page2 = client.get("/c/safety?page=2").get_data(as_text=True)
    assert "Topic number 01" in page2 and "Topic number 02" in page2


def test_area_list_shows_kind_author_reply_count_and_activity(client, member, other_member, topic):
    make_post(topic, author=other_member)
    page = client.get("/c/safety").get_data(as_text=True)
    row = page[page.index('class="topic-row"') :]
    assert topic.title in row and "Discussion" in row and member.display_name in row
    assert "1 reply" in row and "<time datetime=" in row


def test_home_shows_every_area_with_its_latest_topics(client, member):
    safety = topic_areas.get_category("safety")
    privacy = topic_areas.get_category("privacy")
    make_topic(safety, author=member, title="Safety topic one")
    make_topic(privacy, author=member, title="Privacy topic one")
    page = client.get("/").get_data(as_text=True)
    for name in (
        "Privacy",
        "Safety",
        "Security",
        "Model improvement",
        "Research agenda",
        "Workshops",
        "Announcements",
        "Meta",
    ):
        assert f">{name}</a>" in page
    assert "Safety topic one" in page and "Privacy topic one" in page


def test_concurrent_numbering_gives_every_reply_its_own_number(member, topic):
    others = [make_user() for _ in range(3)]
    for person in others:
        make_post(topic, author=person)
    numbers = db.session.scalars(select(Post.number).where(Post.topic_id == topic.id)).all()
    assert sorted(numbers) == [1, 2, 3, 4]


def home_area(page: str, slug: str) -> str:
    """The home page's card of one area."""
    start = page.index(f'href="/c/{slug}"')
    end = page.find('class="area-card"', start)
    return page[start : end if end != -1 else len(page)]


def test_home_lists_each_areas_most_active_topics_pinned_or_not(client, member, moderator, safety):
    from forum.services import topic_curation

    limit = topic_areas.LATEST_TOPICS_PER_AREA
    now = datetime.now(UTC)
    old_pinned = make_topic(safety, author=member, title="Old pinned", now=now - timedelta(days=60))
    recent_pinned = make_topic(safety, author=member, title="Pinned today", now=now)
    topic_curation.pin_topic(moderator, old_pinned)
    topic_curation.pin_topic(moderator, recent_pinned)
    for day in range(limit + 2):  # day 0 the most recent
        make_topic(safety, author=member, title=f"Day {day} ago", now=now - timedelta(days=day + 1))
    card = home_area(client.get("/").get_data(as_text=True), "safety")
    shown = re.findall(r'<a dir="auto" href="/t/\d+/[^"]*">([^<]+)</a>', card)
    assert shown == ["Pinned today"] + [f"Day {day} ago" for day in range(limit - 1)]


def test_home_reads_each_area_down_its_index(client, member, safety):
    """No sort of an area's topics: SQLite walks ix_topics_category_activity and stops."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    make_topic(safety, author=member, title="One topic")
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if "UNION ALL" in statement or "is_featured IS 1" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        client.get("/")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(seen) == 2
    with db.engine.connect() as conn:
        for statement, parameters in seen:
            plan = [
                row[3]
                for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            ]
            assert not any(
                "TEMP B-TREE" in step or step.strip() == "SCAN topics" for step in plan
            ), plan
