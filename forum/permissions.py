"""The one place that answers "may this user do this to that?".

Views, templates (through the ``can`` template global), services and CLI commands all ask
``can(user, action, thing)``. The answer is a ``Decision``: truthy when allowed, and when not,
it carries the reason a person is shown (the Discourse guardian idea, but saying why not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from forum.models import (
    Application,
    Category,
    Post,
    RegistrationMode,
    SiteSettings,
    Topic,
    User,
    VotingRound,
)
from forum.models.types import utcnow


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    # True when the refusal is only because nobody is logged in: views send such people to log in.
    needs_login: bool = False

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


def _deny(reason: Any, *, needs_login: bool = False) -> Decision:
    return Decision(False, str(reason), needs_login)


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def _may_write(user: Any) -> Decision:
    if not _signed_in(user):
        return _deny(_l("Please log in to take part."), needs_login=True)
    if user.is_suspended:
        return _deny(_l("Your account is suspended: you can read but not post."))
    return ALLOW


# --- Discussions -------------------------------------------------------------------------------


def can_create_topic(user: User | None, category: Category | None) -> Decision:
    return _may_write(user)


def can_reply(user: User | None, topic: Topic) -> Decision:
    decision = _may_write(user)
    if not decision:
        return decision
    if topic.is_locked and not user.is_moderator:
        return _deny(_l("This topic is locked: it takes no new replies."))
    return ALLOW


def can_edit_post(user: User | None, post: Post) -> Decision:
    decision = _may_write(user)
    if not decision:
        return decision
    if post.is_deleted:
        return _deny(_l("A deleted post cannot be edited."))
    if user.is_moderator or post.author_id == user.id:
        return ALLOW
    return _deny(_l("Only the author or a moderator can edit this post."))


def can_delete_post(user: User | None, post: Post) -> Decision:
    decision = _may_write(user)
    if not decision:
        return decision
    if post.is_deleted:
        return _deny(_l("This post is already deleted."))
    if user.is_moderator or post.author_id == user.id:
        return ALLOW
    return _deny(_l("Only the author or a moderator can delete this post."))


def can_vote(user: User | None, post: Post) -> Decision:
    decision = _may_write(user)
    if not decision:
        return decision
    if post.is_deleted:
        return _deny(_l("You cannot vote on a deleted post."))
    if post.author_id == user.id:
        return _deny(_l("You cannot vote on your own post."))
    return ALLOW


def can_accept_answer(user: User | None, post: Post) -> Decision:
    decision = _may_write(user)
    if not decision:
        return decision
    topic = post.topic
    if not topic.is_question:
        return _deny(_l("Only questions have accepted answers."))
    if post.is_opening_post or post.is_deleted:
        return _deny(_l("Only a reply that is still there can be the accepted answer."))
    if topic.author_id != user.id and not user.is_moderator:
        return _deny(_l("Only the person who asked, or a moderator, can accept an answer."))
    return ALLOW


def can_manage_tags(user: User | None, thing: Any = None) -> Decision:
    if not _signed_in(user):
        return _deny(_l("Please log in."), needs_login=True)
    if not user.is_moderator:
        return _deny(_l("Only moderators curate the list of tags."))
    return ALLOW


def can_view_revisions(user: User | None, post: Post) -> Decision:
    # Edit history is public, as on Discourse and Stack Overflow, except for posts whose body the
    # reader may not see (hidden, or waiting for review): their history would leak it.
    return can_see_post_body(user, post)


def can_edit_profile(user: User | None, profile: User) -> Decision:
    if not _signed_in(user):
        return _deny(_l("Please log in to edit your profile."), needs_login=True)
    if user.id == profile.id or user.is_admin:
        return ALLOW
    return _deny(_l("You can only edit your own profile."))


# --- Areas that only members may read -----------------------------------------------------------


def can_view_category(user: User | None, category: Category) -> Decision:
    if category.is_members_only and not _signed_in(user):
        return _deny(_l("This area is for members: log in to read it."), needs_login=True)
    return ALLOW


def can_view_topic(user: User | None, topic: Topic) -> Decision:
    decision = can_view_category(user, topic.category)
    if not decision or not is_under_embargo(topic):
        return decision
    if _signed_in(user) and (user.is_moderator or topic.author_id == user.id):
        return ALLOW
    if _signed_in(user) and user.id in {a.user_id for a in topic_access(topic)}:
        return ALLOW
    return _deny(_l("There is nothing at this address."), needs_login=not _signed_in(user))


def is_under_embargo(topic: Topic) -> bool:
    """A restricted topic stays hidden until its embargo date, then opens by itself."""
    return topic.is_restricted and (topic.embargo_until is None or topic.embargo_until > utcnow())


def topic_access(topic: Topic):
    from forum.extensions import db
    from forum.models import TopicAccess

    return db.session.query(TopicAccess).filter_by(topic_id=topic.id).all()


def can_see_post_body(user: User | None, post: Post) -> Decision:
    """Hidden posts show their reason instead; posts awaiting review show only to their author."""
    if _signed_in(user) and user.is_moderator:
        return ALLOW
    if post.awaiting_review and not (_signed_in(user) and post.author_id == user.id):
        return _deny(_l("This post is waiting for a moderator."))
    if post.is_hidden:
        return _deny(post.hidden_reason or _l("A moderator hid this post."))
    return ALLOW


# --- Membership ----------------------------------------------------------------------------------


def institution_key(name: str) -> str:
    """Institution names compared loosely: case, punctuation, spacing and a leading "the"."""
    words = "".join(c if c.isalnum() else " " for c in name.casefold()).split()
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def has_conflict_of_interest(reviewer: User, application: Application) -> bool:
    """A reviewer from the applicant's own institution: no institution vets its own people."""
    mine = institution_key(reviewer.affiliation or "")
    return bool(mine) and mine == institution_key(application.institution)


def can_register(user: User | None, settings: SiteSettings) -> Decision:
    if _signed_in(user):
        return _deny(_l("You already have an account."))
    if settings.registration_mode != RegistrationMode.OPEN:
        return _deny(_l("Membership is by application: apply to join instead."))
    return ALLOW


def can_apply(user: User | None, settings: SiteSettings) -> Decision:
    if _signed_in(user):
        return _deny(_l("You are already a member."))
    return ALLOW


def _reviewer(user: User | None) -> Decision:
    if not _signed_in(user):
        return _deny(_l("Please log in to review applications."), needs_login=True)
    if not user.is_moderator:
        return _deny(_l("Only moderators and admins review applications."))
    if user.is_suspended:
        return _deny(_l("Your account is suspended."))
    return ALLOW


def can_review_applications(user: User | None, thing: Any = None) -> Decision:
    return _reviewer(user)


def can_score_application(user: User | None, application: Application) -> Decision:
    decision = _reviewer(user)
    if decision and has_conflict_of_interest(user, application):
        return _deny(
            _l(
                "Conflict of interest: you and the applicant are both at %(institution)s, "
                "so a reviewer from another institution must assess this application.",
                institution=application.institution,
            )
        )
    return decision


def can_decide_application(user: User | None, application: Application) -> Decision:
    decision = can_score_application(user, application)
    if decision and not application.is_pending:
        return _deny(_l("This application has already been decided or withdrawn."))
    return decision


def can_manage_settings(user: User | None, thing: Any = None) -> Decision:
    if not _signed_in(user):
        return _deny(_l("Please log in."), needs_login=True)
    if not user.is_admin:
        return _deny(_l("Only admins can change the forum's settings."))
    return ALLOW


def can_view_directory(user: User | None, thing: Any = None) -> Decision:
    if not _signed_in(user):
        return _deny(_l("The member directory is for members: log in to see it."), needs_login=True)
    return ALLOW


# --- The research agenda -------------------------------------------------------------------------


def can_propose_agenda_item(user: User | None, thing: Any = None) -> Decision:
    return _may_write(user)


def can_change_agenda_status(user: User | None, item: Any = None) -> Decision:
    if not _signed_in(user):
        return _deny(_l("Please log in."), needs_login=True)
    if not user.is_moderator:
        return _deny(_l("Only moderators move agenda items between statuses."))
    return ALLOW


def can_create_round(user: User | None, thing: Any = None) -> Decision:
    if not _signed_in(user):
        return _deny(_l("Please log in."), needs_login=True)
    if not user.is_moderator:
        return _deny(_l("Only moderators and admins set up voting rounds."))
    return ALLOW


def can_vote_in_round(user: User | None, round_: VotingRound) -> Decision:
    if not _signed_in(user):
        return _deny(_l("Please log in to vote."), needs_login=True)
    if user.is_suspended:
        return _deny(_l("Your account is suspended: you cannot vote."))
    if not round_.late_joiners_may_vote and user.created_at > round_.opens_at:
        return _deny(_l("Only members who joined before this round opened may vote in it."))
    now = utcnow()
    if now < round_.opens_at:
        return _deny(_l("This round has not opened yet."))
    if now >= round_.closes_at:
        return _deny(_l("This round is closed."))
    return ALLOW


def can_see_tally(user: User | None, round_: VotingRound) -> Decision:
    """Results after closing; running tallies only when the round shows them (no bandwagons)."""
    if utcnow() >= round_.closes_at or round_.show_running_tally:
        return ALLOW
    return _deny(_l("The tally is hidden until the round closes."))


# --- Moderation ----------------------------------------------------------------------------------


def _moderator(user: User | None) -> Decision:
    if not _signed_in(user):
        return _deny(_l("Please log in."), needs_login=True)
    if not user.is_moderator:
        return _deny(_l("Only moderators can do this."))
    return ALLOW


def can_moderate(user: User | None, thing: Any = None) -> Decision:
    return _moderator(user)


def can_flag_post(user: User | None, post: Post) -> Decision:
    decision = _may_write(user)
    if not decision:
        return decision
    if post.author_id == user.id:
        return _deny(_l("You cannot flag your own post."))
    if post.is_deleted:
        return _deny(_l("This post is already deleted."))
    return ALLOW


def can_suspend(user: User | None, member: User) -> Decision:
    decision = _moderator(user)
    if decision and member.is_moderator and not user.is_admin:
        return _deny(_l("Only admins can suspend moderators."))
    if decision and member.id == user.id:
        return _deny(_l("You cannot suspend yourself."))
    return decision


def can_restrict_topic(user: User | None, topic: Topic) -> Decision:
    decision = _may_write(user)
    if not decision:
        return decision
    if topic.category.slug not in {"security", "safety"}:
        return _deny(_l("Only topics in Security or Safety can be restricted."))
    if user.is_moderator or topic.author_id == user.id:
        return ALLOW
    return _deny(_l("Only the author or a moderator can restrict this topic."))


def can_view_moderation_log(user: User | None, thing: Any = None) -> Decision:
    if not _signed_in(user):
        return _deny(_l("The moderation log is for members: log in to read it."), needs_login=True)
    return ALLOW


RULES: dict[str, Callable[[Any, Any], Decision]] = {
    "create_topic": can_create_topic,
    "reply": can_reply,
    "edit_post": can_edit_post,
    "delete_post": can_delete_post,
    "view_revisions": can_view_revisions,
    "vote": can_vote,
    "accept_answer": can_accept_answer,
    "manage_tags": can_manage_tags,
    "edit_profile": can_edit_profile,
    "view_category": can_view_category,
    "view_topic": can_view_topic,
    "register": can_register,
    "apply": can_apply,
    "review_applications": can_review_applications,
    "score_application": can_score_application,
    "decide_application": can_decide_application,
    "manage_settings": can_manage_settings,
    "view_directory": can_view_directory,
    "propose_agenda_item": can_propose_agenda_item,
    "change_agenda_status": can_change_agenda_status,
    "create_round": can_create_round,
    "vote_in_round": can_vote_in_round,
    "see_tally": can_see_tally,
    "see_post_body": can_see_post_body,
    "moderate": can_moderate,
    "moderate_topic": can_moderate,
    "moderate_post": can_moderate,
    "flag_post": can_flag_post,
    "suspend": can_suspend,
    "restrict_topic": can_restrict_topic,
    "view_moderation_log": can_view_moderation_log,
}


def can(user: Any, action: str, thing: Any = None) -> Decision:
    """May ``user`` (a User, Flask-Login's anonymous user or None) do ``action`` to ``thing``?"""
    try:
        rule = RULES[action]
    except KeyError:
        raise ValueError(f"unknown permission {action!r}") from None
    return rule(user, thing)


class PermissionDenied(Exception):
    """Raised by services when a Decision refuses; views turn it into 403 (or a login redirect)."""

    def __init__(self, decision: Decision):
        super().__init__(decision.reason)
        self.decision = decision


def require(user: Any, action: str, thing: Any = None) -> None:
    decision = can(user, action, thing)
    if not decision:
        raise PermissionDenied(decision)
