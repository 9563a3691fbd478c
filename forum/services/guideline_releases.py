"""Releases of a guideline (issue 18, item 2): publishing makes v1.0, then v1.1 ..., each a frozen
copy of the text, title, editors and changelog (the suggestions accepted since the previous
release), never changed afterwards (forum.models.guidelines refuses an update); and members'
endorsements of a release: "endorsed by N members from M institutions"."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import (
    Guideline,
    GuidelineEndorsement,
    GuidelineRelease,
    GuidelineSection,
    GuidelineSuggestion,
    GuidelineVersion,
    SuggestionState,
    User,
)
from forum.models.types import utcnow
from forum.permissions import require
from forum.services import audit
from forum.services.outbox import dialect_insert

RELEASE_ACTION = "guideline.release"  # audit kinds: forum/services/audit_kinds.py
ENDORSERS_SHOWN = 200


def latest_release(guideline: Guideline) -> GuidelineRelease | None:
    return db.session.scalar(
        select(GuidelineRelease)
        .where(GuidelineRelease.guideline_id == guideline.id)
        .order_by(GuidelineRelease.major.desc(), GuidelineRelease.minor.desc())
        .limit(1)
    )


def releases_of(guideline: Guideline) -> list[GuidelineRelease]:
    return list(
        db.session.scalars(
            select(GuidelineRelease)
            .where(GuidelineRelease.guideline_id == guideline.id)
            .order_by(GuidelineRelease.major.desc(), GuidelineRelease.minor.desc())
        )
    )


def get_release(guideline_id: int, major: int, minor: int) -> GuidelineRelease | None:
    return db.session.scalar(
        select(GuidelineRelease).where(
            GuidelineRelease.guideline_id == guideline_id,
            GuidelineRelease.major == major,
            GuidelineRelease.minor == minor,
        )
    )


def record_release(actor: User, guideline: Guideline, *, now: datetime) -> GuidelineRelease:
    """The release of the document's current version, in the caller's transaction (it holds
    the document's lock and has checked that the version is newer than the last release's)."""
    previous = latest_release(guideline)
    since = previous.version_number if previous else 0
    accepted = db.session.execute(
        select(GuidelineSuggestion, GuidelineSection.heading)
        .join(GuidelineSection, GuidelineSection.id == GuidelineSuggestion.section_id)
        .where(
            GuidelineSection.guideline_id == guideline.id,
            GuidelineSuggestion.state == SuggestionState.ACCEPTED.value,
            GuidelineSuggestion.accepted_in > since,
        )
        .options(joinedload(GuidelineSuggestion.author))
        .order_by(GuidelineSuggestion.accepted_in)
    ).all()
    changelog = [
        {
            "version": suggestion.accepted_in,
            "section": heading,
            "reason": suggestion.reason,
            "by": suggestion.author.display_name if suggestion.author else "",
        }
        for suggestion, heading in accepted
    ]
    text = db.session.scalar(
        select(GuidelineVersion.text).where(
            GuidelineVersion.guideline_id == guideline.id,
            GuidelineVersion.number == guideline.version,
        )
    )
    release = GuidelineRelease(
        guideline_id=guideline.id,
        major=1,
        minor=previous.minor + 1 if previous else 0,
        version_number=guideline.version,
        title=guideline.title,
        text=text or "",
        editor_names=json.dumps([e.display_name for e in guideline.editors], ensure_ascii=False),
        changelog=json.dumps(changelog, ensure_ascii=False),
        published_by_id=actor.id,
        published_at=now,
    )
    db.session.add(release)
    db.session.flush()
    audit.record(
        actor,
        RELEASE_ACTION,
        target_type="guideline",
        target_id=guideline.id,
        public={"release": release.label, "version": guideline.version},
        now=now,
    )
    return release


def editor_names(release: GuidelineRelease) -> list[str]:
    return json.loads(release.editor_names)


def changelog(release: GuidelineRelease) -> list[dict]:
    return json.loads(release.changelog)


@dataclass(frozen=True)
class Endorsements:
    members: int
    institutions: int
    endorsers: list[User]  # the first ENDORSERS_SHOWN, in the order they endorsed


def endorsements(release: GuidelineRelease) -> Endorsements:
    """Who endorsed the release: counts of members and of distinct institution records."""
    members, institutions = db.session.execute(
        select(func.count(), func.count(func.distinct(User.institution_id)))
        .select_from(GuidelineEndorsement)
        .join(User, User.id == GuidelineEndorsement.user_id)
        .where(GuidelineEndorsement.release_id == release.id)
    ).one()
    endorsers = db.session.scalars(
        select(User)
        .join(GuidelineEndorsement, GuidelineEndorsement.user_id == User.id)
        .where(GuidelineEndorsement.release_id == release.id)
        .order_by(GuidelineEndorsement.created_at, User.id)
        .limit(ENDORSERS_SHOWN)
    ).all()
    return Endorsements(members, institutions, list(endorsers))


def has_endorsed(user, release: GuidelineRelease) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.get(GuidelineEndorsement, (release.id, user.id)) is not None


def endorse(actor: User, release: GuidelineRelease, *, now: datetime | None = None) -> None:
    """Endorse a release (once: endorsing again keeps the one endorsement)."""
    require(actor, "endorse_guideline_release", release)
    db.session.execute(
        dialect_insert(GuidelineEndorsement)
        .values(release_id=release.id, user_id=actor.id, created_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["release_id", "user_id"])
    )
    db.session.commit()


def withdraw_endorsement(actor: User, release: GuidelineRelease) -> None:
    require(actor, "endorse_guideline_release", release)
    found = db.session.get(GuidelineEndorsement, (release.id, actor.id))
    if found is not None:
        db.session.delete(found)
    db.session.commit()
