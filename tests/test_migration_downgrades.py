"""A downgrade never deletes members' data silently (issue 13): it refuses, names what it would
delete and how many rows, and changes nothing, until the operator runs it again with
`-x data-loss=accept`. An empty forum downgrades without being asked. A static check holds
every migration, present and future, to the rule."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, inspect, make_url, select, text, update

from forum import create_app
from forum.extensions import db
from forum.models import Category, Notification, NotificationKind
from tests.conftest import _worker, app_config, drop_postgres_database, fresh_database_url
from tests.factories import make_user

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"
ACCEPT = ["-x", "data-loss=accept"]


@pytest.fixture
def migrated_app(backend, request, tmp_path):
    """An app on a database of its own, upgraded to the newest migration."""
    url = fresh_database_url(backend, f"forum_downgrades_{_worker(request)}", tmp_path)
    app = create_app(app_config(url))
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()
    if backend == "postgresql":
        drop_postgres_database(make_url(url).database)


def flask_db(app, *args: str):
    """`flask --app forum db ARGS` as an operator types it."""
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["db", *args])
    db.engine.dispose()  # the next look sees what the command committed, nothing cached
    return result


def version() -> str:
    return db.session.scalar(text("SELECT version_num FROM alembic_version"))


def notification_kinds() -> list[str]:
    kinds = db.session.scalars(select(Notification.kind).order_by(Notification.id)).all()
    db.session.remove()
    return [str(kind) for kind in kinds]


def seed_notifications(kinds) -> None:
    member = make_user(display_name="Maya Member")
    for n, kind in enumerate(kinds):
        db.session.add(Notification(user_id=member.id, kind=kind, dedupe_key=f"seed:{n}"))
    db.session.commit()


SEEDED = [
    NotificationKind.MENTION,
    NotificationKind.REPLY,
    NotificationKind.WATCHED_REPLY,
    NotificationKind.ROUND_RESULT,
    NotificationKind.MODERATION,
]


def test_downgrading_past_0009_refuses_names_the_loss_and_changes_nothing(migrated_app):
    seed_notifications(SEEDED)
    head = version()

    result = flask_db(migrated_app, "downgrade", "0008")

    assert result.exit_code == 1
    assert "Downgrading 0009 would delete data the forum holds:" in result.output
    assert "notifications that are not mentions: 4" in result.output
    assert "Nothing was changed" in result.output
    assert "-x data-loss=accept" in result.output
    assert "flask --app forum backup PATH" in result.output
    # Every step already run (0017 down to 0010) was rolled back with the refused one.
    assert version() == head
    assert notification_kinds() == [str(kind) for kind in SEEDED]
    columns = {column["name"] for column in inspect(db.engine).get_columns("users")}
    assert {"session_version", "pending_email", "profile_public"} <= columns
    indexes = {index["name"] for index in inspect(db.engine).get_indexes("topics")}
    assert "ix_topics_featured" in indexes


def test_accepting_the_loss_downgrades_and_the_upgrade_comes_back(migrated_app):
    seed_notifications(SEEDED)

    result = flask_db(migrated_app, "downgrade", *ACCEPT, "0008")

    assert result.exit_code == 0, result.output
    assert version() == "0008"
    assert notification_kinds() == ["mention"]
    assert flask_db(migrated_app, "upgrade").exit_code == 0
    assert notification_kinds() == ["mention"]


def test_the_refusal_lists_every_steps_loss_not_just_the_first(migrated_app):
    """An operator who accepts has seen everything the whole downgrade would delete."""
    seed_notifications([NotificationKind.MENTION, NotificationKind.PRIVATE_REPORT])
    db.session.execute(update(Category).where(Category.slug == "meta").values(name="About us"))
    db.session.commit()

    result = flask_db(migrated_app, "downgrade", "base")

    assert result.exit_code == 1
    assert "Downgrading 0010, 0004 and 0001 would delete" in result.output
    assert "0010: private-report and topic-access notifications: 1" in result.output
    assert "0004: notifications: 1" in result.output
    assert "0001: members (users): 1" in result.output
    # 0002 deletes only the standard areas left as it made them: the renamed one is kept.
    assert "0001: topic areas (categories): 1" in result.output
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2


def test_a_full_forum_downgrades_to_nothing_once_the_loss_is_accepted(migrated_app):
    """Every downgrade runs on real data on both databases (on SQLite, batch mode rebuilds
    tables other rows point at, with foreign keys off and checked before the commit)."""
    from forum.services import demo

    demo.seed_demo()
    db.session.remove()

    refused = flask_db(migrated_app, "downgrade", "base")
    assert refused.exit_code == 1
    assert "0005: ballots:" in refused.output
    assert "0001: posts:" in refused.output

    result = flask_db(migrated_app, "downgrade", *ACCEPT, "base")
    assert result.exit_code == 0, result.output
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}


def test_an_empty_forum_downgrades_without_being_asked(migrated_app):
    result = flask_db(migrated_app, "downgrade", "base")

    assert result.exit_code == 0, result.output
    assert "would delete" not in result.output
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}


def test_sqlite_connections_keep_their_foreign_keys_after_a_migration(migrated_app, backend):
    """env.py turns SQLite's foreign keys off, and the driver's own transactions, only for the
    length of the command: the pooled connection the app uses next has both back."""
    if backend != "sqlite":
        pytest.skip("SQLite's connection settings")
    with db.engine.connect() as connection:  # the pool's connection the migration ran on
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.connection.dbapi_connection.isolation_level == ""


# --- The rule for every migration, present and future ------------------------------------------

DESTRUCTIVE_CALLS = {"drop_table", "drop_column", "delete", "execute", "exec_driver_sql"}
DESTRUCTIVE_SQL = ("DELETE", "DROP TABLE", "DROP COLUMN", "TRUNCATE")


def unguarded_downgrade(source: str) -> str | None:
    """Why this migration's downgrade() breaks the rule, or None: a downgrade that drops a table
    or a column, executes SQL or says DELETE (DROP, TRUNCATE) must call refuse_data_loss or carry a
    `# Lossless: <why>` comment."""
    tree = ast.parse(source)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "downgrade"]
    if not functions:
        return "no downgrade()"
    function = functions[0]
    lines = source.splitlines()[function.lineno - 1 : function.end_lineno]
    if any(line.strip().startswith("# Lossless:") for line in lines):
        return None
    called = set()
    destructive = []
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            called.add(name)
            if name in DESTRUCTIVE_CALLS:
                destructive.append(f"{name}() on line {node.lineno}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            said = [sql for sql in DESTRUCTIVE_SQL if sql in node.value.upper()]
            destructive.extend(f"{sql} on line {node.lineno}" for sql in said)
    if destructive and "refuse_data_loss" not in called:
        return (
            f"{', '.join(destructive)} without refuse_data_loss() or a '# Lossless: <why>' comment"
        )
    return None


def test_every_downgrade_that_drops_or_deletes_refuses_or_says_why_it_loses_nothing():
    problems = {
        path.name: problem
        for path in sorted(VERSIONS.glob("*.py"))
        if (problem := unguarded_downgrade(path.read_text()))
    }
    assert problems == {}
    assert len(list(VERSIONS.glob("*.py"))) >= 13


@pytest.mark.parametrize(
    "downgrade",
    [
        "def downgrade():\n    op.drop_table('flags')\n",
        "def downgrade():\n    with op.batch_alter_table('users') as b:\n"
        "        b.drop_column('bio')\n",
        "def downgrade():\n    op.execute(\"UPDATE users SET bio = ''\")\n",
        "def downgrade():\n    connection.exec_driver_sql('delete from flags')\n",
        "def downgrade():\n    sql = f'drop table {name}'\n",
        "def downgrade():\n    connection.execute(flags.delete())\n",
        "def downgrade():\n    # Lossless\n    op.drop_table('flags')\n",
    ],
)
def test_the_check_catches_a_downgrade_that_would_lose_data_silently(downgrade):
    assert unguarded_downgrade(downgrade) is not None


@pytest.mark.parametrize(
    "downgrade",
    [
        "def downgrade():\n    refuse_data_loss('0099', {'flags': count('flags')})\n"
        "    op.drop_table('flags')\n",
        "def downgrade():\n    # Lossless: indexes only.\n    op.drop_index('ix_x')\n"
        "    op.execute('DROP INDEX ix_y')\n",
        "def downgrade():\n    op.drop_index('ix_x')\n",
    ],
)
def test_the_check_passes_a_downgrade_that_refuses_or_loses_nothing(downgrade):
    assert unguarded_downgrade(downgrade) is None
