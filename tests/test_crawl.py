"""The crawl: a reader who may not see a restricted topic finds no trace of it anywhere.

A restricted topic (embargo in the future) carries unique markers in its title, body, replies,
hidden post, hidden reason and featured summary; an earlier thread (its title marked too) was
merged into it; an agenda item's discussion topic is restricted too; and the uninvited member
was mentioned in the topic before it was restricted, so a notification about it is theirs.
Then an uninvited member and an anonymous visitor request every route in the app's URL map,
each URL variable filled with the ids that name those topics and posts. No page, redirect or
error may show a marker or the topic's slug; every route that takes a topic, post or agenda
item id answers with the 404 of a missing id (never a login redirect, which would tell the
visitor that something is there); nothing answers 500; and no refused POST changes a row.
A new route is crawled without editing this file; a URL variable it cannot fill fails the test.
"""

from __future__ import annotations

import html
import inspect
import re
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import product
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Notification, Post, Role, Topic
from forum.models.types import utcnow
from forum.services import (
    attachments,
    disclosure,
    moderation,
    posting,
    tags,
    topic_areas,
    topic_curation,
    topic_surgery,
)
from tests.factories import make_agenda_item, make_post, make_topic, make_user
from tests.snapshots import changed_tables, database_snapshot
from tests.test_attachments import PDF

MARK = "zqxmarker"  # in every secret text below, and nowhere else in the forum
TITLE = "Zqxmarkertitle jailbreak recipe for Model X"
BODY = "Zqxmarkerbody: the exact steps that break the refusal."
HIDDEN_BODY = "Zqxmarkerhidden: the full payload."
HIDDEN_REASON = "Zqxmarkerreason: shares a working exploit"
SUMMARY = "Zqxmarkersummary: the clearest account of the attack."
AGENDA_TITLE = "Zqxmarkeragenda can this jailbreak be patched"
# What a search for the secret looks like (the searcher does not know the markers).
SEARCH_WORDS = "jailbreak recipe Model X"

# Route variables that name the restricted topic or its posts (or an agenda item whose
# discussion is restricted): such a route must answer 404.
HIDDEN_THING_VARIABLES = {"topic_id", "post_id", "item_id", "key"}  # key: an attachment
# Routes never crawled, and why.
SKIPPED_ENDPOINTS = {
    "static": "serves files from static/: its only variable is a file path, never an id",
}
NOT_FOUND = 404


@dataclass
class Secrets:
    """The restricted things, the ids that name them, and the texts that must not leak."""

    topic_ids: list[int]
    post_ids: list[int]
    item_ids: list[int]
    slugs: list[str]
    other_ids: list[int]  # ids of other kinds (notifications, users) that lead to them
    handles: list[str]
    attachment_keys: list[str]  # files attached to the restricted topic's posts
    tag_slug: str
    public_topic: Topic
    readers: dict = field(default_factory=dict)

    @property
    def every_id(self) -> list[int]:
        return sorted(set(self.topic_ids + self.post_ids + self.item_ids + self.other_ids))


@pytest.fixture
def hidden_world(app, moderator) -> Secrets:
    security = topic_areas.get_category("security")
    author = make_user(display_name="Rana Researcher")
    author.profile_public = True  # so that visitors, too, may open the author's profile
    invited = make_user(display_name="Ines Invited")
    uninvited = make_user(display_name="Uma Uninvited")
    db.session.commit()
    tag = tags.create_tag(moderator, name="jailbreaks")
    topic = posting.create_topic(author, security, title=TITLE, body=BODY, tag_ids=[tag.id])
    # Mentioned while the topic was still open: the notification stays the uninvited member's.
    reply = make_post(topic, author=author, body=f"Zqxmarkerreply: @{uninvited.handle} see this.")
    uploaded = attachments.upload_files(
        author,
        [
            attachments.FileSent(b"Zqxmarkerfile: the payload as data.\n", "zqxmarker.txt"),
            attachments.FileSent(PDF, "zqxmarker-paper.pdf"),
        ],
    )
    attachments.attach(author, reply, [a.key for a in uploaded.accepted])
    db.session.commit()
    hidden = make_post(topic, author=invited, body=HIDDEN_BODY)
    moderation.hide_post(moderator, hidden, reason=HIDDEN_REASON)
    topic_curation.feature_topic(moderator, topic, summary=SUMMARY)
    topic_curation.pin_topic(moderator, topic, globally=True)
    # An earlier thread merged into it: its old address must not lead there any more.
    earlier = make_topic(security, author=author, title="Zqxmarkermerged earlier thread")
    make_post(earlier, author=invited, body="Zqxmarkermoved: a reply that moved with it.")
    topic_surgery.merge_topics(moderator, earlier, topic, reason="Same finding.")
    later = utcnow() + timedelta(days=30)
    disclosure.restrict_topic(author, topic, embargo_until=later)
    disclosure.invite_member(author, topic, invited)
    item = make_agenda_item(author, title=AGENDA_TITLE)
    disclosure.restrict_topic(moderator, item.topic, embargo_until=later)

    notification = db.session.scalar(
        select(Notification).where(
            Notification.user_id == uninvited.id, Notification.topic_id == topic.id
        )
    )
    assert notification is not None, "the mention should have notified the uninvited member"
    posts = db.session.scalars(
        select(Post).where(Post.topic_id.in_([topic.id, item.topic_id])).order_by(Post.id)
    ).all()
    assert {reply.id, hidden.id} < {p.id for p in posts}
    public = make_topic(topic_areas.get_category("safety"), author=author, title="Open question")
    return Secrets(
        topic_ids=[topic.id, item.topic_id, earlier.id],
        post_ids=[p.id for p in posts],
        item_ids=[item.id],
        slugs=[topic.slug, item.topic.slug, earlier.slug],
        other_ids=[notification.id, author.id],
        handles=[author.handle],
        attachment_keys=[a.key for a in uploaded.accepted],
        tag_slug=tag.slug,
        public_topic=public,
        readers={"uninvited_member": uninvited, "invited_member": invited},
    )


@pytest.fixture(params=["anonymous", "uninvited_member"])
def reader(request, client, hidden_world):
    """A test client for the reader: a visitor, or the member nobody let in."""
    if request.param != "anonymous":
        client.login(hidden_world.readers[request.param])
    client.reader_name = request.param
    return client


# --- Filling in the URL map ----------------------------------------------------------------------

_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _actions(app, endpoint: str) -> list[str]:
    """The <action> values a view knows, read from its source so a new action is crawled too."""
    source = inspect.getsource(app.view_functions[endpoint])
    named = re.findall(r"action (?:==|in) (\{[^}]*\}|\"[^\"]*\")", source)
    words = sorted({w for group in named for w in re.findall(r"\"([^\"]+)\"", group)})
    assert words, f"no actions found in the view of {endpoint}"
    return words + ["no-such-action"]


def _values(app, rule, name: str, converter: str, world: Secrets) -> list[str]:
    """Every value a URL variable is tried with."""
    if name == "topic_id":
        ids = world.topic_ids
    elif name == "post_id":
        ids = world.post_ids
    elif name == "item_id":
        ids = world.item_ids
    elif name == "key":
        return world.attachment_keys
    elif converter == "int":
        ids = world.every_id  # a user, round, application or notification id
    elif name == "slug":
        return world.slugs + ["security", "research-agenda", world.tag_slug]
    elif name == "handle":
        return world.handles
    elif name == "token":
        return ["not-a-real-token"]
    elif name == "kind":  # a guideline release's citation
        return ["bib", "json", "txt"]
    elif name in ("major", "minor"):  # a guideline release's version
        return ["0", "1"]
    elif name == "action":
        return _actions(app, rule.endpoint)
    elif name == "name":  # a transparency table
        from forum.services.transparency import TABLES

        return list(TABLES) + ["no-such-table"]
    else:
        raise AssertionError(f"{rule.rule}: no values for the URL variable <{name}>; add some")
    return [str(i) for i in ids]


def _paths(app, rule, world: Secrets) -> list[str]:
    variables = [(name, converter or "default") for converter, name in _VARIABLE.findall(rule.rule)]
    if "topic_id" in dict(variables) and "slug" in dict(variables):
        # The topic's own address: each restricted topic with its slug, and with a wrong one.
        combos = [
            {"topic_id": str(t), "slug": s}
            for t, slug in zip(world.topic_ids, world.slugs, strict=True)
            for s in (slug, "wrong-slug")
        ]
    else:
        choices = [_values(app, rule, name, conv, world) for name, conv in variables]
        combos = [dict(zip([n for n, _ in variables], c, strict=True)) for c in product(*choices)]
    paths = []
    for values in combos:
        paths.append(_VARIABLE.sub(lambda m, v=values: quote(v[m.group(2)], safe=""), rule.rule))
    return paths


def _queries(rule, world: Secrets) -> list[str]:
    """Query strings tried with each path: the ones that can name or find the hidden things."""
    if rule.rule.endswith("/reply"):
        return [""] + [f"?quote={p}&to={p}" for p in world.post_ids]
    if rule.endpoint == "discussions.similar":
        words = quote_plus(SEARCH_WORDS)
        return [f"?title={words}&body={words}", f"?title={words}"]
    if rule.endpoint in {"search.search_page", "api.search"}:
        words = quote_plus(SEARCH_WORDS)
        return [f"?q={words}", f"?q={words}&order=date", "?q=jailbreak", "?q=recipe&order=date"]
    if rule.endpoint in {"discussions.latest", "discussions.category", "discussions.tag"}:
        return ["", "?sort=newest", "?sort=votes", "?sort=top&period=all", "?tag=jailbreaks"]
    if rule.endpoint == "agenda.index":
        return ["", "?area=privacy"]
    if rule.endpoint == "moderation.log":
        return ["", "?page=2"]
    return [""]


def _crawled_rules(app, method: str):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if method in rule.methods and rule.endpoint not in SKIPPED_ENDPOINTS:
            yield rule


# --- Looking for traces --------------------------------------------------------------------------


def _scrub(text: str, requested: str) -> str:
    """The text (lower-cased) less the echoes of the requested path itself: the language form
    and the login link carry it back, and sending a slug is not finding it. Only paths carry
    markers (the search words in query strings carry none)."""
    path = requested.split("?", 1)[0]
    text = text.lower()
    for echo in (path, html.escape(path), quote(path, safe=""), quote_plus(path)):
        text = text.replace(echo.lower(), "")
    return text


def _traces(response, requested: str, world: Secrets) -> list[str]:
    found = []
    for where, text in (
        ("body", response.get_data(as_text=True)),
        ("Location", response.headers.get("Location", "")),
    ):
        text = _scrub(text, requested)
        for secret in [MARK, *world.slugs]:
            if secret in text:
                at = text.index(secret)
                found.append(f"{secret!r} in the {where}: ...{text[max(at - 60, 0) : at + 60]}...")
                break  # one trace a place is enough to tell
    return found


def _takes_hidden_ids(rule) -> bool:
    return bool(HIDDEN_THING_VARIABLES & set(rule.arguments))


def _send(client, method: str, url: str, data: dict | None = None):
    try:
        if method == "GET":
            return client.get(url), None
        # The token is in ``data`` already (fetched once per reader): post it as it is.
        return client.post(url, data=data, csrf=False), None
    except Exception as error:  # with TESTING the app raises instead of answering 500
        return None, f"raised {type(error).__name__}: {error}"


def _check(client, method, rule, url, world, failures, data=None) -> None:
    response, error = _send(client, method, url, data)
    who = client.reader_name
    if error:
        failures.append(f"{method} {url} ({rule.endpoint}) as {who}: 500, {error}")
        return
    status = response.status_code
    problems = _traces(response, url, world)
    if status >= 500:
        problems.append(f"answered {status}")
    if _takes_hidden_ids(rule) and status != NOT_FOUND:
        where = response.headers.get("Location", "")
        problems.append(f"answered {status} instead of 404" + (f" (to {where})" if where else ""))
    for problem in problems:
        failures.append(f"{method} {url} ({rule.endpoint}) as {who}: {problem}")


def _report(failures: list[str]) -> str:
    return f"{len(failures)} failures:\n" + "\n".join(failures)


# --- The crawl -----------------------------------------------------------------------------------


def test_the_crawl_fills_every_route_but_the_documented_skips(app, hidden_world):
    crawled = list(_crawled_rules(app, "GET")) + list(_crawled_rules(app, "POST"))
    assert all(_paths(app, rule, hidden_world) for rule in crawled)
    skipped = {r.endpoint for r in app.url_map.iter_rules()} - {r.endpoint for r in crawled}
    assert skipped == set(SKIPPED_ENDPOINTS)


def test_reader_who_may_not_see_a_restricted_topic_finds_no_trace_on_any_page(
    app, reader, hidden_world
):
    failures: list[str] = []
    for rule in _crawled_rules(app, "GET"):
        for path in _paths(app, rule, hidden_world):
            for query in _queries(rule, hidden_world):
                _check(reader, "GET", rule, path + query, hidden_world, failures)
    # Replying to an open topic while quoting or answering a hidden post finds nothing either.
    public = hidden_world.public_topic.id
    for post_id in hidden_world.post_ids:
        url = f"/t/{public}/reply?quote={post_id}&to={post_id}"
        rule = next(r for r in _crawled_rules(app, "GET") if r.rule.endswith("/reply"))
        response, error = _send(reader, "GET", url)
        problems = [error] if error else _traces(response, url, hidden_world)
        member = reader.reader_name != "anonymous"
        if response is not None and member and response.status_code != NOT_FOUND:
            problems.append(f"answered {response.status_code} instead of 404")
        failures += [f"GET {url} ({rule.endpoint}) as {reader.reader_name}: {p}" for p in problems]
    assert not failures, _report(failures)


def _form(world: Secrets, reader) -> dict:
    """Fields that would make each form valid: a missing id check must not hide behind a
    validation error."""
    later = (utcnow() + timedelta(days=60)).date().isoformat()
    return {
        "body": "A reply that should never be posted.",
        "title": "A new title",
        "reason": "spam",
        "note": "a note",
        "message": "a warning",
        "summary": "a summary",
        "until": f"{later}T12:00",
        "embargo_until": later,
        "category": "privacy",
        "topic_id": str(world.public_topic.id),
        "post_ids": [str(p) for p in world.post_ids],
        "handle": world.handles[0],
        "user_id": str(world.other_ids[-1]),
        "up": "1",
        "level": "watching",
        "status": "prioritised",
        "csrf_token": reader.csrf_token(),
    }


def test_reader_who_may_not_see_a_restricted_topic_cannot_act_on_it_and_changes_nothing(
    app, reader, hidden_world
):
    failures: list[str] = []
    data = _form(hidden_world, reader)
    before = database_snapshot()
    for rule in _crawled_rules(app, "POST"):
        if not _takes_hidden_ids(rule):
            continue  # takes no topic, post or agenda item id: it cannot name what is hidden
        for path in _paths(app, rule, hidden_world):
            _check(reader, "POST", rule, path, hidden_world, failures, data=data)
            after = database_snapshot()
            if after != before:
                failures.append(
                    f"POST {path} ({rule.endpoint}) as {reader.reader_name}: changed "
                    f"{changed_tables(before, after)} (rows before, after)"
                )
                before = after
    if reader.reader_name != "anonymous":
        # Replying to an open topic under a hidden post: the hidden parent is not found.
        rule = next(r for r in _crawled_rules(app, "POST") if r.rule.endswith("/reply"))
        for post_id in hidden_world.post_ids:
            url = f"/t/{hidden_world.public_topic.id}/reply"
            response, error = _send(reader, "POST", url, {**data, "parent_id": str(post_id)})
            status = response.status_code if response is not None else error
            if status != NOT_FOUND:
                failures.append(f"POST {url} parent_id={post_id} ({rule.endpoint}): {status}")
        after = database_snapshot()
        if after != before:
            failures.append(f"replies under hidden posts changed {changed_tables(before, after)}")
    assert not failures, _report(failures)


def test_the_markers_are_there_for_those_let_in_so_their_absence_means_something(
    client, hidden_world
):
    topic = db.session.get(Topic, hidden_world.topic_ids[0])
    client.login(hidden_world.readers["invited_member"])
    page = client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(as_text=True).lower()
    for marker in ("zqxmarkertitle", "zqxmarkerbody", "zqxmarkerreply", "zqxmarkerreason"):
        assert marker in page, marker
    client.logout()
    client.login(make_user(role=Role.MODERATOR))
    page = client.get(f"/t/{topic.id}/{topic.slug}?page=1").get_data(as_text=True).lower()
    assert "zqxmarkerhidden" in page  # moderators see hidden bodies
    for url in ("/agenda", f"/agenda/{hidden_world.item_ids[0]}"):
        assert "zqxmarkeragenda" in client.get(url).get_data(as_text=True).lower(), url
