"""An agenda item's path: guideline sections linked to agenda items, and what addressed an item
(issue 18, item 4)

Revision ID: 0034_addressed_by
Revises: 0037_suggestion_notices
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from data_loss import count, refuse_data_loss

revision = "0034_addressed_by"
down_revision = "0037_suggestion_notices"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "guideline_section_agenda_items",
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["guideline_sections.id"],
            name=op.f("fk_guideline_section_agenda_items_section_id_guideline_sections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agenda_item_id"],
            ["agenda_items.id"],
            name=op.f("fk_guideline_section_agenda_items_agenda_item_id_agenda_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "section_id", "agenda_item_id", name=op.f("pk_guideline_section_agenda_items")
        ),
    )
    with op.batch_alter_table("guideline_section_agenda_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_guideline_section_agenda_items_item", ["agenda_item_id"], unique=False
        )
    op.create_table(
        "agenda_addressed_by",
        sa.Column("status_change_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "session",
                "section",
                "paper",
                name="addressed_by_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["status_change_id"],
            ["agenda_status_changes.id"],
            name=op.f("fk_agenda_addressed_by_status_change_id_agenda_status_changes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "status_change_id", "kind", "target_id", name=op.f("pk_agenda_addressed_by")
        ),
    )


def downgrade():
    refuse_data_loss(
        "0034_addressed_by",
        {
            "links from guideline sections to the agenda items they address": count(
                "guideline_section_agenda_items"
            ),
            "what addressed agenda items marked addressed": count("agenda_addressed_by"),
        },
    )
    op.drop_table("agenda_addressed_by")
    with op.batch_alter_table("guideline_section_agenda_items", schema=None) as batch_op:
        batch_op.drop_index("ix_guideline_section_agenda_items_item")
    op.drop_table("guideline_section_agenda_items")
