"""Binding the database: Flask-SQLAlchemy, Flask-Migrate, and SQLite's connection settings."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event, false, select, update
from sqlalchemy.engine import Engine

from forum.extensions import db, migrate

SQLITE_BUSY_TIMEOUT_MS = 10_000


def _configure_sqlite(dbapi_connection, connection_record) -> None:
    # WAL lets readers and one writer work at once; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def init_app(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
        options.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _configure_sqlite)


def claim(model, row_id: int, *conditions, **values) -> bool:
    """Change one row only if it still meets ``conditions``; True if this caller got it.

    One conditional UPDATE is how work that two processes may attempt at once (closing a round,
    deciding an application, using a single-use link) is done exactly once: the loser sees 0 rows.
    """
    result = db.session.execute(
        update(model)
        .where(model.id == row_id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def lock_row(model, row_id: int):
    """Load one row holding a write lock on it until the transaction ends (None if missing).

    What is read after this in the transaction is current: no other writer can commit in
    between. PostgreSQL: SELECT ... FOR UPDATE. SQLite ignores FOR UPDATE and lets a
    transaction read before it writes, so a reader could act on a row another request is about
    to change; a write that matches no row takes SQLite's one write lock first (waiting up to
    busy_timeout), as forum.services.audit._lock_log does.
    """
    if db.engine.dialect.name == "sqlite":
        table = model.__table__
        db.session.execute(update(table).where(false()).values(id=table.c.id))
        return db.session.scalar(
            select(model).where(model.id == row_id).execution_options(populate_existing=True)
        )
    return db.session.scalar(
        select(model)
        .where(model.id == row_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
