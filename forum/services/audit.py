"""The audit log: appending entries, the public log members read, and verifying the hash chain.

Every moderation action and every ballot change calls ``record`` in its own transaction, so the
action and its entry are committed together or not at all. Each entry's hash covers its fields
and the previous entry's hash; ``verify_audit`` (the ``verify-audit`` CLI command) walks the
chain and names the first entry that was changed, removed, inserted or moved.

What a hash chain cannot show on its own: someone able to write to the database can remove the
newest entries, or rewrite the chain from some entry on, recomputing every hash after it. The
verification therefore reports the newest entry's hash, for operators to note somewhere the
database's users cannot write (and to compare on the next run).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import false, func, select, text, update

from forum.extensions import db
from forum.models.accounts import User
from forum.models.audit import (
    ACTION_LENGTH,
    GENESIS_HASH,
    TARGET_TYPE_LENGTH,
    AuditEntry,
)
from forum.models.discussions import Post, Topic
from forum.models.types import utcnow
from forum.pagination import Page
from forum.permissions import readable_posts, readable_topics

SYSTEM_ACTOR_NAME = "system"  # the actor_name of entries a CLI command or cron job records
ENTRIES_PER_PAGE = 50
MAX_ENTRIES_PER_PAGE = 200
VERIFY_BATCH_ROWS = 1000  # rows fetched at a time while verifying: memory stays constant

# The fields each hash covers, in the order the schema lists them (the JSON keys are sorted).
HASHED_FIELDS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "reason",
    "public_details",
    "private_details",
    "prev_hash",
)


def canonical_json(value: Any) -> str:
    """The one serialisation the hashes and the stored details use: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: Any) -> str:
    """SHA-256 (hex) of an entry's hashed fields; ``entry`` may be a model or a result row."""
    fields = {name: getattr(entry, name) for name in HASHED_FIELDS}
    fields["created_at"] = _utc_iso(entry.created_at)
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def _utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use datetime.now(UTC)")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# --- Appending ----------------------------------------------------------------------------------


def record(
    actor: User | None,
    action: str,
    *,
    target_type: str,
    target_id: int | None,
    reason: str = "",
    public: dict | None = None,
    private: dict | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction (flushed, never committed); actor None: system.

    ``public`` is shown on the public log; ``private`` (e.g. the text of a warning) is withheld
    from it. Never pass what a ballot contains: record only that it changed. Call this last,
    just before the commit: it holds the log's write lock until the transaction ends.
    """
    if not 0 < len(action) <= ACTION_LENGTH:
        raise ValueError(f"action must have 1 to {ACTION_LENGTH} characters: {action!r}")
    if not 0 < len(target_type) <= TARGET_TYPE_LENGTH:
        raise ValueError(f"target_type must have 1 to {TARGET_TYPE_LENGTH} characters")
    created_at = now or utcnow()
    if created_at.tzinfo is None:
        raise ValueError("naive datetime given; use datetime.now(UTC)")
    public_details = canonical_json(public or {})  # before locking: a TypeError fails fast
    private_details = canonical_json(private or {})

    _lock_log()
    tail = db.session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    entry = AuditEntry(
        seq=tail.seq + 1 if tail else 1,
        created_at=created_at.astimezone(UTC),
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.display_name if actor is not None else SYSTEM_ACTOR_NAME,
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        public_details=public_details,
        private_details=private_details,
        prev_hash=tail.hash if tail else GENESIS_HASH,
    )
    entry.hash = entry_hash(entry)
    db.session.add(entry)
    db.session.flush()
    return entry


def _lock_log() -> None:
    """Hold the log's write lock until the transaction ends, taken before reading the tail.

    Two transactions appending at once must not both read entry n and both write n + 1.
    - PostgreSQL: LOCK TABLE in SHARE ROW EXCLUSIVE mode conflicts with itself and with other
      writers but not with readers, so appenders queue while the public log and the verifier
      read on. The tail is read after the lock is granted, by a statement with a fresh snapshot
      (READ COMMITTED). ``SELECT ... ORDER BY seq DESC LIMIT 1 FOR UPDATE`` would not do: a
      transaction that waited for the lock gets the old tail row back (PostgreSQL re-checks the
      locked row, not the LIMIT), and an empty log has no row to lock.
    - SQLite has one writer at a time. A write that matches no row takes the write lock now
      (waiting up to busy_timeout), so the tail read next cannot be stale.
    UNIQUE(seq) backs both: if the lock were ever bypassed (e.g. a REPEATABLE READ transaction
    with an old snapshot), the insert fails and the caller's transaction rolls back: the chain
    never forks. No savepoint-and-retry, since pysqlite's savepoints need driver workarounds.
    """
    table = AuditEntry.__table__
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"LOCK TABLE {table.name} IN SHARE ROW EXCLUSIVE MODE"))
    else:
        db.session.execute(update(table).where(false()).values(seq=table.c.seq))


# --- The public log -----------------------------------------------------------------------------


@dataclass
class PublicEntry:
    """What members see of an entry: everything except its private details."""

    seq: int
    created_at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    target_type: str
    target_id: int | None
    reason: str
    details: dict
    hash: str


_PUBLIC_COLUMNS = (
    AuditEntry.seq,
    AuditEntry.created_at,
    AuditEntry.actor_id,
    AuditEntry.actor_name,
    AuditEntry.action,
    AuditEntry.target_type,
    AuditEntry.target_id,
    AuditEntry.reason,
    AuditEntry.public_details,
    AuditEntry.hash,
)


def _unreadable_targets(viewer, rows) -> set[tuple[str, int]]:
    """The topics and posts among these entries' targets that ``viewer`` may not read (their
    reasons and details would tell what a restricted topic or a private report is about)."""
    wanted = {"topic": set(), "post": set()}
    for row in rows:
        if row.target_type in wanted and row.target_id is not None:
            wanted[row.target_type].add(row.target_id)
    readable = {
        "topic": set(
            db.session.scalars(
                select(Topic.id).where(Topic.id.in_(wanted["topic"]), readable_topics(viewer))
            )
        )
        if wanted["topic"]
        else set(),
        "post": set(
            db.session.scalars(
                select(Post.id)
                .join(Topic, Topic.id == Post.topic_id)
                .where(Post.id.in_(wanted["post"]), readable_posts(viewer))
            )
        )
        if wanted["post"]
        else set(),
    }
    return {(kind, i) for kind, ids in wanted.items() for i in ids - readable[kind]}


def public_log(viewer=None, *, page: int = 1, per_page: int = ENTRIES_PER_PAGE) -> Page:
    """A page of the log, newest first, without private details: up to four queries whatever
    the size. Entries about a topic or post the reader may not read keep their place (the
    chain is whole) but show neither reason nor details (forum.permissions.readable_topics);
    without a ``viewer`` (the CLI, an export), every reason is shown."""
    per_page = min(max(per_page, 1), MAX_ENTRIES_PER_PAGE)
    total = db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    page = min(max(page, 1), max(1, math.ceil(total / per_page)))
    rows = db.session.execute(
        select(*_PUBLIC_COLUMNS)
        .order_by(AuditEntry.seq.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    withheld = _unreadable_targets(viewer, rows) if viewer is not None else set()
    items = []
    for row in rows:
        hidden = (row.target_type, row.target_id) in withheld
        items.append(
            PublicEntry(
                seq=row.seq,
                created_at=row.created_at,
                actor_id=row.actor_id,
                actor_name=row.actor_name,
                action=row.action,
                target_type=row.target_type,
                target_id=row.target_id,
                reason="" if hidden else row.reason,
                details={} if hidden else json.loads(row.public_details),
                hash=row.hash,
            )
        )
    return Page(items=items, page=page, per_page=per_page, total=total)


# --- Verifying ----------------------------------------------------------------------------------


@dataclass
class Verification:
    ok: bool
    checked: int  # entries found intact and in place, before the first problem if any
    first_bad_seq: int | None
    problem: str  # one English sentence for operators; "" when ok
    # The hash of the last intact entry (the newest when ok): to note down and compare later.
    last_hash: str | None = None


def verify_chain(entries: Iterable[Any]) -> Verification:
    """Check entries given in seq order: numbered 1, 2, 3, ..., each matching its hash and
    following the one before. Stops at the first problem. Pure: works on models or rows."""
    checked = 0
    prev_hash = GENESIS_HASH
    for entry in entries:
        problem = _problem(entry, expected_seq=checked + 1, prev_hash=prev_hash)
        if problem:
            return Verification(
                ok=False,
                checked=checked,
                first_bad_seq=entry.seq,
                problem=problem,
                last_hash=prev_hash if checked else None,
            )
        prev_hash = entry.hash
        checked += 1
    return Verification(
        ok=True,
        checked=checked,
        first_bad_seq=None,
        problem="",
        last_hash=prev_hash if checked else None,
    )


def _problem(entry: Any, *, expected_seq: int, prev_hash: str) -> str:
    seq = entry.seq
    if seq > expected_seq:
        if seq == expected_seq + 1:
            missing = f"entry {expected_seq} is missing"
        else:
            missing = f"entries {expected_seq} to {seq - 1} are missing"
        return f"An entry before {seq} was removed: {missing}."
    if seq < 1:
        return f"Entry {seq} was inserted: entries are numbered from 1."
    if seq < expected_seq:
        return f"Entry {seq} is out of order: entry {expected_seq} was expected here."

    intact = entry.hash == entry_hash(entry)
    follows = entry.prev_hash == prev_hash
    previous = "the start of the log" if seq == 1 else f"entry {seq - 1}"
    if intact and follows:
        return ""
    if follows:
        problem = f"Entry {seq} was changed or forged: its contents do not match its hash."
        if entry.actor_id is None and entry.actor_name != SYSTEM_ACTOR_NAME:
            # actor_id is hashed, and ON DELETE SET NULL empties it when an account is deleted.
            problem += " Its actor_id is empty: was the account of the person who acted deleted?"
        return problem
    if not intact:
        return (
            f"Entry {seq} is out of order: it does not follow {previous}, "
            "and its contents do not match its position."
        )
    return f"Entry {seq} does not follow {previous}: one of them was forged or replaced."


def verify_audit() -> Verification:
    """Verify the whole log in the database, streamed in seq order in constant memory."""
    table = AuditEntry.__table__
    result = db.session.execute(
        select(*table.c).order_by(table.c.seq).execution_options(yield_per=VERIFY_BATCH_ROWS)
    )
    try:
        return verify_chain(result)
    finally:
        result.close()


def verify_command_output(result: Verification) -> tuple[str, int]:
    """What ``flask verify-audit`` prints, and its exit status (0 intact, 1 a problem found)."""
    if result.ok and result.checked == 0:
        return "The audit log is empty: nothing to verify.", 0
    if result.ok:
        entries = "1 entry" if result.checked == 1 else f"{result.checked} entries"
        return (
            f"The audit log is intact: {entries} verified.\n"
            f"The newest, entry {result.checked}, has hash {result.last_hash}.\n"
            "Compare it with the hash noted at the last check: the chain alone cannot show "
            "that its newest entries were removed."
        ), 0
    lines = ["The audit log has been tampered with.", result.problem]
    if result.checked:
        entries = "entry 1 is" if result.checked == 1 else f"entries 1 to {result.checked} are"
        lines.append(f"Before that, {entries} intact.")
    return "\n".join(lines), 1
