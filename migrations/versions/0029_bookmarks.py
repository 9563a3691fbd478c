"""Bookmarks of posts with a note and a reminder; the bookmark_reminder notification (issue 17)

Revision ID: 0029_bookmarks
Revises: 0024
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from data_loss import count, refuse_data_loss

revision = "0029_bookmarks"
down_revision = "0024"
branch_labels = None
depends_on = None

OLD_KINDS = (
    "mention", "reply", "watched_reply", "watched_topic", "accepted", "round_open",
    "round_reminder", "round_result", "application", "warning", "moderation",
    "private_report", "topic_access",
)  # fmt: skip
NEW_KINDS = OLD_KINDS + ("bookmark_reminder",)


def _check(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade():
    op.create_table(
        "bookmarks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_bookmarks_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bookmarks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookmarks")),
        sa.UniqueConstraint("user_id", "post_id", name="uq_bookmarks_user_post"),
    )
    with op.batch_alter_table("bookmarks", schema=None) as batch_op:
        batch_op.create_index("ix_bookmarks_user_created", ["user_id", "created_at"], unique=False)
        batch_op.create_index("ix_bookmarks_remind_at", ["remind_at"], unique=False)
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_notification_kind"), type_="check")
        batch_op.create_check_constraint("notification_kind", sa.text(_check(NEW_KINDS)))


def downgrade():
    refuse_data_loss(
        "0029_bookmarks",
        {
            "bookmarks members made (with their notes and reminders)": count("bookmarks"),
            "bookmark reminder notifications": count("notifications", "kind = 'bookmark_reminder'"),
        },
    )
    op.execute("DELETE FROM notifications WHERE kind = 'bookmark_reminder'")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_notification_kind"), type_="check")
        batch_op.create_check_constraint("notification_kind", sa.text(_check(OLD_KINDS)))
    with op.batch_alter_table("bookmarks", schema=None) as batch_op:
        batch_op.drop_index("ix_bookmarks_remind_at")
        batch_op.drop_index("ix_bookmarks_user_created")
    op.drop_table("bookmarks")
