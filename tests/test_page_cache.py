"""Pages kept for visitors: served without SQL, each with the visitor's own CSRF token, thrown
away by any write a visitor could see, never kept for a member, revalidated with ETags."""

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask import template_rendered
from sqlalchemy import event

from forum.extensions import db
from forum.models import Topic, User
from forum.services import disclosure, posting
from tests.conftest import running_app
from tests.factories import make_post, make_topic, make_user
from tests.test_rate_limits import redis_answers

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def cached_app(database_url):
    with running_app(database_url, FORUM_PAGE_CACHE_URL="memory://") as app:
        yield app


@pytest.fixture
def world(cached_app):
    author = make_user(display_name="Author Person")
    topic = make_topic(
        cached_app_area(), author=author, title="Cached topic about refusals", body="Opening."
    )
    return author, topic


def cached_app_area():
    from forum.services import topic_areas

    return topic_areas.get_category("security")


def statements_during(request):
    seen = []

    def record(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = request()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return response, seen


def test_a_visitor_gets_the_kept_page_without_sql_and_with_their_own_token(cached_app, world):
    _author, topic = world
    url = f"/t/{topic.id}/{topic.slug}"
    first_visitor, second_visitor = cached_app.test_client(), cached_app.test_client()
    first = first_visitor.get(url)
    assert first.headers["X-Forum-Cache"] == "miss"
    again, sql = statements_during(lambda: second_visitor.get(url))
    assert again.headers["X-Forum-Cache"] == "hit"
    assert sql == []
    assert "Cached topic about refusals" in again.get_data(as_text=True)
    first_token = TOKEN.search(first.get_data(as_text=True)).group(1)
    second_token = TOKEN.search(again.get_data(as_text=True)).group(1)
    assert first_token != second_token
    assert "\x00" not in again.get_data(as_text=True)
    # The token on the kept page is the visitor's own: their form goes through.
    switched = second_visitor.post(
        "/language", data={"csrf_token": second_token, "locale": "ar"}, csrf=False
    )
    assert switched.status_code in (302, 303), switched.get_data(as_text=True)
    arabic = second_visitor.get(url)
    assert 'dir="rtl"' in arabic.get_data(as_text=True)  # another key: the page in Arabic


def test_a_reply_or_a_restriction_throws_the_kept_pages_away(cached_app, world):
    author, topic = world
    visitor = cached_app.test_client()
    url = f"/t/{topic.id}/{topic.slug}"
    visitor.get(url)
    assert visitor.get(url).headers["X-Forum-Cache"] == "hit"
    make_post(topic, author=make_user(), body="A reply written after the page was kept")
    fresh = visitor.get(url)
    assert fresh.headers["X-Forum-Cache"] == "miss"
    assert "A reply written after the page was kept" in fresh.get_data(as_text=True)

    assert "Cached topic about refusals" in visitor.get("/latest").get_data(as_text=True)
    assert visitor.get("/latest").headers["X-Forum-Cache"] == "hit"
    disclosure.restrict_topic(author, topic, embargo_until=datetime.now(UTC) + timedelta(days=30))
    assert "Cached topic about refusals" not in visitor.get("/latest").get_data(as_text=True)
    assert visitor.get(url).status_code == 404


def test_members_and_visitors_with_a_message_waiting_get_their_own_page(cached_app, world):
    author, topic = world
    url = f"/t/{topic.id}/{topic.slug}"
    cached_app.test_client().get(url)  # kept for visitors
    member = cached_app.test_client()
    member.login(author)
    page = member.get(url)
    assert "X-Forum-Cache" not in page.headers
    assert 'action="/logout"' in page.get_data(as_text=True)
    visitor = cached_app.test_client()
    with visitor.session_transaction() as session:
        session["_flashes"] = [("info", "A message for this visitor only")]
    shown = visitor.get(url)
    assert "X-Forum-Cache" not in shown.headers
    assert "A message for this visitor only" in shown.get_data(as_text=True)


def test_a_browser_with_the_current_copy_gets_304(cached_app, world):
    _author, topic = world
    url = f"/t/{topic.id}/{topic.slug}"
    visitor = cached_app.test_client()
    first = visitor.get(url)
    etag = first.headers["ETag"]
    assert first.cache_control.no_cache
    again = visitor.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    make_post(topic, author=make_user(), body="news")
    assert visitor.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_without_the_setting_nothing_is_kept(client, topic):
    url = f"/t/{topic.id}/{topic.slug}"
    client.get(url)
    assert "X-Forum-Cache" not in client.get(url).headers


@pytest.mark.skipif(not redis_answers(), reason="no Redis answers on 127.0.0.1:6379")
def test_two_workers_sharing_redis_share_the_pages_and_their_invalidation(database_url):
    settings = {
        "FORUM_PAGE_CACHE_URL": "redis://127.0.0.1:6379/0",
        "FORUM_PAGE_CACHE_PREFIX": f"test-pages-{uuid.uuid4().hex}:",
    }
    with running_app(database_url, **settings) as first:
        author = make_user()
        topic = make_topic(cached_app_area(), author=author, title="Shared through Redis")
        url = f"/t/{topic.id}/{topic.slug}"
        assert first.test_client().get(url).headers["X-Forum-Cache"] == "miss"
        from forum import create_app
        from tests.conftest import app_config

        second = create_app(app_config(database_url, **settings))
        with second.app_context():
            assert second.test_client().get(url).headers["X-Forum-Cache"] == "hit"
        posting.post_reply(author, topic, body="Written through the first worker")
        with second.app_context():
            page = second.test_client().get(url)
            assert page.headers["X-Forum-Cache"] == "miss"
            assert "Written through the first worker" in page.get_data(as_text=True)
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("store", ["memory://", "redis://127.0.0.1:6379/0"])
def test_a_page_rendered_while_a_reply_was_written_is_not_sent_after_it(database_url, store):
    """The page is kept with the version it was rendered at (one round trip to Redis for a
    hit, issue 15): a reply committed while a visitor's page was being rendered means the
    next visitor gets a page rendered afresh, with the reply."""
    if store.startswith("redis") and not redis_answers():
        pytest.skip("no Redis answers on 127.0.0.1:6379")
    settings = {
        "FORUM_PAGE_CACHE_URL": store,
        "FORUM_PAGE_CACHE_PREFIX": f"test-pages-{uuid.uuid4().hex}:",
    }
    with running_app(database_url, **settings) as app:
        author = make_user()
        topic = make_topic(cached_app_area(), author=author, title="Rendered during a write")
        url = f"/t/{topic.id}/{topic.slug}"
        written, ids = [], (author.id, topic.id)

        def reply_while_rendering(sender, template, context, **extra) -> None:
            if not written:  # in the request's own session
                writer, where = db.session.get(User, ids[0]), db.session.get(Topic, ids[1])
                written.append(make_post(where, author=writer, body="Written mid-render"))

        with template_rendered.connected_to(reply_while_rendering, app):
            first = app.test_client().get(url)
        assert first.headers["X-Forum-Cache"] == "miss"
        assert "Written mid-render" not in first.get_data(as_text=True)
        again = app.test_client().get(url)
        assert again.headers["X-Forum-Cache"] == "miss"
        assert "Written mid-render" in again.get_data(as_text=True)
        assert app.test_client().get(url).headers["X-Forum-Cache"] == "hit"


@pytest.mark.skipif(not redis_answers(), reason="no Redis answers on 127.0.0.1:6379")
def test_with_a_recheck_period_a_worker_sends_kept_pages_without_asking_redis(database_url):
    """FORUM_PAGE_CACHE_RECHECK_SECONDS (issue 15): a worker trusts the version it read and
    the pages it sent for that long, so most hits cost no round trip to Redis; a write
    through this worker is seen at once, one through another worker within the period."""
    settings = {
        "FORUM_PAGE_CACHE_URL": "redis://127.0.0.1:6379/0",
        "FORUM_PAGE_CACHE_PREFIX": f"test-pages-{uuid.uuid4().hex}:",
    }
    with running_app(database_url, **settings):  # the other worker, asking Redis every time
        author = make_user()
        topic = make_topic(cached_app_area(), author=author, title="Trusted for a while")
        url, ids = f"/t/{topic.id}/{topic.slug}", (author.id, topic.id)
        from forum import create_app
        from tests.conftest import app_config

        reader_worker = create_app(
            app_config(database_url, FORUM_PAGE_CACHE_RECHECK_SECONDS=1.0, **settings)
        )
        store = reader_worker.extensions["forum_page_cache"]
        asked = []
        mget = store._redis.mget
        store._redis.mget = lambda *keys: asked.append(keys) or mget(*keys)
        with reader_worker.app_context():
            visitor = reader_worker.test_client()
            assert visitor.get(url).headers["X-Forum-Cache"] == "miss"
            assert visitor.get(url).headers["X-Forum-Cache"] == "hit"  # the version read now
            asked.clear()
            for _ in range(3):
                assert visitor.get(url).headers["X-Forum-Cache"] == "hit"
            assert asked == []  # sent from this worker's own copy
            time.sleep(1.1)  # the period is over: the version is read again
            assert visitor.get(url).headers["X-Forum-Cache"] == "hit"
            assert len(asked) == 1
            db.session.remove()
            db.engine.dispose()
        posting.post_reply(author, topic, body="Written through the other worker")
        with reader_worker.app_context():
            time.sleep(1.1)
            page = reader_worker.test_client().get(url)
            assert page.headers["X-Forum-Cache"] == "miss"
            assert "Written through the other worker" in page.get_data(as_text=True)
            assert reader_worker.test_client().get(url).headers["X-Forum-Cache"] == "hit"
            writer, where = db.session.get(User, ids[0]), db.session.get(Topic, ids[1])
            make_post(where, author=writer, body="Written through this worker")
            page = reader_worker.test_client().get(url)  # at once, no waiting
            assert page.headers["X-Forum-Cache"] == "miss"
            assert "Written through this worker" in page.get_data(as_text=True)
            db.session.remove()
            db.engine.dispose()


def test_a_public_profile_is_kept_and_making_it_private_throws_it_away(cached_app, world):
    """Profiles and activity pages are kept for visitors too (issue 15); a profile its owner
    closes to visitors is a 404 at once, not a kept page."""
    author, _topic = world
    author.profile_public = True  # as the member's settings save it (one commit)
    db.session.commit()
    visitor = cached_app.test_client()
    for url in (f"/u/{author.id}", f"/u/{author.id}/activity"):
        assert visitor.get(url).status_code == 200
        kept = visitor.get(url)
        assert kept.headers["X-Forum-Cache"] == "hit", url
        assert "Author Person" in kept.get_data(as_text=True)
    author.profile_public = False
    db.session.commit()
    assert visitor.get(f"/u/{author.id}").status_code == 404
    assert visitor.get(f"/u/{author.id}/activity").status_code == 404
