"""Benchmark: the list pages on a big forum, timed against a bare endpoint in the same run.

    .venv/bin/python bench/pages.py --topics 100000 --posts 1000000 [--database PATH]

Builds (once; reused when --database exists) a SQLite forum bulk-loaded into the project's own
schema: 2,000 members, the topics spread over the areas (1% restricted, a few pinned across the
forum), the posts spread over the topics, one member let into some restricted topics. Then,
through a real WSGI server (werkzeug, threaded, in this process) and a plain HTTP client, it
requests each page --repeat times as a visitor and as a member and prints the median in ms next
to the median of a bare endpoint (/robots-bare, a route that does nothing), plus the number of
SQL statements and the query plan of each statement (--plans). The machine is shared and noisy:
compare pages with the bare endpoint of the same run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import logging
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, insert, select, text
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forum import create_app  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import Category, Post, Topic, TopicAccess, User  # noqa: E402
from forum.models.types import utcnow  # noqa: E402
from forum.services import accounts, topic_areas  # noqa: E402

MEMBERS = 2_000
BATCH = 20_000
PAGES = [
    "/",
    "/latest",
    "/latest?page=300",
    "/c/privacy",
    "/c/privacy?page=300",
    "/tags",
]


def seed(topics: int, posts: int) -> None:
    topic_areas.ensure_default_categories()
    areas = [c.id for c in db.session.scalars(select(Category))]
    now = utcnow()
    password = accounts.hash_password("bench password")
    db.session.execute(
        insert(User.__table__),
        [
            {
                "email": f"member{n}@bench.example",
                "display_name": f"Member {n}",
                "handle": f"member{n}",
                "password_hash": password,
                "created_at": now - timedelta(days=400),
            }
            for n in range(MEMBERS)
        ],
    )
    user_ids = db.session.scalars(select(User.id)).all()
    rng = random.Random(7)
    per_topic = max(1, posts // topics)
    restricted = set(rng.sample(range(topics), max(1, topics // 100)))
    for start in range(0, topics, BATCH):
        rows = []
        for n in range(start, min(topics, start + BATCH)):
            when = now - timedelta(minutes=topics - n)
            columns = {
                "category_id": areas[n % len(areas)],
                "author_id": user_ids[n % MEMBERS],
                "title": f"Topic {n} about membership inference",
                "slug": f"topic-{n}",
                "kind": "discussion",
                "created_at": when,
                "last_post_at": when,
                "last_post_number": per_topic,
                "reply_count": per_topic - 1,
                "is_restricted": n in restricted,
                "embargo_until": now + timedelta(days=30) if n in restricted else None,
            }
            if hasattr(Topic, "is_pinned_globally"):
                columns["is_pinned_globally"] = n % 20_000 == 0
            rows.append(columns)
        db.session.execute(insert(Topic.__table__), rows)
        db.session.commit()
    topic_ids = db.session.scalars(select(Topic.id).order_by(Topic.id)).all()
    batch = []
    for n, topic_id in enumerate(topic_ids):
        for number in range(1, per_topic + 1):
            batch.append(
                {
                    "topic_id": topic_id,
                    "author_id": user_ids[(n + number) % MEMBERS],
                    "number": number,
                    "path": f"{number:06d}",
                    "depth": 0,
                    "body": "A considered reply.",
                    "body_html": "<p>A considered reply.</p>",
                    "created_at": now,
                }
            )
            if len(batch) >= BATCH:
                db.session.execute(insert(Post.__table__), batch)
                batch.clear()
    if batch:
        db.session.execute(insert(Post.__table__), batch)
    let_in = [topic_ids[n] for n in sorted(restricted)[:50]]
    db.session.execute(
        insert(TopicAccess.__table__), [{"topic_id": t, "user_id": user_ids[1]} for t in let_in]
    )
    # The stored counts, as the services keep them.
    db.session.execute(
        text(
            "UPDATE categories SET topic_count = (SELECT count(*) FROM topics t "
            "WHERE t.category_id = categories.id AND t.is_restricted = 0)"
        )
    )
    db.session.commit()
    db.session.execute(text("ANALYZE"))


def median_ms(opener, url: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        with opener.open(url) as response:
            response.read()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--topics", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--database", type=Path)
    parser.add_argument("--plans", action="store_true")
    args = parser.parse_args()
    path = args.database or Path(tempfile.mkdtemp()) / "bench-pages.db"
    fresh = not path.exists()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "RATELIMIT_ENABLED": False})
    app.add_url_rule("/robots-bare", "bare", lambda: "ok")
    with app.app_context():
        if fresh:
            db.create_all()
            started = time.perf_counter()
            seed(args.topics, args.posts)
            print(f"seeded {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        statements: list[tuple] = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append((a[2], a[3])))

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    visitor = urllib.request.build_opener()
    member = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    login = member.open(base + "/login").read().decode()
    token = login.split('name="csrf_token"')[1].split('value="')[1].split('"')[0]
    data = f"csrf_token={token}&email=member1%40bench.example&password=bench+password"
    member.open(base + "/login", data=data.encode()).read()

    print(f"{'page':28} {'reader':8} {'median ms':>10} {'bare ms':>8} {'SQL':>4}")
    for url in PAGES:
        for name, opener in (("visitor", visitor), ("member", member)):
            median_ms(opener, base + url, 1)  # warm
            statements.clear()
            median_ms(opener, base + url, 1)
            count = len(statements)
            page = median_ms(opener, base + url, args.repeat)
            bare = median_ms(opener, base + "/robots-bare", args.repeat)
            print(f"{url:28} {name:8} {page:10.1f} {bare:8.1f} {count:4d}")
            if args.plans and name == "member":
                with app.app_context():
                    for sql, params in statements:
                        if not sql.lstrip().upper().startswith("SELECT"):
                            continue
                        plan = db.session.connection().exec_driver_sql(
                            "EXPLAIN QUERY PLAN " + sql, params
                        )
                        print("   ", " ".join(sql.split())[:150])
                        for row in plan:
                            print("      ", row[-1])
    server.shutdown()


if __name__ == "__main__":
    main()
