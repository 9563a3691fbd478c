"""Guidelines drafted together (issue 18, item 2): documents, editors, sections and versions.

Every change to a document's text (a section added, edited or moved) makes exactly one new
GuidelineVersion holding the whole text, under a row lock on the document so that two editors
saving at once get versions n and n+1, never two n. Who may do what: forum/permissions.py."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from forum.extensions import db
from forum.markup import render_markdown
from forum.models import (
    Guideline,
    GuidelineSection,
    GuidelineState,
    GuidelineVersion,
    User,
)
from forum.models.types import utcnow
from forum.permissions import readable_guidelines, require
from forum.services import audit, form_tokens, guideline_links, guideline_releases
from forum.word_diff import WordDiff, word_diff

GUIDELINES_PER_PAGE = 50
VERSIONS_SHOWN = 100
STATE_ACTION = "guideline.state"  # audit kinds: forum/services/audit_kinds.py
# draft -> open for comment -> published; a published document may open again for the next
# round of comments (what was published stays readable in its versions).
NEXT_STATES = {
    GuidelineState.DRAFT: (GuidelineState.OPEN,),
    GuidelineState.OPEN: (GuidelineState.DRAFT, GuidelineState.PUBLISHED),
    GuidelineState.PUBLISHED: (GuidelineState.OPEN,),
}
STATE_LABELS = {
    GuidelineState.DRAFT: _l("Draft"),
    GuidelineState.OPEN: _l("Open for comment"),
    GuidelineState.PUBLISHED: _l("Published"),
}


class GuidelineProblem(ValueError):
    """What is wrong with what was sent, said for the field it concerns (None: the form)."""

    def __init__(self, field: str | None, message) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


class SectionChanged(GuidelineProblem):
    """The section changed since the text sent was based on it: nothing was overwritten."""

    def __init__(self, section: GuidelineSection, base_version: int) -> None:
        super().__init__(
            None,
            _l(
                "This section changed in version %(now)d, after version %(base)d that your text "
                "is based on. Nothing was overwritten: compare with the current text and send "
                "your change again.",
                now=section.changed_in,
                base=base_version,
            ),
        )


# --- Reading ------------------------------------------------------------------------------------


def get_guideline(guideline_id: int) -> Guideline | None:
    return db.session.get(Guideline, guideline_id)


def get_section(section_id: int) -> GuidelineSection | None:
    return db.session.get(GuidelineSection, section_id)


def readable_list(viewer) -> list[Guideline]:
    """The documents ``viewer`` may read, most recently changed first."""
    return list(
        db.session.scalars(
            select(Guideline)
            .where(readable_guidelines(viewer))
            .order_by(Guideline.updated_at.desc(), Guideline.id.desc())
            .limit(GUIDELINES_PER_PAGE)
        )
    )


def versions_of(guideline: Guideline) -> list[GuidelineVersion]:
    """The newest VERSIONS_SHOWN versions, newest first, with their authors."""
    return list(
        db.session.scalars(
            select(GuidelineVersion)
            .where(GuidelineVersion.guideline_id == guideline.id)
            .order_by(GuidelineVersion.number.desc())
            .limit(VERSIONS_SHOWN)
        )
    )


def version_of(guideline: Guideline, number: int) -> GuidelineVersion | None:
    return db.session.scalar(
        select(GuidelineVersion).where(
            GuidelineVersion.guideline_id == guideline.id, GuidelineVersion.number == number
        )
    )


def render_text(text: str) -> str:
    """A version's or release's whole text rendered (forum/markup.py, sanitised)."""
    return render_markdown(text)


def diff_versions(guideline: Guideline, old: int, new: int) -> WordDiff | None:
    """The word-level changes from version ``old`` to ``new`` (0: the empty document)."""
    texts = {0: ""}
    for version in db.session.scalars(
        select(GuidelineVersion).where(
            GuidelineVersion.guideline_id == guideline.id,
            GuidelineVersion.number.in_((old, new)),
        )
    ):
        texts[version.number] = version.text
    if old not in texts or new not in texts:
        return None
    return word_diff(texts[old], texts[new])


def document_text(sections) -> str:
    """The whole text as one Markdown document: each section's heading, then its body."""
    return "\n\n".join(f"## {s.heading}\n\n{s.body}".rstrip() for s in sections)


# --- Changing -----------------------------------------------------------------------------------


def _locked(guideline: Guideline) -> Guideline:
    """The document row locked for this transaction, re-read (another editor may have saved)."""
    return db.session.scalars(
        select(Guideline)
        .where(Guideline.id == guideline.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def new_version(actor: User, guideline: Guideline, *, reason: str, now: datetime) -> int:
    """Record the document's current text as its next version (caller holds the lock)."""
    db.session.flush()
    sections = db.session.scalars(
        select(GuidelineSection)
        .where(GuidelineSection.guideline_id == guideline.id)
        .order_by(GuidelineSection.position)
    ).all()
    guideline.version += 1
    guideline.updated_at = now
    db.session.add(
        GuidelineVersion(
            guideline_id=guideline.id,
            number=guideline.version,
            text=document_text(sections),
            reason=reason,
            author_id=actor.id,
            created_at=now,
        )
    )
    return guideline.version


def _editors_by_email(emails: list[str]) -> list[User]:
    wanted = {e.strip().lower() for e in emails if e.strip()}
    found = list(db.session.scalars(select(User).where(User.email.in_(wanted)))) if wanted else []
    missing = wanted - {user.email for user in found}
    if missing:
        raise GuidelineProblem(
            "editors",
            _l("No member has the address %(emails)s.", emails=", ".join(sorted(missing))),
        )
    if not found:
        raise GuidelineProblem("editors", _l("Choose at least one editor."))
    return found


def create_guideline(
    actor: User,
    *,
    title: str,
    editor_emails: list[str],
    form_token: str | None = None,
    now: datetime | None = None,
) -> Guideline:
    """A new draft document with the editors a moderator chose."""
    require(actor, "create_guideline")
    sending = form_tokens.take_token(actor, form_token)  # the form sent twice makes one document
    editors = _editors_by_email(editor_emails)
    now = now or utcnow()
    guideline = Guideline(
        title=title, created_by_id=actor.id, created_at=now, updated_at=now, editors=editors
    )
    db.session.add(guideline)
    db.session.flush()
    form_tokens.note_made(sending, guideline)
    db.session.commit()
    return guideline


def choose_editors(actor: User, guideline: Guideline, *, editor_emails: list[str]) -> None:
    require(actor, "choose_guideline_editors", guideline)
    guideline.editors = _editors_by_email(editor_emails)
    db.session.commit()


def add_section(
    actor: User,
    guideline: Guideline,
    *,
    heading: str,
    body: str,
    reason: str,
    form_token: str | None = None,
    now: datetime | None = None,
) -> GuidelineSection:
    """A new last section; the document gets a new version."""
    require(actor, "edit_guideline", guideline)
    sending = form_tokens.take_token(actor, form_token)
    now = now or utcnow()
    guideline = _locked(guideline)
    last = db.session.scalar(
        select(func.max(GuidelineSection.position)).where(
            GuidelineSection.guideline_id == guideline.id
        )
    )
    section = GuidelineSection(
        guideline_id=guideline.id,
        position=(last or 0) + 1,
        heading=heading,
        body=body,
        body_html=render_markdown(body),
        changed_in=0,
    )
    db.session.add(section)
    section.changed_in = new_version(actor, guideline, reason=reason, now=now)
    form_tokens.note_made(sending, section)
    db.session.commit()
    return section


def edit_section(
    actor: User,
    section: GuidelineSection,
    *,
    heading: str,
    body: str,
    reason: str,
    base_version: int,
    agenda_item_refs: list[str] | None = None,
    now: datetime | None = None,
) -> bool:
    """An editor's new text for a section they saw at ``base_version``; SectionChanged if it
    changed since. With ``agenda_item_refs``, the agenda items it addresses too (not part of
    the text: no version for them). False when nothing changed."""
    require(actor, "edit_guideline", section.guideline)
    guideline = _locked(section.guideline)
    db.session.refresh(section)
    if section.changed_in != base_version:
        raise SectionChanged(section, base_version)
    now = now or utcnow()
    linked = agenda_item_refs is not None and guideline_links.set_agenda_items(
        actor, section, agenda_item_refs, now=now
    )
    if heading == section.heading and body == section.body:
        db.session.commit()
        return linked
    section.heading, section.body, section.body_html = heading, body, render_markdown(body)
    section.changed_in = new_version(actor, guideline, reason=reason, now=now)
    db.session.commit()
    return True


def move_section(actor: User, section: GuidelineSection, *, up: bool) -> bool:
    """Swap a section with its neighbour; the new order is a new version."""
    require(actor, "edit_guideline", section.guideline)
    guideline = _locked(section.guideline)
    sections = db.session.scalars(
        select(GuidelineSection)
        .where(GuidelineSection.guideline_id == guideline.id)
        .order_by(GuidelineSection.position)
    ).all()
    index = next(i for i, s in enumerate(sections) if s.id == section.id)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(sections):
        return False
    a, b = sections[index], sections[other]
    a.position, b.position = b.position, a.position
    heading = b.heading
    new_version(
        actor,
        guideline,
        reason=str(_l("Moved “%(a)s” past “%(b)s”.", a=a.heading, b=heading)),
        now=utcnow(),
    )
    db.session.commit()
    return True


def change_state(
    actor: User, guideline: Guideline, *, to: GuidelineState, now: datetime | None = None
) -> None:
    """Move the document along draft -> open for comment -> published (NEXT_STATES);
    publishing makes the next release (forum/services/guideline_releases.py)."""
    require(actor, "edit_guideline", guideline)
    guideline = _locked(guideline)
    current = GuidelineState(guideline.state)
    if to not in NEXT_STATES[current]:
        raise GuidelineProblem(None, _l("The document cannot move to that state from here."))
    if to is GuidelineState.PUBLISHED and guideline.version == 0:
        raise GuidelineProblem(None, _l("Write at least one section before publishing."))
    now = now or utcnow()
    if to is GuidelineState.PUBLISHED:
        # Publishing makes a release; a release never changes, so one per version at most.
        previous = guideline_releases.latest_release(guideline)
        if previous is not None and previous.version_number == guideline.version:
            raise GuidelineProblem(
                None,
                _l(
                    "Nothing changed since release v%(label)s: it stays as it was published.",
                    label=previous.label,
                ),
            )
        guideline_releases.record_release(actor, guideline, now=now)
    guideline.state = to.value
    audit.record(
        actor,
        STATE_ACTION,
        target_type="guideline",
        target_id=guideline.id,
        public={"from": current.value, "to": to.value, "version": guideline.version},
        now=now,
    )
    db.session.commit()
