"""Atom feeds (issue 16, point 3): latest topics, each area, each tag, the agenda and round
results parse as Atom 1.0 the way feed readers parse them, carry only what a visitor may read
(whoever fetches them), are linked from their pages and answer 304 to a reader whose copy is
current."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import feedparser
import pytest

from forum.extensions import db
from forum.models.types import utcnow
from forum.services import moderation, posting, tags, topic_areas
from tests.conftest import running_app
from tests.factories import close_round, make_agenda_item, make_round, make_topic, make_user

FEEDS = [
    "/feeds/latest.atom",
    "/feeds/c/safety.atom",
    "/feeds/c/security.atom",
    "/feeds/c/research-agenda.atom",
    "/feeds/tags/evals.atom",
    "/feeds/agenda.atom",
    "/feeds/rounds.atom",
]
# Words that only hidden things carry, in their titles or their bodies.
SECRETS = [
    "EMBARGOED-FINDING-TITLE",
    "EMBARGOED-FINDING-BODY",
    "RESTRICTED-NO-DATE-TITLE",
    "MEMBERS-ONLY-TITLE",
    "MEMBERS-ONLY-BODY",
    "HIDDEN-OPENING-BODY",
    "HIDDEN-REPLY-BODY",
    "AWAITING-REVIEW-TITLE",
    "AWAITING-REVIEW-BODY",
    "PRIVATE-REPORT-TITLE",
    "SECRET-AGENDA-ITEM",
]


@dataclass
class World:
    public: object
    hidden_opening: object
    public_item: object
    round_: object
    author: object


@pytest.fixture
def world(app, member, moderator):
    safety = topic_areas.get_category("safety")
    security = topic_areas.get_category("security")
    meta = topic_areas.get_category("meta")
    meta.is_members_only = True
    db.session.commit()
    member.profile_public = True
    db.session.commit()
    evals = tags.create_tag(moderator, name="evals")

    public = make_topic(
        safety,
        author=member,
        title='Refusals <script>alert("x")</script> & "jailbreaks"',
        body="PUBLIC-BODY with **bold** and <b>raw html</b>",
    )
    posting.set_tags(public, [evals.id])
    db.session.commit()

    finding = posting.create_topic(
        member,
        security,
        title="EMBARGOED-FINDING-TITLE",
        body="EMBARGOED-FINDING-BODY",
        restricted_until=utcnow() + timedelta(days=30),
    )
    posting.set_tags(finding, [evals.id])
    no_date = make_topic(security, author=member, title="RESTRICTED-NO-DATE-TITLE")
    no_date.is_restricted = True
    db.session.commit()
    make_topic(meta, author=member, title="MEMBERS-ONLY-TITLE", body="MEMBERS-ONLY-BODY")
    posting.create_topic(
        member, safety, title="PRIVATE-REPORT-TITLE", body="Look.", private_report=True
    )

    hidden_opening = make_topic(safety, author=member, title="A topic whose opening is hidden")
    hidden_opening.tags.append(evals)
    hidden_reply = posting.post_reply(member, public, body="HIDDEN-REPLY-BODY")
    db.session.commit()
    from forum.services import reading

    opening = reading.topic_posts(hidden_opening, page=1).items[0]
    opening.body = opening.body_html = "HIDDEN-OPENING-BODY"
    db.session.commit()
    moderation.hide_post(moderator, opening, reason="Shares a working exploit")
    moderation.hide_post(moderator, hidden_reply, reason="Shares a working exploit")
    waiting = make_topic(safety, author=member, title="AWAITING-REVIEW-TITLE")
    first = reading.topic_posts(waiting, page=1).items[0]
    first.body = first.body_html = "AWAITING-REVIEW-BODY"
    first.awaiting_review = True
    db.session.commit()

    public_item = make_agenda_item(member, title="Membership inference on clinical notes")
    secret_item = make_agenda_item(member, title="SECRET-AGENDA-ITEM")
    secret_item.topic.is_restricted = True
    secret_item.topic.embargo_until = utcnow() + timedelta(days=30)
    db.session.commit()
    round_ = close_round(make_round(moderator, [public_item, secret_item], title="Spring round"))
    return World(public, hidden_opening, public_item, round_, member)


def parse(response) -> feedparser.FeedParserDict:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.get_data())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


@pytest.mark.parametrize("url", FEEDS)
def test_every_feed_parses_as_atom_1_0_with_its_essentials(client, world, url):
    parsed = parse(client.get(url))
    assert parsed.version == "atom10"
    assert parsed.feed.id.startswith("http://127.0.0.1:5000/feeds/")
    assert parsed.feed.title and parsed.feed.updated_parsed
    assert any(link.rel == "self" and link.href.endswith(url) for link in parsed.feed.links)
    for entry in parsed.entries:
        assert entry.id.startswith("tag:127.0.0.1,")
        assert entry.title and entry.updated_parsed and entry.published_parsed
        assert entry.link.startswith("http://127.0.0.1:5000/")


def test_latest_topics_feed_shows_the_public_topic_escaped_with_its_author(client, world):
    parsed = parse(client.get("/feeds/latest.atom"))
    entry = next(e for e in parsed.entries if "jailbreaks" in e.title)
    assert entry.title == 'Refusals <script>alert("x")</script> & "jailbreaks"'
    assert entry.link.endswith(f"/t/{world.public.id}/{world.public.slug}")
    assert entry.id == f"tag:127.0.0.1,{world.public.created_at:%Y-%m-%d}:topic/{world.public.id}"
    assert entry.author == "Maya Member"
    assert entry.author_detail.href == f"http://127.0.0.1:5000/u/{world.author.id}"
    # The summary is the stored, sanitised HTML: the markup renders, raw HTML does not.
    assert "<strong>bold</strong>" in entry.summary
    assert "<b>" not in entry.summary
    assert {"Safety", "evals"} <= {t.term for t in entry.tags}


def test_an_author_whose_profile_is_private_is_named_without_a_link(client, world):
    world.author.profile_public = False
    db.session.commit()
    entry = parse(client.get("/feeds/latest.atom")).entries[0]
    assert entry.author == "Maya Member"
    assert "href" not in entry.author_detail


@pytest.mark.parametrize("as_moderator", [False, True], ids=["visitor", "moderator"])
def test_no_feed_carries_what_a_visitor_may_not_read(client, world, moderator, as_moderator):
    if as_moderator:  # feeds are what a visitor reads, whoever fetches them
        client.login(moderator)
    for url in FEEDS:
        text = client.get(url).get_data(as_text=True)
        for secret in SECRETS:
            assert secret not in text, (url, secret)


def test_a_topic_whose_opening_post_is_hidden_is_listed_without_its_body(client, world):
    parsed = parse(client.get("/feeds/tags/evals.atom"))
    titles = [e.title for e in parsed.entries]
    assert "A topic whose opening is hidden" in titles
    assert "EMBARGOED-FINDING-TITLE" not in titles
    entry = next(e for e in parsed.entries if e.title == "A topic whose opening is hidden")
    assert "summary" not in entry


def test_agenda_and_round_results_feeds_name_only_readable_items(client, world):
    agenda = parse(client.get("/feeds/agenda.atom"))
    assert [e.title for e in agenda.entries] == ["Membership inference on clinical notes"]
    assert agenda.entries[0].summary.startswith("What we do not know yet")
    assert agenda.entries[0].link.endswith(f"/agenda/{world.public_item.id}")
    rounds = parse(client.get("/feeds/rounds.atom"))
    (entry,) = rounds.entries
    assert entry.title == "Results: Spring round"
    assert entry.link.endswith(f"/rounds/{world.round_.id}")
    assert "Membership inference on clinical notes" in entry.summary


def test_a_round_without_published_results_is_not_in_the_feed(client, world, moderator):
    make_round(moderator, [world.public_item, make_agenda_item(moderator)], title="Open round")
    titles = [e.title for e in parse(client.get("/feeds/rounds.atom")).entries]
    assert titles == ["Results: Spring round"]


@pytest.mark.parametrize(
    "url",
    ["/feeds/c/meta.atom", "/feeds/c/no-such-area.atom", "/feeds/tags/no-such-tag.atom"],
)
def test_feeds_of_unknown_or_members_only_places_are_not_found(client, world, member, url):
    assert client.get(url).status_code == 404
    client.login(member)  # a member too: feed readers do not log in, so there is no such feed
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("page", "feed"),
    [
        ("/", "/feeds/latest.atom"),
        ("/latest", "/feeds/latest.atom"),
        ("/c/safety", "/feeds/c/safety.atom"),
        ("/tags/evals", "/feeds/tags/evals.atom"),
        ("/agenda", "/feeds/agenda.atom"),
        ("/agenda", "/feeds/rounds.atom"),
        ("round", "/feeds/rounds.atom"),
    ],
)
def test_each_page_links_its_feed_in_its_head(client, world, page, feed):
    if page == "round":
        page = f"/rounds/{world.round_.id}"
    html = client.get(page).get_data(as_text=True)
    head = html.split("</head>")[0]
    linked = re.findall(
        r'<link rel="alternate" type="application/atom\+xml" title="[^"]+" href="([^"]+)">', head
    )
    assert feed in linked, head


def test_a_members_only_area_links_no_feed(client, world, member):
    client.login(member)
    head = client.get("/c/meta").get_data(as_text=True).split("</head>")[0]
    assert "application/atom+xml" not in head


@pytest.mark.parametrize("url", FEEDS)
def test_a_feed_reader_with_a_current_copy_gets_304(client, world, url):
    first = client.get(url)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert "max-age=300" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.get_data() == b""
    since = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304


def test_a_new_topic_changes_the_feed_and_its_etag(client, world, member):
    first = client.get("/feeds/latest.atom")
    make_topic(topic_areas.get_category("privacy"), author=member, title="A brand new topic")
    again = client.get("/feeds/latest.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    assert parse(again).entries[0].title == "A brand new topic"


def test_the_page_cache_keeps_feeds_for_visitors_as_atom(database_url):
    with running_app(database_url, FORUM_PAGE_CACHE_URL="memory://") as app:
        author = make_user(display_name="Cached Author")
        make_topic(topic_areas.get_category("safety"), author=author, title="Kept in the cache")
        client = app.test_client()
        client.get("/feeds/latest.atom")
        kept = client.get("/feeds/latest.atom")
        assert kept.headers["X-Forum-Cache"] == "hit"
        assert "Kept in the cache" in parse(kept).entries[0].title
        again = client.get("/feeds/latest.atom", headers={"If-None-Match": kept.headers["ETag"]})
        assert again.status_code == 304
        make_topic(topic_areas.get_category("safety"), author=author, title="After a write")
        fresh = client.get("/feeds/latest.atom")
        assert parse(fresh).entries[0].title == "After a write"


def test_control_characters_never_break_the_feed(client, world, moderator):
    world.public.title = "Bell\x07 and vertical\x0btab"
    db.session.commit()
    parsed = parse(client.get("/feeds/latest.atom"))
    assert "Bell and verticaltab" in [e.title for e in parsed.entries]


def test_a_reader_asking_in_arabic_gets_the_feed_titled_in_arabic(client, world):
    response = client.get("/feeds/latest.atom", headers={"Accept-Language": "ar"})
    parsed = parse(response)
    assert parsed.feed.title.startswith("أحدث الموضوعات")
    assert 'xml:lang="ar"' in response.get_data(as_text=True)
    assert "Accept-Language" in response.headers["Vary"]
