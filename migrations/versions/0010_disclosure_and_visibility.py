"""Responsible disclosure and one visibility rule: sensitive areas, private reports, profiles
visitors may see, forum-wide pins that lead /latest, and counts of what every reader sees

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

categories.topic_count and tags.topic_count now count the live topics every reader of them
sees (neither restricted nor private reports nor merged away); the restricted topics a reader
may see are added per reader (forum.services.topic_counts). Both are recomputed here.
"""
from alembic import op
import sqlalchemy as sa

from data_loss import count, refuse_data_loss


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

OLD_KINDS = (
    "mention", "reply", "watched_reply", "watched_topic", "accepted", "round_open",
    "round_reminder", "round_result", "application", "warning", "moderation",
)
NEW_KINDS = OLD_KINDS + ("private_report", "topic_access")


def _check(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


SENSITIVE_AREAS = ("security", "safety")
LISTED = (
    "t.merged_into_id IS NULL AND t.is_restricted = {false} AND t.is_private_report = {false}"
)


def upgrade():
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_sensitive', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_private_report', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index('ix_topics_global_pin_activity', ['is_pinned_globally', 'last_post_at'], unique=False)
        batch_op.create_index(
            'ix_topics_restricted', ['category_id'], unique=False,
            sqlite_where=sa.text('is_restricted IS 1'),
            postgresql_where=sa.text('is_restricted IS true'),
        )
        batch_op.create_index(
            'ix_topics_private_report', ['last_post_at'], unique=False,
            sqlite_where=sa.text('is_private_report IS 1'),
            postgresql_where=sa.text('is_private_report IS true'),
        )
    with op.batch_alter_table('topic_access', schema=None) as batch_op:
        batch_op.create_index('ix_topic_access_user_id', ['user_id'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('profile_public', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_notification_kind'), type_='check')
        batch_op.create_check_constraint('notification_kind', sa.text(_check(NEW_KINDS)))

    false = "false" if op.get_bind().dialect.name == "postgresql" else "0"
    listed = LISTED.format(false=false)
    categories = sa.table('categories', sa.column('slug', sa.String), sa.column('is_sensitive', sa.Boolean))
    op.execute(
        categories.update()
        .where(categories.c.slug.in_(SENSITIVE_AREAS))
        .values(is_sensitive=True)
    )
    op.execute(
        "UPDATE categories SET topic_count = (SELECT count(*) FROM topics t "
        f"WHERE t.category_id = categories.id AND {listed})"
    )
    op.execute(
        "UPDATE tags SET topic_count = (SELECT count(*) FROM topic_tags tt "
        f"JOIN topics t ON t.id = tt.topic_id WHERE tt.tag_id = tags.id AND {listed})"
    )


def downgrade():
    # Not counted: topic counts are recomputed from the topics (forum.services.topic_counts).
    sensitive = ", ".join(f"'{slug}'" for slug in SENSITIVE_AREAS)
    refuse_data_loss('0010', {
        'private reports (they would become topics every reader of their area sees)': count(
            'topics', 'is_private_report = true'
        ),
        'private-report and topic-access notifications': count(
            'notifications', "kind IN ('private_report', 'topic_access')"
        ),
        "members' choice to show their profile to visitors": count('users', 'profile_public = true'),
        'topic areas marked sensitive, or not, other than by default': count(
            'categories',
            f"(is_sensitive = true AND slug NOT IN ({sensitive}))"
            f" OR (is_sensitive = false AND slug IN ({sensitive}))",
        ),
    })
    op.execute("DELETE FROM notifications WHERE kind IN ('private_report', 'topic_access')")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_notification_kind'), type_='check')
        batch_op.create_check_constraint('notification_kind', sa.text(_check(OLD_KINDS)))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('profile_public')
    with op.batch_alter_table('topic_access', schema=None) as batch_op:
        batch_op.drop_index('ix_topic_access_user_id')
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.drop_index('ix_topics_private_report')
        batch_op.drop_index('ix_topics_restricted')
        batch_op.drop_index('ix_topics_global_pin_activity')
        batch_op.drop_column('is_private_report')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('is_sensitive')
