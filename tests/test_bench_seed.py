"""bench/seed.py: the synthetic community the benchmarks run on is made by the migrations,
is the same for the same options, and every stored figure agrees with the rows."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from bench import seed

SMALL = ["--members", "40", "--topics", "120", "--posts", "900", "--big-topic", "150"]
SMALL += ["--agenda", "6", "--rounds", "2", "--ballots", "12", "--nested-share", "0.5"]


def _fingerprint(path) -> str:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT t.title, t.reply_count, t.is_restricted, p.number, p.path, p.depth "
            "FROM topics t JOIN posts p ON p.topic_id = t.id WHERE t.slug LIKE 'topic-%' "
            "ORDER BY t.id, p.number"
        ).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    path = tmp_path_factory.mktemp("seed") / "forum.db"
    assert seed.main(["--database", str(path), *SMALL]) == 0
    return path


def test_the_seeded_forum_has_the_sizes_asked_for_and_the_shapes_the_pages_meet(seeded):
    with sqlite3.connect(seeded) as connection:
        one = lambda sql: connection.execute(sql).fetchone()[0]  # noqa: E731
        assert one("SELECT count(*) FROM users") == 40
        # The asked-for topics and posts, plus each agenda item's discussion topic.
        assert one("SELECT count(*) FROM topics WHERE slug LIKE 'topic-%'") == 120
        assert one("SELECT count(*) FROM posts") == 900 + 6
        assert one("SELECT max(last_post_number) FROM topics") == 150
        assert one("SELECT max(depth) FROM posts") == 4
        assert one("SELECT count(*) FROM posts WHERE parent_id IS NOT NULL") > 0
        assert one("SELECT count(*) FROM topics WHERE is_restricted") == 1
        assert one("SELECT count(*) FROM voting_rounds WHERE results IS NOT NULL") == 2
        assert one("SELECT count(*) FROM ballots") == 12 + 3
        # Made by the migrations: Alembic's version table is at the head.
        assert one("SELECT count(*) FROM alembic_version") == 1


def test_the_same_options_give_the_same_forum(seeded, tmp_path):
    again = tmp_path / "again.db"
    assert seed.main(["--database", str(again), *SMALL]) == 0
    assert _fingerprint(again) == _fingerprint(seeded)


def test_a_database_that_already_holds_members_is_refused(seeded):
    assert seed.main(["--database", str(seeded), *SMALL]) == 2


def test_the_recount_names_a_stored_figure_that_disagrees_with_the_rows(seeded, tmp_path):
    broken = tmp_path / "broken.db"
    with sqlite3.connect(seeded) as source, sqlite3.connect(broken) as copy:
        source.backup(copy)
        copy.execute("UPDATE categories SET topic_count = topic_count + 1 WHERE slug = 'privacy'")
        copy.execute("UPDATE topics SET reply_count = reply_count + 1 WHERE slug = 'topic-3'")
    from forum import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{broken}"})
    with app.app_context():
        problems = seed.check_consistency()
    assert any("area privacy" in p for p in problems)
    assert any("1 of" in p and "reply count" in p for p in problems)
    with app.app_context():
        assert seed.check_consistency() == problems  # reading changes nothing
