"""The tag list moderators keep: creating, renaming and removing tags."""

from __future__ import annotations

import re
from enum import Enum

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.models import Tag, User
from forum.permissions import require

TAG_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$")


class TagProblem(Enum):
    """Why a tag could not be added."""

    NAME = "name"  # not 2 to 40 lower-case letters, digits and hyphens
    EXISTS = "exists"  # a tag of that name is on the list already


class TagError(ValueError):
    """A tag that breaks a rule; ``problem`` says which."""

    def __init__(self, problem: TagProblem):
        super().__init__(problem.value)
        self.problem = problem


def all_tags() -> list[Tag]:
    return list(db.session.scalars(select(Tag).order_by(Tag.name)))


def get_tag(slug: str) -> Tag | None:
    return db.session.scalar(select(Tag).where(Tag.slug == slug))


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
    if not TAG_SLUG.match(slug):
        raise TagError(TagProblem.NAME)
    return slug


def create_tag(actor: User, *, name: str, description: str = "") -> Tag:
    """Add a tag (names are Latin letters, digits and hyphens, like red-teaming)."""
    require(actor, "manage_tags")
    slug = _slug(name)
    tag = Tag(slug=slug, name=slug, description=description.strip())
    db.session.add(tag)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise TagError(TagProblem.EXISTS) from None
    return tag


def update_tag(actor: User, tag: Tag, *, description: str) -> Tag:
    require(actor, "manage_tags")
    tag.description = description.strip()
    db.session.commit()
    return tag


def delete_tag(actor: User, tag: Tag) -> None:
    """Remove a tag from the list and from every topic that carried it."""
    require(actor, "manage_tags")
    db.session.delete(tag)
    db.session.commit()


def count_tags() -> int:
    return db.session.scalar(select(func.count()).select_from(Tag)) or 0
