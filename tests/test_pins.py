"""Topics pinned across the whole forum lead /latest and the home page (issue 11, item 7)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from forum.extensions import db
from forum.models.types import utcnow
from forum.services import topic_areas, topic_curation
from tests.factories import make_topic, make_user

ROW = re.compile(r'<li class="topic-row.*?</li>', re.S)
ROW_TITLE = re.compile(r'class="topic-title" dir="auto" href="[^"]*">([^<]*)</a>')


def list_rows(page: str) -> list[tuple[str, bool]]:
    """The topics a list shows, in order, each with whether it carries the "Pinned" badge."""
    return [(ROW_TITLE.search(row).group(1), "badge-pinned" in row) for row in ROW.findall(page)]


def home_pinned(page: str) -> str:
    """The home page's "Pinned" section, or "" when there is none."""
    match = re.search(r'<section class="pinned".*?</section>', page, re.S)
    return match.group(0) if match else ""


@pytest.fixture
def old_and_new(member, safety):
    """A month-old topic and two from today, the newest last."""
    old = make_topic(
        safety, author=member, title="Read this first", now=utcnow() - timedelta(days=30)
    )
    make_topic(
        safety, author=member, title="Yesterday's question", now=utcnow() - timedelta(days=1)
    )
    make_topic(safety, author=member, title="Today's question")
    return old


@pytest.mark.parametrize("logged_in", [False, True], ids=["visitor", "member"])
def test_a_topic_pinned_across_the_forum_leads_latest_and_the_home_page(
    client, moderator, other_member, old_and_new, logged_in
):
    topic_curation.pin_topic(moderator, old_and_new, globally=True)
    if logged_in:
        client.login(other_member)
    rows = list_rows(client.get("/latest").get_data(as_text=True))
    assert rows == [
        ("Read this first", True),
        ("Today&#39;s question", False),
        ("Yesterday&#39;s question", False),
    ]
    pinned = home_pinned(client.get("/").get_data(as_text=True))
    assert "Read this first" in pinned and "question" not in pinned


def test_the_pinned_topic_leads_only_the_default_sort(client, moderator, old_and_new):
    topic_curation.pin_topic(moderator, old_and_new, globally=True)
    rows = list_rows(client.get("/latest?sort=newest").get_data(as_text=True))
    assert [title for title, _badge in rows][0] == "Today&#39;s question"
    assert ("Read this first", True) in rows  # still marked where it is


def test_a_pin_in_one_area_leads_that_area_but_not_latest(client, moderator, old_and_new):
    topic_curation.pin_topic(moderator, old_and_new, globally=False)
    rows = list_rows(client.get("/latest").get_data(as_text=True))
    assert rows[0] == ("Today&#39;s question", False)
    assert ("Read this first", False) in rows  # pinned in its area, not here
    assert home_pinned(client.get("/").get_data(as_text=True)) == ""
    area_rows = list_rows(client.get("/c/safety").get_data(as_text=True))
    assert area_rows[0] == ("Read this first", True)


def test_unpinning_a_topic_sends_it_back_to_its_place(client, moderator, old_and_new):
    topic_curation.pin_topic(moderator, old_and_new, globally=True)
    topic_curation.unpin_topic(moderator, old_and_new)
    rows = list_rows(client.get("/latest").get_data(as_text=True))
    assert rows[-1] == ("Read this first", False)
    assert home_pinned(client.get("/").get_data(as_text=True)) == ""


def test_a_restricted_pinned_topic_stays_hidden_from_those_not_let_in(
    client, member, other_member, moderator, old_and_new
):
    topic_curation.pin_topic(moderator, old_and_new, globally=True)
    old_and_new.is_restricted = True
    old_and_new.embargo_until = utcnow() + timedelta(days=30)
    db.session.commit()
    for reader in (None, other_member):
        if reader is not None:
            client.login(reader)
        for url in ("/latest", "/"):
            assert "Read this first" not in client.get(url).get_data(as_text=True), (reader, url)
    client.logout()
    client.login(member)  # its author still finds it pinned
    assert "Read this first" in home_pinned(client.get("/").get_data(as_text=True))
    assert list_rows(client.get("/latest").get_data(as_text=True))[0] == ("Read this first", True)


def test_a_pinned_topic_in_a_members_only_area_is_not_shown_to_visitors(client, moderator):
    meta = topic_areas.get_category("meta")
    meta.is_members_only = True
    db.session.commit()
    topic = make_topic(meta, author=moderator, title="Members' meeting notes")
    topic_curation.pin_topic(moderator, topic, globally=True)
    for url in ("/latest", "/"):
        assert "meeting notes" not in client.get(url).get_data(as_text=True), url
    client.login(make_user())
    assert "meeting notes" in home_pinned(client.get("/").get_data(as_text=True))


def test_the_home_page_shows_at_most_a_few_pinned_topics(client, moderator, member, safety):
    from forum.services.topic_lists import PINNED_ON_HOME

    for i in range(PINNED_ON_HOME + 2):
        topic_curation.pin_topic(
            moderator, make_topic(safety, author=member, title=f"Pin {i}"), globally=True
        )
    pinned = home_pinned(client.get("/").get_data(as_text=True))
    assert pinned.count("<li>") == PINNED_ON_HOME
    assert "Pin 0<" not in pinned and f"Pin {PINNED_ON_HOME + 1}<" in pinned  # most active first


def test_latest_and_the_home_page_read_forum_wide_pins_down_their_index(
    client, moderator, other_member, old_and_new
):
    """No sort of every topic: SQLite walks ix_topics_global_pin_activity and stops at the page."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    topic_curation.pin_topic(moderator, old_and_new, globally=True)
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if "ORDER BY topics.is_pinned_globally DESC" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        for url in ("/latest", "/"):
            client.get(url)
        client.login(other_member)
        for url in ("/latest", "/"):
            client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(seen) == 4
    with db.engine.connect() as conn:
        for statement, parameters in seen:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            plan = [row[3] for row in rows]
            assert any("USING INDEX ix_topics_global_pin_activity" in step for step in plan), plan
            # The page's ids are picked walking the index (no sort of every topic); only the
            # page itself, at most 30 rows, may be put in order afterwards at the top level.
            sorts = [row for row in rows if "TEMP B-TREE" in row[3]]
            assert all(row[1] == 0 and "ORDER BY" in row[3] for row in sorts), plan
