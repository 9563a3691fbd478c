"""A deterministic synthetic community, bulk-loaded into a database made by the migrations.

    .venv/bin/python bench/seed.py --database /tmp/forum1m.db            # SQLite file
    .venv/bin/python bench/seed.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench

Defaults are the sizes the benchmarks are measured at: 2,000 members, 100,000 topics, 1,000,000
posts (one topic of 5,000), replies nested to depth 4 in a share of the topics, 1% of topics
restricted (embargoed findings) with a few members let in, some pinned and featured, tags, 100
agenda items and closed voting rounds of up to 1,000 ballots. The same options give the same
forum: every choice comes from one seeded random generator.

Members, topics, posts and tags are inserted in bulk (Core
``insert`` in batches), with each topic's stored figures (reply count, last post, last poster)
computed as they are written; the areas' and tags' stored topic counts are set from the rows.
Agenda items, rounds and ballots go through the services (proposing, casting, closing), so the
audit log, receipts and frozen results are the ones the forum itself makes. At the end every
stored figure is recounted from the rows and the seeder exits 1 if one disagrees.

The database must be empty (a new SQLite path, or an empty PostgreSQL database).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, func, inspect, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forum import create_app  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.markup import render_markdown  # noqa: E402
from forum.models import Category, Post, Tag, Topic, TopicAccess, User  # noqa: E402
from forum.models.accounts import Role  # noqa: E402
from forum.models.discussions import PATH_SEGMENT_WIDTH, TopicKind, topic_tags  # noqa: E402
from forum.models.types import utcnow  # noqa: E402
from forum.names import skeleton  # noqa: E402
from forum.services import search  # noqa: E402

BATCH = 20_000
PASSWORD = "bench password"
# Titles are drawn from these so that topics share words the way real ones do, which is what
# the similar-topics lookup and list pages have to cope with.
SUBJECTS = [
    "membership inference", "model inversion", "prompt injection", "jailbreak", "data extraction",
    "differential privacy", "red teaming", "watermarking", "unlearning", "federated fine-tuning",
    "reward hacking", "sleeper agents", "backdoor triggers", "retrieval poisoning", "tool use",
    "evaluation leakage", "memorisation", "refusal training", "alignment tax", "open weights",
]  # fmt: skip
CONTEXTS = [
    "clinical notes", "code models", "speech models", "Arabic corpora", "small models",
    "agents", "multilingual benchmarks", "instruction tuning", "RLHF data", "model cards",
    "chat logs", "search engines", "education", "legal documents", "synthetic data",
]  # fmt: skip
FORMS = [
    "How do we measure {s} in {c}?", "{s} on {c}: what is known", "A dataset for {s} in {c}",
    "Does {s} transfer to {c}?", "Open problems: {s} and {c}", "Reproducing {s} results on {c}",
]  # fmt: skip
ARABIC_TITLES = ["الخصوصية التفاضلية في النماذج اللغوية", "هجمات حقن الأوامر على الوكلاء"]
BODIES = [
    "A considered reply.",
    "We tried this on **three** models; see [the paper](https://example.org/paper).",
    "I agree with the point above, with one caveat:\n\n> the baseline was tuned too.\n\nThoughts?",
    "| model | AUC |\n|---|---|\n| base | 0.61 |\n| tuned | 0.83 |",
    "Code: `python eval.py --seed 3` and the data at https://example.org/data",
    "- first, the threat model\n- second, the metric\n- third, the release plan",
]
TAGS = [
    "evaluation", "datasets", "benchmarks", "policy", "theory", "tooling", "replication",
    "open-source", "medical", "multilingual", "agents", "training-data",
]  # fmt: skip


def _segment(number: int) -> str:
    return f"{number:0{PATH_SEGMENT_WIDTH}d}"


class Seeder:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.rng = random.Random(args.seed)
        self.now = utcnow().replace(microsecond=0)
        self.bodies = [(body, render_markdown(body)) for body in BODIES]

    # --- members ---------------------------------------------------------------------------------

    def members(self) -> None:
        from forum.services import accounts

        password = accounts.hash_password(PASSWORD)
        rows = []
        for n in range(self.args.members):
            role = Role.ADMIN if n == 0 else Role.MODERATOR if n < 4 else Role.MEMBER
            rows.append(
                {
                    "email": f"member{n}@university{n % 150}.example",
                    "display_name": f"Member {n}",
                    "name_skeleton": skeleton(f"Member {n}"),
                    "handle": f"member{n}",
                    "password_hash": password,
                    "role": role,
                    "affiliation": f"University {n % 150}",
                    "profile_public": n % 2 == 1,
                    "created_at": self.now - timedelta(days=800 - n % 30),
                }
            )
        self._insert(User.__table__, rows)
        self.user_ids = db.session.scalars(select(User.id).order_by(User.id)).all()

    # --- topics and posts ------------------------------------------------------------------------

    def _title(self, n: int) -> str:
        if n % 50 == 7:
            return self.rng.choice(ARABIC_TITLES)
        # Titles repeat across a big forum (about 1,800 distinct ones), as questions do.
        form = self.rng.choice(FORMS)
        return form.format(s=self.rng.choice(SUBJECTS), c=self.rng.choice(CONTEXTS))

    def _post_counts(self) -> list[int]:
        """How many posts each topic holds: one big topic, every other at least its opening post,
        the rest spread unevenly (a few long discussions, many short ones)."""
        topics, posts = self.args.topics, self.args.posts
        big = min(self.args.big_topic, max(1, posts - (topics - 1)))
        counts = [1] * topics
        counts[0] = big
        spare = posts - big - (topics - 1)
        weights = [self.rng.paretovariate(1.5) for _ in range(topics - 1)]
        scale = spare / sum(weights) if spare > 0 else 0
        for i, w in enumerate(weights, start=1):
            counts[i] += int(w * scale)
        short = posts - sum(counts)
        for i in range(short if short > 0 else 0):
            counts[1 + i % (topics - 1)] += 1
        return counts

    def topics_and_posts(self) -> None:
        areas = db.session.scalars(
            select(Category.id).where(Category.slug != "research-agenda").order_by(Category.id)
        ).all()
        counts = self._post_counts()
        span = timedelta(days=730)
        topics = self.args.topics
        self.restricted = set(self.rng.sample(range(1, topics), max(1, topics // 100)))
        # Ids are given, not read back: the tables are empty, and a reply's parent id is then
        # known while the batch is built.
        self.topic_ids = list(range(1, topics + 1))
        started = self.now - span
        topic_rows: list[dict] = []
        posts: list[dict] = []
        post_id = 0
        for n, topic_id in enumerate(self.topic_ids):
            created = started + span * (n / topics)
            author = self.user_ids[self.rng.randrange(len(self.user_ids))]
            title = self._title(n)
            last_poster = self.user_ids[(n + counts[n]) % len(self.user_ids)]
            topic_rows.append(
                {
                    "id": topic_id,
                    "category_id": areas[n % len(areas)],
                    "author_id": author,
                    "title": title,
                    "slug": f"topic-{n}",
                    "kind": TopicKind.QUESTION if n % 3 == 0 else TopicKind.DISCUSSION,
                    "created_at": created,
                    "last_post_at": min(created + timedelta(minutes=7 * counts[n]), self.now),
                    "last_post_number": counts[n],
                    "last_poster_id": last_poster if counts[n] > 1 else author,
                    "reply_count": counts[n] - 1,
                    "is_pinned": n % 5_000 == 1,
                    "is_pinned_globally": n % 40_000 == 2,
                    "is_featured": n % 9_000 == 3,
                    "is_restricted": n in self.restricted,
                    "embargo_until": self.now + timedelta(days=30)
                    if n in self.restricted
                    else None,
                }
            )
            nested = self.rng.random() < self.args.nested_share
            placed: list[tuple[int, str, int]] = []  # (id, path, depth) of each post so far
            for number in range(1, counts[n] + 1):
                post_id += 1
                parent_id, path, depth = None, _segment(number), 0
                if number == 1:
                    writer = author
                else:
                    writer = self.user_ids[(n + number) % len(self.user_ids)]
                    if number == counts[n]:
                        writer = last_poster
                    if nested and number > 2 and self.rng.random() < 0.6:
                        parent = placed[self.rng.randrange(1, number - 1)]
                        if parent[2] < self.args.depth:
                            parent_id = parent[0]
                            path, depth = f"{parent[1]}/{_segment(number)}", parent[2] + 1
                placed.append((post_id, path, depth))
                body, html = self.bodies[(n + number) % len(self.bodies)]
                posts.append(
                    {
                        "id": post_id,
                        "topic_id": topic_id,
                        "author_id": writer,
                        "parent_id": parent_id,
                        "number": number,
                        "path": path,
                        "depth": depth,
                        "body": body,
                        "body_html": html,
                        "created_at": min(created + timedelta(minutes=7 * number), self.now),
                    }
                )
            # Topics go in before their posts (the posts' foreign key), a batch at a time.
            if len(posts) >= BATCH:
                self._insert(Topic.__table__, topic_rows)
                self._insert(Post.__table__, posts)
                topic_rows, posts = [], []
        self._insert(Topic.__table__, topic_rows)
        self._insert(Post.__table__, posts)
        if db.engine.dialect.name == "postgresql":
            # Given ids leave the sequences behind; the services' own inserts come next.
            for table in ("topics", "posts"):
                db.session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) "
                        f"FROM {table}"
                    )
                )
            db.session.commit()

    def tags_and_access(self) -> None:
        self._insert(
            Tag.__table__, [{"slug": slug, "name": slug, "description": ""} for slug in TAGS]
        )
        tag_ids = db.session.scalars(select(Tag.id).order_by(Tag.id)).all()
        rows = []
        for n, topic_id in enumerate(self.topic_ids):
            for tag_id in self.rng.sample(tag_ids, n % 3):
                rows.append({"topic_id": topic_id, "tag_id": tag_id})
        self._insert(topic_tags, rows)
        let_in = [self.topic_ids[n] for n in sorted(self.restricted)[:200]]
        self._insert(
            TopicAccess.__table__,
            [{"topic_id": t, "user_id": self.user_ids[5 + i % 20]} for i, t in enumerate(let_in)],
        )
        # The stored counts of what every reader sees (Topic.is_listed_to_all), from the rows.
        listed = (
            Topic.is_restricted.is_(False),
            Topic.is_private_report.is_(False),
            Topic.merged_into_id.is_(None),
        )
        db.session.execute(
            update(Category).values(
                topic_count=select(func.count())
                .select_from(Topic)
                .where(Topic.category_id == Category.id, *listed)
                .scalar_subquery()
            )
        )
        db.session.execute(
            update(Tag).values(
                topic_count=select(func.count())
                .select_from(topic_tags.join(Topic, Topic.id == topic_tags.c.topic_id))
                .where(topic_tags.c.tag_id == Tag.id, *listed)
                .scalar_subquery()
            )
        )
        db.session.commit()

    # --- agenda and rounds, through the services -------------------------------------------------

    def agenda(self) -> None:
        from forum.models import AgendaItem, VotingMethod, VotingRound
        from forum.models.agenda import AgendaArea
        from forum.services import agenda, round_results, voting

        # Members are loaded one at a time: every commit expires what the session holds, and
        # holding all of them would make each of the thousands of commits below walk them all.
        def member(index: int) -> User:
            return db.session.get(User, self.user_ids[index])

        past = self.now - timedelta(days=10 * self.args.rounds + 30)
        areas = list(AgendaArea)
        for n in range(self.args.agenda):
            draft = agenda.ItemDraft(
                title=f"Open question {n}: {self.rng.choice(SUBJECTS)} "
                f"in {self.rng.choice(CONTEXTS)}",
                statement="What would it take to measure this reliably?",
                rationale="Several groups report results that do not compare.",
                area=areas[n % len(areas)],
            )
            agenda.propose_item(member(4 + n % 50), draft, now=past + timedelta(minutes=n))
        item_ids = db.session.scalars(select(AgendaItem.id).order_by(AgendaItem.id)).all()
        methods = [VotingMethod.APPROVAL, VotingMethod.BUDGET, VotingMethod.RANKED]
        for r in range(self.args.rounds):
            method = methods[r % len(methods)]
            on_ballot = item_ids[r * 8 : r * 8 + 8] or item_ids[:8]
            # Open now (casting checks the real clock), closed in the past once the ballots are in.
            opens = self.now - timedelta(days=10 * (self.args.rounds - r) + 7)
            draft = voting.RoundDraft(
                title=f"Round {r + 1}",
                description="Which questions should the community work on first?",
                opens_at=opens,
                closes_at=self.now + timedelta(hours=1),
                timezone="UTC",
                method=method,
                item_ids=list(on_ballot),
                institution_share=0.25 if r == 0 else None,
            )
            round_ = voting.create_round(member(1), draft, now=opens - timedelta(hours=1))
            # The first round is the big one; the others are smaller, as turnout falls.
            voters = self.args.ballots if r == 0 else self.args.ballots // 4
            for v in range(voters):
                entries = self._ballot(method, on_ballot, round_)
                voting.cast_ballot(member(v), round_, entries=entries)
            db.session.execute(
                update(VotingRound)
                .where(VotingRound.id == round_.id)
                .values(closes_at=opens + timedelta(days=7))
            )
            db.session.commit()
        round_results.close_due_rounds(now=utcnow())

    def _ballot(self, method, items: list[int], round_) -> dict[int, int]:
        from forum.models import VotingMethod

        if method == VotingMethod.RANKED:
            order = self.rng.sample(items, len(items))
            return {item: rank for rank, item in enumerate(order, start=1)}
        if method == VotingMethod.BUDGET:
            left, entries = round_.budget, {}
            for item in self.rng.sample(items, 3):
                amount = min(left, self.rng.randint(1, round_.per_item_cap))
                if amount:
                    entries[item] = amount
                    left -= amount
            return entries
        return {item: 1 for item in self.rng.sample(items, self.rng.randint(1, 4))}

    # --- bulk insert and checks ------------------------------------------------------------------

    def _insert(self, table, rows: list[dict]) -> None:
        """Insert in batches straight through the driver's executemany, each value converted by
        its column's own type (as SQLAlchemy would), without building parameters row by row."""
        if not rows:
            return
        dialect = db.engine.dialect
        names = list(rows[0])
        # Python-side column defaults, which Core would have filled in.
        defaults = {
            column.name: column.default.arg
            if column.default.is_scalar
            else column.default.arg(None)
            for column in table.c
            if column.name not in rows[0] and column.default is not None
        }
        if defaults:
            rows = [{**row, **defaults} for row in rows]
            names = list(rows[0])
        columns = [table.c[name] for name in names]
        convert = [column.type._cached_bind_processor(dialect) for column in columns]
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) "
            f"VALUES ({', '.join(mark for _ in names)})"
        )
        connection = db.session.connection()
        for start in range(0, len(rows), BATCH):
            batch = [
                tuple(
                    value if step is None or value is None else step(value)
                    for value, step in zip((row[n] for n in names), convert, strict=True)
                )
                for row in rows[start : start + BATCH]
            ]
            connection.exec_driver_sql(sql, batch)
        db.session.commit()


def check_consistency() -> list[str]:
    """Every stored figure recounted from the rows; the disagreements, as sentences."""
    from forum.services import backups

    problems = [check.detail for check in backups.check_restored_data() if not check.ok]
    last = (
        select(func.max(Post.number))
        .where(Post.topic_id == Topic.id)
        .correlate(Topic)
        .scalar_subquery()
    )
    wrong = db.session.scalar(
        select(func.count()).select_from(Topic).where(Topic.last_post_number != last)
    )
    if wrong:
        problems.append(f"{wrong} topics have a wrong last post number")
    listed = (
        Topic.is_restricted.is_(False),
        Topic.is_private_report.is_(False),
        Topic.merged_into_id.is_(None),
    )
    for area in db.session.scalars(select(Category)):
        counted = db.session.scalar(
            select(func.count()).select_from(Topic).where(Topic.category_id == area.id, *listed)
        )
        if counted != area.topic_count:
            problems.append(f"area {area.slug}: stored {area.topic_count}, counted {counted}")
    for tag in db.session.scalars(select(Tag)):
        counted = db.session.scalar(
            select(func.count())
            .select_from(topic_tags.join(Topic, Topic.id == topic_tags.c.topic_id))
            .where(topic_tags.c.tag_id == tag.id, *listed)
        )
        if counted != tag.topic_count:
            problems.append(f"tag {tag.slug}: stored {tag.topic_count}, counted {counted}")
    return problems


def database_url(value: str) -> str:
    return value if "://" in value else f"sqlite:///{Path(value).resolve()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True, help="a new SQLite path or a database URL")
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--topics", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--big-topic", type=int, default=5_000, help="posts in the longest topic")
    parser.add_argument("--nested-share", type=float, default=0.1)
    parser.add_argument("--depth", type=int, default=4, help="deepest reply nesting")
    parser.add_argument("--agenda", type=int, default=100, help="agenda items")
    parser.add_argument("--rounds", type=int, default=3, help="closed voting rounds")
    parser.add_argument("--ballots", type=int, default=1_000, help="ballots per round")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.posts < args.topics:
        parser.error("--posts must be at least --topics (every topic has its opening post)")
    args.ballots = min(args.ballots, args.members)

    url = database_url(args.database)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    started = time.perf_counter()
    with app.app_context():
        if inspect(db.engine).has_table("users") and db.session.scalar(
            select(func.count()).select_from(User)
        ):
            print(f"{args.database} already holds members; give a new database", file=sys.stderr)
            return 2
        from flask_migrate import upgrade

        upgrade()
        if db.engine.dialect.name == "sqlite":
            # A throwaway database: no fsync while loading it.
            event.listen(db.engine, "connect", lambda c, _r: c.execute("PRAGMA synchronous=OFF"))
            db.engine.dispose()
        seeder = Seeder(args)
        steps = [
            ("members", seeder.members),
            ("topics and posts", seeder.topics_and_posts),
            ("tags and access", seeder.tags_and_access),
            ("agenda, rounds and ballots", seeder.agenda),
            ("full-text index", search.reindex_posts),
        ]
        for name, step in steps:
            step_started = time.perf_counter()
            step()
            print(f"seed: {name} in {time.perf_counter() - step_started:.1f} s", file=sys.stderr)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        problems = check_consistency()
        totals = {
            "members": db.session.scalar(select(func.count()).select_from(User)),
            "topics": db.session.scalar(select(func.count()).select_from(Topic)),
            "posts": db.session.scalar(select(func.count()).select_from(Post)),
        }
    print(
        f"seed: {totals['members']:,} members, {totals['topics']:,} topics, {totals['posts']:,} "
        f"posts in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    for problem in problems:
        print(f"seed: inconsistent: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
