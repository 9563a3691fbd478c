"""Rate limits on every write (issue 13, item 2): each limit answers 429 with Retry-After once
passed, counts whom it says it counts, and is shared between workers through Redis."""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from forum import create_app, rate_limits
from forum.extensions import db
from forum.models import Category
from tests.conftest import app_config, running_app
from tests.factories import PASSWORD, make_agenda_item, make_post, make_round, make_topic, make_user

ROOT = Path(__file__).resolve().parent.parent
SMALL = "2 per hour"  # every limit, in these tests: the third request is refused


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """The app with rate limits on, each set to SMALL (the suite runs with them off)."""
    limits = {rule.setting: SMALL for rule in rate_limits.RULES.values()}
    with running_app(database_url, RATELIMIT_ENABLED=True, **limits) as app:
        yield app


def privacy() -> Category:
    return db.session.query(Category).filter_by(slug="privacy").one()


def refused(response) -> bool:
    """A 429 that says when to come back, in the header and in words."""
    if response.status_code != 429:
        return False
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 3600
    body = response.get_data(as_text=True)
    assert "Try again in" in body, body
    return True


# Each limit: how a person runs into it. Returns a callable that makes one request.
def _login_failures(client, member, other):
    return lambda: client.post("/login", data={"email": member.email, "password": "wrong guess!"})


def _reset_requests(client, member, other):
    return lambda: client.post("/password/forgot", data={"email": member.email})


def _sending(client, url: str, form: Callable[[int], dict]) -> Callable:
    """Sends the form again and again, numbered so that no two are the same."""
    numbers = itertools.count()
    return lambda: client.post(url, data=form(next(numbers)))


def _registrations(client, member, other):
    return _sending(
        client,
        "/register",
        lambda n: {
            "email": f"new{n}@example.org",
            "display_name": f"New Person {n}",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )


def _applications(client, member, other):
    return _sending(
        client,
        "/apply",
        lambda n: {
            "full_name": "Samira Okafor",
            "email": f"samira{n}@lagos.example",
            "institution": "University of Lagos",
            "position": "Senior Lecturer",
            "department": "Computer Science",
            "disciplines": ["law"],
            "ai_experience": "Five years on federated learning.",
            "statement": "I study membership inference.",
        },
    )


def _as_member(make: Callable) -> Callable:
    def doer(client, member, other):
        client.login(member)
        return make(client, member, other)

    return doer


def _new_topics(client, member, other):
    return _sending(
        client,
        "/c/privacy/new",
        lambda n: {"title": f"Membership inference on notes {n}", "body": "What is known?"},
    )


def _replies(client, member, other):
    topic = make_topic(privacy(), author=other)
    return lambda: client.post(f"/t/{topic.id}/reply", data={"body": "A considered reply."})


def _previews(client, member, other):
    topic = make_topic(privacy(), author=other)
    return lambda: client.post(
        f"/t/{topic.id}/reply", data={"body": "Draft *reply*", "preview": "1"}
    )


def _edits(client, member, other):
    reply = make_post(make_topic(privacy(), author=other), author=member)
    n = iter(range(100))
    return lambda: client.post(f"/p/{reply.id}/edit", data={"body": f"Edited {next(n)} times."})


def _flags(client, member, other):
    topic = make_topic(privacy(), author=other)
    replies = iter([make_post(topic, author=other) for _ in range(3)])
    return lambda: client.post(f"/p/{next(replies).id}/flag", data={"reason": "spam", "note": ""})


def _upvotes(client, member, other):
    topic = make_topic(privacy(), author=other)
    replies = iter([make_post(topic, author=other) for _ in range(3)])
    return lambda: client.post(f"/p/{next(replies).id}/vote", data={"up": "1"})


def _ballots(client, member, other):
    from forum.models import Role

    items = [make_agenda_item(other) for _ in range(2)]
    round_ = make_round(make_user(role=Role.MODERATOR), items, method="approval")
    return lambda: client.post(f"/rounds/{round_.id}/ballot", data={f"item-{items[0].id}": "1"})


def _proposals(client, member, other):
    return _sending(
        client,
        "/agenda/new",
        lambda n: {
            "title": f"Can unlearning be audited, case {n}?",
            "area": "privacy",
            "statement": "Vendors claim to unlearn.",
            "rationale": "Regulators need proof.",
            "evidence": "",
        },
    )


def _mention_lookups(client, member, other):
    return lambda: client.get("/api/members/suggest?q=Om")


def _similar_lookups(client, member, other):
    return lambda: client.get("/api/topics/similar?q=membership+inference")


def _live_previews(client, member, other):
    token = client.csrf_token()
    return lambda: client.post(
        "/api/preview", json={"body": "Draft *reply*"}, headers={"X-CSRFToken": token}, csrf=False
    )


def _other_writes(client, member, other):
    topic = make_topic(privacy(), author=other)
    return lambda: client.post(f"/t/{topic.id}/watch", data={"level": "watching"})


WRITES = {
    "login_account_address": _login_failures,
    "reset_address": _reset_requests,
    "register": _registrations,
    "apply": _applications,
    "topic": _as_member(_new_topics),
    "reply": _as_member(_replies),
    "preview": _as_member(_previews),
    "live_preview": _as_member(_live_previews),
    "edit": _as_member(_edits),
    "flag": _as_member(_flags),
    "vote": _as_member(_upvotes),
    "ballot": _as_member(_ballots),
    "proposal": _as_member(_proposals),
    "lookup (mentions)": _as_member(_mention_lookups),
    "lookup (similar topics)": _as_member(_similar_lookups),
    "write (watching a topic)": _as_member(_other_writes),
}


@pytest.mark.parametrize("limit", WRITES)
def test_the_request_past_each_limit_is_refused_with_when_to_retry(
    app, client, member, other_member, open_registration, limit
):
    send = WRITES[limit](client, member, other_member)
    answers = [send() for _ in range(2)]
    assert not any(refused(answer) for answer in answers), [a.status_code for a in answers]
    assert refused(send())


def test_a_json_lookup_past_its_limit_answers_json_with_retry_after(client, member):
    client.login(member)
    for _ in range(2):
        assert client.get("/api/members/suggest?q=Ma").status_code == 200
    answer = client.get("/api/members/suggest?q=Ma")
    assert answer.status_code == 429 and answer.is_json
    assert answer.json["retry_after"] == int(answer.headers["Retry-After"]) > 0
    assert "Try again in" in answer.json["error"]


def test_members_behind_one_address_each_have_their_own_count(app, member, other_member):
    topic = make_topic(privacy(), author=make_user())
    for person in (member, other_member):  # one campus network: the same address for both
        client = app.test_client()
        client.login(person)
        for _ in range(2):
            assert client.post(f"/t/{topic.id}/reply", data={"body": "Mine."}).status_code == 302
        assert refused(client.post(f"/t/{topic.id}/reply", data={"body": "Mine."}))


def test_previews_do_not_use_up_the_replies_and_replies_not_the_previews(client, member):
    topic = make_topic(privacy(), author=make_user())
    client.login(member)
    for _ in range(2):
        preview = client.post(f"/t/{topic.id}/reply", data={"body": "Draft", "preview": "1"})
        assert preview.status_code == 200
    for _ in range(2):
        assert client.post(f"/t/{topic.id}/reply", data={"body": "Sent."}).status_code == 302
    assert refused(client.post(f"/t/{topic.id}/reply", data={"body": "Draft", "preview": "1"}))
    assert refused(client.post(f"/t/{topic.id}/reply", data={"body": "Sent."}))


def test_failed_log_ins_count_per_account_not_per_address(app, client, member, other_member):
    for _ in range(2):
        client.post("/login", data={"email": member.email, "password": "wrong guess!"})
    assert refused(client.post("/login", data={"email": member.email, "password": PASSWORD}))
    # Someone else on the same network logs in as usual.
    assert (
        client.post("/login", data={"email": other_member.email, "password": PASSWORD}).status_code
        == 302
    )


def test_failed_log_ins_to_one_account_from_many_addresses_are_counted_together(app, member):
    # Two guesses from each of two addresses: the account limit (2 in these tests) is passed.
    for address in ("192.0.2.1", "198.51.100.7"):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        client.post("/login", data={"email": member.email, "password": "wrong guess!"})
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert refused(client.post("/login", data={"email": member.email, "password": "wrong again"}))


def test_logging_in_successfully_uses_up_nothing(app, client, member):
    for _ in range(4):
        assert client.login(member).status_code == 302
        client.logout()


def test_reset_emails_to_one_account_are_limited_from_any_address(app, member):
    for address in ("192.0.2.1", "198.51.100.7"):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        assert client.post("/password/forgot", data={"email": member.email}).status_code == 200
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert refused(client.post("/password/forgot", data={"email": member.email.upper()}))


def test_every_route_that_takes_a_form_has_a_limit(app):
    for rule in app.url_map.iter_rules():
        if "POST" in (rule.methods or ()):
            names = rate_limits.limits_for(rule.endpoint, rule.methods)
            assert names and all(name in rate_limits.RULES for name in names), rule.endpoint


def test_the_readme_documents_each_limit_and_its_default():
    readme = (ROOT / "README.md").read_text()
    for rule in rate_limits.RULES.values():
        row = re.search(rf"`{rule.setting}`[^\n]*", readme)
        assert row, f"{rule.setting} is not in the README"
        assert rule.default in row.group(0), f"the README gives another default for {rule.setting}"


def test_a_mistyped_limit_stops_the_start_with_its_name(database_url):
    with pytest.raises(ValueError, match="FORUM_RATE_LIMIT_REPLY"):
        create_app(app_config(database_url, FORUM_RATE_LIMIT_REPLY="twenty a minute"))


# --- Two workers, one Redis -----------------------------------------------------------------

REDIS = ("127.0.0.1", 6379)


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


WORKER = """
import sys
from werkzeug.serving import make_server
from forum import create_app
from forum.extensions import db
app = create_app()
if sys.argv[1] == "create":
    with app.app_context():
        db.create_all()
else:
    make_server("127.0.0.1", int(sys.argv[1]), app, threaded=False).serve_forever()
"""


@pytest.mark.skipif(not redis_answers(), reason="no Redis answers on 127.0.0.1:6379")
def test_two_workers_sharing_redis_share_the_count(tmp_path):
    import urllib.error
    import urllib.request

    env = {
        **os.environ,
        "FORUM_DATABASE_URL": f"sqlite:///{tmp_path / 'forum.db'}",
        "FORUM_SECRET_KEY": "two-workers-one-secret",
        "FORUM_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "FORUM_RATELIMIT_KEY_PREFIX": f"forum-test-{uuid.uuid4().hex}",
        "FORUM_RATE_LIMIT_LOOKUP": "3 per hour",
    }
    env.pop("FORUM_RATELIMIT_DISABLED", None)
    subprocess.run([sys.executable, "-c", WORKER, "create"], cwd=ROOT, env=env, check=True)
    ports = [_free_port(), _free_port()]
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(port)], cwd=ROOT, env=env)
        for port in ports
    ]
    try:

        def get(port: int) -> int:
            url = f"http://127.0.0.1:{port}/api/topics/similar?q=privacy"
            try:
                with urllib.request.urlopen(url, timeout=10) as answer:
                    return answer.status
            except urllib.error.HTTPError as error:
                return error.code

        for port in ports:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "a worker did not start"
                    time.sleep(0.2)
        # Visitors' lookups, alternating between the workers: 3 in all pass, the 4th does not,
        # whichever worker it reaches.
        answers = [get(ports[i % 2]) for i in range(4)]
        assert 429 not in answers[:3] and answers[3] == 429, answers
        assert get(ports[0]) == 429 and get(ports[1]) == 429
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=10)
