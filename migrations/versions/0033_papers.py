"""Papers in preparation: authors, deadlines, linked agenda items, the reminders ledger (issue 18)

Revision ID: 0033_papers
Revises: 0032_guidelines
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from data_loss import count, refuse_data_loss

revision = "0033_papers"
down_revision = "0032_guidelines"
branch_labels = None
depends_on = None

STATUSES = (
    "idea", "drafting", "submitted", "under_review", "accepted", "rejected", "camera_ready",
    "published",
)  # fmt: skip


def _enum(*values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade():
    op.create_table(
        "papers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("abstract", sa.Text(), nullable=False),
        sa.Column("venue", sa.String(length=200), nullable=False),
        sa.Column("cfp_url", sa.String(length=500), nullable=False),
        sa.Column("abstract_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("abstract_deadline_zone", sa.String(length=64), nullable=False),
        sa.Column("full_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("full_deadline_zone", sa.String(length=64), nullable=False),
        sa.Column("status", _enum(*STATUSES, name="paper_status"), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("doi", sa.String(length=200), nullable=False),
        sa.Column("arxiv_id", sa.String(length=40), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["users.id"], name=op.f("fk_papers_lead_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_papers")),
    )
    with op.batch_alter_table("papers", schema=None) as batch_op:
        batch_op.create_index("ix_papers_status", ["status"], unique=False)
        batch_op.create_index("ix_papers_abstract_deadline", ["abstract_deadline"], unique=False)
        batch_op.create_index("ix_papers_full_deadline", ["full_deadline"], unique=False)
    op.create_table(
        "paper_authors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "state", _enum("requested", "author", name="paper_author_state"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_paper_authors_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_paper_authors_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_authors")),
        sa.UniqueConstraint("paper_id", "user_id", name="uq_paper_authors_paper_user"),
    )
    with op.batch_alter_table("paper_authors", schema=None) as batch_op:
        batch_op.create_index("ix_paper_authors_user", ["user_id"], unique=False)
    op.create_table(
        "paper_agenda_items",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agenda_item_id"], ["agenda_items.id"],
            name=op.f("fk_paper_agenda_items_agenda_item_id_agenda_items"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_paper_agenda_items_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", "agenda_item_id", name=op.f("pk_paper_agenda_items")),
    )
    with op.batch_alter_table("paper_agenda_items", schema=None) as batch_op:
        batch_op.create_index("ix_paper_agenda_items_item", ["agenda_item_id"], unique=False)
    op.create_table(
        "paper_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("deadline_kind", _enum("abstract", "full", name="deadline_kind"), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_paper_reminders_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_paper_reminders_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_reminders")),
        sa.UniqueConstraint(
            "paper_id", "deadline_kind", "offset_days", "user_id", "deadline_at",
            name="uq_paper_reminders_once",
        ),
    )


def downgrade():
    refuse_data_loss(
        "0033_papers",
        {
            "papers members track (with their authors and linked agenda items)": count("papers"),
            "deadline reminders sent (the ledger that keeps them from going twice)": count(
                "paper_reminders"
            ),
        },
    )
    op.drop_table("paper_reminders")
    with op.batch_alter_table("paper_agenda_items", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_agenda_items_item")
    op.drop_table("paper_agenda_items")
    with op.batch_alter_table("paper_authors", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_authors_user")
    op.drop_table("paper_authors")
    with op.batch_alter_table("papers", schema=None) as batch_op:
        batch_op.drop_index("ix_papers_full_deadline")
        batch_op.drop_index("ix_papers_abstract_deadline")
        batch_op.drop_index("ix_papers_status")
    op.drop_table("papers")
