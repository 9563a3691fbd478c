"""Search benchmark: median and 99th percentile of full-text queries on the bench/seed.py data set.

    .venv/bin/python bench/seed.py --database /tmp/forum1m.db        # once (1M posts)
    .venv/bin/python bench/search.py --database /tmp/forum1m.db [--repeat 20] [--write-docs]

Each query of QUERIES runs --repeat times through forum.services.fulltext.search (the index
lookup, the visibility rule, the join to posts and topics, the snippets), as a visitor and as a
member, after one warm-up run; the report gives each query's median (wall clock and this
process's CPU time, which a shared machine disturbs less), and the median and 99th percentile
over every run; then the similar-topics lookup for a few titles being typed. The seed's bodies
come from six sentences, so a body word ("model") matches a sixth of all posts: those queries
show the cost of ranking a very common word, title words that of an ordinary one. With
--write-docs the table replaces the section between <!-- search:start --> and
<!-- search:end --> in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed import database_url  # noqa: E402
from forum import create_app  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import Post, User  # noqa: E402
from forum.services.fulltext import SearchFilters, SearchOrder, search  # noqa: E402
from forum.services.search import similar_topics  # noqa: E402

DOCS = ROOT / "docs" / "performance.md"
START, END = "<!-- search:start -->", "<!-- search:end -->"
MEMBER_EMAIL = "member5@university5.example"
GOAL_MS = 20.0
SIMILAR_GOAL_MS = 10.0

# (label, text, filters, order)
QUERIES = [
    ("title word", "watermarking", SearchFilters(), SearchOrder.RELEVANCE),
    ("two title words", "membership clinical", SearchFilters(), SearchOrder.RELEVANCE),
    ("phrase", '"prompt injection"', SearchFilters(), SearchOrder.RELEVANCE),
    ("phrase, by date", '"red teaming" agents', SearchFilters(), SearchOrder.DATE),
    ("exclusion", "unlearning -education", SearchFilters(), SearchOrder.RELEVANCE),
    ("stemmed word", "poisoned retrieval", SearchFilters(), SearchOrder.RELEVANCE),
    ("Arabic", "الخصوصية التفاضلية", SearchFilters(), SearchOrder.RELEVANCE),
    ("filters", "jailbreak", SearchFilters(area="safety", kind="question"), SearchOrder.DATE),
    ("no match", "zeppelin", SearchFilters(), SearchOrder.RELEVANCE),
    ("body word (1 post in 6)", "baseline", SearchFilters(), SearchOrder.RELEVANCE),
    ("body word, by date", "threat", SearchFilters(), SearchOrder.DATE),
]

# Titles a member might be typing (the composer's similar-topics lookup, /api/topics/similar).
SIMILAR_TITLES = [
    "membership inference attacks on clinical notes",
    "Prompt injection in agents",
    "watermarking",
    "الخصوصية التفاضلية في النماذج",
    "model evaluation baseline threat",  # words of every body, rarely of a title
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(repeat: int, call) -> tuple[list[float], list[float], int]:
    """Wall and CPU milliseconds of ``repeat`` calls after a warm-up, and the last one's count.
    CPU time is this process's: on a shared machine it moves less than the wall clock."""
    call()  # warm the page cache
    walls, cpus, found = [], [], 0
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        found = call()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        db.session.rollback()
    return walls, cpus, found


def run(repeat: int) -> tuple[list[dict], list[float], list[float], list[dict], int]:
    member = db.session.scalar(select(User).where(User.email == MEMBER_EMAIL))
    readers = {"visitor": AnonymousUserMixin(), "member": member}
    posts = db.session.scalar(select(func.count()).select_from(Post)) or 0
    rows, every, every_cpu = [], [], []
    for label, text, filters, order in QUERIES:
        for reader, viewer in readers.items():
            times, cpus, hits = timed(
                repeat,
                lambda v=viewer, t=text, f=filters, o=order: len(
                    search(v, t, filters=f, order=o).hits
                ),
            )
            every += times
            every_cpu += cpus
            rows.append(
                {
                    "query": label,
                    "text": text,
                    "reader": reader,
                    "hits": hits,
                    "median": statistics.median(times),
                    "cpu": statistics.median(cpus),
                    "p99": percentile(times, 0.99),
                }
            )
    similar = []
    for title in SIMILAR_TITLES:
        times, cpus, hits = timed(repeat, lambda t=title: len(similar_topics(t, viewer=member)))
        similar.append(
            {
                "text": title,
                "hits": hits,
                "median": statistics.median(times),
                "cpu": statistics.median(cpus),
                "p99": percentile(times, 0.99),
            }
        )
    return rows, every, every_cpu, similar, posts


def report(
    rows: list[dict],
    every: list[float],
    every_cpu: list[float],
    similar: list[dict],
    posts: int,
    backend: str,
    repeat: int,
) -> str:
    median, p99 = statistics.median(every), percentile(every, 0.99)
    try:
        load = f"load average {os.getloadavg()[0]:.1f}"
    except OSError:
        load = "load unknown"
    lines = [
        f"Search on {posts:,} posts ({backend}; {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, {load} at the end, {repeat} runs "
        f"of each query per reader, after a warm-up): **median {median:.1f} ms, 99th percentile "
        f"{p99:.1f} ms** over all runs, median CPU time {statistics.median(every_cpu):.1f} ms "
        f"(goal: median ≤ {GOAL_MS:.0f} ms on SQLite).",
        "",
        "| query | text | reader | hits on page 1 | median ms | CPU ms | p99 ms |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['query']} | `{row['text']}` | {row['reader']} | {row['hits']} | "
            f"{row['median']:.1f} | {row['cpu']:.1f} | {row['p99']:.1f} |"
        )
    lines += [
        "",
        f"Similar topics (a member typing a title; goal ≤ {SIMILAR_GOAL_MS:.0f} ms):",
        "",
        "| title typed | topics shown | median ms | CPU ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in similar:
        lines.append(
            f"| `{row['text']}` | {row['hits']} | {row['median']:.1f} | {row['cpu']:.1f} | "
            f"{row['p99']:.1f} |"
        )
    return "\n".join(lines)


def write_docs(section: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = f"{START}\n{section}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n## Search\n\n" + block + "\n"
    DOCS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True, help="a seeded SQLite path or database URL")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(args.database)})
    with app.test_request_context("/search"):
        rows, every, every_cpu, similar, posts = run(args.repeat)
        backend = db.engine.dialect.name
    name = "SQLite" if backend == "sqlite" else "PostgreSQL"
    section = report(rows, every, every_cpu, similar, posts, name, args.repeat)
    print(section)
    if args.write_docs:
        write_docs(section)
    return 0 if backend != "sqlite" or statistics.median(every) <= GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
