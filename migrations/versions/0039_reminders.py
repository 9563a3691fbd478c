"""Reminders: a member's choice to get them, and the ledger of the day-before workshop reminder
(issue 18, item 1)

Revision ID: 0039_reminders
Revises: 0038_paper_feed
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from data_loss import count, refuse_data_loss

revision = "0039_reminders"
down_revision = "0038_paper_feed"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_reminders", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "workshop_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workshop_id"], ["workshops.id"],
            name=op.f("fk_workshop_reminders_workshop_id_workshops"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_workshop_reminders_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_reminders")),
        sa.UniqueConstraint(
            "workshop_id", "user_id", "starts_at", name="uq_workshop_reminders_once"
        ),
    )  # fmt: skip
    op.create_index("ix_workshop_reminders_user", "workshop_reminders", ["user_id"])


def downgrade():
    refuse_data_loss(
        "0039_reminders",
        {
            "members who turned reminders off": count("users", "email_reminders = false"),
            "workshop reminders sent (they would be sent again)": count("workshop_reminders"),
        },
    )
    op.drop_index("ix_workshop_reminders_user", table_name="workshop_reminders")
    op.drop_table("workshop_reminders")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_reminders")
