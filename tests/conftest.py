"""Fixtures: the app on each database, people and places, a live server and a real browser.

Every test that uses the database runs once on SQLite and, when FORUM_TEST_DATABASE_URL is set
(CI sets it whenever PostgreSQL answers), again on PostgreSQL. Each xdist worker gets its own
database; each test starts from empty tables plus the standard topic areas.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Engine
from werkzeug.serving import make_server

from forum import create_app
from forum.extensions import db
from forum.services import topic_areas
from tests.helpers import FormClient, QueryLog

pytest_plugins = ["tests.smtp"]  # the mail_server fixture: a real SMTP server (aiosmtpd)

POSTGRES_URL = os.environ.get("FORUM_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
CHROMIUM = "/usr/bin/chromium"
# Attachments and avatars go to a folder of this test run, never to the checkout's instance/.
UPLOADS = Path(tempfile.mkdtemp(prefix="forum-test-uploads-"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _worker(request) -> str:
    """A name for this test process, unique across runs on one machine: two suites running at
    once against the same PostgreSQL server must never drop each other's databases."""
    worker = getattr(request.config, "workerinput", {}).get("workerid")
    run = os.getppid() if worker else os.getpid()  # xdist workers share their parent's pid
    return f"{run}_{worker or 'main'}"


def fresh_postgres_database(name: str) -> str:
    """Drop and create a PostgreSQL database beside FORUM_TEST_DATABASE_URL's; return its URL."""
    import psycopg

    server = make_url(POSTGRES_URL)
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.set(database=name).render_as_string(hide_password=False)


def fresh_database_url(backend: str, name: str, directory: Path) -> str:
    if backend == "sqlite":
        path = directory / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    return fresh_postgres_database(name)


def app_config(database_url: str, **overrides) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
        # Strong hashing is werkzeug's job; the tests only need a real hash, quickly.
        "FORUM_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "FORUM_STORAGE_URL": UPLOADS.as_uri(),
        **overrides,
    }


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, request, tmp_path_factory) -> Iterator[str]:
    """One database per backend and worker, with the schema built from the models."""
    url = fresh_database_url(
        backend, f"forum_test_{_worker(request)}", tmp_path_factory.mktemp(backend)
    )
    app = create_app(app_config(url))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield url
    if backend == "postgresql":
        drop_postgres_database(make_url(url).database)


def drop_postgres_database(name: str) -> None:
    import psycopg

    server = make_url(POSTGRES_URL)
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        # topics.accepted_post_id and posts.topic_id point at each other: check at commit.
        db.session.execute(text("PRAGMA defer_foreign_keys = ON"))
        for table in tables:
            db.session.execute(table.delete())
        # The full-text index is not a model (forum.models.search); PostgreSQL's cascades.
        db.session.execute(text("DELETE FROM post_search"))
    db.session.commit()


@contextmanager
def running_app(database_url: str, **overrides) -> Iterator[Flask]:
    """The app on empty tables plus the standard topic areas, inside its app context."""
    app = create_app(app_config(database_url, **overrides))
    app.test_client_class = FormClient
    with app.app_context():
        _empty_tables()
        topic_areas.ensure_default_categories()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    with running_app(database_url) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FormClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def queries(app: Flask) -> Iterator[QueryLog]:
    """Counts the SQL statements run while the test runs (see QueryLog.counting)."""
    log = QueryLog()

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if log.active:
            log.statements.append(statement)

    engine: Engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield log
    event.remove(engine, "before_cursor_execute", record)


# --- People and places ------------------------------------------------------------------------


@pytest.fixture
def member(app):
    from tests.factories import make_user

    return make_user(display_name="Maya Member", affiliation="University of Toronto")


@pytest.fixture
def other_member(app):
    from tests.factories import make_user

    return make_user(display_name="Omar Other", affiliation="Cairo University")


@pytest.fixture
def moderator(app):
    from forum.models import Role
    from tests.factories import make_user

    return make_user(display_name="Mo Moderator", role=Role.MODERATOR)


@pytest.fixture
def admin(app):
    from forum.models import Role
    from tests.factories import make_user

    return make_user(display_name="Ada Admin", role=Role.ADMIN)


@pytest.fixture
def open_registration(app):
    """The forum in open mode: anyone may register (the default is by application)."""
    from forum.models import RegistrationMode
    from forum.services.site_settings import get_settings

    settings = get_settings()
    settings.registration_mode = RegistrationMode.OPEN
    db.session.commit()
    return settings


@pytest.fixture
def applications_open(app):
    """Applications open since yesterday, closing in a week."""
    from datetime import timedelta

    from forum.models.types import utcnow
    from forum.services.site_settings import get_settings

    settings = get_settings()
    settings.applications_open_at = utcnow() - timedelta(days=1)
    settings.applications_close_at = utcnow() + timedelta(days=7)
    db.session.commit()
    return settings


@pytest.fixture
def safety(app):
    return topic_areas.get_category("safety")


@pytest.fixture
def topic(app, member, safety):
    from tests.factories import make_topic

    return make_topic(safety, author=member, title="Evaluating refusal robustness")


# --- A live server and a real browser ----------------------------------------------------------


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, driven by Playwright; never a browser that Playwright downloads."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context (no cookies) a test; a screenshot is kept when the test fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        folder = Path("test-artifacts")
        folder.mkdir(exist_ok=True)
        tab.screenshot(path=str(folder / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
