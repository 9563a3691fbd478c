"""Workshops, their sessions, registrations with a waitlist, calendar feeds; the workshop_seat notification
(issue 18)

Revision ID: 0031_workshops
Revises: 0033_papers
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from data_loss import count, refuse_data_loss

revision = "0031_workshops"
down_revision = "0033_papers"
branch_labels = None
depends_on = None

OLD_KINDS = (
    "mention", "reply", "watched_reply", "watched_topic", "accepted", "round_open",
    "round_reminder", "round_result", "application", "warning", "moderation",
    "private_report", "topic_access", "bookmark_reminder",
)  # fmt: skip
NEW_KINDS = OLD_KINDS + ("workshop_seat",)
LINK_TABLES = (
    ("workshop_session_chairs", "user_id", "users"),
    ("workshop_session_agenda_items", "agenda_item_id", "agenda_items"),
    ("workshop_session_topics", "topic_id", "topics"),
)


def _check(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade():
    op.create_table(
        "workshops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_html", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("online_url", sa.String(length=500), nullable=False),
        sa.Column("link_for_participants_only", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("registration_closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("organiser_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("capacity >= 1", name=op.f("ck_workshops_workshop_capacity")),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_workshops_workshop_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["organiser_id"],
            ["users.id"],
            name=op.f("fk_workshops_organiser_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshops")),
    )
    with op.batch_alter_table("workshops", schema=None) as batch_op:
        batch_op.create_index("ix_workshops_starts_at", ["starts_at"], unique=False)
    op.create_table(
        "workshop_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "registered",
                "waitlisted",
                name="registration_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_workshop_registrations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshops.id"],
            name=op.f("fk_workshop_registrations_workshop_id_workshops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_registrations")),
        sa.UniqueConstraint("workshop_id", "user_id", name="uq_workshop_registrations_member"),
    )
    with op.batch_alter_table("workshop_registrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_workshop_registrations_queue", ["workshop_id", "status", "id"], unique=False
        )
        batch_op.create_index("ix_workshop_registrations_user", ["user_id"], unique=False)
    op.create_table(
        "workshop_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_workshop_sessions_session_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshops.id"],
            name=op.f("fk_workshop_sessions_workshop_id_workshops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_sessions")),
    )
    with op.batch_alter_table("workshop_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_workshop_sessions_workshop_starts", ["workshop_id", "starts_at"], unique=False
        )
    for table, column, target in LINK_TABLES:
        op.create_table(
            table,
            sa.Column("session_id", sa.Integer(), nullable=False),
            sa.Column(column, sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["session_id"],
                ["workshop_sessions.id"],
                name=op.f(f"fk_{table}_session_id_workshop_sessions"),
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                [column],
                [f"{target}.id"],
                name=op.f(f"fk_{table}_{column}_{target}"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("session_id", column, name=op.f(f"pk_{table}")),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)
    op.create_table(
        "workshop_organisers",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_workshop_organisers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_workshop_organisers")),
    )
    op.create_table(
        "workshop_calendar_feeds",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_workshop_calendar_feeds_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_workshop_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_workshop_calendar_feeds_token_hash")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_notification_kind"), type_="check")
        batch_op.create_check_constraint("notification_kind", sa.text(_check(NEW_KINDS)))


def downgrade():
    refuse_data_loss(
        "0031_workshops",
        {
            "workshops (with their sessions)": count("workshops"),
            "workshop registrations (seats and waitlist places)": count("workshop_registrations"),
            "members' calendar feed addresses": count("workshop_calendar_feeds"),
            "members admins let organise workshops": count("workshop_organisers"),
            "workshop seat notifications": count("notifications", "kind = 'workshop_seat'"),
        },
    )
    op.execute("DELETE FROM notifications WHERE kind = 'workshop_seat'")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_notification_kind"), type_="check")
        batch_op.create_check_constraint("notification_kind", sa.text(_check(OLD_KINDS)))
    op.drop_table("workshop_calendar_feeds")
    op.drop_table("workshop_organisers")
    for table, column, _target in reversed(LINK_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
    with op.batch_alter_table("workshop_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_workshop_sessions_workshop_starts")
    op.drop_table("workshop_sessions")
    with op.batch_alter_table("workshop_registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_workshop_registrations_user")
        batch_op.drop_index("ix_workshop_registrations_queue")
    op.drop_table("workshop_registrations")
    with op.batch_alter_table("workshops", schema=None) as batch_op:
        batch_op.drop_index("ix_workshops_starts_at")
    op.drop_table("workshops")
