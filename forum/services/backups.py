"""Backups an admin can trust: a consistent snapshot taken while the forum runs, and a restore
into an empty database that checks what it brought back (issue 13).

SQLite copies through its online backup API in one step: the copy is one read transaction's
view of the database, so writers keep going (WAL) and nothing half-written is copied.
PostgreSQL copies with pg_dump (custom format), which reads in one snapshot transaction too,
and restores with pg_restore in one transaction.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import URL

from forum.extensions import db
from forum.models import Post, Topic, User
from forum.services import audit

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """The backup or restore could not be done; the message says why and what to do."""


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Checks:
    """What `restore` (and `backup`, on its copy) found when it looked at the data."""

    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def _url() -> URL:
    return db.engine.url


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("This SQLite database is in memory: there is no file to back up.")
    return Path(url.database)


def _pg_command(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, which goes in the environment instead
    (so it never shows in the process list)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return dsn, env


def _run(argv: list[str], env: dict[str, str]) -> None:
    if shutil.which(argv[0]) is None:
        raise BackupError(
            f"{argv[0]} is not installed; install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) and run this again."
        )
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{argv[0]} failed: {done.stderr.strip() or done.returncode}")


def _integrity(connection: sqlite3.Connection) -> Check:
    result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    ok = result == ["ok"]
    return Check("integrity", ok, "ok" if ok else "; ".join(result[:5]))


def backup(path: Path) -> Checks:
    """Write a consistent snapshot of the running forum's database to `path` (not overwritten
    if it exists). On SQLite the copy's integrity is checked before it is kept."""
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} already exists; choose a new file name.")
    url = _url()
    checks = Checks()
    if url.get_backend_name() == "sqlite":
        partial = path.with_name(path.name + ".partial")
        source = sqlite3.connect(_sqlite_path(url))
        target = sqlite3.connect(partial)
        try:
            source.backup(target)  # all pages in one step: one consistent snapshot
            checks.checks.append(_integrity(target))
        finally:
            target.close()
            source.close()
        if not checks.ok:
            partial.unlink(missing_ok=True)
            raise BackupError(f"The copy failed its integrity check: {checks.checks[0].detail}")
        partial.rename(path)
    elif url.get_backend_name() == "postgresql":
        dsn, env = _pg_command(url)
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={path}", dsn], env)
    else:
        raise BackupError(f"Backups are not supported on {url.get_backend_name()}.")
    return checks


def _is_empty() -> tuple[bool, str]:
    members = db.session.scalar(select(func.count()).select_from(User)) or 0
    topics = db.session.scalar(select(func.count()).select_from(Topic)) or 0
    return members == 0 and topics == 0, f"{members} members, {topics} topics"


def _has_tables() -> bool:
    return db.inspect(db.engine).has_table(User.__tablename__)


def restore(path: Path) -> Checks:
    """Bring a backup back into this (empty) database, then check it: integrity, the topics'
    counters and the audit chain. Refuses a database that already holds members or topics."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    with path.open("rb") as file:
        head = file.read(16)
    url = _url()
    if _has_tables():
        empty, holds = _is_empty()
        db.session.rollback()
        if not empty:
            raise BackupError(
                f"This database is not empty ({holds}); restore only into an empty database."
            )
    db.session.remove()
    db.engine.dispose()
    checks = Checks()
    if url.get_backend_name() == "sqlite":
        if head != SQLITE_MAGIC:
            raise BackupError(f"{path} is not an SQLite backup.")
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(url))
        try:
            source.backup(target)
            checks.checks.append(_integrity(target))
        finally:
            target.close()
            source.close()
    elif url.get_backend_name() == "postgresql":
        if not head.startswith(PG_DUMP_MAGIC):
            raise BackupError(f"{path} is not a pg_dump backup (custom format).")
        dsn, env = _pg_command(url)
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={dsn}",
                str(path),
            ],
            env,
        )
    else:
        raise BackupError(f"Restores are not supported on {url.get_backend_name()}.")
    checks.checks.extend(check_restored_data())
    return checks


def check_restored_data() -> list[Check]:
    """The checks a restored database must pass besides SQLite's integrity check."""
    return [_counters(), _audit_chain()]


def _counters() -> Check:
    """Each topic's reply count against its posts (counted as topic surgery recounts them)."""
    replies = (
        select(func.count())
        .where(
            Post.topic_id == Topic.id,
            Post.deleted_at.is_(None),
            Post.number > 1,
            Post.awaiting_review.is_(False),
        )
        .correlate(Topic)
        .scalar_subquery()
    )
    wrong = db.session.scalar(
        select(func.count()).select_from(Topic).where(Topic.reply_count != replies)
    )
    topics = db.session.scalar(select(func.count()).select_from(Topic))
    if wrong:
        return Check("counters", False, f"{wrong} of {topics} topics have a wrong reply count")
    return Check("counters", True, f"{topics} topics' reply counts match their posts")


def _audit_chain() -> Check:
    output, status = audit.verify_command_output(audit.verify_audit())
    return Check("audit log", status == 0, output.splitlines()[0])
