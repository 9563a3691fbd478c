"""The roles x actions matrix of forum/permissions.py, walked in one parametrized test."""

from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin

from forum.extensions import db
from forum.models import (
    ApplicationState,
    RegistrationMode,
    Role,
    SiteSettings,
    TopicKind,
    UserState,
    VotingMethod,
    VotingRound,
)
from forum.models.types import utcnow
from forum.permissions import RULES, can
from forum.services import discussions
from forum.services.discussions import delete_post
from tests.factories import make_application, make_post, make_topic, make_user

ROLES = ["anonymous", "member", "author", "moderator", "admin", "suspended"]
SIGNED_IN = set(ROLES) - {"anonymous"}

# action, target -> the roles allowed (every other role is refused)
MATRIX = {
    ("create_topic", "area"): {"member", "author", "moderator", "admin"},
    ("reply", "open_topic"): {"member", "author", "moderator", "admin"},
    ("reply", "locked_topic"): {"moderator", "admin"},
    ("edit_post", "post"): {"author", "moderator", "admin"},
    ("edit_post", "deleted_post"): set(),
    ("delete_post", "post"): {"author", "moderator", "admin"},
    ("delete_post", "deleted_post"): set(),
    ("view_revisions", "post"): set(ROLES),
    ("edit_profile", "authors_profile"): {"author", "admin"},
    ("view_category", "area"): set(ROLES),
    ("view_category", "members_only_area"): SIGNED_IN,
    ("view_topic", "open_topic"): set(ROLES),
    ("view_topic", "members_only_topic"): SIGNED_IN,
    ("register", "open_settings"): {"anonymous"},
    ("register", "application_settings"): set(),
    ("apply", "application_settings"): {"anonymous"},
    ("review_applications", None): {"moderator", "admin"},
    ("score_application", "application"): {"moderator", "admin"},
    ("score_application", "application_from_moderators_institution"): {"admin"},
    ("decide_application", "application"): {"moderator", "admin"},
    ("decide_application", "application_from_moderators_institution"): {"admin"},
    ("decide_application", "decided_application"): set(),
    ("manage_settings", None): {"admin"},
    ("vote", "post"): {"member", "moderator", "admin"},
    ("vote", "deleted_post"): set(),
    ("accept_answer", "answer"): {"author", "moderator", "admin"},
    ("accept_answer", "post"): set(),
    ("accept_answer", "deleted_answer"): set(),
    ("manage_tags", None): {"moderator", "admin"},
    ("see_post_body", "post"): set(ROLES),
    ("see_post_body", "hidden_post"): {"moderator", "admin"},
    ("moderate", None): {"moderator", "admin"},
    ("moderate_topic", "open_topic"): {"moderator", "admin"},
    ("moderate_post", "post"): {"moderator", "admin"},
    ("flag_post", "post"): {"member", "moderator", "admin"},
    ("suspend", "authors_profile"): {"moderator", "admin"},
    ("restrict_topic", "open_topic"): {"author", "moderator", "admin"},
    ("restrict_topic", "members_only_topic"): set(),
    ("view_moderation_log", None): SIGNED_IN,
    ("propose_agenda_item", None): {"member", "author", "moderator", "admin"},
    ("change_agenda_status", None): {"moderator", "admin"},
    ("create_round", None): {"moderator", "admin"},
    ("vote_in_round", "open_round"): {"member", "author", "moderator", "admin"},
    ("vote_in_round", "closed_round"): set(),
    ("vote_in_round", "upcoming_round"): set(),
    ("see_tally", "open_round"): set(),
    ("see_tally", "open_round_with_running_tally"): set(ROLES),
    ("see_tally", "closed_round"): set(ROLES),
    ("view_directory", None): SIGNED_IN,
}
# Refusals that only need the visitor to log in (the rest say why logging in would not help).
LOGIN_WOULD_HELP = {action for action, _ in MATRIX} - {
    "register",
    "apply",
    "view_revisions",
    "see_post_body",
    "see_tally",
}


@pytest.fixture
def world(app, safety):
    author = make_user(display_name="Author")
    people = {
        "anonymous": AnonymousUserMixin(),
        "member": make_user(),
        "author": author,
        "moderator": make_user(role=Role.MODERATOR, affiliation="The University of Ghana"),
        "admin": make_user(role=Role.ADMIN),
        "suspended": make_user(),
    }
    people["suspended"].state = UserState.SUSPENDED
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
    members_only = discussions.get_category("meta")
    members_only.is_members_only = True
    members_only_topic = make_topic(members_only, author=author)
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

    hour = timedelta(hours=1)
    targets = {
        None: None,
        "open_round": round_(-hour, hour, show_running_tally=False),
        "open_round_with_running_tally": round_(-hour, hour, show_running_tally=True),
        "closed_round": round_(-2 * hour, -hour, show_running_tally=False),
        "upcoming_round": round_(hour, 2 * hour, show_running_tally=False),
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
        "area": safety,
        "open_topic": open_topic,
        "locked_topic": locked_topic,
        "post": post,
        "deleted_post": deleted_post,
        "authors_profile": author,
    }
    return people, targets


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
        assert decision.needs_login is (role == "anonymous" and action in LOGIN_WOULD_HELP)


def test_unknown_action_is_a_programming_error(app):
    with pytest.raises(ValueError):
        can(None, "launch_rockets")
