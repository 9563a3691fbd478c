"""The suggestion_decided notification: a member is told when an editor accepts or declines their
suggested edit to a guideline (issue 18)

Revision ID: 0037_suggestion_notices
Revises: 0031_workshops
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from data_loss import count, refuse_data_loss

revision = "0037_suggestion_notices"
down_revision = "0031_workshops"
branch_labels = None
depends_on = None

OLD_KINDS = (
    "mention", "reply", "watched_reply", "watched_topic", "accepted", "round_open",
    "round_reminder", "round_result", "application", "warning", "moderation",
    "private_report", "topic_access", "bookmark_reminder", "workshop_seat",
)  # fmt: skip
NEW_KINDS = OLD_KINDS + ("suggestion_decided",)


def _check(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def _constrain(kinds):
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_notification_kind"), type_="check")
        batch_op.create_check_constraint("notification_kind", sa.text(_check(kinds)))


def upgrade():
    _constrain(NEW_KINDS)


def downgrade():
    refuse_data_loss(
        "0037_suggestion_notices",
        {
            "notifications of decided suggestions": count(
                "notifications", "kind = 'suggestion_decided'"
            ),
        },
    )
    _constrain(OLD_KINDS)
