"""Suggested edits to a guideline's section (issue 18, item 2): a member proposes a new text with
a reason, against the version the section last changed in; an editor accepts it (exactly one new
version) or declines it with a note. A suggestion whose section changed since it was based is
refused, at sending and at accepting alike: nothing newer is ever overwritten."""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum import mail
from forum.extensions import db
from forum.markup import render_markdown
from forum.models import (
    Guideline,
    GuidelineSection,
    GuidelineSuggestion,
    SuggestionState,
    User,
)
from forum.models.types import utcnow
from forum.permissions import require
from forum.services import audit, form_tokens, notifications
from forum.services.guidelines import GuidelineProblem, SectionChanged, _locked, new_version
from forum.services.outbox import is_reachable
from forum.services.unsubscribe import unsubscribe_headers, unsubscribe_url

SUGGESTIONS_SHOWN = 100
OWN_SUGGESTIONS_SHOWN = 20
log = logging.getLogger(__name__)
ACCEPT_ACTION = "guideline.suggestion_accept"  # audit kinds: forum/services/audit_kinds.py
DECLINE_ACTION = "guideline.suggestion_decline"


def get_suggestion(suggestion_id: int) -> GuidelineSuggestion | None:
    return db.session.scalar(
        select(GuidelineSuggestion)
        .where(GuidelineSuggestion.id == suggestion_id)
        .options(joinedload(GuidelineSuggestion.section).joinedload(GuidelineSection.guideline))
    )


def open_suggestions(guideline: Guideline) -> list[GuidelineSuggestion]:
    """The suggestions waiting for an editor, oldest first, with their authors."""
    return list(
        db.session.scalars(
            select(GuidelineSuggestion)
            .join(GuidelineSection, GuidelineSection.id == GuidelineSuggestion.section_id)
            .where(
                GuidelineSection.guideline_id == guideline.id,
                GuidelineSuggestion.state == SuggestionState.OPEN.value,
            )
            .options(joinedload(GuidelineSuggestion.author))
            .order_by(GuidelineSuggestion.id)
            .limit(SUGGESTIONS_SHOWN)
        )
    )


def suggestions_by(user, guideline: Guideline) -> list[GuidelineSuggestion]:
    """The reader's own suggestions to this document, newest first, with how they were decided
    (the editor's note on a declined one is for its proposer)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        db.session.scalars(
            select(GuidelineSuggestion)
            .join(GuidelineSection, GuidelineSection.id == GuidelineSuggestion.section_id)
            .where(
                GuidelineSection.guideline_id == guideline.id,
                GuidelineSuggestion.author_id == user.id,
            )
            .options(joinedload(GuidelineSuggestion.section))
            .order_by(GuidelineSuggestion.id.desc())
            .limit(OWN_SUGGESTIONS_SHOWN)
        )
    )


def suggest_edit(
    actor: User,
    section: GuidelineSection,
    *,
    body: str,
    reason: str,
    base_version: int,
    form_token: str | None = None,
    now: datetime | None = None,
) -> GuidelineSuggestion:
    """A member's new text for ``section`` as they saw it at ``base_version``."""
    require(actor, "suggest_guideline_edit", section.guideline)
    sending = form_tokens.take_token(actor, form_token)
    db.session.refresh(section)
    if section.changed_in != base_version:
        raise SectionChanged(section, base_version)
    if body == section.body:
        raise GuidelineProblem("body", _l("Change the text to suggest an edit."))
    suggestion = GuidelineSuggestion(
        section_id=section.id,
        author_id=actor.id,
        base_version=base_version,
        body=body,
        reason=reason,
        created_at=now or utcnow(),
    )
    db.session.add(suggestion)
    db.session.flush()
    form_tokens.note_made(sending, suggestion)
    db.session.commit()
    return suggestion


def _undecided(suggestion: GuidelineSuggestion) -> None:
    if suggestion.state != SuggestionState.OPEN.value:
        raise GuidelineProblem(None, _l("This suggestion was already decided."))


def accept_suggestion(
    actor: User, suggestion: GuidelineSuggestion, *, now: datetime | None = None
) -> int:
    """Apply the suggested text: exactly one new version, whose number is returned.
    SectionChanged (and nothing changes) if the section changed since the suggestion's base."""
    section = suggestion.section
    require(actor, "edit_guideline", section.guideline)
    now = now or utcnow()
    guideline = _locked(section.guideline)
    db.session.refresh(section)
    db.session.refresh(suggestion)
    _undecided(suggestion)
    if section.changed_in != suggestion.base_version:
        raise SectionChanged(section, suggestion.base_version)
    section.body, section.body_html = suggestion.body, render_markdown(suggestion.body)
    author = suggestion.author.display_name if suggestion.author else "?"
    number = new_version(
        actor,
        guideline,
        reason=str(_l("Suggested by %(name)s: %(reason)s", name=author, reason=suggestion.reason))[
            :500
        ],
        now=now,
    )
    section.changed_in = number
    suggestion.state = SuggestionState.ACCEPTED.value
    suggestion.accepted_in = number
    suggestion.decided_by_id, suggestion.decided_at = actor.id, now
    audit.record(
        actor,
        ACCEPT_ACTION,
        target_type="guideline",
        target_id=guideline.id,
        public={"suggestion": suggestion.id, "version": number},
        now=now,
    )
    notifications.notify_suggestion_decided(suggestion, actor=actor, accepted=True)
    db.session.commit()
    _email_decision(suggestion, actor=actor, accepted=True)
    return number


def decline_suggestion(
    actor: User, suggestion: GuidelineSuggestion, *, note: str, now: datetime | None = None
) -> None:
    """Decline with a note to the member who suggested it."""
    require(actor, "edit_guideline", suggestion.section.guideline)
    now = now or utcnow()
    _locked(suggestion.section.guideline)
    db.session.refresh(suggestion)
    _undecided(suggestion)
    suggestion.state = SuggestionState.DECLINED.value
    suggestion.decision_note = note
    suggestion.decided_by_id, suggestion.decided_at = actor.id, now
    audit.record(
        actor,
        DECLINE_ACTION,
        target_type="guideline",
        target_id=suggestion.section.guideline_id,
        public={"suggestion": suggestion.id},
        reason=note,
        now=now,
    )
    notifications.notify_suggestion_decided(suggestion, actor=actor, accepted=False)
    db.session.commit()
    _email_decision(suggestion, actor=actor, accepted=False)


def _email_decision(suggestion: GuidelineSuggestion, *, actor: User, accepted: bool) -> None:
    """Email the member who suggested the edit about the decision, with the editor's note,
    when they keep immediate emails on (the same preference as replies to their posts)."""
    author = suggestion.author
    if author is None or author.id == actor.id or not author.email_immediate:
        return
    if not is_reachable(author, utcnow()):
        return
    guideline = suggestion.section.guideline
    locale = author.locale or None
    try:
        with force_locale(locale or "en"):
            subject = (
                _("Your suggested edit to “%(title)s” was accepted", title=guideline.title)
                if accepted
                else _("Your suggested edit to “%(title)s” was declined", title=guideline.title)
            )
        mail.send_email(
            to=author.email,
            subject=subject,
            template="suggestion_decided",
            locale=locale,
            headers=unsubscribe_headers(author, "immediate"),
            unsubscribe_url=unsubscribe_url(author, "immediate"),
            name=author.display_name,
            editor=actor.display_name,
            accepted=accepted,
            guideline=guideline,
            section=suggestion.section,
            note=suggestion.decision_note or "",
            version=suggestion.accepted_in,
            guideline_url=mail.external_url("guidelines.document", guideline_id=guideline.id),
        )
    except mail.MailError:
        log.exception("could not email suggestion %s's author about the decision", suggestion.id)
