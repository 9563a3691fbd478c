"""Public pages admins edit (issue 16): about, charter, code of conduct, privacy notice

A page no admin has saved has no row and shows its default text, so the table starts empty.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from data_loss import count, refuse_data_loss

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "public_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_public_pages_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_pages")),
        sa.UniqueConstraint("slug", name=op.f("uq_public_pages_slug")),
    )


def downgrade():
    # Every row is a page an admin wrote (unsaved pages have none and show their default).
    refuse_data_loss("0023", {"public pages edited by admins": count("public_pages")})
    op.drop_table("public_pages")
