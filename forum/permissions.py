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

from forum.models import Category, Post, Topic, User


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


def can_view_revisions(user: User | None, post: Post) -> Decision:
    # Edit history is public, as on Discourse and Stack Overflow: readers can see what changed.
    return ALLOW


def can_edit_profile(user: User | None, profile: User) -> Decision:
    if not _signed_in(user):
        return _deny(_l("Please log in to edit your profile."), needs_login=True)
    if user.id == profile.id or user.is_admin:
        return ALLOW
    return _deny(_l("You can only edit your own profile."))


RULES: dict[str, Callable[[Any, Any], Decision]] = {
    "create_topic": can_create_topic,
    "reply": can_reply,
    "edit_post": can_edit_post,
    "delete_post": can_delete_post,
    "view_revisions": can_view_revisions,
    "edit_profile": can_edit_profile,
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
