"""Calendar feeds of more than one kind: a member's paper deadlines beside their workshops
(issue 18, item 3)

Revision ID: 0038_paper_feed
Revises: 0034_addressed_by
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from data_loss import count, refuse_data_loss

revision = "0038_paper_feed"
down_revision = "0034_addressed_by"
branch_labels = None
depends_on = None

KINDS = ("workshops", "paper_deadlines")


def upgrade():
    # Every existing address is a workshops' feed; the key becomes (member, kind).
    with op.batch_alter_table("workshop_calendar_feeds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), nullable=False, server_default="workshops")
        )
    with op.batch_alter_table("workshop_calendar_feeds", schema=None) as batch_op:
        batch_op.alter_column("kind", server_default=None, existing_type=sa.String(length=20))
        batch_op.create_check_constraint(
            "feed_kind", sa.text("kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")")
        )
        batch_op.drop_constraint("pk_workshop_calendar_feeds", type_="primary")
        batch_op.create_primary_key("pk_workshop_calendar_feeds", ["user_id", "kind"])


def downgrade():
    refuse_data_loss(
        "0038_paper_feed",
        {
            "members' paper deadline feed addresses": count(
                "workshop_calendar_feeds", "kind = 'paper_deadlines'"
            ),
        },
    )
    op.execute("DELETE FROM workshop_calendar_feeds WHERE kind <> 'workshops'")
    with op.batch_alter_table("workshop_calendar_feeds", schema=None) as batch_op:
        batch_op.drop_constraint("pk_workshop_calendar_feeds", type_="primary")
        batch_op.create_primary_key("pk_workshop_calendar_feeds", ["user_id"])
        batch_op.drop_constraint(op.f("ck_workshop_calendar_feeds_feed_kind"), type_="check")
        batch_op.drop_column("kind")
