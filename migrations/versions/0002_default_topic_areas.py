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
    # Lossless: deletes only the standard areas still exactly as upgrade() made them (same slug,
    # name, description and position) that hold no topic at all, which upgrade() makes again the
    # same; an area an operator edited, or that holds a topic, is kept (0001's downgrade counts it).
    categories = sa.table(
        "categories",
        sa.column("id", sa.Integer),
        sa.column("slug", sa.String),
        sa.column("name", sa.String),
        sa.column("description", sa.String),
        sa.column("position", sa.Integer),
    )
    topics = sa.table("topics", sa.column("category_id", sa.Integer))
    untouched = sa.or_(*(
        sa.and_(
            categories.c.slug == slug,
            categories.c.name == name,
            categories.c.description == description,
            categories.c.position == position,
        )
        for position, (slug, name, description) in enumerate(AREAS)
    ))
    empty = ~sa.exists().where(topics.c.category_id == categories.c.id)
    op.execute(categories.delete().where(untouched, empty))
