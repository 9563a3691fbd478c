"""Suspension binds every role: a suspended moderator or admin has no moderation or admin power.

Each moderation and admin action is tried over HTTP (a real form post with its CSRF token) by a
suspended moderator and a suspended admin: each answers 403 with a page that says the account
is suspended and until when (in the reader's time zone), and no row of the database changes.
Once the suspension ends by itself, the same people may act again. Suspending admins has its own
rules: moderators never may, and nobody may suspend the last admin who is not suspended.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from sqlalchemy import select

from forum import create_app
from forum.extensions import db
from forum.models import FlagReason, Post, Role, User
from forum.models.types import utcnow
from forum.permissions import PermissionDenied
from forum.services import moderation, posting, reports, tags, topic_areas, topic_curation
from tests.conftest import _empty_tables, app_config
from tests.factories import (
    make_agenda_item,
    make_application,
    make_post,
    make_topic,
    make_user,
    score_application,
)
from tests.helpers import FormClient
from tests.snapshots import changed_tables, database_snapshot

SUSPENSION = timedelta(days=3)
# The suspended people read the forum in their own time zones: "until when" must be shown there.
ZONES = {"suspended_moderator": "Asia/Tokyo", "suspended_admin": "America/Sao_Paulo"}


@dataclass(frozen=True)
class Action:
    method: str
    path: str  # formatted with World.ids
    data: dict = field(default_factory=dict)  # values formatted with World.ids too


def _day(days: int) -> str:
    return (utcnow() + timedelta(days=days)).strftime("%Y-%m-%d")


# Every moderation action, with a form that would succeed for a moderator in good standing.
MODERATOR_ACTIONS = {
    "pin": Action("POST", "/t/{topic}/moderate/pin", {"scope": "forum"}),
    "unpin": Action("POST", "/t/{curated}/moderate/unpin"),
    "lock": Action("POST", "/t/{topic}/moderate/lock", {"note": "Resolved: see the summary."}),
    "unlock": Action("POST", "/t/{curated}/moderate/unlock"),
    "move": Action("POST", "/t/{topic}/moderate/move", {"category": "privacy"}),
    "feature": Action("POST", "/t/{topic}/moderate/feature", {"summary": "The clearest account."}),
    "unfeature": Action("POST", "/t/{curated}/moderate/unfeature"),
    "duplicate": Action("POST", "/t/{topic}/moderate/duplicate", {"topic_id": "{other_topic}"}),
    "merge": Action("POST", "/t/{topic}/moderate/merge", {"topic_id": "{other_topic}", "note": ""}),
    "split": Action(
        "POST",
        "/t/{topic}/moderate/split",
        {"post_ids": "{split_reply}", "title": "A topic of its own", "note": ""},
    ),
    "topic_tools": Action("GET", "/t/{topic}/moderate"),
    "hide": Action("POST", "/moderation/posts/{reply}/hide", {"reason": "Off-topic"}),
    "restore": Action("POST", "/moderation/posts/{hidden}/restore"),
    "dismiss_flags": Action("POST", "/moderation/posts/{flagged}/dismiss"),
    "approve": Action("POST", "/moderation/posts/{waiting}/approve"),
    "delete": Action("POST", "/moderation/posts/{reply}/delete"),
    "warn": Action("POST", "/moderation/posts/{reply}/warn", {"message": "Cite your sources."}),
    "suspend_member": Action(
        "POST",
        "/moderation/posts/{reply}/suspend",
        {"until": "{next_week}T12:00", "reason": "Spam"},
    ),
    "moderation_queue": Action("GET", "/moderation"),
    "private_reports": Action("GET", "/moderation/reports"),
    "lift_embargo": Action("POST", "/t/{restricted}/embargo/lift"),
    "convert_report": Action(
        "POST", "/t/{report}/convert", {"category": "security", "embargo_until": "{next_month}"}
    ),
    "create_tag": Action("POST", "/tags", {"name": "model-theft", "description": ""}),
    "delete_tag": Action("POST", "/tags/{tag}/delete"),
    "change_agenda_status": Action(
        "POST", "/agenda/{item}/status", {"status": "prioritised", "note": "Urgent."}
    ),
    "round_form": Action("GET", "/rounds/new"),
    "create_round": Action(
        "POST",
        "/rounds/new",
        {
            "title": "Spring round",
            "description": "",
            "opens_at": "{tomorrow}T09:00",
            "closes_at": "{next_week}T17:00",
            "timezone": "UTC",
            "method": "budget",
            "items": ["{item}", "{other_item}"],
            "budget": "10",
            "per_item_cap": "5",
            "credits": "100",
        },
    ),
    "review_queue": Action("GET", "/review"),
    "review_application": Action("GET", "/review/{application}"),
    "score_application": Action(
        "POST", "/review/{application}/score", {"relevance": "5", "fit": "4", "breadth": "3"}
    ),
    "approve_application": Action("POST", "/review/{application}/approve"),
    "reject_application": Action("POST", "/review/{application}/reject", {"note": "Not a fit."}),
    "request_information": Action(
        "POST", "/review/{application}/request-info", {"question": "Which papers?"}
    ),
    "resend_invitation": Action("POST", "/review/{application}/resend-invitation"),
    "institutions_page": Action("GET", "/moderation/institutions"),
    "confirm_institution": Action(
        "POST",
        "/moderation/institutions/{institution}/confirm",
        {"name": "Cairo University", "domains": "cu.edu.eg"},
    ),
    "merge_institution": Action(
        "POST", "/moderation/institutions/{institution}/merge", {"into": "{other_institution}"}
    ),
}
# Suspended staff read like members: what only moderators may see (a post waiting for review,
# a restricted topic, a private report) is not there for them, so acting on it answers the 404
# of a missing id rather than a 403 that would tell them it exists.
ONLY_MODERATORS_SEE_THE_TARGET = {"approve", "lift_embargo", "convert_report"}
ADMIN_ACTIONS = {
    "settings_page": Action("GET", "/admin/settings"),
    "change_settings": Action(
        "POST",
        "/admin/settings",
        {
            "registration_mode": "open",
            "applications_open_at": "",
            "applications_close_at": "",
            "applications_timezone": "UTC",
            "members_only": [],
        },
    ),
    "digest_preview": Action("GET", "/admin/digest/{member}"),
    "digest_preview_email": Action("GET", "/admin/digest/{member}/email"),
    "page_form": Action("GET", "/admin/pages/charter"),
    "edit_page": Action("POST", "/admin/pages/charter", {"body": "Decided by one person."}),
}


@dataclass
class World:
    people: dict[str, User]
    ids: dict[str, object]
    clients: dict[str, FormClient] = field(default_factory=dict)


def _build_world() -> World:
    """Something for every action to act on, set up by a moderator in good standing."""
    now = utcnow()
    member = make_user(display_name="Maya Member")
    flagger = make_user(display_name="Omar Other")
    staff = make_user(display_name="Mo Moderator", role=Role.MODERATOR)
    people = {
        "member": member,
        "moderator": staff,
        "admin": make_user(display_name="Ada Admin", role=Role.ADMIN),  # lifts suspensions
        "suspended_moderator": make_user(display_name="Sami Suspended", role=Role.MODERATOR),
        "suspended_admin": make_user(display_name="Sara Suspended", role=Role.ADMIN),
    }
    for name, zone in ZONES.items():
        people[name].suspended_until = now + SUSPENSION
        people[name].suspension_reason = "Used the tools in a dispute of their own."
        people[name].timezone = zone
    db.session.commit()
    safety = topic_areas.get_category("safety")
    topic = make_topic(safety, author=member, title="Refusal drift after fine-tuning")
    reply = make_post(topic, author=member, body="A first reply.")
    split_reply = make_post(topic, author=member, body="A reply that belongs elsewhere.")
    flagged = make_post(topic, author=member, body="Buy cheap pills")
    moderation.flag_post(flagger, flagged, reason=FlagReason.SPAM)
    hidden = make_post(topic, author=member, body="Personal data")
    moderation.hide_post(staff, hidden, reason="Personal data")
    waiting = make_post(topic, author=member, body="A first post waiting for review")
    waiting.awaiting_review = True
    curated = make_topic(safety, author=member, title="The canonical thread")
    topic_curation.pin_topic(staff, curated, globally=True)
    topic_curation.lock_topic(staff, curated, note="Settled.")
    topic_curation.feature_topic(staff, curated, summary="Read this first.")
    other_topic = make_topic(safety, author=member, title="Refusal drift, again")
    restricted = posting.create_topic(
        member,
        topic_areas.get_category("security"),
        title="A working jailbreak",
        body="Steps.",
        restricted_until=now + timedelta(days=30),
    )
    report = reports.report_privately(member, safety, title="A leak", body="Look at this.")
    tag = tags.create_tag(staff, name="red-teaming")
    item, other_item = make_agenda_item(member), make_agenda_item(member)
    application = make_application(institution="Cairo University")
    score_application(application)
    db.session.commit()
    ids = {
        "topic": topic.id,
        "reply": reply.id,
        "split_reply": split_reply.id,
        "flagged": flagged.id,
        "hidden": hidden.id,
        "waiting": waiting.id,
        "curated": curated.id,
        "other_topic": other_topic.id,
        "restricted": restricted.id,
        "report": report.id,
        "tag": tag.slug,
        "item": item.id,
        "other_item": other_item.id,
        "application": application.id,
        "institution": application.institution_id,
        "other_institution": member.affiliation,
        "member": member.id,
        "tomorrow": _day(1),
        "next_week": _day(7),
        "next_month": _day(30),
    }
    return World(people, ids)


def _formatted(value, ids):
    if isinstance(value, list):
        return [_formatted(v, ids) for v in value]
    return value.format(**ids)


def _send(world: World, client: FormClient, action: Action):
    path = action.path.format(**world.ids)
    if action.method == "GET":
        return client.get(path)
    return client.post(path, data={k: _formatted(v, world.ids) for k, v in action.data.items()})


def _until_text(user: User) -> str:
    """How the refusal page states the end of the suspension: in the reader's own time zone."""
    return format_datetime(
        user.suspended_until, "medium", tzinfo=ZoneInfo(user.timezone), locale="en"
    )


# --- Refused while suspended (one world for the module: every case must leave it unchanged) ----


@pytest.fixture(scope="module")
def module_world(database_url):
    app = create_app(app_config(database_url))
    app.test_client_class = FormClient
    with app.app_context():
        _empty_tables()
        topic_areas.ensure_default_categories()
        built = _build_world()
        for name in ZONES:
            built.clients[name] = app.test_client()
            built.clients[name].login(built.people[name])
        db.session.commit()
        yield built
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def world(module_world):
    """The module's world for one case; its session lets go of its connection afterwards, or
    the later tests here, which empty the tables, would wait for its locks on PostgreSQL."""
    yield module_world
    db.session.rollback()


STAFF_CASES = [(who, name) for who in ZONES for name in MODERATOR_ACTIONS] + [
    ("suspended_admin", name) for name in ADMIN_ACTIONS
]


@pytest.mark.parametrize(("who", "name"), STAFF_CASES, ids=[f"{w}-{n}" for w, n in STAFF_CASES])
def test_suspended_staff_are_refused_with_the_end_of_their_suspension_and_nothing_changes(
    world, who, name
):
    action = {**MODERATOR_ACTIONS, **ADMIN_ACTIONS}[name]
    person = world.people[who]
    before = database_snapshot()
    response = _send(world, world.clients[who], action)
    page = response.get_data(as_text=True)
    changed = changed_tables(before, database_snapshot())
    # The refusal itself, not the banner every page shows a suspended member.
    refusal = html.escape(
        f"Your account is suspended until {_until_text(person)}. Until then you can read, but "
        "not post, vote or use moderation and admin tools."
    )
    status = 404 if name in ONLY_MODERATORS_SEE_THE_TARGET else 403
    assert (response.status_code, status == 404 or refusal in page, changed) == (
        status,
        True,
        {},
    ), f"{who} {name}: {response.status_code} {response.headers.get('Location', '')} {changed}"


# Staff-only routes: found in the URL map, so a new one without a case above fails the test.
STAFF_ROUTE_PREFIXES = ("/moderation", "/review", "/admin", "/rounds/new")
STAFF_ROUTES_ELSEWHERE = {
    "discussions.create_tag",
    "discussions.delete_tag",
    "agenda.change_status",
    "disclosure.lift",
    "disclosure.convert",
}
# The public moderation log and its download: everyone reads them.
MEMBERS_ROUTES = {"moderation.log", "moderation.log_download"}


def test_every_moderation_and_admin_route_has_a_suspension_case(world):
    from flask import current_app

    adapter = current_app.url_map.bind("localhost")
    tried = {
        adapter.match(action.path.format(**world.ids), method=action.method)[0]
        for action in {**MODERATOR_ACTIONS, **ADMIN_ACTIONS}.values()
    }
    staff_routes = {
        rule.endpoint
        for rule in current_app.url_map.iter_rules()
        if rule.rule.startswith(STAFF_ROUTE_PREFIXES)
        or "/moderate" in rule.rule
        or rule.endpoint in STAFF_ROUTES_ELSEWHERE
    } - MEMBERS_ROUTES
    assert staff_routes <= tried, f"no suspension case for {sorted(staff_routes - tried)}"


# --- Allowed again once the suspension ends (each case changes the world: its own) -----------


@pytest.fixture
def fresh_world(app) -> World:
    return _build_world()


def _end_suspension(user: User) -> None:
    user.suspended_until = utcnow() - timedelta(seconds=1)  # it ends by itself: no job, no admin
    db.session.commit()


@pytest.mark.parametrize(
    ("who", "name"),
    [
        ("suspended_moderator", "pin"),
        ("suspended_moderator", "hide"),
        ("suspended_moderator", "suspend_member"),
        ("suspended_moderator", "create_tag"),
        ("suspended_moderator", "change_agenda_status"),
        ("suspended_moderator", "moderation_queue"),
        ("suspended_moderator", "approve_application"),
        ("suspended_admin", "change_settings"),
    ],
)
def test_once_the_suspension_ends_the_same_person_may_act_again(client, fresh_world, who, name):
    person = fresh_world.people[who]
    client.login(person)
    action = {**MODERATOR_ACTIONS, **ADMIN_ACTIONS}[name]
    assert _send(fresh_world, client, action).status_code == 403
    _end_suspension(person)
    before = database_snapshot()
    response = _send(fresh_world, client, action)
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:2000]
    if action.method == "POST":
        assert changed_tables(before, database_snapshot()), f"{name} changed nothing"


# --- Who may suspend an admin ------------------------------------------------------------------


def _post_by(user: User) -> Post:
    topic = make_topic(topic_areas.get_category("meta"), author=user)
    return db.session.scalar(select(Post).where(Post.topic_id == topic.id))


def _suspend_over_http(client: FormClient, post: Post):
    until = (utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    return client.post(
        f"/moderation/posts/{post.id}/suspend", data={"until": until, "reason": "Dispute."}
    )


def _later() -> datetime:
    return utcnow() + timedelta(days=7)


def test_a_moderator_cannot_suspend_an_admin(client, moderator, admin):
    make_user(role=Role.ADMIN)  # admin is not the last active admin: only the role refuses
    with pytest.raises(PermissionDenied, match="Only admins can suspend an admin"):
        moderation.suspend_member(moderator, admin, until=_later(), reason="Dispute.")
    client.login(moderator)
    response = _suspend_over_http(client, _post_by(admin))
    assert response.status_code == 403
    assert "Only admins can suspend an admin" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert not admin.is_suspended


def test_nobody_can_suspend_the_last_admin_who_is_not_suspended(client, moderator, admin):
    """With every other admin suspended, ``admin`` is the last one who can lift suspensions:
    neither a moderator nor a suspended admin can take them out, by the service or by HTTP."""
    suspended_admin = make_user(role=Role.ADMIN)
    suspended_admin.suspended_until = _later()
    db.session.commit()
    post = _post_by(admin)
    for actor in (moderator, suspended_admin):
        with pytest.raises(PermissionDenied):
            moderation.suspend_member(actor, admin, until=_later(), reason="Dispute.")
        client.login(actor)
        assert _suspend_over_http(client, post).status_code == 403, actor
        client.logout()
    with pytest.raises(PermissionDenied, match="cannot suspend yourself"):
        moderation.suspend_member(admin, admin, until=_later(), reason="Dispute.")
    db.session.refresh(admin)
    assert not admin.is_suspended


def test_an_admin_may_suspend_the_only_other_admin_and_then_stays_the_last_one(client, admin):
    """Suspending the only other active admin leaves the actor active, so it is allowed; the
    suspended one then cannot answer by suspending the last active admin."""
    other = make_user(role=Role.ADMIN)
    client.login(admin)
    assert _suspend_over_http(client, _post_by(other)).status_code == 302
    db.session.refresh(other)
    assert other.is_suspended
    client.logout()
    with pytest.raises(PermissionDenied, match="suspended"):
        moderation.suspend_member(other, admin, until=_later(), reason="Retaliation.")
    client.login(other)
    response = _suspend_over_http(client, _post_by(admin))
    assert response.status_code == 403 and "Your account is suspended until" in response.get_data(
        as_text=True
    )
    db.session.refresh(admin)
    assert not admin.is_suspended


def test_suspension_state_and_timed_suspension_both_take_away_moderation(app, moderator):
    from forum.models import UserState
    from forum.permissions import can

    assert can(moderator, "moderate")
    moderator.suspended_until = _later()
    assert not can(moderator, "moderate")
    moderator.suspended_until = None
    moderator.state = UserState.SUSPENDED
    assert not can(moderator, "moderate")
