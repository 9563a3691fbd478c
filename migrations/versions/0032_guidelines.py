"""Guidelines drafted together: documents, editors, sections, versions, suggested edits,
releases and their endorsements (issue 18)

Revision ID: 0032_guidelines
Revises: 0026_perf_lists
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from data_loss import count, refuse_data_loss

revision = "0032_guidelines"
down_revision = "0026_perf_lists"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "guidelines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('draft', 'open', 'published')", name=op.f("ck_guidelines_guideline_state")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_guidelines_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guidelines")),
    )
    with op.batch_alter_table("guidelines", schema=None) as batch_op:
        batch_op.create_index("ix_guidelines_updated", ["updated_at"], unique=False)

    op.create_table(
        "guideline_editors",
        sa.Column("guideline_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guideline_id"],
            ["guidelines.id"],
            name=op.f("fk_guideline_editors_guideline_id_guidelines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_guideline_editors_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guideline_id", "user_id", name=op.f("pk_guideline_editors")),
    )
    op.create_table(
        "guideline_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guideline_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("heading", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("changed_in", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guideline_id"],
            ["guidelines.id"],
            name=op.f("fk_guideline_sections_guideline_id_guidelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guideline_sections")),
    )
    with op.batch_alter_table("guideline_sections", schema=None) as batch_op:
        batch_op.create_index(
            "ix_guideline_sections_guideline", ["guideline_id", "position"], unique=False
        )

    op.create_table(
        "guideline_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guideline_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_guideline_versions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["guideline_id"],
            ["guidelines.id"],
            name=op.f("fk_guideline_versions_guideline_id_guidelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guideline_versions")),
        sa.UniqueConstraint("guideline_id", "number", name="uq_guideline_versions_number"),
    )
    op.create_table(
        "guideline_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_in", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('open', 'accepted', 'declined')",
            name=op.f("ck_guideline_suggestions_guideline_suggestion_state"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_guideline_suggestions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_guideline_suggestions_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["guideline_sections.id"],
            name=op.f("fk_guideline_suggestions_section_id_guideline_sections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guideline_suggestions")),
    )
    with op.batch_alter_table("guideline_suggestions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_guideline_suggestions_section", ["section_id", "state"], unique=False
        )

    op.create_table(
        "guideline_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guideline_id", sa.Integer(), nullable=False),
        sa.Column("major", sa.Integer(), nullable=False),
        sa.Column("minor", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("editor_names", sa.Text(), nullable=False),
        sa.Column("changelog", sa.Text(), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guideline_id"],
            ["guidelines.id"],
            name=op.f("fk_guideline_releases_guideline_id_guidelines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_guideline_releases_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guideline_releases")),
        sa.UniqueConstraint("guideline_id", "major", "minor", name="uq_guideline_releases_number"),
    )
    op.create_table(
        "guideline_endorsements",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["guideline_releases.id"],
            name=op.f("fk_guideline_endorsements_release_id_guideline_releases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_guideline_endorsements_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("release_id", "user_id", name=op.f("pk_guideline_endorsements")),
    )


def downgrade():
    refuse_data_loss(
        "0032_guidelines",
        {
            "guideline documents (with their sections and versions)": count("guidelines"),
            "suggested edits to guidelines": count("guideline_suggestions"),
            "published guideline releases": count("guideline_releases"),
            "endorsements of guideline releases": count("guideline_endorsements"),
        },
    )
    op.drop_table("guideline_endorsements")
    op.drop_table("guideline_releases")
    with op.batch_alter_table("guideline_suggestions", schema=None) as batch_op:
        batch_op.drop_index("ix_guideline_suggestions_section")

    op.drop_table("guideline_suggestions")
    op.drop_table("guideline_versions")
    with op.batch_alter_table("guideline_sections", schema=None) as batch_op:
        batch_op.drop_index("ix_guideline_sections_guideline")

    op.drop_table("guideline_sections")
    op.drop_table("guideline_editors")
    with op.batch_alter_table("guidelines", schema=None) as batch_op:
        batch_op.drop_index("ix_guidelines_updated")

    op.drop_table("guidelines")
