"""A public, verifiable audit log (issue 14): entries hash a public form (private parts behind a
salted commitment), and daily checkpoints

Existing entries are checked with the old hashing first (the upgrade refuses a broken chain
rather than re-seal a tampered log), then re-sealed in seq order with the new one: a head hash
noted before this upgrade is superseded by the one the log page shows after it. The hashing is
copied here, frozen, so that later changes to forum/audit_chain.py cannot change this upgrade.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

import hashlib
import json
import secrets
from datetime import UTC

import sqlalchemy as sa
from alembic import op
from data_loss import count, refuse_data_loss

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
OLD_HASHED_FIELDS = (
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
# The kinds whose target (a person) and whose actor (a voter) the public form withholds, as
# forum/services/audit_kinds.py had them when this migration was written; unknown kinds
# withhold their target too.
KNOWN_KINDS = {
    "post.hide", "post.autohide", "post.restore", "post.approve", "flags.dismiss",
    "member.warn", "member.suspend", "topic.pin", "topic.unpin", "topic.lock",
    "topic.unlock", "topic.feature", "topic.unfeature", "topic.move", "topic.duplicate",
    "topic.merge", "topic.split", "topic.restrict", "topic.grant_access",
    "topic.revoke_access", "topic.embargo_extend", "topic.embargo_shorten",
    "topic.embargo_lift", "topic.embargo_end", "report.convert", "agenda.status",
    "round.create", "round.close", "ballot.change", "applications.window",
}  # fmt: skip
PRIVATE_TARGET = {"member.warn", "member.suspend"}
PRIVATE_ACTOR = {"ballot.change"}
STAFF_ROLES = {"moderator", "admin"}

entries = sa.table(
    "audit_entries",
    sa.column("id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("actor_id", sa.Integer),
    sa.column("actor_name", sa.String),
    sa.column("action", sa.String),
    sa.column("target_type", sa.String),
    sa.column("target_id", sa.Integer),
    sa.column("reason", sa.Text),
    sa.column("public_details", sa.Text),
    sa.column("private_details", sa.Text),
    sa.column("public_actor", sa.String),
    sa.column("public_target_id", sa.Integer),
    sa.column("private_salt", sa.String),
    sa.column("private_hash", sa.String),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
users = sa.table("users", sa.column("id", sa.Integer), sa.column("role", sa.String))


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _iso(moment) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _old_hash(row: dict) -> str:
    fields = {name: row[name] for name in OLD_HASHED_FIELDS}
    fields["created_at"] = _iso(row["created_at"])
    return _sha(_canonical(fields))


def _rows(bind) -> list[dict]:
    query = (
        sa.select(entries, users.c.role)
        .select_from(entries.outerjoin(users, users.c.id == entries.c.actor_id))
        .order_by(entries.c.seq)
    )
    return [dict(row._mapping) for row in bind.execute(query)]


def _check_old_chain(rows: list[dict]) -> None:
    prev = GENESIS_HASH
    for number, row in enumerate(rows, start=1):
        if row["seq"] != number or row["prev_hash"] != prev or row["hash"] != _old_hash(row):
            raise RuntimeError(
                f"The audit log is broken at entry {row['seq']} (run `flask verify-audit` with "
                "the previous release): this upgrade re-seals the chain and will not seal a "
                "tampered one. Restore the log from a backup first."
            )
        prev = row["hash"]


def upgrade():
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_actor", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("public_target_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("private_salt", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("private_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        sa.UniqueConstraint("day", name=op.f("uq_audit_checkpoints_day")),
    )

    bind = op.get_bind()
    rows = _rows(bind)
    _check_old_chain(rows)
    prev = GENESIS_HASH
    for row in rows:
        action = row["action"]
        public, private = json.loads(row["public_details"]), json.loads(row["private_details"])
        if action == "member.warn" and "post" in public:  # the post would name the member
            private["post"] = public.pop("post")
        if row["actor_id"] is None and row["actor_name"] == "system":
            actor = "system"
        elif action in PRIVATE_ACTOR or row["role"] not in STAFF_ROLES:
            actor = None
        else:
            actor = row["actor_name"]
        withheld = action in PRIVATE_TARGET or action not in KNOWN_KINDS
        target = None if withheld else row["target_id"]
        salt = secrets.token_hex(16)
        private_hash = _sha(
            _canonical(
                {
                    "salt": salt,
                    "actor_id": row["actor_id"],
                    "actor_name": row["actor_name"],
                    "target_id": row["target_id"],
                    "reason": row["reason"],
                    "details": private,
                }
            )
        )
        form = {
            "seq": row["seq"],
            "moment": _iso(row["created_at"]),
            "action": action,
            "target": {"type": row["target_type"], "id": target},
            "actor": actor,
            "data": public,
            "private": private_hash,
            "prev_hash": prev,
        }
        new_hash = _sha(_canonical(form))
        bind.execute(
            entries.update()
            .where(entries.c.id == row["id"])
            .values(
                public_details=_canonical(public),
                private_details=_canonical(private),
                public_actor=actor,
                public_target_id=target,
                private_salt=salt,
                private_hash=private_hash,
                prev_hash=prev,
                hash=new_hash,
            )
        )
        prev = new_hash

    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column("private_salt", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("private_hash", existing_type=sa.String(length=64), nullable=False)


def downgrade():
    # The entries stay, sealed the old way again (whose hash covers their private fields, so
    # the salts and commitments dropped here hold nothing else); the checkpoints go.
    refuse_data_loss("0019", {"audit log checkpoints": count("audit_checkpoints")})
    bind = op.get_bind()
    prev = GENESIS_HASH
    for row in _rows(bind):
        public, private = json.loads(row["public_details"]), json.loads(row["private_details"])
        if row["action"] == "member.warn" and "post" in private:
            public["post"] = private.pop("post")
        row.update(
            public_details=_canonical(public), private_details=_canonical(private), prev_hash=prev
        )
        old_hash = _old_hash(row)
        bind.execute(
            entries.update()
            .where(entries.c.id == row["id"])
            .values(
                public_details=row["public_details"],
                private_details=row["private_details"],
                prev_hash=prev,
                hash=old_hash,
            )
        )
        prev = old_hash
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_column("private_hash")
        batch_op.drop_column("private_salt")
        batch_op.drop_column("public_target_id")
        batch_op.drop_column("public_actor")
