"""BibTeX of papers (issue 18, item 3): one paper, or every paper that addresses an agenda item
and that the reader may see. Values are escaped for (La)TeX so any title parses."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from forum.citations import bibtex_escape
from forum.extensions import db
from forum.models import AgendaItem, Paper, PaperAgendaItem, PaperAuthor, PaperStatus, User
from forum.permissions import readable_papers

PAPERS_PER_EXPORT = 500
# Statuses at which the paper belongs to its venue's proceedings.
IN_PROCEEDINGS = (PaperStatus.ACCEPTED, PaperStatus.CAMERA_READY, PaperStatus.PUBLISHED)
_tex = bibtex_escape  # LaTeX's special characters, the one escaping (forum/citations.py)


def citation_key(paper: Paper) -> str:
    return f"forum-paper-{paper.id}"


def paper_entry(paper: Paper) -> str:
    """One @inproceedings (accepted onwards, with a venue) or @misc entry."""
    kind = "inproceedings" if paper.venue and paper.status in IN_PROCEEDINGS else "misc"
    fields: list[tuple[str, str]] = [
        ("title", "{" + _tex(paper.title) + "}"),  # double braces keep its capitals
        # Each name in braces: a name with "and" in it, or an institution, stays one author.
        ("author", " and ".join("{" + _tex(a.display_name) + "}" for a in paper.byline)),
        ("year", str(paper.created_at.year)),
    ]
    if paper.venue:
        fields.append(
            ("booktitle" if kind == "inproceedings" else "howpublished", _tex(paper.venue))
        )
    if paper.doi:
        fields.append(("doi", _tex(paper.doi)))
    if paper.url:
        fields.append(("url", _tex(paper.url)))
    if paper.arxiv_id:
        fields += [("eprint", paper.arxiv_id), ("archiveprefix", "arXiv")]
    if paper.abstract:
        fields.append(("abstract", _tex(paper.abstract)))
    if kind == "misc":
        fields.append(("note", _tex(f"Status: {paper.status.value.replace('_', ' ')}")))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{citation_key(paper)},\n{body}\n}}\n"


def bibliography(papers: list[Paper]) -> str:
    return "\n".join(paper_entry(paper) for paper in papers)


def agenda_item_papers(viewer: User, item: AgendaItem) -> list[Paper]:
    """The papers that address ``item`` and that ``viewer`` may see, oldest first."""
    return list(
        db.session.scalars(
            select(Paper)
            .join(PaperAgendaItem, PaperAgendaItem.paper_id == Paper.id)
            .where(PaperAgendaItem.agenda_item_id == item.id, readable_papers(viewer))
            .order_by(Paper.id)
            .limit(PAPERS_PER_EXPORT)
            .options(selectinload(Paper.authors).joinedload(PaperAuthor.user))
        )
    )
