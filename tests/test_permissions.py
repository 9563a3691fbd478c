"""The roles x actions matrix of forum/permissions.py, walked in one parametrized test."""

from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin

from forum import create_app
from forum.extensions import db
from forum.models import (
    ApplicationState,
    Attachment,
    Bookmark,
    Guideline,
    Notification,
    NotificationKind,
    PaperStatus,
    RegistrationMode,
    RegistrationStatus,
    Role,
    SiteSettings,
    TopicAccess,
    TopicKind,
    UserState,
    VotingMethod,
    VotingRound,
    Workshop,
    WorkshopRegistration,
    WorkshopSession,
)
from forum.models.types import utcnow
from forum.permissions import RULES, can
from forum.services import api_tokens, papers, topic_areas
from forum.services.posting import delete_post
from forum.uploads import UploadKind
from tests.conftest import _empty_tables, app_config
from tests.factories import (
    make_agenda_item,
    make_application,
    make_post,
    make_topic,
    make_user,
    score_application,
)

ROLES = [
    "anonymous",
    "member",
    "author",
    "invited",
    "moderator",
    "admin",
    "suspended",
    "suspended_moderator",
]
SIGNED_IN = set(ROLES) - {"anonymous"}
EVERYONE = set(ROLES)
# Members who may write: suspension takes writing, and moderation, from every role.
WRITERS = {"member", "author", "invited", "moderator", "admin"}
MODERATORS = {"moderator", "admin"}
AUTHOR_OR_MODERATORS = {"author"} | MODERATORS
LET_IN = {"author", "invited"} | MODERATORS

# action, target -> the roles allowed (every other role is refused)
MATRIX = {
    ("create_topic", "area"): WRITERS,
    ("suggest_members", None): WRITERS,
    ("preview_post", None): WRITERS,
    ("create_restricted_topic", "area"): WRITERS,  # Safety is a sensitive area
    ("create_restricted_topic", "members_only_area"): set(),  # Meta is not
    ("reply", "open_topic"): WRITERS,
    ("reply", "locked_topic"): MODERATORS,
    ("reply", "restricted_topic"): LET_IN,
    ("edit_post", "post"): AUTHOR_OR_MODERATORS,
    ("edit_post", "deleted_post"): set(),
    ("edit_post", "restricted_post"): AUTHOR_OR_MODERATORS,
    ("delete_post", "post"): AUTHOR_OR_MODERATORS,
    ("delete_post", "deleted_post"): set(),
    ("view_revisions", "post"): EVERYONE,
    ("view_revisions", "restricted_post"): LET_IN,
    ("edit_profile", "authors_profile"): {"author", "admin"},
    ("view_profile", "authors_profile"): SIGNED_IN,
    ("view_profile", "public_profile"): EVERYONE,
    ("view_category", "area"): EVERYONE,
    ("view_category", "members_only_area"): SIGNED_IN,
    ("view_topic", "open_topic"): EVERYONE,
    ("view_topic", "members_only_topic"): SIGNED_IN,
    ("view_topic", "restricted_topic"): LET_IN,
    ("view_topic", "private_report"): AUTHOR_OR_MODERATORS,
    ("view_post", "post"): EVERYONE,
    ("view_agenda_item", "agenda_item"): EVERYONE,
    ("view_post", "restricted_post"): LET_IN,
    ("view_post", "waiting_post"): {"member"} | MODERATORS,  # the member wrote it
    ("register", "open_settings"): {"anonymous"},
    ("register", "application_settings"): set(),
    ("apply", "application_settings"): {"anonymous"},
    ("review_applications", None): MODERATORS,
    ("score_application", "application"): MODERATORS,
    ("score_application", "application_from_moderators_institution"): {"admin"},
    ("decide_application", "application"): MODERATORS,
    ("decide_application", "application_from_moderators_institution"): {"admin"},
    ("decide_application", "decided_application"): set(),
    # No one approves alone: two independent reviewers' scores first.
    ("approve_application", "application"): set(),
    ("approve_application", "reviewed_application"): MODERATORS,
    ("approve_application", "reviewed_by_its_own_institution"): set(),
    ("approve_application", "decided_application"): set(),
    ("manage_settings", None): {"admin"},
    ("edit_public_pages", None): {"admin"},
    ("moderate_institutions", None): MODERATORS,
    ("suggest_institutions", None): EVERYONE,
    ("view_transparency_report", None): EVERYONE,
    ("vote", "post"): {"member", "invited", "moderator", "admin"},
    ("vote", "deleted_post"): set(),
    ("vote", "restricted_post"): {"invited", "moderator", "admin"},
    ("quote_post", "post"): EVERYONE,
    ("quote_post", "hidden_post"): MODERATORS,
    ("quote_post", "restricted_post"): LET_IN,
    ("accept_answer", "answer"): AUTHOR_OR_MODERATORS,
    ("accept_answer", "post"): set(),
    ("accept_answer", "deleted_answer"): set(),
    ("manage_tags", None): MODERATORS,
    ("see_post_body", "post"): EVERYONE,
    ("see_post_body", "hidden_post"): MODERATORS,
    ("see_post_body", "waiting_post"): {"member"} | MODERATORS,
    ("see_post_body", "restricted_post"): LET_IN,
    ("moderate", None): MODERATORS,
    ("moderate_topic", "open_topic"): MODERATORS,
    ("moderate_topic", "restricted_topic"): MODERATORS,
    ("moderate_post", "post"): MODERATORS,
    ("flag_post", "post"): {"member", "invited", "moderator", "admin"},
    ("flag_post", "restricted_post"): {"invited", "moderator", "admin"},
    ("suspend", "authors_profile"): MODERATORS,
    ("suspend", "admins_profile"): set(),  # the only active admin
    ("restrict_topic", "open_topic"): AUTHOR_OR_MODERATORS,
    ("restrict_topic", "members_only_topic"): MODERATORS,  # not a sensitive area
    ("restrict_topic", "private_report"): set(),
    ("invite_to_topic", "restricted_topic"): AUTHOR_OR_MODERATORS,
    ("invite_to_topic", "open_topic"): set(),
    ("extend_embargo", "restricted_topic"): AUTHOR_OR_MODERATORS,
    ("shorten_embargo", "restricted_topic"): MODERATORS,
    ("report_privately", None): WRITERS,
    ("convert_report", "private_report"): MODERATORS,
    ("convert_report", "open_topic"): set(),
    ("open_notification", "members_notification"): {"member"},
    ("open_notification", "restricted_notification"): {"invited"},
    ("view_moderation_log", None): EVERYONE,  # public, so that anyone can keep and check it
    ("propose_agenda_item", None): WRITERS,
    ("change_agenda_status", None): MODERATORS,
    ("create_round", None): MODERATORS,
    ("vote_in_round", "open_round"): WRITERS,
    ("vote_in_round", "closed_round"): set(),
    ("vote_in_round", "upcoming_round"): set(),
    ("see_tally", "open_round"): set(),
    ("see_tally", "open_round_with_running_tally"): EVERYONE,
    ("see_tally", "closed_round"): EVERYONE,
    ("view_directory", None): SIGNED_IN,
    ("download_ballots", "published_round"): EVERYONE,
    ("download_ballots", "closed_round"): set(),  # closed, results not yet published
    ("preview_digest", None): {"admin"},
    ("create_api_token", None): WRITERS,
    ("revoke_api_token", "authors_api_token"): {"author"},
    ("read_with_token", None): WRITERS,  # a suspended member's token is refused
    # Bookmarks (issue 17): private to their owner, so suspension takes none of them away.
    ("bookmark_post", "post"): SIGNED_IN,
    ("bookmark_post", "hidden_post"): MODERATORS,
    ("bookmark_post", "deleted_post"): set(),
    ("bookmark_post", "restricted_post"): LET_IN,
    ("view_bookmark", "authors_bookmark"): {"author"},
    ("view_bookmark", "suspended_members_bookmark"): {"suspended"},
    ("view_bookmark", "invited_members_restricted_bookmark"): {"invited"},
    ("view_bookmark", "members_bookmark_of_a_hidden_post"): set(),
    # attachments (issue 17): as visible as their post's body; before it, the uploader's alone
    ("upload_attachment", None): WRITERS,
    ("view_attachment", "attachment"): EVERYONE,
    ("view_attachment", "restricted_attachment"): LET_IN,
    ("view_attachment", "hidden_attachment"): MODERATORS,
    ("view_attachment", "deleted_attachment"): set(),
    ("view_attachment", "waiting_attachment"): {"author"},
    # guidelines (issue 18): the author is each document's editor; a draft is its editors' and
    # moderators', open for comment members', published everyone's
    ("view_guideline", "draft_guideline"): {"author"} | MODERATORS,
    ("view_guideline", "open_guideline"): SIGNED_IN,
    ("view_guideline", "published_guideline"): EVERYONE,
    ("view_guideline", "suspended_editors_draft"): {"suspended"} | MODERATORS,
    ("create_guideline", None): MODERATORS,
    ("choose_guideline_editors", "draft_guideline"): MODERATORS,
    ("edit_guideline", "draft_guideline"): {"author"},
    ("edit_guideline", "open_guideline"): {"author"},
    ("edit_guideline", "published_guideline"): {"author"},
    ("edit_guideline", "suspended_editors_draft"): set(),
    ("suggest_guideline_edit", "draft_guideline"): {"author"} | MODERATORS,
    ("suggest_guideline_edit", "open_guideline"): WRITERS,
    ("suggest_guideline_edit", "published_guideline"): WRITERS,
    ("view_guideline_release", None): EVERYONE,
    ("endorse_guideline_release", None): WRITERS,
    # papers (issue 18): drafts are their authors' (and moderators'); submitted, members'
    ("view_papers", None): SIGNED_IN,
    ("view_paper", "draft_paper"): AUTHOR_OR_MODERATORS,
    ("view_paper", "submitted_paper"): SIGNED_IN,
    ("create_paper", None): WRITERS,
    ("edit_paper", "draft_paper"): {"author"},
    ("edit_paper", "submitted_paper"): {"author"},
    ("ask_to_join_paper", "draft_paper"): MODERATORS,
    ("ask_to_join_paper", "submitted_paper"): {"member", "invited", "moderator", "admin"},
    # workshops (issue 18): public events; the moderator organises "workshop", the author holds
    # a seat at it; the link is for participants; unlisted participants are seen by organisers
    ("view_workshop", "workshop"): EVERYONE,
    ("view_workshop", "cancelled_workshop"): EVERYONE,
    ("create_workshop", None): MODERATORS,  # and members an admin appointed (none here)
    ("appoint_organisers", None): {"admin"},
    ("edit_workshop", "workshop"): MODERATORS,
    # a session's notes and outcomes: its organisers, once it has started
    ("record_session_outcomes", "started_session"): MODERATORS,
    ("record_session_outcomes", "future_session"): set(),
    ("register_for_workshop", "workshop"): WRITERS,
    ("register_for_workshop", "closed_workshop"): set(),
    ("register_for_workshop", "cancelled_workshop"): set(),
    ("see_workshop_link", "workshop"): {"member"} | AUTHOR_OR_MODERATORS,  # both hold seats
    ("see_participant", "authors_unlisted_registration"): AUTHOR_OR_MODERATORS,
    ("see_participant", "listed_registration"): EVERYONE,
}
# Refusals a visitor gets that logging in might lift: sent to log in, or (for things they may
# not know exist) the page of a missing id. Every other refusal says why logging in would not help.
LOGIN_WOULD_HELP = {action for action, _ in MATRIX} - {
    "register",
    "apply",
    "see_post_body",
    "quote_post",
    "see_tally",
}


@pytest.fixture(scope="module")
def world(database_url):
    """Built once per module (the matrix has hundreds of cases); the tests only read it."""
    app = create_app(app_config(database_url))
    with app.app_context():
        _empty_tables()
        topic_areas.ensure_default_categories()
        yield _build_world()
        db.session.remove()
        db.engine.dispose()


def _build_world():
    safety = topic_areas.get_category("safety")
    author = make_user(display_name="Author")
    people = {
        "anonymous": AnonymousUserMixin(),
        "member": make_user(),
        "author": author,
        "moderator": make_user(role=Role.MODERATOR, affiliation="The University of Ghana"),
        "admin": make_user(role=Role.ADMIN),
        "suspended": make_user(),
        "invited": make_user(),
        "suspended_moderator": make_user(role=Role.MODERATOR),
    }
    people["suspended"].state = UserState.SUSPENDED
    people["suspended_moderator"].suspended_until = utcnow() + timedelta(days=3)
    open_topic = make_topic(safety, author=author)
    question = make_topic(safety, author=author, kind=TopicKind.QUESTION)
    answer = make_post(question, author=people["member"])
    deleted_answer = make_post(question, author=people["member"])
    delete_post(people["member"], deleted_answer)
    locked_topic = make_topic(safety, author=author)
    locked_topic.is_locked = True
    post = make_post(open_topic, author=author)
    deleted_post = make_post(open_topic, author=author)
    hidden_post = make_post(open_topic, author=author)
    hidden_post.hidden_at = utcnow()
    hidden_post.hidden_reason = "Off-topic"
    db.session.commit()

    delete_post(author, deleted_post)
    members_only = topic_areas.get_category("meta")
    members_only.is_members_only = True
    members_only_topic = make_topic(members_only, author=author)
    restricted_topic = make_topic(safety, author=author, title="Working jailbreak")
    restricted_post = make_post(restricted_topic, author=author)
    restricted_topic.is_restricted = True
    restricted_topic.embargo_until = utcnow() + timedelta(days=30)
    db.session.add(TopicAccess(topic_id=restricted_topic.id, user_id=people["invited"].id))
    private_report = make_topic(safety, author=author, title="A report")
    private_report.is_private_report = True
    waiting_post = make_post(open_topic, author=people["member"])
    waiting_post.awaiting_review = True
    public_profile = make_user()
    public_profile.profile_public = True
    notifications = {}
    for name, owner, about in [
        ("members_notification", "member", open_topic),
        ("restricted_notification", "invited", restricted_topic),
    ]:
        notifications[name] = Notification(
            user_id=people[owner].id,
            kind=NotificationKind.MENTION,
            topic_id=about.id,
            dedupe_key=name,
        )
        db.session.add(notifications[name])
    bookmarks = {
        name: Bookmark(user_id=people[owner].id, post_id=about.id)
        for name, owner, about in [
            ("authors_bookmark", "author", post),
            ("suspended_members_bookmark", "suspended", post),
            ("invited_members_restricted_bookmark", "invited", restricted_post),
            ("members_bookmark_of_a_hidden_post", "member", hidden_post),
        ]
    }
    db.session.add_all(bookmarks.values())
    workshops = _workshops(people)
    attached = {}
    for name, on in [
        ("attachment", post),
        ("restricted_attachment", restricted_post),
        ("hidden_attachment", hidden_post),
        ("deleted_attachment", deleted_post),
        ("waiting_attachment", None),
    ]:
        attached[name] = Attachment(
            key=name[:22].ljust(22, "x"),
            uploader_id=author.id,
            post_id=on.id if on is not None else None,
            kind=UploadKind.FILE,
            content_type="application/pdf",
            filename="a.pdf",
            size=1,
        )
        db.session.add(attached[name])
    guidelines = {
        name: Guideline(title=name, state=state, editors=[people[editor]])
        for name, state, editor in [
            ("draft_guideline", "draft", "author"),
            ("open_guideline", "open", "author"),
            ("published_guideline", "published", "author"),
            ("suspended_editors_draft", "draft", "suspended"),
        ]
    }
    db.session.add_all(guidelines.values())
    db.session.commit()
    open_settings = SiteSettings(id=2, registration_mode=RegistrationMode.OPEN)
    application_settings = SiteSettings(id=3, registration_mode=RegistrationMode.APPLICATION)
    now = utcnow()

    def round_(opens, closes, **extra):
        return VotingRound(
            title="R",
            opens_at=now + opens,
            closes_at=now + closes,
            method=VotingMethod.APPROVAL,
            late_joiners_may_vote=True,
            **extra,
        )

    reviewed = make_application(institution="Cairo University")
    score_application(reviewed)
    own_reviewed = make_application(institution="Makerere University")
    for reviewer in score_application(own_reviewed):  # both at the applicant's institution
        reviewer.affiliation = "Makerere University"
    db.session.commit()
    hour = timedelta(hours=1)
    targets = {
        None: None,
        "open_round": round_(-hour, hour, show_running_tally=False),
        "open_round_with_running_tally": round_(-hour, hour, show_running_tally=True),
        "closed_round": round_(-2 * hour, -hour, show_running_tally=False),
        "upcoming_round": round_(hour, 2 * hour, show_running_tally=False),
        "published_round": round_(-2 * hour, -hour, results={"order": [], "scores": {}}),
        "answer": answer,
        "hidden_post": hidden_post,
        "deleted_answer": deleted_answer,
        "members_only_area": members_only,
        "members_only_topic": members_only_topic,
        "open_settings": open_settings,
        "application_settings": application_settings,
        "application": make_application(institution="Cairo University"),
        "application_from_moderators_institution": make_application(
            institution="university of ghana"
        ),
        "decided_application": make_application(state=ApplicationState.REJECTED),
        "reviewed_application": reviewed,
        "reviewed_by_its_own_institution": own_reviewed,
        "area": safety,
        "open_topic": open_topic,
        "locked_topic": locked_topic,
        "post": post,
        "deleted_post": deleted_post,
        "authors_profile": author,
        "admins_profile": people["admin"],
        "public_profile": public_profile,
        "restricted_topic": restricted_topic,
        "restricted_post": restricted_post,
        "private_report": private_report,
        "waiting_post": waiting_post,
        "agenda_item": make_agenda_item(author),
        "authors_api_token": api_tokens.create_token(author, name="Notebook")[0],
        "draft_paper": papers.create_paper(
            author, papers.PaperDetails(title="Draft", status=PaperStatus.DRAFTING)
        ),
        "submitted_paper": papers.create_paper(
            author, papers.PaperDetails(title="Submitted", status=PaperStatus.SUBMITTED)
        ),
        **notifications,
        **bookmarks,
        **attached,
        **guidelines,
        **workshops,
    }
    return people, targets


def _workshops(people) -> dict:
    soon = utcnow() + timedelta(days=10)
    made = {
        name: Workshop(
            title=name,
            starts_at=soon,
            ends_at=soon + timedelta(hours=3),
            capacity=5,
            online_url="https://meet.example.org/w",
            link_for_participants_only=True,
            organiser_id=people["moderator"].id,
            **extra,
        )
        for name, extra in [
            ("workshop", {}),
            ("closed_workshop", {"registration_closes_at": utcnow() - timedelta(hours=1)}),
            ("cancelled_workshop", {"cancelled_at": utcnow()}),
        ]
    }
    db.session.add_all(made.values())
    db.session.flush()
    for name, owner, listed in [
        ("authors_unlisted_registration", "author", False),
        ("listed_registration", "member", True),
    ]:
        made[name] = WorkshopRegistration(
            workshop_id=made["workshop"].id,
            user_id=people[owner].id,
            status=RegistrationStatus.REGISTERED,
            listed=listed,
        )
        db.session.add(made[name])
    for name, starts in [
        ("started_session", utcnow() - timedelta(hours=1)),
        ("future_session", made["workshop"].starts_at),
    ]:
        made[name] = WorkshopSession(
            workshop_id=made["workshop"].id,
            title=name,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=30),
        )
        db.session.add(made[name])
    db.session.flush()
    return made


def test_every_permission_rule_has_rows_in_the_matrix():
    assert {action for action, _ in MATRIX} == set(RULES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("action", "target"), list(MATRIX), ids=str)
def test_role_may_do_exactly_what_the_matrix_says(world, role, action, target):
    people, targets = world
    decision = can(people[role], action, targets[target])
    expected = role in MATRIX[(action, target)]
    assert bool(decision) is expected, f"{role} {action} {target}: {decision}"
    if not expected:
        assert decision.reason, "a refusal must say why"
        if role == "anonymous" and action in LOGIN_WOULD_HELP:
            assert decision.needs_login or decision.not_found, decision
        else:
            assert not decision.needs_login, decision


def test_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError):
        can(None, "launch_rockets")
