"""The read API (issue 16): what it shows is what the pages show the same reader, its lists walk
by cursor without repeats or gaps, its errors are JSON, and personal read tokens read as their
member until revoked. schemathesis holds every answer to /api/v1/openapi.json."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import select

from forum.extensions import db
from forum.models import ApiToken, Role, TopicAccess, TopicKind
from forum.models.types import utcnow
from forum.services import api_tokens, moderation, posting, tags, topic_areas, voting
from tests.conftest import running_app
from tests.factories import (
    close_round,
    make_agenda_item,
    make_post,
    make_round,
    make_topic,
    make_user,
)
from tests.test_migration_downgrades import flask_db, migrated_app, version  # noqa: F401

TOKEN_ON_PAGE = re.compile(r'<code dir="ltr" id="new-token">([^<]+)</code>')


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def token_for(user) -> str:
    return api_tokens.create_token(user, name="Notebook")[1]


def restrict(topic, *, let_in=()) -> None:
    """Restricted until an embargo a month away, with these members let in."""
    topic.is_restricted = True
    topic.embargo_until = utcnow() + timedelta(days=30)
    for person in let_in:
        db.session.add(TopicAccess(topic_id=topic.id, user_id=person.id))
    db.session.commit()


def titles(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["title"] for item in response.json["items"]]


def walk(client, url: str, *, headers=None) -> list[dict]:
    """Every item of a list, following next_cursor to the last page."""
    items, cursor, pages = [], None, 0
    while True:
        joiner = "&" if "?" in url else "?"
        answer = client.get(url + (f"{joiner}cursor={cursor}" if cursor else ""), headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body = answer.json
        items += body.get("items", body.get("posts"))
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert pages < 100, "the cursor never ends"


# --- Visibility: as the pages -------------------------------------------------------------


def test_a_restricted_topic_is_absent_for_visitors_and_found_with_a_let_in_members_token(
    client, member, other_member, safety
):
    open_topic = make_topic(safety, author=member, title="Refusal benchmarks")
    secret = make_topic(safety, author=member, title="A working jailbreak")
    restrict(secret, let_in=[other_member])
    outsider = make_user()

    assert titles(client.get("/api/v1/topics")) == ["Refusal benchmarks"]
    assert client.get(f"/api/v1/topics/{secret.id}").status_code == 404
    assert titles(client.get("/api/v1/topics", headers=bearer(token_for(outsider)))) == [
        "Refusal benchmarks"
    ]
    let_in = bearer(token_for(other_member))
    assert set(titles(client.get("/api/v1/topics", headers=let_in))) == {
        "Refusal benchmarks",
        "A working jailbreak",
    }
    found = client.get(f"/api/v1/topics/{secret.id}", headers=let_in)
    assert found.status_code == 200
    assert found.json["topic"]["is_restricted"] is True
    assert [p["body"] for p in found.json["posts"]] == ["What do we know about this?"]
    assert client.get(f"/api/v1/topics/{open_topic.id}").status_code == 200


def test_a_members_only_area_is_absent_for_visitors_and_read_with_a_members_token(client, member):
    meta = topic_areas.get_category("meta")
    meta.is_members_only = True
    db.session.commit()
    inside = make_topic(meta, author=member, title="Who runs the forum")

    assert titles(client.get("/api/v1/topics")) == []
    assert client.get(f"/api/v1/topics/{inside.id}").status_code == 404
    assert client.get("/api/v1/topics?area=meta").status_code == 404  # as an unknown area
    token = bearer(token_for(member))
    assert titles(client.get("/api/v1/topics?area=meta", headers=token)) == ["Who runs the forum"]
    assert client.get(f"/api/v1/topics/{inside.id}", headers=token).status_code == 200


def test_a_hidden_posts_body_is_absent_except_for_moderators_and_a_waiting_post_is_absent(
    client, member, other_member, moderator, topic
):
    hidden = make_post(topic, author=other_member, body="Selling exploit kits here")
    moderation.hide_post(moderator, hidden, reason="Spam")
    waiting = make_post(topic, author=other_member, body="My first post")
    waiting.awaiting_review = True
    db.session.commit()

    def posts(headers=None) -> dict[int, dict]:
        answer = client.get(f"/api/v1/topics/{topic.id}", headers=headers)
        return {post["id"]: post for post in answer.json["posts"]}

    for reader in (None, bearer(token_for(member))):
        shown = posts(reader)
        assert shown[hidden.id]["state"] == "hidden"
        assert shown[hidden.id]["body"] is None and shown[hidden.id]["body_html"] is None
        assert waiting.id not in shown
        assert "Selling exploit kits" not in client.get(
            f"/api/v1/topics/{topic.id}", headers=reader
        ).get_data(as_text=True)
    as_moderator = posts(bearer(token_for(moderator)))
    assert as_moderator[hidden.id]["body"] == "Selling exploit kits here"
    assert as_moderator[waiting.id]["body"] == "My first post"
    assert posts(bearer(token_for(other_member)))[waiting.id]["body"] == "My first post"


def test_an_id_the_reader_may_not_see_gets_the_same_404_as_a_missing_id(
    client, member, moderator, safety
):
    secret = make_topic(safety, author=member, title="Embargoed finding")
    restrict(secret)
    item = make_agenda_item(member)
    restrict(item.topic)
    missing = client.get("/api/v1/topics/987654")
    assert missing.status_code == 404 and missing.is_json
    for url in (f"/api/v1/topics/{secret.id}", f"/api/v1/agenda/{item.id}"):
        unseen = client.get(url)
        assert (unseen.status_code, unseen.json) == (missing.status_code, missing.json)
    assert client.get("/api/v1/agenda/987654").json == missing.json
    assert client.get("/api/v1/rounds/987654").json == missing.json
    assert client.get("/api/v1/topics/99999999999999999999").json == missing.json
    assert client.get("/api/v1/no-such-thing").json == missing.json
    token = bearer(token_for(moderator))
    assert client.get(f"/api/v1/agenda/{item.id}", headers=token).status_code == 200
    assert titles(client.get("/api/v1/agenda")) == []


# --- Cursors ------------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ["latest", "newest", "votes"])
def test_walking_every_page_of_topics_shows_each_topic_once(client, member, safety, sort):
    # Several topics share their moment: the id breaks the tie, so none repeats or goes missing.
    moment = utcnow() - timedelta(hours=1)
    made = [
        make_topic(safety, author=member, now=moment if i % 3 else None, title=f"Topic {i:02d}")
        for i in range(23)
    ]
    walked = walk(client, f"/api/v1/topics?sort={sort}&limit=4")
    ids = [item["id"] for item in walked]
    assert len(ids) == len(set(ids)) == len(made)
    assert set(ids) == {t.id for t in made}
    one_page = client.get(f"/api/v1/topics?sort={sort}&limit=100").json["items"]
    assert ids == [item["id"] for item in one_page]  # the pages, end to end, are the list


def test_the_topics_filters_are_the_lists_filters(client, member, moderator, safety):
    security = topic_areas.get_category("security")
    question = make_topic(safety, author=member, title="How to red-team?", kind=TopicKind.QUESTION)
    make_topic(safety, author=member, title="A discussion")
    make_topic(security, author=member, title="Elsewhere")
    tag = tags.create_tag(moderator, name="Red teaming")
    posting.set_tags(question, [tag.id])
    db.session.commit()

    assert set(titles(client.get("/api/v1/topics?area=safety"))) == {
        "How to red-team?",
        "A discussion",
    }
    assert titles(client.get("/api/v1/topics?kind=question")) == ["How to red-team?"]
    assert titles(client.get("/api/v1/topics?tag=red-teaming&area=safety")) == ["How to red-team?"]
    assert client.get("/api/v1/topics?tag=no-such-tag").status_code == 404


def test_walking_a_long_topic_gives_its_posts_in_thread_order_once(client, member, topic):
    parent = None
    for i in range(17):
        parent = make_post(
            topic, author=member, body=f"Reply {i}", parent=parent if i % 2 else None
        )
    posts = walk(client, f"/api/v1/topics/{topic.id}?limit=5")
    assert len(posts) == 18 and len({p["id"] for p in posts}) == 18
    whole = client.get(f"/api/v1/topics/{topic.id}?limit=100").json["posts"]
    assert [p["id"] for p in posts] == [p["id"] for p in whole]


def test_agenda_items_and_rounds_walk_by_cursor_and_a_closed_round_shows_frozen_results(
    client, member, moderator
):
    items = [make_agenda_item(member) for _ in range(5)]
    open_round = make_round(moderator, items[:2], method="budget")
    voting.cast_ballot(member, open_round, entries={items[0].id: 3})
    closed = close_round(make_round(moderator, items[:3], method="budget"))

    agenda = walk(client, "/api/v1/agenda?limit=2")
    assert [a["id"] for a in agenda] == [i.id for i in items]
    rounds = walk(client, "/api/v1/rounds?limit=1")
    assert {r["id"] for r in rounds} == {open_round.id, closed.id}

    still_open = client.get(f"/api/v1/rounds/{open_round.id}").json
    assert still_open["state"] == "open" and still_open["results"] is None
    frozen = client.get(f"/api/v1/rounds/{closed.id}").json
    assert frozen["state"] == "closed" and frozen["results_published_at"]
    assert frozen["results"]["participation"]["voters"] == 0
    assert frozen["results"]["ballots_sha256"] == closed.ballots_sha256
    item = client.get(f"/api/v1/agenda/{items[0].id}").json
    assert [r["round_id"] for r in item["results"]] == [closed.id]


# --- Bad parameters: 400 JSON, never 500 ----------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=99999999999999999999999999999",
        "limit=%D9%A3",  # ٣, an Arabic-Indic three
        "limit=%C2%B2",  # ², a superscript two
        "limit=",
        "sort=random",
        "kind=poem",
        "cursor=garbage",
        "cursor=%00",
        "area=%00",
        "cursor=" + "x" * 5000,
    ],
)
def test_a_parameter_the_api_cannot_read_is_a_400_in_json(client, query):
    answer = client.get(f"/api/v1/topics?{query}")
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.json["error"]["code"] in {"bad_parameter", "bad_cursor", "bad_request"}
    assert answer.json["error"]["message"]


def test_a_cursor_from_another_list_or_ordering_is_refused(client, member, safety):
    for _ in range(3):
        make_topic(safety, author=member)
    cursor = client.get("/api/v1/topics?limit=1").json["next_cursor"]
    assert client.get(f"/api/v1/topics?limit=1&cursor={cursor}").status_code == 200
    assert client.get(f"/api/v1/topics?sort=votes&cursor={cursor}").status_code == 400
    assert client.get(f"/api/v1/rounds?cursor={cursor}").status_code == 400
    assert client.get(f"/api/v1/topics?cursor={cursor[:-2]}").status_code == 400


def test_the_api_only_reads(client, member):
    answer = client.post("/api/v1/topics", headers=bearer(token_for(member)), csrf=False)
    assert answer.status_code == 405 and answer.json["error"]["code"] == "method_not_allowed"


# --- Personal read tokens -------------------------------------------------------------------


def test_a_member_makes_a_token_sees_it_once_reads_with_it_and_revokes_it(client, member, safety):
    meta = topic_areas.get_category("meta")
    meta.is_members_only = True
    db.session.commit()
    make_topic(meta, author=member, title="Members only notes")
    client.login(member)
    assert client.post("/settings/tokens", data={"name": "Notebook"}, csrf=False).status_code == 400

    made = client.post("/settings/tokens", data={"name": "Reading-list notebook"})
    assert made.status_code == 201
    secret = TOKEN_ON_PAGE.search(made.get_data(as_text=True)).group(1)
    stored = db.session.scalar(select(ApiToken).where(ApiToken.user_id == member.id))
    assert stored.name == "Reading-list notebook" and stored.last_used_at is None
    assert secret not in stored.token_hash and stored.token_hash == api_tokens.hash_token(secret)
    again = client.get("/settings/tokens").get_data(as_text=True)
    assert "Reading-list notebook" in again and secret not in again  # shown once only

    client.logout()
    reader = client.application.test_client()  # no cookie at all: the token alone
    assert titles(reader.get("/api/v1/topics", headers=bearer(secret))) == ["Members only notes"]
    db.session.refresh(stored)
    assert stored.last_used_at is not None

    client.login(member)
    assert "Never" not in client.get("/settings/tokens").get_data(as_text=True)
    revoked = client.post(f"/settings/tokens/{stored.id}/revoke", follow_redirects=True)
    assert "is revoked" in revoked.get_data(as_text=True)
    refused = reader.get("/api/v1/topics", headers=bearer(secret))
    assert refused.status_code == 401 and refused.json["error"]["code"] == "unauthorized"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_a_401_not_a_visitor(client):
    for header in ("Bearer forum_nope", "Bearer ", "Basic dXNlcjpwYXNz", "forum_nope"):
        answer = client.get("/api/v1/topics", headers={"Authorization": header})
        assert answer.status_code == 401, header
        assert answer.json["error"]["code"] == "unauthorized"


def test_a_suspended_members_token_is_refused_until_the_suspension_ends(client, member, moderator):
    secret = token_for(member)
    moderation.suspend_member(
        moderator, member, until=utcnow() + timedelta(days=3), reason="Cooling off"
    )
    assert client.get("/api/v1/topics", headers=bearer(secret)).status_code == 401
    member.suspended_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/api/v1/topics", headers=bearer(secret)).status_code == 200


def test_a_token_opens_nothing_but_the_read_api(client, member, topic):
    secret = bearer(token_for(member))
    assert client.get("/settings/account", headers=secret).status_code == 302  # to log in
    reply = client.post(
        f"/t/{topic.id}/reply", data={"body": "Written by a script"}, headers=secret, csrf=False
    )
    assert reply.status_code in {302, 400}
    assert "Written by a script" not in client.get(f"/api/v1/topics/{topic.id}").get_data(
        as_text=True
    )


def test_only_the_member_who_made_a_token_can_revoke_it(client, member, other_member):
    token, secret = api_tokens.create_token(member, name="Mine")
    client.login(other_member)
    assert client.post(f"/settings/tokens/{token.id}/revoke").status_code == 404
    assert client.get("/api/v1/topics", headers=bearer(secret)).status_code == 200


# --- Rate limit -------------------------------------------------------------------------------


def test_past_the_api_limit_the_answer_is_429_json_with_retry_after(database_url):
    with running_app(
        database_url, RATELIMIT_ENABLED=True, FORUM_RATE_LIMIT_API="2 per hour"
    ) as app:
        reader = app.test_client()
        for _ in range(2):
            assert reader.get("/api/v1/topics").status_code == 200
        answer = reader.get("/api/v1/topics")
        assert answer.status_code == 429
        error = answer.json["error"]
        assert error["code"] == "rate_limited"
        assert error["retry_after"] == int(answer.headers["Retry-After"]) > 0
        # A member's token has a count of its own, not the address's.
        member = make_user()
        assert reader.get("/api/v1/topics", headers=bearer(token_for(member))).status_code == 200


# --- The migration ------------------------------------------------------------------------------


def test_downgrading_past_0024_refuses_while_members_hold_tokens(migrated_app):  # noqa: F811
    token_for(make_user())
    head = version()
    result = flask_db(migrated_app, "downgrade", "0021")
    assert result.exit_code == 1
    assert "API read tokens members made" in result.output
    assert version() == head


# --- The OpenAPI document, held to the implementation ----------------------------------------


@pytest.fixture
def api_schema(app):
    """The document as the app serves it, over a forum with something of everything in it."""
    member = make_user()
    moderator = make_user(role=Role.MODERATOR)
    safety = topic_areas.get_category("safety")
    question = make_topic(safety, author=member, kind=TopicKind.QUESTION, title="Open question")
    make_post(question, author=moderator, body="An answer")
    hidden = make_post(question, author=moderator, body="Off topic")
    moderation.hide_post(moderator, hidden, reason="Off topic")
    items = [make_agenda_item(member) for _ in range(3)]
    make_round(moderator, items[:2])
    close_round(make_round(moderator, items))
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_the_document_names_every_route_of_the_api_and_nothing_else(app, client):
    served = client.get("/api/v1/openapi.json").json
    assert served["openapi"] == "3.1.0"
    documented = {"/api/v1" + re.sub(r"\{(\w+)\}", r"<int:\1>", path) for path in served["paths"]}
    routes = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")}
    assert routes - {"/api/v1/openapi.json"} == documented
    for name in ("Error", "RateLimited", "Topic", "Post", "AgendaItem", "Round", "RoundDetail"):
        assert name in served["components"]["schemas"]


# Each operation gets this many generated requests (positive: values the document allows), on
# each database: the whole test stays well under a minute.
EXAMPLES_PER_OPERATION = 25


def test_every_answer_matches_the_openapi_document(api_schema):
    """No server error, and every status, header and body as the document says. (Driven by
    hand rather than by schemathesis' pytest plugin, whose fixture-built schemas need a pytest
    internal that pytest 9 removed.)"""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 7

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def answers_as_documented(case) -> None:
            # Uncompressed: schemathesis' WSGI transport does not undo Content-Encoding as an
            # HTTP client does (the app compresses JSON for clients that ask, forum/assets.py).
            # A cursor is any string to the document, but only those the API made are read: the
            # rest are 400 (tested above), so only there is a refused "valid" value expected.
            # Likewise a search text the schema allows may hold no word to look for (only
            # stop words, punctuation or exclusions): refused as bad_query, tested in
            # tests/test_api_search.py.
            headers = {"Accept-Encoding": "identity"}
            response = case.call(headers=headers)
            refused_query = response.status_code == 400 and b'"bad_query"' in response.content
            excluded = (
                [positive_data_acceptance]
                if refused_query or "cursor" in (case.query or {})
                else []
            )
            case.validate_response(response, headers=headers, excluded_checks=excluded)

        answers_as_documented()
