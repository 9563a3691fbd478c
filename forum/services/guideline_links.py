"""Which agenda items a guideline section addresses (issue 18, item 4): set by the document's
editors on the section's edit form, shown on each item's timeline (forum/services/agenda_path.py).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from forum.extensions import db
from forum.models import AgendaItem, GuidelineSection, GuidelineSectionAgendaItem, User
from forum.permissions import can
from forum.services import guidelines  # the module: it imports this one
from forum.services.workshop_sessions import numbers_in

AGENDA_ITEMS_PER_SECTION = 30


def agenda_item_ids(section: GuidelineSection) -> list[int]:
    """The agenda items the section addresses, by id."""
    return list(
        db.session.scalars(
            select(GuidelineSectionAgendaItem.agenda_item_id)
            .where(GuidelineSectionAgendaItem.section_id == section.id)
            .order_by(GuidelineSectionAgendaItem.agenda_item_id)
        )
    )


def set_agenda_items(
    actor: User, section: GuidelineSection, refs: list[str], *, now: datetime
) -> bool:
    """Make the section address the agenda items named by ``refs`` ("12" or "/agenda/12", one
    a line) and no others; GuidelineProblem for a line naming none or an item the editor may not
    see (the same message as a missing one). Staged for the caller's commit; True if changed.
    The caller checked that ``actor`` edits the section's document."""
    if len(refs) > AGENDA_ITEMS_PER_SECTION:
        raise guidelines.GuidelineProblem(
            "agenda_items",
            _l("Name at most %(num)d agenda items.", num=AGENDA_ITEMS_PER_SECTION),
        )
    wanted = numbers_in(refs)
    if wanted is None:
        raise guidelines.GuidelineProblem(
            "agenda_items", _l("Give one agenda item number or address a line.")
        )
    items = db.session.scalars(select(AgendaItem).where(AgendaItem.id.in_(wanted))).all()
    if len([i for i in items if can(actor, "view_agenda_item", i)]) < len(wanted):
        raise guidelines.GuidelineProblem(
            "agenda_items", _l("One of these agenda items does not exist.")
        )
    current = set(agenda_item_ids(section))
    if current == set(wanted):
        return False
    gone = current - set(wanted)
    if gone:
        db.session.execute(
            delete(GuidelineSectionAgendaItem).where(
                GuidelineSectionAgendaItem.section_id == section.id,
                GuidelineSectionAgendaItem.agenda_item_id.in_(gone),
            )
        )
    db.session.add_all(
        GuidelineSectionAgendaItem(section_id=section.id, agenda_item_id=i, created_at=now)
        for i in wanted
        if i not in current
    )
    return True
