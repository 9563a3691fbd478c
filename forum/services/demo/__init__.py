"""Demo content for a fresh install (`flask seed-demo`): the areas, an admin, a moderator,
members, threads, applications and the research agenda.

The package, by what each module holds: ``people`` (the accounts and their logins), ``threads``
(topics, replies, tags and votes), ``applications`` and ``agenda`` (items and voting rounds).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from forum.extensions import db
from forum.models import User
from forum.models.types import utcnow
from forum.services import topic_areas
from forum.services.demo.agenda import seed_agenda
from forum.services.demo.applications import seed_applications
from forum.services.demo.people import DemoLogin, seed_people
from forum.services.demo.threads import seed_threads


def is_seeded() -> bool:
    return db.session.scalar(select(User.id).limit(1)) is not None


def seed_demo(*, now: datetime | None = None) -> list[DemoLogin]:
    """Fill an empty forum with demo people and threads; returns the logins (random passwords)."""
    topic_areas.ensure_default_categories()
    now = now or utcnow()
    people, logins = seed_people()
    seed_threads(people, now=now)
    seed_applications(people, now=now)
    seed_agenda(people, now=now)
    return logins
