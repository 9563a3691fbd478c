"""The one place that answers "may this user do this to that?".

Views, templates (through the ``can`` template global), services and CLI commands all ask
``can(user, action, thing)``. The answer is a ``Decision``: truthy when allowed, and when not,
it carries the reason a person is shown (the Discourse guardian idea, but saying why not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl
from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select, true, union_all
from sqlalchemy.orm import aliased

from forum.extensions import db
from forum.models import (
    Application,
    ApplicationReview,
    AuthorState,
    Bookmark,
    Category,
    Guideline,
    GuidelineEditor,
    Paper,
    PaperAuthor,
    Post,
    RegistrationMode,
    Role,
    SiteSettings,
    Topic,
    TopicAccess,
    User,
    UserState,
    VotingRound,
)
from forum.models.papers import UNSUBMITTED
from forum.models.types import utcnow
from forum.models.workshops import (
    RegistrationStatus,
    Workshop,
    WorkshopOrganiser,
    WorkshopRegistration,
)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # The refusal's reason as given (often a lazy translation): translated only when a page
    # shows it, not for every "may they?" a template asks.
    why: Any = ""
    # True when the refusal is only because nobody is logged in: views send such people to log in.
    needs_login: bool = False
    # True when the reader may not know the thing exists: they get the page of a missing id.
    not_found: bool = False

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def reason(self) -> str:
        return str(self.why)


ALLOW = Decision(True)


def _deny(reason: Any, *, needs_login: bool = False) -> Decision:
    return Decision(False, reason, needs_login)


# Refusals that say the same to everyone are made once: a page asks ~100 questions and most
# answers are a yes or a fixed no (issue 15). Their reasons stay lazy, read in the reader's
# language when shown.
NOT_FOUND = Decision(False, _l("There is nothing at this address."), not_found=True)
LOG_IN_TO_TAKE_PART = _deny(_l("Please log in to take part."), needs_login=True)


def _not_found() -> Decision:
    """The answer for something the reader may not see: the same as for an id that never was."""
    return NOT_FOUND


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def _is_self(user: Any, user_id: int | None) -> bool:
    return _signed_in(user) and user.id is not None and user.id == user_id


def _suspended(user: Any) -> Decision:
    until = getattr(user, "suspended_until", None)
    if until is not None and getattr(user, "state", None) != "suspended":
        return _deny(
            _l(
                "Your account is suspended until %(date)s. Until then you can read, but not "
                "post, vote or use moderation and admin tools.",
                date=format_datetime(until, "medium"),
            )
        )
    return _deny(
        _l("Your account is suspended: you can read, but not post, vote or use moderation tools.")
    )


def _may_write(user: Any) -> Decision:
    if not _signed_in(user):
        return LOG_IN_TO_TAKE_PART
    if user.is_suspended:
        return _suspended(user)
    return ALLOW


def _acts_as_moderator(user: Any) -> bool:
    """Moderator powers, privileged reading included, pause while the account is suspended."""
    return _signed_in(user) and user.is_moderator and not user.is_suspended


def is_staff(user: Any) -> bool:
    """Whether ``user`` speaks as the forum's staff: a moderator or admin, not suspended (a
    suspension pauses the role, and so its badge). Pages mark staff names with a badge that no
    display name can imitate (issue 13, point 5)."""
    return _acts_as_moderator(user)


def staff() -> ColumnElement[bool]:
    """SQL twin of ``is_staff``: moderators and admins not suspended."""
    return and_(User.role.in_((Role.MODERATOR, Role.ADMIN)), not_suspended())


def not_suspended() -> ColumnElement[bool]:
    """SQL twin of ``not User.is_suspended``: active, and any timed suspension over."""
    return and_(
        User.state == UserState.ACTIVE,
        or_(User.suspended_until.is_(None), User.suspended_until <= utcnow()),
    )


def _staff(user: Any, *, admin: bool, refusal: Any) -> Decision:
    """Signed in, with the role, and not suspended: suspension binds moderators and admins too."""
    if not _signed_in(user):
        return _deny(_l("Please log in."), needs_login=True)
    if not (user.is_admin if admin else user.is_moderator):
        return _deny(refusal)
    if user.is_suspended:
        return _suspended(user)
    return ALLOW


def _all(*decisions: Callable[[], Decision]) -> Decision:
    """The first refusal among checks run in order (later ones may assume earlier ones held)."""
    for check in decisions:
        decision = check()
        if not decision:
            return decision
    return ALLOW


# --- Who may see what: one rule, two forms ------------------------------------------------------
#
# Each Python check answers for one topic or post; the SQL clause beside it answers the same
# question inside a query, for lists, counts, notifications, digests, emails and exports.
# tests/test_visibility.py builds every role x state and proves that both forms agree.


class _AnyMember:
    """A signed-in member who wrote nothing, was let in nowhere and moderates nothing: what every
    member may read (the shared part of digests is built once for this reader)."""

    is_authenticated = True
    is_moderator = False
    is_admin = False
    is_suspended = False
    id = None


ANY_MEMBER = _AnyMember()


def is_under_embargo(topic: Topic, *, now=None) -> bool:
    """A restricted topic stays hidden until its embargo date, then opens by itself."""
    if not topic.is_restricted:
        return False
    return topic.embargo_until is None or topic.embargo_until > (now or utcnow())


def can_view_topic(user: User | None, topic: Topic) -> Decision:
    """Merged-away topics only redirect; members-only areas are for members; private reports
    are for their author and the moderators; a restricted topic, until its embargo ends, is for
    its author, the moderators and the members let in."""
    if topic.merged_into_id is not None:
        return _not_found()
    if topic.category.is_members_only and not _signed_in(user):
        return _not_found()
    if _acts_as_moderator(user):
        return ALLOW
    if topic.is_private_report:
        return ALLOW if _is_self(user, topic.author_id) else _not_found()
    if is_under_embargo(topic):
        if _is_self(user, topic.author_id):
            return ALLOW
        if _signed_in(user) and any(a.user_id == user.id for a in topic.access):
            return ALLOW
        return _not_found()
    return ALLOW


def readable_topics(viewer: Any) -> ColumnElement[bool]:
    """SQL twin of can_view_topic: a condition on Topic for the topics ``viewer`` may read."""
    live = Topic.merged_into_id.is_(None)
    if _acts_as_moderator(viewer):
        return live
    open_to_all = and_(
        Topic.is_private_report.is_(False),
        or_(
            Topic.is_restricted.is_(False),
            and_(Topic.embargo_until.is_not(None), Topic.embargo_until <= utcnow()),
        ),
    )
    if not _signed_in(viewer):
        members_only = select(Category.id).where(not_(readable_categories(viewer)))
        return and_(live, Topic.category_id.not_in(members_only), open_to_all)
    if viewer.id is None:  # ANY_MEMBER
        return and_(live, open_to_all)
    let_in = select(TopicAccess.topic_id).where(TopicAccess.user_id == viewer.id)
    return and_(
        live,
        or_(
            open_to_all,
            Topic.author_id == viewer.id,
            and_(Topic.is_private_report.is_(False), Topic.id.in_(let_in)),
        ),
    )


def restricted_topics_maybe_readable(viewer: Any) -> ColumnElement[bool]:
    """The restricted topics readable_topics can let ``viewer`` read, as ids found through
    indexes: those whose embargo date has passed (ix_topics_embargo), their own, those they
    were let into; every restricted topic for moderators. Only a narrowing for counting the
    few restricted topics without walking them all (issue 15): always combined with the rule
    (readable_topics or listed_topics), never in its place."""
    restricted = Topic.is_restricted.is_(True)
    if _acts_as_moderator(viewer):
        return restricted
    over = select(Topic.id).where(restricted, Topic.embargo_until <= utcnow())
    if not _signed_in(viewer) or viewer.id is None:
        return and_(restricted, Topic.id.in_(over))
    own = select(Topic.id).where(Topic.author_id == viewer.id, restricted)
    let_in = select(TopicAccess.topic_id).where(TopicAccess.user_id == viewer.id)
    return and_(restricted, Topic.id.in_(union_all(over, own, let_in)))


def listed_topics(viewer: Any) -> ColumnElement[bool]:
    """The topics lists, counts, search and digests show ``viewer``: those they may read, less
    private reports (read from the reporter's and the moderators' own lists)."""
    return and_(readable_topics(viewer), Topic.is_private_report.is_(False))


def syndicated_topics() -> ColumnElement[bool]:
    """The topics Atom feeds carry, a condition on Topic joined to its opening Post: those listed
    to a visitor (whoever fetches the feed), less those whose opening post still waits for
    review. Stricter than the lists, because aggregators copy a feed's entries on for good."""
    return and_(listed_topics(None), Post.awaiting_review.is_(False))


def can_view_post(user: User | None, post: Post) -> Decision:
    """A post is there for a reader who may read its topic, except that one waiting for
    first-post review is there only for its author and the moderators."""
    decision = can_view_topic(user, post.topic)
    if not decision:
        return decision
    if post.awaiting_review and not (_acts_as_moderator(user) or _is_self(user, post.author_id)):
        return _not_found()
    return ALLOW


def readable_posts(viewer: Any) -> ColumnElement[bool]:
    """SQL twin of can_view_post: a condition on Post and its Topic (join Topic on Post.topic)."""
    if _acts_as_moderator(viewer):
        return readable_topics(viewer)
    published = Post.awaiting_review.is_(False)
    if _signed_in(viewer) and viewer.id is not None:
        published = or_(published, Post.author_id == viewer.id)
    return and_(readable_topics(viewer), published)


POST_DELETED = _deny(_l("This post was deleted."))


def can_see_post_body(user: User | None, post: Post) -> Decision:
    """Deleted posts show a placeholder and hidden posts their reason, except hidden ones to
    moderators; a post the reader may not view at all is not found."""
    decision = can_view_post(user, post)
    if not decision:
        return decision
    if post.is_deleted:
        return POST_DELETED
    if post.is_hidden and not _acts_as_moderator(user):
        return _deny(post.hidden_reason or _l("A moderator hid this post."))
    return ALLOW


def visible_posts(viewer: Any) -> ColumnElement[bool]:
    """SQL twin of can_see_post_body: a condition on Post and its Topic (join Topic)."""
    shown = [readable_posts(viewer), Post.deleted_at.is_(None)]
    if not _acts_as_moderator(viewer):
        shown.append(Post.hidden_at.is_(None))
    return and_(*shown)


def _discussion_of(item: Any) -> Topic:
    """The topic that holds an agenda item's discussion: its own, or the one it was merged into
    (one step, as readable_agenda_items follows it)."""
    topic = item.topic
    if topic.merged_into_id is not None:
        topic = db.session.get(Topic, topic.merged_into_id) or topic
    return topic


def can_view_agenda_item(user: User | None, item: Any) -> Decision:
    """An agenda item is as visible as its discussion: one whose topic is restricted, in a
    members-only area or otherwise hidden from the reader is hidden with it."""
    return can_view_topic(user, _discussion_of(item))


def readable_agenda_items(viewer: Any) -> ColumnElement[bool]:
    """SQL twin of can_view_agenda_item: a condition on AgendaItem joined to its Topic."""
    readable = readable_topics(viewer)  # one clause in both places: the same SQL, built once
    merged_into_readable = select(Topic.id).where(readable).correlate(None)
    return or_(readable, Topic.merged_into_id.in_(merged_into_readable))


def can_view_profile(user: User | None, profile: User) -> Decision:
    """Members see every profile; visitors only those their owners made public."""
    if _signed_in(user) or profile.profile_public:
        return ALLOW
    return _not_found()


# --- Discussions -------------------------------------------------------------------------------


def can_create_topic(user: User | None, category: Category | None) -> Decision:
    if category is not None and category.is_members_only and not _signed_in(user):
        return _not_found()
    return _may_write(user)


def can_suggest_members(user: User | None, thing: Any = None) -> Decision:
    """The composer's @mention suggestions (a typeahead of members) are for those who may write."""
    return _may_write(user)


def can_preview_post(user: User | None, thing: Any = None) -> Decision:
    """The composer's live preview (Markdown rendered while typing) is for those who may write."""
    return _may_write(user)


ONLY_SENSITIVE_AREAS = _l(
    "Only topics in sensitive areas (such as Security and Safety) can be restricted."
)


def can_create_restricted_topic(user: User | None, category: Category) -> Decision:
    """Authors in a sensitive area may open a topic restricted until an embargo date."""
    decision = can_create_topic(user, category)
    if decision and not category.is_sensitive:
        return _deny(ONLY_SENSITIVE_AREAS)
    return decision


TOPIC_LOCKED = _deny(_l("This topic is locked: it takes no new replies."))


def can_reply(user: User | None, topic: Topic) -> Decision:
    decision = _all(lambda: can_view_topic(user, topic), lambda: _may_write(user))
    if decision and topic.is_locked and not _acts_as_moderator(user):
        return TOPIC_LOCKED
    return decision


DELETED_NOT_EDITABLE = _deny(_l("A deleted post cannot be edited."))
NOT_YOURS_TO_EDIT = _deny(_l("Only the author or a moderator can edit this post."))


def can_edit_post(user: User | None, post: Post) -> Decision:
    decision = _all(lambda: can_view_post(user, post), lambda: _may_write(user))
    if not decision:
        return decision
    if post.is_deleted:
        return DELETED_NOT_EDITABLE
    if _acts_as_moderator(user) or post.author_id == user.id:
        return ALLOW
    return NOT_YOURS_TO_EDIT


NOT_YOURS_TO_DELETE = _deny(_l("Only the author or a moderator can delete this post."))


def can_delete_post(user: User | None, post: Post) -> Decision:
    decision = _all(lambda: can_view_post(user, post), lambda: _may_write(user))
    if not decision:
        return decision
    if post.is_deleted:
        return _deny(_l("This post is already deleted."))
    if _acts_as_moderator(user) or post.author_id == user.id:
        return ALLOW
    return NOT_YOURS_TO_DELETE


def can_quote_post(user: User | None, post: Post) -> Decision:
    """Quoting copies the body into the reply box: only a body the reader may see."""
    return can_see_post_body(user, post)


NO_VOTE_ON_REMOVED = _deny(_l("You cannot vote on a deleted or hidden post."))
NO_VOTE_ON_OWN = _deny(_l("You cannot vote on your own post."))


def can_vote(user: User | None, post: Post) -> Decision:
    decision = _all(lambda: can_view_post(user, post), lambda: _may_write(user))
    if not decision:
        return decision
    if post.is_deleted or post.is_hidden:
        return NO_VOTE_ON_REMOVED
    if post.author_id == user.id:
        return NO_VOTE_ON_OWN
    return ALLOW


ONLY_QUESTIONS_ACCEPT = _deny(_l("Only questions have accepted answers."))
ONLY_LIVE_REPLIES_ACCEPTED = _deny(
    _l("Only a reply that is still there can be the accepted answer.")
)
NOT_YOURS_TO_ACCEPT = _deny(_l("Only the person who asked, or a moderator, can accept an answer."))


def can_accept_answer(user: User | None, post: Post) -> Decision:
    decision = _all(lambda: can_view_post(user, post), lambda: _may_write(user))
    if not decision:
        return decision
    topic = post.topic
    if not topic.is_question:
        return ONLY_QUESTIONS_ACCEPT
    if post.is_opening_post or post.is_deleted:
        return ONLY_LIVE_REPLIES_ACCEPTED
    if topic.author_id != user.id and not _acts_as_moderator(user):
        return NOT_YOURS_TO_ACCEPT
    return ALLOW


def can_manage_tags(user: User | None, thing: Any = None) -> Decision:
    return _staff(user, admin=False, refusal=_l("Only moderators curate the list of tags."))


def can_view_revisions(user: User | None, post: Post) -> Decision:
    # Edit history is public, as on Discourse and Stack Overflow, except for posts whose body the
    # reader may not see (hidden, deleted, or waiting for review): their history would leak it.
    return can_see_post_body(user, post)


def can_edit_profile(user: User | None, profile: User) -> Decision:
    if not _signed_in(user):
        return _deny(_l("Please log in to edit your profile."), needs_login=True)
    if user.id == profile.id or (user.is_admin and not user.is_suspended):
        return ALLOW
    return _deny(_l("You can only edit your own profile."))


# --- Attachments and avatars (issue 17) ------------------------------------------------------


def can_upload_attachment(user: User | None, thing: Any = None) -> Decision:
    """Attaching a file is writing: for members who may post (not while suspended)."""
    return _may_write(user)


def can_view_attachment(user: User | None, attachment: Any) -> Decision:
    """An attachment is as visible as its post's body (can_see_post_body: restricted topics,
    members-only areas, hidden, deleted and waiting posts); one not yet in a post is its
    uploader's alone. Refused, it is not found, like a missing id."""
    if attachment.post_id is None:
        return ALLOW if _is_self(user, attachment.uploader_id) else _not_found()
    decision = can_see_post_body(user, attachment.post)
    return decision if decision else _not_found()


# --- Areas that only members may read -----------------------------------------------------------


def can_view_category(user: User | None, category: Category) -> Decision:
    if category.is_members_only and not _signed_in(user):
        return _deny(_l("This area is for members: log in to read it."), needs_login=True)
    return ALLOW


def readable_categories(viewer: Any) -> ColumnElement[bool]:
    """SQL twin of can_view_category: a condition on Category for the areas ``viewer`` may read."""
    if _signed_in(viewer):
        return true()
    return Category.is_members_only.is_(False)


# --- Membership ----------------------------------------------------------------------------------


# Abbreviations read as the word they shorten ("Univ. of Edinburgh" is "University of Edinburgh").
INSTITUTION_ABBREVIATIONS = {"univ": "university", "uni": "university"}


def institution_key(name: str) -> str:
    """Institution names compared loosely: case, punctuation, spacing, a leading "the" and the
    abbreviations above (issue 14)."""
    words = "".join(c if c.isalnum() else " " for c in name.casefold()).split()
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(INSTITUTION_ABBREVIATIONS.get(w, w) for w in words)


def has_conflict_of_interest(reviewer: User, application: Application) -> bool:
    """A reviewer from the applicant's own institution: no institution vets its own people.
    The same institution record (whatever spelling either typed, aliases included), or, for a
    row not linked to a record, the same name compared loosely."""
    if reviewer.institution_id is not None and (
        reviewer.institution_id == application.institution_id
    ):
        return True
    mine = institution_key(reviewer.affiliation or "")
    return bool(mine) and mine == institution_key(application.institution)


def can_register(user: User | None, settings: SiteSettings | None = None) -> Decision:
    """Visitors create their own accounts only while registration is open; else they apply.
    Without ``settings`` (templates ask ``can('register')``) the saved ones are read."""
    if _signed_in(user):
        return _deny(_l("You already have an account."))
    if settings is None:
        settings = db.session.get(SiteSettings, 1)  # none saved yet: the default, by application
    if settings is None or settings.registration_mode != RegistrationMode.OPEN:
        return _deny(_l("Membership is by application: apply to join instead."))
    return ALLOW


def can_apply(user: User | None, settings: SiteSettings) -> Decision:
    if _signed_in(user):
        return _deny(_l("You are already a member."))
    return ALLOW


def _reviewer(user: User | None) -> Decision:
    return _staff(user, admin=False, refusal=_l("Only moderators and admins review applications."))


def can_review_applications(user: User | None, thing: Any = None) -> Decision:
    return _reviewer(user)


def can_score_application(user: User | None, application: Application) -> Decision:
    decision = _reviewer(user)
    if decision and has_conflict_of_interest(user, application):
        return _deny(
            _l(
                "Conflict of interest: you and the applicant are both at %(institution)s, "
                "so a reviewer from another institution must assess this application.",
                institution=(
                    record.name
                    if (record := application.institution_record)
                    else application.institution
                ),
            )
        )
    return decision


def can_decide_application(user: User | None, application: Application) -> Decision:
    decision = can_score_application(user, application)
    if decision and not application.is_pending:
        return _deny(_l("This application has already been decided or withdrawn."))
    return decision


def independent_reviews(application: Application) -> int:
    """How many reviewers scored the application without a conflict of interest."""
    reviewers = db.session.scalars(
        select(User)
        .join(ApplicationReview, ApplicationReview.reviewer_id == User.id)
        .where(ApplicationReview.application_id == application.id)
    )
    return sum(1 for reviewer in reviewers if not has_conflict_of_interest(reviewer, application))


def can_approve_application(user: User | None, application: Application) -> Decision:
    """Deciding, and no one approves alone: FORUM_REVIEWS_TO_APPROVE independent scores first."""
    decision = can_decide_application(user, application)
    if not decision:
        return decision
    needed = current_app.config.get("FORUM_REVIEWS_TO_APPROVE", 2)
    have = independent_reviews(application)
    if have < needed:
        return _deny(
            _nl(
                "Approval needs rubric scores from %(num)d reviewer from another institution "
                "than the applicant's; so far %(have)d.",
                "Approval needs rubric scores from %(num)d reviewers from other institutions "
                "than the applicant's; so far %(have)d.",
                needed,
                have=have,
            )
        )
    return decision


def can_view_transparency_report(user: User | None, thing: Any = None) -> Decision:
    """Everyone, logged in or not: the report exists to be checked from outside."""
    return ALLOW


def can_manage_settings(user: User | None, thing: Any = None) -> Decision:
    return _staff(user, admin=True, refusal=_l("Only admins can change the forum's settings."))


def can_edit_public_pages(user: User | None, thing: Any = None) -> Decision:
    """The about page, charter, code of conduct and privacy notice speak for the whole forum:
    admins edit them (issue 16)."""
    return _staff(user, admin=True, refusal=_l("Only admins can edit the forum's public pages."))


def can_moderate_institutions(user: User | None, thing: Any = None) -> Decision:
    """Confirming proposed institutions and merging spellings: moderators and admins."""
    return _staff(
        user, admin=False, refusal=_l("Only moderators and admins can curate institutions.")
    )


def can_suggest_institutions(user: User | None, thing: Any = None) -> Decision:
    """The institution typeahead: applicants are visitors, so anyone may ask; it lists only
    confirmed institutions (public names, unlike the members the mention typeahead lists), and
    the lookup rate limit counts each visitor's address."""
    return ALLOW


def can_view_directory(user: User | None, thing: Any = None) -> Decision:
    if not _signed_in(user):
        return _deny(_l("The member directory is for members: log in to see it."), needs_login=True)
    return ALLOW


# --- The research agenda -------------------------------------------------------------------------


def can_propose_agenda_item(user: User | None, thing: Any = None) -> Decision:
    return _may_write(user)


def can_change_agenda_status(user: User | None, item: Any = None) -> Decision:
    return _staff(
        user, admin=False, refusal=_l("Only moderators move agenda items between statuses.")
    )


def can_create_round(user: User | None, thing: Any = None) -> Decision:
    return _staff(user, admin=False, refusal=_l("Only moderators and admins set up voting rounds."))


def is_in_electorate(user: User, round_: Any) -> bool:
    """Members who joined before the round opened, and everyone when late joiners may vote."""
    return round_.late_joiners_may_vote or user.created_at <= round_.opens_at


def can_vote_in_round(user: User | None, round_: VotingRound) -> Decision:
    if not _signed_in(user):
        return _deny(_l("Please log in to vote."), needs_login=True)
    if user.is_suspended:
        return _suspended(user)
    if not is_in_electorate(user, round_):
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


def can_download_ballots(user: User | None, round_: VotingRound) -> Decision:
    """Anyone may download a round's anonymised ballots once its results are published; until
    then there is no file, and asking for it is as for a missing page."""
    if round_.results is None:
        return _not_found()
    return ALLOW


# --- Moderation ----------------------------------------------------------------------------------


def _moderator(user: User | None) -> Decision:
    return _staff(user, admin=False, refusal=_l("Only moderators can do this."))


def can_moderate(user: User | None, thing: Any = None) -> Decision:
    return _moderator(user)


def can_moderate_topic(user: User | None, topic: Topic) -> Decision:
    return _all(lambda: can_view_topic(user, topic), lambda: _moderator(user))


def can_moderate_post(user: User | None, post: Post) -> Decision:
    return _all(lambda: can_view_post(user, post), lambda: _moderator(user))


NO_FLAG_ON_OWN = _deny(_l("You cannot flag your own post."))


def can_flag_post(user: User | None, post: Post) -> Decision:
    decision = _all(lambda: can_view_post(user, post), lambda: _may_write(user))
    if not decision:
        return decision
    if post.author_id == user.id:
        return NO_FLAG_ON_OWN
    if post.is_deleted:
        return _deny(_l("This post is already deleted."))
    return ALLOW


def _active_admins() -> int:
    query = select(func.count()).select_from(User).where(User.role == Role.ADMIN, not_suspended())
    return db.session.scalar(query) or 0


def can_suspend(user: User | None, member: User) -> Decision:
    """Moderators suspend members, admins also moderators and admins; never oneself, and never
    the last admin who is not suspended (somebody must be able to lift suspensions)."""
    decision = _moderator(user)
    if not decision:
        return decision
    if member.id == user.id:
        return _deny(_l("You cannot suspend yourself."))
    if member.is_admin and not user.is_admin:
        return _deny(_l("Only admins can suspend an admin."))
    if member.is_moderator and not user.is_admin:
        return _deny(_l("Only admins can suspend moderators."))
    if member.is_admin and not member.is_suspended and _active_admins() <= 1:
        return _deny(_l("This is the last active admin: make another admin first."))
    return ALLOW


def can_restrict_topic(user: User | None, topic: Topic) -> Decision:
    """Restrict a topic in a sensitive area until an embargo date: its author or a moderator."""
    decision = _all(lambda: can_view_topic(user, topic), lambda: _may_write(user))
    if not decision:
        return decision
    if topic.is_private_report:
        return _deny(_l("A private report is already seen only by you and the moderators."))
    if not topic.category.is_sensitive and not _acts_as_moderator(user):
        return _deny(ONLY_SENSITIVE_AREAS)
    if _acts_as_moderator(user) or topic.author_id == user.id:
        return ALLOW
    return _deny(_l("Only the author or a moderator can restrict this topic."))


def _embargo_keeper(user: User | None, topic: Topic) -> Decision:
    decision = _all(lambda: can_view_topic(user, topic), lambda: _may_write(user))
    if not decision:
        return decision
    if not is_under_embargo(topic):
        return _deny(_l("This topic is not under embargo."))
    if _acts_as_moderator(user) or topic.author_id == user.id:
        return ALLOW
    return _deny(_l("Only the author or a moderator can change who sees this topic."))


def can_invite_to_topic(user: User | None, topic: Topic) -> Decision:
    """Let co-investigators into a restricted topic (or take them out): author or moderator."""
    return _embargo_keeper(user, topic)


def can_extend_embargo(user: User | None, topic: Topic) -> Decision:
    """The author may push the embargo date later; moderators may also bring it nearer."""
    return _embargo_keeper(user, topic)


def can_shorten_embargo(user: User | None, topic: Topic) -> Decision:
    """Bringing the embargo date nearer, or lifting it now, is for moderators."""
    decision = _embargo_keeper(user, topic)
    if decision and not _acts_as_moderator(user):
        return _deny(_l("Only moderators can shorten or lift an embargo."))
    return decision


def can_report_privately(user: User | None, thing: Any = None) -> Decision:
    return _may_write(user)


def can_convert_report(user: User | None, topic: Topic) -> Decision:
    """Turn a private report into a restricted topic, its reporter as the author."""
    decision = can_moderate_topic(user, topic)
    if decision and not topic.is_private_report:
        return _deny(_l("Only a private report can be turned into a restricted topic."))
    return decision


def can_open_notification(user: User | None, notification: Any) -> Decision:
    """Only one's own notifications, and only while what they point at is still readable."""
    if not _is_self(user, notification.user_id):
        return _not_found()
    if notification.topic is not None:
        return can_view_topic(user, notification.topic)
    return ALLOW


def can_preview_digest(user: User | None, member: Any = None) -> Decision:
    """Admins may see the digest a member would get next (it lists only what that member reads)."""
    return _staff(user, admin=True, refusal=_l("Only admins can preview a member's digest."))


def can_view_moderation_log(user: User | None, thing: Any = None) -> Decision:
    """Everyone, logged in or not: the log is public so that anyone can keep and check it
    (what each reader sees of an entry's target follows the rules above)."""
    return ALLOW


# --- API read tokens (issue 16) ---------------------------------------------------------------


def can_create_api_token(user: User | None, thing: Any = None) -> Decision:
    """Members make their own read tokens; not while suspended (their tokens do not read then)."""
    return _may_write(user)


def can_revoke_api_token(user: User | None, token: Any) -> Decision:
    """Only the member who made a token revokes it; anyone else's is as a missing one."""
    if not _is_self(user, token.user_id):
        return _not_found()
    return ALLOW


def can_read_with_token(user: User | None, token: Any = None) -> Decision:
    """A token reads as its member while the member is not suspended: a suspended member's
    token is refused (401) until the suspension ends, then reads again (README, "Read API")."""
    if not _signed_in(user):
        return _deny(_l("This token is unknown or revoked."), needs_login=True)
    if user.is_suspended:
        return _deny(
            _l("This token's account is suspended: its tokens read again when the suspension ends.")
        )
    return ALLOW


# --- Bookmarks (issue 17) -----------------------------------------------------------------------
# As Discourse's BookmarkGuardian: a bookmark needs a post one may see, and only its owner edits
# or removes it. A suspended member keeps that (a bookmark is a private reading aid, seen by
# nobody else, and suspended members still read).


def can_bookmark_post(user: User | None, post: Post) -> Decision:
    """Members bookmark a post whose body they may see (suspended members too)."""
    if not _signed_in(user):
        return _deny(_l("Log in to bookmark posts."), needs_login=True)
    return can_see_post_body(user, post)


def can_view_bookmark(user: User | None, bookmark: Any) -> Decision:
    """One's own bookmark, while its post is still there for one (can_see_post_body): another
    member's, or one of a post now restricted, hidden or deleted, is as a missing id. Seeing a
    bookmark is what editing and removing it need."""
    if not _is_self(user, bookmark.user_id):
        return _not_found()
    return ALLOW if can_see_post_body(user, bookmark.post) else _not_found()


def readable_bookmarks(viewer: Any) -> ColumnElement[bool]:
    """SQL twin of can_view_bookmark: a condition on Bookmark joined to its Post and Topic."""
    if not _signed_in(viewer) or viewer.id is None:
        return false()
    return and_(Bookmark.user_id == viewer.id, visible_posts(viewer))


# --- Guidelines (issue 18, item 2) --------------------------------------------------------------
# A draft is read by its editors and moderators; open for comment, by members; published, by
# everyone. Editors (chosen per document by moderators) write, reorder and decide suggested
# edits; any member who may read the document suggests an edit. Suspension pauses all writing.

GUIDELINE_NOT_EDITOR = _deny(_l("Only this guideline's editors can change its text."))


def _guideline_editor(user: Any, guideline: Any) -> bool:
    return _signed_in(user) and user.id in guideline.editor_ids


def can_view_guideline(user: User | None, guideline: Any) -> Decision:
    """Published: everyone; open for comment: members; a draft: its editors and moderators."""
    if guideline.state == "published":
        return ALLOW
    if guideline.state == "open" and _signed_in(user):
        return ALLOW
    if _guideline_editor(user, guideline) or _acts_as_moderator(user):
        return ALLOW
    return _not_found()


def readable_guidelines(viewer: Any) -> ColumnElement[bool]:
    """SQL twin of can_view_guideline: a condition on Guideline."""
    if not _signed_in(viewer) or viewer.id is None:
        return Guideline.state == "published"
    if _acts_as_moderator(viewer):
        return true()
    is_editor = (
        select(GuidelineEditor.user_id)
        .where(GuidelineEditor.guideline_id == Guideline.id, GuidelineEditor.user_id == viewer.id)
        .exists()
    )
    return or_(Guideline.state.in_(("published", "open")), is_editor)


def can_create_guideline(user: User | None, thing: Any = None) -> Decision:
    """Moderators start guideline documents and choose their editors."""
    return _moderator(user)


def can_choose_guideline_editors(user: User | None, guideline: Any) -> Decision:
    return _all(lambda: can_view_guideline(user, guideline), lambda: _moderator(user))


def can_edit_guideline(user: User | None, guideline: Any) -> Decision:
    """Write and reorder sections, decide suggested edits, move the document's state: its
    editors (not while suspended)."""
    return _all(
        lambda: can_view_guideline(user, guideline),
        lambda: _may_write(user),
        lambda: ALLOW if _guideline_editor(user, guideline) else GUIDELINE_NOT_EDITOR,
    )


def can_suggest_guideline_edit(user: User | None, guideline: Any) -> Decision:
    """Any member who may read the document and may write."""
    return _all(lambda: can_view_guideline(user, guideline), lambda: _may_write(user))


def can_view_guideline_release(user: User | None, release: Any) -> Decision:
    """A release was published: everyone reads it at its stable address, whatever state the
    document moved to since."""
    return ALLOW


def can_endorse_guideline_release(user: User | None, release: Any) -> Decision:
    """Members who may write endorse a release (or withdraw their endorsement)."""
    return _may_write(user)


# --- Papers (issue 18, item 3) ------------------------------------------------------------------
# Before submission (idea, drafting) a paper is its authors' work in progress: its authors and
# moderators see it, anyone else gets the 404 of a missing id. From submission on, members see
# it (visitors do not: the tracker is the community's own). Only the lead author edits it and
# decides who joins; any other member who may see it may ask to join.


def can_view_papers(user: User | None, thing: Any = None) -> Decision:
    """The papers list and the deadlines page (and their feed) are for members."""
    if not _signed_in(user):
        return _deny(_l("Log in to see the papers members are writing."), needs_login=True)
    return ALLOW


def can_view_paper(user: User | None, paper: Any) -> Decision:
    """Unsubmitted papers: their authors and moderators; submitted onwards: every member."""
    if not _signed_in(user):
        return _not_found()
    if paper.status in UNSUBMITTED and not (paper.is_author(user.id) or _acts_as_moderator(user)):
        return _not_found()
    return ALLOW


def readable_papers(viewer: Any) -> ColumnElement[bool]:
    """SQL twin of can_view_paper: a condition on Paper."""
    if not _signed_in(viewer) or viewer.id is None:
        return false()
    if _acts_as_moderator(viewer):
        return true()
    authored = select(PaperAuthor.paper_id).where(
        PaperAuthor.user_id == viewer.id, PaperAuthor.state == AuthorState.AUTHOR
    )
    return or_(Paper.status.not_in(UNSUBMITTED), Paper.id.in_(authored))


def can_create_paper(user: User | None, thing: Any = None) -> Decision:
    """Members who may write start a paper; they become its lead author."""
    return _may_write(user)


NOT_THE_LEAD_AUTHOR = _deny(_l("Only the lead author can change this paper."))


def can_edit_paper(user: User | None, paper: Any) -> Decision:
    """The lead author edits the paper, its status and its authors (accepting who asked)."""
    return _all(
        lambda: can_view_paper(user, paper),
        lambda: _may_write(user),
        lambda: ALLOW if paper.lead_id == user.id else NOT_THE_LEAD_AUTHOR,
    )


ALREADY_AN_AUTHOR = _deny(_l("You are already an author of this paper."))
ALREADY_ASKED = _deny(_l("You have asked to join; the lead author will decide."))


def can_ask_to_join_paper(user: User | None, paper: Any) -> Decision:
    """A member who may see the paper and is not on it (nor waiting) asks to join."""
    decision = _all(lambda: can_view_paper(user, paper), lambda: _may_write(user))
    if not decision:
        return decision
    mine = next((a for a in paper.authors if a.user_id == user.id), None)
    if mine is None:
        return ALLOW
    return ALREADY_AN_AUTHOR if mine.state == AuthorState.AUTHOR else ALREADY_ASKED


# --- Workshops (issue 18) -----------------------------------------------------------------------
# Workshops are public events: anyone may read one (a cancelled one too, marked so). Moderators
# create them and organise them; members register until registration closes or it starts. The
# online link is for participants when the organiser says so; the list of participants shows
# organisers everyone, and others only those who chose to be listed.


def is_workshop_organiser(user: Any, workshop: Workshop | None) -> bool:
    """A moderator or admin (not suspended), or the member who organises this workshop."""
    if _acts_as_moderator(user):
        return True
    return workshop is not None and _is_self(user, workshop.organiser_id) and not user.is_suspended


def can_view_workshop(user: User | None, workshop: Workshop) -> Decision:
    return ALLOW


def is_appointed_organiser(user: Any) -> bool:
    """A member an admin let organise workshops (WorkshopOrganiser), not suspended."""
    return bool(
        _signed_in(user)
        and not user.is_suspended
        and db.session.get(WorkshopOrganiser, user.id) is not None
    )


def can_create_workshop(user: User | None, thing: Any = None) -> Decision:
    if is_appointed_organiser(user):
        return ALLOW
    return _staff(
        user,
        admin=False,
        refusal=_l("Only moderators and members an admin lets organise create workshops."),
    )


def can_appoint_organisers(user: User | None, thing: Any = None) -> Decision:
    return _staff(user, admin=True, refusal=_l("Only admins choose who organises workshops."))


def can_edit_workshop(user: User | None, workshop: Workshop) -> Decision:
    if is_workshop_organiser(user, workshop):
        return ALLOW
    if not _signed_in(user):
        return _deny(_l("Please log in."), needs_login=True)
    return _deny(_l("Only the workshop's organisers can change it."))


SESSION_NOT_STARTED = _deny(_l("Notes and outcomes are written once the session has started."))


def can_record_session_outcomes(user: User | None, session: Any) -> Decision:
    """A session's notes and what came out of it: its workshop's organisers, once it started."""
    return _all(
        lambda: can_edit_workshop(user, session.workshop),
        lambda: ALLOW if utcnow() >= session.starts_at else SESSION_NOT_STARTED,
    )


WORKSHOP_CANCELLED = _deny(_l("This workshop was cancelled: it takes no registrations."))
WORKSHOP_REGISTRATION_CLOSED = _deny(_l("Registration for this workshop has closed."))


def can_register_for_workshop(user: User | None, workshop: Workshop) -> Decision:
    """Members not suspended, while the workshop is on, not started, and registration open."""
    decision = _may_write(user)
    if not decision:
        return decision
    if workshop.is_cancelled:
        return WORKSHOP_CANCELLED
    now = utcnow()
    closes = workshop.registration_closes_at or workshop.starts_at
    if now >= min(closes, workshop.starts_at):
        return WORKSHOP_REGISTRATION_CLOSED
    return ALLOW


def _holds_seat(user: Any, workshop: Workshop) -> bool:
    return bool(
        _signed_in(user)
        and db.session.scalar(
            select(WorkshopRegistration.id).where(
                WorkshopRegistration.workshop_id == workshop.id,
                WorkshopRegistration.user_id == user.id,
                WorkshopRegistration.status == RegistrationStatus.REGISTERED,
            )
        )
    )


def can_see_workshop_link(user: User | None, workshop: Workshop) -> Decision:
    """The online link: for everyone, or (when the organiser marked it so) for members holding
    a seat and the organisers; the waitlist does not see it."""
    if not workshop.link_for_participants_only or is_workshop_organiser(user, workshop):
        return ALLOW
    if not _signed_in(user):
        return _deny(_l("Log in and register to see the online link."), needs_login=True)
    if _holds_seat(user, workshop):
        return ALLOW
    return _deny(_l("The online link is shown to registered participants."))


def workshop_link_shown(viewer: Any) -> ColumnElement[bool]:
    """SQL twin of can_see_workshop_link: a condition on Workshop, so a list of workshops (a
    member's calendar feed) asks the rule once for all of them."""
    if _acts_as_moderator(viewer):
        return true()
    if not _signed_in(viewer) or viewer.id is None:
        return Workshop.link_for_participants_only.is_(False)
    held = aliased(WorkshopRegistration)  # the query using this may join registrations itself
    seat = (
        select(held.id)
        .where(
            held.workshop_id == Workshop.id,
            held.user_id == viewer.id,
            held.status == RegistrationStatus.REGISTERED,
        )
        .exists()
    )
    organiser = Workshop.organiser_id == viewer.id if not viewer.is_suspended else false()
    return or_(Workshop.link_for_participants_only.is_(False), organiser, seat)


def can_see_participant(user: User | None, registration: WorkshopRegistration) -> Decision:
    """One registration on the list: organisers see all; others, those who chose to be listed
    (and their own)."""
    if registration.listed or _is_self(user, registration.user_id):
        return ALLOW
    if is_workshop_organiser(user, registration.workshop):
        return ALLOW
    return _not_found()


def listed_participants(viewer: Any, workshop: Workshop) -> ColumnElement[bool]:
    """SQL twin of can_see_participant, for the registrations of this one workshop."""
    if is_workshop_organiser(viewer, workshop):
        return true()
    own = WorkshopRegistration.user_id == viewer.id if _signed_in(viewer) else false()
    return or_(WorkshopRegistration.listed.is_(True), own)


RULES: dict[str, Callable[[Any, Any], Decision]] = {
    "create_topic": can_create_topic,
    "suggest_members": can_suggest_members,
    "preview_post": can_preview_post,
    "reply": can_reply,
    "edit_post": can_edit_post,
    "delete_post": can_delete_post,
    "view_revisions": can_view_revisions,
    "vote": can_vote,
    "quote_post": can_quote_post,
    "accept_answer": can_accept_answer,
    "manage_tags": can_manage_tags,
    "edit_profile": can_edit_profile,
    # attachments (issue 17)
    "upload_attachment": can_upload_attachment,
    "view_attachment": can_view_attachment,
    "view_category": can_view_category,
    "view_topic": can_view_topic,
    "view_post": can_view_post,
    "view_agenda_item": can_view_agenda_item,
    "view_profile": can_view_profile,
    "create_restricted_topic": can_create_restricted_topic,
    "register": can_register,
    "apply": can_apply,
    "review_applications": can_review_applications,
    "score_application": can_score_application,
    "decide_application": can_decide_application,
    "approve_application": can_approve_application,
    "view_transparency_report": can_view_transparency_report,
    "manage_settings": can_manage_settings,
    "edit_public_pages": can_edit_public_pages,
    "view_directory": can_view_directory,
    # institutions (issue 14)
    "moderate_institutions": can_moderate_institutions,
    "suggest_institutions": can_suggest_institutions,
    "propose_agenda_item": can_propose_agenda_item,
    "change_agenda_status": can_change_agenda_status,
    "create_round": can_create_round,
    "vote_in_round": can_vote_in_round,
    "see_tally": can_see_tally,
    "see_post_body": can_see_post_body,
    "moderate": can_moderate,
    "moderate_topic": can_moderate_topic,
    "moderate_post": can_moderate_post,
    "flag_post": can_flag_post,
    "suspend": can_suspend,
    "restrict_topic": can_restrict_topic,
    "invite_to_topic": can_invite_to_topic,
    "extend_embargo": can_extend_embargo,
    "shorten_embargo": can_shorten_embargo,
    "report_privately": can_report_privately,
    "convert_report": can_convert_report,
    "open_notification": can_open_notification,
    "view_moderation_log": can_view_moderation_log,
    # agenda (issue 12)
    "download_ballots": can_download_ballots,
    # email (issue 12)
    "preview_digest": can_preview_digest,
    # read API (issue 16)
    "create_api_token": can_create_api_token,
    "revoke_api_token": can_revoke_api_token,
    "read_with_token": can_read_with_token,
    # bookmarks (issue 17)
    "bookmark_post": can_bookmark_post,
    "view_bookmark": can_view_bookmark,
    # guidelines (issue 18)
    "view_guideline": can_view_guideline,
    "create_guideline": can_create_guideline,
    "choose_guideline_editors": can_choose_guideline_editors,
    "edit_guideline": can_edit_guideline,
    "suggest_guideline_edit": can_suggest_guideline_edit,
    "view_guideline_release": can_view_guideline_release,
    "endorse_guideline_release": can_endorse_guideline_release,
    # papers (issue 18)
    "view_papers": can_view_papers,
    "view_paper": can_view_paper,
    "create_paper": can_create_paper,
    "edit_paper": can_edit_paper,
    "ask_to_join_paper": can_ask_to_join_paper,
    # workshops (issue 18)
    "view_workshop": can_view_workshop,
    "create_workshop": can_create_workshop,
    "appoint_organisers": can_appoint_organisers,
    "edit_workshop": can_edit_workshop,
    "record_session_outcomes": can_record_session_outcomes,
    "register_for_workshop": can_register_for_workshop,
    "see_workshop_link": can_see_workshop_link,
    "see_participant": can_see_participant,
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
