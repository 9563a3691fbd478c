"""Unread tracking, preview and quoting in the composer, long topics."""

from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import select

from forum.extensions import db
from forum.models import Post, Topic
from forum.services import posting
from tests.factories import make_post, make_topic

WRITES = ("INSERT", "UPDATE", "DELETE")


def test_lists_show_how_many_replies_are_new_and_the_topic_opens_at_the_first_unread(
    client, member, other_member, safety
):
    topic = make_topic(safety, author=other_member, title="Busy thread")
    for i in range(3):
        make_post(topic, author=other_member, body=f"early {i}")
    client.login(member)
    listing = client.get("/c/safety").get_data(as_text=True)
    assert "new</a>" not in listing  # never opened: no count yet, the title is enough
    client.get(f"/t/{topic.id}/{topic.slug}")  # reads all four posts
    later = [make_post(topic, author=other_member, body=f"later {i}") for i in range(25)]
    listing = client.get("/c/safety").get_data(as_text=True)
    assert "25 new" in listing
    response = client.get(f"/t/{topic.id}/{topic.slug}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#post-{later[0].id}")
    client.get(f"/t/{topic.id}/{topic.slug}?page=1")
    client.get(f"/t/{topic.id}/{topic.slug}?page=2")
    assert "new</a>" not in client.get("/c/safety").get_data(as_text=True)


def test_own_replies_count_as_read(client, member, other_member, topic):
    client.login(other_member)
    client.get(f"/t/{topic.id}/{topic.slug}")
    client.post(f"/t/{topic.id}/reply", data={"body": "my own reply"})
    assert "new</a>" not in client.get("/c/safety").get_data(as_text=True)


def test_preview_shows_the_rendered_post_without_posting_it(client, member, topic):
    client.login(member)
    response = client.post(
        f"/t/{topic.id}/reply", data={"body": "**bold** <script>x</script>", "preview": "1"}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<strong>bold</strong>" in page and "<script>x" not in page
    assert "**bold** &lt;script&gt;x&lt;/script&gt;</textarea>" in page
    assert db.session.scalar(select(Post).where(Post.number == 2)) is None
    response = client.post(
        "/c/safety/new",
        data={"title": "T", "kind": "discussion", "body": "# Heading", "preview": "1"},
    )
    assert "<h1>Heading</h1>" in response.get_data(as_text=True)
    assert db.session.query(Topic).count() == 1


def test_quote_without_script_opens_the_reply_box_with_the_post_quoted(
    client, member, other_member, topic
):
    source = make_post(topic, author=other_member, body="Line one\n\nLine two")
    client.login(member)
    page = client.get(f"/t/{topic.id}/reply?quote={source.id}").get_data(as_text=True)
    expected = (
        f"&gt; **Omar Other** [wrote](/p/{source.id}):\n&gt;\n&gt; Line one\n&gt;\n&gt; Line two"
    )
    assert expected in page


def test_quoted_reply_links_back_to_its_source(member, other_member, topic):
    source = make_post(topic, author=other_member, body="Original claim")
    reply = make_post(topic, author=member, body=posting.quote(source) + "\n\nI disagree.")
    assert f'<a href="/p/{source.id}" rel="nofollow ugc noopener">wrote</a>' in reply.body_html
    assert "<blockquote>" in reply.body_html


def test_similar_topics_are_suggested_while_writing(client, member, safety):
    make_topic(safety, author=member, title="Membership inference attacks on fine-tuned models")
    client.login(member)
    found = client.get(
        "/api/topics/similar?title=fine-tuned models and membership inference"
    ).get_json()
    assert [t["title"] for t in found] == ["Membership inference attacks on fine-tuned models"]


def test_opening_a_topic_with_unread_posts_on_its_first_page_lands_there(
    client, member, other_member, topic
):
    client.login(member)
    client.get(f"/t/{topic.id}/{topic.slug}")
    fresh = make_post(topic, author=other_member, body="fresh news")
    response = client.get(f"/t/{topic.id}/{topic.slug}")
    assert response.headers["Location"] == f"/t/{topic.id}/{topic.slug}?page=1#post-{fresh.id}"
    landed = client.get(f"/t/{topic.id}/{topic.slug}", follow_redirects=True)
    assert landed.status_code == 200 and "fresh news" in landed.get_data(as_text=True)


def test_rereading_a_page_writes_nothing_and_a_new_reply_is_marked_read(
    client, queries, member, other_member, topic
):
    """A logged-in GET that shows nothing new takes no write lock (no INSERT, no COMMIT)."""
    commits = []

    def count_commit(conn) -> None:
        commits.append(1)

    sqlalchemy_event.listen(db.engine, "commit", count_commit)
    try:
        client.login(member)
        url = f"/t/{topic.id}/{topic.slug}?page=1"
        client.get(url)  # the first visit records the mark
        with queries:
            commits.clear()
            assert client.get(url).status_code == 200
        writes = [s for s in queries.statements if s.lstrip().upper().startswith(WRITES)]
        assert writes == [] and commits == [], queries.report()

        make_post(topic, author=other_member, body="news")
        assert "1 new" in client.get("/c/safety").get_data(as_text=True)
        with queries:
            commits.clear()
            client.get(url)
        assert any(s.lstrip().upper().startswith("INSERT") for s in queries.statements)
        assert commits
        assert "new</a>" not in client.get("/c/safety").get_data(as_text=True)
    finally:
        sqlalchemy_event.remove(db.engine, "commit", count_commit)


def test_going_back_to_an_earlier_page_writes_nothing_and_keeps_the_mark_where_it_was(
    client, queries, member, other_member, topic
):
    """The read position only moves forward: a member who read page 2 and goes back to page 1
    is shown nothing new, so the GET writes nothing (issue 15), and the topic stays read."""
    for i in range(24):
        make_post(topic, author=other_member, body=f"reply {i}")
    client.login(member)
    client.get(f"/t/{topic.id}/{topic.slug}?page=2")  # the mark goes to the last post
    with queries:
        assert client.get(f"/t/{topic.id}/{topic.slug}?page=1").status_code == 200
    writes = [s for s in queries.statements if s.lstrip().upper().startswith(WRITES)]
    assert writes == [], queries.report()
    assert "new</a>" not in client.get("/c/safety").get_data(as_text=True)
    # Opening the topic without a page does not send them back into it: nothing is unread.
    assert client.get(f"/t/{topic.id}/{topic.slug}").status_code == 200


def test_paging_through_a_long_thread_shows_every_post_once_in_thread_order(
    member, other_member, topic, monkeypatch
):
    """Pages past the middle are read from the topic's end backwards (issue 15): page after
    page, the reader still sees each post once, replies under the post they answer."""
    from forum.services import reading

    monkeypatch.setattr(reading, "POSTS_PER_PAGE", 3)
    replies = []
    for n in range(10):
        parent = replies[n // 2] if n % 3 == 2 else None  # some nested, out of number order
        replies.append(make_post(topic, author=other_member, body=f"Reply {n}", parent=parent))
    db.session.refresh(topic)
    in_thread_order = db.session.scalars(
        select(Post.id).where(Post.topic_id == topic.id).order_by(Post.path)
    ).all()
    assert in_thread_order != sorted(in_thread_order)  # the nesting is not the writing order
    pages = reading.topic_posts(topic, page=1).pages
    assert pages == 4
    shown = [
        p.id for page in range(1, pages + 1) for p in reading.topic_posts(topic, page=page).items
    ]
    assert shown == in_thread_order
