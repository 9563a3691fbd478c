"""Who may see what: every reader x every topic and post state, for the one rule in its two forms.

forum/permissions.py answers "may this reader see it?" twice: in Python for one topic or post
(``can_view_topic``, ``can_view_post``, ``can_see_post_body``) and in SQL for every list, count,
feed, digest and export (``readable_topics``, ``readable_posts``, ``visible_posts``). Here both
forms are asked about every cell of the matrix below, and both must give the answer the table
says. The table is written out by hand from the rules' docstrings, so a change to the rule that
nobody meant shows up as a cell that no longer matches (issue 11).

Two guards keep the matrix complete: every role and user state has a reader here, and every
column the SQL clauses read is one that some state (or reader) of the matrix varies. Agenda
items follow the same rule through their discussion topic (forum/permissions.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import request_finished
from flask_login import AnonymousUserMixin, current_user
from sqlalchemy import Column, and_, func, select
from sqlalchemy.sql import visitors

from forum import create_app
from forum.extensions import db
from forum.models import (
    AgendaItem,
    Category,
    Post,
    Role,
    Topic,
    TopicAccess,
    User,
    UserState,
)
from forum.models.types import utcnow
from forum.permissions import (
    ANY_MEMBER,
    can_see_post_body,
    can_view_agenda_item,
    can_view_post,
    can_view_topic,
    listed_topics,
    readable_agenda_items,
    readable_posts,
    readable_topics,
    restricted_topics_maybe_readable,
    syndicated_topics,
    visible_posts,
)
from forum.services import (
    moderation,
    posting,
    reading,
    topic_areas,
    topic_counts,
    topic_lists,
)
from forum.services.accounts import hash_token
from tests.conftest import _empty_tables, app_config
from tests.factories import (
    make_agenda_item,
    make_application,
    make_post,
    make_topic,
    make_user,
)
from tests.helpers import FormClient

# --- The readers -------------------------------------------------------------------------------

ROLES = [
    "anonymous",
    "applicant",  # a visitor holding their application's private status link: anonymous
    "member",
    "author",  # wrote every topic and post of the matrix
    "invited_member",  # let into the restricted topic (a TopicAccess row)
    "uninvited_member",
    "suspended_member",  # UserState.SUSPENDED
    "suspended_moderator",  # suspended_until in the future (a suspension that ends by itself)
    "suspended_admin",  # the same, for an admin
    "moderator",
    "admin",
    "any_member",  # permissions.ANY_MEMBER: what every member may read (shared digests)
]
EVERYONE = frozenset(ROLES)
VISITORS = frozenset({"anonymous", "applicant"})
MEMBERS = EVERYONE - VISITORS
# Moderator powers, privileged reading included, pause while the account is suspended.
STAFF = frozenset({"moderator", "admin"})
NOBODY: frozenset[str] = frozenset()

# --- The states ----------------------------------------------------------------------------------
# Each state is a topic and a post: for topic states, the topic's opening post; for post states,
# a reply in an otherwise public topic. "topic", "post" and "body" are the readers for whom
# can_view_topic, can_view_post and can_see_post_body allow (and readable_topics, readable_posts
# and visible_posts include the row).


def same(readers: frozenset[str]) -> dict[str, frozenset[str]]:
    return {"topic": readers, "post": readers, "body": readers}


EXPECTED: dict[str, dict[str, frozenset[str]]] = {
    "public_topic": same(EVERYONE),
    # Members-only areas are for signed-in members, suspended ones included (they may read).
    "members_only_topic": same(MEMBERS),
    # Until the embargo ends: the author, the moderators and the members let in.
    "restricted_before_embargo": same(STAFF | {"author", "invited_member"}),
    # No end date: under embargo until someone lifts it (nobody was let in here).
    "restricted_without_end_date": same(STAFF | {"author"}),
    # The embargo ended: open to all by the clock, though is_restricted is still set.
    "restricted_after_embargo": same(EVERYONE),
    # A merged-away topic only redirects: nobody reads it, moderators included.
    "merged_topic": same(NOBODY),
    # Deleted posts keep their place (a placeholder); nobody sees the body.
    "deleted_post": {"topic": EVERYONE, "post": EVERYONE, "body": NOBODY},
    # Hidden posts show their reason; moderators (not suspended) still see the body.
    "hidden_post": {"topic": EVERYONE, "post": EVERYONE, "body": STAFF},
    # Waiting for first-post review: there only for its author and the moderators.
    "post_awaiting_review": {
        "topic": EVERYONE,
        "post": STAFF | {"author"},
        "body": STAFF | {"author"},
    },
    # A private report is between its author and the moderators; an access row does not open it.
    "private_report": same(STAFF | {"author"}),
}
STATES = list(EXPECTED)

# Every column the SQL clauses read, and the state (or reader) of the matrix that varies it.
# A rule that starts reading a new column fails test_every_column_the_sql_rules_read_is_varied
# until a state here makes that column matter.
COLUMN_VARIED_BY = {
    "topics.merged_into_id": "merged_topic",
    "topics.is_private_report": "private_report",
    "topics.is_restricted": "restricted_before_embargo",
    "topics.embargo_until": "restricted_after_embargo",
    "topics.category_id": "members_only_topic",
    "categories.id": "members_only_topic",
    "categories.is_members_only": "members_only_topic",
    "topics.author_id": "author",
    "topics.id": "invited_member",
    "topic_access.topic_id": "invited_member",
    "topic_access.user_id": "invited_member",
    "posts.awaiting_review": "post_awaiting_review",
    "posts.author_id": "author",
    "posts.deleted_at": "deleted_post",
    "posts.hidden_at": "hidden_post",
}

RULES = {
    "topic": (can_view_topic, readable_topics),
    "post": (can_view_post, readable_posts),
    "body": (can_see_post_body, visible_posts),
}


@dataclass
class Place:
    topic: Topic
    post: Post


# Agenda items are as visible as their discussion topic (or the topic it was merged into).
ITEM_READERS = {
    "item_with_open_discussion": EVERYONE,
    "item_with_restricted_discussion": STAFF | {"author", "invited_member"},
    "item_merged_into_an_open_topic": EVERYONE,
    "item_merged_into_a_restricted_topic": STAFF | {"author", "invited_member"},
}


@dataclass
class World:
    people: dict
    places: dict[str, Place]
    items: dict[str, AgendaItem]


# --- The world, built once for the module ------------------------------------------------------


@pytest.fixture(scope="module")
def world(database_url):
    """Built once (the matrix has hundreds of cases, and they only read it)."""
    app = create_app(app_config(database_url))
    app.test_client_class = FormClient
    with app.app_context():
        _empty_tables()
        topic_areas.ensure_default_categories()
        yield _build_world(app)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def read_only(world):
    """Nothing a case does outlives it."""
    yield
    db.session.rollback()


def _applicant(app) -> AnonymousUserMixin:
    """The reader a visitor is to the app after opening their application's status link."""
    token = "private-status-link-of-the-applicant"
    application = make_application()
    application.token_hash = hash_token(token)
    db.session.commit()
    seen = []

    def remember_reader(sender, response, **extra) -> None:
        seen.append(current_user._get_current_object())

    client = app.test_client()
    with request_finished.connected_to(remember_reader, app):
        response = client.get(f"/apply/status/{token}")
    assert response.status_code == 200, "the status link should open the application's page"
    return seen[-1]


def _build_world(app) -> World:
    later = utcnow() + timedelta(days=30)
    earlier = utcnow() - timedelta(days=1)
    author = make_user(display_name="Author")
    people = {
        "anonymous": AnonymousUserMixin(),
        "applicant": _applicant(app),
        "member": make_user(),
        "author": author,
        "invited_member": make_user(),
        "uninvited_member": make_user(),
        "suspended_member": make_user(),
        "suspended_moderator": make_user(role=Role.MODERATOR),
        "suspended_admin": make_user(role=Role.ADMIN),
        "moderator": make_user(role=Role.MODERATOR),
        "admin": make_user(role=Role.ADMIN),
        "any_member": ANY_MEMBER,
    }
    people["suspended_member"].state = UserState.SUSPENDED
    people["suspended_moderator"].suspended_until = later
    people["suspended_admin"].suspended_until = later
    db.session.commit()
    invited = people["invited_member"]
    safety = topic_areas.get_category("safety")
    security = topic_areas.get_category("security")
    members_only = topic_areas.get_category("meta")
    members_only.is_members_only = True
    db.session.commit()

    def topic_place(topic: Topic) -> Place:
        return Place(topic, reading.topic_posts(topic, page=1).items[0])

    def reply_place(**changes) -> Place:
        topic = make_topic(safety, author=author)
        post = make_post(topic, author=author)
        for name, value in changes.items():
            setattr(post, name, value)
        db.session.commit()
        return Place(topic, post)

    public = make_topic(safety, author=author, title="Public topic")
    restricted = posting.create_topic(
        author,
        security,
        title="Restricted finding",
        body="Steps.",
        restricted_until=later,
        invited=[invited],
    )
    no_end_date = make_topic(security, author=author, title="Restricted with no end date")
    no_end_date.is_restricted = True
    opened = posting.create_topic(
        author,
        security,
        title="Finding out of embargo",
        body="Steps.",
        restricted_until=later,
        invited=[invited],
    )
    opened.embargo_until = earlier  # the clock passed the embargo date
    merged = make_topic(safety, author=author, title="Merged away")
    merged.merged_into_id = public.id
    report = posting.create_topic(
        author, safety, title="A private report", body="Look at this.", private_report=True
    )
    db.session.add(TopicAccess(topic_id=report.id, user_id=invited.id))
    db.session.commit()

    deleted = reply_place()
    posting.delete_post(author, deleted.post)
    hidden = reply_place()
    moderation.hide_post(people["moderator"], hidden.post, reason="Shares a working exploit")
    places = {
        "public_topic": topic_place(public),
        "members_only_topic": topic_place(make_topic(members_only, author=author)),
        "restricted_before_embargo": topic_place(restricted),
        "restricted_without_end_date": topic_place(no_end_date),
        "restricted_after_embargo": topic_place(opened),
        "merged_topic": topic_place(merged),
        "deleted_post": deleted,
        "hidden_post": hidden,
        "post_awaiting_review": reply_place(awaiting_review=True),
        "private_report": topic_place(report),
    }
    items = {name: make_agenda_item(author) for name in ITEM_READERS}
    hidden_discussion = items["item_with_restricted_discussion"].topic
    hidden_discussion.is_restricted, hidden_discussion.embargo_until = True, later
    db.session.add(TopicAccess(topic_id=hidden_discussion.id, user_id=invited.id))
    items["item_merged_into_an_open_topic"].topic.merged_into_id = public.id
    items["item_merged_into_a_restricted_topic"].topic.merged_into_id = restricted.id
    db.session.commit()
    return World(people, places, items)


# --- The guards ----------------------------------------------------------------------------------


def test_the_table_has_a_row_for_every_state_and_names_only_known_readers():
    assert set(STATES) == set(EXPECTED)
    for state, row in EXPECTED.items():
        assert set(row) == set(RULES), state
        for readers in row.values():
            assert readers <= EVERYONE, (state, readers - EVERYONE)


def test_every_role_and_user_state_has_a_reader_in_the_matrix(world):
    accounts = [p for p in world.people.values() if isinstance(p, User)]
    assert set(world.people) == set(ROLES)
    # Each role both active and suspended: suspension must bind moderators and admins too.
    assert {(u.role, u.is_suspended) for u in accounts} == {
        (role, suspended) for role in Role for suspended in (False, True)
    }
    assert {u.state for u in accounts} == set(UserState)
    assert any(u.state == UserState.ACTIVE and u.is_suspended for u in accounts), (
        "a suspension that ends by itself (suspended_until) must be among the readers"
    )
    assert not world.people["applicant"].is_authenticated
    assert ANY_MEMBER in world.people.values()


def test_each_state_is_what_its_name_says(world):
    now, places = utcnow(), world.places
    author, invited = world.people["author"], world.people["invited_member"]
    restricted = places["restricted_before_embargo"].topic
    assert restricted.is_restricted and restricted.embargo_until > now
    assert invited.id in {a.user_id for a in restricted.access}
    no_end_date = places["restricted_without_end_date"].topic
    assert no_end_date.is_restricted and no_end_date.embargo_until is None
    opened = places["restricted_after_embargo"].topic
    assert opened.is_restricted and opened.embargo_until <= now
    assert places["members_only_topic"].topic.category.is_members_only
    assert places["merged_topic"].topic.merged_into_id == places["public_topic"].topic.id
    assert places["deleted_post"].post.deleted_at is not None
    assert places["hidden_post"].post.hidden_at is not None
    assert places["post_awaiting_review"].post.awaiting_review
    report = places["private_report"].topic
    assert report.is_private_report and report.author_id == author.id
    assert invited.id in {a.user_id for a in report.access}  # an access row that opens nothing
    assert all(p.topic.author_id == author.id for p in places.values())


def _columns(clause) -> set[str]:
    return {
        f"{element.table.name}.{element.name}"
        for element in visitors.iterate(clause)
        if isinstance(element, Column)
    }


def test_every_column_the_sql_rules_read_is_varied_by_a_state_of_the_matrix(world):
    readers = ["anonymous", "member", "suspended_moderator", "moderator", "any_member"]
    read = set()
    for role in readers:
        for _python, sql in RULES.values():
            read |= _columns(sql(world.people[role]))
    unmapped = read - set(COLUMN_VARIED_BY)
    assert not unmapped, (
        f"the visibility rules read {sorted(unmapped)}: add a state (or reader) that varies "
        "each to EXPECTED and COLUMN_VARIED_BY"
    )
    assert set(COLUMN_VARIED_BY.values()) <= set(STATES) | set(ROLES)
    # A state named for a column really gives that column a value the public baseline lacks.
    baseline = world.places["public_topic"]
    for column, state in COLUMN_VARIED_BY.items():
        if state not in EXPECTED:
            continue  # varied by who reads, not by the row (checked in the cases)
        table, name = column.split(".")
        place = world.places[state]
        row, base = {
            "topics": (place.topic, baseline.topic),
            "posts": (place.post, baseline.post),
            "categories": (place.topic.category, baseline.topic.category),
        }[table]
        assert getattr(row, name) != getattr(base, name), f"{state} does not vary {column}"


# --- The cases -----------------------------------------------------------------------------------


def _sql_ids(kind: str, clause) -> set[int]:
    if kind == "topic":
        return set(db.session.scalars(select(Topic.id).where(clause)))
    return set(db.session.scalars(select(Post.id).join(Topic, Post.topic).where(clause)))


def _check(world: World, kind: str, role: str, state: str) -> None:
    python_rule, sql_rule = RULES[kind]
    reader, place = world.people[role], world.places[state]
    thing = place.topic if kind == "topic" else place.post
    decision = python_rule(reader, thing)
    in_sql = thing.id in _sql_ids(kind, sql_rule(reader))
    assert bool(decision) is in_sql, (
        f"{python_rule.__name__} says {bool(decision)} but {sql_rule.__name__} says {in_sql} "
        f"for {role} on {state}"
    )
    expected = role in EXPECTED[state][kind]
    assert bool(decision) is expected, f"{role} on {state}: expected {expected}, got {decision}"
    if not decision and kind != "body":
        # What the reader may not see answers as a missing id does (a 404, never a login).
        assert decision.not_found and not decision.needs_login, decision


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_reader_finds_the_topic_exactly_where_the_table_says_in_both_forms(world, role, state):
    _check(world, "topic", role, state)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_reader_finds_the_post_exactly_where_the_table_says_in_both_forms(world, role, state):
    _check(world, "post", role, state)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_reader_sees_the_post_body_exactly_where_the_table_says_in_both_forms(world, role, state):
    _check(world, "body", role, state)


@pytest.mark.parametrize("role", ROLES)
def test_lists_show_each_reader_what_they_may_read_except_private_reports(world, role):
    reader = world.people[role]
    reports = {p.topic.id for s, p in world.places.items() if s == "private_report"}
    readable = _sql_ids("topic", readable_topics(reader))
    assert _sql_ids("topic", listed_topics(reader)) == readable - reports


@pytest.mark.parametrize("state", list(ITEM_READERS))
@pytest.mark.parametrize("role", ROLES)
def test_reader_finds_an_agenda_item_exactly_where_they_may_read_its_discussion(world, role, state):
    reader, item = world.people[role], world.items[state]
    python = bool(can_view_agenda_item(reader, item))
    in_sql = item.id in set(
        db.session.scalars(
            select(AgendaItem.id).join(Topic, AgendaItem.topic).where(readable_agenda_items(reader))
        )
    )
    assert python is in_sql, f"{role} on {state}: Python {python}, SQL {in_sql}"
    assert python is (role in ITEM_READERS[state]), f"{role} on {state}"


@pytest.mark.parametrize("role", ROLES)
def test_list_totals_from_the_stored_counts_equal_counting_what_the_reader_may_list(world, role):
    """/latest and an area's list count from Category.topic_count (what everyone sees) plus the
    restricted topics this reader may read: the same number as counting with listed_topics."""
    reader = world.people[role]
    _store_counts_as_the_services_keep_them()

    def counted(*conditions) -> int:
        return db.session.scalar(
            select(func.count()).select_from(Topic).where(listed_topics(reader), *conditions)
        )

    assert topic_counts.listed_total(reader) == counted()
    for category in db.session.scalars(select(Category)):
        assert topic_counts.listed_total(reader, category) == counted(
            Topic.category_id == category.id
        ), category.slug


@pytest.mark.parametrize("role", ROLES)
def test_the_index_narrowing_for_restricted_topics_drops_none_the_reader_may_read(world, role):
    """restricted_topics_maybe_readable only narrows: with the rule, it keeps exactly the
    restricted topics readable_topics lets the reader read, in every state of the world."""
    reader = world.people[role]
    restricted = Topic.is_restricted.is_(True)
    narrowed = _sql_ids(
        "topic", and_(restricted_topics_maybe_readable(reader), readable_topics(reader))
    )
    assert narrowed == _sql_ids("topic", and_(restricted, readable_topics(reader)))
    every_restricted = _sql_ids("topic", restricted)
    assert every_restricted, "the world should hold restricted topics"
    assert narrowed <= every_restricted


def _store_counts_as_the_services_keep_them() -> None:
    """The world's topics were put in their states directly: the stored counts set to match."""
    for category in db.session.scalars(select(Category)):
        category.topic_count = sum(
            1
            for t in db.session.scalars(select(Topic).where(Topic.category_id == category.id))
            if t.is_listed_to_all
        )
    db.session.flush()


@pytest.mark.parametrize("role", ROLES)
def test_paging_through_a_list_shows_each_topic_the_reader_may_list_once_in_order(
    world, role, monkeypatch
):
    """Pages past the middle are read from the far end of the list (issue 15): page after
    page, /latest and every area show exactly the topics can_view_topic lets the reader
    read (less private reports), pinned first, then by last activity, newest id first."""
    reader = world.people[role]
    _store_counts_as_the_services_keep_them()
    monkeypatch.setattr(topic_lists, "TOPICS_PER_PAGE", 2)  # the world's lists: many pages
    everything = db.session.scalars(select(Topic)).all()
    for category in [None, *db.session.scalars(select(Category))]:
        may_list = [
            t
            for t in everything
            if (category is None or t.category_id == category.id)
            and can_view_topic(reader, t)
            and not t.is_private_report
        ]
        pinned = (lambda t: t.is_pinned_globally) if category is None else (lambda t: t.is_pinned)
        expected = [
            t.id for t in sorted(may_list, key=lambda t: (pinned(t), t.last_post_at, t.id))
        ][::-1]
        first = topic_lists.topic_list(reader, topic_lists.ListQuery(), category=category)
        shown = []
        for page in range(1, first.page.pages + 1):
            listed = topic_lists.topic_list(
                reader, topic_lists.ListQuery(page=page), category=category
            )
            assert listed.page.page == page
            shown += [t.id for t in listed.page.items]
        where = category.slug if category else "/latest"
        assert first.page.total == len(expected), where
        assert shown == expected, where


def test_feeds_carry_every_topic_a_visitor_may_read_and_nothing_else(world):
    """The feeds' rule (issue 16) against the Python check, over every topic state: a visitor's
    topics less private reports (and those whose opening post waits for review)."""
    opening = and_(Post.topic_id == Topic.id, Post.number == 1)
    fed = set(db.session.scalars(select(Topic.id).join(Post, opening).where(syndicated_topics())))
    expected = {
        place.topic.id
        for place in world.places.values()
        if can_view_topic(None, place.topic)
        and not place.topic.is_private_report
        and not db.session.scalar(
            select(Post.awaiting_review).where(Post.topic_id == place.topic.id, Post.number == 1)
        )
    }
    every_topic = {place.topic.id for place in world.places.values()}
    assert fed & every_topic == expected
