"""One-time form tokens against resubmitted create forms (issue 17, item 7)

Revision ID: 0030_form_tokens
Revises: 0029_bookmarks
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0030_form_tokens"
down_revision = "0029_bookmarks"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "form_submissions",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("target_kind", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_form_submissions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_form_submissions")),
    )
    with op.batch_alter_table("form_submissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_form_submissions_created_at"), ["created_at"], unique=False
        )


def downgrade():
    # Lossless: the rows only remember, for a few days, which form sendings were already
    # handled; nothing a member wrote is in them.
    with op.batch_alter_table("form_submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_submissions_created_at"))
    op.drop_table("form_submissions")
