"""Benchmark: one run of send_digests for many members, against a local SMTP server that counts.

    .venv/bin/python bench/digests.py --members 10000

Builds a fresh SQLite database (or uses --database PATH), seeds the members (each watching two
areas, in several time zones and both languages), ~200 topics over the last week, a featured
topic, new agenda items and a voting round closing soon, then sends everyone's daily digest and
reports wall time, messages per second, SQL statements per member and peak memory. It checks
that exactly one message per member arrived. The SMTP server and the senders (--senders N, run
at once) are processes of their own, as in production. See docs/performance.md for results.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import socket
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import event, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forum import create_app  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import (  # noqa: E402
    AgendaArea,
    AgendaItem,
    Ballot,
    Category,
    Post,
    Subscription,
    Topic,
    TopicKind,
    User,
    VotingMethod,
    VotingRound,
    WatchLevel,
)
from forum.models.types import utcnow  # noqa: E402
from forum.services import topic_areas  # noqa: E402
from forum.services.digests.sending import send_digests  # noqa: E402

AREAS = ["privacy", "safety", "security", "model-improvement"]
ZONES = ["UTC", "Europe/Berlin", "Asia/Tokyo", "America/New_York", "Africa/Cairo"]
CHUNK = 2000


class CountingHandler:
    """An SMTP server that keeps nothing but a count (and the recipients, to check them)."""

    def __init__(self) -> None:
        self.recipients: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.recipients.extend(envelope.rcpt_tos)  # one event loop thread: no lock needed
        return "250 OK"


def smtp_sink(port: int, ready, stop, results) -> None:
    """Run in its own process (as a real mail server would be), so that it does not take the
    sender's interpreter lock; report (messages, distinct recipients) when told to stop."""
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    results.put((len(handler.recipients), len(set(handler.recipients))))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed(members: int, topics: int, now) -> None:
    rng = random.Random(42)
    areas = {c.slug: c.id for c in db.session.scalars(select(Category))}
    for start in range(0, members, CHUNK):
        db.session.execute(
            insert(User),
            [
                {
                    "email": f"member{n}@bench.example",
                    "display_name": f"Member {n}",
                    "handle": f"member{n}",
                    "password_hash": "bench",  # any value: a member who has joined
                    "locale": "ar" if n % 5 == 0 else "en",
                    "timezone": ZONES[n % len(ZONES)],
                    "digest_frequency": "daily",
                    "digest_hour": 0,  # so that every member is due at any hour
                    "created_at": now - timedelta(days=30),
                }
                for n in range(start, min(start + CHUNK, members))
            ],
        )
    user_ids = list(db.session.scalars(select(User.id).order_by(User.id)))
    for start in range(0, len(user_ids), CHUNK):
        db.session.execute(
            insert(Subscription),
            [
                {
                    "user_id": user_id,
                    "target_type": "category",
                    "target_id": areas[AREAS[(i + k) % len(AREAS)]],
                    "level": WatchLevel.WATCHING,
                }
                for i, user_id in enumerate(user_ids[start : start + CHUNK], start=start)
                for k in (0, 1)
            ],
        )
    authors = user_ids[:20]
    topic_rows = []
    for n in range(topics):
        created = now - timedelta(minutes=rng.randrange(7 * 24 * 60))
        topic_rows.append(
            {
                "category_id": areas[AREAS[n % len(AREAS)]],
                "author_id": rng.choice(authors),
                "title": f"Bench topic {n}: what we know about attack {n}",
                "slug": f"bench-topic-{n}",
                "kind": TopicKind.DISCUSSION,
                "created_at": created,
                "last_post_at": created,
                "last_post_number": 1,
                "reply_count": rng.randrange(20),
                "vote_count": rng.randrange(10),
                "is_featured": n == 0,
                "featured_summary": "The week's must-read." if n == 0 else "",
            }
        )
    topic_ids = list(db.session.scalars(insert(Topic).returning(Topic.id), topic_rows))
    db.session.execute(
        insert(Post),
        [
            {
                "topic_id": topic_id,
                "author_id": row["author_id"],
                "number": 1,
                "path": "000001",
                "body": "Opening post.",
                "body_html": "<p>Opening post.</p>",
                "created_at": row["created_at"],
            }
            for topic_id, row in zip(topic_ids, topic_rows, strict=True)
        ],
    )
    agenda_area = areas["research-agenda"]
    items = []
    for n in range(2):
        topic = Topic(
            category_id=agenda_area,
            author_id=authors[n],
            title=f"Open question {n}",
            slug=f"open-question-{n}",
            kind=TopicKind.DISCUSSION,
            created_at=now - timedelta(hours=3),
            last_post_at=now - timedelta(hours=3),
            last_post_number=1,
        )
        db.session.add(topic)
        db.session.flush()
        opening_post = Post(
            topic_id=topic.id,
            author_id=authors[n],
            number=1,
            path="000001",
            body="Q",
            body_html="<p>Q</p>",
            created_at=topic.created_at,
        )
        db.session.add(opening_post)
        item = AgendaItem(
            title=f"Open question {n}",
            statement="Why?",
            rationale="Because.",
            area=AgendaArea.PRIVACY,
            proposer_id=authors[n],
            topic_id=topic.id,
            created_at=topic.created_at,
            updated_at=topic.created_at,
        )
        db.session.add(item)
        items.append(item)
    round_ = VotingRound(
        title="Priorities for next term",
        opens_at=now - timedelta(days=2),
        closes_at=now + timedelta(hours=30),
        method=VotingMethod.BUDGET,
        created_by_id=authors[0],
    )
    db.session.add(round_)
    db.session.flush()
    # One member in ten has voted already.
    db.session.execute(
        insert(Ballot),
        [
            {"round_id": round_.id, "user_id": u, "public_id": f"b{u}", "receipt": "r"}
            for u in user_ids[::10]
        ],
    )
    db.session.commit()


def run_sender(config: dict, now: str, trace: bool, ready, go, results) -> None:
    """One sender process: send_digests as `flask send-digests` would run it, measured."""
    app = create_app(config)
    statements = 0

    def count(*_args) -> None:
        nonlocal statements
        statements += 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        ready.release()
        go.wait()
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        report = send_digests(now=datetime.fromisoformat(now))
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if trace else None
        tracemalloc.stop()
    results.put(
        {
            "report": report,
            "elapsed": elapsed,
            "statements": statements,
            "peak": peak,
            "rss_before": rss_before,
            "rss_after": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--topics", type=int, default=200)
    parser.add_argument("--database", help="SQLite file (default: a new temporary file)")
    parser.add_argument(
        "--senders", type=int, default=1, help="sender processes running at once (default 1)"
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also measure the peak of Python allocations (slows the run about 2.5 times)",
    )
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="forum-bench-")
    path = Path(args.database or Path(workdir) / "bench.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)

    spawn = multiprocessing.get_context("spawn")
    port = _free_port()
    smtp_ready, smtp_stop, smtp_results = spawn.Event(), spawn.Event(), spawn.Queue()
    sink = spawn.Process(
        target=smtp_sink, args=(port, smtp_ready, smtp_stop, smtp_results), daemon=True
    )
    sink.start()
    if not smtp_ready.wait(30):
        raise SystemExit("the SMTP server did not start")
    config = {
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "RATELIMIT_STORAGE_URI": "memory://",
        "FORUM_MAIL_HOST": "127.0.0.1",
        "FORUM_MAIL_PORT": port,
        "FORUM_MAIL_SENDER": "forum@bench.example",
        "FORUM_BASE_URL": "https://forum.example",
    }
    app = create_app(config)
    with app.app_context():
        db.create_all()
        topic_areas.ensure_default_categories()
        now = utcnow()
        started = time.perf_counter()
        seed(args.members, args.topics, now)
        seeded = time.perf_counter() - started
        db.engine.dispose()

    ready, go, results = spawn.Semaphore(0), spawn.Event(), spawn.Queue()
    start_at = (now + timedelta(minutes=1)).isoformat()
    senders = [
        spawn.Process(
            target=run_sender,
            args=(config, start_at, args.tracemalloc, ready, go, results),
        )
        for _ in range(args.senders)
    ]
    try:
        for sender in senders:
            sender.start()
        for _ in senders:
            ready.acquire(timeout=60)
        started = time.perf_counter()
        go.set()
        runs = [results.get(timeout=1800) for _ in senders]
        elapsed = time.perf_counter() - started
        for sender in senders:
            sender.join(timeout=30)
    finally:
        smtp_stop.set()  # every message was acknowledged (250) before send_digests returned
        arrived, distinct = smtp_results.get(timeout=30)
        sink.join(timeout=30)

    sent = sum(run["report"].sent for run in runs)
    statements = sum(run["statements"] for run in runs)
    print(f"database          sqlite {path}")
    print(f"members           {args.members} (seeded in {seeded:.1f} s)")
    per_sender = ", ".join(str(run["report"].sent) for run in runs)
    print(f"senders           {args.senders} process(es), sent {per_sender}")
    for run in runs:
        report = run["report"]
        print(
            f"  report          sent={report.sent} empty={report.skipped_empty} "
            f"pending={report.pending} failed={report.failed}, in {run['elapsed']:.1f} s"
        )
    print(f"messages arrived  {arrived}")
    print(f"wall time         {elapsed:.1f} s")
    print(f"throughput        {sent / elapsed:.0f} messages/s")
    print(f"SQL statements    {statements} ({statements / max(args.members, 1):.1f} per member)")
    for run in runs:
        peak = run["peak"]
        traced = f"{peak / 2**20:.1f} MiB" if peak is not None else "not measured (--tracemalloc)"
        print(
            f"memory (sender)   tracemalloc peak {traced}; max RSS "
            f"{run['rss_before'] / 1024:.0f} MiB before sending, "
            f"{run['rss_after'] / 1024:.0f} MiB after"
        )
    assert sent == args.members, f"expected {args.members} digests sent, got {sent}"
    assert arrived == args.members, f"expected {args.members} messages, {arrived} arrived"
    assert distinct == args.members, "a member got two digests"
    return 0


if __name__ == "__main__":
    sys.exit(main())
