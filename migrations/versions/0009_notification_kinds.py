"""Let notifications.kind take every kind the app now creates

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26

0004 created the CHECK constraint with the one kind that existed then ("mention"); the kinds
added since (replies, watching, rounds, moderation, ...) were refused by the database on
installs built from migrations. tests/test_migrations.py now compares every enum's CHECK
constraint with the model, so this cannot happen again unnoticed.
"""
from alembic import op
import sqlalchemy as sa

from data_loss import count, refuse_data_loss


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

KINDS = (
    "mention", "reply", "watched_reply", "watched_topic", "accepted", "round_open",
    "round_reminder", "round_result", "application", "warning", "moderation",
)


def _check(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_notification_kind'), type_='check')
        batch_op.create_check_constraint('notification_kind', sa.text(_check(KINDS)))


def downgrade():
    # Before 0009 the database took only mentions; no other kind can be kept as one.
    refuse_data_loss('0009', {
        'notifications that are not mentions': count('notifications', "kind <> 'mention'"),
    })
    op.execute("DELETE FROM notifications WHERE kind <> 'mention'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_notification_kind'), type_='check')
        batch_op.create_check_constraint('notification_kind', sa.text(_check(("mention",))))
