"""The audit log: appending entries, verifying the hash chain, and the daily checkpoints.

Every moderation action and every ballot change calls ``record`` in its own transaction, so the
action and its entry are committed together or not at all. Each entry's hash covers its public
form (forum/audit_chain.py: what anyone may download and recompute) and the previous entry's
hash; its private part (who acted when that was a member, whom it was about, the reason, the
text of a warning) is covered by a salted commitment inside the public form. ``verify_audit``
(the ``verify-audit`` CLI command) walks the chain and names the first entry that was changed,
removed, inserted or moved.

What a hash chain cannot show on its own: someone able to write to the database can remove the
newest entries, or rewrite the chain from some entry on, recomputing every hash after it. So a
checkpoint (the entry count and the head hash) is published each day (``publish_checkpoint``:
on the log page and in the digests), and the verification compares the chain with every
checkpoint it is given or finds.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime

from sqlalchemy import false, select, text, update

from forum import audit_chain
from forum.audit_chain import (
    Verification,
    canonical_json,
    commitment,
    form_hash,
    public_form,
    verification_report,
)
from forum.extensions import db
from forum.models.accounts import User
from forum.models.audit import (
    ACTION_LENGTH,
    GENESIS_HASH,
    TARGET_TYPE_LENGTH,
    AuditCheckpoint,
    AuditEntry,
)
from forum.models.types import utcnow
from forum.services.audit_kinds import kind_of
from forum.services.outbox import dialect_insert

SYSTEM_ACTOR_NAME = "system"  # the actor_name of entries a CLI command or cron job records
VERIFY_BATCH_ROWS = 1000  # rows fetched at a time while verifying: memory stays constant
SALT_BYTES = 16


def entry_form(entry) -> dict:
    """The public form of an entry (a model or a result row with the table's columns)."""
    return public_form(
        seq=entry.seq,
        created_at=entry.created_at,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.public_target_id,
        actor=entry.public_actor,
        data=json.loads(entry.public_details),
        private=entry.private_hash,
        prev_hash=entry.prev_hash,
    )


def entry_hash(entry) -> str:
    """SHA-256 (hex) of an entry's public form; ``entry`` may be a model or a result row."""
    return form_hash(entry_form(entry))


def entry_commitment(entry) -> str:
    """The commitment to an entry's private part, recomputed from its columns."""
    return commitment(
        salt=entry.private_salt,
        actor_id=entry.actor_id,
        actor_name=entry.actor_name,
        target_id=entry.target_id,
        reason=entry.reason,
        private_details=json.loads(entry.private_details),
    )


def is_intact(entry) -> bool:
    """Its hash matches its public form, its commitment its private part, and the public form
    shows its own target (or none)."""
    return (
        entry.public_target_id in (None, entry.target_id)
        and entry.private_hash == entry_commitment(entry)
        and entry.hash == entry_hash(entry)
    )


def public_actor_for(actor: User | None, action: str) -> str | None:
    """Who the public form says acted: a moderator's or admin's name (they act for the forum),
    "system" for a job, and nobody for a member (their own ballot, their restricted topic)."""
    if actor is None:
        return SYSTEM_ACTOR_NAME
    if kind_of(action).private_actor or not actor.is_moderator:
        return None
    return actor.display_name


# --- Appending ----------------------------------------------------------------------------------


def record(
    actor: User | None,
    action: str,
    *,
    target_type: str,
    target_id: int | None,
    reason: str = "",
    public: Mapping | None = None,
    private: Mapping | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction (flushed, never committed); actor None: system.

    ``public`` goes into the public form, which anyone may download: only ids, dates and counts
    that say nothing private (never whom a warning was for). ``private`` (e.g. the text of a
    warning) and ``reason`` are withheld from it, covered by the commitment. Never pass what a
    ballot contains: record only that it changed. Call this last, just before the commit: it
    holds the log's write lock until the transaction ends.
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
        public_actor=public_actor_for(actor, action),
        public_target_id=None if kind_of(action).private_target else target_id,
        private_salt=secrets.token_hex(SALT_BYTES),
        prev_hash=tail.hash if tail else GENESIS_HASH,
    )
    entry.private_hash = entry_commitment(entry)
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


# --- Verifying ----------------------------------------------------------------------------------


def _actor_hint(entry) -> str:
    if entry.actor_id is None and entry.actor_name != SYSTEM_ACTOR_NAME:
        # actor_id is committed to, and ON DELETE SET NULL empties it when an account is deleted.
        return " Its actor_id is empty: was the account of the person who acted deleted?"
    return ""


def verify_chain(entries: Iterable, **kept) -> Verification:
    """Check entries (models or rows) given in seq order; ``kept``: checkpoints=, head=."""
    return audit_chain.verify_chain(entries, is_intact=is_intact, hint=_actor_hint, **kept)


def verify_audit(
    *, checkpoints: Mapping[int, str] | None = None, head: str | None = None
) -> Verification:
    """Verify the whole log in the database, streamed in seq order in constant memory, against
    the checkpoints published so far (audit_checkpoints) and any kept elsewhere (``checkpoints``:
    entry count -> hash; ``head``: a head hash noted earlier)."""
    kept = dict(
        db.session.execute(
            select(AuditCheckpoint.entry_count, AuditCheckpoint.head_hash).where(
                AuditCheckpoint.entry_count > 0
            )
        ).all()
    )
    kept.update(checkpoints or {})
    table = AuditEntry.__table__
    result = db.session.execute(
        select(*table.c).order_by(table.c.seq).execution_options(yield_per=VERIFY_BATCH_ROWS)
    )
    try:
        return verify_chain(result, checkpoints=kept, head=head)
    finally:
        result.close()


def verify_command_output(result: Verification, *, head: str | None = None) -> tuple[str, int]:
    """What ``flask verify-audit`` prints, and its exit status (0 intact, 1 a problem found)."""
    return verification_report(result, head=head)


# --- Checkpoints --------------------------------------------------------------------------------

CHECKPOINTS_SHOWN = 7


def publish_checkpoint(*, now: datetime | None = None) -> AuditCheckpoint:
    """Today's checkpoint (UTC day): the entry count and head hash when first taken that day.
    Safe to run again and twice at once: the day is unique, the first to insert wins."""
    now = now or utcnow()
    day = now.astimezone(UTC).date()
    existing = _checkpoint_of(day)
    if existing is not None:
        return existing
    tail = db.session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    db.session.execute(
        dialect_insert(AuditCheckpoint)
        .values(
            day=day,
            entry_count=tail.seq if tail else 0,
            head_hash=tail.hash if tail else GENESIS_HASH,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["day"])
    )
    db.session.commit()
    return _checkpoint_of(day)


def _checkpoint_of(day: date) -> AuditCheckpoint | None:
    return db.session.scalar(select(AuditCheckpoint).where(AuditCheckpoint.day == day))


def latest_checkpoints(limit: int = CHECKPOINTS_SHOWN) -> list[AuditCheckpoint]:
    """The newest checkpoints first (one statement)."""
    return list(
        db.session.scalars(
            select(AuditCheckpoint).order_by(AuditCheckpoint.day.desc()).limit(limit)
        )
    )
