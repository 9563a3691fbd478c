"""Search in the read API (issue 16): /api/v1/search finds what /search finds for the same reader,
with the same filters, a page at a time by cursor, and never a post the reader may not read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forum.models import TopicKind
from forum.models.types import utcnow
from forum.services import moderation, topic_areas
from forum.services.fulltext import SearchFilters, SearchOrder, search
from tests.factories import make_post, make_topic, make_user
from tests.test_api import bearer, restrict, token_for


@pytest.fixture
def privacy(app):
    return topic_areas.get_category("privacy")


def post_ids(answer) -> list[int]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [hit["post"]["id"] for hit in answer.json["items"]]


def walk(client, url: str, *, headers=None) -> list[int]:
    """Every post id a search finds, following next_cursor to the last page."""
    ids, cursor = [], None
    for _ in range(100):
        answer = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        ids += post_ids(answer)
        cursor = answer.json["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("the cursor never ends")


def test_a_restricted_topic_is_found_only_with_a_let_in_members_token(
    client, member, other_member, safety
):
    secret = make_topic(safety, author=member, title="A working jailbreak recipe")
    restrict(secret, let_in=[other_member])

    assert post_ids(client.get("/api/v1/search?q=jailbreak")) == []
    assert (
        post_ids(client.get("/api/v1/search?q=jailbreak", headers=bearer(token_for(make_user()))))
        == []
    )
    found = client.get("/api/v1/search?q=jailbreak", headers=bearer(token_for(other_member)))
    assert len(post_ids(found)) == 1
    hit = found.json["items"][0]
    assert hit["topic"]["id"] == secret.id and hit["topic"]["title"] == "A working jailbreak recipe"
    assert hit["post"]["number"] == 1


def test_a_snippet_is_escaped_text_with_only_the_words_asked_marked(client, member, topic):
    make_post(topic, author=member, body="Canary <script>alert(1)</script> strings leak.")

    [hit] = client.get("/api/v1/search?q=canary").json["items"]

    assert (
        hit["snippet"] == "<mark>Canary</mark> &lt;script&gt;alert(1)&lt;/script&gt; strings leak"
    )


def test_a_hidden_post_is_found_by_moderators_only_and_its_words_never_reach_others(
    client, member, other_member, moderator, topic
):
    hidden = make_post(topic, author=other_member, body="Selling exploit kits here")
    moderation.hide_post(moderator, hidden, reason="Spam")

    for headers in (None, bearer(token_for(member))):
        answer = client.get("/api/v1/search?q=exploit+kits", headers=headers)
        assert post_ids(answer) == []
        assert "Selling" not in answer.get_data(as_text=True)
    as_moderator = client.get("/api/v1/search?q=exploit+kits", headers=bearer(token_for(moderator)))
    assert post_ids(as_moderator) == [hidden.id]


def test_the_filters_are_the_search_pages_filters(client, member, other_member, privacy, safety):
    then = utcnow() - timedelta(days=30)
    make_topic(privacy, author=member, title="Canary leakage", kind=TopicKind.QUESTION, now=then)
    make_topic(privacy, author=member, title="Canary leakage", kind=TopicKind.QUESTION)
    make_topic(privacy, author=other_member, title="Canary leakage")
    make_topic(safety, author=member, title="Canary leakage", kind=TopicKind.QUESTION)
    since = (utcnow() - timedelta(days=1)).date()
    cases = [
        ("", SearchFilters()),
        ("&area=privacy", SearchFilters(area="privacy")),
        ("&area=privacy&kind=question", SearchFilters(area="privacy", kind="question")),
        (f"&kind=question&since={since}", SearchFilters(kind="question", since=since)),
        (f"&author={other_member.handle}", SearchFilters(author=other_member.handle)),
        ("&answered=answered", SearchFilters(answered="answered")),
        (f"&until={then.date()}", SearchFilters(until=then.date())),
    ]
    token = bearer(token_for(member))
    for order in SearchOrder:
        for query, filters in cases:
            page = search(member, "canary", filters=filters, order=order)
            expected = [hit.post.id for hit in page.hits]
            url = f"/api/v1/search?q=canary&order={order}{query}"
            assert post_ids(client.get(url, headers=token)) == expected, url
    assert len(post_ids(client.get("/api/v1/search?q=canary&area=privacy"))) == 3


@pytest.mark.parametrize("order", ["relevance", "date"])
def test_walking_every_page_of_a_search_shows_each_post_once(client, member, safety, order):
    topic = make_topic(safety, author=member, title="Canary audits", body="Canary one.")
    now = utcnow()
    # Some written long ago and imported today: new ids, old dates.
    for n, days in enumerate([3, 400, 2, 900, 1, 60, 5]):
        make_post(topic, author=member, body=f"Canary {n}.", now=now - timedelta(days=days))

    walked = walk(client, f"/api/v1/search?q=canary&order={order}&limit=3")

    everything = search(member, "canary", order=SearchOrder(order))
    assert walked == [hit.post.id for hit in everything.hits]
    assert len(walked) == 8
    if order == "date":
        dates = [hit.post.created_at for hit in everything.hits]
        assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("q=", "bad_query"),
        ("q=-canary", "bad_query"),
        ("q=the+and+of", "bad_query"),
        ("q=" + "x" * 501, "bad_query"),
        ("q=" + "+".join(f"w{n}" for n in range(13)), "bad_query"),
        ("q=canary&since=yesterday", "bad_parameter"),
        ("q=canary&order=random", "bad_parameter"),
        ("q=canary&kind=poem", "bad_parameter"),
        ("q=canary&limit=0", "bad_parameter"),
        ("q=canary&cursor=garbage", "bad_cursor"),
    ],
)
def test_a_search_the_api_cannot_run_is_a_400_that_says_why(client, query, code):
    answer = client.get(f"/api/v1/search?{query}")
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.json["error"]["code"] == code and answer.json["error"]["message"]


def test_the_last_day_and_the_first_are_dates_like_any_other(client, member, safety):
    make_topic(safety, author=member, title="Canary audits")
    assert len(post_ids(client.get("/api/v1/search?q=canary&until=9999-12-31"))) == 1
    assert len(post_ids(client.get("/api/v1/search?q=canary&since=0001-01-01"))) == 1
    assert post_ids(client.get("/api/v1/search?q=canary&until=0001-01-01")) == []


def test_a_cursor_from_the_other_order_is_refused(client, member, safety):
    for _ in range(3):
        make_topic(safety, author=member, title="Canary audits")
    by_date = client.get("/api/v1/search?q=canary&order=date&limit=1").json["next_cursor"]
    assert client.get(f"/api/v1/search?q=canary&order=date&cursor={by_date}").status_code == 200
    assert client.get(f"/api/v1/search?q=canary&cursor={by_date}").status_code == 400
    assert client.get(f"/api/v1/topics?cursor={by_date}").status_code == 400
