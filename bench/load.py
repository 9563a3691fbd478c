"""Load benchmark: every page of the issue's table under gunicorn, as a ratio to a bare endpoint.

    bench/run --database /tmp/forum1m.db [--duration 5] [--write-docs]

1. In this process, through the test client: each page's median over --repeat requests, its
   SQL statement count, and the query plan of its slowest statement (EXPLAIN QUERY PLAN on
   SQLite, EXPLAIN on PostgreSQL).
2. Under load: gunicorn (--workers, sync, the settings production uses) serves bench/wsgi.py,
   which is the forum plus /bench/bare, a route that does nothing. For every page and reader
   (visitor, member) wrk first drives the bare endpoint, then the page, --duration seconds
   each, so each page's throughput is a ratio to a ceiling measured seconds before it on the
   same busy machine. Visitors' pages are kept by the page cache (FORUM_PAGE_CACHE_URL: Redis
   on 127.0.0.1:6379 when it answers, else each worker's memory).
3. The workers' resident memory after the run.

With --write-docs the results replace the section between <!-- load:start --> and
<!-- load:end --> in docs/performance.md. Rate limits are off for the run
(FORUM_RATELIMIT_DISABLED).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed import PASSWORD, database_url  # noqa: E402
from forum import create_app  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import Category, Topic, User  # noqa: E402
from forum.services.reading import POSTS_PER_PAGE  # noqa: E402
from forum.services.topic_lists import TOPICS_PER_PAGE  # noqa: E402

MEMBER_EMAIL = "member5@university5.example"
USER_AGENT = "forum-bench"
DOCS = ROOT / "docs" / "performance.md"
START, END = "<!-- load:start -->", "<!-- load:end -->"


@dataclass
class Page:
    name: str
    path: str
    readers: tuple[str, ...] = ("visitor", "member")
    single: dict[str, float] = field(default_factory=dict)  # reader -> median ms
    statements: dict[str, int] = field(default_factory=dict)
    sql_ms: dict[str, float] = field(default_factory=dict)  # reader -> median SQL time
    plan: list[str] = field(default_factory=list)
    slowest: str = ""
    load: dict[str, tuple[float, float, int]] = field(default_factory=dict)  # rps, bare, errors


def the_pages(app) -> list[Page]:
    with app.app_context():
        area = db.session.scalar(select(Category).where(Category.slug == "privacy"))
        listed = Topic.is_restricted.is_(False), Topic.merged_into_id.is_(None)
        in_area = db.session.scalar(
            select(func.count()).select_from(Topic).where(Topic.category_id == area.id, *listed)
        )
        everywhere = db.session.scalar(select(func.count()).select_from(Topic).where(*listed))
        ten = db.session.execute(
            select(Topic.id, Topic.slug)
            .where(Topic.last_post_number == 10, Topic.category_id == area.id, *listed)
            .limit(1)
        ).one()
        big = db.session.execute(
            select(Topic.id, Topic.slug, Topic.last_post_number)
            .where(*listed)
            .order_by(Topic.last_post_number.desc())
            .limit(1)
        ).one()
        profile = db.session.scalar(select(User.id).where(User.email == MEMBER_EMAIL))
    area_last = max(1, math.ceil(in_area / TOPICS_PER_PAGE))
    latest_deep = min(3000, max(1, math.ceil(everywhere / TOPICS_PER_PAGE)))
    big_last = max(1, math.ceil(big.last_post_number / POSTS_PER_PAGE))
    return [
        Page("home", "/"),
        Page("area page 1", "/c/privacy"),
        Page(f"area last page ({area_last})", f"/c/privacy?page={area_last}"),
        Page("/latest page 1", "/latest"),
        Page(f"/latest page {latest_deep}", f"/latest?page={latest_deep}"),
        Page("a topic of 10 posts", f"/t/{ten.id}/{ten.slug}?page=1"),
        Page(f"{big.last_post_number:,}-post topic, first page", f"/t/{big.id}/{big.slug}?page=1"),
        Page(
            f"{big.last_post_number:,}-post topic, last page",
            f"/t/{big.id}/{big.slug}?page={big_last}",
        ),
        Page("/agenda", "/agenda"),
        Page("profile", f"/u/{profile}"),
        Page(
            "similar topics (typing a title)",
            "/api/topics/similar?title=membership+inference+attacks+on+clinical+notes",
            readers=("member",),
        ),
    ]


def chosen(pages: list[Page], names: str, readers: str) -> list[Page]:
    """The pages whose name holds one of ``names`` and the ``readers`` asked for (all if empty)."""
    wanted = [n for n in names.split(",") if n]
    kept = [p for p in pages if not wanted or any(n in p.name for n in wanted)]
    for page in kept:
        if readers:
            page.readers = tuple(r for r in page.readers if r in readers.split(","))
    return [p for p in kept if p.readers]


def _csrf(html: str) -> str:
    return html.split('name="csrf_token"')[1].split('value="')[1].split('"')[0]


# --- 1. single process ---------------------------------------------------------------------------


def single_process(app, pages: list[Page], repeat: int) -> None:
    timings: list[tuple[float, str, object]] = []
    started: list[float] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        started.append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        timings.append((time.perf_counter() - started.pop(), statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
    readers = {"visitor": app.test_client(), "member": app.test_client()}
    member = readers["member"]
    token = _csrf(member.get("/login").get_data(as_text=True))
    answer = member.post(
        "/login", data={"csrf_token": token, "email": MEMBER_EMAIL, "password": PASSWORD}
    )
    if answer.status_code != 302:
        raise SystemExit(f"bench: could not log in as {MEMBER_EMAIL} ({answer.status_code})")
    for page in pages:
        for name in page.readers:
            client = readers[name]
            status = client.get(page.path).status_code  # warm, and the read mark written
            if status != 200:
                raise SystemExit(f"bench: {page.path} answered {status} to a {name}")
            timings.clear()
            client.get(page.path)
            page.statements[name] = len(timings)
            if name == "member" or not page.plan:
                worst = max(timings, default=None, key=lambda t: t[0])
                if worst is not None:
                    page.slowest = re.sub(
                        r"^SELECT .*? FROM ", "SELECT … FROM ", " ".join(worst[1].split())
                    )
                    page.plan = explain(app, worst[1], worst[2])
            times, sql = [], []
            for _ in range(repeat):
                timings.clear()
                begun = time.perf_counter()
                client.get(page.path)
                times.append((time.perf_counter() - begun) * 1000)
                sql.append(sum(t[0] for t in timings) * 1000)
            page.single[name] = statistics.median(times)
            page.sql_ms[name] = statistics.median(sql)
    with app.app_context():
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)


def explain(app, statement: str, parameters) -> list[str]:
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name == "sqlite":
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            return [row[-1] for row in rows]
        rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        return [row[0] for row in rows]


# --- 2. under gunicorn ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


def start_gunicorn(
    url: str, port: int, workers: int, cache: str, recheck: float = 0
) -> subprocess.Popen:
    env = {
        **os.environ,
        "FORUM_DATABASE_URL": url,
        "FORUM_SECRET_KEY": "bench-secret-key",
        "FORUM_RATELIMIT_DISABLED": "1",
        "FORUM_PAGE_CACHE_URL": cache,
        "FORUM_PAGE_CACHE_PREFIX": f"bench-{port}:",
        "FORUM_PAGE_CACHE_RECHECK_SECONDS": str(recheck),
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),  # this virtualenv's (worktrees too)
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "bench.wsgi:app",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/bare", timeout=2).read()
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("bench: gunicorn did not answer within 60 s")


def member_cookie(base: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    token = _csrf(opener.open(base + "/login").read().decode())
    data = urllib.parse.urlencode(
        {"csrf_token": token, "email": MEMBER_EMAIL, "password": PASSWORD}
    ).encode()
    opener.open(base + "/login", data=data).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(url: str, seconds: int, connections: int, cookie: str | None) -> tuple[float, int]:
    # The member's User-Agent as at log-in: Flask-Login's strong session protection ends a
    # session that comes back from another browser (wrk would otherwise be a visitor).
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-H", f"User-Agent: {USER_AGENT}"]
    argv.append(url)
    if cookie:
        argv[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return rps, int(errors.group(1)) if errors else 0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def status_of(url: str, cookie: str | None) -> int:
    """What one request answers, redirects not followed: wrk counts a 302 (to the log-in page)
    as a success, so a page must answer 200 to its reader before it is measured."""
    headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
    try:
        with urllib.request.build_opener(_NoRedirect).open(
            urllib.request.Request(url, headers=headers)
        ) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def worker_memory(server: subprocess.Popen) -> list[float]:
    children = subprocess.run(
        ["ps", "--ppid", str(server.pid), "-o", "rss="], capture_output=True, text=True
    ).stdout.split()
    return [int(kb) / 1024 for kb in children]


def under_load(url: str, pages: list[Page], args) -> tuple[list[float], str]:
    port = free_port()
    cache = "redis://127.0.0.1:6379/0" if redis_answers() else "memory://"
    server = start_gunicorn(url, port, args.workers, cache, args.cache_recheck)
    base = f"http://127.0.0.1:{port}"
    try:
        cookies = {"visitor": None, "member": member_cookie(base)}
        for page in pages:
            for name in page.readers:
                status = status_of(base + page.path, cookies[name])
                if status != 200:
                    raise SystemExit(
                        f"bench: {page.path} answered {status} to a {name} under gunicorn"
                    )
                bare, _ = wrk(base + "/bench/bare", args.duration, args.connections, cookies[name])
                rps, errors = wrk(base + page.path, args.duration, args.connections, cookies[name])
                page.load[name] = (rps, bare, errors)
                print(
                    f"  {page.name:38} {name:8} {rps:8.0f} req/s  bare {bare:6.0f}  "
                    f"{rps / bare:6.1%}" + (f"  {errors} errors" if errors else ""),
                    file=sys.stderr,
                )
        return worker_memory(server), cache.split(":")[0]
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- report --------------------------------------------------------------------------------------


def report(pages: list[Page], memory: list[float], cache: str, args, sizes: str) -> str:
    load = os.getloadavg()
    recheck_note = (
        f" (each worker rechecks the version every {args.cache_recheck:g} s)"
        if args.cache_recheck and cache == "redis"
        else ""
    )
    lines = [
        START,
        "## Pages under load (`bench/run`)",
        "",
        f"{sizes}; {args.dialect}; gunicorn {args.workers} sync workers, wrk 2 threads "
        f"{args.connections} connections, {args.duration} s per measurement, the bare endpoint "
        f"measured just before each page; visitors' page cache in {cache}"
        f"{recheck_note}. Machine: "
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} at the end. "
        f"Single process: median of {args.repeat} requests through the test client.",
        "",
        "| page | reader | single ms | statements | req/s | bare req/s | share of bare |",
        "|---|---|---|---|---|---|---|",
    ]
    for page in pages:
        for name in page.readers:
            rps, bare, errors = page.load.get(name, (0.0, 0.0, 0))
            share = f"{rps / bare:.1%}" if bare else "–"
            if errors:
                share += f" ({errors} non-2xx)"
            lines.append(
                f"| {page.name} | {name} | {page.single[name]:.1f} | {page.statements[name]} | "
                f"{rps:,.0f} | {bare:,.0f} | {share} |"
            )
    lines += [
        "",
        "Worker memory after the run: " + ", ".join(f"{mb:.0f} MB" for mb in memory) + " resident.",
        "",
        "Slowest statement of each page (as a member) and its plan:",
        "",
    ]
    for page in pages:
        lines += [f"- **{page.name}**: `{page.slowest[:400]}`", "", "  ```"]
        lines += [f"  {step}" for step in page.plan] + ["  ```", ""]
    lines.append(END)
    return "\n".join(lines)


def write_docs(section: str) -> None:
    text = DOCS.read_text()
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOCS.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True, help="a database made by bench/seed.py")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument(
        "--pages", default="", help="only the pages whose name holds one of these (comma-separated)"
    )
    parser.add_argument("--readers", default="", help="only these readers: visitor,member")
    parser.add_argument(
        "--cache-recheck",
        type=float,
        default=1.0,
        help="FORUM_PAGE_CACHE_RECHECK_SECONDS for the workers (0: ask Redis on every request)",
    )
    parser.add_argument(
        "--single-only", action="store_true", help="only the single-process medians, no gunicorn"
    )
    args = parser.parse_args(argv)
    if args.write_docs and (args.pages or args.readers or args.single_only):
        parser.error(
            "--write-docs records the whole table: not with --pages, --readers, --single-only"
        )
    url = database_url(args.database)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        args.dialect = "SQLite" if db.engine.dialect.name == "sqlite" else "PostgreSQL"
        counts = [
            db.session.scalar(select(func.count()).select_from(model))
            for model in (User, Topic, db.Model.metadata.tables["posts"])
        ]
    sizes = f"{counts[0]:,} members, {counts[1]:,} topics, {counts[2]:,} posts"
    pages = chosen(the_pages(app), args.pages, args.readers)
    print(f"bench: {sizes}; single process", file=sys.stderr)
    single_process(app, pages, args.repeat)
    for page in pages:
        for name in page.readers:
            print(
                f"  {page.name:38} {name:8} {page.single[name]:7.1f} ms  "
                f"{page.statements[name]} statements, SQL {page.sql_ms[name]:.1f} ms",
                file=sys.stderr,
            )
    if args.single_only:
        for page in pages:
            print(f"  {page.name}: {page.slowest[:300]}", file=sys.stderr)
            for step in page.plan:
                print(f"      {step}", file=sys.stderr)
        return 0
    print("bench: under gunicorn", file=sys.stderr)
    memory, cache = under_load(url, pages, args)
    section = report(pages, memory, cache, args, sizes)
    print(section)
    if args.write_docs:
        write_docs(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
