"""The standard topic areas every forum starts with

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

The list is copied here (not imported) so this migration keeps meaning what it meant when written;
forum.services.topic_areas.DEFAULT_CATEGORIES is the living list (and `flask create-areas`).
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

AREAS = [
    ("privacy", "Privacy", "Memorisation, membership inference, data extraction, unlearning."),
    ("safety", "Safety", "Harmful outputs, alignment, evaluations, red-teaming for harm."),
    ("security", "Security", "Prompt injection, jailbreaks, model theft, supply chain."),
    ("model-improvement", "Model improvement", "Training and fine-tuning methods that fix problems."),
    ("research-agenda", "Research agenda", "Which open questions the community takes on next."),
    ("workshops", "Workshops", "Planning and reports of the community's workshops."),
    ("announcements", "Announcements", "News from the organisers."),
    ("meta", "Meta", "About this forum: how it works and how to improve it."),
]


def upgrade():
    categories = sa.table(
        "categories",
        sa.column("slug", sa.String),
        sa.column("name", sa.String),
        sa.column("description", sa.String),
        sa.column("position", sa.Integer),
        sa.column("topic_count", sa.Integer),
    )
    connection = op.get_bind()
    existing = {row[0] for row in connection.execute(sa.select(categories.c.slug))}
    rows = [
        {"slug": slug, "name": name, "description": description, "position": position, "topic_count": 0}
        for position, (slug, name, description) in enumerate(AREAS)
        if slug not in existing
    ]
    if rows:
        op.bulk_insert(categories, rows)


def downgrade():
    slugs = ", ".join(f"'{slug}'" for slug, _, _ in AREAS)
    op.execute(f"DELETE FROM categories WHERE slug IN ({slugs}) AND topic_count = 0")
