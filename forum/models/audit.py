"""The audit log: an append-only, hash-chained record of moderation actions and ballot changes.

Each entry's ``hash`` is the SHA-256 of its public form (forum/audit_chain.py), which includes
the previous entry's hash (``prev_hash``) and a salted commitment to its private part
(``private_hash``), so changing, removing or reordering any entry breaks the chain from that
entry on. A checkpoint (``AuditCheckpoint``), published each day, names the entry count and the
head hash, so that cutting the newest entries shows too. The rules for appending and checking
live in ``forum/services/audit.py``.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from forum.audit_chain import GENESIS_HASH, HASH_LENGTH
from forum.extensions import db
from forum.models.types import UTCDateTime, utcnow

__all__ = ["GENESIS_HASH", "HASH_LENGTH", "AuditCheckpoint", "AuditEntry"]

ACTOR_NAME_LENGTH = 80
ACTION_LENGTH = 40
TARGET_TYPE_LENGTH = 30
SALT_LENGTH = 32  # hex digits of 16 random bytes


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The position in the chain: 1, 2, 3, ... without gaps (unique, so the chain cannot fork).
    seq: Mapped[int] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # None for the system (a cron job) or once the account is deleted; actor_name keeps the name.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_name: Mapped[str] = mapped_column(String(ACTOR_NAME_LENGTH))
    action: Mapped[str] = mapped_column(String(ACTION_LENGTH))  # "post.hide", "ballot.change"
    target_type: Mapped[str] = mapped_column(String(TARGET_TYPE_LENGTH))  # "post", "round"
    target_id: Mapped[int | None] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")
    # JSON objects: the public part is shown on the log page; the private part is withheld from it.
    public_details: Mapped[str] = mapped_column(Text, default="{}")
    private_details: Mapped[str] = mapped_column(Text, default="{}")
    # What the public form shows of who acted and of the target: the actor's name for a
    # moderator or admin ("system" for a job), None for a member or a private kind; the target's
    # id, or None when the kind is about a person (forum/services/audit_kinds.py).
    public_actor: Mapped[str | None] = mapped_column(String(ACTOR_NAME_LENGTH))
    public_target_id: Mapped[int | None] = mapped_column()
    # The commitment to the private part (actor, target id, reason, private details) and its
    # salt, which is never published (forum.audit_chain.commitment).
    private_salt: Mapped[str] = mapped_column(String(SALT_LENGTH))
    private_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    prev_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)

    __table_args__ = (Index("ix_audit_entries_target", "target_type", "target_id"),)

    @property
    def public(self) -> dict:
        return json.loads(self.public_details)

    @property
    def private(self) -> dict:
        return json.loads(self.private_details)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.seq} {self.action} {self.target_type} {self.target_id}>"


class AuditCheckpoint(db.Model):
    """The log's length and head hash on a day, published (log page, digests) so that anyone who
    kept one can tell if entries up to it were later removed or rewritten."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)  # UTC; one checkpoint a day
    entry_count: Mapped[int] = mapped_column()
    head_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))  # GENESIS_HASH for an empty log
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def label(self) -> str:
        """As ``verify-audit --checkpoint`` takes it."""
        return f"{self.entry_count}:{self.head_hash}"


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_changes(mapper, connection, entry: AuditEntry) -> None:
    # Append-only: a changed entry would fail verification anyway; fail loudly where it happens.
    raise RuntimeError(f"audit entry {entry.seq} is append-only: it cannot be changed or deleted")
