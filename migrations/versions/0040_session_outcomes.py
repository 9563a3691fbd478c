"""A workshop session's notes and what came out of it: guideline sections, papers, agenda status
changes (issue 18, item 1)

Revision ID: 0040_session_outcomes
Revises: 0039_reminders
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from data_loss import count, refuse_data_loss

revision = "0040_session_outcomes"
down_revision = "0039_reminders"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("workshop_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("notes_html", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("notes_updated_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("notes_by_id", sa.Integer()))
        batch_op.create_foreign_key(
            op.f("fk_workshop_sessions_notes_by_id_users"), "users", ["notes_by_id"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip
    op.create_table(
        "workshop_session_outcomes",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "section", "paper", "status_change", name="session_outcome_kind",
                native_enum=False, create_constraint=True, length=20,
            ),
            nullable=False,
        ),  # fmt: skip
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["workshop_sessions.id"],
            name=op.f("fk_workshop_session_outcomes_session_id_workshop_sessions"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint(
            "session_id", "kind", "target_id", name=op.f("pk_workshop_session_outcomes")
        ),
    )
    op.create_index(
        "ix_workshop_session_outcomes_target", "workshop_session_outcomes", ["kind", "target_id"]
    )


def downgrade():
    refuse_data_loss(
        "0040_session_outcomes",
        {
            "sessions' notes": count("workshop_sessions", "notes <> ''"),
            "what came out of sessions": count("workshop_session_outcomes"),
        },
    )
    op.drop_index("ix_workshop_session_outcomes_target", table_name="workshop_session_outcomes")
    op.drop_table("workshop_session_outcomes")
    with op.batch_alter_table("workshop_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_workshop_sessions_notes_by_id_users"), type_="foreignkey"
        )
        for column in ("notes_by_id", "notes_updated_at", "notes_html", "notes"):
            batch_op.drop_column(column)
