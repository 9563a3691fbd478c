"""Attachments of posts and members' avatars (issue 17, items 4 and 5)

Revision ID: 0028_attachments
Revises: 0030_form_tokens
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from data_loss import count, refuse_data_loss

revision = "0028_attachments"
down_revision = "0030_form_tokens"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=22), nullable=False),
        sa.Column("uploader_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "image",
                "file",
                name="attachment_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("has_display", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_attachments_post_id_posts")
        ),
        sa.ForeignKeyConstraint(
            ["uploader_id"], ["users.id"], name=op.f("fk_attachments_uploader_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("key", name=op.f("uq_attachments_key")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_post_id"), ["post_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_attachments_uploader_id"), ["uploader_id"], unique=False
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("avatar_key", sa.String(length=22), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_users_avatar_key"), ["avatar_key"])


def downgrade():
    refuse_data_loss(
        "0028_attachments",
        {
            "files attached to posts (the files stay in storage, unreachable)": count(
                "attachments"
            ),
            "members' avatars": count("users", "avatar_key IS NOT NULL"),
        },
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_avatar_key"), type_="unique")
        batch_op.drop_column("avatar_key")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_uploader_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_post_id"))
    op.drop_table("attachments")
