"""A paper's authors (issue 18, item 3): members ask to join, the lead author accepts (the new
co-author goes last) or declines, names outsiders, and sets the order. The lead author stays
first: the byline's first name is whom the paper's page calls its lead."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from forum.extensions import db
from forum.models import AuthorState, Paper, PaperAuthor, User
from forum.models.types import utcnow
from forum.permissions import require
from forum.services import audit
from forum.services.papers import PaperProblem

AUTHORS_PER_PAPER = 100


def _renumber(paper: Paper, byline: list[PaperAuthor]) -> None:
    for position, author in enumerate(byline):
        author.position = position
    for offset, request in enumerate(paper.requests, start=len(byline)):
        request.position = offset


def ask_to_join(member: User, paper: Paper, *, now: datetime | None = None) -> PaperAuthor:
    """A member asks to be a co-author; the lead author decides."""
    require(member, "ask_to_join_paper", paper)
    request = PaperAuthor(
        user_id=member.id,
        position=len(paper.authors),
        state=AuthorState.REQUESTED,
        created_at=now or utcnow(),
    )
    paper.authors.append(request)
    db.session.commit()
    return request


def _own_entry(paper: Paper, author_id: int) -> PaperAuthor | None:
    return next((a for a in paper.authors if a.id == author_id), None)


def accept_coauthor(
    lead: User, paper: Paper, author_id: int, *, now: datetime | None = None
) -> PaperAuthor | None:
    """The lead author accepts a request: the member joins the byline, last. None if there is
    no such request (decided meanwhile)."""
    require(lead, "edit_paper", paper)
    request = _own_entry(paper, author_id)
    if request is None or request.state != AuthorState.REQUESTED:
        return None
    byline = paper.byline
    request.state = AuthorState.AUTHOR
    _renumber(paper, [*byline, request])
    audit.record(
        lead,
        "paper.coauthor_accepted",
        target_type="paper",
        target_id=paper.id,
        public={"authors": len(byline) + 1},
        now=now,
    )
    db.session.commit()
    return request


def decline_coauthor(lead: User, paper: Paper, author_id: int) -> bool:
    """The lead author declines a request (the member may ask again later)."""
    require(lead, "edit_paper", paper)
    request = _own_entry(paper, author_id)
    if request is None or request.state != AuthorState.REQUESTED:
        return False
    paper.authors.remove(request)
    db.session.commit()
    return True


def add_outside_author(lead: User, paper: Paper, *, name: str) -> PaperAuthor:
    """The lead author names an author who is not a member; they go last."""
    require(lead, "edit_paper", paper)
    if len(paper.authors) >= AUTHORS_PER_PAPER:
        raise PaperProblem(
            "name", _l("A paper has at most %(max)d authors.", max=AUTHORS_PER_PAPER)
        )
    author = PaperAuthor(name=name.strip(), state=AuthorState.AUTHOR)
    byline = paper.byline
    paper.authors.append(author)
    _renumber(paper, [*byline, author])
    db.session.commit()
    return author


def move_author(lead: User, paper: Paper, author_id: int, *, by: int) -> bool:
    """Move a co-author ``by`` places (-1 earlier, +1 later); the lead author stays first."""
    require(lead, "edit_paper", paper)
    byline = paper.byline
    author = _own_entry(paper, author_id)
    if author is None or author not in byline or author.user_id == paper.lead_id:
        return False
    here = byline.index(author)
    there = max(1, min(len(byline) - 1, here + by))
    if there == here:
        return False
    byline.insert(there, byline.pop(here))
    _renumber(paper, byline)
    db.session.commit()
    return True


def remove_author(lead: User, paper: Paper, author_id: int) -> bool:
    """Take a co-author off the paper (never the lead author)."""
    require(lead, "edit_paper", paper)
    author = _own_entry(paper, author_id)
    if author is None or author.state != AuthorState.AUTHOR or author.user_id == paper.lead_id:
        return False
    paper.authors.remove(author)
    _renumber(paper, paper.byline)
    db.session.commit()
    return True
