"""Topic areas (Category): the ones every forum starts with, the areas a reader may see, and the
most active topics of each for the home page."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, union_all
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.i18n import N_
from forum.models import Category, Topic
from forum.permissions import listed_topics, readable_categories

LATEST_TOPICS_PER_AREA = 4

# Areas where authors may restrict a new topic until an embargo date (admins mark others).
SENSITIVE_AREAS = frozenset({"security", "safety"})

# The topic areas every forum starts with (also created by the 0002 migration).
# Names are stored in English and translated when shown (forum.i18n.category_name).
DEFAULT_CATEGORIES = [
    (
        "privacy",
        N_("Privacy"),
        N_("Memorisation, membership inference, data extraction, unlearning."),
    ),
    ("safety", N_("Safety"), N_("Harmful outputs, alignment, evaluations, red-teaming for harm.")),
    ("security", N_("Security"), N_("Prompt injection, jailbreaks, model theft, supply chain.")),
    (
        "model-improvement",
        N_("Model improvement"),
        N_("Training and fine-tuning methods that fix problems."),
    ),
    (
        "research-agenda",
        N_("Research agenda"),
        N_("Which open questions the community takes on next."),
    ),
    ("workshops", N_("Workshops"), N_("Planning and reports of the community's workshops.")),
    ("announcements", N_("Announcements"), N_("News from the organisers.")),
    ("meta", N_("Meta"), N_("About this forum: how it works and how to improve it.")),
]


def ensure_default_categories() -> list[Category]:
    """Create the standard topic areas that are missing (idempotent)."""
    existing = {c.slug for c in db.session.scalars(select(Category))}
    for position, (slug, name, description) in enumerate(DEFAULT_CATEGORIES):
        if slug not in existing:
            db.session.add(
                Category(
                    slug=slug,
                    name=name,
                    description=description,
                    position=position,
                    is_sensitive=slug in SENSITIVE_AREAS,
                )
            )
    db.session.commit()
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.id)))


def list_categories(*, viewer=None) -> list[Category]:
    """The topic areas in their order; members-only ones only for logged-in members."""
    stmt = select(Category).where(readable_categories(viewer))
    return list(db.session.scalars(stmt.order_by(Category.position, Category.id)))


def get_category(slug: str) -> Category | None:
    return db.session.scalar(select(Category).where(Category.slug == slug))


def latest_topics_by_category(
    areas: Iterable[Category], limit: int = LATEST_TOPICS_PER_AREA, *, viewer=None
) -> dict[int, list[Topic]]:
    """The few most active topics of each of these areas the reader may read, in one query.

    Per area, two walks down ix_topics_category_activity (category, pinned, activity), one for
    its pinned topics and one for the rest, each stopping after ``limit``; the most active of
    the two heads win. (A window over every readable topic cost a sort of them all.)"""
    listed = listed_topics(viewer)  # built once: 19 areas x 2 heads share it (issue 15)
    heads = [
        select(Topic.id)
        .where(Topic.category_id == area.id, Topic.is_pinned.is_(pinned), listed)
        .order_by(Topic.last_post_at.desc(), Topic.id.desc())
        .limit(limit)
        .subquery()
        for area in areas
        for pinned in (True, False)
    ]
    if not heads:
        return {}
    chosen = union_all(*(select(head.c.id) for head in heads)).subquery()
    topics = db.session.scalars(
        select(Topic)
        .where(Topic.id.in_(select(chosen.c.id)))
        .options(joinedload(Topic.author), joinedload(Topic.last_poster))
    ).all()
    by_category: dict[int, list[Topic]] = {}
    for topic in sorted(topics, key=lambda t: (t.last_post_at, t.id), reverse=True):
        shown = by_category.setdefault(topic.category_id, [])
        if len(shown) < limit:
            shown.append(topic)
    return by_category
