"""Papers in preparation (issue 18, item 3): starting one, editing it, the list and one paper.

A member who starts a paper is its lead author (the first in the byline); the lead author alone
edits it. Who may see a paper is permissions.can_view_paper (its SQL twin, readable_papers,
scopes the list). Co-authors join through forum.services.paper_authors; deadlines, their feed
and reminders live in forum.services.paper_deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from forum import links
from forum.extensions import db
from forum.models import AgendaItem, AuthorState, Paper, PaperAuthor, PaperStatus, User
from forum.models.types import utcnow
from forum.pagination import Page
from forum.permissions import can, readable_agenda_items, readable_papers, require
from forum.services import audit, form_tokens

PAPERS_PER_PAGE = 30
AGENDA_ITEMS_PER_PAPER = 20
# "Anywhere on Earth": a deadline holds until the day has ended everywhere, UTC-12 (IEEE's use).
AOE = "AoE"
AOE_ZONE = timezone(timedelta(hours=-12), AOE)
# Status changes that are decisions the community keeps in the audit log (issue 18).
AUDITED_STATUSES = {
    PaperStatus.SUBMITTED: "paper.submitted",
    PaperStatus.ACCEPTED: "paper.accepted",
    PaperStatus.PUBLISHED: "paper.published",
}


class PaperProblem(ValueError):
    """What is wrong with a paper as typed, said for the field it concerns."""

    def __init__(self, field: str, message) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


@dataclass
class Deadline:
    """A deadline as the call for papers states it: a wall time in a zone (IANA or "AoE")."""

    local: datetime | None = None  # naive
    zone: str = ""


@dataclass
class PaperDetails:
    title: str
    abstract: str = ""
    venue: str = ""
    cfp_url: str = ""
    abstract_deadline: Deadline = field(default_factory=Deadline)
    full_deadline: Deadline = field(default_factory=Deadline)
    status: PaperStatus = PaperStatus.IDEA
    url: str = ""
    doi: str = ""
    arxiv_id: str = ""
    agenda_item_ids: list[int] = field(default_factory=list)


def zone_named(name: str):
    """The tzinfo of a zone name a member may type: "AoE" or an IANA name; None if neither."""
    name = name.strip()
    if name.lower() == AOE.lower():
        return AOE_ZONE
    if name not in _known_zones():
        return None
    return ZoneInfo(name)


_ZONES: set[str] = set()


def _known_zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def zone_label(name: str) -> str:
    return AOE if name.strip().lower() == AOE.lower() else name.strip()


def _deadline_utc(deadline: Deadline, field_name: str) -> tuple[datetime | None, str]:
    if deadline.local is None:
        return None, ""
    zone = zone_named(deadline.zone or "")
    if zone is None:
        raise PaperProblem(
            f"{field_name}_zone",
            _l('Give a time zone such as "Europe/Berlin", or "AoE" (anywhere on earth).'),
        )
    try:
        moment = deadline.local.replace(tzinfo=zone).astimezone(UTC)
    except (OverflowError, ValueError):
        raise PaperProblem(field_name, _l("Give a date between the years 1 and 9999.")) from None
    return moment, zone_label(deadline.zone)


def _checked(details: PaperDetails) -> dict:
    """The columns a PaperDetails stands for, normalised; PaperProblem for what cannot be."""
    values: dict = {
        "title": details.title.strip(),
        "abstract": details.abstract.strip(),
        "venue": details.venue.strip(),
        "status": details.status,
    }
    if not values["title"]:
        raise PaperProblem("title", _l("Give the paper a title."))
    for name in ("cfp_url", "url"):
        text = getattr(details, name).strip()
        if text and links.canonical_url(text) is None:
            raise PaperProblem(name, _l("Give a full web address starting with https://."))
        values[name] = text
    doi = links.normalise_doi(details.doi) if details.doi.strip() else ""
    if doi is None:
        raise PaperProblem("doi", _l("This is not a DOI (they look like 10.1234/abcd)."))
    values["doi"] = doi
    arxiv = links.normalise_arxiv_id(details.arxiv_id) if details.arxiv_id.strip() else ""
    if arxiv is None:
        raise PaperProblem(
            "arxiv_id", _l("This is not an arXiv identifier (they look like 2302.12173).")
        )
    values["arxiv_id"] = arxiv
    for kind in ("abstract_deadline", "full_deadline"):
        values[kind], values[f"{kind}_zone"] = _deadline_utc(getattr(details, kind), kind)
    return values


def _agenda_items(viewer: User, ids: list[int]) -> list[AgendaItem]:
    """The agenda items the member picked that they may see (others are silently not linked:
    the picker only offers readable ones)."""
    wanted = sorted(set(ids))[:AGENDA_ITEMS_PER_PAPER]
    if not wanted:
        return []
    return list(
        db.session.scalars(
            select(AgendaItem)
            .join(AgendaItem.topic)
            .where(AgendaItem.id.in_(wanted), readable_agenda_items(viewer))
            .order_by(AgendaItem.id)
        )
    )


def create_paper(
    member: User,
    details: PaperDetails,
    *,
    form_token: str | None = None,
    now: datetime | None = None,
) -> Paper:
    """Start a paper with ``member`` as its lead author. PaperProblem for a field."""
    require(member, "create_paper")
    values = _checked(details)
    now = now or utcnow()
    sending = form_tokens.take_token(member, form_token, now=now)
    paper = Paper(lead_id=member.id, created_at=now, updated_at=now, **values)
    paper.authors.append(PaperAuthor(user_id=member.id, position=0, state=AuthorState.AUTHOR))
    paper.agenda_items = _agenda_items(member, details.agenda_item_ids)
    db.session.add(paper)
    db.session.flush()
    form_tokens.note_made(sending, paper)
    _audit_status(member, paper, None, now=now)
    db.session.commit()
    return paper


def update_paper(
    member: User, paper: Paper, details: PaperDetails, *, now: datetime | None = None
) -> Paper:
    """The lead author changes the paper (its status too). PaperProblem for a field."""
    require(member, "edit_paper", paper)
    values = _checked(details)
    now = now or utcnow()
    before = paper.status
    for name, value in values.items():
        setattr(paper, name, value)
    paper.agenda_items = _agenda_items(member, details.agenda_item_ids)
    paper.updated_at = now
    _audit_status(member, paper, before, now=now)
    db.session.commit()
    return paper


def _audit_status(member: User, paper: Paper, before: PaperStatus | None, *, now) -> None:
    action = AUDITED_STATUSES.get(paper.status)
    if action is None or before == paper.status:
        return
    db.session.flush()
    audit.record(
        member,
        action,
        target_type="paper",
        target_id=paper.id,
        public={"from": before.value if before else None, "to": paper.status.value},
        now=now,
    )


def get_paper(paper_id: int) -> Paper | None:
    """A paper with its authors (and their accounts) and agenda items: what its page shows."""
    return db.session.scalar(
        select(Paper)
        .where(Paper.id == paper_id)
        .options(
            selectinload(Paper.authors).joinedload(PaperAuthor.user),
            selectinload(Paper.agenda_items).joinedload(AgendaItem.topic),
        )
    )


def papers_page(viewer: User, *, page: int = 1) -> Page:
    """The papers ``viewer`` may see, most recently changed first, with their authors."""
    scope = readable_papers(viewer)
    total = db.session.scalar(select(func.count()).select_from(Paper).where(scope)) or 0
    rows = db.session.scalars(
        select(Paper)
        .where(scope)
        .order_by(Paper.updated_at.desc(), Paper.id.desc())
        .limit(PAPERS_PER_PAGE)
        .offset((page - 1) * PAPERS_PER_PAGE)
        .options(selectinload(Paper.authors).joinedload(PaperAuthor.user))
    )
    return Page(list(rows), page, PAPERS_PER_PAGE, total)


def agenda_choices(viewer: User) -> list[AgendaItem]:
    """The agenda items a paper's form offers: those the member may see, newest first."""
    return list(
        db.session.scalars(
            select(AgendaItem)
            .join(AgendaItem.topic)
            .where(readable_agenda_items(viewer))
            .order_by(AgendaItem.id.desc())
            .limit(200)
        )
    )


def may_view(viewer: User, paper: Paper | None) -> bool:
    return paper is not None and bool(can(viewer, "view_paper", paper))
