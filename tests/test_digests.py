"""Digests and immediate emails: what a member finds in the mail that reaches a real SMTP server,
and that each email is sent once however the senders run (twice, side by side in two processes,
after the server went away mid-run, after a crash)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select, update

from forum import ROOT
from forum.extensions import db
from forum.models import (
    AgendaStatus,
    DeliveryStatus,
    DigestDelivery,
    NotificationBatch,
    Post,
    Subscription,
    User,
    WatchLevel,
)
from forum.models.types import utcnow
from forum.services import (
    agenda,
    disclosure,
    moderation,
    round_results,
    topic_areas,
    topic_curation,
    votes,
    voting,
)
from forum.services import (
    unsubscribe as unsubscribe_links,
)
from forum.services.digests.schedule import periods_due
from forum.services.digests.sending import send_digests
from forum.services.notification_emails import send_notifications
from forum.services.outbox import MAX_ATTEMPTS, message_id_for
from forum.services.unsubscribe import (
    read_unsubscribe_token,
    unsubscribe,
    unsubscribe_token,
    unsubscribe_url,
)
from tests.conftest import app_config
from tests.factories import make_agenda_item, make_post, make_round, make_topic, make_user
from tests.smtp import SMTPServer, _Handler

# --- Helpers ------------------------------------------------------------------------------------


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def watch(user: User, slug: str) -> None:
    area = topic_areas.get_category(slug)
    db.session.add(
        Subscription(
            user_id=user.id, target_type="category", target_id=area.id, level=WatchLevel.WATCHING
        )
    )
    db.session.commit()


def mute(user: User, topic) -> None:
    db.session.add(
        Subscription(
            user_id=user.id, target_type="topic", target_id=topic.id, level=WatchLevel.MUTED
        )
    )
    db.session.commit()


def digests_for(*members: User, frequency: str = "daily", **settings) -> None:
    """These members get digests due at any hour of today (UTC); nobody else gets any."""
    db.session.execute(update(User).values(digest_frequency="off"))
    for member in members:
        member.digest_frequency = frequency
        member.digest_hour = 0
        member.digest_weekday = utcnow().weekday()
        member.timezone = "UTC"
        for name, value in settings.items():
            setattr(member, name, value)
    db.session.commit()


def ledger(user: User) -> list[DigestDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(DigestDelivery).where(DigestDelivery.user_id == user.id)))


@pytest.fixture
def news(app, moderator):
    """Something new for everyone: a topic featured today (in an area nobody watches)."""
    topic = make_topic(
        topic_areas.get_category("announcements"),
        author=moderator,
        title="Call for reviewers: the red-teaming report",
    )
    topic_curation.feature_topic(moderator, topic, summary="Help review the draft by Friday.")
    return topic


@pytest.fixture
def ten_members(app, news) -> list[User]:
    members = [make_user(display_name=f"Member {n}") for n in range(10)]
    digests_for(*members, frequency="weekly")
    return members


class _StoppingHandler(_Handler):
    """Accepts `server.accept` messages; after that it answers 421 (service not available,
    closing the connection), as a server does on its way down."""

    async def handle_RCPT(self, smtp, session, envelope, address, options):
        if len(self.server.deliveries) >= self.server.accept:
            return "421 Service not available, closing transmission channel"
        return await super().handle_RCPT(smtp, session, envelope, address, options)


class StoppingSMTPServer(SMTPServer):
    def __init__(self, accept: int) -> None:
        super().__init__()
        self.accept = accept

    def start(self) -> None:
        super().start()
        self._controller.handler = _StoppingHandler(self)  # used for every new connection


# --- What a digest says -------------------------------------------------------------------------


def test_member_reads_the_new_topics_of_the_areas_they_watch_ranked_by_activity(
    app, mail_server, member, other_member, moderator, news
):
    watch(member, "privacy")
    watch(member, "safety")
    privacy, safety = topic_areas.get_category("privacy"), topic_areas.get_category("safety")
    quiet = make_topic(privacy, author=other_member, title="Unlearning benchmarks compared")
    busy = make_topic(safety, author=other_member, title="Refusal training under fine-tuning")
    lively = make_topic(privacy, author=other_member, title="Membership inference on RAG")
    for _ in range(2):
        make_post(busy, author=moderator)
    make_post(lively, author=moderator)
    votes.set_vote(member, _opening_post(busy), up=True)
    hidden = make_post(busy, author=other_member, body="SECRET-HIDDEN-WORDS about a bypass")
    moderation.hide_post(moderator, hidden, reason="Hazardous details")
    muted = make_topic(safety, author=other_member, title="A thread Maya muted")
    mute(member, muted)
    restricted = make_topic(safety, author=other_member, title="Embargoed jailbreak finding")
    disclosure.restrict_topic(moderator, restricted, embargo_until=utcnow() + timedelta(days=30))
    make_topic(privacy, author=other_member, title="Old news", now=utcnow() - timedelta(days=3))
    items = [make_agenda_item(other_member, title=f"Open question {n}") for n in (1, 2)]
    round_ = make_round(moderator, items, title="Spring priorities", closes_in=timedelta(hours=30))
    digests_for(member)

    report = send_digests(now=utcnow())

    assert report.sent == 1
    [message] = mail_server.wait_for(1)
    assert message["To"] == member.email
    text, html = parts(message)
    # New topics in both watched areas, the most active first.
    assert text.index(busy.title) < text.index(lively.title) < text.index(quiet.title)
    assert "Privacy" in text and "Safety" in text
    db.session.refresh(busy)
    assert f"{busy.reply_count} replies, 1 vote" in text  # replies and votes, as ranked
    # A featured topic, a round closing soon that the member has not voted in, new agenda items.
    assert news.title in text and "Help review the draft by Friday." in text
    assert round_.title in text and "You have not voted yet." in text
    assert "Open question 1" in text and "Open question 2" in text
    # Links lead straight to the topics and rounds, as absolute addresses.
    topic_url = f"http://127.0.0.1:5000/t/{busy.id}/{busy.slug}"
    assert topic_url in text and f'href="{topic_url}"' in html
    assert f"http://127.0.0.1:5000/rounds/{round_.id}" in text
    # What must not be there, in either part.
    for absent in (muted.title, "SECRET-HIDDEN-WORDS", restricted.title, "Old news"):
        assert absent not in text and absent not in html
    assert 'dir="ltr"' in html


def _opening_post(topic) -> Post:
    return db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.number == 1))


def test_member_who_voted_hears_of_the_new_status_and_the_results(
    app, mail_server, member, other_member, moderator
):
    items = [make_agenda_item(other_member, title=f"Question {n}") for n in (1, 2)]
    round_ = make_round(moderator, items, title="Autumn priorities", closes_in=timedelta(hours=1))
    voting.cast_ballot(member, round_, entries={items[0].id: 3})
    agenda.change_status(moderator, items[0], AgendaStatus.IN_PROGRESS, note="A team formed")
    round_results.close_due_rounds(now=round_.closes_at + timedelta(minutes=1))
    digests_for(member)

    send_digests(now=round_.closes_at + timedelta(minutes=30))

    [message] = mail_server.wait_for(1)
    text, _html = parts(message)
    assert "Questions you voted on" in text and "Question 1: In progress" in text
    assert "Results" in text and round_.title in text
    assert "1. Question 1" in text  # the winner, first


def test_member_with_nothing_new_gets_no_email(app, mail_server, member):
    watch(member, "privacy")
    digests_for(member)

    report = send_digests(now=utcnow())

    assert (report.sent, report.skipped_empty) == (0, 1)
    time.sleep(0.2)
    assert mail_server.messages == []
    [row] = ledger(member)  # the period is recorded, so it is not built again
    assert row.status == DeliveryStatus.SENT and row.message_id == ""
    assert send_digests(now=utcnow()).skipped_empty == 0


def test_arabic_reader_gets_a_right_to_left_digest_in_arabic(
    app, mail_server, member, other_member
):
    watch(member, "privacy")
    topic = make_topic(
        topic_areas.get_category("privacy"),
        author=other_member,
        title="استخراج بيانات التدريب من النماذج",
    )
    digests_for(member, locale="ar")

    send_digests(now=utcnow())

    [message] = mail_server.wait_for(1)
    assert message["Content-Language"] == "ar"
    text, html = parts(message)
    assert 'lang="ar" dir="rtl"' in html
    assert topic.title in text and topic.title in html
    assert "الخصوصية" in text  # the area's name, translated
    assert "منتدى خصوصية النماذج اللغوية الكبيرة وسلامتها وأمنها" in text  # the site's name


def test_suspended_and_invited_members_get_no_digest(app, mail_server, member, other_member, news):
    digests_for(member, other_member)
    member.suspended_until = utcnow() + timedelta(days=3)
    other_member.password_hash = None  # invited, never joined
    db.session.commit()

    assert send_digests(now=utcnow()).sent == 0
    assert ledger(member) == [] and ledger(other_member) == []


# --- Unsubscribing ------------------------------------------------------------------------------


def test_member_unsubscribes_from_digests_with_the_link_of_the_email(
    app, mail_server, member, news
):
    digests_for(member)
    send_digests(now=utcnow())
    [message] = mail_server.wait_for(1)

    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Tokens carry the second they were made: read the one in the email, do not rebuild it.
    url, mailto = (entry.strip("<> ") for entry in message["List-Unsubscribe"].split(","))
    token = url.rsplit("/", 1)[1]
    assert url == f"http://127.0.0.1:5000/unsubscribe/{token}"
    assert mailto == f"mailto:unsubscribe@localhost?subject=unsubscribe-{token}"
    assert read_unsubscribe_token(token) == (member.id, "digest")
    # As written, not RFC 2047-encoded, so that mail clients find the addresses.
    assert f"List-Unsubscribe: <{url}>,".encode() in mail_server.deliveries[0].content
    assert url in parts(message)[0] and f'href="{url}"' in parts(message)[1]

    assert unsubscribe(token) == member
    assert member.digest_frequency == "off" and member.email_immediate is True
    assert unsubscribe(token) == member  # a second click changes nothing


def test_mail_client_unsubscribes_with_a_bare_post_without_cookies(app, client, member):
    token = unsubscribe_token(member, "digest")

    confirm = client.get(f"/unsubscribe/{token}")  # GET only asks: it changes nothing
    db.session.refresh(member)
    assert confirm.status_code == 200 and member.digest_frequency == "weekly"

    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click": no cookie, no CSRF token.
    mail_client = app.test_client()  # a client that has never seen the site
    response = mail_client.post(
        f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}, csrf=False
    )
    assert response.status_code == 200
    db.session.refresh(member)
    assert member.digest_frequency == "off"


def test_unsubscribe_token_works_only_for_its_member_and_cannot_be_forged(
    app, member, other_member
):
    token = unsubscribe_token(member, "immediate")
    assert read_unsubscribe_token(token) == (member.id, "immediate")

    # The other member's payload under this member's signature.
    other_payload = unsubscribe_token(other_member, "immediate").split(".")[0]
    forged = ".".join([other_payload, *token.split(".")[1:]])
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (forged, tampered, "not-a-token", ""):
        assert read_unsubscribe_token(bad) is None
        assert unsubscribe(bad) is None
    db.session.refresh(other_member)
    assert other_member.email_immediate is True

    assert unsubscribe(token) == member
    assert member.email_immediate is False and member.digest_frequency == "weekly"


def test_unsubscribe_link_stops_working_when_the_email_address_changes(app, member):
    token = unsubscribe_token(member, "digest")
    member.email = "maya.new@example.org"
    db.session.commit()

    assert unsubscribe(token) is None
    assert member.digest_frequency == "weekly"


# --- Sent once, whatever happens ----------------------------------------------------------------


def test_running_the_sender_twice_sends_each_member_one_digest(app, mail_server, ten_members):
    now = utcnow()
    first, second = send_digests(now=now), send_digests(now=now + timedelta(minutes=10))

    assert (first.sent, second.sent) == (10, 0)
    time.sleep(0.2)
    recipients = sorted(d.recipients[0] for d in mail_server.deliveries)
    assert recipients == sorted(m.email for m in ten_members)


_SENDER = """
import json, sys, time
from datetime import datetime
from forum import create_app
from forum.services.digests.sending import send_digests

config, now, start = sys.argv[1:]
app = create_app(json.loads(config))
with app.app_context():
    time.sleep(max(0.0, float(start) - time.time()))  # both start sending at the same moment
    print(send_digests(now=datetime.fromisoformat(now)).sent)
"""


def test_two_senders_running_at_once_send_each_member_one_digest(
    app, mail_server, ten_members, database_url
):
    config = app_config(
        database_url, FORUM_MAIL_HOST=mail_server.host, FORUM_MAIL_PORT=mail_server.port
    )
    start = time.time() + 3
    senders = [
        subprocess.Popen(
            [sys.executable, "-c", _SENDER, json.dumps(config), utcnow().isoformat(), str(start)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [sender.communicate(timeout=60) for sender in senders]

    for sender, (_out, err) in zip(senders, outputs, strict=True):
        assert sender.returncode == 0, err
    assert sum(int(out) for out, _err in outputs) == 10
    time.sleep(0.3)
    recipients = sorted(d.recipients[0] for d in mail_server.deliveries)
    assert recipients == sorted(m.email for m in ten_members)


def test_server_gone_after_three_of_ten_the_next_run_sends_exactly_the_other_seven(
    app, ten_members
):
    stopping = StoppingSMTPServer(accept=3)
    stopping.start()
    app.config["FORUM_MAIL_PORT"], app.config["FORUM_MAIL_HOST"] = stopping.port, stopping.host
    now = utcnow()
    try:
        first = send_digests(now=now)
    finally:
        stopping.stop()

    assert (first.sent, first.pending, first.server_unreachable) == (3, 7, True)
    first_three = {d.recipients[0] for d in stopping.deliveries}
    assert len(first_three) == 3
    rows = {row.user_id: row for m in ten_members for row in ledger(m)}
    refused = [row for row in rows.values() if row.attempts == 1 and row.status == "pending"]
    assert len(refused) == 1 and "421" in refused[0].last_error
    assert refused[0].next_attempt_at == now + timedelta(minutes=5)

    server = SMTPServer()
    server.start()
    app.config["FORUM_MAIL_PORT"] = server.port
    try:
        assert send_digests(now=now + timedelta(minutes=1)).sent == 6  # the refused one waits
        second = send_digests(now=now + timedelta(minutes=6))
        server.wait_for(7)
    finally:
        server.stop()

    assert second.sent == 1
    later = {d.recipients[0]: d.message for d in server.deliveries}
    assert len(server.deliveries) == 7
    assert set(later) == {m.email for m in ten_members} - first_three
    for member in ten_members:
        [row] = ledger(member)
        assert row.status == DeliveryStatus.SENT
        expected = message_id_for("digest", member.id, row.period)
        assert row.message_id == expected
        if member.email in later:
            assert later[member.email]["Message-ID"] == expected


def test_with_the_server_down_a_run_stops_at_the_first_failure_and_leaves_the_rest(
    app, mail_server, ten_members
):
    mail_server.stop()  # nothing listens on its port any more

    report = send_digests(now=utcnow())

    assert (report.sent, report.pending, report.server_unreachable) == (0, 10, True)
    rows = [row for m in ten_members for row in ledger(m)]
    assert sorted(row.attempts for row in rows) == [0] * 9 + [1]  # only one was tried
    assert all(row.status == DeliveryStatus.PENDING for row in rows)


def test_a_digest_left_sending_by_a_crashed_sender_is_sent_again_as_the_same_message(
    app, mail_server, member, news
):
    digests_for(member, frequency="weekly")
    now = utcnow()
    send_digests(now=now, limit=0)  # opens the period, sends nothing
    [row] = ledger(member)
    # A sender claimed it and died before recording the result.
    row.status, row.attempts, row.next_attempt_at = "sending", 1, now + timedelta(minutes=15)
    db.session.commit()

    assert send_digests(now=now + timedelta(minutes=14)).sent == 0  # it may still be sending
    assert send_digests(now=now + timedelta(minutes=16)).sent == 1

    [message] = mail_server.wait_for(1)
    assert message["Message-ID"] == message_id_for("digest", member.id, row.period)
    [row] = ledger(member)
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)


def test_a_digest_the_server_keeps_refusing_is_given_up_after_the_last_attempt(
    app, mail_server, member, news
):
    digests_for(member, frequency="weekly")
    mail_server.refused.add(member.email)
    now = utcnow()
    delays = []
    for _attempt in range(MAX_ATTEMPTS):
        report = send_digests(now=now)
        [row] = ledger(member)
        delays.append(row.next_attempt_at - now)
        now = row.next_attempt_at

    assert (report.failed, row.status, row.attempts) == (1, DeliveryStatus.FAILED, MAX_ATTEMPTS)
    assert "550" in row.last_error
    assert delays[:5] == [timedelta(minutes=5 * 2**n) for n in range(5)]
    assert send_digests(now=now + timedelta(hours=7)).sent == 0
    assert mail_server.messages == []


def test_dry_run_lists_who_would_get_a_digest_and_changes_nothing(
    app, mail_server, member, other_member, news
):
    digests_for(member, other_member)

    report = send_digests(now=utcnow(), dry_run=True)

    today = utcnow().date().isoformat()
    assert sorted(report.would_send) == sorted([(member.email, today), (other_member.email, today)])
    assert db.session.scalar(select(func.count()).select_from(DigestDelivery)) == 0
    time.sleep(0.2)
    assert mail_server.messages == []


# --- When a digest is due -----------------------------------------------------------------------


def period_for(member, now):
    """The digest period due to one member at `now`, as a sending run would open it."""
    return periods_due([member], now).get(member.id)


def test_daily_digest_is_due_from_the_members_hour_in_their_time_zone(app, member):
    member.digest_frequency, member.digest_hour, member.timezone = "daily", 8, "Asia/Tokyo"
    db.session.commit()
    # 08:00 in Tokyo on 26 November is 23:00 UTC on the 25th.
    before = datetime(2026, 11, 25, 22, 59, tzinfo=UTC)
    at = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)

    assert period_for(member, before) is None
    assert period_for(member, at) == ("2026-11-26", at - timedelta(days=1), at)
    assert period_for(member, at + timedelta(hours=15))[0] == "2026-11-26"  # 23:00 local
    assert period_for(member, at + timedelta(hours=16)) is None  # 00:00 local, the 27th


def test_weekly_digest_is_due_only_on_the_members_weekday(app, member):
    member.digest_frequency, member.digest_hour, member.timezone = "weekly", 8, "Asia/Tokyo"
    member.digest_weekday = 3  # Thursday; 26 November 2026 is a Thursday (ISO week 48)
    db.session.commit()
    thursday_8am = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)

    assert period_for(member, thursday_8am - timedelta(minutes=1)) is None
    assert period_for(member, thursday_8am) == (
        "2026-W48",
        thursday_8am - timedelta(days=7),
        thursday_8am,
    )
    assert period_for(member, thursday_8am + timedelta(days=1)) is None  # Friday


def test_next_digest_covers_the_time_since_the_previous_one(app, mail_server, member, news):
    digests_for(member)
    first_at = utcnow()
    send_digests(now=first_at)

    tomorrow = first_at + timedelta(days=1)
    key, covers_from, covers_to = period_for(member, tomorrow)
    assert key == tomorrow.date().isoformat()
    assert (covers_from, covers_to) == (first_at, tomorrow)
    assert period_for(member, first_at) is None  # today's is sent


def test_members_with_digests_off_are_never_due(app, member):
    member.digest_frequency = "off"
    db.session.commit()
    assert period_for(member, utcnow()) is None


# --- Immediate emails ---------------------------------------------------------------------------


def test_a_burst_of_mentions_becomes_one_email_sent_once(app, mail_server, member, other_member):
    digests_for()  # no digests in this story
    topic = make_topic(topic_areas.get_category("safety"), author=other_member)
    make_post(topic, author=other_member, body=f"@{member.handle} what do you think?")
    make_post(topic, author=other_member, body=f"And @{member.handle}, a second thought.")
    now = utcnow()

    assert send_notifications(now=now).sent == 0  # the burst may not be over yet
    report = send_notifications(now=now + timedelta(minutes=3))
    again = send_notifications(now=now + timedelta(minutes=10))

    assert (report.sent, again.sent) == (1, 0)
    [message] = mail_server.wait_for(1)
    assert message["To"] == member.email
    assert message["Subject"] == "2 new mentions and replies"
    text, html = parts(message)
    assert text.count(f"{other_member.display_name} mentioned you in") == 2
    assert "http://127.0.0.1:5000/p/" in text
    [batch] = db.session.scalars(select(NotificationBatch)).all()
    assert message["Message-ID"] == message_id_for(
        "notifications", member.id, batch.upto_notification_id
    )
    url = message["List-Unsubscribe"].split(",")[0].strip("<>")
    assert url.startswith("http://127.0.0.1:5000/unsubscribe/") and url in text
    assert read_unsubscribe_token(url.rsplit("/", 1)[1]) == (member.id, "immediate")


def test_member_who_turned_immediate_emails_off_gets_none(app, mail_server, member, other_member):
    member.email_immediate = False
    db.session.commit()
    topic = make_topic(topic_areas.get_category("safety"), author=other_member)
    make_post(topic, author=other_member, body=f"@{member.handle} have a look")

    assert send_notifications(now=utcnow() + timedelta(minutes=3)).sent == 0
    assert db.session.scalar(select(func.count()).select_from(NotificationBatch)) == 0


def test_mention_in_a_post_hidden_since_is_not_emailed(
    app, mail_server, member, other_member, moderator
):
    topic = make_topic(topic_areas.get_category("safety"), author=other_member)
    post = make_post(topic, author=other_member, body=f"@{member.handle} SECRET-HIDDEN-WORDS")
    moderation.hide_post(moderator, post, reason="Off topic")

    report = send_notifications(now=utcnow() + timedelta(minutes=3))

    assert (report.sent, report.skipped_empty) == (0, 1)
    time.sleep(0.2)
    assert mail_server.messages == []


def test_unsubscribe_link_carries_the_members_own_token(app, member):
    url = unsubscribe_url(member, "digest")
    assert url.startswith("http://127.0.0.1:5000/unsubscribe/")
    assert unsubscribe_links.read_unsubscribe_token(url.rsplit("/", 1)[1]) == (member.id, "digest")


def test_the_digest_preview_email_is_its_own_document_with_only_inline_styles_allowed(
    client, member
):
    from forum.models import Role
    from tests.factories import make_user

    admin = make_user(role=Role.ADMIN)
    client.login(member)
    refused = client.get(f"/admin/digest/{member.id}").status_code
    assert refused in (403, 404)
    assert client.get(f"/admin/digest/{member.id}/email").status_code == refused
    client.login(admin)
    email = client.get(f"/admin/digest/{member.id}/email")
    assert email.status_code == 200
    policy = email.headers["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy and "script-src" not in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy
    assert email.headers["X-Frame-Options"] == "SAMEORIGIN"
    page = client.get(f"/admin/digest/{member.id}").get_data(as_text=True)
    assert f'src="/admin/digest/{member.id}/email"' in page and "srcdoc" not in page
