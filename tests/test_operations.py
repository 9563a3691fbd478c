"""Operations an admin can trust: backups taken while the forum runs, restores that check what
they brought back, and mail senders that say why they failed (issue 13)."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import make_url, select

from forum import create_app
from forum.extensions import db
from forum.models import DigestDelivery, Post
from forum.models.notifications import DeliveryStatus
from forum.models.types import utcnow
from forum.services.digests.sending import send_digests
from tests.conftest import _worker, app_config, drop_postgres_database, fresh_database_url
from tests.factories import PASSWORD, make_user
from tests.test_digests import digests_for, news  # noqa: F401 - news is a fixture


@pytest.fixture
def empty_app(backend, request, tmp_path):
    """A second forum on a database of its own with nothing in it, to restore into."""
    url = fresh_database_url(backend, f"forum_restore_{_worker(request)}", tmp_path)
    app = create_app(app_config(url))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if backend == "postgresql":
        drop_postgres_database(make_url(url).database)


def _post_replies(app, email: str, topic_id: int, acknowledged: list[str], stop) -> None:
    """A member replying as fast as the forum answers (plain values: no objects across threads)."""
    client = app.test_client()
    client.post("/login", data={"email": email, "password": PASSWORD})
    number = 0
    while not stop.is_set() and number < 2000:
        number += 1
        body = f"Reply number {number} while the backup runs"
        response = client.post(f"/t/{topic_id}/reply", data={"body": body})
        if response.status_code == 302:
            acknowledged.append(body)
    stop.set()


def _wait_for(acknowledged: list[str], count: int, stop: threading.Event) -> None:
    deadline = time.monotonic() + 60
    while len(acknowledged) < count and not stop.is_set() and time.monotonic() < deadline:
        stop.wait(0.01)
    assert len(acknowledged) >= count, f"only {len(acknowledged)} replies went through"


def test_a_backup_taken_while_a_member_posts_restores_every_reply_acknowledged_before_it(
    app, member, moderator, topic, empty_app, tmp_path
):
    staff = app.test_client()
    staff.login(moderator)
    assert staff.post(f"/t/{topic.id}/moderate/pin").status_code == 302  # an audit entry
    acknowledged: list[str] = []
    stop = threading.Event()
    poster = threading.Thread(
        target=_post_replies, args=(app, member.email, topic.id, acknowledged, stop)
    )
    poster.start()
    try:
        _wait_for(acknowledged, 20, stop)
        before = list(acknowledged)
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "forum.backup")])
        _wait_for(acknowledged, len(before) + 5, stop)  # the member kept posting meanwhile
    finally:
        stop.set()
        poster.join()
    assert result.exit_code == 0, result.output
    assert "Backup written to" in result.output

    with empty_app.app_context():  # as `flask --app forum restore` runs it
        runner = empty_app.test_cli_runner()
        restored = runner.invoke(args=["restore", str(tmp_path / "forum.backup")])

        assert restored.exit_code == 0, restored.output
        assert "counters: ok" in restored.output and "audit log: ok" in restored.output
        bodies = set(db.session.scalars(select(Post.body)))
        assert set(before) <= bodies
        verified = runner.invoke(args=["verify-audit"])
        assert verified.exit_code == 0 and "intact: 1 entry" in verified.output


def test_a_restore_refuses_a_database_that_already_holds_members(app, member, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(tmp_path / "one.backup")]).exit_code == 0

    result = runner.invoke(args=["restore", str(tmp_path / "one.backup")])

    assert result.exit_code == 1
    assert "not empty (1 members" in result.output
    assert db.session.get(type(member), member.id) is not None


def test_a_backup_never_overwrites_an_earlier_one(app, tmp_path):
    earlier = tmp_path / "earlier.backup"
    earlier.write_bytes(b"the backup from last week")

    result = app.test_cli_runner().invoke(args=["backup", str(earlier)])

    assert result.exit_code == 1 and "already exists" in result.output
    assert earlier.read_bytes() == b"the backup from last week"


def test_a_restore_refuses_a_file_that_is_not_a_backup(empty_app, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database")

    with empty_app.app_context():
        result = empty_app.test_cli_runner().invoke(args=["restore", str(notes)])

    assert result.exit_code == 1 and "is not a" in result.output


@pytest.fixture
def weekly_readers(app, news):  # noqa: F811 - the fixture imported above
    members = [make_user(display_name=f"Reader {n}") for n in range(3)]
    digests_for(*members, frequency="weekly")
    return members


def test_an_smtp_outage_makes_send_digests_say_why_and_what_waits_until_when(
    app, mail_server, weekly_readers
):
    mail_server.stop()  # nothing listens on its port any more

    result = app.test_cli_runner().invoke(args=["send-digests"])

    assert result.exit_code == 1
    assert "could not send mail through" in result.output  # the server's own reason
    assert "3 still to send; the next attempt is due at" in result.output
    assert "mail server is unreachable" in result.output


def test_a_digest_left_sending_by_a_killed_sender_is_reported_and_sent(
    app, mail_server, weekly_readers
):
    send_digests(now=utcnow(), limit=0)  # the periods are opened, nothing sent yet
    row = db.session.scalars(select(DigestDelivery)).first()
    row.status, row.attempts = DeliveryStatus.SENDING, 1
    row.next_attempt_at = utcnow() - timedelta(minutes=1)  # its sender's lease ran out
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["send-digests"])

    assert result.exit_code == 0, result.output
    assert "1 left 'sending' by a sender that stopped" in result.output
    assert "3 sent" in result.output
