"""The audit log: an append-only, hash-chained record of moderation actions and ballot changes.

Each entry's ``hash`` is the SHA-256 of its own fields and of the previous entry's hash
(``prev_hash``), so changing, removing or reordering any entry breaks the chain from that entry
on. The rules for appending and checking the chain live in ``forum/services/audit.py``.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.types import UTCDateTime, utcnow

ACTOR_NAME_LENGTH = 80
ACTION_LENGTH = 40
TARGET_TYPE_LENGTH = 30
HASH_LENGTH = 64  # hex digits of a SHA-256
GENESIS_HASH = "0" * HASH_LENGTH  # the prev_hash of the first entry


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


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_changes(mapper, connection, entry: AuditEntry) -> None:
    # Append-only: a changed entry would fail verification anyway; fail loudly where it happens.
    raise RuntimeError(f"audit entry {entry.seq} is append-only: it cannot be changed or deleted")
