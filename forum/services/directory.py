"""The member directory: members found by name, institution and discipline."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import User
from forum.pagination import Page
from forum.permissions import require

MEMBERS_PER_PAGE = 30
# No searched column is longer (disciplines: 300), and SQLite refuses LIKE patterns past 50,000
# characters ("pattern too complex"): longer filter text can only match nothing anyway.
MAX_FILTER_CHARACTERS = 300


@dataclass
class DirectoryFilters:
    q: str = ""
    institution: str = ""
    discipline: str = ""


def _like(text: str) -> str:
    escaped = (
        text.strip()[:MAX_FILTER_CHARACTERS]
        .lower()
        .replace("\\", "\\\\")
        .replace("%", "\\%")
        .replace("_", "\\_")
    )
    return f"%{escaped}%"


def member_directory(viewer: User, filters: DirectoryFilters, *, page: int = 1) -> Page:
    """Members matching a name search and institution/discipline filters: two queries."""
    require(viewer, "view_directory")
    conditions = [User.password_hash.is_not(None)]  # invited people appear once they have joined
    if filters.q:
        conditions.append(func.lower(User.display_name).like(_like(filters.q), escape="\\"))
    if filters.institution:
        conditions.append(
            func.lower(User.affiliation).like(_like(filters.institution), escape="\\")
        )
    if filters.discipline:
        conditions.append(func.lower(User.disciplines).like(_like(filters.discipline), escape="\\"))
    total = db.session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
    pages = max(1, -(-total // MEMBERS_PER_PAGE))
    page = min(max(page, 1), pages)
    members = db.session.scalars(
        select(User)
        .where(*conditions)
        .order_by(func.lower(User.display_name), User.id)
        .limit(MEMBERS_PER_PAGE)
        .offset((page - 1) * MEMBERS_PER_PAGE)
    ).all()
    return Page(list(members), page, MEMBERS_PER_PAGE, total)
